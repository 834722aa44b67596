"""Tensor factories, as torch's: tensor, as_tensor, from_numpy, zeros/ones/full/empty (and their
_like forms), eye, arange, linspace; and Tensor.new_tensor.

    import vizgrad as torch
    torch.tensor([[1, 2], [3, 4]])           # int64, as torch infers it
    torch.zeros(2, 3), torch.arange(5), torch.linspace(0, 1, 5)

Random tensors (rand, randn ...) live in vizgrad/random.py.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from vizgrad import _dtype
from vizgrad._dtype import dtype, from_numpy_dtype, get_default_dtype
from vizgrad.ops.base import bind
from vizgrad.tensor import Tensor, _size


def _infer_np_dtype(data) -> np.dtype:
    """The dtype torch.tensor gives to Python data: bool, int64, or the default float."""
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        return from_numpy_dtype(data.dtype).np
    kinds = set()
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, Tensor):
            kinds.add(x.dtype.np)
        elif isinstance(x, (bool, np.bool_)):
            kinds.add(np.dtype(np.bool_))
        elif isinstance(x, (int, np.integer)):
            kinds.add(np.dtype(np.int64))
        elif isinstance(x, (float, np.floating)):
            kinds.add(get_default_dtype().np)
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")
    if not kinds:
        return get_default_dtype().np
    out = None
    for k in kinds:
        d = from_numpy_dtype(k)
        out = d if out is None else _dtype.promote_types(out, d)
    return out.np


def _to_array(data, dtype_: dtype | None) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data._data
    elif isinstance(data, (list, tuple)):
        data = [_to_array(x, None) if isinstance(x, Tensor) else x for x in data] if any(
            isinstance(x, Tensor) for x in data) else data
    np_dtype = dtype_.np if dtype_ is not None else _infer_np_dtype(data)
    arr = np.array(data, dtype=np_dtype)
    if arr.dtype == object:
        raise ValueError("expected a sequence of equal-length sequences of numbers")
    return arr


def tensor(data: Any, dtype: dtype | None = None, device=None, requires_grad: bool = False,
           name: str | None = None) -> Tensor:
    """torch.tensor: always copies. `name` (vizgrad only) labels the tensor in drawn graphs."""
    if type(data) is float and dtype is None:  # the common scalar case, kept cheap
        arr = get_default_dtype().np.type(data)
    else:
        arr = _to_array(data, dtype)
        if arr.ndim == 0:
            arr = arr[()]  # numpy scalar storage for 0-d, see vizgrad/tensor.py's docstring
    if requires_grad and not from_numpy_dtype(arr.dtype).is_floating_point:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    t = Tensor._make(arr, requires_grad)
    if name is not None:
        t.name = name
    return t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    if isinstance(data, Tensor) and (dtype is None or data.dtype is dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or dtype.np == data.dtype):
        return Tensor._make(data)
    return tensor(data, dtype=dtype)


def from_numpy(arr: np.ndarray) -> Tensor:
    from_numpy_dtype(arr.dtype)  # raises torch's TypeError for unsupported dtypes
    return Tensor._make(arr)


def _filled(size, value, dtype_, requires_grad):
    d = dtype_ if dtype_ is not None else (_dtype.scalar_dtype(value) if value is not None else get_default_dtype())
    arr = np.full(_size(size), value if value is not None else 0, dtype=d.np)
    return Tensor._make(arr, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled(size, 0.0 if dtype is None else 0, dtype or get_default_dtype(), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled(size, 1, dtype or get_default_dtype(), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled((size,), fill_value, dtype, requires_grad)


def zeros_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def empty_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return zeros_like(t, dtype=dtype, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return Tensor._make(np.eye(n, m, dtype=(dtype or get_default_dtype()).np), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = _dtype.int64 if all(isinstance(v, (int, np.integer)) for v in (start, end, step)) else get_default_dtype()
    n = max(0, math.ceil((end - start) / step))
    arr = (start + step * np.arange(n, dtype=np.float64)).astype(dtype.np)
    return Tensor._make(arr, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    arr = np.linspace(start, end, steps, dtype=np.float64).astype((dtype or get_default_dtype()).np)
    return Tensor._make(arr, requires_grad)


@bind("new_tensor")
def _new_tensor(self, data, dtype=None, requires_grad=False):
    """x.new_tensor(data): a tensor of x's dtype (unless given)."""
    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)
