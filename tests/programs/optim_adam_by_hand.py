# Adam written by hand, as optimizer tutorials do: the moment updates with lerp_ and addcmul_, the
# step with addcdiv_; the result against torch.optim.Adam on the same model, and AdamW-style decay.
import math

import torch

torch.manual_seed(0)
X = torch.randn(32, 3)
y = X @ torch.tensor([1.5, -2.0, 0.5]) + 0.1 * torch.randn(32)


def loss_fn(w, b):
    return torch.nn.functional.mse_loss(X @ w + b, y)


def by_hand(steps, lr=0.05, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    w = torch.zeros(3, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    state = {p: (torch.zeros_like(p), torch.zeros_like(p)) for p in (w, b)}
    for t in range(1, steps + 1):
        loss = loss_fn(w, b)
        for p in (w, b):
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in (w, b):
                m, v = state[p]
                if weight_decay:
                    p.mul_(1 - lr * weight_decay)
                m.lerp_(p.grad, 1 - betas[0])
                v.mul_(betas[1]).addcmul_(p.grad, p.grad, value=1 - betas[1])
                bias1 = 1 - betas[0] ** t
                bias2 = 1 - betas[1] ** t
                denom = (v.sqrt() / math.sqrt(bias2)).add_(eps)
                p.addcdiv_(m, denom, value=-lr / bias1)
    return w, b, loss


def with_optim(steps, cls, **kw):
    w = torch.zeros(3, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = cls([w, b], **kw)
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(w, b)
        loss.backward()
        opt.step()
    return w, b, loss


w1, b1, l1 = by_hand(60)
w2, b2, l2 = with_optim(60, torch.optim.Adam, lr=0.05)
print("by hand:", w1.detach(), b1.detach(), f"{l1.item():.6f}")
print("optim  :", w2.detach(), b2.detach(), f"{l2.item():.6f}")
print("same to 1e-6:", torch.allclose(w1, w2, atol=1e-6), torch.allclose(b1, b2, atol=1e-6))

w3, b3, _ = by_hand(40, weight_decay=0.1)
w4, b4, _ = with_optim(40, torch.optim.AdamW, lr=0.05, weight_decay=0.1)
print("AdamW by hand:", w3.detach())
print("AdamW optim  :", w4.detach())
print("max difference below 1e-6:", (w3 - w4).abs().max().item() < 1e-6)

# the same updates out of place, recorded: what addcmul / addcdiv / lerp put in the graph
p = torch.tensor([1.0, -1.0], requires_grad=True)
g = torch.tensor([0.5, 2.0])
m = torch.lerp(torch.zeros(2), p * g, 0.1)
v = torch.addcmul(torch.zeros(2), p, p, value=0.001)
step = torch.addcdiv(p, m, v.sqrt() + 1e-3, value=-0.01)
print(m.grad_fn.name(), v.grad_fn.name(), step.grad_fn.name())
step.sum().backward()
print("d step / d p:", p.grad)
