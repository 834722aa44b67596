# Checkpointing a scheduler with its optimizer, and resuming the schedule where it stopped.
import torch

w = torch.nn.Parameter(torch.tensor([1.0]))
opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
for _ in range(3):
    opt.zero_grad()
    (w ** 2).sum().backward()
    opt.step()
    sched.step()
torch.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, "sched.pt")
ck = torch.load("sched.pt")
print(ck["scheduler"])
w2 = torch.nn.Parameter(w.detach().clone())
opt2 = torch.optim.SGD([w2], lr=0.1, momentum=0.9)
sched2 = torch.optim.lr_scheduler.MultiStepLR(opt2, milestones=[2, 4], gamma=0.5)
opt2.load_state_dict(ck["optimizer"])
sched2.load_state_dict(ck["scheduler"])
for _ in range(3):
    opt.step()
    sched.step()
    opt2.step()
    sched2.step()
    print(sched.get_last_lr(), sched2.get_last_lr(), opt2.param_groups[0]["lr"])
print(w, w2)
