# Broadcasting rules: shapes are aligned from the right.
import torch

a = torch.arange(3.0).view(3, 1)
b = torch.arange(4.0).view(1, 4)
print(a + b)
print((a * b).shape)
c = torch.ones(2, 3, 4)
print((c + torch.tensor([1.0, 2.0, 3.0, 4.0])).shape)
try:
    torch.ones(2, 3) + torch.ones(2)
except RuntimeError as e:
    print("RuntimeError:", e)
w = torch.tensor([1.0, 2.0], requires_grad=True)
out = (w * torch.ones(3, 2)).sum()
out.backward()
print("grad summed over the broadcast dim:", w.grad)
