# Stopping gradients through part of a graph: a target computed from the model itself.
import torch

w = torch.tensor([0.5, -0.3], requires_grad=True)
x = torch.tensor([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]])
for step in range(4):
    pred = x @ w
    target = (pred * 0.9).detach() + 0.1
    loss = ((pred - target) ** 2).sum()
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
        w.grad.zero_()
    print(step, f"{loss.item():.6f}", w.tolist())
y = x @ w
print(y.requires_grad, y.detach().requires_grad, y.grad_fn.name())
