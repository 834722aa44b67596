"""Elementwise arithmetic of two operands (+ − × ÷ **, maximum, minimum), with torch's
broadcasting and type promotion; `x ** n` and square; atan2, hypot, logaddexp, xlogy, fmax, fmin;
and of three: lerp, addcmul, addcdiv (with their in-place forms, which optimizers use)."""
from __future__ import annotations

import numpy as np

from vizgrad import _dtype
from vizgrad.ops.base import _FLOAT_SCALARS, _SHARED, Op, _arr, _cast, _fmt_num, _pair, _shared_const, bind, public, to
from vizgrad.ops.index import _where
from vizgrad.ops.unary import _exp, _log, reciprocal
from vizgrad.tensor import Tensor


class Add(Op):
    torch_name, symbol, latex, saves = "AddBackward0", "+", ("1", "1"), False
    saved_fields = {"alpha": 1}
    elementwise = True

    def forward(ctx, a, b):
        return a + b

    def backward(ctx, g, out, a, b):
        return g, g


class Sub(Op):
    torch_name, symbol, latex, saves = "SubBackward0", "−", ("1", "-1"), False
    saved_fields = {"alpha": 1}
    elementwise = True

    def forward(ctx, a, b):
        return a - b

    def backward(ctx, g, out, a, b):
        return g, -g


class AddAlpha(Add):
    """`add(a, b, alpha=k)`: one AddBackward0 node that saves nothing, as in torch."""
    saved_fields = {"alpha": "attr:alpha"}

    def forward(ctx, a, b, alpha):
        ctx.alpha = alpha
        return a + b * alpha

    def backward(ctx, g, out, a, b):
        return g, g * ctx.alpha


class SubAlpha(Sub):
    saved_fields = {"alpha": "attr:alpha"}
    def forward(ctx, a, b, alpha):
        ctx.alpha = alpha
        return a - b * alpha

    def backward(ctx, g, out, a, b):
        return g, -g * ctx.alpha


def _number_edge_dropped(self) -> tuple:
    """torch's node for `number <op> x` has no edge for the number: next_functions lists x only."""
    return Op.next_functions.fget(self)[1:]


class Rsub(Sub):
    """`1 - x`: torch names the node RsubBackward1; operands stay in written order (1, x)."""
    torch_name = "RsubBackward1"
    next_functions = property(_number_edge_dropped)


class Mul(Op):
    torch_name, symbol, latex = "MulBackward0", "×", ("b", "a")
    saved_fields = {"other": "input:1?0", "self": "input:0?1"}  # each is kept for the other's gradient
    elementwise = True

    def forward(ctx, a, b):
        return a * b

    def backward(ctx, g, out, a, b):
        return g * b, g * a


class Div(Op):
    torch_name, symbol, latex = "DivBackward0", "÷", (r"\frac{1}{b}", r"-\frac{a}{b^{2}}")
    saved_fields = {"other": "input:1", "self": "input:0?1"}
    elementwise = True

    def forward(ctx, a, b):
        return a / b

    def backward(ctx, g, out, a, b):
        return g / b, -g * a / (b * b)


class Pow(Op):
    """Tensor ** Tensor (PowBackward1); `2 ** x` is PowBackward2 with the constant base as input a."""
    torch_name, symbol, latex = "PowBackward1", "**", (r"b\,a^{b-1}", r"a^{b}\ln a")
    saved_fields = {"exponent": "input:1", "result": "result", "self": "input:0"}
    elementwise = True
    needs_out = True

    def forward(ctx, a, b):
        return a ** b

    def backward(ctx, g, out, a, b):
        # d/db at a == 0 is 0 in torch (not nan from 0 * log 0): mask those entries
        with np.errstate(invalid="ignore"):  # log of a negative base is nan, as in torch
            safe_log = _log(_where(_arr(a) == 0, 1, a))
        return g * b * a ** (b - 1), _where(_arr(a) == 0, 0, g * out * safe_log)


class RPow(Pow):
    torch_name = "PowBackward2"
    saved_fields = {"exponent": "input:1", "result": "result", "self": "scalar:0"}
    next_functions = property(_number_edge_dropped)


class PowScalar(Op):
    """Tensor ** number: one input, the exponent is a parameter (`**2` on the node)."""
    torch_name, symbol = "PowBackward0", "**"
    saved_fields = {"exponent": "attr:exponent", "self": "input:0"}
    elementwise = True

    def forward(ctx, a, exponent):
        ctx.exponent = exponent
        return a ** exponent

    def backward(ctx, g, out, a):
        e = ctx.exponent
        if e == 0:
            return (g * 0,)
        return (g * e * a ** (e - 1),)

    def label(self):
        return f"**{_fmt_num(self.exponent)}"

    def local_latex(self):
        e = self.exponent
        return (rf"{_fmt_num(e)}\,a^{{{_fmt_num(e - 1)}}}",)

    latex = (r"n\,a^{n-1}",)


class DivScalar(Op):
    """Tensor / number through torch's Scalar overload (DivBackward1): what torch's own library
    code records, e.g. cross_entropy's mean over probability targets. `x / 2` is DivBackward0."""
    torch_name, symbol, saves = "DivBackward1", "÷", False
    saved_fields = {"other": "attr:other"}
    elementwise = True

    def forward(ctx, a, other):
        ctx.other = other
        return a / other

    def backward(ctx, g, out, a):
        return (g / ctx.other,)

    def label(self):
        return f"÷{_fmt_num(self.other)}"

    def local_latex(self):
        return (rf"\frac{{1}}{{{_fmt_num(self.other)}}}",)

    latex = (r"\frac{1}{n}",)


def div_scalar(input, other):
    """input / other for a Python number `other`, recorded as DivBackward1."""
    return DivScalar.apply(input, other=input._data.dtype.type(other))


class Maximum(Op):
    torch_name, symbol, latex = "MaximumBackward0", "max", (r"[a > b]", r"[b > a]")
    saved_fields = {"other": "input:1", "self": "input:0"}
    elementwise = True
    latex_name = r"\max"
    _pick, _wins = staticmethod(np.maximum), staticmethod(np.greater)  # Minimum: np.minimum, np.less

    def forward(ctx, a, b):
        return ctx._pick(a, b)

    def backward(ctx, g, out, a, b):
        a, b = _arr(a), _arr(b)
        # ties split the gradient in half, as torch does
        wa = ctx._wins(a, b) + 0.5 * (a == b)
        return g * wa.astype(np.result_type(a)), g * (1 - wa).astype(np.result_type(a))


class Minimum(Maximum):
    torch_name, symbol, latex = "MinimumBackward0", "min", (r"[a < b]", r"[b < a]")
    latex_name = r"\min"
    _pick, _wins = staticmethod(np.minimum), staticmethod(np.less)


@public(method=True)
def add(input, other, *, alpha=1):
    a, b = _pair(input, other)
    if alpha != 1:
        return AddAlpha.apply(a, b, alpha=alpha)
    return Add.apply(a, b)


@bind("__sub__")
@public("subtract", method=True)
def sub(input, other, *, alpha=1):
    a, b = _pair(input, other)
    if alpha != 1:
        return SubAlpha.apply(a, b, alpha=alpha)
    return Sub.apply(a, b)


@bind("__rsub__")
@public()
def rsub(input, other):
    """other - input, for `number - tensor`."""
    a, b = _pair(other, input)
    return Rsub.apply(a, b)


@public("multiply", method=True)
def mul(input, other):
    a, b = _pair(input, other)
    return Mul.apply(a, b)


@bind("true_divide")
@bind("true_divide", "__truediv__")
@public("divide", method=True)
def div(input, other, *, rounding_mode=None):
    a, b = _pair(input, other)
    if rounding_mode is not None and not a.dtype.is_floating_point:  # integer // integer stays integer
        fn = np.floor_divide if rounding_mode == "floor" else (lambda x, y: np.trunc(x / y).astype(x.dtype))
        return Tensor._make(fn(a._data, b._data))
    if not a.dtype.is_floating_point:  # true division of integers gives the default float, as torch
        a, b = to(a, _dtype.get_default_dtype()), to(b, _dtype.get_default_dtype())
    if rounding_mode is not None:
        with_grad = Div.apply(a, b)
        fn = np.floor if rounding_mode == "floor" else np.trunc
        return Tensor._make(fn(with_grad._data).astype(with_grad._data.dtype))
    return Div.apply(a, b)


@bind("__rtruediv__")
def rdiv(input, other):
    """`number / tensor` is reciprocal(tensor) * number in torch (MulBackward0 over ReciprocalBackward0)."""
    if not input.dtype.is_floating_point:
        input = to(input, _dtype.get_default_dtype())
    return mul(reciprocal(input), other)


@bind("__pow__")
@public(method=True)
def pow(input, exponent):
    if (type(exponent) is int or type(exponent) is float) and isinstance(input, Tensor):
        if isinstance(exponent, float) and input._data.dtype.kind != "f":
            input = to(input, _dtype.get_default_dtype())
        return PowScalar.apply(input, exponent=exponent)
    if not isinstance(input, Tensor):
        a, b = _pair(input, exponent)
        return RPow.apply(a, b)
    a, b = _pair(input, exponent)
    return Pow.apply(a, b)


def _remainder(a, b):
    """a - b * floor(a / b) as torch computes it: fmod, moved by b where the signs differ (so
    -2.0 % 2.0 is -0.0, as torch prints it; numpy's remainder would give +0.0)."""
    if np.result_type(a, b).kind != "f":
        return np.remainder(a, b)
    m = np.fmod(a, b)
    return np.where((m != 0) & ((np.asarray(b) < 0) != (m < 0)), m + b, m).astype(np.result_type(m))


class Remainder(Op):
    """tensor % tensor (RemainderBackward1); `x % 2` is RemainderScalar (RemainderBackward0)."""
    torch_name, symbol, latex = "RemainderBackward1", "%", ("1", r"-\lfloor a/b \rfloor")
    saved_fields = {"other": "input:1", "self": "input:0"}
    elementwise = True

    def forward(ctx, a, b):
        return _remainder(a, b)

    def backward(ctx, g, out, a, b):
        return g, -g * np.floor(_arr(a) / _arr(b))


class RemainderScalar(Op):
    torch_name, symbol, latex, saves = "RemainderBackward0", "%", ("1",), False
    elementwise = True

    def forward(ctx, a, other):
        return _remainder(a, other)

    def backward(ctx, g, out, a):
        return (g,)


class RemainderOfNumber(Op):
    """`7 % x` and remainder(7, x): torch's remainder(Scalar, Tensor) has no derivative. It records
    a node named NotImplemented whose backward raises torch's error."""
    torch_name, symbol, saves = "NotImplemented", "%", False
    latex = (r"\text{not implemented}",)  # torch defines no derivative: backward raises
    elementwise = True

    aten = "remainder"  # the function named in the error

    def name(self) -> str:
        return "torch::autograd::NotImplemented"

    def forward(ctx, b, other):
        return _remainder(other, b)

    def backward(ctx, g, out, *inputs):
        raise RuntimeError(f"derivative for aten::{ctx.aten} is not implemented")


class HeavisideNotImplemented(RemainderOfNumber):
    """heaviside(input, values): torch defines no derivative; the same NotImplemented node."""
    symbol, latex, aten = "H", (r"\text{not implemented}", r"\text{not implemented}"), "heaviside"

    def forward(ctx, a, values):
        return np.asarray(np.heaviside(a, values)).astype(np.result_type(a))[()]


HeavisideNotImplemented.__name__ = "NotImplemented"  # as type(grad_fn).__name__ prints in torch


@public(method=True)
def heaviside(input, values):
    """0 where input < 0, 1 where > 0, `values` where 0; differentiable in neither (torch's
    NotImplemented node when one requires grad)."""
    if input.dtype != values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return HeavisideNotImplemented.apply(input, values)


class Fmod(Op):
    """fmod(tensor, tensor): the remainder with the dividend's sign (FmodBackward1)."""
    torch_name, symbol, latex = "FmodBackward1", "fmod", ("1", r"-\operatorname{trunc}(a/b)")
    saved_fields = {"other": "input:1", "self": "input:0"}
    elementwise = True

    def forward(ctx, a, b):
        return np.fmod(a, b)

    def backward(ctx, g, out, a, b):
        return g, -g * np.trunc(_arr(a) / _arr(b))


class FmodScalar(Op):
    torch_name, symbol, latex, saves = "FmodBackward0", "fmod", ("1",), False
    elementwise = True

    def forward(ctx, a, other):
        return np.fmod(a, other)

    def backward(ctx, g, out, a):
        return (g,)


def _scalar_or_pair(input, other, scalar_op, tensor_op):
    if isinstance(input, Tensor) and (type(other) is int or type(other) is float):
        if isinstance(other, float) and input._data.dtype.kind != "f":
            input = to(input, _dtype.get_default_dtype())
        return scalar_op.apply(input, other=np.asarray(other, dtype=input._data.dtype)[()])
    return tensor_op.apply(*_pair(input, other))


@bind("__mod__")
@public(method=True)
def remainder(input, other):
    if isinstance(other, Tensor) and (type(input) is int or type(input) is float):
        return _rmod(other, input)
    return _scalar_or_pair(input, other, RemainderScalar, Remainder)


@bind("__rmod__")
def _rmod(input, other):
    if type(other) is int or type(other) is float:  # number % tensor: the divisor is the tensor
        return _scalar_or_pair(input, other, RemainderOfNumber, None)
    return Remainder.apply(*_pair(other, input))


@public(method=True)
def fmod(input, other):
    return _scalar_or_pair(input, other, FmodScalar, Fmod)


@public(method=True)
def maximum(input, other):
    return Maximum.apply(*_pair(input, other))


@public(method=True)
def minimum(input, other):
    return Minimum.apply(*_pair(input, other))


@public(method=True)
def square(input):
    return PowScalar.apply(input, exponent=2)



# -- operators: x + y, x * 0.5 ... (bound to Tensor at import) ------------------------------------
@bind("__add__", "__radd__")
def _add_operator(self, other):
    if type(other) is float:  # `h + 0.5` on a 0-d float tensor: the shortest path (scalar chains)
        tp = type(self._data)
        if tp in _FLOAT_SCALARS:
            c = _SHARED.get((tp, other))
            return Add.apply(self, c if c is not None else _shared_const(tp, other))
    return Add.apply(*_pair(self, other))


@bind("__mul__", "__rmul__")
def _mul_operator(self, other):
    if type(other) is float:
        tp = type(self._data)
        if tp in _FLOAT_SCALARS:
            c = _SHARED.get((tp, other))
            return Mul.apply(self, c if c is not None else _shared_const(tp, other))
    return Mul.apply(*_pair(self, other))


@bind("__floordiv__")
def _floordiv_operator(self, other):
    return div(self, other, rounding_mode="floor")


@bind("__rpow__")
def _rpow_operator(self, other):
    return pow(other, self)



# -- more functions of two operands (torch's derivatives.yaml formulas) --------------------------
def _floating_pair(input, other):
    """Both operands in their promoted dtype, integers promoted further to the default float
    (atan2(int, int) is a float tensor in torch)."""
    a, b = _pair(input, other)
    if not a.dtype.is_floating_point:
        a, b = to(a, _dtype.get_default_dtype()), to(b, _dtype.get_default_dtype())
    return a, b


class Atan2(Op):
    torch_name, symbol, latex = "Atan2Backward0", "atan2", (r"\frac{b}{a^{2}+b^{2}}", r"-\frac{a}{a^{2}+b^{2}}")
    saved_fields = {"other": "input:1", "self": "input:0"}
    elementwise = True
    latex_name = r"\operatorname{atan2}"

    def forward(ctx, a, b):
        return np.arctan2(a, b)

    def backward(ctx, g, out, a, b):
        r = g / (a * a + b * b)
        return r * b, -r * a


class Hypot(Op):
    torch_name, symbol, latex, needs_out = "HypotBackward0", "hypot", (r"\frac{a}{\sqrt{a^{2}+b^{2}}}", r"\frac{b}{\sqrt{a^{2}+b^{2}}}"), True
    saved_fields = {"other": "input:1", "result": "result", "self": "input:0"}
    elementwise = True

    def forward(ctx, a, b):
        return np.hypot(a, b)

    def backward(ctx, g, out, a, b):
        return g * a / out, g * b / out


class Logaddexp(Op):
    torch_name, symbol, latex = "LogaddexpBackward0", "logaddexp", (r"\frac{1}{1+e^{b-a}}", r"\frac{1}{1+e^{a-b}}")
    saved_fields = {"other": "input:1", "self": "input:0"}
    elementwise = True

    def forward(ctx, a, b):
        with np.errstate(all="ignore"):
            return np.logaddexp(a, b)

    def backward(ctx, g, out, a, b):
        return g / (1 + _exp(b - a)), g / (1 + _exp(a - b))


def _xlogy(x, y):
    """x log y, 0 where x == 0 (unless y is nan), as torch."""
    with np.errstate(divide="ignore", invalid="ignore"):
        v = x * np.log(y)
    return np.where((np.asarray(x) == 0) & ~np.isnan(y), 0, v).astype(np.result_type(v))[()]


def _xlogy_self_grad(g, x, y):
    """d(x log y)/dx = log y where x != 0 and 0 where x == 0 (torch's xlogy(self != 0, other))."""
    keep = _arr(x) != 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * _where(keep, _log(_where(keep, y, 1)), 0)


class Xlogy(Op):
    torch_name, symbol, latex = "XlogyBackward0", "xlogy", (r"\log b", r"\frac{a}{b}")
    saved_fields = {"other": "input:1", "self": "input:0"}
    elementwise = True

    def forward(ctx, a, b):
        return _xlogy(a, b)

    def backward(ctx, g, out, a, b):
        return _xlogy_self_grad(g, a, b), g * a / b


class XlogyNumberSelf(Op):
    """xlogy(number, tensor): the number is a parameter, `self` (XlogyBackward1)."""
    torch_name, symbol, latex = "XlogyBackward1", "xlogy", (r"\frac{x}{b}",)
    saved_fields = {"other": "input:0", "self": "attr:self"}
    elementwise = True

    def forward(ctx, b, self):
        ctx.self = self
        return _xlogy(np.asarray(self, dtype=np.result_type(b)), b)

    def backward(ctx, g, out, b):
        return (g * ctx.self / b,)


class XlogyNumberOther(Op):
    """xlogy(tensor, number) (XlogyBackward2)."""
    torch_name, symbol, latex = "XlogyBackward2", "xlogy", (r"\log y",)
    saved_fields = {"other": "attr:other", "self": "input:0"}
    elementwise = True

    def forward(ctx, a, other):
        ctx.other = other
        return _xlogy(a, np.asarray(other, dtype=np.result_type(a)))

    def backward(ctx, g, out, a):
        return (_xlogy_self_grad(g, a, np.asarray(ctx.other, dtype=np.result_type(_arr(a)))),)


class Fmax(Op):
    """max ignoring nan: the other operand wins where one is nan (FmaxBackward0)."""
    torch_name, symbol, latex = "FmaxBackward0", "fmax", (r"[a \ge b \lor b = \text{nan}]", r"[a < b \lor a = \text{nan}]")
    saved_fields = {"other": "input:1", "self": "input:0"}
    elementwise = True
    _pick, _wins = staticmethod(np.fmax), staticmethod(np.greater_equal)  # Fmin: np.fmin, np.less_equal

    def forward(ctx, a, b):
        return ctx._pick(a, b)

    def backward(ctx, g, out, a, b):
        first = ctx._wins(_arr(a), _arr(b)) | np.isnan(_arr(b))  # where self is the result
        return _where(first, g, 0), _where(first, 0, g)


class Fmin(Fmax):
    torch_name, symbol, latex = "FminBackward0", "fmin", (r"[a \le b \lor b = \text{nan}]", r"[a > b \lor a = \text{nan}]")
    _pick, _wins = staticmethod(np.fmin), staticmethod(np.less_equal)


def _lerp(a, b, w):
    """torch's lerp: a + w (b - a) for |w| < 0.5, else b - (b - a)(1 - w) (exact at both ends)."""
    small = np.abs(w) < 0.5
    d = b - a
    return np.where(small, a + w * d, b - d * (1 - w)).astype(np.result_type(a, b))[()]


class Lerp(Op):
    """lerp(self, end, number) (LerpBackward0): the weight is a parameter."""
    torch_name, symbol, latex, saves = "LerpBackward0", "lerp", (r"1-w", "w"), False
    saved_fields = {"weight": "attr:weight"}
    elementwise = True

    def forward(ctx, a, b, weight):
        ctx.weight = weight
        return _lerp(a, b, np.asarray(weight, dtype=np.result_type(a)))

    def backward(ctx, g, out, a, b):
        return g * (1 - ctx.weight), g * ctx.weight


class LerpTensor(Op):
    """lerp(self, end, weight tensor) (LerpBackward1)."""
    torch_name, symbol, latex = "LerpBackward1", "lerp", (r"1-c", "c", "b-a")
    saved_fields = {"end": "input:1", "self": "input:0", "weight": "input:2"}
    elementwise = True

    def forward(ctx, a, b, w):
        return _lerp(a, b, w)

    def backward(ctx, g, out, a, b, w):
        return g * (1 - w), g * w, g * (b - a)


class Addcmul(Op):
    """self + value * tensor1 * tensor2, in torch's order of rounding."""
    torch_name, symbol, latex = "AddcmulBackward0", "addcmul", ("1", r"v\,c", r"v\,b")
    saved_fields = {"tensor1": "input:1?2", "tensor2": "input:2?1", "value": "attr:value"}
    elementwise = True

    def forward(ctx, a, b, c, value):
        ctx.value = value
        return a + value * b * c

    def backward(ctx, g, out, a, b, c):
        v = ctx.value
        return g, g * c * v, g * b * v


class Addcdiv(Op):
    """self + value * tensor1 / tensor2, in torch's order of rounding."""
    torch_name, symbol, latex = "AddcdivBackward0", "addcdiv", ("1", r"\frac{v}{c}", r"-\frac{v\,b}{c^{2}}")
    saved_fields = {"tensor1": "input:1?2", "tensor2": "input:2", "value": "attr:value"}
    elementwise = True

    def forward(ctx, a, b, c, value):
        ctx.value = value
        with np.errstate(all="ignore"):
            return a + value * b / c

    def backward(ctx, g, out, a, b, c):
        v = ctx.value
        return g, g * v / c, -g * v * b / (c * c)


def _three(*operands):
    """Tensors (and numbers) in their promoted dtype."""
    d = _dtype.result_type(operands)
    return [_cast(x, d) for x in operands]


@public("arctan2", method=True)
def atan2(input, other):
    return Atan2.apply(*_floating_pair(input, other))


@public(method=True)
def hypot(input, other):
    return Hypot.apply(*_floating_pair(input, other))


@public(method=True)
def logaddexp(input, other):
    return Logaddexp.apply(*_floating_pair(input, other))


@public(method=True)
def xlogy(input, other):
    if not isinstance(input, Tensor):
        b = other if other.dtype.is_floating_point else to(other, _dtype.get_default_dtype())
        return XlogyNumberSelf.apply(b, self=input)
    if not isinstance(other, Tensor):
        a = input if input.dtype.is_floating_point else to(input, _dtype.get_default_dtype())
        return XlogyNumberOther.apply(a, other=other)
    return Xlogy.apply(*_floating_pair(input, other))


@public(method=True)
def fmax(input, other):
    return Fmax.apply(*_pair(input, other))


@public(method=True)
def fmin(input, other):
    return Fmin.apply(*_pair(input, other))


@public(method=True)
def lerp(input, end, weight):
    if isinstance(weight, Tensor):
        return LerpTensor.apply(*_three(input, end, weight))
    if end.dtype != input.dtype:
        raise RuntimeError(f"expected dtype {input.dtype} for `end` but got dtype {end.dtype}")
    return Lerp.apply(input, end, weight=weight)


@public(method=True)
def addcmul(input, tensor1, tensor2, *, value=1):
    return Addcmul.apply(*_three(input, tensor1, tensor2), value=value)


@public(method=True)
def addcdiv(input, tensor1, tensor2, *, value=1):
    if not (tensor1.dtype.is_floating_point or tensor2.dtype.is_floating_point):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be "
                           "implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
                           "for all dtypes.")
    return Addcdiv.apply(*_three(input, tensor1, tensor2), value=value)
