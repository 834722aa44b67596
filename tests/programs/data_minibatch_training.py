# A training loop over mini-batches (no shuffling), from fixed initial weights.
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

X = torch.linspace(-2, 2, 32).view(-1, 1)
Y = torch.cat([X.sin(), X.cos()], dim=1)
model = nn.Sequential(nn.Linear(1, 6), nn.Tanh(), nn.Linear(6, 2))
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.linspace(-0.5, 0.5, p.numel()).view(p.shape) * (i + 1))
opt = torch.optim.Adam(model.parameters(), lr=0.05)
loader = DataLoader(TensorDataset(X, Y), batch_size=8)
for epoch in range(20):
    total = 0.0
    for xb, yb in loader:
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    if epoch % 5 == 4:
        print(f"epoch {epoch + 1}: mean loss {total / len(X):.5f}")
