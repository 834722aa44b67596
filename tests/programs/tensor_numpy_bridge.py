# To and from numpy: from_numpy shares memory, torch.tensor copies.
import numpy as np
import torch

a = np.array([[1.0, 2.0], [3.0, 4.0]])
t = torch.from_numpy(a)
print(t, t.dtype)
a[0, 0] = -1.0
print("after changing the array:", t[0])
c = torch.tensor(a)
a[0, 1] = 99.0
print("the copy is unchanged:", c[0])
back = torch.ones(3).numpy()
print(type(back).__name__, back.dtype, back)
x = torch.tensor([1.0, 2.0], requires_grad=True)
try:
    x.numpy()
except RuntimeError as e:
    print("RuntimeError:", e)
print(x.detach().numpy(), x.tolist(), x[0].item())
print(torch.as_tensor([1, 2, 3]), torch.tensor(np.float32(2.5)))
