# Per-layer learning rates with parameter groups, and adding a group later.
import torch
import torch.nn as nn

body = nn.Linear(2, 2)
head = nn.Linear(2, 1)
for m in (body, head):
    nn.init.constant_(m.weight, 0.5)
    nn.init.zeros_(m.bias)
opt = torch.optim.SGD([{"params": body.parameters()}, {"params": head.parameters(), "lr": 0.1}],
                      lr=0.01, momentum=0.9)
print([g["lr"] for g in opt.param_groups], len(opt.param_groups))
x = torch.tensor([[1.0, -1.0], [2.0, 0.5]])
for _ in range(3):
    opt.zero_grad()
    head(torch.relu(body(x))).pow(2).sum().backward()
    opt.step()
print(body.weight, head.weight)
extra = torch.nn.Parameter(torch.tensor([1.0]))
opt.add_param_group({"params": [extra], "lr": 0.5, "momentum": 0.0})
print([(g["lr"], g["momentum"]) for g in opt.param_groups])
print(opt)
