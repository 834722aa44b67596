# cumsum, flip, roll, repeat, chunk, expand_as and einsum.
import torch

x = torch.arange(1.0, 7.0).view(2, 3)
print(x.cumsum(dim=1), torch.cumsum(x, 0))
print(x.flip(1), x.roll(1, dims=1))
print(x.repeat(2, 1))
print(x.chunk(3, dim=1))
print(torch.tensor([1.0, 2.0]).view(2, 1).expand_as(x))
a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
b = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
print(torch.einsum("ij,jk->ik", a, b))
print(torch.einsum("ii->", a), torch.einsum("ij->j", a))
