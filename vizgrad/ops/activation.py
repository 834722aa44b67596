"""Activations: sigmoid, relu, leaky_relu, gelu, silu, softplus, softmax, log_softmax."""
from __future__ import annotations

import math

import numpy as np

from vizgrad.ops.base import Op, _arr, _floating_fn, public, to
from vizgrad.ops.index import _where
from vizgrad.ops.reduce import sum
from vizgrad.ops.unary import _as_stored as _storage, _erf64 as _erf, _exp, exp, tanh
from vizgrad.tensor import Tensor, _norm_dim


class Sigmoid(Op):
    torch_name, symbol, latex, needs_out = "SigmoidBackward0", "σ", (r"\sigma(a)\,(1-\sigma(a))",), True
    saved_fields = {"result": "result"}
    elementwise = True
    latex_name = r"\sigma"

    def forward(ctx, a):
        # torch's formula: e^-a overflows to inf for very negative a, giving exactly 0 as torch does
        with np.errstate(over="ignore"):
            return 1 / (1 + np.exp(-a))

    def backward(ctx, g, out, a):
        return (g * out * (1 - out),)


class Relu(Op):
    torch_name, symbol, latex = "ReluBackward0", "relu", (r"[a > 0]",)
    saved_fields = {"result": "result"}
    elementwise = True

    def forward(ctx, a):
        return np.maximum(a, 0)

    def backward(ctx, g, out, a):
        return (_where(_arr(a) > 0, g, 0),)  # where, not g * mask: an inf upstream must give 0, as torch


class LeakyRelu(Op):
    torch_name, symbol = "LeakyReluBackward0", "lrelu"
    saved_fields = {"negative_slope": "attr:negative_slope", "self": "input:0"}
    elementwise = True
    latex = (r"[a>0] + \alpha[a \le 0]",)

    def forward(ctx, a, negative_slope):
        ctx.negative_slope = negative_slope
        return np.where(a > 0, a, a * negative_slope).astype(np.result_type(a), copy=False)

    def backward(ctx, g, out, a):
        a = _arr(a)
        return (g * np.where(a > 0, 1, ctx.negative_slope).astype(np.result_type(a)),)


_SQRT2 = math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_K = math.sqrt(2 / math.pi)  # the tanh form: gelu(x) ~ x/2 (1 + tanh(K (x + 0.044715 x^3)))


class Gelu(Op):
    torch_name, symbol = "GeluBackward0", "gelu"
    saved_fields = {"approximate": "attr:approximate", "self": "input:0"}
    elementwise = True
    latex = (r"\Phi(a) + a\,\varphi(a)",)

    def forward(ctx, a, approximate):
        ctx.approximate = approximate
        x = np.asarray(a, dtype=np.float64)
        if approximate == "tanh":
            y = 0.5 * x * (1 + np.tanh(_K * (x + 0.044715 * x ** 3)))
        else:
            y = 0.5 * x * (1 + _erf(x / _SQRT2))
        return _storage(np.asarray(y), a)

    def backward(ctx, g, out, a):
        if isinstance(a, Tensor):  # create_graph: the same derivative, written with recorded ops
            return (g * _gelu_derivative(a, ctx.approximate),)
        x = np.asarray(a, dtype=np.float64)
        if ctx.approximate == "tanh":
            t = np.tanh(_K * (x + 0.044715 * x ** 3))
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _K * (1 + 3 * 0.044715 * x * x)
        else:
            d = 0.5 * (1 + _erf(x / _SQRT2)) + x * np.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return (g * _storage(np.asarray(d), a),)


def _gelu_derivative(x: Tensor, approximate: str) -> Tensor:
    """d gelu / dx as a differentiable Tensor expression, for either form (double backward)."""
    if approximate == "tanh":
        t = tanh((x + 0.044715 * x * x * x) * _K)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _K * (1 + 3 * 0.044715 * x * x)
    pdf = exp(-0.5 * x * x) * _INV_SQRT_2PI
    return _cdf_tensor(x, pdf) + x * pdf


def _cdf_tensor(x: Tensor, pdf: Tensor) -> Tensor:
    """Phi(x) as a tensor whose derivative is the normal pdf: its value from erf (no erf op here),
    its gradient through `pdf`, a Tensor formula, so the derivative of gelu' is exact."""
    val = Tensor._make(_storage(0.5 * (1 + _erf(np.asarray(x._data, np.float64) / _SQRT2)), x._data))
    return val + (x - x.detach()) * pdf  # value = Phi(x); d/dx = pdf(x)


sigmoid = public(method=True)(_floating_fn(Sigmoid, "sigmoid"))


@public(method=True)
def relu(input):
    return Relu.apply(input)


def leaky_relu(input, negative_slope=0.01):
    return LeakyRelu.apply(input, negative_slope=negative_slope)


def gelu(input, approximate="none"):
    return Gelu.apply(input, approximate=approximate)


class Silu(Op):
    torch_name, symbol = "SiluBackward0", "silu"
    saved_fields = {"self": "input:0"}
    elementwise = True
    latex = (r"\sigma(a)\,(1 + a\,(1-\sigma(a)))",)

    def forward(ctx, a):
        with np.errstate(over="ignore"):
            return a / (1 + np.exp(-a))

    def backward(ctx, g, out, a):
        if isinstance(a, Tensor):  # create_graph: the same derivative with recorded ops
            s = sigmoid(a)
            return (g * s * (1 + a * (1 - s)),)
        with np.errstate(over="ignore"):
            s = 1 / (1 + np.exp(-a))
        return (g * s * (1 + a * (1 - s)),)


class Softplus(Op):
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (torch's formula)."""
    torch_name, symbol = "SoftplusBackward0", "softplus"
    saved_fields = {"beta": "attr:beta", "self": "input:0", "threshold": "attr:threshold"}
    elementwise = True
    latex = (r"\sigma(\beta a)",)

    def forward(ctx, a, beta, threshold):
        ctx.beta, ctx.threshold = beta, threshold
        z = a * beta
        with np.errstate(over="ignore"):
            return np.where(z > threshold, a, np.log1p(np.exp(z)) / beta).astype(np.result_type(a))

    def backward(ctx, g, out, a):
        if isinstance(a, Tensor):
            big = (a.detach() * ctx.beta > ctx.threshold).to(a.dtype)
            return (g * (big + (1 - big) * sigmoid(a * ctx.beta)),)
        z = a * ctx.beta
        with np.errstate(over="ignore"):
            return (np.where(z > ctx.threshold, g, g / (1 + np.exp(-z))).astype(np.result_type(a)),)


class LogSigmoid(Op):
    """log sigmoid(a) = min(a, 0) - log1p(e^-|a|), stable on both sides (torch's formula; its
    `buffer` is e^-|a|, kept for the backward)."""
    torch_name, symbol = "LogSigmoidBackward0", "logsigmoid"
    saved_fields = {"buffer": "const:buffer", "self": "input:0"}
    elementwise = True
    latex = (r"\sigma(-a)",)

    def forward(ctx, a):
        ctx.buffer = np.exp(-np.abs(a))
        return (np.minimum(a, 0) - np.log1p(ctx.buffer)).astype(np.result_type(a))

    def backward(ctx, g, out, a):
        if isinstance(a, Tensor):  # create_graph: d/da log sigmoid(a) = sigmoid(-a), recorded
            return (g * sigmoid(-a),)
        z = ctx.buffer  # sigmoid(-a) from e^-|a| without overflow: 1/(1+z) below 0, z/(1+z) above
        return ((g * np.where(a < 0, 1, z) / (1 + z)).astype(np.result_type(a)),)


def silu(input):
    return Silu.apply(input)


def logsigmoid(input):
    return LogSigmoid.apply(input)


def softplus(input, beta=1.0, threshold=20.0):
    return Softplus.apply(input, beta=beta, threshold=threshold)


def _softmax_dim(ndim):
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Op):
    torch_name, symbol, needs_out = "SoftmaxBackward0", "softmax", True
    saved_fields = {"dim": "attr:dim", "result": "result"}
    result_params = ("dim",)
    latex = (r"s\,(g - \textstyle\sum g s)",)

    def forward(ctx, a, dim):
        ctx.dim = dim
        e = np.exp(a - np.max(a, axis=dim, keepdims=True))
        return e / e.sum(axis=dim, keepdims=True)

    def backward(ctx, g, out, a):
        return (out * (g - _sumd(g * out, ctx.dim)),)


class LogSoftmax(Op):
    torch_name, symbol, needs_out = "LogSoftmaxBackward0", "log_softmax", True
    saved_fields = {"dim": "attr:dim", "result": "result"}
    result_params = ("dim",)
    latex = (r"g - e^{y}\textstyle\sum g",)

    def forward(ctx, a, dim):
        ctx.dim = dim
        z = a - np.max(a, axis=dim, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=dim, keepdims=True))

    def backward(ctx, g, out, a):
        return (g - _exp(out) * _sumd(g, ctx.dim),)


def _sumd(x, dim):
    if isinstance(x, Tensor):
        return sum(x, dim, keepdim=True)
    return np.sum(x, axis=dim, keepdims=True)


@public(method=True)
def softmax(input, dim=None, dtype=None, _stacklevel=3):
    if dtype is not None:
        input = to(input, dtype)
    dim = _softmax_dim(input.dim()) if dim is None else _norm_dim(dim, input.dim())
    return Softmax.apply(input, dim=dim)


@public(method=True)
def log_softmax(input, dim=None, dtype=None, _stacklevel=3):
    if dtype is not None:
        input = to(input, dtype)
    dim = _softmax_dim(input.dim()) if dim is None else _norm_dim(dim, input.dim())
    return LogSoftmax.apply(input, dim=dim)

