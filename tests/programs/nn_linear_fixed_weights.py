# nn.Linear with weights set by hand: forward, backward, and the gradients of W and b.
import torch
import torch.nn as nn

layer = nn.Linear(3, 2)
with torch.no_grad():
    layer.weight.copy_(torch.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
    layer.bias.fill_(0.05)
x = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]])
y = layer(x)
print(y)
loss = (y ** 2).mean()
loss.backward()
print("loss:", loss)
print("dW:", layer.weight.grad)
print("db:", layer.bias.grad)
print(layer)
print(layer.weight.shape, layer.bias.shape, layer.in_features, layer.out_features)
