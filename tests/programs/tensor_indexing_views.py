# Indexing, slicing and views share memory with the original tensor.
import torch

x = torch.arange(12.0).view(3, 4)
print(x)
print(x[1], x[:, 2], x[1:, ::2])
print(x[x > 6])
print(x[[0, 2], [1, 3]])
v = x.view(4, 3)
v[0, 0] = 100.0
print("x after writing through a view:\n", x)
t = x.t()
print(t.shape, t.is_contiguous())
print(x.reshape(-1)[:5])
print(x.unsqueeze(0).shape, x.unsqueeze(-1).shape, x[None].shape)
print(torch.ones(1, 3, 1).squeeze().shape)
print(x.permute(1, 0).shape, x.transpose(0, 1).shape)
y = x.clone()
y[0] = -1
print(x[0], y[0])
