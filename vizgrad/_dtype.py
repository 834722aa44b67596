"""Tensor dtypes and PyTorch's type-promotion rules, on top of numpy dtypes.

`vizgrad.float32` prints as `torch.float32` because the code our users run was written for
PyTorch and prints dtypes; the numbers and the text must match.
"""
from __future__ import annotations

import numpy as np


class dtype:
    """A tensor element type: a thin wrapper over a numpy dtype with torch's name and repr."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "tensor_type", "_category")

    def __init__(self, name: str, np_dtype, category: int, tensor_type: str):
        self.name = name
        self.tensor_type = tensor_type  # torch's legacy type name: x.type() is f"torch.{tensor_type}"
        self.np = np.dtype(np_dtype)
        self.is_floating_point = category == 2
        self.is_signed = name not in ("uint8", "bool")
        self.itemsize = self.np.itemsize
        self._category = category  # 0 bool, 1 integer, 2 floating: torch's promotion categories

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):  # pickle / copy as the module-level singleton
        return (_by_name, (self.name,))


bool_ = dtype("bool", np.bool_, 0, "BoolTensor")
uint8 = dtype("uint8", np.uint8, 1, "ByteTensor")
int8 = dtype("int8", np.int8, 1, "CharTensor")
int16 = dtype("int16", np.int16, 1, "ShortTensor")
int32 = dtype("int32", np.int32, 1, "IntTensor")
int64 = dtype("int64", np.int64, 1, "LongTensor")
float16 = dtype("float16", np.float16, 2, "HalfTensor")
float32 = dtype("float32", np.float32, 2, "FloatTensor")
float64 = dtype("float64", np.float64, 2, "DoubleTensor")

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
_FROM_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}


def _by_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype) -> dtype:
    try:
        return _FROM_NP[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: "
                        "float64, float32, float16, int64, int32, int16, int8, uint8, and bool.") from None


_default_float = [float32]


def get_default_dtype() -> dtype:
    return _default_float[0]


def set_default_dtype(d: dtype) -> None:
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float[0] = d


def promote_types(a: dtype, b: dtype) -> dtype:
    """torch.promote_types: like numpy's, except an integer meets a float as that float (int64 + float32 -> float32)."""
    if a is b:
        return a
    if a._category != b._category:
        return a if a._category > b._category else b
    return _FROM_NP[np.promote_types(a.np, b.np)]


def _combine(higher, lower):
    # c10's combine_categories: a higher-priority group keeps its type unless a lower one is of a higher category.
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def result_type(operands) -> dtype:
    """torch's result type for an op over tensors and Python scalars.

    Three groups in falling priority: tensors with dimensions, zero-dim tensors, Python numbers.
    A lower group only matters when its category (bool < int < float) is higher.
    """
    from vizgrad.tensor import Tensor  # local: tensor.py imports this module

    dim = zero = wrapped = None
    for x in operands:
        if isinstance(x, Tensor):
            d = x.dtype
            if x._data.ndim:
                dim = d if dim is None else promote_types(dim, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        else:
            d = scalar_dtype(x)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
    return _combine(dim, _combine(zero, wrapped))


def scalar_dtype(x) -> dtype:
    """The dtype torch gives a Python number: bool, int64 or the default float."""
    if isinstance(x, (bool, np.bool_)):
        return bool_
    if isinstance(x, (int, np.integer)):
        return int64
    if isinstance(x, (float, np.floating)):
        return _default_float[0]
    raise TypeError(f"unsupported operand type: {type(x).__name__}")
