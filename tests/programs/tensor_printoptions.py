# Printing: precision, large and small values, integer and bool tensors.
import torch

x = torch.tensor([1.0, 1e-5, 123456.0])
print(x)
print(torch.tensor([0.1, 0.25, 1.0 / 3]))
print(torch.tensor([1e10, 1.0]))
print(torch.tensor([[1, -20], [300, 4]]))
print(torch.tensor([True, False]))
torch.set_printoptions(precision=2)
print(torch.tensor([3.14159, 2.71828]))
torch.set_printoptions(precision=6)
print(torch.tensor([3.14159, 2.71828]))
torch.set_printoptions(profile="default")
print(torch.arange(2000.0))
print(torch.tensor(float("inf")), torch.tensor([float("nan"), 1.0]))
print(torch.zeros(2, 0), torch.tensor([-0.0, 0.0]))
