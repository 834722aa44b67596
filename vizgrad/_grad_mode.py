"""Grad mode: `no_grad`, `enable_grad`, `set_grad_enabled`, as context managers and decorators.

The flag lives in a one-element list so the hot path in `ops.Op.apply` reads it with one index.
"""
from __future__ import annotations

import functools

GRAD_ENABLED = [True]


def is_grad_enabled() -> bool:
    return GRAD_ENABLED[0]


class _GradMode:
    """Base: enter sets the mode, exit restores the previous one; usable as a decorator too."""

    mode: bool

    def __new__(cls, *args, **kwargs):
        # `@no_grad` without parentheses: the class is called with the function itself
        if cls in (no_grad, enable_grad) and len(args) == 1 and callable(args[0]) and not kwargs:
            return object.__new__(cls)(args[0])
        return object.__new__(cls)

    def __init__(self, *args):
        pass

    def __enter__(self):
        self._prev = GRAD_ENABLED[0]
        GRAD_ENABLED[0] = self.mode

    def __exit__(self, *exc):
        GRAD_ENABLED[0] = self._prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev, GRAD_ENABLED[0] = GRAD_ENABLED[0], mode
            try:
                return fn(*args, **kwargs)
            finally:
                GRAD_ENABLED[0] = prev

        return wrapper


class no_grad(_GradMode):
    """Ops run inside record no graph: `with vizgrad.no_grad(): ...` or `@vizgrad.no_grad()`."""

    mode = False


class enable_grad(_GradMode):
    mode = True


class set_grad_enabled(_GradMode):
    """`set_grad_enabled(False)` switches at once (like torch) and restores on exit when used with `with`."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = GRAD_ENABLED[0]
        GRAD_ENABLED[0] = self.mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        GRAD_ENABLED[0] = self._prev
        return False

    def __call__(self, fn):
        GRAD_ENABLED[0] = self._prev  # used as a decorator: the switch applies inside fn only
        return super().__call__(fn)


class inference_mode(no_grad):
    def __init__(self, mode: bool = True):
        self.mode = not mode
