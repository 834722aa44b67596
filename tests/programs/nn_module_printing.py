# How modules print, and what named_parameters / children list.
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.act = nn.ReLU()
        self.out = nn.Sequential(nn.Linear(8, 3), nn.LogSoftmax(dim=1))

    def forward(self, x):
        return self.out(self.act(self.hidden(x)))


net = Net()
print(net)
for name, p in net.named_parameters():
    print(name, tuple(p.shape), p.requires_grad)
print([type(m).__name__ for m in net.children()])
print(sum(p.numel() for p in net.parameters()), "parameters")
print(nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Dropout(0.25), nn.Sigmoid()))
print(nn.LeakyReLU(0.2), nn.GELU(), nn.Softmax(dim=-1), nn.Flatten())
