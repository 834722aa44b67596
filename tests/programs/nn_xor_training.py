# Learning XOR with a small network from torch's default initialisation.
import torch
import torch.nn as nn

torch.manual_seed(42)
X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
opt = torch.optim.SGD(net.parameters(), lr=1.0)
loss_fn = nn.BCELoss()
for epoch in range(300):
    opt.zero_grad()
    loss = loss_fn(net(X), Y)
    loss.backward()
    opt.step()
    if epoch % 100 == 0:
        print(f"epoch {epoch} loss {loss.item():.4f}")
print(net(X).detach().round())
