"""vizgrad.ops: every differentiable operation, one class each, in one module per kind.

    base        Op (the grad_fn node), AccumulateGrad, OPS, operand promotion, dual helpers
    arith       + − × ÷ **, maximum, minimum, atan2, hypot, logaddexp, xlogy, fmax, lerp, addcmul, addcdiv
    unary       exp, log, sin, abs, clamp, log1p, expm1, erf, erfinv, asin, sinh, sinc, lgamma, digamma ...
    activation  sigmoid, relu, gelu, softmax ...      reduce      sum, mean, max, norm, renorm ...
    shape       reshape, transpose, expand, diagonal, diag_embed, narrow, movedim, t_ ...
    index       x[key], cat, stack, where ...         loss        mse, bce, nll, cross-entropy
    linalg      matmul, addmm, nn.Linear's node, det, inverse, cross, dist, cdist, kron, tensordot, meshgrid ...
    compare     eq, lt, isnan, all, logical_xor, heaviside, bitwise_and, & | ^ ~ << >> ... (no grad)
    inplace     x.sin_(), x.relu_(), x.clamp_(), x.addcmul_(), x.lerp_() ...
    select      gather, scatter, sort, topk, cumsum, cumprod, cummax, median, kthvalue, masked_select,
                index_fill, flip, roll, repeat, tile, masked_fill; nonzero, unique, bincount, searchsorted, histc
    contract    einsum (composed from permute, reshape, matmul, sum, mul)
    conv        conv1d/conv2d, max_pool2d, avg_pool2d, embedding
    normalization  batch_norm, layer_norm

Every name of those modules is also an attribute of this package (`vizgrad.ops.mul`,
`vizgrad.ops.Sin`, `vizgrad.ops.OPS` ...).

Adding an op touches one module: its `Op` subclass registers itself in `OPS` (by torch_name),
and the decorator on its public function registers that as `vizgrad.<name>` and binds
`Tensor.<name>` (base.public), e.g. in unary.py:

    class Tan(Op):
        torch_name, symbol, latex, needs_out = "TanBackward0", "tan", (r"1+\tan^{2}a",), True
        def forward(ctx, a): return np.tan(a)
        def backward(ctx, g, out, a): return (g * (1 + out * out),)

    tan = public(method=True)(_floating_fn(Tan, "tan"))      # vizgrad.tan(x), x.tan()
"""
from __future__ import annotations

from types import ModuleType as _ModuleType

# in dependency order: each module imports only those before it
from vizgrad.ops import base, shape, index, unary, arith, reduce, activation, linalg, loss, compare, select, inplace, contract, conv, normalization  # noqa: I001

for _m in (base, shape, index, unary, arith, reduce, activation, linalg, loss, compare, select, inplace, contract, conv, normalization):
    globals().update({k: v for k, v in vars(_m).items() if not k.startswith("__") and not isinstance(v, _ModuleType)})
