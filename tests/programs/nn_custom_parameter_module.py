# A module with its own nn.Parameter: fitting a quadratic a*x^2 + b*x + c.
import torch
import torch.nn as nn


class Quadratic(nn.Module):
    def __init__(self):
        super().__init__()
        self.coef = nn.Parameter(torch.zeros(3))

    def forward(self, x):
        a, b, c = self.coef
        return a * x ** 2 + b * x + c


x = torch.linspace(-2, 2, 41)
y = 0.5 * x ** 2 - x + 2
model = Quadratic()
opt = torch.optim.Adam(model.parameters(), lr=0.1)
for step in range(200):
    opt.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    if step % 50 == 0:
        print(step, round(loss.item(), 5))
print("coefficients:", model.coef.data)
print(list(model.state_dict().keys()), model.coef.requires_grad)
