# A custom Dataset returning dicts; the default collate batches each field.
import torch
from torch.utils.data import DataLoader, Dataset


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        x = torch.tensor([float(i), float(i) ** 0.5])
        return {"x": x, "y": i * i, "name": f"item{i}"}


loader = DataLoader(Squares(5), batch_size=2)
for batch in loader:
    print(batch["x"], batch["y"], batch["name"])
pairs = DataLoader([(1, 0.5), (2, 1.5), (3, 2.5)], batch_size=3)
print(next(iter(pairs)))
print(DataLoader(Squares(3), batch_size=2, collate_fn=lambda b: len(b)).__iter__().__next__())
