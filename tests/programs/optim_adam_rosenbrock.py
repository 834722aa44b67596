# Adam on the Rosenbrock function, printing the path every 100 steps.
import torch

xy = torch.tensor([-1.5, 2.0], requires_grad=True)
opt = torch.optim.Adam([xy], lr=0.02)


def rosenbrock(v):
    return (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2


for step in range(501):
    opt.zero_grad()
    loss = rosenbrock(xy)
    loss.backward()
    opt.step()
    if step % 100 == 0:
        print(f"{step:4d} x={xy[0].item():.4f} y={xy[1].item():.4f} f={loss.item():.5f}")
