"""Every differentiable operation, one class each: forward, backward, display symbol and LaTeX.

An `Op` instance is the `grad_fn` node of the tensor it produced (torch's `MulBackward0` ...).

    class Mul(Op):
        torch_name, symbol, latex = "MulBackward0", "×", (r"b", r"a")   # d out/d a, d out/d b
        def forward(ctx, a, b): return a * b                            # numpy in, numpy out
        def backward(ctx, g, out, a, b): return g * b, g * a           # one grad per input

`backward` receives the upstream gradient `g`, the output `out` (only for ops with
`needs_out`), and the inputs. During a plain backward these are numpy arrays; with
`create_graph=True` they are Tensors, so the same formula records a differentiable graph and
gives higher-order gradients for free. Formulas therefore use operators and the `_dual`
helpers below (which work on both) rather than numpy functions. The engine sums gradients
back over broadcast dimensions, so formulas need not.

Adding an op touches this file only: subclassing `Op` registers it in `OPS`, and the public
function next to it is what Tensor methods and `vizgrad.<name>` call.
"""
from __future__ import annotations

import builtins
import math
import warnings
from collections import namedtuple

import numpy as np

from vizgrad import _dtype
from vizgrad._grad_mode import STATE
from vizgrad.tensor import INPLACE, Tensor, _norm_dim, _size

# x/0 -> inf, log(0) -> -inf, 0**-1 -> inf: torch computes these silently, so numpy's
# floating-point RuntimeWarnings are muted for lines in this module only (not for user code).
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"vizgrad\.ops$")

OPS: dict[str, type["Op"]] = {}  # torch backward name -> op class, for the graph, docs and tests


_new = object.__new__


class Op:
    torch_name = "Backward"  # what grad_fn.name() prints
    symbol = "?"             # short label on the drawn op node
    latex: tuple = ()        # local derivative d out / d input_i, LaTeX, one per input (a, b, ... name them)
    saves = True             # keeps buffers for backward that a plain backward frees (torch then refuses a 2nd)
    needs_out = False        # backward reads the output
    exact = False            # a plain backward returns each gradient in its input's shape and dtype
                             # (so the engine need not sum it over broadcast dims or cast it)

    _hooks = None            # tensor hooks of this node's output (register_hook, retain_grad)
    _freed = False
    versions = None          # inputs' in-place versions when recorded (None: all were 0)
    stamp = -1               # tensor.INPLACE when recorded: if unchanged at backward, nothing was modified
    edge_grads = None        # after backward: the gradient sent to each input (numpy), for the graph
    out_grad = None          # after backward: the gradient this node received for its output

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "torch_name" in cls.__dict__:
            OPS[cls.torch_name] = cls

    @classmethod
    def apply(cls, *inputs: Tensor, **params) -> Tensor:
        """Run forward on the inputs' arrays; record this node when grad mode is on and an input requires grad."""
        ctx = _new(cls)
        try:
            if params:
                if len(inputs) == 2:
                    data = cls.forward(ctx, inputs[0]._data, inputs[1]._data, **params)
                else:
                    data = cls.forward(ctx, *[t._data for t in inputs], **params)
            elif len(inputs) == 2:  # unrolled for the common arities: this is the hottest line in vizgrad
                data = cls.forward(ctx, inputs[0]._data, inputs[1]._data)
            elif len(inputs) == 1:
                data = cls.forward(ctx, inputs[0]._data)
            elif len(inputs) == 3:
                data = cls.forward(ctx, inputs[0]._data, inputs[1]._data, inputs[2]._data)
            else:
                data = cls.forward(ctx, *[t._data for t in inputs])
        except ValueError as e:
            if "broadcast" not in str(e):
                raise
            raise RuntimeError(_broadcast_message([t._data.shape for t in inputs])) from None
        out = _new(Tensor)      # Tensor._make, inlined: this runs once per op
        out._data = data
        out._grad = out.grad_fn = None
        out._requires_grad = False
        for t in inputs:
            if t._requires_grad:
                st = STATE  # per thread: grad mode and the vizgrad.nn module calls running
                if st.grad_enabled:
                    ctx.inputs = inputs
                    out._requires_grad = True
                    out.grad_fn = ctx
                    stack = st.call_stack  # innermost module last: tag the node with its scope,
                    if stack:              # e.g. (":Net", "fc1:Linear"), so the graph can collapse it
                        ctx.scope = stack[-1][0]
                    if cls.saves:  # what backward must find unchanged (see record_versions)
                        ctx.stamp = INPLACE[0]
                        for u in inputs:
                            if u._version:
                                ctx.versions = tuple([v._version for v in inputs])
                                break
                break
        return out

    def forward(ctx, *arrays, **params):
        raise NotImplementedError

    def backward(ctx, g, out, *inputs):
        raise NotImplementedError

    # -- the torch.autograd.graph.Node interface ------------------------------------------------
    def name(self) -> str:
        return self.torch_name

    @property
    def next_functions(self) -> tuple:
        return tuple((t.grad_fn if t.grad_fn is not None else (AccumulateGrad(t) if t._requires_grad else None), 0)
                     for t in self.view()[0])

    def saved(self, k: int) -> bool:
        """Whether backward reads input k's value (an in-place write to it is then refused)."""
        return True

    def view(self) -> tuple:
        """(inputs, edge_grads) as torch records this node: what the graph view and next_functions
        show. A fused node (LinearAddmm) shows the nodes it stands for."""
        return self.inputs, self.edge_grads

    def register_hook(self, fn):
        raise NotImplementedError("Node hooks are not supported; use Tensor.register_hook")

    def label(self) -> str:
        """The symbol drawn on this node (an instance may refine the class symbol, e.g. `**2`)."""
        return self.symbol

    def local_latex(self) -> tuple:
        """LaTeX of d out / d input_i for this instance (ops with parameters fill them in)."""
        return self.latex

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"


def _broadcast_message(shapes) -> str:
    """torch's wording for operands whose shapes do not broadcast."""
    n = builtins.max(len(s) for s in shapes)
    padded = [(1,) * (n - len(s)) + tuple(s) for s in shapes]
    for d in range(n - 1, -1, -1):
        sizes = {p[d] for p in padded} - {1}
        if len(sizes) > 1:
            a, b = padded[0][d], padded[1][d] if len(padded) > 1 else padded[0][d]
            return (f"The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton "
                    f"dimension {d}")
    return f"shapes {[list(s) for s in shapes]} cannot be broadcast together"


def record_versions(node, inputs) -> None:
    """Note what backward must find unchanged: the in-place counter now, and the inputs' versions
    when any was already written in place (None means all were at version 0)."""
    node.stamp = INPLACE[0]
    for u in inputs:
        if u._version:
            node.versions = tuple(v._version for v in inputs)
            return


class AccumulateGrad:
    """What next_functions shows for a leaf that requires grad."""

    def __init__(self, variable: Tensor):
        self.variable = variable
        self.next_functions = ()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


# -- helpers that work on numpy arrays and on Tensors (see module docstring) -------------------
def _dual(array_fn, tensor_fn):
    def f(x, *args, **kwargs):
        return tensor_fn(x, *args, **kwargs) if isinstance(x, Tensor) else array_fn(x, *args, **kwargs)
    return f


def _arr(x):
    """A constant's numpy value (masks in backward formulas are constants in both modes)."""
    return x._data if isinstance(x, Tensor) else x


def _sum_to_array(g, shape):
    """Sum a broadcast gradient back to `shape`: (2, 3) -> (3,) sums axis 0; (2, 3) -> (2, 1) keeps it."""
    g = np.asarray(g)
    lead = g.ndim - len(shape)
    if lead == 1 and g.shape[1:] == shape:  # the common case: a bias broadcast over a batch
        return _add_reduce(g, 0)             # = g.sum(axis=0), without ndarray.sum's Python wrapper
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    if axes:
        g = _add_reduce(g, axes, keepdims=True)
    return g.reshape(shape)


_add_reduce = np.add.reduce


def _wrap_scalar(v, like: Tensor) -> Tensor:
    """A Python number as a constant tensor, typed as torch would for `like <op> v`."""
    d = _dtype.result_type((like, v))
    return Tensor._make(d.np.type(v))


_FLOAT_SCALARS = {np.float16, np.float32, np.float64}


def _const(value) -> Tensor:
    """A constant operand (Tensor._make, inlined for the `x * 2.0` path)."""
    t = _new(Tensor)
    t._data = value
    t._grad = t.grad_fn = None
    t._requires_grad = False
    return t


_SHARED: dict = {}  # (numpy scalar type, value) -> one constant tensor for every `h * 0.5` on 0-d tensors


def _shared_const(tp, value) -> Tensor:
    """The constant operand of a scalar op, made once and reused: a scalar chain then allocates
    (and the garbage collector scans) one object less per op. Constants are never written in
    place; vizgrad.graph.trace draws a shared constant once per use (`shared_constant`)."""
    c = _SHARED.get((tp, value))
    if c is None:
        if len(_SHARED) >= 4096:
            _SHARED.clear()
        c = _SHARED[(tp, value)] = _const(tp(value))
        c.shared_constant = True
    return c


def _pair(a, b):
    """Two operands as tensors of torch's promoted dtype (fast path: same dtype or number + float tensor)."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            da, db = a._data, b._data
            if type(da) is type(db) and (type(da) is not np.ndarray or da.dtype == db.dtype):
                return a, b  # same numpy scalar type, or arrays of one dtype
        elif type(b) is float or type(b) is int:
            da = a._data
            tp = type(da)
            if tp in _FLOAT_SCALARS:  # a 0-d float tensor: its numpy scalar type makes the constant
                return a, _const(tp(b))
            if da.dtype.kind == "f":
                return a, _const(da.dtype.type(b))
        elif isinstance(b, np.ndarray):
            b = Tensor._make(b)
    elif isinstance(b, Tensor):
        if type(a) is float or type(a) is int:
            db = b._data
            tp = type(db)
            if tp in _FLOAT_SCALARS:
                return _const(tp(a)), b
            if db.dtype.kind == "f":
                return _const(db.dtype.type(a)), b
        elif isinstance(a, np.ndarray):
            a = Tensor._make(a)
    else:
        raise TypeError(f"unsupported operand types: {type(a).__name__} and {type(b).__name__}")
    d = _dtype.result_type((a, b))
    return _cast(a, d), _cast(b, d)


def _cast(x, d: _dtype.dtype) -> Tensor:
    if not isinstance(x, Tensor):
        if isinstance(x, (bool, int, float, np.number, np.bool_)):
            return Tensor._make(d.np.type(x))
        return Tensor._make(np.asarray(x, dtype=d.np))
    if x._data.dtype == d.np:
        return x
    return to(x, d)


# ============================================================================================
# Elementwise binary ops
# ============================================================================================
class Add(Op):
    torch_name, symbol, latex, saves = "AddBackward0", "+", ("1", "1"), False

    def forward(ctx, a, b):
        return a + b

    def backward(ctx, g, out, a, b):
        return g, g


class Sub(Op):
    torch_name, symbol, latex, saves = "SubBackward0", "−", ("1", "-1"), False

    def forward(ctx, a, b):
        return a - b

    def backward(ctx, g, out, a, b):
        return g, -g


class AddAlpha(Add):
    """`add(a, b, alpha=k)`: one AddBackward0 node that saves nothing, as in torch."""

    def forward(ctx, a, b, alpha):
        ctx.alpha = alpha
        return a + b * alpha

    def backward(ctx, g, out, a, b):
        return g, g * ctx.alpha


class SubAlpha(Sub):
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

    def forward(ctx, a, b):
        return a * b

    def backward(ctx, g, out, a, b):
        return g * b, g * a


class Div(Op):
    torch_name, symbol, latex = "DivBackward0", "÷", (r"\frac{1}{b}", r"-\frac{a}{b^{2}}")

    def forward(ctx, a, b):
        return a / b

    def backward(ctx, g, out, a, b):
        return g / b, -g * a / (b * b)


class Pow(Op):
    """Tensor ** Tensor (PowBackward1); `2 ** x` is PowBackward2 with the constant base as input a."""
    torch_name, symbol, latex = "PowBackward1", "**", (r"b\,a^{b-1}", r"a^{b}\ln a")
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
    next_functions = property(_number_edge_dropped)


class PowScalar(Op):
    """Tensor ** number: one input, the exponent is a parameter (`**2` on the node)."""
    torch_name, symbol = "PowBackward0", "**"

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


class Maximum(Op):
    torch_name, symbol, latex = "MaximumBackward0", "max", (r"[a > b]", r"[b > a]")

    def forward(ctx, a, b):
        return np.maximum(a, b)

    def backward(ctx, g, out, a, b):
        a, b = _arr(a), _arr(b)
        # ties split the gradient in half, as torch does
        wa = (a > b) + 0.5 * (a == b)
        return g * wa.astype(np.result_type(a)), g * (1 - wa).astype(np.result_type(a))


class Minimum(Op):
    torch_name, symbol, latex = "MinimumBackward0", "min", (r"[a < b]", r"[b < a]")

    def forward(ctx, a, b):
        return np.minimum(a, b)

    def backward(ctx, g, out, a, b):
        a, b = _arr(a), _arr(b)
        wa = (a < b) + 0.5 * (a == b)
        return g * wa.astype(np.result_type(a)), g * (1 - wa).astype(np.result_type(a))


def add(input, other, *, alpha=1):
    a, b = _pair(input, other)
    if alpha != 1:
        return AddAlpha.apply(a, b, alpha=alpha)
    return Add.apply(a, b)


def sub(input, other, *, alpha=1):
    a, b = _pair(input, other)
    if alpha != 1:
        return SubAlpha.apply(a, b, alpha=alpha)
    return Sub.apply(a, b)


def rsub(input, other):
    """other - input, for `number - tensor`."""
    a, b = _pair(other, input)
    return Rsub.apply(a, b)


def mul(input, other):
    a, b = _pair(input, other)
    return Mul.apply(a, b)


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


def rdiv(input, other):
    """`number / tensor` is reciprocal(tensor) * number in torch (MulBackward0 over ReciprocalBackward0)."""
    if not input.dtype.is_floating_point:
        input = to(input, _dtype.get_default_dtype())
    return mul(reciprocal(input), other)


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


def maximum(input, other):
    return Maximum.apply(*_pair(input, other))


def minimum(input, other):
    return Minimum.apply(*_pair(input, other))


def _fmt_num(v) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


# ============================================================================================
# Elementwise unary ops
# ============================================================================================
class Neg(Op):
    torch_name, symbol, latex, saves = "NegBackward0", "−", ("-1",), False

    def forward(ctx, a):
        return -a

    def backward(ctx, g, out, a):
        return (-g,)


class Reciprocal(Op):
    torch_name, symbol, latex, needs_out = "ReciprocalBackward0", "1/x", (r"-\frac{1}{a^{2}}",), True

    def forward(ctx, a):
        return 1 / a

    def backward(ctx, g, out, a):
        return (-g * out * out,)


class Exp(Op):
    torch_name, symbol, latex, needs_out = "ExpBackward0", "exp", (r"e^{a}",), True

    def forward(ctx, a):
        return np.exp(a)

    def backward(ctx, g, out, a):
        return (g * out,)


class Log(Op):
    torch_name, symbol, latex = "LogBackward0", "log", (r"\frac{1}{a}",)

    def forward(ctx, a):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    def backward(ctx, g, out, a):
        return (g / a,)


class Sqrt(Op):
    torch_name, symbol, latex, needs_out = "SqrtBackward0", "√", (r"\frac{1}{2\sqrt{a}}",), True

    def forward(ctx, a):
        with np.errstate(invalid="ignore"):
            return np.sqrt(a)

    def backward(ctx, g, out, a):
        return (g / (2 * out),)


class Abs(Op):
    torch_name, symbol, latex = "AbsBackward0", "|·|", (r"\operatorname{sign}(a)",)

    def forward(ctx, a):
        return np.abs(a)

    def backward(ctx, g, out, a):
        return (g * np.sign(_arr(a)),)


class Sin(Op):
    torch_name, symbol, latex = "SinBackward0", "sin", (r"\cos a",)

    def forward(ctx, a):
        return np.sin(a)

    def backward(ctx, g, out, a):
        return (g * _cos(a),)


class Cos(Op):
    torch_name, symbol, latex = "CosBackward0", "cos", (r"-\sin a",)

    def forward(ctx, a):
        return np.cos(a)

    def backward(ctx, g, out, a):
        return (-g * _sin(a),)


class Tanh(Op):
    torch_name, symbol, latex, needs_out = "TanhBackward0", "tanh", (r"1-\tanh^{2}a",), True
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


class Sigmoid(Op):
    torch_name, symbol, latex, needs_out = "SigmoidBackward0", "σ", (r"\sigma(a)\,(1-\sigma(a))",), True

    def forward(ctx, a):
        # torch's formula: e^-a overflows to inf for very negative a, giving exactly 0 as torch does
        with np.errstate(over="ignore"):
            return 1 / (1 + np.exp(-a))

    def backward(ctx, g, out, a):
        return (g * out * (1 - out),)


class Relu(Op):
    torch_name, symbol, latex = "ReluBackward0", "relu", (r"[a > 0]",)

    def forward(ctx, a):
        return np.maximum(a, 0)

    def backward(ctx, g, out, a):
        return (_where(_arr(a) > 0, g, 0),)  # where, not g * mask: an inf upstream must give 0, as torch


class LeakyRelu(Op):
    torch_name, symbol = "LeakyReluBackward0", "lrelu"
    latex = (r"[a>0] + \alpha[a \le 0]",)

    def forward(ctx, a, negative_slope):
        ctx.negative_slope = negative_slope
        return np.where(a > 0, a, a * negative_slope).astype(np.result_type(a), copy=False)

    def backward(ctx, g, out, a):
        a = _arr(a)
        return (g * np.where(a > 0, 1, ctx.negative_slope).astype(np.result_type(a)),)


_erf = np.frompyfunc(math.erf, 1, 1)


class Gelu(Op):
    torch_name, symbol = "GeluBackward0", "gelu"
    latex = (r"\Phi(a) + a\,\varphi(a)",)

    def forward(ctx, a, approximate):
        ctx.approximate = approximate
        x = np.asarray(a, dtype=np.float64)
        if approximate == "tanh":
            y = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
        else:
            y = 0.5 * x * (1 + _erf(x / math.sqrt(2)).astype(np.float64))
        return y.astype(np.result_type(a))

    def backward(ctx, g, out, a):
        if isinstance(a, Tensor):  # higher order: express through differentiable ops (erf-free tanh form
            # is not exact, so use the exact identity Phi(a) = (gelu(a)) / a where a != 0 is fragile); keep exact:
            x = a
            cdf = _cdf_tensor(x)
            pdf = exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
            return (g * (cdf + x * pdf),)
        x = np.asarray(a, dtype=np.float64)
        if ctx.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            inner = k * (x + 0.044715 * x ** 3)
            t = np.tanh(inner)
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
        else:
            cdf = 0.5 * (1 + _erf(x / math.sqrt(2)).astype(np.float64))
            d = cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return (g * d.astype(np.result_type(a)),)


def _cdf_tensor(x: Tensor) -> Tensor:
    # Phi(x) as a constant-valued tensor whose derivative is the normal pdf: value from erf,
    # gradient through a Tensor formula (pdf), so double backward stays correct.
    val = Tensor._make((0.5 * (1 + _erf(np.asarray(x._data, np.float64) / math.sqrt(2)).astype(np.float64)))
                       .astype(x._data.dtype))
    pdf = exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
    return val + (x - x.detach()) * pdf  # value = Phi(x); d/dx = pdf(x)


class Clamp(Op):
    torch_name, symbol, latex = "ClampBackward1", "clamp", (r"[lo \le a \le hi]",)

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


class ToCopy(Op):
    torch_name, symbol, latex, saves = "ToCopyBackward0", "cast", ("1",), False

    def forward(ctx, a, dtype):
        ctx.src = np.result_type(a)
        return np.asarray(a).astype(dtype.np) if np.ndim(a) else dtype.np.type(a)

    def backward(ctx, g, out, a):
        return (to(g, _dtype.from_numpy_dtype(ctx.src)) if isinstance(g, Tensor) else np.asarray(g).astype(ctx.src),)


class CopyBackwards(Op):
    """What .grad holds after backward(create_graph=True) first fills it: the incoming gradient
    copied into a fresh tensor, as torch records it (inputs: the zero destination, the source)."""
    torch_name, symbol, latex, saves, exact = "CopyBackwards", "copy", ("0", "1"), False, True

    def name(self) -> str:
        return "torch::autograd::CopyBackwards"  # torch's name() (its repr shows CopyBackwards)

    def forward(ctx, dst, src):
        return np.array(src, dtype=np.result_type(dst))

    def backward(ctx, g, out, dst, src):
        return None, g


class Clone(Op):
    torch_name, symbol, latex, saves = "CloneBackward0", "clone", ("1",), False

    def forward(ctx, a):
        return np.array(a) if isinstance(a, np.ndarray) else a

    def backward(ctx, g, out, a):
        return (g,)


def neg(input):
    return Neg.apply(input)


def reciprocal(input):
    return Reciprocal.apply(input)


def _floating(input):
    """Integer/bool input of a floating function (exp, sin, ...) is cast to the default dtype, as torch."""
    return input if input._data.dtype.kind == "f" else to(input, _dtype.get_default_dtype())


def _floating_fn(cls, name: str):
    """The public function of a floating-point op (exp, sin, ...): integer input is cast to the
    default float first, as torch does; float scalars take the short path."""
    def fn(input):
        d = input._data
        return cls.apply(input if type(d) in _FLOAT_SCALARS or d.dtype.kind == "f" else _floating(input))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}: elementwise, recorded as {cls.torch_name}."
    return fn


exp, log, sqrt = _floating_fn(Exp, "exp"), _floating_fn(Log, "log"), _floating_fn(Sqrt, "sqrt")
sin, cos, tanh = _floating_fn(Sin, "sin"), _floating_fn(Cos, "cos"), _floating_fn(Tanh, "tanh")
sigmoid = _floating_fn(Sigmoid, "sigmoid")


def abs(input):
    return Abs.apply(input)


def relu(input):
    return Relu.apply(input)


def leaky_relu(input, negative_slope=0.01):
    return LeakyRelu.apply(input, negative_slope=negative_slope)


def gelu(input, approximate="none"):
    return Gelu.apply(input, approximate=approximate)


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    d = _dtype.result_type([v for v in (input, min, max) if v is not None])
    return Clamp.apply(_cast(input, d), min=_arr(min), max=_arr(max))


def square(input):
    return PowScalar.apply(input, exponent=2)


def to(input, dtype=None, *args, **kwargs):
    """Tensor.to(dtype) / .to('cpu') / .to(other_tensor): a copy only when the dtype changes."""
    if isinstance(dtype, Tensor):
        dtype = dtype.dtype
    if dtype is None or isinstance(dtype, str) or not isinstance(dtype, _dtype.dtype):
        dtype = kwargs.get("dtype", next((a for a in args if isinstance(a, _dtype.dtype)), None))
        if dtype is None:
            return input
    if input._data.dtype == dtype.np:
        return input
    if not dtype.is_floating_point:  # integer/bool results carry no gradient
        d = input._data
        return Tensor._make(np.asarray(d).astype(dtype.np) if np.ndim(d) else dtype.np.type(d))
    return ToCopy.apply(input, dtype=dtype)


def clone(input, memory_format=None):
    return Clone.apply(input)


_sin = _dual(np.sin, sin)
_cos = _dual(np.cos, cos)
_log = _dual(np.log, log)
_exp = _dual(np.exp, exp)


# ============================================================================================
# Reductions
# ============================================================================================
def _dims(dim, ndim):
    """A dim argument as a sorted tuple of non-negative axes (None = all)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    axes = tuple(sorted(_norm_dim(d, ndim) for d in dim))  # validates, even on 0-d (dim 0 / -1 allowed)
    return axes if ndim else ()


def _keepdim_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Op):
    torch_name, symbol, latex, saves = "SumBackward0", "Σ", ("1",), False

    def forward(ctx, a, dim, keepdim):
        ctx.in_shape = np.shape(a)
        ctx.axes = _dims(dim, np.ndim(a))
        if dim is not None:
            ctx.torch_name = "SumBackward1"
        s = np.sum(a, axis=ctx.axes, keepdims=keepdim)
        if np.result_type(a).kind in "bi":
            s = s.astype(np.int64)  # torch sums bools/ints into int64
        return s

    def backward(ctx, g, out, a):
        return (expand(g.reshape(_keepdim_shape(ctx.in_shape, ctx.axes)) if isinstance(g, Tensor)
                       else np.reshape(g, _keepdim_shape(ctx.in_shape, ctx.axes)), ctx.in_shape),)


class Mean(Op):
    torch_name, symbol, latex, saves = "MeanBackward0", "mean", (r"\frac{1}{n}",), False

    def forward(ctx, a, dim, keepdim):
        if np.result_type(a).kind != "f":
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point "
                               f"or complex dtype. Got: {_TYPE_NAMES[_dtype.from_numpy_dtype(np.result_type(a)).name][:-6]}")
        ctx.in_shape = np.shape(a)
        ctx.axes = _dims(dim, np.ndim(a))
        ctx.n = int(np.prod([ctx.in_shape[i] for i in ctx.axes])) if ctx.axes else 1
        if dim is not None:
            ctx.torch_name = "MeanBackward1"
        return np.mean(a, axis=ctx.axes, keepdims=keepdim, dtype=np.result_type(a))

    def backward(ctx, g, out, a):
        shape = _keepdim_shape(ctx.in_shape, ctx.axes)
        g = g.reshape(shape) if isinstance(g, Tensor) else np.reshape(g, shape)
        return (expand(g / ctx.n, ctx.in_shape),)


class MaxMin(Op):
    """max()/min() over all elements (ties share the gradient) or along a dim (the arg index gets it)."""
    torch_name, symbol, latex = "MaxBackward1", "max", (r"[a = \max a]",)

    def forward(ctx, a, dim, keepdim, largest):
        a = np.asarray(a)
        ctx.in_shape, ctx.largest = a.shape, largest
        if a.size == 0:
            raise RuntimeError("max(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        if dim is None:
            ctx.torch_name = "MaxBackward1" if largest else "MinBackward1"
            out = a.max() if largest else a.min()
            hit = a == out
            ctx.weight = (hit / hit.sum()).astype(a.dtype)
            return out
        ctx.torch_name = "MaxBackward0" if largest else "MinBackward0"
        d = _norm_dim(dim, a.ndim)
        idx = np.expand_dims((a.argmax if largest else a.argmin)(axis=d), d)
        ctx.indices = idx if keepdim else np.squeeze(idx, d)
        onehot = np.zeros(a.shape, dtype=a.dtype)
        np.put_along_axis(onehot, idx, 1, axis=d)
        ctx.weight, ctx.dim, ctx.keepdim = onehot, d, keepdim
        out = np.take_along_axis(a, idx, axis=d)
        return out if keepdim else np.squeeze(out, d)

    def backward(ctx, g, out, a):
        if getattr(ctx, "dim", None) is not None and not ctx.keepdim:
            g = g.unsqueeze(ctx.dim) if isinstance(g, Tensor) else np.expand_dims(g, ctx.dim)
        return (g * ctx.weight,)

    def label(self):
        return "max" if self.largest else "min"


class minmax_result(namedtuple("minmax_result", ["values", "indices"])):
    """(values, indices) of max/min along a dim; prints as torch.return_types.max(...)."""
    __slots__ = ()
    op = "max"

    def __repr__(self):
        return f"torch.return_types.{self.op}(\nvalues={self.values!r},\nindices={self.indices!r})"


class _min_result(minmax_result):
    __slots__ = ()
    op = "min"


def sum(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = to(input, dtype)
    return Sum.apply(input, dim=dim, keepdim=keepdim)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = to(input, dtype)
    return Mean.apply(input, dim=dim, keepdim=keepdim)


def _minmax(input, dim, keepdim, largest):
    if isinstance(dim, Tensor):  # torch.max(a, b) is maximum
        return (maximum if largest else minimum)(input, dim)
    out = MaxMin.apply(input, dim=dim, keepdim=keepdim, largest=largest)
    if dim is None:
        return out
    return (minmax_result if largest else _min_result)(
        out, Tensor._make(out.grad_fn.indices if out.grad_fn is not None else _argext(input._data, dim, keepdim, largest)))


def _argext(a, dim, keepdim, largest):
    d = _norm_dim(dim, np.ndim(a))
    idx = (np.argmax if largest else np.argmin)(a, axis=d)
    return np.expand_dims(idx, d) if keepdim else idx


def max(input, dim=None, keepdim=False):
    return _minmax(input, dim, keepdim, True)


def min(input, dim=None, keepdim=False):
    return _minmax(input, dim, keepdim, False)


def amax(input, dim=None, keepdim=False):
    return max(input, dim, keepdim)[0] if dim is not None else max(input)


def amin(input, dim=None, keepdim=False):
    return min(input, dim, keepdim)[0] if dim is not None else min(input)


def argmax(input, dim=None, keepdim=False):
    if dim is None:
        return Tensor._make(np.int64(np.argmax(input._data)))
    return Tensor._make(_argext(input._data, dim, keepdim, True))


def argmin(input, dim=None, keepdim=False):
    if dim is None:
        return Tensor._make(np.int64(np.argmin(input._data)))
    return Tensor._make(_argext(input._data, dim, keepdim, False))


def prod(input, dim=None, keepdim=False):
    """Product as exp(sum(log|x|)) would lose signs; compose from mul so every element keeps its grad."""
    if dim is None:
        flat = reshape(input, (-1,))
        out = flat[0] if flat.shape[0] else Tensor._make(input._data.dtype.type(1))
        for i in range(1, flat.shape[0]):
            out = out * flat[i]
        return out
    parts = unbind(input, dim)
    out = parts[0]
    for p in parts[1:]:
        out = out * p
    return out.unsqueeze(dim) if keepdim else out


def var(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    c = (1 if unbiased else 0) if correction is None else correction
    m = mean(input, dim, keepdim=True)
    n = input._data.size if dim is None else int(np.prod([input.shape[i] for i in _dims(dim, input.dim())]))
    return sum((input - m) ** 2, dim, keepdim) / (n - c)


def std(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


class Norm(Op):
    """The 2-norm; its gradient a / ‖a‖ is taken as 0 at a = 0, as torch does (not 0/0)."""
    torch_name, symbol, latex, needs_out = "NormBackward1", "‖·‖", (r"\frac{a}{\lVert a \rVert}",), True

    def forward(ctx, a, dim, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = np.shape(a), _dims(dim, np.ndim(a)), keepdim
        if dim is None:
            ctx.torch_name = "NormBackward0"
        return np.sqrt(np.sum(np.square(a), axis=ctx.axes, keepdims=keepdim))

    def backward(ctx, g, out, a):
        shape = _keepdim_shape(ctx.in_shape, ctx.axes)
        if not ctx.keepdim:
            g, out = g.reshape(shape), out.reshape(shape)
        safe = _where(_arr(out) == 0, 1, out)
        return (_where(_arr(out) == 0, 0, g * a / safe),)


def norm(input, p=2, dim=None, keepdim=False):
    if p == 2 or p == "fro":
        return Norm.apply(input, dim=dim, keepdim=keepdim)
    if p == 1:
        return sum(abs(input), dim, keepdim)
    return sum(abs(input) ** p, dim, keepdim) ** (1.0 / p)


def logsumexp(input, dim, keepdim=False):
    m = Tensor._make(np.max(input._data, axis=dim, keepdims=True))
    out = log(sum(exp(input - m), dim, keepdim=True)) + m
    return out if keepdim else squeeze(out, dim)


# ============================================================================================
# Shape ops
# ============================================================================================
class View(Op):
    torch_name, symbol, latex, saves = "ViewBackward0", "view", ("1",), False

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

    def forward(ctx, a, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return np.swapaxes(a, dim0, dim1) if np.ndim(a) else a  # a 0-d tensor is its own transpose

    def backward(ctx, g, out, a):
        return (_swapaxes(g, *ctx.dims) if np.ndim(_arr(g)) else g,)


class T(Transpose):
    """x.t(): a matrix transpose (0-d and 1-d tensors are returned as they are)."""
    torch_name = "TBackward0"
    exact = True

    def forward(ctx, a):
        return a.T  # numpy's .T: the cheapest view; for ndim < 2 it is the array itself

    def backward(ctx, g, out, a):
        if type(g) is np.ndarray:  # numpy's .T: a transposed view for 2-D, the array itself below
            return (g.T,)
        return (g.T if np.ndim(_arr(g)) == 2 else g,)


class Permute(Op):
    torch_name, symbol, latex, saves = "PermuteBackward0", "permute", ("1",), False

    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.transpose(a, dims)

    def backward(ctx, g, out, a):
        return (_permute(g, tuple(np.argsort(ctx.dims))),)

    def label(self):
        return "ᵀ" if list(self.dims) == list(range(len(self.dims)))[::-1] else "permute"


class Unsqueeze(Op):
    torch_name, symbol, latex, saves = "UnsqueezeBackward0", "unsqueeze", ("1",), False

    def forward(ctx, a, dim):
        ctx.in_shape = np.shape(a)
        return np.expand_dims(a, dim)

    def backward(ctx, g, out, a):
        return (g.reshape(ctx.in_shape),)


class Squeeze(Op):
    torch_name, symbol, latex, saves = "SqueezeBackward0", "squeeze", ("1",), False

    def forward(ctx, a, dim):
        ctx.in_shape = np.shape(a)
        if dim is None:
            return np.squeeze(a)
        ctx.torch_name = "SqueezeBackward1"
        axes = tuple(d for d in _dims(dim, np.ndim(a)) if ctx.in_shape[d] == 1) if np.ndim(a) else ()
        return np.squeeze(a, axes) if axes else a

    def backward(ctx, g, out, a):
        return (g.reshape(ctx.in_shape),)


class Expand(Op):
    torch_name, symbol, latex, saves = "ExpandBackward0", "expand", ("1",), False

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


def reshape(input, *shape):
    shape = _size(shape) if shape and not (len(shape) == 1 and isinstance(shape[0], int)) else tuple(shape)
    if input._data.shape == tuple(shape):
        return View.apply(input, shape=shape)
    return View.apply(input, shape=shape)


view = reshape


def flatten(input, start_dim=0, end_dim=-1):
    s = input.shape
    if not s:
        return reshape(input, (1,))
    a, b = _norm_dim(start_dim, len(s)), _norm_dim(end_dim, len(s))
    return reshape(input, tuple(s[:a]) + (-1,) + tuple(s[b + 1:]))


def unflatten(input, dim, sizes):
    s = input.shape
    d = _norm_dim(dim, len(s))
    return reshape(input, tuple(s[:d]) + tuple(sizes) + tuple(s[d + 1:]))


def transpose(input, dim0, dim1):
    return Transpose.apply(input, dim0=dim0, dim1=dim1)


swapaxes = transpose


def t(input):
    if input.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.dim()}D")
    return T.apply(input)


def permute(input, *dims):
    dims = _size(dims)
    if sorted(_norm_dim(d, input.dim()) for d in dims) != list(range(input.dim())):
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           "length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{input.dim()} is not equal to len(dims) = {len(dims)}")
    return Permute.apply(input, dims=tuple(_norm_dim(d, input.dim()) for d in dims))


def unsqueeze(input, dim):
    return Unsqueeze.apply(input, dim=_norm_dim(dim, input.dim() + 1))


def squeeze(input, dim=None):
    return Squeeze.apply(input, dim=dim)


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


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, shape):
    return expand(input, shape)


def sum_to(g, shape):
    """Reduce a gradient to `shape` by summing broadcast dims (arrays or Tensors)."""
    if isinstance(g, Tensor):
        return g if g._data.shape == tuple(shape) else SumTo.apply(g, shape=tuple(shape))
    return _sum_to_array(g, shape)


_swapaxes = _dual(np.swapaxes, transpose)
_permute = _dual(np.transpose, lambda x, dims: permute(x, *dims))


# ============================================================================================
# Indexing, joining, selecting
# ============================================================================================
def _index_key(key):
    """Tensors and lists inside an index become numpy arrays."""
    if isinstance(key, tuple):
        return tuple(_index_key(k) for k in key)
    if isinstance(key, Tensor):
        return np.asarray(key._data)
    if isinstance(key, list):
        return np.asarray([_arr(k) for k in key])
    return key


def _is_basic(key) -> bool:
    ks = key if isinstance(key, tuple) else (key,)
    return builtins.all(k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice)) for k in ks)


def _basic_index_name(key, shape) -> str:
    """torch applies a basic index step by step; grad_fn is the last step that does something."""
    if not isinstance(key, tuple):
        return ("AliasBackward0" if key is Ellipsis else "UnsqueezeBackward0" if key is None else
                "SliceBackward0" if isinstance(key, slice) else "SelectBackward0")
    name, d = "AliasBackward0", 0
    used = len([k for k in key if k is not None and k is not Ellipsis])
    for k in key:
        if k is Ellipsis:
            d += len(shape) - used
        elif k is None:
            name = "UnsqueezeBackward0"
        else:
            if not isinstance(k, slice):
                name = "SelectBackward0"
            elif d < len(shape) and k.indices(shape[d]) != (0, shape[d], 1):  # a full slice is skipped
                name = "SliceBackward0"
            d += 1
    return name


def _scatter_array(g, shape, key, dtype):
    z = np.zeros(shape, dtype=dtype)
    if _is_basic(key):
        z[key] = g
    else:
        np.add.at(z, key, g)  # repeated indices accumulate
    return z


class Index(Op):
    torch_name, symbol, latex, saves = "IndexBackward0", "[ ]", ("1",), True

    def forward(ctx, a, key):
        ctx.key, ctx.in_shape, ctx.dtype = key, np.shape(a), np.result_type(a)
        if _is_basic(key):
            ctx.torch_name = _basic_index_name(key, ctx.in_shape)
            ctx.saves = False  # select/slice keep only sizes: torch allows a second backward
        try:
            return a[key]
        except IndexError as e:
            raise IndexError(str(e).replace("for axis", "for dimension")) from None

    def backward(ctx, g, out, a):
        if isinstance(g, Tensor):
            return (IndexPut.apply(g, shape=ctx.in_shape, key=ctx.key),)
        return (_scatter_array(g, ctx.in_shape, ctx.key, ctx.dtype),)

    def label(self):
        return "[" + _fmt_key(self.key) + "]"


class IndexPut(Op):
    """Scatter-add into zeros: the backward of indexing, as a differentiable op (higher order)."""
    torch_name, symbol, latex, saves = "IndexPutBackward0", "scatter", ("1",), True

    def forward(ctx, g, shape, key):
        ctx.key = key
        return _scatter_array(g, shape, key, np.result_type(g))

    def backward(ctx, g, out, a):
        return (g[ctx.key],)


def _fmt_key(key) -> str:
    ks = key if isinstance(key, tuple) else (key,)
    parts = []
    for k in ks:
        if isinstance(k, slice):
            parts.append(f"{'' if k.start is None else k.start}:{'' if k.stop is None else k.stop}"
                         + ("" if k.step is None else f":{k.step}"))
        elif k is None:
            parts.append("None")
        elif k is Ellipsis:
            parts.append("...")
        elif isinstance(k, np.ndarray):
            parts.append(str(k.tolist()) if k.size <= 6 else f"<{k.dtype} {list(k.shape)}>")
        else:
            parts.append(str(k))
    return ", ".join(parts)


def getitem(input, key):
    return Index.apply(input, key=_index_key(key))


class Cat(Op):
    torch_name, symbol, latex, saves = "CatBackward0", "cat", (), False

    def forward(ctx, *arrays, dim):
        arrays = [np.asarray(a) for a in arrays]
        ctx.dim = _norm_dim(dim, arrays[0].ndim)
        ctx.sizes = [a.shape[ctx.dim] for a in arrays]
        return np.concatenate(arrays, axis=ctx.dim)

    def backward(ctx, g, out, *inputs):
        grads, start = [], 0
        for n in ctx.sizes:
            grads.append(g[(slice(None),) * ctx.dim + (slice(start, start + n),)])
            start += n
        return tuple(grads)

    def local_latex(self):
        return ("1",) * len(self.sizes)


class Stack(Op):
    torch_name, symbol, latex, saves = "StackBackward0", "stack", (), False

    def forward(ctx, *arrays, dim):
        ctx.n = len(arrays)
        ctx.dim = _norm_dim(dim, np.ndim(arrays[0]) + 1)
        return np.stack(arrays, axis=ctx.dim)

    def backward(ctx, g, out, *inputs):
        return tuple(g[(slice(None),) * ctx.dim + (i,)] for i in range(ctx.n))

    def local_latex(self):
        return ("1",) * self.n


class Where(Op):
    torch_name, symbol, latex = "WhereBackward0", "where", (r"[c]", r"[\lnot c]")

    def forward(ctx, a, b, cond):
        ctx.cond = cond
        return np.where(cond, a, b)

    def backward(ctx, g, out, a, b):
        return _where(ctx.cond, g, 0), _where(ctx.cond, 0, g)


def _cat_inputs(tensors):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    d = _dtype.result_type(tensors)
    return [_cast(t, d) for t in tensors]


def cat(tensors, dim=0):
    ts = [t for t in _cat_inputs(tensors) if not (t.dim() == 1 and t.shape[0] == 0)] or list(tensors)[:1]
    d = _norm_dim(dim, ts[0].dim())
    for i, t in enumerate(ts[1:], 1):  # torch's messages for mismatched inputs
        if t.dim() != ts[0].dim():
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ts[0].dim()} and {t.dim()}")
        for k, (n0, n) in enumerate(zip(ts[0].shape, t.shape)):
            if k != d and n0 != n:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size {n0} but "
                                   f"got size {n} for tensor number {i} in the list.")
    try:
        return Cat.apply(*ts, dim=dim)
    except ValueError as e:
        raise RuntimeError(f"torch.cat(): {e}") from None


concat = concatenate = cat


def stack(tensors, dim=0):
    ts = _cat_inputs(tensors)
    if len({t.shape for t in ts}) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ts[0].shape)} at entry 0 "
                           f"and {list(next(t.shape for t in ts if t.shape != ts[0].shape))} at entry "
                           f"{next(i for i, t in enumerate(ts) if t.shape != ts[0].shape)}")
    return Stack.apply(*ts, dim=dim)


def unbind(input, dim=0):
    d = _norm_dim(dim, input.dim())
    return tuple(input[(slice(None),) * d + (i,)] for i in range(input.shape[d]))


def split(input, split_size, dim=0):
    d = _norm_dim(dim, input.dim())
    n = input.shape[d]
    sizes = [split_size] * (n // split_size) + ([n % split_size] if n % split_size else []) \
        if isinstance(split_size, int) else list(split_size)
    out, start = [], 0
    for s in sizes:
        out.append(input[(slice(None),) * d + (slice(start, start + s),)])
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    n = input.shape[_norm_dim(dim, input.dim())]
    return split(input, -(-n // chunks), dim)


def where(condition, input=None, other=None):
    if input is None:
        return tuple(Tensor._make(i) for i in np.nonzero(_arr(condition)))
    cond = np.asarray(_arr(condition)).astype(bool)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("where(): expected at least one Tensor argument")
    a, b = _pair(input, other)
    return Where.apply(a, b, cond=cond)


_where = _dual(lambda c, a, b: np.where(c, a, b), lambda c, a, b: where(c, a, b))


def _where_dual(c, a, b):
    # `where` for backward formulas: dispatch on whichever value is a Tensor
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return where(c, a, b)
    return np.where(c, a, b)


_where = _where_dual


def masked_fill(input, mask, value):
    return where(mask, Tensor._make(input._data.dtype.type(_arr(value))), input)


def outer(input, vec2):
    return mul(unsqueeze(input, 1), unsqueeze(vec2, 0))


def diag(input):
    if input.dim() == 1:
        n = input.shape[0]
        return mul(unsqueeze(input, 0), Tensor._make(np.eye(n, dtype=input._data.dtype)))
    n = builtin_min(input.shape)
    return input[np.arange(n), np.arange(n)]


builtin_min = __builtins__["min"] if isinstance(__builtins__, dict) else __builtins__.min


def trace(input):
    return sum(diag(input))


def tril(input, diagonal=0):
    return mul(input, Tensor._make(np.tril(np.ones(input.shape[-2:], dtype=input._data.dtype), diagonal)))


def triu(input, diagonal=0):
    return mul(input, Tensor._make(np.triu(np.ones(input.shape[-2:], dtype=input._data.dtype), diagonal)))


# ============================================================================================
# Linear algebra
# ============================================================================================
class Matmul(Op):
    """numpy matmul semantics; torch's node name depends on the operand ranks (Mm, Mv, Dot, Bmm)."""
    torch_name, symbol, latex = "MmBackward0", "@", (r"g\,b^{\top}", r"a^{\top} g")

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


def matmul(input, other):
    a, b = _pair(input, other)
    return Matmul.apply(a, b)


def mm(input, mat2):
    if input.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError("self must be a matrix")
    return matmul(input, mat2)


def mv(input, vec):
    return matmul(input, vec)


def dot(input, other):
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors")
    return matmul(input, other)


def bmm(input, mat2):
    if input.dim() != 3 or mat2.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    out = matmul(input, mat2)
    if out.grad_fn is not None:
        out.grad_fn.torch_name = "BmmBackward0"  # a direct bmm is one node (`@` on 3-D views one)
    return out


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


# ============================================================================================
# Softmax family
# ============================================================================================
def _softmax_dim(ndim):
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Op):
    torch_name, symbol, needs_out = "SoftmaxBackward0", "softmax", True
    latex = (r"s\,(g - \textstyle\sum g s)",)

    def forward(ctx, a, dim):
        ctx.dim = dim
        e = np.exp(a - np.max(a, axis=dim, keepdims=True))
        return e / e.sum(axis=dim, keepdims=True)

    def backward(ctx, g, out, a):
        return (out * (g - _sumd(g * out, ctx.dim)),)


class LogSoftmax(Op):
    torch_name, symbol, needs_out = "LogSoftmaxBackward0", "log_softmax", True
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


def softmax(input, dim=None, dtype=None, _stacklevel=3):
    if dtype is not None:
        input = to(input, dtype)
    dim = _softmax_dim(input.dim()) if dim is None else _norm_dim(dim, input.dim())
    return Softmax.apply(input, dim=dim)


def log_softmax(input, dim=None, dtype=None, _stacklevel=3):
    if dtype is not None:
        input = to(input, dtype)
    dim = _softmax_dim(input.dim()) if dim is None else _norm_dim(dim, input.dim())
    return LogSoftmax.apply(input, dim=dim)


# ============================================================================================
# Non-differentiable ops (comparisons, predicates): results never require grad
# ============================================================================================
def _compare(fn):
    def op(input, other):
        a = _arr(input)
        b = _arr(other)
        return Tensor._make(np.asarray(fn(a, b)) if np.ndim(a) or np.ndim(b) else np.bool_(fn(a, b)))
    return op


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = less = _compare(np.less)
le = less_equal = _compare(np.less_equal)
gt = greater = _compare(np.greater)
ge = greater_equal = _compare(np.greater_equal)
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)


def _predicate(fn):
    def op(input):
        return Tensor._make(fn(input._data))
    return op


isnan = _predicate(np.isnan)
isinf = _predicate(np.isinf)
isfinite = _predicate(np.isfinite)
logical_not = _predicate(np.logical_not)
sign = _predicate(np.sign)
floor = _predicate(np.floor)
ceil = _predicate(np.ceil)
round = _predicate(np.round)
trunc = _predicate(np.trunc)


def all(input, dim=None, keepdim=False):
    return Tensor._make(np.all(input._data, axis=dim, keepdims=keepdim))


def any(input, dim=None, keepdim=False):
    return Tensor._make(np.any(input._data, axis=dim, keepdims=keepdim))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(input._data, _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return Tensor._make(np.isclose(input._data, _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other) -> bool:
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


def numel(input) -> int:
    return input.numel()


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


# ============================================================================================
# Tensor methods and operators: bound here, beside the functions they call
# ============================================================================================
def _method(fn):
    return lambda self, *args, **kwargs: fn(self, *args, **kwargs)


def _install():
    T_ = Tensor
    def __add__(self, other):
        if type(other) is float:  # `h + 0.5` on a 0-d float tensor: the shortest path (scalar chains)
            tp = type(self._data)
            if tp in _FLOAT_SCALARS:
                c = _SHARED.get((tp, other))
                return Add.apply(self, c if c is not None else _shared_const(tp, other))
        return Add.apply(*_pair(self, other))

    def __mul__(self, other):
        if type(other) is float:
            tp = type(self._data)
            if tp in _FLOAT_SCALARS:
                c = _SHARED.get((tp, other))
                return Mul.apply(self, c if c is not None else _shared_const(tp, other))
        return Mul.apply(*_pair(self, other))

    T_.__add__ = T_.__radd__ = __add__
    T_.__sub__ = lambda self, other: sub(self, other)
    T_.__rsub__ = lambda self, other: rsub(self, other)
    T_.__mul__ = T_.__rmul__ = __mul__
    T_.__truediv__ = lambda self, other: div(self, other)
    T_.__rtruediv__ = lambda self, other: rdiv(self, other)
    T_.__floordiv__ = lambda self, other: div(self, other, rounding_mode="floor")
    T_.__pow__ = lambda self, other: pow(self, other)
    T_.__rpow__ = lambda self, other: pow(other, self)
    T_.__matmul__ = lambda self, other: matmul(self, other)
    T_.__rmatmul__ = lambda self, other: matmul(other, self)
    T_.__neg__ = lambda self: neg(self)
    T_.__pos__ = lambda self: self
    T_.__abs__ = lambda self: abs(self)
    T_.__getitem__ = lambda self, key: getitem(self, key)
    T_.__eq__ = lambda self, other: eq(self, other)
    T_.__ne__ = lambda self, other: ne(self, other)
    T_.__lt__ = lambda self, other: lt(self, other)
    T_.__le__ = lambda self, other: le(self, other)
    T_.__gt__ = lambda self, other: gt(self, other)
    T_.__ge__ = lambda self, other: ge(self, other)
    T_.__and__ = lambda self, other: logical_and(self, other)
    T_.__or__ = lambda self, other: logical_or(self, other)
    T_.__invert__ = lambda self: logical_not(self)
    T_.__hash__ = object.__hash__
    T_.T = property(lambda self: permute(self, *reversed(range(self.dim()))))
    T_.mT = property(lambda self: transpose(self, -2, -1))

    def __setitem__(self, key, value):
        key = _index_key(key)
        if STATE.grad_enabled and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)):
            if self._requires_grad and self.grad_fn is None:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
            mask = np.zeros(self.shape, dtype=bool)
            mask[key] = True
            v = value if isinstance(value, Tensor) else Tensor._make(np.asarray(value, self._data.dtype))
            full = Tensor._make(np.zeros(self.shape, self._data.dtype))
            scattered = expand(v, full[key].shape) if v.shape != full[key].shape else v
            placed = IndexPut.apply(scattered, shape=tuple(self.shape), key=key)
            res = where(Tensor._make(mask), placed, Tensor._make(self._data) if not self._requires_grad else
                        _shadow(self))
            self._data, self.grad_fn, self._requires_grad = res._data, res.grad_fn, True
        else:
            self._ensure_array()[key] = _arr(value)
        self._version += 1
        INPLACE[0] += 1

    T_.__setitem__ = __setitem__

    methods = dict(
        add=add, sub=sub, subtract=sub, mul=mul, multiply=mul, div=div, divide=div, true_divide=div, pow=pow,
        neg=neg, negative=neg, reciprocal=reciprocal, exp=exp, log=log, sqrt=sqrt, abs=abs, absolute=abs,
        sin=sin, cos=cos, tanh=tanh, sigmoid=sigmoid, relu=relu, clamp=clamp, clip=clamp, square=square,
        maximum=maximum, minimum=minimum, sum=sum, mean=mean, max=max, min=min, amax=amax, amin=amin,
        argmax=argmax, argmin=argmin, prod=prod, var=var, std=std, norm=norm, logsumexp=logsumexp,
        reshape=reshape, view=reshape, flatten=flatten, unflatten=unflatten, transpose=transpose,
        swapaxes=transpose, t=t, permute=permute, unsqueeze=unsqueeze, squeeze=squeeze, expand=expand,
        expand_as=expand_as, broadcast_to=broadcast_to, matmul=matmul, mm=mm, mv=mv, dot=dot, bmm=bmm,
        softmax=softmax, log_softmax=log_softmax, to=to, clone=clone, masked_fill=masked_fill,
        eq=eq, ne=ne, lt=lt, le=le, gt=gt, ge=ge, isnan=isnan, isinf=isinf, isfinite=isfinite,
        all=all, any=any, allclose=allclose, isclose=isclose, equal=equal, sign=sign, floor=floor,
        ceil=ceil, round=round, trunc=trunc, logical_not=logical_not, unbind=unbind, split=split,
        chunk=chunk, outer=outer, diag=diag, trace=trace, tril=tril, triu=triu,
    )
    for name, fn in methods.items():
        setattr(T_, name, _method(fn))
    T_.float = lambda self: to(self, _dtype.float32)
    T_.double = lambda self: to(self, _dtype.float64)
    T_.half = lambda self: to(self, _dtype.float16)
    T_.long = lambda self: to(self, _dtype.int64)
    T_.int = lambda self: to(self, _dtype.int32)
    T_.bool = lambda self: to(self, _dtype.bool_)
    T_.type = lambda self, dtype=None: (f"torch.{_TYPE_NAMES[self.dtype.name]}" if dtype is None else to(self, dtype))
    T_.type_as = lambda self, other: to(self, other.dtype)
    T_.cpu = T_.cuda = T_.contiguous = lambda self, *a, **k: self
    T_.view_as = lambda self, other: reshape(self, tuple(other.shape))
    T_.reshape_as = T_.view_as
    T_.new_tensor = lambda self, data, dtype=None, requires_grad=False: __import__("vizgrad").tensor(
        data, dtype=dtype or self.dtype, requires_grad=requires_grad)
    T_.new_zeros = lambda self, *size, dtype=None: Tensor._make(np.zeros(_size(size), (dtype or self.dtype).np))
    T_.new_ones = lambda self, *size, dtype=None: Tensor._make(np.ones(_size(size), (dtype or self.dtype).np))
    T_.new_full = lambda self, size, value, dtype=None: Tensor._make(np.full(_size((size,)), value,
                                                                              (dtype or self.dtype).np))


def _shadow(t: Tensor) -> Tensor:
    """A new handle on t's current value and history (used when t itself is about to be rebased)."""
    s = Tensor._make(t._data, t._requires_grad)
    s.grad_fn, s.name = t.grad_fn, t.name
    return s


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
               "uint8": "ByteTensor", "bool": "BoolTensor"}

_install()
