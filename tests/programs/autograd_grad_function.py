# torch.autograd.grad returns gradients without touching .grad.
import torch

a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
b = torch.tensor([0.5, -0.5, 2.0], requires_grad=True)
out = (a * b).sum() + (a ** 2).sum()
ga, gb = torch.autograd.grad(out, [a, b])
print("d/da:", ga)
print("d/db:", gb)
print("a.grad is None:", a.grad is None)
c = torch.tensor(1.0, requires_grad=True)
try:
    torch.autograd.grad(a.sum(), [a, c])
except RuntimeError as e:
    print("RuntimeError:", e)
print(torch.autograd.grad((a * 2).sum(), [a, c], allow_unused=True))
