# nn.Embedding: a lookup table of vectors, and which rows get gradients.
import torch
import torch.nn as nn

torch.manual_seed(1)
emb = nn.Embedding(5, 3)
idx = torch.tensor([[0, 2], [4, 2]])
vecs = emb(idx)
print(vecs.shape)
vecs.sum().backward()
print(emb.weight.grad)
with torch.no_grad():
    emb.weight.copy_(torch.arange(15.0).view(5, 3))
print(emb(torch.tensor([1, 3])))
