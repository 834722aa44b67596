# gradcheck compares autograd with finite differences (in double precision).
import torch
from torch.autograd import gradcheck


def f(a, b):
    return (a * b.sin() + a.pow(2) / (1 + b.exp())).sum(dim=0)


a = torch.tensor([[0.3, -1.2], [0.8, 0.1]], dtype=torch.double, requires_grad=True)
b = torch.tensor([[1.1, 0.4], [-0.5, 2.0]], dtype=torch.double, requires_grad=True)
print("gradcheck:", gradcheck(f, (a, b), eps=1e-6, atol=1e-4))
print(f(a, b))
