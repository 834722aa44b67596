"""Comparisons, predicates and tests (eq, lt, isnan, floor, all, allclose ...): results never
require grad."""
from __future__ import annotations

import numpy as np

from vizgrad.ops.base import _arr, bind, public
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
logical_and = bind("__and__")(public(method=True)(_compare(np.logical_and, "logical_and")))
logical_or = bind("__or__")(public(method=True)(_compare(np.logical_or, "logical_or")))
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
logical_not = bind("__invert__")(public(method=True)(_predicate(np.logical_not, "logical_not")))
sign = public(method=True)(_predicate(np.sign, "sign"))
floor = public(method=True)(_predicate(np.floor, "floor"))
ceil = public(method=True)(_predicate(np.ceil, "ceil"))
round = public(method=True)(_predicate(np.round, "round"))
trunc = public(method=True)(_predicate(np.trunc, "trunc"))


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
