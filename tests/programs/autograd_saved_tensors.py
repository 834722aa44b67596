# What a backward node keeps for later: its saved tensors, and hooks on saving them.
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = torch.tensor([0.5, 0.5, 2.0], requires_grad=True)
z = x * y
print(z.grad_fn._saved_self, z.grad_fn._saved_other)
e = x.exp()
print(e.grad_fn._saved_result)
p = x.pow(3)
print(p.grad_fn._saved_self, p.grad_fn._saved_exponent)


def pack(t):
    print("packing", tuple(t.shape))
    return t


def unpack(t):
    print("unpacking", tuple(t.shape))
    return t


with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
    w = (x * y).sum()
w.backward()
print(x.grad, y.grad)
