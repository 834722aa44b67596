# BatchNorm1d in train and eval mode, and LayerNorm.
import torch
import torch.nn as nn

x = torch.tensor([[1.0, 2.0, 3.0], [3.0, 6.0, 9.0], [5.0, 1.0, 0.0], [0.0, 0.0, 4.0]])
bn = nn.BatchNorm1d(3)
print(bn(x))
print(bn.running_mean, bn.running_var, bn.num_batches_tracked)
bn.eval()
print(bn(x))
ln = nn.LayerNorm(3)
print(ln(x))
print(bn, ln)
