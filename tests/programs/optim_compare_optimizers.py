# The same least-squares problem with SGD, SGD+nesterov, Adam, AdamW and RMSprop.
import torch

A = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5], [-2.0, 1.0]])
t = torch.tensor([1.0, 2.0, 0.0, -1.0])
configs = {
    "SGD": lambda p: torch.optim.SGD(p, lr=0.02),
    "Nesterov": lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, nesterov=True),
    "Adam": lambda p: torch.optim.Adam(p, lr=0.05),
    "AdamW": lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1),
    "RMSprop": lambda p: torch.optim.RMSprop(p, lr=0.01),
}
for name, make in configs.items():
    x = torch.zeros(2, requires_grad=True)
    opt = make([x])
    for _ in range(100):
        opt.zero_grad()
        loss = ((A @ x - t) ** 2).mean()
        loss.backward()
        opt.step()
    print(f"{name:9s} x={x.detach().tolist()} loss={loss.item():.6f}")
