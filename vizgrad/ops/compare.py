"""Comparisons, predicates and tests (eq, lt, isnan, floor, all, allclose ...): results never
require grad."""
from __future__ import annotations

import numpy as np

from vizgrad.ops.base import _arr
from vizgrad.tensor import Tensor


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

