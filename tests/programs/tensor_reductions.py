# Reductions along dimensions: sum, mean, max, min, argmax, std, var, norm.
import torch

x = torch.tensor([[1.0, 5.0, 2.0], [4.0, -3.0, 6.0]])
print(x.sum(), x.sum(dim=0), x.sum(dim=1, keepdim=True))
print(x.mean(), x.mean(0))
print(x.max(), x.min())
values, indices = x.max(dim=1)
print(values, indices)
print(x.argmax(), x.argmax(dim=0), x.argmin(dim=1))
print(x.std(), x.var(dim=1))
print(x.norm(), x.abs().sum())
print(x.prod(), x.prod(dim=1))
print(torch.tensor([[True, False], [True, True]]).all(), torch.tensor([0, 0, 1]).any())
