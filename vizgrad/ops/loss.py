"""Losses: mse, l1, binary cross-entropy (on probabilities and on logits), nll, cross-entropy.

`reduction` is 'mean' | 'sum' | 'none' throughout, as in torch; vizgrad.nn.functional exports
these functions under their torch names.
"""
from __future__ import annotations

import warnings

import numpy as np

from vizgrad.ops.activation import log_softmax as _log_softmax, sigmoid
from vizgrad.ops.arith import div_scalar, maximum
from vizgrad.ops.base import Op, _arr, _dual, _pair
from vizgrad.ops.linalg import _unsq
from vizgrad.ops.reduce import mean, sum
from vizgrad.ops.shape import reshape
from vizgrad.ops.unary import abs, clamp, exp, log
from vizgrad.tensor import Tensor


# -- losses ----------------------------------------------------------------------------------------
# The two most used losses are single nodes, as torch records them (MseLossBackward0,
# BinaryCrossEntropyWithLogitsBackward0): one node instead of 3 and 10 makes a training step of a
# small MLP markedly cheaper. Their backward formulas use only operators and `_sigmoid` (numpy or
# Tensor), so with create_graph=True they record a graph and double backward works as for any op.
def _np_sigmoid(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(np.result_type(a), copy=False)


_sigmoid = _dual(_np_sigmoid, sigmoid)


def _reduce_array(loss, reduction, dtype):
    if reduction == "mean":  # np.mean's own arithmetic (pairwise sum, then divide), without its wrapper
        return dtype.type(np.add.reduce(loss, axis=None, dtype=dtype) / loss.size) if loss.size else dtype.type(np.nan)
    if reduction == "sum":
        return np.sum(loss, dtype=dtype)
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


class MseLoss(Op):
    torch_name, symbol = "MseLossBackward0", "MSE"
    saved_fields = {"reduction": "reduction", "self": "input:0", "target": "input:1"}
    latex = (r"\tfrac{2}{n}(x - y)", r"-\tfrac{2}{n}(x - y)")

    def forward(ctx, x, y, reduction):
        d = x - y
        sq = d * d
        ctx.reduction, ctx.n = reduction, sq.size
        return _reduce_array(sq, reduction, np.result_type(sq))

    def backward(ctx, g, out, x, y):
        # torch's kernel: norm * (x - y) * g, norm = 2/n for 'mean' else 2
        norm = 2.0 / ctx.n if ctx.reduction == "mean" else 2.0
        gd = (norm * (x - y)) * g
        return gd, (-gd if ctx.inputs[1]._requires_grad else None)


class BCEWithLogits(Op):
    """max(x, 0) - x y + log(1 + e^{-|x|}), reduced; d/dx = σ(x) - y, d/dy = -x."""
    torch_name, symbol = "BinaryCrossEntropyWithLogitsBackward0", "BCE"
    saved_fields = {"pos_weight": None, "reduction": "reduction", "self": "input:0", "target": "input:1", "weight": None}
    latex = (r"\tfrac{1}{n}(\sigma(x) - y)", r"-\tfrac{1}{n}x")

    def forward(ctx, x, y, reduction):
        if type(x) is np.ndarray and x.ndim:  # the same formula, in two buffers
            soft = np.abs(x)
            np.negative(soft, out=soft)
            np.exp(soft, out=soft)
            np.log1p(soft, out=soft)                    # log(1 + e^{-|x|})
            loss = np.maximum(x, 0)
            loss -= x * y
            loss += soft
        else:
            loss = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
        ctx.reduction, ctx.n = reduction, loss.size
        return _reduce_array(loss, reduction, loss.dtype if type(loss) is np.ndarray else np.result_type(loss))

    def backward(ctx, g, out, x, y):
        # torch: (sigmoid(x) - y) * g, then / n for 'mean'
        if type(x) is np.ndarray and x.ndim and not ctx.inputs[1]._requires_grad:
            # plain backward: the same arithmetic in one buffer (7 numpy calls instead of 14);
            # sigmoid as torch computes it, 1 / (1 + e^-x): e^-x overflows to inf and gives 0
            s = np.negative(x)
            np.exp(s, out=s)  # (overflow warnings are muted for this module, below the imports)
            s += 1
            np.divide(1, s, out=s)
            s -= y
            if type(g) is np.ndarray or g != 1:  # (the usual seed 1 leaves s as it is)
                s *= g
            if ctx.reduction == "mean":
                s /= ctx.n
            return s, None
        gx = (_sigmoid(x) - y) * g
        gy = -x * g if ctx.inputs[1]._requires_grad else None
        if ctx.reduction == "mean":
            gx = gx / ctx.n
            gy = gy / ctx.n if gy is not None else None
        return gx, gy


class NllLoss(Op):
    """-w[t] x[n, t[n], ...] per sample, reduced ('mean' divides by the summed weights): one node,
    as torch records it. Targets and weights are constants of the node; the formula is linear in x."""
    torch_name, symbol = "NllLossBackward0", "NLL"
    saved_fields = {"ignore_index": 2 ** 64 - 100, "reduction": "reduction", "self": "input:0", "weight": None,
                    "target": lambda n: Tensor._make(np.asarray(n.key[1]).reshape(-1) if n.one_d else n.key[1]),
                    "total_weight": lambda n: Tensor._make(np.result_type(n.inputs[0]._data).type(n.den))}
    latex = (r"-\tfrac{w_{t}}{\sum w}\,[c = t]",)

    def forward(ctx, x, key, w, den, reduction, one_d):
        # x (N, C, d1, ...) or (C,) when one_d; key indexes x[n, t[n], d1, ...]; w (N, d1, ...) or None
        xx = x[None] if one_d else x
        loss = -xx[key] if w is None else -(xx[key] * w)
        ctx.key, ctx.w, ctx.den, ctx.reduction, ctx.one_d = key, w, den, reduction, one_d
        if reduction == "none":
            return loss[0] if one_d else loss
        total = np.add.reduce(loss, axis=None, dtype=loss.dtype)
        return loss.dtype.type(total / den if reduction == "mean" else total)

    def backward(ctx, g, out, x):
        # d loss / d x[n, t[n], ...] = -w (/ den): a scatter of constants, times the upstream g
        xa = _arr(x)
        m = np.zeros((1,) + xa.shape if ctx.one_d else xa.shape, dtype=xa.dtype)
        m[ctx.key] = -1 if ctx.w is None else -ctx.w
        if ctx.reduction == "mean":
            m /= ctx.den
        if ctx.one_d:
            m = m[0]
        if ctx.reduction == "none" and not ctx.one_d:
            g = _unsq(g, 1)  # (N, d1, ...) -> (N, 1, d1, ...): one gradient per sample
        return (g * Tensor._make(m) if isinstance(g, Tensor) else g * m,)


class NllLoss2d(NllLoss):
    torch_name = "NllLoss2DBackward0"


_clamp_min = _dual(np.maximum, lambda t, m: clamp(t, min=m))
_log_clamped = _dual(lambda a: np.maximum(np.log(a), -100), lambda t: clamp(log(t), min=-100))
_sign = _dual(np.sign, lambda t: Tensor._make(np.sign(t._data)))


def _scaled(ctx, gx, g):
    """An elementwise loss's gradient times the upstream g, / n for 'mean' (g per element for 'none')."""
    gx = gx * g
    return gx / ctx.n if ctx.reduction == "mean" else gx


class BinaryCrossEntropy(Op):
    """-w (y log x + (1 - y) log(1 - x)), each log clamped at -100, reduced: one node, as torch
    records F.binary_cross_entropy; the weight is a constant of the node."""
    torch_name, symbol = "BinaryCrossEntropyBackward0", "BCE"
    saved_fields = {"reduction": "reduction", "self": "input:0", "target": "input:1", "weight": "const:w"}
    latex = (r"	frac{x - y}{x (1 - x)}", r"\log(1 - x) - \log x")

    def forward(ctx, x, y, w, reduction):
        loss = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log1p(-x), -100))
        if w is not None:
            loss = loss * w
        ctx.w, ctx.reduction, ctx.n = w, reduction, np.size(loss)
        return _reduce_array(np.asarray(loss, dtype=np.result_type(x)), reduction, np.result_type(x))

    def backward(ctx, g, out, x, y):
        # torch: g (x - y) / max(x (1 - x), 1e-12) w; the target's: g (log(1 - x) - log x) w
        gx = (x - y) / _clamp_min((1 - x) * x, 1e-12)
        gy = (_log_clamped(1 - x) - _log_clamped(x)) if ctx.inputs[1]._requires_grad else None
        if ctx.w is not None:
            w = Tensor._make(ctx.w) if isinstance(g, Tensor) else ctx.w
            gx = gx * w
            gy = gy * w if gy is not None else None
        return _scaled(ctx, gx, g), (_scaled(ctx, gy, g) if gy is not None else None)


class SmoothL1Loss(Op):
    """0.5 d² / beta where |d| < beta, else |d| - beta / 2 (d = x - y), reduced."""
    torch_name, symbol = "SmoothL1LossBackward0", "SmoothL1"
    saved_fields = {"beta": "attr:beta", "reduction": "reduction", "self": "input:0", "target": "input:1"}
    latex = (r"\operatorname{clip}(d / eta, -1, 1)", r"-\operatorname{clip}(d / eta, -1, 1)")

    def forward(ctx, x, y, beta, reduction):
        d = x - y
        ad = np.abs(d)
        loss = np.where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta)
        ctx.beta, ctx.reduction, ctx.n = beta, reduction, np.size(loss)
        return _reduce_array(np.asarray(loss, dtype=np.result_type(x)), reduction, np.result_type(x))

    def slope(ctx, d):
        """d loss / d d, elementwise."""
        inside = np.abs(_arr(d)) < ctx.beta
        c = Tensor._make(inside.astype(_arr(d).dtype)) if isinstance(d, Tensor) else inside
        return c * d / ctx.beta + (1 - c) * _sign(d)

    def backward(ctx, g, out, x, y):
        gx = _scaled(ctx, ctx.slope(x - y), g)
        return gx, (-gx if ctx.inputs[1]._requires_grad else None)


class HuberLoss(SmoothL1Loss):
    """0.5 d² where |d| < delta, else delta (|d| - delta / 2): SmoothL1 times delta (beta = delta)."""
    torch_name, symbol = "HuberLossBackward0", "Huber"
    saved_fields = {"delta": "attr:beta", "reduction": "reduction", "self": "input:0", "target": "input:1"}
    latex = (r"\operatorname{clip}(d, -\delta, \delta)", r"-\operatorname{clip}(d, -\delta, \delta)")

    def forward(ctx, x, y, beta, reduction):
        out = SmoothL1Loss.forward(ctx, x, y, beta, reduction)
        return (out * beta).astype(np.result_type(x), copy=False) if np.ndim(out) else np.result_type(x).type(out * beta)

    def slope(ctx, d):
        return SmoothL1Loss.slope(ctx, d) * ctx.beta


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _legacy_reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return ("mean" if size_average else "sum") if reduce else "none"


def _as_tensor_like(target, input: Tensor) -> Tensor:
    if isinstance(target, Tensor):
        return target
    return Tensor._make(np.asarray(target, dtype=input._data.dtype))


def _check_size(input: Tensor, target: Tensor, name: str):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have "
                      "the same size.", stacklevel=3)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight=None) -> Tensor:
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _as_tensor_like(target, input)
    _check_size(input, target, "mse_loss")
    if weight is None and reduction in ("mean", "sum", "none"):
        a, b = _pair(input, target)
        return MseLoss.apply(a, b, reduction=reduction)
    d = input - target
    loss = d * d if weight is None else weight * (d * d)
    return _reduce(loss, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight=None) -> Tensor:
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _as_tensor_like(target, input)
    _check_size(input, target, "l1_loss")
    loss = abs(input - target)
    if weight is not None:
        loss = weight * loss
    return _reduce(loss, reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """-(y log x + (1 - y) log(1 - x)), each log clamped at -100 as torch does."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _as_tensor_like(target, input)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    x = input._data
    if np.any((x < 0) | (x > 1)):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    w = None
    if weight is not None:
        w = np.broadcast_to(np.asarray(_arr(weight), dtype=x.dtype), x.shape)
        if isinstance(weight, Tensor) and weight._requires_grad:  # a weight with a gradient: as ops
            loss = -(target * clamp(log(input), min=-100) + (1 - target) * clamp(log(1 - input), min=-100)) * weight
            return _reduce(loss, reduction)
    a, b = _pair(input, target)
    return BinaryCrossEntropy.apply(a, b, w=w, reduction=reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None) -> Tensor:
    """Stable form: max(x, 0) - x y + log(1 + exp(-|x|)); with pos_weight p,
    (1 - y) x + (1 + (p - 1) y) (log(1 + exp(-|x|)) + max(-x, 0))."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if type(target) is not Tensor:
        target = _as_tensor_like(target, input)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    if weight is None and pos_weight is None and reduction in ("mean", "sum", "none"):
        a, b = _pair(input, target)
        return BCEWithLogits.apply(a, b, reduction=reduction)
    zero = Tensor._make(input._data.dtype.type(0))
    soft = log(1 + exp(-abs(input)))          # log(1 + e^{-|x|})
    if pos_weight is None:
        loss = maximum(input, zero) - input * target + soft
    else:
        log_weight = (pos_weight - 1) * target + 1
        loss = (1 - target) * input + log_weight * (soft + maximum(-input, zero))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def nll_loss(input: Tensor, target: Tensor, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean") -> Tensor:
    """-input[n, target[n]] (times weight[target[n]]); 'mean' divides by the summed weights."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    tgt = np.asarray(target._data if isinstance(target, Tensor) else target)
    if tgt.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {Tensor._make(tgt).dtype.name.capitalize()}")
    shape, dt = input._data.shape, input._data.dtype
    if len(shape) == 1:  # a single sample (C,) with a 0-d target
        shape = (1,) + shape
        tgt = tgt.reshape(1)
    n, c = shape[0], shape[1]
    if tgt.shape[0] != n:
        raise ValueError(f"Expected input batch_size ({n}) to match target batch_size ({tgt.shape[0]}).")
    valid = tgt != ignore_index
    safe = np.where(valid, tgt, 0)
    if np.any(safe < 0) or np.any(safe >= c):
        raise IndexError(f"Target {int(safe[(safe < 0) | (safe >= c)].flat[0])} is out of bounds.")
    # gather x[n, t[n], d1, ...]: advanced index over batch (and extra dims) and class
    grids = np.indices((n,) + tuple(shape[2:]), sparse=True)
    key = (grids[0], safe) + tuple(grids[1:])
    w = np.ones(tgt.shape, dtype=dt) if weight is None else \
        np.asarray(weight._data if isinstance(weight, Tensor) else weight, dtype=dt)[safe]
    w = np.where(valid, w, 0).astype(dt)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if input.dim() in (1, 2, 4):  # torch's nll_loss / nll_loss2d: one node
        plain = weight is None and bool(valid.all())
        den = float(tgt.size) if plain else w.sum(dtype=dt)
        node = NllLoss2d if input.dim() == 4 else NllLoss
        return node.apply(input, key=key, w=None if plain else w, den=den, reduction=reduction,
                          one_d=input.dim() == 1)
    picked = input[key]                               # (N, d1, ...): 3-D and 5-D+ inputs, as ops
    if weight is None and valid.all():
        loss = -picked
    else:
        loss = -(picked * Tensor._make(w))
    if reduction == "none":
        return loss
    if reduction == "sum":
        return sum(loss)
    if weight is None and valid.all():
        return mean(loss)
    return sum(loss) / Tensor._make(dt.type(w.sum()))


def cross_entropy(input: Tensor, target: Tensor, weight=None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over the class dim, then nll_loss (class indices) or -sum(p log q) (probabilities)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    class_dim = 0 if input.dim() == 1 else 1
    logp = _log_softmax(input, class_dim)
    tgt = target._data if isinstance(target, Tensor) else np.asarray(target)
    if np.result_type(tgt).kind == "f":  # class probabilities
        t = _as_tensor_like(target, input)
        if label_smoothing > 0:
            c = input.shape[class_dim]
            t = t * (1 - label_smoothing) + label_smoothing / c
        prod = logp * t
        if weight is not None:
            shape = [1] * input.dim()
            shape[class_dim] = -1
            prod = prod * reshape(weight, tuple(shape))
        if reduction == "none":
            return -sum(prod, class_dim)
        if reduction == "sum":
            return -sum(prod)
        if reduction == "mean":  # over the samples (and extra dims): DivBackward1, a division by a number
            return div_scalar(-sum(prod), input.numel() // input.shape[class_dim])
        raise ValueError(f"{reduction} is not a valid value for reduction")
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0:
        return nll
    c = input.shape[class_dim]
    valid = Tensor._make((np.asarray(tgt) != ignore_index).astype(input._data.dtype))
    lp = logp if weight is None else logp * reshape(weight, tuple(-1 if i == class_dim else 1
                                                                       for i in range(input.dim())))
    smooth = -sum(lp, class_dim) * valid
    if reduction == "none":
        smooth_r = smooth
    elif reduction == "sum":
        smooth_r = sum(smooth)
    else:
        if weight is None:
            smooth_r = sum(smooth) / float(valid._data.sum())
        else:
            wsum = np.asarray(weight._data)[np.where(np.asarray(tgt) != ignore_index, tgt, 0)]
            smooth_r = sum(smooth) / float((wsum * valid._data).sum())
    return nll * (1 - label_smoothing) + smooth_r * (label_smoothing / c)


def _elementwise_loss(node, input, target, param, size_average, reduce, reduction):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _as_tensor_like(target, input)
    _check_size(input, target, node.torch_name)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    a, b = _pair(input, target)
    a, b = (_expand_to(a, b), _expand_to(b, a))
    return node.apply(a, b, beta=param, reduction=reduction)


def _expand_to(t, other):
    """Broadcast t to the common shape (after the size warning, as torch does)."""
    shape = np.broadcast_shapes(t._data.shape, other._data.shape)
    return t if t._data.shape == shape else t.expand(*shape)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:  # torch: plain L1 then
        return l1_loss(input, target, size_average, reduce, reduction)
    return _elementwise_loss(SmoothL1Loss, input, target, beta, size_average, reduce, reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is not None:
        raise NotImplementedError("huber_loss(weight=...) is not supported")
    return _elementwise_loss(HuberLoss, input, target, delta, None, None, reduction)


def _xlogy_self(t: Tensor) -> Tensor:
    """t log t with 0 log 0 = 0 (torch's xlogy(t, t))."""
    safe = Tensor._make(np.where(np.asarray(t._data) > 0, t._data, 1).astype(t._data.dtype))
    if not t._requires_grad:
        return Tensor._make((np.asarray(t._data) * np.log(safe._data)).astype(t._data.dtype))
    return t * log(safe + (t - t.detach()))  # value t log t where t > 0; d/dt = log t + 1 there


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
    """KL(target || exp(input)) pointwise: target (log target - input), reduced; 'batchmean' divides
    the sum by the batch size (the mathematical KL), 'mean' by the number of elements, as torch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _as_tensor_like(target, input)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        loss = _xlogy_self(target) - target * input
    if reduction == "batchmean":
        return sum(loss) / input.shape[0] if input.dim() else sum(loss)
    return _reduce(loss, reduction)
