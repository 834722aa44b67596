# Intermediate tensors do not keep .grad unless asked to with retain_grad().
import torch

a = torch.tensor([1.0, 2.0], requires_grad=True)
b = a * 3
b.retain_grad()
c = b.pow(2).sum()
c.backward()
print("a.grad:", a.grad)
print("b.grad:", b.grad)
print("b.retains_grad:", b.retains_grad, "a.retains_grad:", a.retains_grad)
print("c:", c, c.grad_fn.name())
