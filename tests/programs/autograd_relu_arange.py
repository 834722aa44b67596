# relu over an arange grid: where exactly the kink sits decides its gradient there.
import torch

x = torch.arange(-8.0, 8.0, 0.1, requires_grad=True)
y = torch.relu(x)
y.sum().backward()
print(x.shape, x.dtype)
print("x[78:83] =", x[78:83].tolist())
print("number of ones in grad:", int(x.grad.sum().item()))
print("grad[78:83] =", x.grad[78:83])
s = torch.sigmoid(x)
print("sigmoid at x[80]:", s[80].item())
