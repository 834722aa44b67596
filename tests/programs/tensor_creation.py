# The everyday factories and how they print.
import torch

print(torch.zeros(2, 3))
print(torch.ones(3, dtype=torch.int64))
print(torch.full((2, 2), 7.5))
print(torch.eye(3))
print(torch.arange(5), torch.arange(1, 2, 0.25))
print(torch.linspace(-1, 1, 5))
print(torch.tensor([[1, 2], [3, 4]]).dtype, torch.tensor([1.0, 2]).dtype, torch.tensor([True]).dtype)
print(torch.zeros_like(torch.ones(2, 2)), torch.ones_like(torch.arange(3)))
print(torch.empty(2, 3).shape, torch.zeros(size=(1, 4)).shape)
x = torch.tensor([[1.5, 2.25], [3.0, 4.125]])
print(x.shape, x.size(0), x.ndim, x.numel(), x.dtype)
print(torch.arange(6).reshape(2, 3))
print(torch.tensor(3.14159), torch.tensor(2), torch.tensor([]))
