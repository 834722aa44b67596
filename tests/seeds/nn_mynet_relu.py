# Seed 004_136a34388b552f14 (IntroToDeepLearning notebook, Example 2): MyNet with ReLU, MSELoss, SGD.
import torch
import torch.nn as nn

# Define a simple neural network
class MyNet(nn.Module):
    def __init__(self):
        super(MyNet, self).__init__()
        self.fc1 = nn.Linear(in_features=5, out_features=3)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(in_features=3, out_features=1)

    def forward(self, x):
        x = self.fc1(x)
        x = self.relu(x)
        x = self.fc2(x)
        return x

# Create an instance of the network
model = MyNet()

# Input data and target (ground truth)
input_data = torch.randn(1, 5)
target = torch.randn(1, 1)

# Loss function and optimizer
criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

# Forward pass
output = model(input_data)
loss = criterion(output, target)

# Backward pass (autograd in action!)
optimizer.zero_grad()
loss.backward()

# Print gradients for each parameter
for name, param in model.named_parameters():
    if param.grad is not None:
        print(f"Gradient for {name}: {param.grad}")

# Parameter update
optimizer.step()

print("Updated Parameters:")
for name, param in model.named_parameters():
    print(f"{name}: {param.data}")

print("Loss:", loss.item())
print("Output:", output.item())
print("Target:", target.item())
print("Model Output:", model(input_data).item())
print("Model Output:", model(input_data))
