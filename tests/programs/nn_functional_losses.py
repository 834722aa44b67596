# The common losses on fixed inputs, with their reductions and gradients.
import torch
import torch.nn as nn
import torch.nn.functional as F

pred = torch.tensor([[0.2, 0.8], [0.6, 0.4], [0.9, 0.1]], requires_grad=True)
target = torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
print("mse:", F.mse_loss(pred, target), nn.MSELoss(reduction="sum")(pred, target))
print("l1:", F.l1_loss(pred, target), nn.L1Loss(reduction="none")(pred, target))
print("bce:", F.binary_cross_entropy(pred, target))
logits = torch.tensor([[1.0, -0.5], [0.3, 0.2], [2.0, -1.0]])
print("bce with logits:", F.binary_cross_entropy_with_logits(logits, target))
scores = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], requires_grad=True)
labels = torch.tensor([0, 2])
ce = nn.CrossEntropyLoss()(scores, labels)
print("cross entropy:", ce)
ce.backward()
print(scores.grad)
print("nll:", F.nll_loss(F.log_softmax(scores, dim=1), labels))
loss = F.mse_loss(pred, target)
loss.backward()
print(pred.grad)
