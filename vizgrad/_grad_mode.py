"""Grad mode: `no_grad`, `enable_grad`, `set_grad_enabled`, as context managers and decorators.

The flag lives in `STATE`, which is per thread, as torch's grad mode is: a Streamlit server runs
each session's script in its own thread, so one user's `no_grad()` must not switch off another
user's graph. The anomaly flag and the module-call stack live there for the same reason.
"""
from __future__ import annotations

import functools
import threading


class _ThreadState(threading.local):
    def __init__(self):  # runs once in every thread that touches STATE
        self.grad_enabled = True
        self.anomaly = False
        self.call_stack = []  # (scope tuple, names) of vizgrad.nn modules running, innermost last


STATE = _ThreadState()


def is_grad_enabled() -> bool:
    return STATE.grad_enabled


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
        self._prev = STATE.grad_enabled
        STATE.grad_enabled = self.mode

    def __exit__(self, *exc):
        STATE.grad_enabled = self._prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev, STATE.grad_enabled = STATE.grad_enabled, mode
            try:
                return fn(*args, **kwargs)
            finally:
                STATE.grad_enabled = prev

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
        self._prev = STATE.grad_enabled
        STATE.grad_enabled = self.mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        STATE.grad_enabled = self._prev
        return False

    def __call__(self, fn):
        STATE.grad_enabled = self._prev  # used as a decorator: the switch applies inside fn only
        return super().__call__(fn)


class inference_mode(no_grad):
    def __init__(self, mode: bool = True):
        self.mode = not mode
