# LazyLinear infers in_features at the first call; Unflatten, ParameterList and Identity.
import torch
import torch.nn as nn

lazy = nn.LazyLinear(2)
print(lazy)
out = lazy(torch.ones(3, 5))
print(out.shape, lazy.weight.shape, lazy.in_features)
print(nn.Unflatten(1, (2, 3))(torch.arange(12.0).view(2, 6)).shape)
pl = nn.ParameterList([nn.Parameter(torch.ones(2) * i) for i in range(3)])
print(len(pl), sum(p.sum() for p in pl))
print(nn.Identity()(torch.tensor([1.0, 2.0])))
m = nn.Sequential(nn.Flatten(), nn.Linear(4, 1))
print(m(torch.ones(2, 2, 2)).shape)
