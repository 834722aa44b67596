"""Random numbers, as torch's API: Generator, manual_seed, seed, rng state, rand/randn/randint/
randperm/normal (and their _like forms), and the in-place fills x.uniform_() / x.normal_().

    import vizgrad as torch
    torch.manual_seed(0)
    torch.randn(2, 3)                        # reproducible per thread (see below)
"""
from __future__ import annotations

import threading

import numpy as np

from vizgrad import _dtype
from vizgrad._dtype import get_default_dtype
from vizgrad.ops.base import bind
from vizgrad.tensor import Tensor, _size


# numpy Generators seeded by manual_seed. Numbers differ from torch's stream (torch's generator
# is not reproducible outside torch); parity tests copy weights instead. The default generator
# keeps one state per thread, so that in the app one session's manual_seed(...) and draws never
# interleave with another's (a shared link must reproduce the same run).
class Generator:
    def __init__(self, device="cpu"):
        self._np = np.random.default_rng(0)
        self._seed = 0

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self._np = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        return self._np.bit_generator.state

    def set_state(self, state):
        self._np.bit_generator.state = state


class _ThreadDefaultGenerator(Generator, threading.local):
    """Generator whose state is per thread (threading.local calls __init__ once per thread)."""


default_generator = _ThreadDefaultGenerator()


def _rng(generator=None) -> np.random.Generator:
    return (generator or default_generator)._np


def manual_seed(seed: int) -> Generator:
    return default_generator.manual_seed(seed)


def seed() -> int:
    s = int(np.random.SeedSequence().entropy % (2 ** 63))
    default_generator.manual_seed(s)
    return s


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    arr = _rng(generator).random(_size(size)).astype((dtype or get_default_dtype()).np)
    return Tensor._make(arr, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    arr = _rng(generator).standard_normal(_size(size)).astype((dtype or get_default_dtype()).np)
    return Tensor._make(arr, requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None, device=None) -> Tensor:
    if high is None:
        low, high = 0, low
    return Tensor._make(_rng(generator).integers(low, high, _size((size,))).astype((dtype or _dtype.int64).np))


def randperm(n: int, generator=None, dtype=None, device=None) -> Tensor:
    return Tensor._make(_rng(generator).permutation(n).astype((dtype or _dtype.int64).np))


def rand_like(t: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return rand(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def normal(mean, std, size=None, generator=None) -> Tensor:
    shape = _size((size,)) if size is not None else np.broadcast_shapes(np.shape(mean), np.shape(std))
    return Tensor._make(_rng(generator).normal(np.asarray(mean), np.asarray(std), shape).astype(get_default_dtype().np))


@bind("uniform_")
def _uniform_(self, a=0.0, b=1.0, generator=None):
    return self._fill(_rng(generator).uniform(a, b, self._data.shape))


@bind("normal_")
def _normal_(self, mean=0.0, std=1.0, generator=None):
    return self._fill(_rng(generator).normal(mean, std, self._data.shape))
