"""Ops along one dimension: gather, scatter, scatter_add, index_add, index_select, sort, argsort,
topk, cumsum, flip, roll, repeat (tile), masked_fill; and their in-place forms (x.scatter_(...));
cumprod, cummax/cummin, kthvalue, median, masked_select, index_fill; and the selections without a
gradient: nonzero, count_nonzero, unique, bincount, searchsorted, bucketize, histc.

Index-based ops share one idea: an index tensor of shape S names, for every position p of S, the
element of `self` at p with coordinate `dim` replaced by index[p]. `_along(index, dim)` builds
that advanced-index key once (numpy grids over S), so gather is `a[key]`, scatter is
`out[key] = src[:S]`, scatter_add is `np.add.at(out, key, src[:S])`, and each op's backward is
another of the three: gather <-> scatter_add are each other's adjoints.

    x.gather(1, idx)            # GatherBackward0        out[i][j] = x[i][idx[i][j]]
    z.scatter_add(1, idx, src)  # ScatterAddBackward0    z[i][idx[i][j]] += src[i][j]
"""
from __future__ import annotations

import numpy as np

from vizgrad.ops.base import Op, _arr, _fmt_num, bind, public
from vizgrad.ops.index import _where
from vizgrad.ops.reduce import minmax_result, sum as sum_
from vizgrad.tensor import Tensor, _norm_dim, _size


def _index_array(index, name="index") -> np.ndarray:
    idx = np.asarray(_arr(index))
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    return idx.astype(np.int64, copy=False)


def _along(idx: np.ndarray, dim: int, shape: tuple, what: str) -> tuple:
    """The advanced-index key of `idx` along `dim` into an array of `shape` (see the module doc)."""
    if idx.ndim != len(shape) and not (idx.ndim <= 1 and len(shape) <= 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as {what} tensor")
    n = shape[dim] if shape else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)].flat[0]
        raise RuntimeError(f"index {int(bad)} is out of bounds for dimension {dim} with size {n}")
    if not shape:
        return ()
    grids = list(np.indices(idx.shape, sparse=True))
    grids[dim] = idx % n
    return tuple(grids)


def _head(src, shape):
    """src[:shape[0], :shape[1], ...]: the part of src an index of `shape` reads (torch allows src larger)."""
    return src[tuple(slice(0, s) for s in shape)] if np.ndim(src) else src


# -- gather / scatter ----------------------------------------------------------------------------
class Gather(Op):
    torch_name, symbol, latex = "GatherBackward0", "gather", ("1",)
    saved_fields = {"dim": "attr:dim", "index": "const:idx", "self": "input:0", "sparse_grad": False}

    def forward(ctx, a, dim, idx):
        ctx.dim, ctx.idx, ctx.in_shape = dim, idx, np.shape(a)
        ctx.key = _along(idx, dim, np.shape(a), "input")
        return np.asarray(a)[ctx.key] if ctx.key else a

    def backward(ctx, g, out, a):
        return (_scatter_add_into(_zeros_like(g, ctx.in_shape), ctx.dim, ctx.idx, g),)

    def saved(self, k):
        return False  # only the index and sizes are kept, as torch


class Scatter(Op):
    """out = self with out[key] = src (ScatterBackward0); a number as src is ScatterBackward1."""
    torch_name, symbol, latex = "ScatterBackward0", "scatter", ("[\\text{kept}]", "1")
    saved_fields = {"dim": "attr:dim", "index": "const:idx"}

    def forward(ctx, a, src, dim, idx):
        ctx.dim, ctx.idx = dim, idx
        ctx.key = _along(idx, dim, np.shape(a), "self")
        out = np.array(a)
        out[ctx.key] = _head(src, idx.shape)
        return out

    def backward(ctx, g, out, a, src):
        keep = np.ones(np.shape(_arr(g)), dtype=bool)
        keep[ctx.key] = False
        return _where(keep, g, 0), _gather(g, ctx.dim, ctx.idx)

    def saved(self, k):
        return False


class ScatterValue(Scatter):
    torch_name, latex = "ScatterBackward1", ("[\\text{kept}]",)

    def forward(ctx, a, dim, idx, value):
        return Scatter.forward(ctx, a, value, dim, idx)

    def backward(ctx, g, out, a):
        return Scatter.backward(ctx, g, out, a, None)[:1]


class ScatterAdd(Op):
    torch_name, symbol, latex, saves = "ScatterAddBackward0", "scatter+", ("1", "1"), False
    saved_fields = {"dim": "attr:dim", "index": "const:idx"}

    def forward(ctx, a, src, dim, idx):
        ctx.dim, ctx.idx = dim, idx
        key = _along(idx, dim, np.shape(a), "self")
        out = np.array(a)
        np.add.at(out, key, _head(src, idx.shape))  # repeated indices accumulate
        return out

    def backward(ctx, g, out, a, src):
        return g, _gather(g, ctx.dim, ctx.idx)


class IndexAdd(Op):
    """out = self; out[.., index[i], ..] += alpha * source[.., i, ..] along dim."""
    # torch keeps index and source (not self): a second backward through it is refused once freed
    torch_name, symbol, latex, saves = "IndexAddBackward0", "index_add", ("1", r"\alpha"), True
    saved_fields = {"alpha": "attr:alpha", "dim": "attr:dim", "index": "const:idx", "source": "input:1",
                    "source_dim": lambda n: int(np.ndim(n.inputs[1]._data))}

    def saved(self, k):
        return k == 1

    def forward(ctx, a, src, dim, idx, alpha):
        ctx.dim, ctx.idx, ctx.alpha = dim, idx, alpha
        out = np.array(a)
        key = (slice(None),) * dim + (idx,)
        np.add.at(out, key, np.asarray(src) * alpha if alpha != 1 else src)
        return out

    def backward(ctx, g, out, a, src):
        gs = _index_select(g, ctx.dim, ctx.idx)
        return g, (gs * ctx.alpha if ctx.alpha != 1 else gs)


class IndexSelect(Op):
    torch_name, symbol, latex = "IndexSelectBackward0", "index_select", ("1",)
    saved_fields = {"dim": "attr:dim", "index": "const:idx", "self_sym_sizes": "attr:in_shape"}

    def forward(ctx, a, dim, idx):
        ctx.dim, ctx.idx, ctx.in_shape = dim, idx, np.shape(a)
        return np.take(a, idx, axis=dim)

    def backward(ctx, g, out, a):
        return (_index_add_into(_zeros_like(g, ctx.in_shape), ctx.dim, ctx.idx, g),)

    def saved(self, k):
        return False


def _zeros_like(g, shape):
    z = np.zeros(shape, dtype=np.result_type(_arr(g)))
    return Tensor._make(z) if isinstance(g, Tensor) else z


def _gather(g, dim, idx):
    if isinstance(g, Tensor):
        return Gather.apply(g, dim=dim, idx=idx)
    return np.asarray(g)[_along(idx, dim, np.shape(g), "input")] if np.ndim(g) else g


def _scatter_add_into(z, dim, idx, src):
    if isinstance(z, Tensor):
        return ScatterAdd.apply(z, src, dim=dim, idx=idx)
    if not z.ndim:
        return z + src
    np.add.at(z, _along(idx, dim, z.shape, "self"), src)
    return z


def _index_select(g, dim, idx):
    return IndexSelect.apply(g, dim=dim, idx=idx) if isinstance(g, Tensor) else np.take(g, idx, axis=dim)


def _index_add_into(z, dim, idx, src):
    if isinstance(z, Tensor):
        return IndexAdd.apply(z, src, dim=dim, idx=idx, alpha=1)
    np.add.at(z, (slice(None),) * dim + (idx,), src)
    return z


def _same_dtype(input, src, name):
    if isinstance(src, Tensor) and src._data.dtype != input._data.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")


@public(method=True)
def gather(input, dim, index, *, sparse_grad=False):
    d = _norm_dim(dim, input.dim())
    return Gather.apply(input, dim=d, idx=_index_array(index, "gather"))


@public(method=True)
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported; use scatter_add or scatter_reduce")
    d = _norm_dim(dim, input.dim())
    idx = _index_array(index, "scatter")
    if src is None:
        src = value
    if not isinstance(src, Tensor):
        return ScatterValue.apply(input, dim=d, idx=idx, value=input._data.dtype.type(src))
    _same_dtype(input, src, "scatter")
    return Scatter.apply(input, src, dim=d, idx=idx)


@public(method=True)
def scatter_add(input, dim, index, src):
    _same_dtype(input, src, "scatter_add")
    return ScatterAdd.apply(input, src, dim=_norm_dim(dim, input.dim()), idx=_index_array(index, "scatter_add"))


@public(method=True)
def index_add(input, dim, index, source, *, alpha=1):
    d = _norm_dim(dim, input.dim())
    idx = _index_array(index, "index_add").reshape(-1)
    if source.dim() and source.shape[d] != idx.size:
        raise RuntimeError(f"index_add_(): Number of indices ({idx.size}) should be equal to source.size(dim) "
                           f"({source.shape[d]})")
    _same_dtype(input, source, "index_add")
    return IndexAdd.apply(input, source, dim=d, idx=idx, alpha=alpha)


@public(method=True)
def index_select(input, dim, index):
    idx = _index_array(index, "index_select")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    return IndexSelect.apply(input, dim=_norm_dim(dim, input.dim()), idx=idx.reshape(-1))


# -- masked_fill ---------------------------------------------------------------------------------
class MaskedFill(Op):
    """where(mask, value, self); a 0-d tensor value is a second input (MaskedFillBackward1... in
    torch it is the value that gets the summed masked gradient)."""
    torch_name, symbol, latex, saves = "MaskedFillBackward0", "masked_fill", (r"[\lnot m]",), False
    elementwise = True

    def forward(ctx, a, mask, value):
        ctx.mask = mask
        return np.where(mask, np.asarray(value, dtype=np.result_type(a)), a)

    def backward(ctx, g, out, a):
        return (_where(ctx.mask, 0, g),)


class MaskedFillTensor(Op):
    torch_name, symbol, latex, saves = "MaskedFillBackward1", "masked_fill", (r"[\lnot m]", "[m]"), False

    def forward(ctx, a, value, mask):
        ctx.mask = mask
        return np.where(mask, np.asarray(value, dtype=np.result_type(a)), a)

    def backward(ctx, g, out, a, value):
        gv = _where(ctx.mask, g, 0)
        return _where(ctx.mask, 0, g), gv.sum() if isinstance(gv, Tensor) else np.sum(gv)


def _mask_array(mask, shape) -> np.ndarray:
    m = np.asarray(_arr(mask))
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{Tensor._make(m).dtype.name}")
    try:
        return np.broadcast_to(m, np.broadcast_shapes(m.shape, shape))
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({shape[-1] if shape else 1}) must match the size of tensor b "
                           f"({m.shape[-1] if m.shape else 1}) at non-singleton dimension "
                           f"{len(shape) - 1}") from None


@public(method=True)
def masked_fill(input, mask, value):
    m = _mask_array(mask, input.shape)
    if isinstance(value, Tensor):
        if value.dim():
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.dim()} dimension(s).")
        if value._requires_grad:
            return MaskedFillTensor.apply(input, value, mask=m)
        value = value.item()
    return MaskedFill.apply(input, mask=m, value=value)


# -- sort / topk ---------------------------------------------------------------------------------
class sort_result(minmax_result):
    """(values, indices); prints as torch.return_types.sort(...) (topk: .topk)."""
    __slots__ = ()
    op = "sort"


class topk_result(sort_result):
    __slots__ = ()
    op = "topk"


class Pick(Op):
    """Values taken along dim at indices computed in forward (sort, topk): the gradient goes back
    to the picked positions (SortBackward0 / TopkBackward0)."""
    torch_name, symbol, latex = "SortBackward0", "sort", ("1",)
    saved_fields = {"dim": "attr:dim", "indices": "const:idx", "self_sym_sizes": "sizes:0"}

    def forward(ctx, a, dim, order):
        ctx.dim, ctx.idx, ctx.in_shape = dim, order, np.shape(a)
        return np.take_along_axis(np.asarray(a), order, axis=dim) if np.ndim(a) else a

    def backward(ctx, g, out, a):
        return Gather.backward(ctx, g, out, a)

    def saved(self, k):
        return False


class Topk(Pick):
    torch_name, symbol = "TopkBackward0", "topk"


def _order(a: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """Stable sort order along dim; NaN sorts as the largest value, as torch."""
    if a.ndim == 0:
        return np.zeros((), np.int64)
    if not descending:
        return np.argsort(a, axis=dim, kind="stable")
    # descending and stable: sort the reversed array ascending, then reverse back
    n = a.shape[dim]
    rev = np.flip(a, dim)
    o = np.argsort(rev, axis=dim, kind="stable")
    return np.flip(n - 1 - o, dim)


@public(method=True)
def sort(input, dim=-1, descending=False, stable=False):
    d = _norm_dim(dim, input.dim())
    order = _order(np.asarray(input._data), d, descending).astype(np.int64)
    vals = Pick.apply(input, dim=d, order=order)
    return sort_result(vals, Tensor._make(order))


@public(method=True)
def argsort(input, dim=-1, descending=False, stable=False):
    return Tensor._make(_order(np.asarray(input._data), _norm_dim(dim, input.dim()), descending).astype(np.int64))


@public(method=True)
def msort(input):
    return sort(input, 0)[0]


@public(method=True)
def topk(input, k, dim=-1, largest=True, sorted=True):
    d = _norm_dim(dim, input.dim())
    n = input.shape[d] if input.dim() else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    a = np.asarray(input._data)
    order = _order(a, d, largest)
    order = np.take(order, np.arange(k), axis=d) if a.ndim else order
    vals = Topk.apply(input, dim=d, order=order.astype(np.int64))
    return topk_result(vals, Tensor._make(order.astype(np.int64)))


# -- cumsum, flip, roll, repeat ------------------------------------------------------------------
class Cumsum(Op):
    torch_name, symbol, latex, saves = "CumsumBackward0", "cumsum", ("1",), False
    saved_fields = {"dim": "attr:dim"}

    def forward(ctx, a, dim):
        ctx.dim = dim
        return np.cumsum(a, axis=dim, dtype=np.result_type(a) if np.result_type(a).kind == "f" else np.int64) \
            if np.ndim(a) else np.asarray(a)

    def backward(ctx, g, out, a):
        # d out_j / d a_i = [i <= j]: the gradient is the reversed cumulative sum of g
        return (_flip(cumsum(_flip(g, (ctx.dim,)), ctx.dim) if isinstance(g, Tensor)
                      else np.cumsum(np.flip(g, ctx.dim), axis=ctx.dim), (ctx.dim,)),)


class Flip(Op):
    torch_name, symbol, latex, saves = "FlipBackward0", "flip", ("1",), False
    saved_fields = {"dims": "attr:dims"}

    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.flip(a, dims).copy() if np.ndim(a) else a

    def backward(ctx, g, out, a):
        return (_flip(g, ctx.dims),)


class Roll(Op):
    torch_name, symbol, latex, saves = "RollBackward0", "roll", ("1",), False

    def forward(ctx, a, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(a, shifts, dims)

    def backward(ctx, g, out, a):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        if isinstance(g, Tensor):
            return (roll(g, back, ctx.dims),)
        return (np.roll(g, back, ctx.dims),)

    def label(self):
        s = self.shifts
        return f"roll({', '.join(_fmt_num(v) for v in (s if isinstance(s, tuple) else (s,)))})"


class Repeat(Op):
    """Tile self (a copy per repeat along each dim); backward sums the copies."""
    torch_name, symbol, latex, saves = "RepeatBackward0", "repeat", ("1",), False
    saved_fields = {"repeats": "attr:repeats", "self_sym_sizes": "sizes:0"}

    def forward(ctx, a, repeats):
        ctx.in_shape, ctx.repeats = np.shape(a), repeats
        return np.tile(a, repeats)

    def backward(ctx, g, out, a):
        lead = len(ctx.repeats) - len(ctx.in_shape)
        shape = (1,) * lead + tuple(ctx.in_shape)
        split = []  # (r0, s0, r1, s1, ...): each tile axis before the axis it repeats
        for r, s in zip(ctx.repeats, shape):
            split += [r, s]
        axes = tuple(range(0, 2 * len(shape), 2))
        if isinstance(g, Tensor):
            from vizgrad.ops.reduce import sum as _sum
            return (_sum(g.reshape(tuple(split)), axes).reshape(ctx.in_shape),)
        return (np.reshape(g, split).sum(axis=axes).reshape(ctx.in_shape),)

    def label(self):
        return f"repeat{list(self.repeats)}"


def _flip(g, dims):
    return flip(g, dims) if isinstance(g, Tensor) else np.flip(g, dims)


@public(method=True)
def cumsum(input, dim, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return Cumsum.apply(input, dim=_norm_dim(dim, input.dim()))


@public(method=True)
def flip(input, *dims):
    dims = _size(dims)
    return Flip.apply(input, dims=tuple(_norm_dim(d, input.dim()) for d in dims))


@bind("fliplr")
def fliplr(input):
    return flip(input, 1)


@bind("flipud")
def flipud(input):
    return flip(input, 0)


@public(method=True)
def roll(input, shifts, dims=None):
    if dims is None:  # torch rolls the flattened tensor, keeping the shape (numpy's axis=None)
        return Roll.apply(input, shifts=shifts if isinstance(shifts, int) else _flat_shift(shifts), dims=None)
    if isinstance(shifts, int) != isinstance(dims, int) or \
            (not isinstance(shifts, int) and len(shifts) != len(dims)):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {1 if isinstance(shifts, int) else len(shifts)}, "
                           f"dims:{1 if isinstance(dims, int) else len(dims)}")
    if isinstance(dims, int):
        return Roll.apply(input, shifts=shifts, dims=_norm_dim(dims, input.dim()))
    return Roll.apply(input, shifts=tuple(shifts), dims=tuple(_norm_dim(d, input.dim()) for d in dims))


def _flat_shift(shifts) -> int:
    """The one shift of a roll without dims (torch refuses several)."""
    if len(shifts) != 1:
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
    return int(shifts[0])


@bind("repeat")
def repeat(input, *sizes):
    reps = _size(sizes)
    if len(reps) < input.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    return Repeat.apply(input, repeats=reps)


@public(method=True)
def repeat_interleave(input, repeats, dim=None):
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = _norm_dim(dim, input.dim())
    n = input.shape[d]
    if isinstance(repeats, int):  # as torch: a new axis after dim, expanded, then merged (ViewBackward0)
        shape = tuple(input.shape)
        wide = input.unsqueeze(d + 1).expand(*(shape[:d + 1] + (repeats,) + shape[d + 1:]))
        return wide.reshape(*(shape[:d] + (n * repeats,) + shape[d + 1:]))
    reps = np.broadcast_to(np.asarray(_arr(repeats), dtype=np.int64), (n,))
    return index_select(input, d, Tensor._make(np.repeat(np.arange(n), reps)))


# -- in-place forms: x.scatter_(...), x.index_add_(...) ... (Tensor._inplace: version counter, leaf
# refusal and rebasing as for add_) --------------------------------------------------------------
def _inplace_method(fn, name):
    def method(self, *args, **kwargs):
        return self._inplace(lambda a, *ts: fn(a, *_put_back(args, ts), **kwargs),
                             *[a for a in args if isinstance(a, Tensor)])
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In place: x.{name}(...) writes {fn.__name__}(x, ...) into x."
    return bind(name)(method)


def _put_back(args, tensors):
    """args with its Tensor entries replaced, in order, by `tensors` (what _inplace passes on)."""
    it = iter(tensors)
    return tuple(next(it) if isinstance(a, Tensor) else a for a in args)


for _fn in (scatter, scatter_add, index_add, masked_fill):  # (index_fill_ below)
    _inplace_method(_fn, _fn.__name__ + "_")




@public(method=True)
def tile(input, dims):
    """repeat, with ones put in front of `dims` when it is shorter than the tensor's rank."""
    dims = tuple(dims) if not isinstance(dims, int) else (dims,)
    return repeat(input, *((1,) * (input.dim() - len(dims)) + dims))


# -- cumprod, cummax / cummin ----------------------------------------------------------------------
class Cumprod(Op):
    torch_name, symbol, latex, needs_out = "CumprodBackward0", "cumprod", (r"\textstyle\sum_{j \ge i} g_j \frac{y_j}{a_i}",), True
    saved_fields = {"dim": "attr:dim", "result": "result", "self": "input:0"}
    result_params = ("dim",)

    def forward(ctx, a, dim):
        ctx.dim = dim
        return np.cumprod(a, axis=dim) if np.ndim(a) else np.asarray(a).copy()[()]

    def backward(ctx, g, out, a):
        d = ctx.dim
        if np.ndim(_arr(a)) == 0:
            return (g,)
        if not (_arr(a) == 0).any():  # d y_j / d a_i = y_j / a_i for i <= j: a reversed cumsum of g y
            return (_flip(_cumsum(_flip(g * out, (d,)), d), (d,)) / a,)
        # zeros: y_j / a_i is undefined; take the products without a_i, one position i at a time
        wrap = not isinstance(a, Tensor)
        ta, tg = (Tensor._make(np.asarray(a)), Tensor._make(np.asarray(g))) if wrap else (a, g)
        n, shape = ta.shape[d], (1,) * d + (-1,) + (1,) * (ta.dim() - d - 1)
        pos = np.arange(n).reshape(shape)
        from vizgrad.ops.index import cat, where
        parts = [sum_(tg * cumprod(where(Tensor._make(pos == i), 1.0, ta), d) * Tensor._make(
            (pos >= i).astype(ta._data.dtype)), d, keepdim=True) for i in range(n)]
        res = cat(parts, d)
        return (res._data if wrap else res,)


def _cumsum(g, dim):
    return cumsum(g, dim) if isinstance(g, Tensor) else np.cumsum(g, axis=dim)


@public(method=True)
def cumprod(input, dim, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":  # integers multiply in int64, as torch
        input = Tensor._make(np.asarray(input._data).astype(np.int64))
    return Cumprod.apply(input, dim=_norm_dim(dim, input.dim()))


class TakeAlong(Op):
    """Values of self at indices along dim found in forward (kthvalue, median along a dim):
    the gradient goes back to those positions (KthvalueBackward0 ...)."""
    torch_name, symbol, latex = "KthvalueBackward0", "kthvalue", ("1",)
    saved_fields = {"dim": "attr:dim", "indices": "const:indices", "keepdim": "attr:keepdim", "self_sym_sizes": "sizes:0"}

    def forward(ctx, a, dim, idx, keepdim):
        ctx.dim, ctx.keepdim, ctx.in_shape = dim, keepdim, np.shape(a)
        ctx.idx = idx                                            # kept dim, for the backward
        ctx.indices = idx if keepdim else np.squeeze(idx, dim)   # as returned (and saved by torch)
        if not np.ndim(a):
            return a
        out = np.take_along_axis(np.asarray(a), idx, axis=dim)
        return out if keepdim else np.squeeze(out, dim)

    def backward(ctx, g, out, a):
        if not ctx.in_shape:
            return (g,)
        if not ctx.keepdim:
            g = g.unsqueeze(ctx.dim) if isinstance(g, Tensor) else np.expand_dims(g, ctx.dim)
        return (_scatter_add_into(_zeros_like(g, ctx.in_shape), ctx.dim, ctx.idx, g),)

    def saved(self, k):
        return False


class MedianDim(TakeAlong):
    torch_name, symbol = "MedianBackward1", "median"


class Cummax(TakeAlong):
    torch_name, symbol = "CummaxBackward0", "cummax"
    saved_fields = {"dim": "attr:dim", "indices": "const:indices", "self": "input:0"}

    def saved(self, k):
        return True


class Cummin(Cummax):
    torch_name, symbol = "CumminBackward0", "cummin"


class cummax_result(sort_result):
    __slots__ = ()
    op = "cummax"


class cummin_result(sort_result):
    __slots__ = ()
    op = "cummin"


class kthvalue_result(sort_result):
    __slots__ = ()
    op = "kthvalue"


class median_result(sort_result):
    __slots__ = ()
    op = "median"


def _cumext(input, dim, largest):
    a = np.asarray(input._data)
    d = _norm_dim(dim, a.ndim)
    if a.ndim == 0:
        idx = np.zeros((), np.int64)
    else:
        # torch moves the index to every later element that ties the running extreme (>=, <=)
        run = (np.fmax if largest else np.fmin).accumulate(a, axis=d) if not np.isnan(a).any() else \
            (np.maximum if largest else np.minimum).accumulate(a, axis=d)
        pos = np.broadcast_to(np.arange(a.shape[d]).reshape((1,) * d + (-1,) + (1,) * (a.ndim - d - 1)), a.shape)
        idx = np.maximum.accumulate(np.where((a == run) | np.isnan(a), pos, 0), axis=d).astype(np.int64)
    vals = (Cummax if largest else Cummin).apply(input, dim=d, idx=idx, keepdim=True)
    return (cummax_result if largest else cummin_result)(vals, Tensor._make(idx))


@public(method=True)
def cummax(input, dim):
    return _cumext(input, dim, True)


@public(method=True)
def cummin(input, dim):
    return _cumext(input, dim, False)


def _pick_at_rank(input, rank_of_n, dim, keepdim, cls, result):
    """The element of rank rank_of_n(n) (0 = smallest, stable) along dim, and its index."""
    d = _norm_dim(dim, input.dim())
    a = np.asarray(input._data)
    n = a.shape[d] if a.ndim else 1
    r = rank_of_n(n)
    if a.ndim == 0:
        idx = np.zeros((), np.int64)
    else:
        order = np.argsort(a, axis=d, kind="stable")  # nan sorts last, as torch
        idx = np.take(order, [r], axis=d).astype(np.int64)
        if np.isnan(a).any():  # torch's median along a dim: nan if the slice has one, at its first nan
            has_nan = np.isnan(a).any(axis=d, keepdims=True)
            idx = np.where(has_nan, np.expand_dims(np.argmax(np.isnan(a), axis=d), d), idx)
    vals = cls.apply(input, dim=d, idx=idx, keepdim=keepdim)
    return result(vals, Tensor._make(vals.grad_fn.indices if vals.grad_fn is not None else
                                     (idx if keepdim or not a.ndim else np.squeeze(idx, d))))


@public(method=True)
def kthvalue(input, k, dim=-1, keepdim=False):
    n = input.shape[_norm_dim(dim, input.dim())] if input.dim() else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim % max(input.dim(), 1)}")
    return _pick_at_rank(input, lambda n: k - 1, dim, keepdim, TakeAlong, kthvalue_result)


class Median(Op):
    """The lower median of all elements (nan if any is nan); ties share the gradient, as torch."""
    torch_name, symbol, latex = "MedianBackward0", "median", (r"[a = \operatorname{med} a]",)
    saved_fields = {"result": "result", "self": "input:0"}

    def forward(ctx, a):
        a = np.asarray(a)
        if a.size == 0:
            return np.asarray(np.nan, a.dtype)[()]
        flat = np.sort(a.reshape(-1))
        out = flat[(flat.size - 1) // 2] if not np.isnan(flat[-1]) else flat[-1]
        hit = (a == out) | (np.isnan(a) & np.isnan(out))
        ctx.weight = (hit / hit.sum()).astype(a.dtype)
        return out

    def backward(ctx, g, out, a):
        return (_where(ctx.weight != 0, g * ctx.weight, 0),)  # +0 elsewhere (not -0 from g < 0), as torch


@public(method=True)
def median(input, dim=None, keepdim=False):
    if dim is None:
        return Median.apply(input)
    return _pick_at_rank(input, lambda n: (n - 1) // 2, dim, keepdim, MedianDim, median_result)


# -- masked_select, index_fill --------------------------------------------------------------------
class MaskedSelect(Op):
    """self[mask] as a 1-D tensor (both broadcast first); the gradient goes back to the mask's places."""
    torch_name, symbol, latex = "MaskedSelectBackward0", "masked_select", ("[m]",)
    saved_fields = {"mask": "const:mask_given", "self": "input:0"}

    def forward(ctx, a, mask, mask_given):
        ctx.mask_given = mask_given
        shape = np.broadcast_shapes(np.shape(a), mask.shape)
        ctx.mask, ctx.shape = np.broadcast_to(mask, shape), shape
        return np.broadcast_to(a, shape)[ctx.mask]

    def backward(ctx, g, out, a):
        from vizgrad.ops.index import IndexPut, _scatter_array
        if isinstance(g, Tensor):
            return (IndexPut.apply(g, shape=ctx.shape, key=ctx.mask),)
        return (_scatter_array(g, ctx.shape, ctx.mask, np.result_type(g)),)


@public(method=True)
def masked_select(input, mask):
    m = np.asarray(_arr(mask))
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask")
    return MaskedSelect.apply(input, mask=m, mask_given=m)


class IndexFill(Op):
    torch_name, symbol, latex, saves = "IndexFillBackward0", "index_fill", (r"[\text{not filled}]",), False
    saved_fields = {"dim": "attr:dim", "index": "const:idx"}

    def forward(ctx, a, dim, idx, value):
        ctx.dim, ctx.idx = dim, idx
        ctx.keep = np.ones(np.shape(a), dtype=bool)
        ctx.keep[(slice(None),) * dim + (idx,)] = False
        return np.where(ctx.keep, a, np.asarray(value, dtype=np.result_type(a)))

    def backward(ctx, g, out, a):
        return (_where(ctx.keep, g, 0),)


@public(method=True)
def index_fill(input, dim, index, value):
    d = _norm_dim(dim, input.dim())
    idx = _index_array(index, "index_fill").reshape(-1)
    n = input.shape[d] if input.dim() else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)][0]
        raise IndexError(f"index {int(bad)} is out of bounds for dimension {d} with size {n}")
    if isinstance(value, Tensor):
        value = value.item()
    return IndexFill.apply(input, dim=d, idx=idx, value=value)


_inplace_method(index_fill, "index_fill_")


# -- selections without a gradient ----------------------------------------------------------------
@public(method=True)
def nonzero(input, *, as_tuple=False):
    a = np.asarray(input._data)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(a)))
    return Tensor._make(np.argwhere(a).astype(np.int64))


@public(method=True)
def argwhere(input):
    return nonzero(input)


@public(method=True)
def count_nonzero(input, dim=None):
    a = np.asarray(input._data)
    return Tensor._make(np.asarray(np.count_nonzero(a, axis=dim), dtype=np.int64)[()])


@public(method=True)
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values, sorted (torch's CPU kernel sorts whatever `sorted` says), with the index
    of each input element into them and the count of each."""
    a = np.asarray(input._data)
    res = np.unique(a, return_inverse=True, return_counts=True, axis=dim)
    vals, inv, counts = res
    out = [Tensor._make(vals)]
    if return_inverse:
        out.append(Tensor._make(inv.reshape(a.shape if dim is None else -1).astype(np.int64)))
    if return_counts:
        out.append(Tensor._make(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


@public(method=True)
def bincount(input, weights=None, minlength=0):
    a = np.asarray(input._data)
    if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return Tensor._make(np.bincount(a, minlength=minlength).astype(np.int64))
    w = np.asarray(_arr(weights))
    dt = w.dtype if w.dtype.kind == "f" else np.float64
    return Tensor._make(np.bincount(a, weights=w, minlength=minlength).astype(dt))


@public()
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """For each value, the index at which inserting it keeps each row of sorted_sequence sorted
    (the first such index; right=True or side='right': the last)."""
    seq = np.asarray(_arr(sorted_sequence))
    vals = np.asarray(_arr(input))
    how = side or ("right" if right else "left")
    if sorter is not None:
        seq = np.take_along_axis(seq, np.asarray(_arr(sorter)), axis=-1)
    if seq.ndim <= 1:
        out = np.searchsorted(seq, vals, side=how)
    else:
        if seq.shape[:-1] != vals.shape[:-1]:
            raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                               "dimensions of boundaries tensor and input value tensor must match")
        out = np.empty(vals.shape, np.int64)
        for i in np.ndindex(*seq.shape[:-1]):
            out[i] = np.searchsorted(seq[i], vals[i], side=how)
    return Tensor._make(np.asarray(out, dtype=np.int32 if out_int32 else np.int64)[()])


@public()
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value: i with boundaries[i-1] < x <= boundaries[i] (right=True: <= x <)."""
    if np.ndim(_arr(boundaries)) != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({np.ndim(_arr(boundaries))})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


@public(method=True)
def histc(input, bins=100, min=0, max=0):
    """Counts in `bins` equal bins over [min, max] (both 0: the data's range); values outside are
    left out, max itself goes in the last bin; a float tensor of input's dtype."""
    a = np.asarray(input._data)
    if a.dtype.kind != "f":
        raise RuntimeError(f'"histogram_cpu" not implemented for \'{input.dtype.tensor_type[:-6]}\'')
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    x = a[(a >= lo) & (a <= hi)].astype(np.float64)
    pos = np.minimum(((x - lo) * bins / (hi - lo)).astype(np.int64), bins - 1)
    return Tensor._make(np.bincount(pos, minlength=bins).astype(a.dtype))
