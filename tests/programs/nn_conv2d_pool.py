# Conv2d and pooling: output shapes, and a fixed kernel applied to a small image.
import torch
import torch.nn as nn

img = torch.arange(16.0).view(1, 1, 4, 4)
conv = nn.Conv2d(1, 1, kernel_size=3, padding=1, bias=False)
with torch.no_grad():
    conv.weight.copy_(torch.tensor([[[[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]]]))
out = conv(img)
print(out)
print(nn.MaxPool2d(2)(img), nn.AvgPool2d(2)(img))
print(nn.Conv2d(3, 8, kernel_size=5, stride=2)(torch.zeros(2, 3, 32, 32)).shape)
out.sum().backward()
print(conv.weight.grad)
