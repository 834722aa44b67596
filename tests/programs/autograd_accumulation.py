# Gradients add up across backward calls until they are zeroed.
import torch

x = torch.tensor(3.0, requires_grad=True)
for i in range(3):
    y = x ** 3
    y.backward()
    print(f"after backward {i + 1}: x.grad = {x.grad}")
x.grad = None
(x * 4).backward()
print("after reset and one more:", x.grad)
x.grad.zero_()
print("zeroed:", x.grad)
