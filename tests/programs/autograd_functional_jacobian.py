# torch.autograd.functional: jacobian and hessian of small functions.
import torch
from torch.autograd.functional import hessian, jacobian


def f(x):
    return torch.stack([x[0] * x[1], x[0] ** 2 + x[1].sin(), x.exp().sum()])


def g(x):
    return (x ** 3).sum() + x[0] * x[1]


x = torch.tensor([1.0, 0.5])
print("J =", jacobian(f, x))
print("H =", hessian(g, x))
