"""Indexing, joining and selecting: x[key] (and its scatter IndexPut), cat, stack, unbind,
split, chunk, where (masked_fill: select.py)."""
from __future__ import annotations

import builtins

import numpy as np

from vizgrad import _dtype
from vizgrad._grad_mode import STATE
from vizgrad.ops.base import Op, _arr, _cast, _pair, bind, public
from vizgrad.ops.shape import expand
from vizgrad.tensor import INPLACE, Tensor, _norm_dim


def _index_key(key):
    """Tensors and lists inside an index become numpy arrays."""
    if isinstance(key, tuple):
        return tuple(_index_key(k) for k in key)
    if isinstance(key, Tensor):
        return np.asarray(key._data)
    if isinstance(key, list):
        return np.asarray([_arr(k) for k in key])
    return key


def _is_basic(key) -> bool:
    ks = key if isinstance(key, tuple) else (key,)
    return builtins.all(k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice)) for k in ks)


def _basic_index_name(key, shape) -> str:
    """torch applies a basic index step by step; grad_fn is the last step that does something."""
    if not isinstance(key, tuple):
        return ("AliasBackward0" if key is Ellipsis else "UnsqueezeBackward0" if key is None else
                "SliceBackward0" if isinstance(key, slice) else "SelectBackward0")
    name, d = "AliasBackward0", 0
    used = len([k for k in key if k is not None and k is not Ellipsis])
    for k in key:
        if k is Ellipsis:
            d += len(shape) - used
        elif k is None:
            name = "UnsqueezeBackward0"
        else:
            if not isinstance(k, slice):
                name = "SelectBackward0"
            elif d < len(shape) and k.indices(shape[d]) != (0, shape[d], 1):  # a full slice is skipped
                name = "SliceBackward0"
            d += 1
    return name


def _scatter_array(g, shape, key, dtype):
    z = np.zeros(shape, dtype=dtype)
    if _is_basic(key):
        z[key] = g
    else:
        np.add.at(z, key, g)  # repeated indices accumulate
    return z


class Index(Op):
    torch_name, symbol, latex, saves = "IndexBackward0", "[ ]", ("1",), True

    def forward(ctx, a, key):
        ctx.key, ctx.in_shape, ctx.dtype = key, np.shape(a), np.result_type(a)
        if _is_basic(key):
            ctx.torch_name = _basic_index_name(key, ctx.in_shape)
            ctx.saves = False  # select/slice keep only sizes: torch allows a second backward
        try:
            return a[key]
        except IndexError as e:
            raise IndexError(str(e).replace("for axis", "for dimension")) from None

    def backward(ctx, g, out, a):
        if isinstance(g, Tensor):
            return (IndexPut.apply(g, shape=ctx.in_shape, key=ctx.key),)
        return (_scatter_array(g, ctx.in_shape, ctx.key, ctx.dtype),)

    def label(self):
        return "[" + _fmt_key(self.key) + "]"


class IndexPut(Op):
    """Scatter-add into zeros: the backward of indexing, as a differentiable op (higher order)."""
    torch_name, symbol, latex, saves = "IndexPutBackward0", "scatter", ("1",), True

    def forward(ctx, g, shape, key):
        ctx.key = key
        return _scatter_array(g, shape, key, np.result_type(g))

    def backward(ctx, g, out, a):
        return (g[ctx.key],)


def _fmt_key(key) -> str:
    ks = key if isinstance(key, tuple) else (key,)
    parts = []
    for k in ks:
        if isinstance(k, slice):
            parts.append(f"{'' if k.start is None else k.start}:{'' if k.stop is None else k.stop}"
                         + ("" if k.step is None else f":{k.step}"))
        elif k is None:
            parts.append("None")
        elif k is Ellipsis:
            parts.append("...")
        elif isinstance(k, np.ndarray):
            parts.append(str(k.tolist()) if k.size <= 6 else f"<{k.dtype} {list(k.shape)}>")
        else:
            parts.append(str(k))
    return ", ".join(parts)


@bind("__getitem__")
def getitem(input, key):
    return Index.apply(input, key=_index_key(key))


class Cat(Op):
    torch_name, symbol, latex, saves = "CatBackward0", "cat", (), False
    saved_fields = {"dim": "attr:dim"}

    def forward(ctx, *arrays, dim):
        arrays = [np.asarray(a) for a in arrays]
        ctx.dim = _norm_dim(dim, arrays[0].ndim)
        ctx.sizes = [a.shape[ctx.dim] for a in arrays]
        return np.concatenate(arrays, axis=ctx.dim)

    def backward(ctx, g, out, *inputs):
        grads, start = [], 0
        for n in ctx.sizes:
            grads.append(g[(slice(None),) * ctx.dim + (slice(start, start + n),)])
            start += n
        return tuple(grads)

    def local_latex(self):
        return ("1",) * len(self.sizes)


class Stack(Op):
    torch_name, symbol, latex, saves = "StackBackward0", "stack", (), False
    saved_fields = {"dim": "attr:dim"}

    def forward(ctx, *arrays, dim):
        ctx.n = len(arrays)
        ctx.dim = _norm_dim(dim, np.ndim(arrays[0]) + 1)
        return np.stack(arrays, axis=ctx.dim)

    def backward(ctx, g, out, *inputs):
        return tuple(g[(slice(None),) * ctx.dim + (i,)] for i in range(ctx.n))

    def local_latex(self):
        return ("1",) * self.n


class Where(Op):
    torch_name, symbol, latex = "WhereBackward0", "where", (r"[c]", r"[\lnot c]")
    saved_fields = {"condition": "const:cond"}
    elementwise = True

    def forward(ctx, a, b, cond):
        ctx.cond = cond
        return np.where(cond, a, b)

    def backward(ctx, g, out, a, b):
        return _where(ctx.cond, g, 0), _where(ctx.cond, 0, g)


def _cat_inputs(tensors):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    d = _dtype.result_type(tensors)
    return [_cast(t, d) for t in tensors]


@public("concat", "concatenate")
def cat(tensors, dim=0):
    ts = [t for t in _cat_inputs(tensors) if not (t.dim() == 1 and t.shape[0] == 0)] or list(tensors)[:1]
    d = _norm_dim(dim, ts[0].dim())
    for i, t in enumerate(ts[1:], 1):  # torch's messages for mismatched inputs
        if t.dim() != ts[0].dim():
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ts[0].dim()} and {t.dim()}")
        for k, (n0, n) in enumerate(zip(ts[0].shape, t.shape)):
            if k != d and n0 != n:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size {n0} but "
                                   f"got size {n} for tensor number {i} in the list.")
    try:
        return Cat.apply(*ts, dim=dim)
    except ValueError as e:
        raise RuntimeError(f"torch.cat(): {e}") from None


concat = concatenate = cat


@public()
def stack(tensors, dim=0):
    ts = _cat_inputs(tensors)
    if len({t.shape for t in ts}) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ts[0].shape)} at entry 0 "
                           f"and {list(next(t.shape for t in ts if t.shape != ts[0].shape))} at entry "
                           f"{next(i for i, t in enumerate(ts) if t.shape != ts[0].shape)}")
    return Stack.apply(*ts, dim=dim)


@public(method=True)
def unbind(input, dim=0):
    d = _norm_dim(dim, input.dim())
    return _named(tuple(input[(slice(None),) * d + (i,)] for i in range(input.shape[d])), "UnbindBackward0")


def _named(parts: tuple, torch_name: str) -> tuple:
    """torch records split/chunk/unbind as one multi-output node; here each part is its own
    index node, named as torch names that node (SplitBackward0 ...)."""
    for p in parts:
        if p.grad_fn is not None:
            p.grad_fn.torch_name = torch_name
    return parts


@public(method=True)
def split(input, split_size, dim=0):
    d = _norm_dim(dim, input.dim())
    n = input.shape[d]
    sizes = [split_size] * (n // split_size) + ([n % split_size] if n % split_size else []) \
        if isinstance(split_size, int) else list(split_size)
    out, start = [], 0
    for s in sizes:
        out.append(input[(slice(None),) * d + (slice(start, start + s),)])
        start += s
    return _named(tuple(out), "SplitBackward0" if isinstance(split_size, int) else "SplitWithSizesBackward0")


@public(method=True)
def chunk(input, chunks, dim=0):
    n = input.shape[_norm_dim(dim, input.dim())]
    return split(input, -(-n // chunks), dim)


@public()
def where(condition, input=None, other=None):
    if input is None:
        return tuple(Tensor._make(i) for i in np.nonzero(_arr(condition)))
    cond = np.asarray(_arr(condition)).astype(bool)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("where(): expected at least one Tensor argument")
    a, b = _pair(input, other)
    return Where.apply(a, b, cond=cond)


def _where(c, a, b):
    """`where` for backward formulas: a recorded op when either value is a Tensor, else numpy's."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return where(c, a, b)
    return np.where(c, a, b)


@bind("__setitem__")
def setitem(self, key, value):
    """x[key] = value: in place; with grad, x is rebased onto a where(mask, scattered value, old x) node."""
    key = _index_key(key)
    if STATE.grad_enabled and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)):
        if self._requires_grad and self.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        mask = np.zeros(self.shape, dtype=bool)
        mask[key] = True
        v = value if isinstance(value, Tensor) else Tensor._make(np.asarray(value, self._data.dtype))
        full = Tensor._make(np.zeros(self.shape, self._data.dtype))
        scattered = expand(v, full[key].shape) if v.shape != full[key].shape else v
        placed = IndexPut.apply(scattered, shape=tuple(self.shape), key=key)
        res = where(Tensor._make(mask), placed, Tensor._make(self._data) if not self._requires_grad else
                    _shadow(self))
        self._data, self.grad_fn, self._requires_grad = res._data, res.grad_fn, True
    else:
        self._ensure_array()[key] = _arr(value)
    self._version += 1
    INPLACE[0] += 1


def _shadow(t: Tensor) -> Tensor:
    """A new handle on t's current value and history (used when t itself is about to be rebased)."""
    s = Tensor._make(t._data, t._requires_grad)
    s.grad_fn, s.name = t.grad_fn, t.name
    return s
