# Old-style code: Variable wrappers and legacy tensor types still run.
import torch
from torch.autograd import Variable

x = Variable(torch.FloatTensor([[1, 2], [3, 4]]), requires_grad=True)
w = Variable(torch.FloatTensor([[0.5], [-1.0]]), requires_grad=True)
y = x.mm(w).sum()
y.backward()
print(type(x), isinstance(x, Variable))
print("x.grad:", x.grad)
print("w.grad:", w.grad)
print(x.data)
print(x.type(), x.type(torch.LongTensor).type())
labels = torch.LongTensor([0, 1, 1])
print(labels, labels.dtype)
