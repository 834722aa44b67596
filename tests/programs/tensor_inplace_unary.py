# In-place unary operations end in an underscore and return the same tensor.
import torch

x = torch.tensor([0.5, 1.0, 2.0])
y = x.clone()
print(y.exp_(), y.log_(), y.sqrt_(), y)
z = torch.tensor([-1.5, 0.0, 2.5])
print(z.abs_(), z.neg_(), z.clamp_(min=-2.0), z.tanh_())
w = torch.tensor([0.0, 1.0, -1.0])
print(w.sigmoid_(), w.sin_(), w.cos_())
r = torch.tensor([-1.0, 2.0])
r.relu_()
print(r)
