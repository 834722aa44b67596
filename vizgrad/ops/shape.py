"""Shape ops: view/reshape, transpose, t, permute, movedim, (un)squeeze, expand, and SumTo (the
reduction of a broadcast gradient, which appears in higher-order graphs); diagonal and
diag_embed (each other's adjoints), narrow; the in-place view changes t_, squeeze_, unsqueeze_."""
from __future__ import annotations

import numpy as np

from vizgrad.ops.base import Op, _arr, _dims, _dual, _sum_to_array, bind, public
from vizgrad.tensor import Tensor, _norm_dim, _size


class View(Op):
    torch_name, symbol, latex, saves = "ViewBackward0", "view", ("1",), False
    saved_fields = {"self_sym_sizes": "sizes:0"}

    def forward(ctx, a, shape):
        ctx.in_shape = np.shape(a)
        try:
            return np.reshape(a, shape)
        except ValueError:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {int(np.size(a))}") from None

    def backward(ctx, g, out, a):
        return (g.reshape(ctx.in_shape),)

    def label(self):
        return "reshape"


class Transpose(Op):
    torch_name, symbol, latex, saves = "TransposeBackward0", "ᵀ", ("1",), False
    saved_fields = {"dim0": lambda n: n.dims[0], "dim1": lambda n: n.dims[1]}
    latex_name = "transpose"

    def forward(ctx, a, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return np.swapaxes(a, dim0, dim1) if np.ndim(a) else a  # a 0-d tensor is its own transpose

    def backward(ctx, g, out, a):
        return (_swapaxes(g, *ctx.dims) if np.ndim(_arr(g)) else g,)


class T(Transpose):
    """x.t(): a matrix transpose (0-d and 1-d tensors are returned as they are)."""
    torch_name = "TBackward0"
    exact = True
    saved_fields = {}

    def forward(ctx, a):
        return a.T  # numpy's .T: the cheapest view; for ndim < 2 it is the array itself

    def backward(ctx, g, out, a):
        if type(g) is np.ndarray:  # numpy's .T: a transposed view for 2-D, the array itself below
            return (g.T,)
        return (g.T if np.ndim(_arr(g)) == 2 else g,)


class Permute(Op):
    torch_name, symbol, latex, saves = "PermuteBackward0", "permute", ("1",), False
    saved_fields = {"dims": "attr:dims"}

    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.transpose(a, dims)

    def backward(ctx, g, out, a):
        return (_permute(g, tuple(np.argsort(ctx.dims))),)

    def label(self):
        return "ᵀ" if list(self.dims) == list(range(len(self.dims)))[::-1] else "permute"


class Unsqueeze(Op):
    torch_name, symbol, latex, saves = "UnsqueezeBackward0", "unsqueeze", ("1",), False
    saved_fields = {"dim": "attr:dim"}

    def forward(ctx, a, dim):
        ctx.in_shape, ctx.dim = np.shape(a), dim
        return np.expand_dims(a, dim)

    def backward(ctx, g, out, a):
        return (g.reshape(ctx.in_shape),)


class Squeeze(Op):
    torch_name, symbol, latex, saves = "SqueezeBackward0", "squeeze", ("1",), False
    saved_fields = {"dim": "attr:dim", "self_sym_sizes": "sizes:0"}

    def forward(ctx, a, dim):
        ctx.in_shape, ctx.dim = np.shape(a), dim
        if dim is None:
            return np.squeeze(a)
        ctx.torch_name = "SqueezeBackward1"
        axes = tuple(d for d in _dims(dim, np.ndim(a)) if ctx.in_shape[d] == 1) if np.ndim(a) else ()
        return np.squeeze(a, axes) if axes else a

    def backward(ctx, g, out, a):
        return (g.reshape(ctx.in_shape),)


class Expand(Op):
    torch_name, symbol, latex, saves = "ExpandBackward0", "expand", ("1",), False
    saved_fields = {"self_sym_sizes": "sizes:0"}

    def forward(ctx, a, shape):
        ctx.in_shape = np.shape(a)
        return np.broadcast_to(a, shape)

    def backward(ctx, g, out, a):
        return (sum_to(g, ctx.in_shape),)


class SumTo(Op):
    """Sums a broadcast gradient back to a shape; appears in higher-order graphs only."""
    torch_name, symbol, latex, saves = "SumToBackward0", "Σ→", ("1",), False

    def forward(ctx, a, shape):
        ctx.in_shape = np.shape(a)
        return _sum_to_array(a, shape)

    def backward(ctx, g, out, a):
        return (expand(g, ctx.in_shape),)


@bind("view")
@public(method=True)
def reshape(input, *shape):
    shape = _size(shape) if shape and not (len(shape) == 1 and isinstance(shape[0], int)) else tuple(shape)
    return View.apply(input, shape=shape)


view = reshape


@public(method=True)
def flatten(input, start_dim=0, end_dim=-1):
    s = input.shape
    if not s:
        return reshape(input, (1,))
    a, b = _norm_dim(start_dim, len(s)), _norm_dim(end_dim, len(s))
    return reshape(input, tuple(s[:a]) + (-1,) + tuple(s[b + 1:]))


@public(method=True)
def unflatten(input, dim, sizes):
    s = input.shape
    d = _norm_dim(dim, len(s))
    return reshape(input, tuple(s[:d]) + tuple(sizes) + tuple(s[d + 1:]))


@public("swapaxes", method=True)
def transpose(input, dim0, dim1):
    return Transpose.apply(input, dim0=dim0, dim1=dim1)


swapaxes = transpose


@public(method=True)
def t(input):
    if input.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.dim()}D")
    return T.apply(input)


@public(method=True)
def permute(input, *dims):
    dims = _size(dims)
    if sorted(_norm_dim(d, input.dim()) for d in dims) != list(range(input.dim())):
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           "length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{input.dim()} is not equal to len(dims) = {len(dims)}")
    return Permute.apply(input, dims=tuple(_norm_dim(d, input.dim()) for d in dims))


@public(method=True)
def unsqueeze(input, dim):
    return Unsqueeze.apply(input, dim=_norm_dim(dim, input.dim() + 1))


@public(method=True)
def squeeze(input, dim=None):
    return Squeeze.apply(input, dim=dim)


@public(method=True)
def expand(input, *sizes):
    """Broadcast to `sizes` (-1 keeps a dim). Works on arrays too, for backward formulas."""
    sizes = _size(sizes)
    if not isinstance(input, Tensor):
        return np.broadcast_to(input, sizes)
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({len(shape)})")
    sizes = tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    if sizes == shape:
        return input
    try:
        np.broadcast_shapes(shape, sizes)
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor must match the existing size at non-singleton "
                           f"dimension. Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}") from None
    return Expand.apply(input, shape=sizes)


@bind("expand_as")
def expand_as(input, other):
    return expand(input, other.shape)


@public(method=True)
def broadcast_to(input, shape):
    return expand(input, shape)


def sum_to(g, shape):
    """Reduce a gradient to `shape` by summing broadcast dims (arrays or Tensors)."""
    if isinstance(g, Tensor):
        return g if g._data.shape == tuple(shape) else SumTo.apply(g, shape=tuple(shape))
    return _sum_to_array(g, shape)


_swapaxes = _dual(np.swapaxes, transpose)
_permute = _dual(np.transpose, lambda x, dims: permute(x, *dims))


@bind("view_as", "reshape_as")
def _view_as(self, other):
    return reshape(self, tuple(other.shape))


bind("T")(property(lambda self: permute(self, *reversed(range(self.dim())))))
bind("mT")(property(lambda self: transpose(self, -2, -1)))



# -- diagonal / diag_embed: one advanced-index key names the diagonal's elements ------------------
def _diag_key(shape: tuple, offset: int, d1: int, d2: int) -> tuple:
    """The key k with a[k] == a.diagonal(offset, d1, d2): the other dims first, in order, then the
    diagonal's position i, which reads a[..., i + max(-offset, 0) at d1, i + max(offset, 0) at d2]."""
    rest = [d for d in range(len(shape)) if d not in (d1, d2)]
    n = len(rest) + 1
    length = max(0, min(shape[d1] - max(-offset, 0), shape[d2] - max(offset, 0)))
    key = [None] * len(shape)
    for k, d in enumerate(rest):
        key[d] = np.arange(shape[d]).reshape((1,) * k + (-1,) + (1,) * (n - 1 - k))
    i = np.arange(length).reshape((1,) * (n - 1) + (-1,))
    key[d1], key[d2] = i + max(-offset, 0), i + max(offset, 0)
    return tuple(key)


class Diagonal(Op):
    torch_name, symbol, latex, saves = "DiagonalBackward0", "diagonal", ("1",), False
    saved_fields = {"dim1": "attr:dim1", "dim2": "attr:dim2", "offset": lambda n: _unsigned(n.offset),
                    "self_sym_sizes": "sizes:0"}

    def forward(ctx, a, offset, dim1, dim2):
        ctx.offset, ctx.dim1, ctx.dim2, ctx.in_shape = offset, dim1, dim2, np.shape(a)
        ctx.key = _diag_key(ctx.in_shape, offset, dim1, dim2)
        return np.asarray(a)[ctx.key]

    def backward(ctx, g, out, a):
        from vizgrad.ops.index import IndexPut, _scatter_array
        if isinstance(g, Tensor):
            return (IndexPut.apply(g, shape=ctx.in_shape, key=ctx.key),)
        return (_scatter_array(g, ctx.in_shape, ctx.key, np.result_type(g)),)


class DiagEmbed(Op):
    """The last dim of a laid on the (offset) diagonal of dims dim1, dim2 of a zero tensor."""
    torch_name, symbol, latex, saves = "DiagEmbedBackward0", "diag_embed", ("1",), False
    saved_fields = {"dim1": "attr:dim1_given", "dim2": "attr:dim2_given", "offset": lambda n: _unsigned(n.offset)}

    def forward(ctx, a, offset, dim1, dim2, given):
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        ctx.dim1_given, ctx.dim2_given = given  # as torch keeps them: -2 shows as 2**64 - 2
        a = np.asarray(a)
        n = a.shape[-1] + abs(offset)
        rest = list(a.shape[:-1])
        shape = [0] * (a.ndim + 1)
        for d in range(a.ndim + 1):
            shape[d] = n if d in (dim1, dim2) else rest.pop(0)
        ctx.key = _diag_key(tuple(shape), offset, dim1, dim2)
        out = np.zeros(shape, dtype=a.dtype)
        out[ctx.key] = a
        return out

    def backward(ctx, g, out, a):
        if isinstance(g, Tensor):
            return (Diagonal.apply(g, offset=ctx.offset, dim1=ctx.dim1, dim2=ctx.dim2),)
        return (np.asarray(g)[ctx.key],)


def _unsigned(d: int) -> int:
    """A negative dim as torch's node prints it (its int64_t read as uint64_t)."""
    return d + 2 ** 64 if d < 0 else d


@public(method=True)
def diagonal(input, offset=0, dim1=0, dim2=1):
    n = input.dim()
    d1, d2 = _norm_dim(dim1, n), _norm_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset=offset, dim1=d1, dim2=d2)


@public(method=True)
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    n = input.dim() + 1
    d1, d2 = _norm_dim(dim1, n), _norm_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return DiagEmbed.apply(input, offset=offset, dim1=d1, dim2=d2, given=(_unsigned(dim1), _unsigned(dim2)))


@public(method=True)
def narrow(input, dim, start, length):
    """input's elements start .. start+length-1 along dim: a slice (SliceBackward0, as torch)."""
    if not input.dim():
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _norm_dim(dim, input.dim())
    size = input.shape[d]
    start = int(start.item() if isinstance(start, Tensor) else start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    out = input[(slice(None),) * d + (slice(start, start + length),)]
    if out.grad_fn is not None:  # torch's SliceBackward0 keeps the slice (dim as given)
        out.grad_fn.saved_fields = {"dim": _unsigned(dim), "end": start + length, "self_sym_sizes": "sizes:0",
                                    "start": start, "step": 1}
    return out


@public("moveaxis", method=True)
def movedim(input, source, destination):
    n = input.dim()
    if isinstance(source, int) != isinstance(destination, int):
        raise TypeError(f"movedim() received an invalid combination of arguments - got "
                        f"({type(source).__name__}, {type(destination).__name__}), but expected one of:\n"
                        " * (int source, int destination)\n * (tuple of ints source, tuple of ints destination)")
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    src, dst = [_norm_dim(d, n) for d in src], [_norm_dim(d, n) for d in dst]
    if n == 0:  # a 0-d tensor: an alias of itself (AliasBackward0), as torch
        return input[...]
    order = [d for d in range(n) if d not in src]
    for s, t in sorted(zip(dst, src)):
        order.insert(s, t)
    return permute(input, *order)


@bind("sum_to_size")
def sum_to_size(input, *size):
    """Sum input down to `size`, which it must expand to (SumBackward1 with keepdim, as torch)."""
    from vizgrad.ops.reduce import sum as _sum
    size = _size(size)
    shape = tuple(input.shape)
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != n for s, n in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    # as torch: one sum with keepdim over the leading dims and those size makes 1, then a view
    dims = tuple(range(lead)) + tuple(lead + i for i, (s, n) in enumerate(zip(size, shape[lead:])) if s == 1 and n != 1)
    out = _sum(input, dims, keepdim=True) if dims else input
    return reshape(out, size) if lead else out


def _inplace_view(self, view, torch_name: str):
    """x.t_(), x.squeeze_(), x.unsqueeze_(d): x itself becomes the view, its grad_fn the view's
    node under torch's name for the in-place form (TBackward1 ...); a leaf that requires grad refuses."""
    from vizgrad._grad_mode import STATE
    if self._requires_grad and self.grad_fn is None and STATE.grad_enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    old = Tensor._make(self._data, self._requires_grad)
    old.grad_fn = self.grad_fn
    res = view(old)
    self._data = res._data
    if res.grad_fn is not None and res.grad_fn is not self.grad_fn:
        res.grad_fn.torch_name = torch_name
        self.grad_fn = res.grad_fn
    self._version += 1
    return self


bind("t_")(lambda self: _inplace_view(self, t, "TBackward1"))
bind("unsqueeze_")(lambda self, dim: _inplace_view(self, lambda x: unsqueeze(x, dim), "UnsqueezeBackward1"))


@bind("squeeze_")
def squeeze_(self, dim=None):
    name = "SqueezeBackward3" if dim is None else "SqueezeBackward5" if isinstance(dim, (tuple, list)) else \
        "SqueezeBackward4"
    return _inplace_view(self, lambda x: squeeze(x, dim), name)
