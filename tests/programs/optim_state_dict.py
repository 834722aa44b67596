# What an optimizer's state_dict holds after a few Adam steps.
import torch

w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
b = torch.nn.Parameter(torch.tensor(0.5))
opt = torch.optim.Adam([w, b], lr=0.1, betas=(0.8, 0.99))
for _ in range(3):
    opt.zero_grad()
    ((w * 3 - 1) ** 2).sum().add(b ** 2).backward()
    opt.step()
sd = opt.state_dict()
print(sd["param_groups"])
for k, st in sd["state"].items():
    print(k, {name: v for name, v in st.items()})
fresh = torch.optim.Adam([w, b], lr=0.5)
fresh.load_state_dict(sd)
print(fresh.param_groups[0]["lr"], fresh.state[w]["step"])
