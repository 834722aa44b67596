"""Linear algebra: matmul (mm, mv, dot, bmm), addmm and the fused nn.Linear node, outer, diag,
trace, tril, triu."""
from __future__ import annotations

import builtins

import numpy as np

from vizgrad.ops.arith import mul
from vizgrad.ops.base import Op, _add_reduce, _arr, _new, _pair, bind, public
from vizgrad.ops.index import _cat_inputs
from vizgrad.ops.reduce import sum
from vizgrad.ops.shape import T, _swapaxes, reshape, sum_to, t, unsqueeze
from vizgrad.tensor import Tensor


class Matmul(Op):
    """numpy matmul semantics; torch's node name depends on the operand ranks (Mm, Mv, Dot, Bmm)."""
    torch_name, symbol, latex = "MmBackward0", "@", (r"g\,b^{\top}", r"a^{\top} g")

    @property
    def saved_fields(self):
        # what torch's node keeps depends on which of mm / mv / dot the ranks chose
        return {"MmBackward0": _MM_SAVED, "BmmBackward0": {"mat2": "input:1?0", "self": "input:0?1"},
                "MvBackward0": {"self": "input:0?1", "vec": "input:1?0"},
                "DotBackward0": {"self": "input:0?1", "tensor": "input:1?0"}}.get(self.torch_name, {})

    def forward(ctx, a, b):
        na, nb = np.ndim(a), np.ndim(b)
        if na == 0 or nb == 0:
            raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                               f"{na}D and {nb}D")
        # torch folds batches into mm/mv and views the result back (UnsafeView); 1-D @ 2-D squeezes
        ctx.torch_name = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0",
                          (1, 2): "SqueezeBackward4"}.get((na, nb), "CloneBackward0" if na == 2 else "UnsafeViewBackward0")
        try:
            return np.matmul(a, b)
        except ValueError:
            sa, sb = np.shape(a), np.shape(b)
            if na <= 2 and nb == 2:
                sa = sa if na == 2 else (1,) + sa
                raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa[0]}x{sa[1]} and "
                                   f"{sb[0]}x{sb[1]})") from None
            if na == 2 and nb == 1:
                raise RuntimeError(f"size mismatch, got input ({sa[0]}), mat ({sa[0]}x{sa[1]}), vec ({sb[0]})") from None
            if na == 1 and nb == 1:
                raise RuntimeError(f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the "
                                   f"same number of elements, but got {sa[0]} and {sb[0]} elements respectively") from None
            raise RuntimeError(f"matmul: shapes {list(sa)} and {list(sb)} cannot be multiplied") from None

    def backward(ctx, g, out, a, b):
        g = _dense(g)
        a_shape, b_shape = tuple(np.shape(_arr(a))), tuple(np.shape(_arr(b)))
        a2 = a.reshape((1,) + a_shape) if len(a_shape) == 1 else a          # (..., n, k)
        b2 = b.reshape(b_shape + (1,)) if len(b_shape) == 1 else b          # (..., k, m)
        g2 = g
        if len(a_shape) == 1:
            g2 = _unsq(g2, -2 if len(b_shape) > 1 else 0)
        if len(b_shape) == 1:
            g2 = _unsq(g2, -1)                                             # (..., n, m)
        ga = sum_to(g2 @ _swapaxes(b2, -1, -2), np.shape(_arr(a2)) if len(a_shape) > 1 else (1,) + a_shape)
        gb = sum_to(_swapaxes(a2, -1, -2) @ g2, np.shape(_arr(b2)) if len(b_shape) > 1 else b_shape + (1,))
        return ga.reshape(a_shape), gb.reshape(b_shape)


_MM_SAVED = {"mat2": "input:1?0", "mat2_sym_sizes": "sizes:1", "mat2_sym_strides": "strides:1",
             "self": "input:0?1", "self_sym_sizes": "sizes:0", "self_sym_strides": "strides:0"}
_ADDMM_SAVED = {"alpha": 1, "beta": 1, "mat1": "input:1?2", "mat1_sym_sizes": "sizes:1", "mat1_sym_strides": "strides:1",
                "mat2": "input:2?1", "mat2_sym_sizes": "sizes:2", "mat2_sym_strides": "strides:2"}


def _dense(x):
    """A broadcast (zero-stride) gradient made contiguous: numpy's matmul skips BLAS on such views."""
    if type(x) is np.ndarray and 0 in x.strides and x.size > 1:
        return np.ascontiguousarray(x)
    return x


def _unsq(x, dim):
    if isinstance(x, Tensor):
        return unsqueeze(x, dim)
    return np.expand_dims(x, dim)


class Addmm(Op):
    """bias + x @ w: one node, as torch records nn.Linear on a batch (inputs: bias, x, wᵀ)."""
    torch_name, symbol, latex = "AddmmBackward0", "addmm", ("1", r"g\,W", r"x^{\top} g")
    saved_fields = _ADDMM_SAVED
    exact = True

    def forward(ctx, bias, x, w):
        return _plus_bias(x @ w, bias)

    def backward(ctx, g, out, bias, x, w):
        # x (N, in), w (in, out), g (N, out); the bias gradient is g summed over N (to its shape).
        # The input batch of a first layer needs no gradient: skip that matmul.
        g = _dense(g)
        inputs = ctx.inputs
        gb = _bias_grad(g, bias) if inputs[0]._requires_grad else None
        return gb, (g @ w.T if inputs[1]._requires_grad else None), x.T @ g


def _plus_bias(y, bias):
    """y + bias; in y's buffer (a fresh (N, out) product) when the bias broadcasts along its last dims."""
    if type(y) is np.ndarray and type(bias) is np.ndarray and bias.ndim and bias.shape == y.shape[-bias.ndim:]:
        y += bias
        return y
    return bias + y


def _bias_grad(g, bias):
    """g (N, out) summed to the bias's shape: over the batch for the usual (out,) bias."""
    if type(g) is np.ndarray and g.ndim == 2 and type(bias) is np.ndarray and bias.shape == g.shape[1:]:
        return _add_reduce(g, 0)
    return sum_to(g, np.shape(_arr(bias)))


class LinearAddmm(Addmm):
    """nn.Linear on a batch, bias + x @ Wᵀ, as one engine node over (bias, x, W).

    torch records AddmmBackward0 over TBackward0(W); so do next_functions and the graph view,
    through `view()`, which makes that T node on demand. The engine differentiates straight to W
    (dL/dW = gᵀ x): no transpose node to record, walk and free on every step, which is a sixth of
    a small MLP's training step. As in torch, writing W in place between forward and backward is
    refused when x needs a gradient (its formula reads W), and allowed otherwise."""
    exact = True
    saved_fields = dict(_ADDMM_SAVED, mat2="view:2", mat2_sym_sizes=lambda n: n.inputs[2]._data.shape[::-1],
                        mat2_sym_strides=lambda n: (1, n.inputs[2]._data.shape[1]))  # Wᵀ: a transposed view

    def forward(ctx, bias, x, w):
        return _plus_bias(x @ w.T, bias)

    def backward(ctx, g, out, bias, x, w):
        # x (N, in), w (out, in), g (N, out)
        if type(g) is not np.ndarray:  # create_graph: Tensor formulas (or a 0-d/odd gradient)
            gb, gx, gwt = Addmm.backward(ctx, g, out, bias, x, _swapaxes(w, 0, 1))
            return gb, gx, (None if gwt is None else _swapaxes(gwt, 0, 1))
        if 0 in g.strides and g.size > 1:  # _dense, inlined
            g = np.ascontiguousarray(g)
        inputs = ctx.inputs
        gb = _bias_grad(g, bias) if inputs[0]._requires_grad else None
        return gb, (g @ w if inputs[1]._requires_grad else None), (g.T @ x if inputs[2]._requires_grad else None)

    def saved(self, k: int) -> bool:
        # as torch's addmm: x is read for dL/dW, W for dL/dx, the bias never
        return k == 1 and self.inputs[2]._requires_grad or k == 2 and self.inputs[1]._requires_grad

    def view(self) -> tuple:
        bias, x, w = self.inputs
        d = self.__dict__
        wt = d.get("_wt")
        if wt is None:  # Wᵀ and its TBackward0 node, as F.linear records them in torch
            wt = d["_wt"] = _new(Tensor)
            wt._data, wt._grad, wt.grad_fn, wt._requires_grad = w._data.T, None, None, w._requires_grad
            if w._requires_grad:
                node = wt.grad_fn = _new(T)
                node.inputs = (w,)
                if "scope" in d:
                    node.scope = d["scope"]
        eg = self.edge_grads
        node = wt.grad_fn
        if eg is not None:
            gw = eg[2]
            gwt = None if gw is None else gw.T
            if node is not None:
                node.out_grad, node.edge_grads = gwt, (gw,)
            eg = (eg[0], eg[1], gwt)
        return (bias, x, wt), eg


@bind("__matmul__")
@public(method=True)
def matmul(input, other):
    a, b = _pair(input, other)
    return Matmul.apply(a, b)



@bind("__rmatmul__")
def _rmatmul_operator(self, other):
    return matmul(other, self)


@public(method=True)
def mm(input, mat2):
    if input.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError("self must be a matrix")
    return matmul(input, mat2)


@public(method=True)
def mv(input, vec):
    return matmul(input, vec)


@public(method=True)
def dot(input, other):
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors")
    return matmul(input, other)


@public(method=True)
def bmm(input, mat2):
    if input.dim() != 3 or mat2.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    out = matmul(input, mat2)
    if out.grad_fn is not None:
        out.grad_fn.torch_name = "BmmBackward0"  # a direct bmm is one node (`@` on 3-D views one)
    return out


@public()
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    if mat1.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"{'mat1' if mat1.dim() != 2 else 'mat2'} must be a matrix, got {(mat1 if mat1.dim() != 2 else mat2).dim()}-D tensor")
    if beta != 1 or alpha != 1:
        return input * beta + matmul(mat1, mat2) * alpha
    return Addmm.apply(*_cat_inputs([input, mat1, mat2]))


def linear(input, weight, bias=None):
    """F.linear: y = x Wᵀ + b, recorded with the nodes torch records (AddmmBackward0 for a batch)."""
    wt = t(weight)
    if bias is None:
        return matmul(input, wt)
    if input.dim() == 2:
        return addmm(bias, input, wt)
    if input.dim() == 1:
        return reshape(addmm(bias, unsqueeze(input, 0), wt), (weight.shape[0],))
    lead = input.shape[:-1]
    return reshape(addmm(bias, reshape(input, (-1, input.shape[-1])), wt), tuple(lead) + (weight.shape[0],))

@public(method=True)
def outer(input, vec2):
    return mul(unsqueeze(input, 1), unsqueeze(vec2, 0))


@public(method=True)
def diag(input):
    if input.dim() == 1:
        n = input.shape[0]
        return mul(unsqueeze(input, 0), Tensor._make(np.eye(n, dtype=input._data.dtype)))
    n = builtins.min(input.shape)
    return input[np.arange(n), np.arange(n)]


@public(method=True)
def trace(input):
    return sum(diag(input))


@public(method=True)
def tril(input, diagonal=0):
    return mul(input, Tensor._make(np.tril(np.ones(input.shape[-2:], dtype=input._data.dtype), diagonal)))


@public(method=True)
def triu(input, diagonal=0):
    return mul(input, Tensor._make(np.triu(np.ones(input.shape[-2:], dtype=input._data.dtype), diagonal)))

