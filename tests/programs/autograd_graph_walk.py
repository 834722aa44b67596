# Walking the recorded graph from the output back to the leaves.
import torch

a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(3.0, requires_grad=True)
c = a * b
d = c + a.exp()
e = d.sin() / b
print(e)
print(e.grad_fn.name())


def walk(fn, depth=0):
    if fn is None:
        return
    print("  " * depth + type(fn).__name__)
    for nxt, _ in fn.next_functions:
        walk(nxt, depth + 1)


walk(e.grad_fn)
