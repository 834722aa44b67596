# A grid of points from meshgrid, distances to a few centres with cdist, the nearest centre of each
# point, and a little linear algebra on the way (diagonal, det, inverse, cross, kron, tensordot).
import torch

xs = torch.linspace(-1.0, 1.0, 5)
ys = torch.linspace(0.0, 2.0, 4)
gx, gy = torch.meshgrid(xs, ys, indexing="ij")
print("grid shapes:", gx.shape, gy.shape)
gxy, _ = torch.meshgrid(xs, ys, indexing="xy")
print("xy shape:", gxy.shape)
points = torch.stack([gx.flatten(), gy.flatten()], dim=1)
print("points:", points.shape, points[:3])

centres = torch.tensor([[0.0, 0.0], [0.5, 1.5], [-1.0, 2.0]], requires_grad=True)
d = torch.cdist(points, centres)
print("distances:", d.shape, d.grad_fn.name())
print(d[:4])
nearest = d.argmin(dim=1)
print("nearest centre:", nearest.tolist())
print("counts:", torch.bincount(nearest, minlength=3))
print("unique:", torch.unique(nearest, return_counts=True))

# the pull on each centre from the points nearest to it
loss = d.gather(1, nearest.unsqueeze(1)).pow(2).sum()
loss.backward()
print("loss:", loss.item())
print("grad on centres:", centres.grad)

pair = torch.cdist(centres, centres)
print("pairwise:", pair)
print("diagonal:", pair.diagonal(), "off-diagonal:", torch.diagonal(pair, 1))
print("median distance:", d.median(), "per centre:", d.median(dim=0).values)

A = torch.tensor([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]], requires_grad=True)
print("det:", torch.det(A), "trace:", torch.trace(A))
Ainv = torch.linalg.inv(A)
print("A @ inv(A) is I:", torch.allclose(A @ Ainv, torch.eye(3), atol=1e-6))
torch.det(A).backward()
print("d det / dA:", [[round(x, 4) for x in row] for row in A.grad.tolist()])
print("equals det * inv(A)^T:", torch.allclose(A.grad, torch.det(A) * Ainv.T))

u = torch.tensor([1.0, 0.0, 0.0])
v = torch.tensor([0.0, 1.0, 0.0])
print("cross:", torch.linalg.cross(u, v), torch.cross(v, u, dim=0))
print("kron:", torch.kron(torch.eye(2), torch.tensor([[1.0, 2.0], [3.0, 4.0]])))
print("tensordot:", torch.tensordot(A.detach(), torch.ones(3, 2), dims=1))
print("inner:", torch.inner(u + v, v), "dist:", torch.dist(u, v), torch.dist(u, v, p=1))
print("cartesian:", torch.cartesian_prod(torch.tensor([1, 2]), torch.tensor([3, 4, 5])))
print("diag_embed:", torch.diag_embed(torch.tensor([1.0, 2.0])))
print("nonzero:", torch.nonzero(pair > 1.2))
print("buckets:", torch.bucketize(torch.tensor([0.1, 0.9, 1.7]), torch.tensor([0.5, 1.0, 1.5])))
