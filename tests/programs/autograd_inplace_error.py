# Modifying a tensor that backward still needs is caught at backward time.
import torch

a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
b = a.exp()
c = b * 2
b.add_(1)
try:
    c.sum().backward()
    print("no error")
except RuntimeError as e:
    print("RuntimeError caught:", "modified by an inplace operation" in str(e))
leaf = torch.ones(2, requires_grad=True)
try:
    leaf.add_(1)
except RuntimeError as e:
    print("RuntimeError:", e)
with torch.no_grad():
    leaf.add_(1)
print(leaf)
