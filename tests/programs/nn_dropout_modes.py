# Dropout is the identity in eval mode; in train mode it zeroes and rescales.
import torch
import torch.nn as nn

drop = nn.Dropout(p=0.5)
x = torch.ones(2, 6)
drop.eval()
print(drop(x))
drop.train()
torch.manual_seed(3)
y = drop(x)
print(y)
print("kept fraction:", (y != 0).float().mean().item())
print(drop.training, drop)
