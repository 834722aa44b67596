# SmoothL1, Huber, KLDiv and NLL losses on fixed inputs.
import torch
import torch.nn as nn

pred = torch.tensor([0.5, 2.0, -1.0, 4.0], requires_grad=True)
target = torch.tensor([0.0, 0.0, 0.0, 0.0])
print(nn.SmoothL1Loss()(pred, target), nn.HuberLoss(delta=1.5)(pred, target))
logp = torch.log_softmax(torch.tensor([[1.0, 2.0, 0.5]]), dim=1)
q = torch.tensor([[0.2, 0.5, 0.3]])
print(nn.KLDivLoss(reduction="batchmean")(logp, q))
print(nn.NLLLoss()(logp, torch.tensor([1])))
loss = nn.SmoothL1Loss()(pred, target)
loss.backward()
print(pred.grad, loss.grad_fn.name())
print(nn.CrossEntropyLoss(label_smoothing=0.1)(torch.tensor([[2.0, 0.0, -1.0]]), torch.tensor([0])))
