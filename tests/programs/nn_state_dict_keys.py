# state_dict: the names and shapes of everything a model saves; load_state_dict checks them.
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
sd = model.state_dict()
for k, v in sd.items():
    print(k, list(v.shape))
other = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
print(other.load_state_dict(sd))
same = all(torch.equal(a, b) for a, b in zip(model.parameters(), other.parameters()))
print("identical after loading:", same)
bad = {k: v for k, v in sd.items() if k != "2.bias"}
try:
    other.load_state_dict(bad)
except RuntimeError as e:
    print("RuntimeError:", str(e).splitlines()[0])
print(other.load_state_dict(bad, strict=False))
