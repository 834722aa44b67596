# Fitting y = 2x - 1 with one Linear layer, starting from zero weights.
import torch
import torch.nn as nn

x = torch.linspace(-1, 1, 20).unsqueeze(1)
y = 2 * x - 1 + 0.1 * torch.sin(7 * x)
model = nn.Linear(1, 1)
nn.init.zeros_(model.weight)
nn.init.zeros_(model.bias)
opt = torch.optim.SGD(model.parameters(), lr=0.2)
loss_fn = nn.MSELoss()
for epoch in range(60):
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    if epoch % 10 == 0 or epoch == 59:
        print(f"epoch {epoch:2d}  loss {loss.item():.6f}")
print("weight:", model.weight.item(), "bias:", model.bias.item())
