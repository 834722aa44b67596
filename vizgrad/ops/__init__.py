"""vizgrad.ops: every differentiable operation, one class each, in one module per kind.

    base        Op (the grad_fn node), AccumulateGrad, OPS, operand promotion, dual helpers
    arith       + − × ÷ **, maximum, minimum          unary       exp, log, sin, abs, clamp ...
    activation  sigmoid, relu, gelu, softmax ...      reduce      sum, mean, max, norm ...
    shape       reshape, transpose, expand ...        index       x[key], cat, stack, where ...
    linalg      matmul, addmm, nn.Linear's node ...   loss        mse, bce, nll, cross-entropy
    compare     eq, lt, isnan, all ... (no grad)

Every name of those modules is also an attribute of this package (`vizgrad.ops.mul`,
`vizgrad.ops.Sin`, `vizgrad.ops.OPS` ...).
"""
from __future__ import annotations

from types import ModuleType as _ModuleType

import numpy as np

from vizgrad import _dtype
from vizgrad._grad_mode import STATE
from vizgrad.ops import base, shape, index, unary, arith, reduce, activation, linalg, loss, compare  # noqa: I001  (dependency order)
from vizgrad.tensor import INPLACE, Tensor, _size

for _m in (base, shape, index, unary, arith, reduce, activation, linalg, loss, compare):
    globals().update({k: v for k, v in vars(_m).items() if not k.startswith("__") and not isinstance(v, _ModuleType)})


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



_install()
