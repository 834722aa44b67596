# TensorDataset + DataLoader without shuffling: batches, sizes and len().
import torch
from torch.utils.data import DataLoader, TensorDataset

X = torch.arange(14.0).view(7, 2)
y = torch.tensor([0, 1, 0, 1, 1, 0, 1])
ds = TensorDataset(X, y)
print(len(ds), ds[2])
loader = DataLoader(ds, batch_size=3)
print("batches:", len(loader))
for i, (xb, yb) in enumerate(loader):
    print(i, xb.shape, yb.tolist(), xb.sum().item())
print("drop_last:", [yb.tolist() for _, yb in DataLoader(ds, batch_size=3, drop_last=True)])
