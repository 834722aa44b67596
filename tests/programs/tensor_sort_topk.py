# sort, argsort and topk.
import torch

x = torch.tensor([3.0, -1.0, 4.0, 1.5, 9.0, 2.0])
values, idx = torch.sort(x)
print(values, idx)
print(torch.sort(x, descending=True))
print(x.argsort())
print(torch.topk(x, 3))
top = x.topk(2, largest=False)
print(top.values, top.indices)
m = torch.tensor([[3, 1, 2], [0, 5, 4]])
print(m.sort(dim=1))
