# The chain rule on scalars: y = x^2 + 3x + 1, z = y * sin(y); dz/dx by backward and by hand.
import math
import torch

x = torch.tensor(1.5, requires_grad=True)
y = x ** 2 + 3 * x + 1
z = y * torch.sin(y)
print("y =", y)
print("z =", z)
z.backward()
print("dz/dx (autograd) =", x.grad)
yv = 1.5 ** 2 + 3 * 1.5 + 1
by_hand = (math.sin(yv) + yv * math.cos(yv)) * (2 * 1.5 + 3)
print(f"dz/dx (by hand)  = {by_hand:.4f}")
print("leaf?", x.is_leaf, y.is_leaf, "requires_grad:", y.requires_grad)
