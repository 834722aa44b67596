# random_split into train and validation sets with a seeded generator, and Subset.
import torch
from torch.utils.data import Subset, random_split

data = list(range(10))
g = torch.Generator().manual_seed(42)
train, val = random_split(data, [7, 3], generator=g)
print(len(train), len(val), list(train), list(val))
fr = random_split(range(8), [0.5, 0.5], generator=torch.Generator().manual_seed(1))
print([list(s) for s in fr])
sub = Subset(data, [9, 0, 4])
print(len(sub), [sub[i] for i in range(len(sub))])
