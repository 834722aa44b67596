"""Normalisation: batch_norm (NativeBatchNormBackward0) and layer_norm (NativeLayerNormBackward0),
one node each over (x, weight, bias) as torch records them.

Both normalise x over some axes with the biased variance,
    xhat = (x - mean) / sqrt(var + eps),    out = xhat * weight + bias,
batch norm per channel over (N, *spatial), layer norm per sample over the trailing
`normalized_shape`. With M the number of elements averaged, the input gradient is
    dx = invstd / M * (M * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)),   dxhat = g * weight
(in eval mode batch norm uses the running statistics, constants: dx = g * weight * invstd).
With create_graph=True the node differentiates its composite form (mean, var, sqrt ... as
recorded ops), as the conv nodes do.
"""
from __future__ import annotations

import math

import numpy as np

from vizgrad._grad_mode import no_grad
from vizgrad.ops.base import Op
from vizgrad.ops.conv import _composite_grads
from vizgrad.ops.reduce import mean
from vizgrad.ops.shape import reshape
from vizgrad.ops.unary import sqrt
from vizgrad.tensor import Tensor


class _Normalize:
    """The shared arithmetic: axes reduced, the per-axis shape of weight/bias broadcast."""

    def _normalize(ctx, x, axes, eps, stats=None):
        if stats is None:
            mu = x.mean(axis=axes, keepdims=True)
            var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
        else:
            mu, var = stats
        ctx.invstd = (1 / np.sqrt(var + eps)).astype(x.dtype)
        ctx.xhat = ((x - mu) * ctx.invstd).astype(x.dtype)
        return mu, var

    def _grads(ctx, g, affine_shape, w, axes, m, batch_stats):
        xhat, invstd = ctx.xhat, ctx.invstd
        need = [t._requires_grad for t in ctx.inputs]
        gxhat = g * w.reshape(affine_shape) if w is not None else g
        gx = None
        if need[0]:
            if batch_stats:
                gx = invstd / m * (m * gxhat - gxhat.sum(axis=axes, keepdims=True)
                                   - xhat * (gxhat * xhat).sum(axis=axes, keepdims=True))
            else:
                gx = gxhat * invstd
        other = tuple(i for i in range(g.ndim) if affine_shape[i] == 1)  # the axes weight is shared over
        grads = [gx]
        if w is not None:
            grads.append((g * xhat).sum(axis=other).reshape(w.shape) if need[1] else None)
        if len(ctx.inputs) == (3 if w is not None else 2):
            grads.append(g.sum(axis=other).reshape(ctx.inputs[-1]._data.shape) if need[-1] else None)
        return tuple(grads)


class BatchNorm(Op, _Normalize):
    torch_name, symbol, latex = "NativeBatchNormBackward0", "batchnorm", (r"\partial\,\mathrm{BN}", r"\hat x", "1")
    saved_fields = {"eps": "attr:eps", "input": "input:0", "training": "attr:batch_stats",
                    "weight": lambda n: n.inputs[1] if n.affine[0] else None,
                    "result1": lambda n: _batch_stat(n, n.mu), "result2": lambda n: _batch_stat(n, n.invstd),
                    "running_mean": lambda n: n.running[0], "running_var": lambda n: n.running[1]}

    def forward(ctx, x, *wb, stats, eps, affine, running=(None, None)):
        # x (N, C, *spatial); stats: None (batch statistics) or the running (mean, var) as (1, C, 1...);
        # running: the buffers themselves (torch's node keeps them; they are not read here)
        ctx.running = running
        ctx.axes = (0,) + tuple(range(2, x.ndim))
        ctx.shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        ctx.m = x.size // x.shape[1]
        ctx.eps, ctx.affine, ctx.batch_stats = eps, affine, stats is None
        ctx.mu, ctx.var = ctx._normalize(x, ctx.axes, eps, stats)
        out = ctx.xhat
        if affine[0]:
            out = out * wb[0].reshape(ctx.shape)
        if affine[1]:
            out = out + wb[-1].reshape(ctx.shape)
        return out.astype(x.dtype, copy=False)

    def local_latex(self):  # inputs (x, [weight], [bias])
        return tuple(rule for rule, present in zip(self.latex, (True,) + tuple(self.affine)) if present)

    def backward(ctx, g, out, x, *wb):
        if isinstance(g, Tensor):
            return _composite_grads(lambda *ts: _bn_composite(ctx, *ts), ctx.inputs, g)
        w = wb[0] if ctx.affine[0] else None
        return ctx._grads(g, ctx.shape, w, ctx.axes, ctx.m, ctx.batch_stats)


def _batch_stat(node, stat):
    """torch's saved batch mean / 1/std, per channel (empty in eval mode, where none was computed)."""
    return Tensor._make(stat.reshape(-1) if node.batch_stats else np.zeros(0, stat.dtype))


def _affine(ctx, out, ts, shape):
    i = 1
    if ctx.affine[0]:
        out = out * reshape(ts[i], shape)
        i += 1
    if ctx.affine[1]:
        out = out + reshape(ts[i], shape)
    return out


def _bn_composite(ctx, x, *wb):
    if ctx.batch_stats:
        mu = mean(x, ctx.axes, keepdim=True)
        var = mean((x - mu) ** 2, ctx.axes, keepdim=True)
        xhat = (x - mu) / sqrt(var + ctx.eps)
    else:
        xhat = (x - Tensor._make(ctx.mu)) * Tensor._make(ctx.invstd)
    return _affine(ctx, xhat, (x,) + wb, ctx.shape)


class LayerNorm(BatchNorm):
    torch_name, symbol = "NativeLayerNormBackward0", "layernorm"
    saved_fields = {"bias": lambda n: n.inputs[-1] if n.affine[1] else None, "input": "input:0",
                    "normalized_shape": lambda n: tuple(n.inputs[0]._data.shape[-len(n.axes):]),
                    "weight": lambda n: n.inputs[1] if n.affine[0] else None,
                    "result1": lambda n: Tensor._make(n.mu), "result2": lambda n: Tensor._make(n.invstd)}
    latex = (r"\partial\,\mathrm{LN}", r"\hat x", "1")

    def forward(ctx, x, *wb, n, eps, affine):
        # normalise over the last n axes; weight/bias have those axes' shape
        ctx.axes = tuple(range(x.ndim - n, x.ndim))
        ctx.shape = (1,) * (x.ndim - n) + x.shape[x.ndim - n:]
        ctx.m = math.prod(x.shape[x.ndim - n:])
        ctx.eps, ctx.affine, ctx.batch_stats = eps, affine, True
        ctx.mu, _ = ctx._normalize(x, ctx.axes, eps)
        out = ctx.xhat
        if affine[0]:
            out = out * wb[0]
        if affine[1]:
            out = out + wb[-1]
        return out.astype(x.dtype, copy=False)


def _check_affine(t, c, name):
    if t is not None and t.numel() != c:
        raise RuntimeError(f"running_mean should contain {c} elements not {t.numel()}" if name == "running_mean"
                           else f"{name} should contain {c} elements not {t.numel()}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """F.batch_norm. In training the batch statistics normalise and update the running buffers in
    place: running = (1 - momentum) running + momentum stat, with the unbiased variance."""
    if input.dim() < 2:
        raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")
    c = input.shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"),
                    (bias, "bias")):
        _check_affine(t, c, name)
    if training:
        m = input.numel() // c
        if m <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{list(input.shape)}")
    ts = tuple(t for t in (weight, bias) if t is not None)
    affine = (weight is not None, bias is not None)
    shape = (1, c) + (1,) * (input.dim() - 2)
    stats = None
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        stats = (np.asarray(running_mean._data).reshape(shape), np.asarray(running_var._data).reshape(shape))
    out = BatchNorm.apply(input, *ts, stats=stats, eps=eps, affine=affine, running=(running_mean, running_var))
    if training and running_mean is not None:
        node = out.grad_fn
        if node is not None:
            mu, var = node.mu, node.var
        else:  # no graph recorded: the statistics, computed again
            probe = object.__new__(BatchNorm)
            BatchNorm.forward(probe, np.asarray(input._data), *[np.asarray(t._data) for t in ts], stats=None,
                              eps=eps, affine=affine)
            mu, var = probe.mu, probe.var
        with no_grad():
            unbiased = var.reshape(-1) * (m / (m - 1))
            mom = 0.0 if momentum is None else momentum
            _blend(running_mean, mu.reshape(-1), mom)
            _blend(running_var, unbiased, mom)
    return out


def _blend(buf: Tensor, stat, momentum):
    arr = buf._ensure_array()
    arr[...] = (1 - momentum) * arr + momentum * stat
    buf._version += 1


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    n = len(shape)
    if tuple(input.shape[input.dim() - n:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape [*, "
                           f"{', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    ts = tuple(t for t in (weight, bias) if t is not None)
    return LayerNorm.apply(input, *ts, n=n, eps=eps, affine=(weight is not None, bias is not None))
