# Activation functions on a fixed grid, and their gradients.
import torch
import torch.nn.functional as F

x = torch.linspace(-3, 3, 7, requires_grad=True)
for name, fn in [("relu", F.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("gelu", F.gelu),
                 ("silu", F.silu), ("softplus", F.softplus), ("leaky", lambda t: F.leaky_relu(t, 0.1))]:
    y = fn(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    print(name, y)
    print("  grad", g)
print(F.softmax(torch.tensor([1.0, 2.0, 3.0]), dim=0))
print(F.log_softmax(torch.tensor([[1.0, 2.0], [0.0, 0.0]]), dim=1))
