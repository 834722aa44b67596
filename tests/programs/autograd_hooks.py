# Tensor hooks see (and may replace) the gradient flowing through a tensor.
import torch

x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
seen = []
h = x.register_hook(lambda g: seen.append(g.clone()))
y = x * 2
y.register_hook(lambda g: g * 10)
(y ** 2).sum().backward()
print("x.grad:", x.grad)
print("hook saw:", seen[0])
h.remove()
x.grad = None
(x * 3).sum().backward()
print("after remove:", x.grad, "hook calls:", len(seen))
