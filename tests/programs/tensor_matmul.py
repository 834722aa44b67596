# Matrix products: mm, matmul (@), bmm, dot, mv, outer, and their gradients.
import torch

A = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
B = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
C = A @ B
print(C, C.shape)
print(torch.mm(B, A))
v = torch.tensor([1.0, -1.0])
print(A.mv(v) if hasattr(A, "mv") else A @ v, torch.dot(v, v))
print(torch.outer(v, torch.tensor([1.0, 2.0, 3.0])))
batch = torch.arange(12.0).view(2, 2, 3)
print(torch.bmm(batch, batch.transpose(1, 2)))
C.sum().backward()
print("dA:", A.grad)
try:
    torch.mm(A, A)
except RuntimeError as e:
    print("RuntimeError:", e)
