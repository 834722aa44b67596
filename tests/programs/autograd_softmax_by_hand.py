# Softmax and cross-entropy built from primitives, checked against F.cross_entropy.
import torch
import torch.nn.functional as F

logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]], requires_grad=True)
target = torch.tensor([0, 1])
p = logits.exp() / logits.exp().sum(dim=1, keepdim=True)
loss = -p[torch.arange(2), target].log().mean()
loss.backward()
g_manual = logits.grad.clone()
logits.grad = None
ref = F.cross_entropy(logits, target)
ref.backward()
print("manual loss:", loss.item())
print("F loss:     ", ref.item())
print("probabilities:", p)
print("grads equal:", torch.allclose(g_manual, logits.grad))
print(logits.grad)
