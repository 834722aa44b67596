# A training checkpoint (model, optimizer, epoch, loss) saved, loaded, and training resumed.
import torch
import torch.nn as nn

x = torch.tensor([[1.0, 2.0], [2.0, 1.0], [0.0, -1.0]])
y = torch.tensor([[1.0], [0.0], [0.5]])


def build():
    m = nn.Linear(2, 1)
    nn.init.constant_(m.weight, 0.1)
    nn.init.constant_(m.bias, -0.1)
    return m, torch.optim.Adam(m.parameters(), lr=0.05)


def train(m, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss = ((m(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return loss.item()


m, opt = build()
loss = train(m, opt, 5)
torch.save({"epoch": 5, "model": m.state_dict(), "optim": opt.state_dict(), "loss": loss}, "ckpt.pt")
print("saved at loss", round(loss, 6))
m2, opt2 = build()
ck = torch.load("ckpt.pt")
m2.load_state_dict(ck["model"])
opt2.load_state_dict(ck["optim"])
print("epoch", ck["epoch"], "loss", round(ck["loss"], 6))
print("continued:", round(train(m, opt, 5), 6), round(train(m2, opt2, 5), 6))
print(m2.weight.data, opt2.state_dict()["state"][0]["step"])
