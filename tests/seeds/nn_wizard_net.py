# Seed 001_f03b224630d7b54e (The Wizard of Autograd): two sigmoid Linear layers, MSELoss, SGD.
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x.sum()
y.backward()
print(x.grad)  # tensor([1., 1., 1.])

import torch.nn as nn
import torch.optim as optim

# Define the neural network
class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(3, 2)  # fully connected layer
        self.fc2 = nn.Linear(2, 1)  # fully connected layer

    def forward(self, x):
        x = torch.sigmoid(self.fc1(x))
        x = torch.sigmoid(self.fc2(x))
        return x

# Create an instance of the neural network
net = Net()

# Define the loss function and optimizer
criterion = nn.MSELoss()
optimizer = optim.SGD(net.parameters(), lr=0.1)

# Forward propagation
inputs = torch.tensor([1.0, 2.0, 3.0])
output = net(inputs)

# Compute the loss
target = torch.tensor([0.5])  # a dummy target value
loss = criterion(output, target)

# Backward propagation
optimizer.zero_grad()
loss.backward()

# Update the weights
optimizer.step()
