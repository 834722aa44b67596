# Seed 003_707cc5a6f11c8b6d (King Arthur): Sequential, BCEWithLogitsLoss, Adam.
# The seed leaves num_epochs, inputs and labels undefined; the first block defines small data.
import torch
import torch.nn as nn

num_epochs = 50
inputs = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.2], [0.9, 0.7]])
labels = torch.tensor([[0.0], [1.0], [1.0], [1.0], [0.0], [1.0]])

# --- the seed's code, unchanged ---
# Define the architecture
model = nn.Sequential(
    nn.Linear(2, 5),
    nn.ReLU(),
    nn.Linear(5, 1)
)

# Define the loss function
criterion = nn.BCEWithLogitsLoss()

# Define the optimizer
optimizer = torch.optim.Adam(model.parameters(), lr=0.1)

# Train the model
for epoch in range(num_epochs):
    optimizer.zero_grad()
    output = model(inputs)
    loss = criterion(output, labels)
    loss.backward()
    optimizer.step()
