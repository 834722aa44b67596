# Seed 001 (shared/seeds/001_f03b224630d7b54e.txt): its first four code blocks, in order.
import vizgrad as torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x.sum()
y.backward()
print(x.grad)  # tensor([1., 1., 1.])
