# gather, scatter, scatter_add, index_add_, masked_fill.
import torch

src = torch.tensor([[10.0, 11.0, 12.0], [20.0, 21.0, 22.0]])
idx = torch.tensor([[2, 0], [1, 1]])
print(torch.gather(src, 1, idx))
z = torch.zeros(2, 4)
print(z.scatter(1, torch.tensor([[0, 3], [1, 2]]), 1.0))
print(torch.zeros(5).scatter_add(0, torch.tensor([0, 1, 1, 4]), torch.tensor([1.0, 2.0, 3.0, 4.0])))
acc = torch.zeros(3, 2)
acc.index_add_(0, torch.tensor([0, 2, 0]), torch.ones(3, 2))
print(acc)
print(src.masked_fill(src > 15, -1.0))
