# Type promotion: what dtype comes out when dtypes meet.
import torch

i = torch.tensor([1, 2, 3])
f = torch.tensor([0.5, 1.5, 2.5])
d = torch.tensor([1.0], dtype=torch.float64)
b = torch.tensor([True, False, True])
print((i + f).dtype, (i * 2).dtype, (i * 2.5).dtype, (f + d).dtype)
print((b + b).dtype, (b + 1).dtype, (i / 2).dtype, (i // 2).dtype)
print(i / 2, i // 2, -i // 2)
print(torch.promote_types(torch.int32, torch.float32), torch.promote_types(torch.uint8, torch.int8))
print(f.int(), f.long().dtype, i.float(), i.double().dtype, b.int())
print(i.to(torch.float16), f.to(torch.int64))
print(torch.get_default_dtype())
torch.set_default_dtype(torch.float64)
print(torch.tensor([1.0, 2.0]).dtype, torch.arange(3.0).dtype)
torch.set_default_dtype(torch.float32)
print(torch.ones(1).dtype)
