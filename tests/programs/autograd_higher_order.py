# Second and third derivatives with create_graph=True.
import torch

x = torch.tensor(0.7, requires_grad=True)
f = torch.tanh(x) * x ** 2
(d1,) = torch.autograd.grad(f, x, create_graph=True)
(d2,) = torch.autograd.grad(d1, x, create_graph=True)
(d3,) = torch.autograd.grad(d2, x)
print("f   =", f)
print("f'  =", d1)
print("f'' =", d2)
print("f'''=", d3)
