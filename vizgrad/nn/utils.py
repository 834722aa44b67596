"""torch.nn.utils: gradient clipping and flattening parameters to one vector.

    loss.backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)   # the norm before clipping
    opt.step()
"""
from __future__ import annotations

import math

import numpy as np

from vizgrad.tensor import Tensor


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Scale all gradients together so that their joint norm is at most max_norm (as torch: by
    max_norm / (norm + 1e-6), capped at 1). Returns the joint norm before clipping."""
    params = _grads(parameters)
    if not params:
        return Tensor._make(np.float32(0.0))
    norm_type = float(norm_type)
    dt = params[0].grad._data.dtype
    if math.isinf(norm_type):
        norms = [np.max(np.abs(p.grad._data)) for p in params]
        total = dt.type(max(norms))
    else:  # the norm of the per-parameter norms, as torch computes it
        norms = np.array([np.sum(np.abs(np.asarray(p.grad._data, np.float64)) ** norm_type) ** (1 / norm_type)
                          for p in params], dtype=dt)
        total = dt.type(np.sum(norms.astype(np.float64) ** norm_type) ** (1 / norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    coef = min(dt.type(max_norm) / (total + dt.type(1e-6)), dt.type(1.0))
    for p in params:
        g = p.grad._ensure_array()
        g *= coef
    return Tensor._make(total)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    for p in _grads(parameters):
        g = p.grad._ensure_array()
        np.clip(g, -clip_value, clip_value, out=g)


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and concatenated (recorded: a graph back to each parameter)."""
    from vizgrad.ops import cat
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of vec into the parameters' data (no graph, as torch)."""
    start = 0
    for p in parameters:
        n = p.numel()
        p._ensure_array()[...] = np.asarray(vec._data)[start:start + n].reshape(p.shape)
        p._version += 1
        start += n


__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]
