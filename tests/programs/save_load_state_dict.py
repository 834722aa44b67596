# Saving a model's state_dict and loading it into a fresh model.
import torch
import torch.nn as nn


def make():
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))


model = make()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.linspace(-1, 1, p.numel()).view(p.shape))
torch.save(model.state_dict(), "weights.pt")
clone = make()
result = clone.load_state_dict(torch.load("weights.pt"))
print(result)
x = torch.tensor([[0.3, -0.7], [1.0, 2.0]])
print(model(x))
print(clone(x))
print(torch.equal(model(x), clone(x)))
print(list(torch.load("weights.pt").keys()))
