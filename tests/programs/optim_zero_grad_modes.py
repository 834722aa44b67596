# zero_grad sets gradients to None by default; set_to_none=False fills them with zeros.
import torch

w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
opt = torch.optim.SGD([w], lr=0.1)
(w ** 2).sum().backward()
print(w.grad)
opt.zero_grad(set_to_none=False)
print(w.grad)
(w * 3).sum().backward()
opt.step()
print(w, w.grad)
opt.zero_grad()
print(w.grad)
opt.step()
print("a step without gradients leaves w:", w)
