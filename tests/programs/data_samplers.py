# Samplers decide the order of indices; a batch_sampler decides whole batches.
import torch
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.dataloader import default_collate
from torch.utils.data.sampler import BatchSampler, SequentialSampler

ds = TensorDataset(torch.arange(0.0, 1.0, 0.125), torch.arange(8))
print(list(SequentialSampler(ds)))
print(list(BatchSampler(SequentialSampler(ds), batch_size=3, drop_last=False)))
loader = DataLoader(ds, batch_sampler=[[7, 0], [3, 4, 5], [1]])
for xb, yb in loader:
    print(xb, yb)
print(len(loader))
print(default_collate([(torch.tensor(1.0), 2), (torch.tensor(3.0), 4)]))
reverse = DataLoader(ds, batch_size=4, sampler=list(range(7, -1, -1)))
print([yb.tolist() for _, yb in reverse])
