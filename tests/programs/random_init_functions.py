# nn.init functions draw from the global generator.
import torch
import torch.nn as nn

torch.manual_seed(7)
w = torch.empty(2, 3)
nn.init.uniform_(w, -0.1, 0.1)
print(w)
nn.init.normal_(w, mean=0.0, std=0.01)
print(w)
nn.init.xavier_uniform_(w)
print(w)
nn.init.kaiming_normal_(w, nonlinearity="relu")
print(w)
print(torch.normal(torch.zeros(3), 1.0))
print(torch.normal(2.0, 0.5, size=(2,)))
