# torch.save of plain tensors and containers; dtypes and shapes survive the round trip.
import io
import torch

items = {"floats": torch.linspace(0, 1, 5), "ints": torch.tensor([3, 1, 2]), "mask": torch.tensor([True, False]),
         "matrix": torch.arange(6.0).view(2, 3).t(), "double": torch.tensor([1.0 / 3], dtype=torch.float64),
         "list": [torch.zeros(2), 7, "text"], "scalar": torch.tensor(4.5)}
buf = io.BytesIO()
torch.save(items, buf)
buf.seek(0)
back = torch.load(buf)
for k, v in back.items():
    print(k, v)
print(back["matrix"].shape, back["matrix"].dtype)
torch.save(torch.ones(2, 2), "t.pt")
print(torch.load("t.pt", weights_only=True))
