# Which tensors may require gradients, and the errors when they may not.
import torch

for data, dtype in [([1, 2], torch.int64), ([1.0, 2.0], torch.float32), ([1.0], torch.float64)]:
    try:
        t = torch.tensor(data, dtype=dtype, requires_grad=True)
        print(dtype, "ok", t.requires_grad)
    except RuntimeError as e:
        print(dtype, "RuntimeError:", e)
x = torch.ones(3)
print("requires_grad by default:", x.requires_grad)
x.requires_grad_()
print("after requires_grad_():", x.requires_grad)
y = x * 2
try:
    y.requires_grad = False
except RuntimeError as e:
    print("RuntimeError:", str(e)[:60])
try:
    torch.ones(2).sum().backward()
except RuntimeError as e:
    print("RuntimeError:", e)
