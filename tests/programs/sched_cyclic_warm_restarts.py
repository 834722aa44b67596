# CyclicLR stepped per batch, and cosine annealing with warm restarts stepped by fractional epochs.
import torch
from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts, CyclicLR

w = torch.nn.Parameter(torch.zeros(1))
opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
cyc = CyclicLR(opt, base_lr=0.001, max_lr=0.01, step_size_up=3, mode="triangular2")
trace = []
for _ in range(14):
    opt.step()
    cyc.step()
    trace.append((round(cyc.get_last_lr()[0], 6), round(opt.param_groups[0]["momentum"], 4)))
print(trace)
opt2 = torch.optim.Adam([w], lr=0.05)
warm = CosineAnnealingWarmRestarts(opt2, T_0=2, T_mult=2, eta_min=0.001)
batches = 3
for epoch in range(6):
    for b in range(batches):
        opt2.step()
        warm.step(epoch + b / batches)
    print(epoch, f"{warm.get_last_lr()[0]:.6f}", warm.T_i, round(warm.T_cur, 4))
