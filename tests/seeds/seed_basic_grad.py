# Seed 002 (shared/seeds/002_3b0d20d49c73ead8.txt), notebook cells In [5] and In [6].
# Cells run as in a notebook: a cell's last bare expression (`z`) is displayed.
# In [5]:
import vizgrad as torch

# Creating tensors
x = torch.tensor(2.0, requires_grad=True)
y = torch.tensor(3.0, requires_grad=True)

# Perform Operation
z = x**2 + y**3
z
# In [6]:
# Compute Gradient
z.backward()

# Access gradient
grad_x = x.grad
grad_y = y.grad

print("Gradient of x: ", grad_x)
print("Gradient of y: ", grad_y)
