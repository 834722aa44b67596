# Linear warm-up followed by cosine annealing, chained with SequentialLR.
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

w = torch.nn.Parameter(torch.ones(2))
opt = torch.optim.AdamW([w], lr=0.01)
warm = LinearLR(opt, start_factor=0.1, total_iters=4)
cos = CosineAnnealingLR(opt, T_max=10, eta_min=1e-4)
sched = SequentialLR(opt, [warm, cos], milestones=[4])
for step in range(16):
    opt.step()
    sched.step()
    print(f"step {step:2d} lr {sched.get_last_lr()[0]:.6f}")
