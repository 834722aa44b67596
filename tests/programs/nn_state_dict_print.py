# Printing a whole state_dict, and copying one model's weights into another by name.
import torch
import torch.nn as nn

a = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1, bias=False))
with torch.no_grad():
    a[0].weight.copy_(torch.tensor([[1.0, -1.0], [0.5, 2.0]]))
    a[0].bias.copy_(torch.tensor([0.1, -0.2]))
    a[2].weight.fill_(0.3)
print(a.state_dict())
b = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1, bias=False))
b.load_state_dict(a.state_dict())
x = torch.tensor([[2.0, 1.0]])
print(b(x), a(x).item() == b(x).item())
for name, t in b.named_parameters():
    print(name, t.grad is None)
