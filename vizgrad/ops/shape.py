"""Shape ops: view/reshape, transpose, t, permute, (un)squeeze, expand, and SumTo (the
reduction of a broadcast gradient, which appears in higher-order graphs)."""
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
