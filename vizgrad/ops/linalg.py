"""Linear algebra: matmul (mm, mv, dot, bmm), addmm and the fused nn.Linear node, outer, diag,
trace, tril, triu; det and inverse (torch.linalg.det / inv), cross, dist, cdist; and the products
torch composes from those: kron, tensordot, inner, and meshgrid, cartesian_prod."""
from __future__ import annotations

import builtins

import numpy as np

from vizgrad.ops.arith import mul
from vizgrad.ops.base import Op, _add_reduce, _arr, _broadcast_message, _new, _pair, bind, public
from vizgrad.ops.index import _cat_inputs, _where
from vizgrad.ops.reduce import sum
from vizgrad.ops.shape import Expand, T, _swapaxes, reshape, sum_to, t, unsqueeze
from vizgrad.ops.unary import clone
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
def diag(input, diagonal=0):
    """A 1-D tensor laid on a square matrix's `diagonal` (DiagEmbedBackward0), or a matrix's
    diagonal copied out (DiagonalBackward0_copy), as torch records them."""
    from vizgrad.ops.shape import diag_embed, diagonal as _diagonal
    if input.dim() == 1:
        return diag_embed(input, diagonal)
    if input.dim() != 2:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got {}D".format(input.dim()))
    out = _diagonal(input, diagonal)
    if out.grad_fn is not None:
        out.grad_fn.torch_name = "DiagonalBackward0_copy"
    return out


class Trace(Op):
    """The sum of a matrix's diagonal (TraceBackward0); its gradient is g on the diagonal."""
    torch_name, symbol, latex, saves = "TraceBackward0", "tr", (r"I",), False
    saved_fields = {"self_sym_sizes": "sizes:0"}
    latex_name = r"\operatorname{tr}"

    def forward(ctx, a):
        ctx.eye = np.eye(*np.shape(a), dtype=np.result_type(a))
        out = np.trace(a)
        return out.astype(np.int64) if out.dtype.kind in "biu" else out

    def backward(ctx, g, out, a):
        return (g * (Tensor._make(ctx.eye) if isinstance(g, Tensor) else ctx.eye),)


@public(method=True)
def trace(input):
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    return Trace.apply(input)


@public(method=True)
def tril(input, diagonal=0):
    return mul(input, Tensor._make(np.tril(np.ones(input.shape[-2:], dtype=input._data.dtype), diagonal)))


@public(method=True)
def triu(input, diagonal=0):
    return mul(input, Tensor._make(np.triu(np.ones(input.shape[-2:], dtype=input._data.dtype), diagonal)))




# -- det, inverse ----------------------------------------------------------------------------------
class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a singular matrix where an invertible one is needed."""


def _lu(a: np.ndarray):
    """LU with partial pivoting of each matrix in a (..., n, n), as LAPACK's getrf: the packed
    factors (L's unit diagonal left out) and the 1-based int32 row swaps, in torch's layout."""
    lu = np.array(a, dtype=np.result_type(a), copy=True)
    n = lu.shape[-1]
    piv = np.zeros(lu.shape[:-1], dtype=np.int32)
    for idx in np.ndindex(*lu.shape[:-2]):
        m = lu[idx]
        for k in range(n):
            p = k + int(np.argmax(np.abs(m[k:, k])))
            piv[idx + (k,)] = p + 1
            if p != k:
                m[[k, p]] = m[[p, k]]
            if m[k, k] != 0:
                m[k + 1:, k] /= m[k, k]
                m[k + 1:, k + 1:] -= np.outer(m[k + 1:, k], m[k, k + 1:])
    return lu, piv


def _square(input, name: str):
    if input.dim() < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                           f"{input.shape[-2] if input.dim() >= 2 else 1} by {input.shape[-1] if input.dim() else 1} matrices")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as input. Got "
                           f"{input.dtype.tensor_type[:-6]}")


class Det(Op):
    """det A; d det / dA = det(A) A^-T (torch's LinalgDetBackward0 keeps A, its LU factors, the result)."""
    torch_name, symbol, latex, needs_out = "LinalgDetBackward0", "det", (r"\det(A)\,A^{-\top}",), True
    saved_fields = {"A": "input:0", "LU": lambda n: _lu_field(n, 0), "pivots": lambda n: _lu_field(n, 1),
                    "result": "result"}

    def forward(ctx, a):
        if np.shape(a)[-1] == 1:  # numpy's det goes through exp(log |a|): 49 -> 49.00000000000001
            return np.array(a)[..., 0, 0][()]
        return np.linalg.det(a).astype(np.result_type(a))[()]

    def backward(ctx, g, out, a):
        n = np.shape(_arr(a))[-1]
        if n == 1:  # det [[a]] = a: the gradient is g itself, also at a = 0 (torch special-cases it)
            return (_unsq(_unsq(g, -1), -1) * np.ones(np.shape(_arr(a)), np.result_type(_arr(a))),)
        if isinstance(a, Tensor):  # create_graph
            eps = np.finfo(np.result_type(a._data)).eps
            if np.any(np.abs(_arr(out)) < 100 * eps):  # (torch's test for its singular formula)
                return (_unsq(_unsq(g, -1), -1) * _cofactors(a),)
            return ((g * out).unsqueeze(-1).unsqueeze(-1) * inverse(a).mT,)
        # A singular matrix (det exactly 0) has no inverse, and torch's gradient there is
        # g det(A) A^-T = 0 (it solves with a perturbed LU): any invertible stand-in gives that 0
        # (and NaN for a NaN or infinite g, as torch's).
        singular = (np.asarray(out) == 0)[..., None, None]
        with np.errstate(all="ignore"):
            inv = np.linalg.inv(np.where(singular, np.eye(n, dtype=np.result_type(a)), a))
        return ((np.asarray(g * out))[..., None, None] * np.swapaxes(inv, -1, -2),)


def _cofactors(a: Tensor) -> Tensor:
    """The cofactor matrix of each (..., n, n) matrix, C_ij = (-1)^(i+j) det(A without row i and
    column j), recorded: d det / dA where A may be singular (det(A) A^-T needs an inverse). torch
    gets the same values from an SVD. The minors' dets are Laplace expansions (sums of products),
    so every higher derivative is right at singular matrices too (a Det node's plain backward
    would give torch's 0 there); past 5 x 5 minors they are Det nodes again (n! terms)."""
    n = a.shape[-1]
    rest = [[k for k in range(n) if k != i] for i in range(n)]
    return _stack2([[_laplace(a[..., rest[i], :][..., :, rest[j]]) * (-1) ** (i + j) for j in range(n)]
                    for i in range(n)])


def _laplace(m: Tensor) -> Tensor:
    """det of each (..., k, k) matrix by expansion along the first row (a polynomial in m)."""
    k = m.shape[-1]
    if k == 1:
        return m[..., 0, 0]
    if k > 5:
        return det(m)
    rest = list(range(1, k))
    total = None
    for j in range(k):
        term = m[..., 0, j] * _laplace(m[..., rest, :][..., :, [c for c in range(k) if c != j]])
        total = term if total is None else (total - term if j % 2 else total + term)
    return total


def _stack2(rows) -> Tensor:
    """A (..., n, n) tensor from n lists of n (...) tensors."""
    from vizgrad.ops.index import stack
    return stack([stack(r, -1) for r in rows], -2)


def _lu_field(node, k):
    if node._freed:
        from vizgrad.ops.base import FREED_MSG
        raise RuntimeError(FREED_MSG)
    # torch factors the row-major buffer as LAPACK reads it, column-major: the LU of A^T (same det)
    return Tensor._make(_lu(np.swapaxes(node.inputs[0]._data, -1, -2))[k])


class Inverse(Op):
    torch_name, symbol, latex, needs_out = "LinalgInvExBackward0", "A⁻¹", (r"-A^{-\top} g A^{-\top}",), True
    saved_fields = {"inverse": "result"}

    def forward(ctx, a):
        try:
            return np.linalg.inv(a)
        except np.linalg.LinAlgError:
            lu, _ = _lu(a)
            zero = int(np.argmax(np.diagonal(lu, axis1=-2, axis2=-1).reshape(-1, lu.shape[-1]) == 0, axis=-1).max())
            raise LinAlgError(f"linalg.inv: The diagonal element {zero + 1} is zero, the inversion could not be "
                              "completed because the input matrix is singular.") from None

    def backward(ctx, g, out, a):
        ot = _swapaxes(out, -1, -2)
        return (-(ot @ g @ ot),)

    def saved(self, k):
        return False  # only the result is kept


@public(method=True)
def det(input):
    _square(input, "det")
    return Det.apply(input)


@public(method=True)
def inverse(input):
    _square(input, "inv")
    return Inverse.apply(input)


# -- cross, dist, cdist ----------------------------------------------------------------------------
class Cross(Op):
    torch_name, symbol, latex = "LinalgCrossBackward0", "×", (r"b \times g", r"g \times a")
    saved_fields = {"dim": "attr:dim_given", "other": "input:1", "self": "input:0"}

    def forward(ctx, a, b, dim, dim_given):
        ctx.dim, ctx.dim_given = dim, dim_given
        return np.cross(a, b, axis=dim)

    def backward(ctx, g, out, a, b):
        if isinstance(g, Tensor):
            return (Cross.apply(*_pair(b, g), dim=ctx.dim, dim_given=ctx.dim_given),
                    Cross.apply(*_pair(g, a), dim=ctx.dim, dim_given=ctx.dim_given))
        return np.cross(b, g, axis=ctx.dim), np.cross(g, a, axis=ctx.dim)


def _cross(input, other, dim):
    a, b = _pair(input, other)
    shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    if dim is None:  # torch.cross without dim: the first dim of size 3 (deprecated, warns)
        import warnings
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=3)
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    d = dim + len(shape) if dim < 0 else dim
    if not 0 <= d < len(shape):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-len(shape)}, {len(shape) - 1}], "
                         f"but got {dim})")
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {a.shape[d]} and "
                           f"{b.shape[d]}")
    return Cross.apply(a, b, dim=d - len(shape), dim_given=dim + 2 ** 64 if dim < 0 else dim)


@public(method=True)
def cross(input, other, dim=None):
    return _cross(input, other, dim)


def linalg_cross(input, other, *, dim=-1):
    """torch.linalg.cross: dim -1 by default."""
    return _cross(input, other, dim)


class Dist(Op):
    """‖a − b‖_p of all elements (DistBackward0); the gradient at a = b is 0, as torch."""
    torch_name, symbol, needs_out = "DistBackward0", "dist", True
    latex = (r"\frac{d\,|d|^{p-2}}{\lVert d \rVert^{p-1}}", r"-\frac{d\,|d|^{p-2}}{\lVert d \rVert^{p-1}}")
    saved_fields = {"other": "input:1", "p": "attr:p", "result": "result", "self": "input:0"}
    result_params = ("p",)

    def forward(ctx, a, b, p):
        ctx.p = p
        d = np.abs(np.asarray(a - b))
        if p == 0:
            v = np.count_nonzero(d)
        elif p == float("inf"):
            v = d.max() if d.size else 0
        else:
            v = np.sum(d ** p) ** (1.0 / p)
        return np.asarray(v, dtype=np.result_type(a, b))[()]

    def backward(ctx, g, out, a, b):
        p, d = ctx.p, a - b
        if p == 0:  # a count: no gradient
            return g * 0 * d, g * 0 * d
        zero = _arr(out) == 0
        if p == float("inf"):  # the largest |d| (ties share), with d's sign
            hit = np.abs(_arr(d)) == _arr(out)
            r = g * (np.sign(_arr(d)) * hit / builtins.max(hit.sum(), 1))
            return r, -r
        safe = _where(zero, 1, out)
        if p == 2:
            r = _where(zero, 0, g * d / safe)
        else:  # d |d|^(p-2), 0 where d = 0 (|d|^(p-2) is infinite there for p < 2)
            dz = _arr(d) == 0
            r = _where(zero | dz, 0, g * d * (_where(dz, 1, d * d)) ** ((p - 2) / 2) / safe ** (p - 1))
        return r, -r


@public(method=True)
def dist(input, other, p=2):
    a, b = _pair(input, other)
    np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    return Dist.apply(a, b, p=p)


class Cdist(Op):
    """p-norm distances between the rows of x1 (..., P, M) and of x2 (..., R, M): (..., P, R).

    p = 0 counts the differing coordinates, p = inf takes the largest |difference|. The gradient
    is torch's (its _cdist_backward kernels), with diff = x1_i − x2_j over the last dim:
        p = 1     sign(diff)                          p = inf  sign(diff) where |diff| = dist
        p = 2     diff / dist                         p = 0    0 (a count)
        other p   sign(diff) |diff|^(p−1) / dist^(p−1)
    and 0 for a pair at distance 0 (and, for p < 1, for a coordinate where diff = 0, where
    |diff|^(p−1) is infinite). At a tie for the largest |diff| every tied coordinate gets the
    whole gradient, as in torch (torch.dist shares it instead)."""
    torch_name, symbol, needs_out = "CdistBackward0", "cdist", True
    latex = (r"\frac{\operatorname{sign}(d)\,|d|^{p-1}}{\lVert d \rVert_p^{p-1}}",
             r"-\frac{\operatorname{sign}(d)\,|d|^{p-1}}{\lVert d \rVert_p^{p-1}}")
    saved_fields = {"p": "attr:p", "result": "result", "x1": "input:0", "x2": "input:1"}
    result_params = ("p",)

    def local_latex(self):
        if self.p == 2:
            return (r"\frac{x_1 - x_2}{d}", r"\frac{x_2 - x_1}{d}")
        return self.latex

    def forward(ctx, x1, x2, p=2.0):
        ctx.p = p
        diff = np.abs(x1[..., :, None, :] - x2[..., None, :, :])    # (..., P, R, M)
        if p == 2:
            return np.sqrt(np.sum(diff * diff, -1))
        if p == 0:  # min(ceil|d|, 1): 1 where d != 0, NaN stays NaN (torch's count)
            return np.sum(np.minimum(np.ceil(diff), 1), -1)
        if p == 1:
            return np.sum(diff, -1)
        if p == float("inf"):  # torch's running max starts at 0 and skips NaN
            return np.max(np.where(np.isnan(diff), 0, diff), -1, initial=0)
        return np.sum(diff ** p, -1) ** (1 / p)

    def backward(ctx, g, out, x1, x2):
        p = ctx.p
        if isinstance(x1, Tensor):  # create_graph: the same formulas, recorded
            diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)                  # (..., P, R, M)
        else:
            diff = x1[..., :, None, :] - x2[..., None, :, :]
        if p == 2:
            zero = _arr(out) == 0
            r = _unsq(_where(zero, 0, g / _where(zero, 1, out)), -1) * diff
        elif p == 0:
            r = diff * 0
        else:
            sign = np.sign(_arr(diff))  # a constant: 0 where diff = 0, which also zeroes those terms
            if p == 1:
                r = _unsq(g, -1) * sign
            elif p == float("inf"):
                r = _unsq(g, -1) * (sign * (np.abs(_arr(diff)) == _arr(out)[..., None]))
            else:
                zero = _arr(out) == 0
                w = _where(zero, 0, g / _where(zero, 1, out) ** (p - 1))  # (..., P, R)
                mag = abs(diff)
                r = _unsq(w, -1) * sign * _where(sign == 0, 1, mag) ** (p - 1)
        return r.sum(-2), -r.sum(-3)


class EuclideanDist(Cdist):
    """cdist with more than 25 rows on either side: as torch, the squares come from one matrix
    product (‖x‖² + ‖y‖² − 2 x·y, clamped at 0), faster and rounded differently."""
    torch_name = "EuclideanDistBackward0"
    p = 2.0  # Cdist's backward, p = 2
    saved_fields = {"result": "result", "x1": "input:0", "x2": "input:1"}
    result_params = ()

    def forward(ctx, x1, x2):
        n1 = np.sum(x1 * x1, -1, keepdims=True)
        n2 = np.sum(x2 * x2, -1, keepdims=True)
        a = np.concatenate([-2 * x1, n1, np.ones_like(n1)], -1)
        b = np.concatenate([x2, np.ones_like(n2), n2], -1)
        return np.sqrt(np.maximum(a @ np.swapaxes(b, -1, -2), 0))


_C_TYPES = {"float16": "c10::Half", "float32": "float", "float64": "double"}  # torch's matmul dtype error
_COMPUTE_MODES = {"use_mm_for_euclid_dist_if_necessary": 0, "use_mm_for_euclid_dist": 1,
                  "donot_use_mm_for_euclid_dist": 2}


@public()
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """torch.cdist: the p-norm distance of every row of x1 (..., P, M) to every row of x2 (..., R, M),
    (..., P, R), batch dims broadcast. p = 2 with more than 25 rows on a side (or compute_mode
    'use_mm_for_euclid_dist') takes torch's matrix-product route (EuclideanDistBackward0)."""
    if x1.dim() < 2 or x2.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X{1 if x1.dim() < 2 else 2} got: "
                           f"{(x1 if x1.dim() < 2 else x2).dim()}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    mode = _COMPUTE_MODES[compute_mode]
    for k, x in ((1, x1), (2, x2)):
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, X{k} got: {x.dtype.tensor_type[:-6]}")
    if not p >= 0:  # (NaN too)
        raise RuntimeError("cdist only supports non-negative p values")
    try:
        np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    except ValueError:
        raise RuntimeError(_broadcast_message([x1.shape[:-2], x2.shape[:-2]])) from None
    mm = p == 2 and (mode == 1 or mode == 0 and (x1.shape[-2] > 25 or x2.shape[-2] > 25))
    if x1.dtype != x2.dtype:  # torch does not promote here
        if mm:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_C_TYPES[x1.dtype.name]} != "
                               f"{_C_TYPES[x2.dtype.name]}")
        raise RuntimeError(f"expected scalar type {x1.dtype.tensor_type[:-6]} but found {x2.dtype.tensor_type[:-6]}")
    if mm:
        return reshape(EuclideanDist.apply(x1, x2), tuple(np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2]))
                       + (x1.shape[-2], x2.shape[-2]))  # torch views it
    return Cdist.apply(x1, x2, p=float(p))


# -- products torch composes from other ops ---------------------------------------------------------
@public(method=True)
def kron(input, other):
    """The Kronecker product: (a0 b0, a1 b1, ...) blocks, each block a_ij * b (torch: a mul, then a view)."""
    n = builtins.max(input.dim(), other.dim())
    a = reshape(input, (1,) * (n - input.dim()) + tuple(input.shape))
    b = reshape(other, (1,) * (n - other.dim()) + tuple(other.shape))
    sa, sb = tuple(a.shape), tuple(b.shape)
    wide = mul(reshape(a, tuple(x for s in sa for x in (s, 1))), reshape(b, tuple(x for s in sb for x in (1, s))))
    out = reshape(wide, tuple(x * y for x, y in zip(sa, sb)))
    if out.grad_fn is not None:
        out.grad_fn.torch_name = "UnsafeViewBackward0"  # torch's kron ends in _unsafe_view
    return out


@public()
def tensordot(a, b, dims=2):
    """Sum over the last `dims` dims of a and the first of b (or the listed dims): a permute,
    a reshape to matrices, one mm and a view back, as torch."""
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        given_a, given_b = list(range(-dims, 0)), list(range(dims))
    else:
        given_a, given_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    da = [d % a.dim() for d in given_a]
    db = [d % b.dim() for d in given_b]
    for i, j, gi, gj in zip(da, db, given_a, given_b):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[i]} in dim {gi} "
                               f"and second has size {b.shape[j]} in dim {gj}")
    fa = [d for d in range(a.dim()) if d not in da]
    fb = [d for d in range(b.dim()) if d not in db]
    k = int(np.prod([a.shape[d] for d in da]))
    am = reshape(a.permute(*(fa + da)), (-1, k))
    bm = reshape(b.permute(*(db + fb)), (k, -1))
    return reshape(matmul(am, bm), tuple(a.shape[d] for d in fa) + tuple(b.shape[d] for d in fb))


@public(method=True)
def inner(input, other):
    if input.dim() == 0 or other.dim() == 0:
        return mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


_MESHGRID_WARNING = ("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument. "
                     "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4215.)")


@public()
def meshgrid(*tensors, indexing=None):
    """Each 1-D tensor viewed along its own axis and expanded to the grid (ExpandBackward0 over
    ViewBackward0, as torch). indexing='xy' swaps the first two axes; no indexing: 'ij', with
    torch's warning."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        import warnings
        warnings.warn(_MESHGRID_WARNING, UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t_ in tensors:
        if t_.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t_!r}")
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    sizes = tuple(t_.numel() for t_ in ts)
    n = len(ts)
    # Expand.apply, not expand(): torch records ExpandBackward0 even where the size does not change
    out = [Expand.apply(reshape(t_, (1,) * i + (-1,) + (1,) * (n - 1 - i)), shape=sizes) for i, t_ in enumerate(ts)]
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


@public()
def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, as rows (meshgrid, flattened, stacked).
    Each grid is flattened as torch's reshape does it, which names the nodes: a grid that varies
    along one dim only is viewed (ViewBackward0; ReshapeAliasBackward0 when it is broadcast over
    size-1 dims, i.e. not contiguous), any other is copied first (UnsafeViewBackward0 over
    CloneBackward0)."""
    if len(tensors) == 1:
        return tensors[0]
    from vizgrad.ops.index import stack
    grids = meshgrid(*tensors, indexing="ij")
    sizes = tuple(t_.numel() for t_ in tensors)
    return stack([_flatten_grid(g, i, sizes) for i, g in enumerate(grids)], 1)


def _flatten_grid(grid, i: int, sizes: tuple):
    """reshape(grid, (-1,)) for meshgrid's grid i, of shape `sizes`, which is tensor i expanded:
    stride 1 along dim i, 0 along the others (an element's steps; size-1 dims do not count)."""
    dims = [(n, 1 if k == i else 0) for k, n in enumerate(sizes) if n != 1]
    if builtins.all(st for _, st in dims):  # contiguous: a plain view
        return reshape(grid, (-1,))
    if builtins.all(dims[k][1] == dims[k + 1][1] * dims[k + 1][0] for k in range(len(dims) - 1)):
        flat, name = reshape(grid, (-1,)), "ReshapeAliasBackward0"  # a view with other strides
    else:
        flat, name = reshape(clone(grid), (-1,)), "UnsafeViewBackward0"
    if flat.grad_fn is not None:
        flat.grad_fn.torch_name = name
    return flat
