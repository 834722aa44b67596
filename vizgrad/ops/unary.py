"""Elementwise functions of one tensor: neg, reciprocal, exp, log, sqrt, abs, sin, cos, tanh,
clamp (clamp_min, clamp_max), clone, tan; log1p, expm1, log2, log10, rsqrt, sinh, cosh, asin, acos,
atan, erf, erfinv, frac, sinc, nan_to_num, lgamma, digamma, polygamma; and the
`_sin`/`_cos`/`_log`/`_exp` helpers backward formulas use."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from vizgrad import _dtype
from vizgrad.ops.base import Op, _arr, _cast, _dual, _floating, _floating_fn, _fmt_num, bind, public
from vizgrad.ops.index import _where
from vizgrad.tensor import Tensor


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



# -- more elementwise functions (torch's names; each backward is torch's derivatives.yaml formula) --
def _as_stored(y: np.ndarray, like):
    """A float64 result in like's dtype, a numpy scalar when 0-d (how vizgrad stores 0-d data)."""
    with np.errstate(over="ignore"):  # beyond float32's range: inf, as torch's float kernels give
        y = np.asarray(y).astype(np.result_type(like))
    return y if y.ndim else y[()]


def _rounded(fn, a):
    """fn(a) computed in float64 and rounded once to a's dtype: the correctly rounded value, as
    torch's float32 kernels give at exact points (numpy's float32 log10(1000) is 3.0000002)."""
    with np.errstate(all="ignore"):
        return _as_stored(fn(np.asarray(a, dtype=np.float64)), a)


class _OfSelf(Op):
    """An elementwise function that keeps its input for the backward (torch's _saved_self): the
    subclass names numpy's function `_np` and writes the backward."""
    saved_fields = {"self": "input:0"}
    elementwise = True
    _np = staticmethod(np.negative)

    def forward(ctx, a):
        with np.errstate(all="ignore"):  # log1p(-1) = -inf, asin(2) = nan, sinh(100) = inf, as torch
            return ctx._np(a)


class Log1p(_OfSelf):
    torch_name, symbol, latex, _np = "Log1PBackward0", "log1p", (r"\frac{1}{1+a}",), staticmethod(np.log1p)

    def backward(ctx, g, out, a):
        return (g / (a + 1),)


class Expm1(Op):
    torch_name, symbol, latex, needs_out = "Expm1Backward0", "expm1", (r"e^{a}",), True
    saved_fields = {"result": "result"}
    elementwise = True

    def forward(ctx, a):
        with np.errstate(all="ignore"):
            return np.expm1(a)

    def backward(ctx, g, out, a):
        return (g * (out + 1),)


class Log2(_OfSelf):
    torch_name, symbol, latex, latex_name = "Log2Backward0", "log₂", (r"\frac{1}{a \ln 2}",), r"\log_2"
    _np = staticmethod(lambda a: _rounded(np.log2, a))

    def backward(ctx, g, out, a):
        return (g / (a * math.log(2)),)


class Log10(_OfSelf):
    torch_name, symbol, latex, latex_name = "Log10Backward0", "log₁₀", (r"\frac{1}{a \ln 10}",), r"\log_{10}"
    _np = staticmethod(lambda a: _rounded(np.log10, a))

    def backward(ctx, g, out, a):
        return (g / (a * math.log(10)),)


class Rsqrt(Op):
    torch_name, symbol, latex, needs_out = "RsqrtBackward0", "1/√", (r"-\frac{1}{2} a^{-3/2}",), True
    saved_fields = {"result": "result"}
    elementwise = True

    def forward(ctx, a):
        with np.errstate(all="ignore"):
            return 1 / np.sqrt(a)

    def backward(ctx, g, out, a):
        return (-0.5 * g * out * out * out,)


class Sinh(_OfSelf):
    torch_name, symbol, latex, latex_name, _np = "SinhBackward0", "sinh", (r"\cosh a",), r"\sinh", staticmethod(np.sinh)

    def backward(ctx, g, out, a):
        return (g * _cosh(a),)


class Cosh(_OfSelf):
    torch_name, symbol, latex, latex_name, _np = "CoshBackward0", "cosh", (r"\sinh a",), r"\cosh", staticmethod(np.cosh)

    def backward(ctx, g, out, a):
        return (g * _sinh(a),)


class Asin(_OfSelf):
    torch_name, symbol, latex, latex_name = "AsinBackward0", "asin", (r"\frac{1}{\sqrt{1-a^{2}}}",), r"\arcsin"
    _np = staticmethod(np.arcsin)

    def backward(ctx, g, out, a):
        return (g / _sqrt(1 - a * a),)


class Acos(_OfSelf):
    torch_name, symbol, latex, latex_name = "AcosBackward0", "acos", (r"-\frac{1}{\sqrt{1-a^{2}}}",), r"\arccos"
    _np = staticmethod(np.arccos)

    def backward(ctx, g, out, a):
        return (-g / _sqrt(1 - a * a),)


class Atan(_OfSelf):
    torch_name, symbol, latex, latex_name = "AtanBackward0", "atan", (r"\frac{1}{1+a^{2}}",), r"\arctan"
    _np = staticmethod(np.arctan)

    def backward(ctx, g, out, a):
        return (g / (a * a + 1),)


def _elementwise64(fn):
    """A float -> float function of Python's math module applied elementwise in float64 (numpy has no
    erf, erfc or lgamma; math's are the C library's, as torch's)."""
    objects = np.frompyfunc(fn, 1, 1)

    def f(x) -> np.ndarray:
        with np.errstate(invalid="ignore"):  # nan in, nan out
            return np.asarray(objects(np.asarray(x, dtype=np.float64)), dtype=np.float64)
    return f


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_erf64 = _elementwise64(math.erf)
_erfc64 = _elementwise64(math.erfc)


def _erfinv64(y) -> np.ndarray:
    """The inverse of erf in float64: Winitzki's closed-form guess (relative error ~2e-3), then
    Halley steps on erf(x) = y (each roughly triples the correct digits): three reach float64's
    precision. Past |y| = 0.5 the residual is taken as (1 - |y|) - erfc(|x|), both exact there,
    so the tails keep their digits. ±1 give ±inf and |y| > 1 nan, as torch."""
    y = np.asarray(y, dtype=np.float64)
    s, u = np.sign(y), np.abs(y)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = np.log1p(-u * u)                       # ln(1 - y^2) <= 0
        c = 2 / (math.pi * 0.147) + w / 2
        x = np.sqrt(np.sqrt(c * c - w / 0.147) - c)
        inner = np.isfinite(x) & (u < 1)
        tail = u >= 0.5
        for _ in range(3):
            xi = np.where(inner, x, 0)
            f = np.where(tail, (1 - u) - _erfc64(xi), _erf64(xi) - u)  # erf(x) - |y|
            d = _TWO_OVER_SQRT_PI * np.exp(-x * x)  # erf'(x); erf'' = -2x erf'
            x = np.where(inner & (d > 0), x - f / (d + x * f), x)
        x = np.where(u == 1, np.inf, x) * s
    return np.where(u > 1, np.nan, x)


def _in_float64(fn):
    """numpy's form of a float64 function of ours: its value rounded to the input's dtype."""
    return staticmethod(lambda a: _as_stored(fn(a), a))


class Erf(_OfSelf):
    torch_name, symbol, latex = "ErfBackward0", "erf", (r"\frac{2}{\sqrt{\pi}} e^{-a^{2}}",)
    latex_name, _np = r"\operatorname{erf}", _in_float64(_erf64)

    def backward(ctx, g, out, a):
        return (g * _TWO_OVER_SQRT_PI * _exp(-(a * a)),)


class Erfinv(_OfSelf):
    torch_name, symbol, latex = "ErfinvBackward0", "erf⁻¹", (r"\frac{\sqrt{\pi}}{2} e^{\operatorname{erf}^{-1}(a)^{2}}",)
    latex_name, _np = r"\operatorname{erf}^{-1}", _in_float64(_erfinv64)

    def backward(ctx, g, out, a):
        x = erfinv(a) if isinstance(a, Tensor) else _as_stored(_erfinv64(a), a)
        return (g * (math.sqrt(math.pi) / 2) * _exp(x * x),)


class Frac(Op):
    torch_name, symbol, latex, saves = "FracBackward0", "frac", ("1",), False
    elementwise = True

    def forward(ctx, a):
        return a - np.trunc(a)

    def backward(ctx, g, out, a):
        return (g,)


class Sinc(_OfSelf):
    """sin(pi a) / (pi a), 1 at a = 0; its derivative is taken as 0 there, as torch's."""
    torch_name, symbol, latex = "SincBackward0", "sinc", (r"\frac{\pi a \cos \pi a - \sin \pi a}{\pi a^{2}}",)
    latex_name, _np = r"\operatorname{sinc}", staticmethod(np.sinc)

    def backward(ctx, g, out, a):
        zero = _arr(a) == 0
        s = _where(zero, 1, a) * math.pi  # pi a, kept away from 0 where the derivative is defined as 0
        return (_where(zero, 0, g * (s * _cos(s) - _sin(s)) / (s * _where(zero, 1, a))),)


class NanToNum(Op):
    torch_name, symbol, latex = "NanToNumBackward0", "nan→num", (r"[a \text{ finite}]",)
    saved_fields = {"self": "input:0"}
    elementwise = True

    def forward(ctx, a, nan, posinf, neginf):
        with np.errstate(all="ignore"):
            return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    def backward(ctx, g, out, a):
        return (_where(np.isfinite(_arr(a)), g, 0),)


log1p = public(method=True)(_floating_fn(Log1p, "log1p"))
expm1 = public(method=True)(_floating_fn(Expm1, "expm1"))
log2 = public(method=True)(_floating_fn(Log2, "log2"))
log10 = public(method=True)(_floating_fn(Log10, "log10"))
rsqrt = public(method=True)(_floating_fn(Rsqrt, "rsqrt"))
sinh = public(method=True)(_floating_fn(Sinh, "sinh"))
cosh = public(method=True)(_floating_fn(Cosh, "cosh"))
asin = public("arcsin", method=True)(_floating_fn(Asin, "asin"))
acos = public("arccos", method=True)(_floating_fn(Acos, "acos"))
atan = public("arctan", method=True)(_floating_fn(Atan, "atan"))
erf = public(method=True)(_floating_fn(Erf, "erf"))
erfinv = public(method=True)(_floating_fn(Erfinv, "erfinv"))
sinc = public(method=True)(_floating_fn(Sinc, "sinc"))


@public(method=True)
def frac(input):
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"frac_cpu" not implemented for \'{input.dtype.tensor_type[:-6]}\'')
    return Frac.apply(input)


@public(method=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """nan -> `nan`, ±inf -> `posinf`/`neginf` (default: the dtype's largest/smallest finite value)."""
    if input._data.dtype.kind != "f":
        return clone(input)
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


_sqrt = _dual(np.sqrt, sqrt)
_sinh = _dual(np.sinh, sinh)
_cosh = _dual(np.cosh, cosh)



# -- lgamma, digamma, polygamma: torch's algorithms (Cephes'), vectorised in float64 ---------------
def _lgamma1(v: float) -> float:
    if v <= 0 and (v == -math.inf or v == math.floor(v)):  # the poles (math.lgamma raises there), and -inf
        return math.inf
    return math.lgamma(v)


_lgamma64 = _elementwise64(_lgamma1)  # log|Γ(x)|, inf at 0 and the negative integers (as torch)


_PSI_10 = 2.25175258906672110764  # digamma(10)


def _float_kind(x) -> np.ndarray:
    """x as a float32 array if it is float32 (torch runs that kernel in float), else float64."""
    x = np.asarray(x)
    return x if x.dtype == np.float32 else x.astype(np.float64)


def _libm(fn, x):
    """fn(x) rounded once to x's dtype, as the C library's logf/tanf/sinf give it (numpy's own
    float32 kernels can be an ulp or more away)."""
    return fn(x.astype(np.float64)).astype(x.dtype)
_PSI_SERIES = (1 / 12, -691 / 32760, 1 / 132, -1 / 240, 1 / 252, -1 / 120, 1 / 12)  # highest power first


def _digamma64(x) -> np.ndarray:
    """ψ(x) as torch computes it: ψ(x) = ψ(1 - x) - π / tan(π frac(x)) below 0; steps of
    ψ(x) = ψ(x + 1) - 1/x up to x >= 10; then ln x - 1/(2x) - Σ B_2k / (2k x^2k). ψ(±0) = ∓inf,
    nan at the negative integers. float32 input is computed in float32, as torch's kernel does."""
    x = _float_kind(x)
    with np.errstate(all="ignore"):
        neg = x < 0
        r = (x - np.trunc(x)).astype(np.float64)  # π / tan(π r) in float64 for either dtype, as torch
        reflect = np.where(neg, -(math.pi / np.tan(math.pi * r)), 0.0).astype(x.dtype)
        y = np.where(neg, 1 - x, x)
        acc = np.zeros_like(y)
        psi_10 = y.dtype.type(_PSI_10)
        for _ in range(10):  # y >= 1e-300 reaches 10 in at most 10 steps
            small = y < 10
            acc = np.where(small, acc - 1 / y, acc)
            y = np.where(small, y + 1, y)
        z = 1 / (y * y)
        poly = np.zeros_like(z)
        for c in _PSI_SERIES:
            poly = poly * z + c
        tail = np.where(y < 1e17, z * poly, z.dtype.type(0))
        psi = np.where(y == 10, acc + psi_10, acc + _libm(np.log, y) - 0.5 / y - tail) + reflect
        psi = np.where(x == 0, np.copysign(np.inf, -x), psi)
        return np.where((neg & (x == np.trunc(x))) | (x == -np.inf), np.nan, psi)


def _trigamma64(x) -> np.ndarray:
    """ψ'(x) as torch's trigamma: reflection below 1/2, six recurrence steps, a short series
    (torch's own accuracy, about 1e-9 relative, is what matching it means); float32 in float32."""
    x = _float_kind(x)
    with np.errstate(all="ignore"):
        low = x < 0.5
        one = x.dtype.type(1)
        sign = np.where(low, -one, one)
        result = np.where(low, -(math.pi ** 2) / _libm(np.sin, math.pi * x) ** 2, 0 * one)
        y = np.where(low, 1 - x, x)
        for _ in range(6):
            result = result + 1 / (y * y)
            y = y + 1
        ixx = 1 / (y * y)
        result = result + (1 + 1 / (2 * y) + ixx * (1 / 6 - ixx * (1 / 30 - ixx * (1 / 42)))) / y
        return sign * result


def _bernoulli_even(n: int) -> list:
    """B_2, B_4, ..., B_2n exactly (the Akiyama–Tanigawa recurrence)."""
    out, a = [], []
    for m in range(2 * n + 1):
        a.append(Fraction(1, m + 1))
        for j in range(m, 0, -1):
            a[j - 1] = j * (a[j - 1] - a[j])
        if m >= 2 and m % 2 == 0:
            out.append(a[0])
    return out


# (2k)! / B_2k for k = 1 .. 12: the Euler–Maclaurin tail of Hurwitz's zeta (Cephes' table)
_ZETA_A = [float(math.factorial(2 * k + 2) / b) for k, b in enumerate(_bernoulli_even(12))]
_MACHEP = 1.11022302462515654042e-16


def _zeta64(s: float, q) -> np.ndarray:
    """Hurwitz's ζ(s, q) = Σ_k (q + k)^-s for s > 1 as torch's (Cephes') zeta: the first terms
    summed until q + k > 9 (at least 9 of them), then the Euler–Maclaurin tail; each element stops
    where torch's loop returns early."""
    q = np.asarray(q, dtype=np.float64)
    with np.errstate(all="ignore"):
        total = q ** -s
        done = np.zeros(q.shape, dtype=bool)
        a, b = q.copy(), np.zeros_like(q)
        i = 0
        while True:
            go = ~done & ((i < 9) | (a <= 9)) & np.isfinite(a)  # (-inf would never pass 9)
            if not go.any():
                break
            i += 1
            a = np.where(go, a + 1, a)
            b = np.where(go, a ** -s, b)
            total = np.where(go, total + b, total)
            done |= go & (np.abs(b) < _MACHEP * np.abs(total)) & (b * total > 0)
        w = a
        s_tail = total + b * w / (s - 1) - 0.5 * b
        total = np.where(done, total, s_tail)
        fac, k = np.ones_like(q), 0.0
        for A in _ZETA_A:
            fac = fac * (s + k)
            b = b / w
            t = fac * b / A
            total = np.where(done, total, total + t)
            done |= np.abs(t / total) < _MACHEP
            k += 1
            fac = fac * (s + k)
            b = b / w
            k += 1
        total = np.where((q <= 0) & (q == np.trunc(q)), np.inf, total)
        return total


def _polygamma64(n: int, x) -> np.ndarray:
    if n == 0:
        return _digamma64(x)
    if n == 1:
        return _trigamma64(x)
    return (1.0 if n % 2 else -1.0) * math.exp(math.lgamma(n + 1.0)) * _zeta64(n + 1.0, x)


class Lgamma(_OfSelf):
    torch_name, symbol, latex, latex_name = "LgammaBackward0", "lgamma", (r"\psi(a)",), r"\ln\Gamma"
    _np = _in_float64(_lgamma64)

    def backward(ctx, g, out, a):
        return (g * (digamma(a) if isinstance(a, Tensor) else _as_stored(_digamma64(a), a)),)


class Digamma(_OfSelf):
    torch_name, symbol, latex, latex_name = "DigammaBackward0", "ψ", (r"\psi'(a)",), r"\psi"
    _np = _in_float64(_digamma64)

    def backward(ctx, g, out, a):
        return (g * (polygamma(1, a) if isinstance(a, Tensor) else _as_stored(_trigamma64(a), a)),)


class Polygamma(Op):
    torch_name, symbol, latex = "PolygammaBackward0", "ψ⁽ⁿ⁾", (r"\psi^{(n+1)}(a)",)
    saved_fields = {"n": "attr:n", "self": "input:0"}
    result_params = ("n",)
    elementwise = True

    def forward(ctx, a, n):
        ctx.n = n
        return _as_stored(_polygamma64(n, a), a)

    def backward(ctx, g, out, a):
        n = ctx.n + 1
        return (g * (polygamma(n, a) if isinstance(a, Tensor) else _as_stored(_polygamma64(n, a), a)),)

    def label(self):
        return f"ψ⁽{self.n}⁾"


lgamma = public(method=True)(_floating_fn(Lgamma, "lgamma"))
digamma = public(method=True)(_floating_fn(Digamma, "digamma"))


@public()
def polygamma(n, input):
    """torch.polygamma(n, x): the n-th derivative of digamma (n = 0 is digamma itself)."""
    if not isinstance(n, int) or n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return Polygamma.apply(input if input._data.dtype.kind == "f" else _floating(input), n=n)


bind("polygamma")(lambda self, n: polygamma(n, self))  # x.polygamma(n): the order comes first
