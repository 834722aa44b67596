"""Reductions: sum, mean, max/min (and amax, argmax ...), prod, var, std, norm, renorm, logsumexp."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from vizgrad import _dtype
from vizgrad.ops.arith import maximum, minimum
from vizgrad.ops.base import Op, _arr, _dims, _keepdim_shape, public, to
from vizgrad.ops.index import _where, unbind
from vizgrad.ops.shape import expand, reshape, squeeze
from vizgrad.ops.unary import abs, exp, log, sqrt
from vizgrad.tensor import Tensor, _norm_dim


_SUM_SAVED = {"self_sym_sizes": "sizes:0"}
_SUM_DIM_SAVED = {"dim": "attr:axes", "keepdim": "attr:keepdim", "self_sym_sizes": "sizes:0"}
_MEAN_SAVED = {"self_sym_numel": "numel:0", "self_sym_sizes": "sizes:0"}
_MEAN_DIM_SAVED = dict(_MEAN_SAVED, dim="attr:axes", keepdim="attr:keepdim")


class Sum(Op):
    torch_name, symbol, latex, saves = "SumBackward0", "Σ", ("1",), False

    @property
    def saved_fields(self):  # SumBackward1 (a dim given) also keeps the dims
        return _SUM_SAVED if self.torch_name == "SumBackward0" else _SUM_DIM_SAVED
    latex_name = r"\sum"

    def forward(ctx, a, dim, keepdim):
        ctx.in_shape, ctx.keepdim = np.shape(a), keepdim
        ctx.axes = _dims(dim, np.ndim(a))
        if dim is not None:
            ctx.torch_name = "SumBackward1"
        s = np.sum(a, axis=ctx.axes, keepdims=keepdim)
        if np.result_type(a).kind in "bi":
            s = s.astype(np.int64)  # torch sums bools/ints into int64
        return s

    def backward(ctx, g, out, a):
        return (expand(g.reshape(_keepdim_shape(ctx.in_shape, ctx.axes)) if isinstance(g, Tensor)
                       else np.reshape(g, _keepdim_shape(ctx.in_shape, ctx.axes)), ctx.in_shape),)


class Mean(Op):
    torch_name, symbol, latex, saves = "MeanBackward0", "mean", (r"\frac{1}{n}",), False

    @property
    def saved_fields(self):
        return _MEAN_SAVED if self.torch_name == "MeanBackward0" else _MEAN_DIM_SAVED

    def forward(ctx, a, dim, keepdim):
        if np.result_type(a).kind != "f":
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point "
                               f"or complex dtype. Got: {_dtype.from_numpy_dtype(np.result_type(a)).tensor_type[:-6]}")
        ctx.in_shape, ctx.keepdim = np.shape(a), keepdim
        ctx.axes = _dims(dim, np.ndim(a))
        ctx.n = int(np.prod([ctx.in_shape[i] for i in ctx.axes])) if ctx.axes else 1
        if dim is not None:
            ctx.torch_name = "MeanBackward1"
        return np.mean(a, axis=ctx.axes, keepdims=keepdim, dtype=np.result_type(a))

    def backward(ctx, g, out, a):
        shape = _keepdim_shape(ctx.in_shape, ctx.axes)
        g = g.reshape(shape) if isinstance(g, Tensor) else np.reshape(g, shape)
        return (expand(g / ctx.n, ctx.in_shape),)


class MaxMin(Op):
    """max()/min() over all elements (ties share the gradient) or along a dim (the arg index gets it)."""
    torch_name, symbol, latex = "MaxBackward1", "max", (r"[a = \max a]",)

    @property
    def saved_fields(self):  # all elements: the result and self; along a dim: the indices
        if self.torch_name.endswith("1"):
            return {"result": "result", "self": "input:0"}
        return {"dim": "attr:dim", "indices": "const:indices", "keepdim": "attr:keepdim", "self_sym_sizes": "sizes:0"}

    result_params = ("dim", "keepdim", "largest")

    def forward(ctx, a, dim, keepdim, largest):
        a = np.asarray(a)
        ctx.in_shape, ctx.largest = a.shape, largest
        if a.size == 0:
            raise RuntimeError("max(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        if dim is None:
            ctx.torch_name = "MaxBackward1" if largest else "MinBackward1"
            out = a.max() if largest else a.min()
            hit = a == out
            ctx.weight = (hit / hit.sum()).astype(a.dtype)
            return out
        ctx.torch_name = "MaxBackward0" if largest else "MinBackward0"
        d = _norm_dim(dim, a.ndim)
        idx = np.expand_dims((a.argmax if largest else a.argmin)(axis=d), d)
        ctx.indices = idx if keepdim else np.squeeze(idx, d)
        onehot = np.zeros(a.shape, dtype=a.dtype)
        np.put_along_axis(onehot, idx, 1, axis=d)
        ctx.weight, ctx.dim, ctx.keepdim = onehot, d, keepdim
        out = np.take_along_axis(a, idx, axis=d)
        return out if keepdim else np.squeeze(out, d)

    def backward(ctx, g, out, a):
        if getattr(ctx, "dim", None) is not None and not ctx.keepdim:
            g = g.unsqueeze(ctx.dim) if isinstance(g, Tensor) else np.expand_dims(g, ctx.dim)
        return (g * ctx.weight,)

    def label(self):
        return "max" if self.largest else "min"

    @property
    def latex_name(self):
        return r"\max" if self.largest else r"\min"


class minmax_result(namedtuple("minmax_result", ["values", "indices"])):
    """(values, indices) of max/min along a dim; prints as torch.return_types.max(...)."""
    __slots__ = ()
    op = "max"

    def __repr__(self):
        return f"torch.return_types.{self.op}(\nvalues={self.values!r},\nindices={self.indices!r})"


class _min_result(minmax_result):
    __slots__ = ()
    op = "min"


@public(method=True)
def sum(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = to(input, dtype)
    return Sum.apply(input, dim=dim, keepdim=keepdim)


@public(method=True)
def mean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = to(input, dtype)
    return Mean.apply(input, dim=dim, keepdim=keepdim)


def _minmax(input, dim, keepdim, largest):
    if isinstance(dim, Tensor):  # torch.max(a, b) is maximum
        return (maximum if largest else minimum)(input, dim)
    out = MaxMin.apply(input, dim=dim, keepdim=keepdim, largest=largest)
    if dim is None:
        return out
    return (minmax_result if largest else _min_result)(
        out, Tensor._make(out.grad_fn.indices if out.grad_fn is not None else _argext(input._data, dim, keepdim, largest)))


def _argext(a, dim, keepdim, largest):
    d = _norm_dim(dim, np.ndim(a))
    idx = (np.argmax if largest else np.argmin)(a, axis=d)
    return np.expand_dims(idx, d) if keepdim else idx


@public(method=True)
def max(input, dim=None, keepdim=False):
    return _minmax(input, dim, keepdim, True)


@public(method=True)
def min(input, dim=None, keepdim=False):
    return _minmax(input, dim, keepdim, False)


@public(method=True)
def amax(input, dim=None, keepdim=False):
    return max(input, dim, keepdim)[0] if dim is not None else max(input)


@public(method=True)
def amin(input, dim=None, keepdim=False):
    return min(input, dim, keepdim)[0] if dim is not None else min(input)


@public(method=True)
def argmax(input, dim=None, keepdim=False):
    if dim is None:
        return Tensor._make(np.int64(np.argmax(input._data)))
    return Tensor._make(_argext(input._data, dim, keepdim, True))


@public(method=True)
def argmin(input, dim=None, keepdim=False):
    if dim is None:
        return Tensor._make(np.int64(np.argmin(input._data)))
    return Tensor._make(_argext(input._data, dim, keepdim, False))


@public(method=True)
def prod(input, dim=None, keepdim=False):
    """Product as exp(sum(log|x|)) would lose signs; compose from mul so every element keeps its grad."""
    if dim is None:
        flat = reshape(input, (-1,))
        out = flat[0] if flat.shape[0] else Tensor._make(input._data.dtype.type(1))
        for i in range(1, flat.shape[0]):
            out = out * flat[i]
        return out
    parts = unbind(input, dim)
    out = parts[0]
    for p in parts[1:]:
        out = out * p
    return out.unsqueeze(dim) if keepdim else out


@public(method=True)
def var(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    c = (1 if unbiased else 0) if correction is None else correction
    m = mean(input, dim, keepdim=True)
    n = input._data.size if dim is None else int(np.prod([input.shape[i] for i in _dims(dim, input.dim())]))
    return sum((input - m) ** 2, dim, keepdim) / (n - c)


@public(method=True)
def std(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


class Norm(Op):
    """The 2-norm; its gradient a / ‖a‖ is taken as 0 at a = 0, as torch does (not 0/0)."""
    torch_name, symbol, latex, needs_out = "LinalgVectorNormBackward0", "‖·‖", (r"\frac{a}{\lVert a \rVert}",), True
    saved_fields = {"dim": lambda n: None if n.dim is None else n.axes, "keepdim": "attr:keepdim", "ord": 2,
                    "result": "result", "self": "input:0"}
    result_params = ("dim", "keepdim")
    latex_name = "norm"

    def forward(ctx, a, dim, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim, ctx.dim = np.shape(a), _dims(dim, np.ndim(a)), keepdim, dim
        return np.sqrt(np.sum(np.square(a), axis=ctx.axes, keepdims=keepdim))

    def backward(ctx, g, out, a):
        shape = _keepdim_shape(ctx.in_shape, ctx.axes)
        if not ctx.keepdim:
            g, out = g.reshape(shape), out.reshape(shape)
        safe = _where(_arr(out) == 0, 1, out)
        return (_where(_arr(out) == 0, 0, g * a / safe),)


@public(method=True)
def norm(input, p=2, dim=None, keepdim=False):
    if p == 2 or p == "fro":
        return Norm.apply(input, dim=dim, keepdim=keepdim)
    if p == 1:
        return sum(abs(input), dim, keepdim)
    return sum(abs(input) ** p, dim, keepdim) ** (1.0 / p)


class Renorm(Op):
    """Each slice along dim scaled down to p-norm maxnorm where its norm exceeds it (by
    maxnorm / (norm + 1e-7), as torch); the others unchanged."""
    torch_name, symbol, latex = "RenormBackward0", "renorm", (r"\frac{m}{\lVert a \rVert}(1 - \hat a \hat a^{\top})",)
    saved_fields = {"dim": "attr:dim", "maxnorm": "attr:maxnorm", "p": "attr:p", "self": "input:0"}

    def forward(ctx, a, p, dim, maxnorm):
        ctx.p, ctx.dim, ctx.maxnorm = p, dim, maxnorm
        ctx.axes = tuple(d for d in range(np.ndim(a)) if d != dim)
        norm = np.sum(np.abs(a) ** p, axis=ctx.axes, keepdims=True) ** (1.0 / p)
        factor = np.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0).astype(np.result_type(a))
        return a * factor

    def backward(ctx, g, out, a):
        # torch's renorm_backward: where norm > maxnorm, f g - f/(norm + 1e-7) * d‖a‖ * sum(a g),
        # with f = maxnorm / (norm + 1e-7) and d‖a‖ = a |a|^(p-2) / norm^(p-1); elsewhere g.
        # One formula for arrays and Tensors: arrays go through it as constant Tensors.
        wrap = not isinstance(a, Tensor)
        ta, tg = (Tensor._make(np.asarray(a)), Tensor._make(np.asarray(g))) if wrap else (a, g)
        p, axes = ctx.p, ctx.axes
        norm = sum(abs(ta) ** p, axes, keepdim=True) ** (1.0 / p)
        big = _arr(norm) > ctx.maxnorm
        inv = 1 / (norm + 1e-7)
        factor = inv * ctx.maxnorm
        dot = sum(ta * tg, axes, keepdim=True)
        dnorm = ta * abs(ta) ** (p - 2) / norm ** (p - 1) if p != 2 else ta / norm
        res = _where(big, factor * tg - (factor * inv) * (dnorm * dot), tg)
        return (res._data if wrap else res,)


@public(method=True)
def renorm(input, p, dim, maxnorm):
    if input.dim() < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} dimensions")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    return Renorm.apply(input, p=p, dim=_norm_dim(dim, input.dim()), maxnorm=maxnorm)


@public(method=True)
def logsumexp(input, dim, keepdim=False):
    m = Tensor._make(np.max(input._data, axis=dim, keepdims=True))
    out = log(sum(exp(input - m), dim, keepdim=True)) + m
    return out if keepdim else squeeze(out, dim)

