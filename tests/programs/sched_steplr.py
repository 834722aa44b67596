# StepLR and MultiStepLR: the learning rate at each epoch.
import torch

p = [torch.nn.Parameter(torch.zeros(1))]
opt = torch.optim.SGD(p, lr=0.1)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
for epoch in range(10):
    opt.step()
    sched.step()
    print(epoch, sched.get_last_lr())
opt2 = torch.optim.SGD(p, lr=1.0)
ms = torch.optim.lr_scheduler.MultiStepLR(opt2, milestones=[2, 5], gamma=0.1)
lrs = []
for _ in range(7):
    lrs.append(opt2.param_groups[0]["lr"])
    opt2.step()
    ms.step()
print(lrs)
print(sched.state_dict())
