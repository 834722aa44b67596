# manual_seed makes rand, randn, randint and randperm reproducible.
import torch

torch.manual_seed(0)
print(torch.randn(3))
print(torch.rand(2, 2))
print(torch.randint(0, 10, (5,)))
print(torch.randperm(6))
torch.manual_seed(0)
print("again:", torch.randn(3))
g = torch.Generator().manual_seed(123)
print(torch.randn(2, generator=g))
print(torch.initial_seed())
