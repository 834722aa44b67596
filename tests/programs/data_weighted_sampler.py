# Over-sampling a rare class with WeightedRandomSampler.
import torch
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler

labels = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1])
counts = torch.tensor([6, 2])
weights = (1.0 / counts.float())[labels]
torch.manual_seed(11)
sampler = WeightedRandomSampler(weights, num_samples=16, replacement=True)
loader = DataLoader(TensorDataset(torch.arange(8), labels), batch_size=4, sampler=sampler)
seen = []
for idx, y in loader:
    print(idx.tolist(), y.tolist())
    seen += y.tolist()
print("share of class 1:", sum(seen) / len(seen))
