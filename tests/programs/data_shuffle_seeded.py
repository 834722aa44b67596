# Shuffled batches are reproducible after manual_seed: two epochs of a shuffled DataLoader.
import torch
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
ds = TensorDataset(torch.arange(10))
loader = DataLoader(ds, batch_size=4, shuffle=True)
for epoch in range(2):
    print(epoch, [b[0].tolist() for b in loader])
