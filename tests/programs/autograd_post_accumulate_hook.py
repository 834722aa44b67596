# A hook that runs once a parameter's .grad has been accumulated (e.g. to step it right away).
import torch

w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
log = []


def after_accumulate(p):
    log.append(p.grad.clone())
    with torch.no_grad():
        p -= 0.1 * p.grad
    p.grad = None


handle = w.register_post_accumulate_grad_hook(after_accumulate)
for _ in range(3):
    (w ** 2).sum().backward()
print(w)
print(log)
handle.remove()
(w * 2).sum().backward()
print(w.grad, len(log))
x = torch.tensor(1.0, requires_grad=True)
with torch.autograd.graph.save_on_cpu():
    y = (x * 3).exp()
y.backward()
print(x.grad)
