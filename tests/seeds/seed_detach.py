# Seed 002 (shared/seeds/002_3b0d20d49c73ead8.txt), notebook cell In [24]; `torch` was imported in In [5].
import vizgrad as torch
# In [24]:
a = torch.tensor(3.0, requires_grad=True)
b = torch.tensor(4.0, requires_grad=True)

# Perform operations and detach y
c = a ** 2 + b.detach() ** 3

# Compute gradients
c.backward()

grad_a = a.grad
grad_b = b.grad

print("Gradient of a:", grad_a)  # Gradient of x: tensor(4.)
print("Gradient of b:", grad_b)  # Gradient of y: None
