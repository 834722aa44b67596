# ModuleList and ModuleDict register their members; a plain list would not.
import torch
import torch.nn as nn


class Tower(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(widths, widths[1:])])
        self.heads = nn.ModuleDict({"mean": nn.Linear(widths[-1], 1), "logvar": nn.Linear(widths[-1], 1)})
        self.forgotten = [nn.Linear(2, 2)]

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return {k: head(x) for k, head in self.heads.items()}


t = Tower([3, 4, 2])
print(t)
print([n for n, _ in t.named_parameters()])
print(len(t.layers), list(t.heads.keys()))
with torch.no_grad():
    for p in t.parameters():
        p.fill_(0.1)
out = t(torch.ones(1, 3))
print(out["mean"], out["logvar"])
t.eval()
print(t.training, t.layers[0].training)
