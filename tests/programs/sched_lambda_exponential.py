# LambdaLR with an inverse-time decay, ExponentialLR, and a state_dict round trip.
import torch
from torch.optim.lr_scheduler import ExponentialLR, LambdaLR

w = torch.nn.Parameter(torch.zeros(1))
opt = torch.optim.SGD([w], lr=0.5)
lam = LambdaLR(opt, lr_lambda=lambda epoch: 1.0 / (1.0 + 0.5 * epoch))
for _ in range(5):
    opt.step()
    lam.step()
print("lambda:", lam.get_last_lr(), lam.last_epoch)
opt2 = torch.optim.SGD([w], lr=0.5)
exp = ExponentialLR(opt2, gamma=0.9)
for _ in range(5):
    opt2.step()
    exp.step()
print("exponential:", exp.get_last_lr())
saved = exp.state_dict()
opt3 = torch.optim.SGD([w], lr=0.5)
exp3 = ExponentialLR(opt3, gamma=0.9)
exp3.load_state_dict(saved)
opt3.param_groups[0]["lr"] = saved["_last_lr"][0]
opt3.step()
exp3.step()
print("resumed:", exp3.get_last_lr(), exp3.last_epoch)
