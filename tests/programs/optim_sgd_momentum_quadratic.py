# Minimising f(x, y) = (x - 3)^2 + 10 (y + 1)^2 with plain SGD and with momentum.
import torch

for momentum in (0.0, 0.9):
    p = torch.tensor([0.0, 0.0], requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.02, momentum=momentum)
    for step in range(50):
        opt.zero_grad()
        f = (p[0] - 3) ** 2 + 10 * (p[1] + 1) ** 2
        f.backward()
        opt.step()
    print(f"momentum={momentum}: p={p.data}, f={f.item():.6f}")
