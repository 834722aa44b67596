# Seed 002_3b0d20d49c73ead8 (Autograde notebook, "4. Autograd in Neural Networks"): Linear(1, 1), MSELoss, SGD.
import torch
import torch.nn as nn
import torch.optim as optim

# Define a simple neural network
class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc = nn.Linear(1, 1)

    def forward(self, x):
        return self.fc(x)

# Create an instance of the network
net = Net()

# Create input and target vectors
input_data = torch.tensor([[1.0]])
target_data = torch.tensor([[2.0]])

# Define a loss function and optimizer
criterion = nn.MSELoss()
optimizer = optim.SGD(net.parameters(), lr=0.1)

# Forward Pass
output = net(input_data)

# Compute the loss
loss = criterion(output, target_data)

# Backpropogation and optimization
optimizer.zero_grad()
loss.backward()
optimizer.step()
