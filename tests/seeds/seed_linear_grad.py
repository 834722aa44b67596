# Seed 004 (shared/seeds/004_136a34388b552f14.txt), Example 1, notebook cell In [1].
# In [1]:
import vizgrad as torch

# Create tensors and require gradients
x = torch.tensor([2.0], requires_grad=True)
w = torch.tensor([3.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)

# Define a simple computation
y = w * x + b

# Compute gradients
y.backward()

# Access the computed gradients
print(x.grad)  # Output: tensor([3.])
print(w.grad)  # Output: tensor([2.])
print(b.grad)  # Output: tensor([1.])
