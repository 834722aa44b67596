# Gradients of a scalar built from vectors: f(w) = sum((w * x - t)^2) / n.
import torch

x = torch.tensor([1.0, 2.0, 3.0, 4.0])
t = torch.tensor([2.0, 4.1, 5.9, 8.2])
w = torch.tensor(1.0, requires_grad=True)
for step in range(5):
    loss = ((w * x - t) ** 2).mean()
    loss.backward()
    print(f"step {step}: w={w.item():.5f} loss={loss.item():.5f} grad={w.grad.item():.5f}")
    with torch.no_grad():
        w -= 0.05 * w.grad
    w.grad.zero_()
print("final w:", w)
