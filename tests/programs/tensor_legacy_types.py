# Legacy type names and type() of tensors, as older tutorials print them.
import torch

a = torch.FloatTensor([1, 2, 3])
b = torch.LongTensor([4, 5])
c = torch.DoubleTensor(2, 2).zero_()
print(a, b, c)
print(type(a), a.type(), b.type(), c.type())
print(isinstance(a, torch.FloatTensor), isinstance(a, torch.LongTensor), isinstance(a, torch.Tensor))
print(a.type(torch.IntTensor), a.type("torch.DoubleTensor"))
print(torch.IntTensor([1, 2]).dtype, torch.BoolTensor([1, 0]), torch.FloatTensor(2, 3).shape)
print(torch.FloatTensor, torch.Tensor)
print(torch.is_tensor(a), torch.is_floating_point(a), torch.is_floating_point(b))
