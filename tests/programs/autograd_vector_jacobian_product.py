# backward() of a non-scalar output needs the vector v of a vector-Jacobian product.
import torch

x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
y = x * x * 2 + x.exp()
print(y)
try:
    y.backward()
except RuntimeError as e:
    print("RuntimeError:", e)
v = torch.tensor([1.0, 0.1, 0.01])
y.backward(v)
print("x.grad =", x.grad)
print("expected =", v * (4 * x.detach() + x.detach().exp()))
