"""Elementwise functions of one tensor: neg, reciprocal, exp, log, sqrt, abs, sin, cos, tanh,
clamp (clamp_min, clamp_max), clone, tan; and the `_sin`/`_cos`/`_log`/`_exp` helpers backward formulas use."""
from __future__ import annotations

import numpy as np

from vizgrad import _dtype
from vizgrad.ops.base import Op, _arr, _cast, _dual, _floating_fn, _fmt_num, bind, public
from vizgrad.ops.index import _where


class Neg(Op):
    torch_name, symbol, latex, saves = "NegBackward0", "−", ("-1",), False
    elementwise = True

    def forward(ctx, a):
        return -a

    def backward(ctx, g, out, a):
        return (-g,)


class Reciprocal(Op):
    torch_name, symbol, latex, needs_out = "ReciprocalBackward0", "1/x", (r"-\frac{1}{a^{2}}",), True
    saved_fields = {"result": "result"}
    elementwise = True

    def forward(ctx, a):
        return 1 / a

    def backward(ctx, g, out, a):
        return (-g * out * out,)


class Exp(Op):
    torch_name, symbol, latex, needs_out = "ExpBackward0", "exp", (r"e^{a}",), True
    saved_fields = {"result": "result"}
    elementwise = True
    latex_name = r"\exp"

    def forward(ctx, a):
        return np.exp(a)

    def backward(ctx, g, out, a):
        return (g * out,)


class Log(Op):
    torch_name, symbol, latex = "LogBackward0", "log", (r"\frac{1}{a}",)
    saved_fields = {"self": "input:0"}
    elementwise = True
    latex_name = r"\log"

    def forward(ctx, a):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    def backward(ctx, g, out, a):
        return (g / a,)


class Sqrt(Op):
    torch_name, symbol, latex, needs_out = "SqrtBackward0", "√", (r"\frac{1}{2\sqrt{a}}",), True
    saved_fields = {"result": "result"}
    elementwise = True
    latex_name = r"\sqrt"

    def forward(ctx, a):
        with np.errstate(invalid="ignore"):
            return np.sqrt(a)

    def backward(ctx, g, out, a):
        return (g / (2 * out),)


class Abs(Op):
    torch_name, symbol, latex = "AbsBackward0", "|·|", (r"\operatorname{sign}(a)",)
    saved_fields = {"self": "input:0"}
    latex_name = "abs"
    elementwise = True

    def forward(ctx, a):
        return np.abs(a)

    def backward(ctx, g, out, a):
        return (g * np.sign(_arr(a)),)


class Sin(Op):
    torch_name, symbol, latex = "SinBackward0", "sin", (r"\cos a",)
    saved_fields = {"self": "input:0"}
    elementwise = True
    latex_name = r"\sin"

    def forward(ctx, a):
        return np.sin(a)

    def backward(ctx, g, out, a):
        return (g * _cos(a),)


class Cos(Op):
    torch_name, symbol, latex = "CosBackward0", "cos", (r"-\sin a",)
    saved_fields = {"self": "input:0"}
    elementwise = True
    latex_name = r"\cos"

    def forward(ctx, a):
        return np.cos(a)

    def backward(ctx, g, out, a):
        return (-g * _sin(a),)


class Tan(Op):
    torch_name, symbol, latex, needs_out = "TanBackward0", "tan", (r"1+\tan^{2}a",), True
    saved_fields = {"result": "result"}
    elementwise = True
    latex_name = r"\tan"

    def forward(ctx, a):
        return np.tan(a)

    def backward(ctx, g, out, a):
        return (g * (1 + out * out),)


class Tanh(Op):
    torch_name, symbol, latex, needs_out = "TanhBackward0", "tanh", (r"1-\tanh^{2}a",), True
    saved_fields = {"result": "result"}
    elementwise = True
    latex_name = r"\tanh"
    exact = True

    def forward(ctx, a):
        return np.tanh(a)

    def backward(ctx, g, out, a):
        if type(out) is np.ndarray and out.ndim:  # plain backward: one buffer, not three temporaries
            r = out * out
            np.subtract(1, r, out=r)
            r *= g
            return (r,)
        return (g * (1 - out * out),)


class Clamp(Op):
    torch_name, symbol, latex = "ClampBackward1", "clamp", (r"[lo \le a \le hi]",)
    saved_fields = {"max": "attr:max", "min": "attr:min", "self": "input:0"}
    result_params = ("min", "max")
    elementwise = True

    def forward(ctx, a, min, max):
        ctx.min, ctx.max = min, max
        return np.clip(a, min, max)

    def backward(ctx, g, out, a):
        a = _arr(a)
        keep = np.ones(np.shape(a), dtype=bool)
        if ctx.min is not None:
            keep &= a >= ctx.min
        if ctx.max is not None:
            keep &= a <= ctx.max
        return (_where(keep, g, 0),)

    def label(self):
        return f"clamp[{'' if self.min is None else _fmt_num(self.min)}, {'' if self.max is None else _fmt_num(self.max)}]"


class ClampMin(Clamp):
    torch_name, latex = "ClampMinBackward0", (r"[a \ge lo]",)
    saved_fields = {"min": "attr:min", "self": "input:0"}


class ClampMax(Clamp):
    torch_name, latex = "ClampMaxBackward0", (r"[a \le hi]",)
    saved_fields = {"max": "attr:max", "self": "input:0"}


class Clone(Op):
    torch_name, symbol, latex, saves = "CloneBackward0", "clone", ("1",), False
    elementwise = True

    def forward(ctx, a, order="K"):
        # order "K" keeps a's strides (torch's preserve_format), "C" lays it out row-major
        return np.array(a, order=order) if isinstance(a, np.ndarray) else a

    def backward(ctx, g, out, a):
        return (g,)


@bind("__neg__")
@public("negative", method=True)
def neg(input):
    return Neg.apply(input)


@public(method=True)
def reciprocal(input):
    return Reciprocal.apply(input)


exp = public(method=True)(_floating_fn(Exp, "exp"))
log = public(method=True)(_floating_fn(Log, "log"))
sqrt = public(method=True)(_floating_fn(Sqrt, "sqrt"))
sin = public(method=True)(_floating_fn(Sin, "sin"))
cos = public(method=True)(_floating_fn(Cos, "cos"))
tan = public(method=True)(_floating_fn(Tan, "tan"))
tanh = public(method=True)(_floating_fn(Tanh, "tanh"))


@bind("__abs__")
@public("absolute", method=True)
def abs(input):
    return Abs.apply(input)


@public("clip", method=True)
def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    d = _dtype.result_type([v for v in (input, min, max) if v is not None])
    return Clamp.apply(_cast(input, d), min=_arr(min), max=_arr(max))


@public(method=True)
def clamp_min(input, min):
    d = _dtype.result_type([input, min])
    return ClampMin.apply(_cast(input, d), min=_arr(min), max=None)


@public(method=True)
def clamp_max(input, max):
    d = _dtype.result_type([input, max])
    return ClampMax.apply(_cast(input, d), min=None, max=_arr(max))


@public(method=True)
def clone(input, memory_format=None):
    return Clone.apply(input)


@public(method=True)
def contiguous(input, memory_format=None):
    """The tensor itself when its elements are laid out row-major already, else a row-major copy
    (recorded as CloneBackward0, as torch does)."""
    return input if input.is_contiguous() else Clone.apply(input, order="C")


_sin = _dual(np.sin, sin)
_cos = _dual(np.cos, cos)
_log = _dual(np.log, log)
_exp = _dual(np.exp, exp)
