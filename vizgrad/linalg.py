"""torch.linalg: the names PyTorch code reaches for, over the ops in vizgrad/ops/linalg.py.

    import vizgrad as torch
    torch.linalg.inv(A), torch.linalg.det(A), torch.linalg.cross(a, b)   # dim=-1 by default
"""
from __future__ import annotations

from vizgrad.ops.linalg import LinAlgError, det, inverse as inv, linalg_cross as cross, matmul
from vizgrad.ops.reduce import norm as _norm

__all__ = ["LinAlgError", "cross", "det", "inv", "matmul", "norm"]


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """The 2-norm of a vector or the Frobenius norm of a matrix (ord None); other ords as Tensor.norm(p)."""
    if dtype is not None:
        A = A.to(dtype)
    return _norm(A, 2 if ord is None else ord, dim, keepdim)
