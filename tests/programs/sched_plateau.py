# ReduceLROnPlateau lowers the learning rate when the validation loss stops improving.
import torch

w = torch.nn.Parameter(torch.zeros(1))
opt = torch.optim.SGD([w], lr=0.1)
sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2)
val_losses = [1.0, 0.8, 0.7, 0.71, 0.72, 0.69, 0.70, 0.70, 0.70, 0.5, 0.51, 0.52, 0.53]
for epoch, v in enumerate(val_losses):
    opt.step()
    sched.step(v)
    print(epoch, v, sched.get_last_lr(), sched.num_bad_epochs, sched.best)
