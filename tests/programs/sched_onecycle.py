# OneCycleLR: learning rate and momentum over one cycle.
import torch

w = torch.nn.Parameter(torch.zeros(3))
opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=12)
for i in range(12):
    opt.step()
    lr, mom = opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]
    print(f"{i:2d} lr={lr:.5f} momentum={mom:.4f}")
    sched.step() if i < 11 else None
