"""nn.Parameter: a leaf Tensor that a Module registers as trainable."""
from __future__ import annotations

import numpy as np

from vizgrad._dtype import get_default_dtype
from vizgrad.tensor import Tensor, _init


class Parameter(Tensor):
    """`Parameter(data, requires_grad=True)`: shares `data`'s storage, as torch does."""

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            arr = np.empty((0,), dtype=get_default_dtype().np)
        elif isinstance(data, Tensor):
            arr = data._ensure_array()
        else:
            arr = np.asarray(data)
        _init(self, arr, bool(requires_grad))

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(Tensor._make(np.array(self._data)), self._requires_grad)
        if self._grad is not None:
            p._grad = Tensor._make(np.array(self._grad._data))
        memo[id(self)] = p
        return p

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (np.array(self._data), self._requires_grad))


def _rebuild_parameter(arr, requires_grad):
    return Parameter(Tensor._make(arr), requires_grad)


class Buffer(Tensor):
    """nn.Buffer marker (torch >= 2.5): assigning one to a Module attribute registers a buffer."""

    def __init__(self, data=None, *, persistent: bool = True):
        arr = np.empty((0,), dtype=get_default_dtype().np) if data is None else (
            data._ensure_array() if isinstance(data, Tensor) else np.asarray(data))
        _init(self, arr, False)
        self.persistent = persistent
