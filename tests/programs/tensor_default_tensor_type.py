# Older scripts switch the default type with set_default_tensor_type; newer ones with set_default_dtype.
import torch

torch.set_default_tensor_type(torch.DoubleTensor)
x = torch.tensor([1.0, 2.0]) / 3
print(x, x.dtype, x.type())
print(torch.zeros(2).type(), torch.arange(0.0, 1.0, 0.25).dtype)
w = torch.ones(2, requires_grad=True)
(w * x).sum().backward()
print(w.grad)
torch.set_default_tensor_type("torch.FloatTensor")
print(torch.tensor([1.0, 2.0]) / 3, torch.get_default_dtype())
torch.set_default_dtype(torch.float64)
print(torch.tensor(0.1).type())
