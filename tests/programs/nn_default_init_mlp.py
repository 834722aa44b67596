# After manual_seed, a freshly built MLP has the same weights as in any other run.
import torch
import torch.nn as nn

torch.manual_seed(0)
mlp = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
print(mlp[0].weight)
print(mlp[2].bias)
x = torch.tensor([[0.5, -1.0, 2.0]])
print(mlp(x))
