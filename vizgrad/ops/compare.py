"""Comparisons, predicates and tests (eq, lt, isnan, floor, all, allclose ...) and the bitwise
operators (& | ^ ~ << >>, bitwise_and ...): results never require grad."""
from __future__ import annotations

import numpy as np

from vizgrad import _dtype
from vizgrad.ops.base import _arr, _broadcast_message, bind, public
from vizgrad.tensor import Tensor


def _compare(fn, name: str):
    """torch.<name>(input, other): numpy's `fn` on the values, a bool tensor without grad."""
    def op(input, other):
        a = _arr(input)
        b = _arr(other)
        return Tensor._make(np.asarray(fn(a, b)) if np.ndim(a) or np.ndim(b) else np.bool_(fn(a, b)))
    op.__name__ = op.__qualname__ = name
    return op


eq = bind("__eq__")(public(method=True)(_compare(np.equal, "eq")))
ne = bind("__ne__")(public(method=True)(_compare(np.not_equal, "ne")))
lt = less = bind("__lt__")(public(method=True)(_compare(np.less, "lt")))
le = less_equal = bind("__le__")(public(method=True)(_compare(np.less_equal, "le")))
gt = greater = bind("__gt__")(public(method=True)(_compare(np.greater, "gt")))
ge = greater_equal = bind("__ge__")(public(method=True)(_compare(np.greater_equal, "ge")))
logical_and = public(method=True)(_compare(np.logical_and, "logical_and"))
logical_or = public(method=True)(_compare(np.logical_or, "logical_or"))
logical_xor = public(method=True)(_compare(np.logical_xor, "logical_xor"))


def _predicate(fn, name: str):
    """torch.<name>(input): numpy's `fn` on the values, a tensor without grad."""
    def op(input):
        return Tensor._make(fn(input._data))
    op.__name__ = op.__qualname__ = name
    return op


isnan = public(method=True)(_predicate(np.isnan, "isnan"))
isinf = public(method=True)(_predicate(np.isinf, "isinf"))
isfinite = public(method=True)(_predicate(np.isfinite, "isfinite"))
logical_not = public(method=True)(_predicate(np.logical_not, "logical_not"))
sign = public(method=True)(_predicate(np.sign, "sign"))
floor = public(method=True)(_predicate(np.floor, "floor"))
ceil = public(method=True)(_predicate(np.ceil, "ceil"))
round = public(method=True)(_predicate(np.round, "round"))
trunc = public(method=True)(_predicate(np.trunc, "trunc"))


# -- bitwise: & | ^ ~ << >> on integer and bool tensors ---------------------------------------------
# The operands are promoted as for + (int8 tensor & 3 stays int8; a bool tensor & 1 is int64), then
# bool gives the logical result and integers the two's-complement one. Floats are refused with
# torch's kernel error. The results are integers or bools, so nothing here records a grad_fn.
_NUMBERS = (bool, int, float, np.bool_, np.number)


def _int_operands(input, other, name: str, kernel: str, bool_ok: bool = True):
    """(a, b) as numpy values of torch's promoted dtype, which must be integer (or bool, if the
    kernel has one). A Python int wraps into that dtype as torch's does (int8 & 300 is int8 & 44)."""
    input, other = (Tensor._make(x) if isinstance(x, np.ndarray) else x for x in (input, other))
    if not (isinstance(input, Tensor) and isinstance(other, (Tensor, *_NUMBERS))
            or isinstance(other, Tensor) and isinstance(input, _NUMBERS)):
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({_kind(input)}, "
                        f"{_kind(other)}), but expected one of:\n * (Tensor input, Tensor other)\n"
                        " * (Number self, Tensor other)\n * (Tensor input, Number other)")
    d = _dtype.result_type((input, other))
    if d.is_floating_point or d is _dtype.bool_ and not bool_ok:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{d.tensor_type[:-6]}\'')  # 'Float', 'Bool'
    return tuple(x._data.astype(d.np, copy=False) if isinstance(x, Tensor) else _wrapped(x, d) for x in (input, other))


def _wrapped(x, d):
    """A Python number in dtype d, modulo 2**bits as torch converts it (uint8 & -1 is uint8 & 255)."""
    try:
        return np.array(x).astype(d.np)[()]
    except OverflowError:  # beyond 64 bits
        raise OverflowError("int too big to convert") from None


def _kind(x) -> str:
    return "Tensor" if isinstance(x, Tensor) else type(x).__name__


def _bitwise(fn, name: str, kernel: str, bool_ok: bool = True):
    """torch.<name>(input, other): numpy's `fn` on the promoted operands; a tensor without grad."""
    def op(input, other):
        a, b = _int_operands(input, other, name, kernel, bool_ok)
        try:
            return Tensor._make(fn(a, b))
        except ValueError:
            raise RuntimeError(_broadcast_message([np.shape(a), np.shape(b)])) from None
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name}(input, other): elementwise on integer and bool tensors (no gradient)."
    return op


def _shift_left(a, b):
    """a << b in a's dtype; a shift by a negative amount or by the width or more gives 0, as torch's
    kernel (numpy leaves those to the C compiler). Shifted as unsigned so overflow wraps."""
    bits = a.dtype.itemsize * 8
    ok = (b >= 0) & (b < bits)
    u = np.dtype(f"u{a.dtype.itemsize}")
    out = np.left_shift(a.astype(u), np.where(ok, b, 0).astype(u)).astype(a.dtype)
    return np.where(ok, out, 0).astype(a.dtype)[()]


def _shift_right(a, b):
    """a >> b (arithmetic); a negative or too wide shift fills with the sign: -1 or 0, as torch's kernel."""
    ok = (b >= 0) & (b < a.dtype.itemsize * 8)
    out = np.right_shift(a, np.where(ok, b, 0).astype(a.dtype))
    return np.where(ok, out, np.where(a < 0, -1, 0)).astype(a.dtype)[()]


bitwise_and = public(method=True)(_bitwise(np.bitwise_and, "bitwise_and", "bitwise_and_cpu"))
bitwise_or = public(method=True)(_bitwise(np.bitwise_or, "bitwise_or", "bitwise_or_cpu"))
bitwise_xor = public(method=True)(_bitwise(np.bitwise_xor, "bitwise_xor", "bitwise_xor_cpu"))
bitwise_left_shift = public(method=True)(_bitwise(_shift_left, "bitwise_left_shift", "lshift_cpu", False))
bitwise_right_shift = public(method=True)(_bitwise(_shift_right, "bitwise_right_shift", "rshift_cpu", False))


@public(method=True)
def bitwise_not(input):
    """torch.bitwise_not: ~x on integers, logical not on bool."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bitwise_not(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    d = input.dtype
    if d.is_floating_point:
        raise NotImplementedError(f'"bitwise_not_cpu" not implemented for \'{d.tensor_type[:-6]}\'')
    return Tensor._make(np.invert(input._data))


@bind("__invert__")
def _invert_operator(self):
    if self.dtype.is_floating_point:  # torch's operator refuses before the kernel does
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(self)


def _into(res: Tensor, dst: Tensor) -> Tensor:
    """An in-place result in the destination's dtype, by torch's cast rule for integers: any integer
    result fits any integer destination (wrapping: uint8 x ^= int32 y), but not a bool one."""
    if res.dtype is dst.dtype:
        return res
    if dst.dtype is _dtype.bool_:
        raise RuntimeError(f"result type {res.dtype.tensor_type[:-6]} can't be cast to the desired output type Bool")
    return Tensor._make(np.asarray(res._data).astype(dst._data.dtype)[()])


def _operators(fn, op: str):
    """Tensor.__<op>__, __r<op>__ and __i<op>__ for `fn`: anything but a tensor or a number gives
    NotImplemented, so Python raises its own "unsupported operand type(s)" TypeError, as torch."""
    def forward(self, other):
        return fn(self, other) if isinstance(other, (Tensor, np.ndarray, *_NUMBERS)) else NotImplemented

    def reflected(self, other):
        return fn(other, self) if isinstance(other, (np.ndarray, *_NUMBERS)) else NotImplemented

    def inplace(self, other):  # x &= y is x.bitwise_and_(y): same dtype, same storage
        return self._inplace(lambda a, b: _into(fn(a, b), a), other)
    bind(f"__{op}__")(forward)
    bind(f"__r{op}__")(reflected)
    bind(f"__i{op}__", fn.__name__ + "_")(inplace)


_operators(bitwise_and, "and")
_operators(bitwise_or, "or")
_operators(bitwise_xor, "xor")
_operators(bitwise_left_shift, "lshift")
_operators(bitwise_right_shift, "rshift")
bind("bitwise_not_")(lambda self: self._inplace(bitwise_not))


@public(method=True)
def all(input, dim=None, keepdim=False):
    return Tensor._make(np.all(input._data, axis=dim, keepdims=keepdim))


@public(method=True)
def any(input, dim=None, keepdim=False):
    return Tensor._make(np.any(input._data, axis=dim, keepdims=keepdim))


@public(method=True)
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(input._data, _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


@public(method=True)
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return Tensor._make(np.isclose(input._data, _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


@public(method=True)
def equal(input, other) -> bool:
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


@public()
def numel(input) -> int:
    return input.numel()


@public()
def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


bind("__hash__")(object.__hash__)  # identity, as torch: binding __eq__ must not make tensors unhashable
