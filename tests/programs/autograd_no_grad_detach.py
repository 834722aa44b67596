# Three ways to stop tracking: torch.no_grad(), .detach(), and requires_grad_(False).
import torch

w = torch.tensor([2.0, -1.0], requires_grad=True)
with torch.no_grad():
    u = w * 10
print("under no_grad:", u, u.requires_grad)
d = w.detach()
d[0] = 5.0
print("detached:", d, d.requires_grad, "w sees the write:", w)
e = (w * 2).detach()
print("grad_fn after detach:", e.grad_fn)
print("is_grad_enabled:", torch.is_grad_enabled())
with torch.set_grad_enabled(False):
    print("inside set_grad_enabled(False):", torch.is_grad_enabled(), (w + 1).requires_grad)

@torch.no_grad()
def predict(x):
    return x * w

print("decorated:", predict(torch.ones(2)))
