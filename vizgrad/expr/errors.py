"""What can go wrong and how much one expression may ask for: `ExprError` (every failure the
language reports: a plain message and the 1-based column it points at), `ExprLimits` (the bounds on
source length, tree size, tensor sizes and total arithmetic), and the wording shared by the parser
and the evaluator. `shielded` wraps the public entry points so that nothing but ExprError escapes.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass


class ExprError(ValueError):
    """A bad expression or variable. `message` is plain text; `col`/`end_col` are 1-based columns
    into `source` (end exclusive), or None when the problem has no position (e.g. a bad variable)."""

    def __init__(self, message: str, col: int | None = None, end_col: int | None = None,
                 source: str | None = None):
        self.message = message
        self.col = col
        self.end_col = end_col if (end_col is not None and col is not None and end_col > col) else (
            None if col is None else col + 1)
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        return self.message if self.col is None else f"{self.message} (column {self.col})"

    def pointer(self, width: int = 72) -> str:
        """The source line with a caret under the offending column (a window of it if it is long)."""
        if self.source is None or self.col is None:
            return ""
        src = self.source
        col = max(1, min(self.col, len(src) + 1))
        end = max(col + 1, min(self.end_col or col + 1, len(src) + 1))
        start = 0
        if len(src) > width:
            start = max(0, min(col - 1 - width // 2, len(src) - width))
        line = src[start:start + width]
        prefix = "..." if start > 0 else ""
        suffix = "..." if start + width < len(src) else ""
        caret_at = col - 1 - start
        marks = "^" + "~" * max(0, min(end - col, width - caret_at) - 1)
        return f"{prefix}{line}{suffix}\n{' ' * (len(prefix) + caret_at)}{marks}"

    @property
    def caret(self) -> str:
        return self.pointer()


@dataclass(frozen=True)
class ExprLimits:
    """Bounds on what one expression may ask for. The defaults keep any input well under a second.
    (The app passes its own, from vizgrad/app/budgets.py: one EXPR_<FIELD> budget per field, each
    overridable by VIZGRAD_EXPR_<FIELD>; this module reads no environment.)"""
    max_source_length: int = 5000      # characters
    max_bracket_depth: int = 32        # ( [ nesting in the raw text, checked before parsing
    max_depth: int = 200               # syntax-tree depth (a chain a+b+c+... is one level per term)
    max_nodes: int = 2000              # syntax-tree nodes
    max_abs_number: float = 1e30       # any number literal (and variable value) magnitude
    max_exponent: float = 64           # |exponent| of ** when the exponent is a number
    max_elements: int = 100_000        # elements of any input, literal or intermediate result
    max_dims: int = 8                  # dimensions of any tensor
    max_work: float = 2e7              # weighted element operations / multiply-adds, whole forward pass
    max_variables: int = 64
    max_input_elements: int = 400_000  # all variables together
    max_name_length: int = 64


DEFAULT_LIMITS = ExprLimits()


OP_WORDS = {"+": "addition '+'", "-": "subtraction '-'", "*": "multiplication '*'", "/": "division '/'",
            "**": "power '**'", "@": "matrix product '@'"}  # how messages name the operators


def shielded(fn):
    """Public entry points raise ExprError only: anything unexpected (a bug here or in the engine)
    becomes an ExprError saying "internal error", with the original as its __cause__."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ExprError:
            raise
        except RecursionError:
            raise ExprError("the expression is too deeply nested") from None
        except MemoryError:
            raise ExprError("out of memory") from None
        except Exception as e:
            raise ExprError(f"internal error ({type(e).__name__}: {clean(e)})") from e
    return wrapper


class pointing_into:
    """`with pointing_into(text):` errors raised inside point into `text` (the expression as
    checked): an ExprError without a source gets it, and running out of stack or memory becomes an
    ExprError about the whole text. (A class, not a generator: it runs on every parse and evaluate.)"""
    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __enter__(self):
        return self

    def __exit__(self, kind, e, tb):
        if kind is None:
            return False
        if issubclass(kind, ExprError):
            if e.source is None:
                e.source = self.text
        elif issubclass(kind, RecursionError):
            raise ExprError("the expression is too deeply nested", 1, None, self.text) from None
        elif issubclass(kind, MemoryError):
            raise ExprError("out of memory", 1, None, self.text) from None
        return False


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def clean(e: BaseException) -> str:
    """An exception's message on one line of at most 200 characters, for a message of ours."""
    msg = str(e).strip() or type(e).__name__
    msg = msg.replace("\n", " ")
    return msg if len(msg) <= 200 else msg[:200] + "..."


def nonfinite_message(op: str, kinds: str, col: int, by_zero: bool) -> str:
    """The warning when an op turned finite inputs into `kinds` ("inf", "nan and -inf", ...)."""
    if op == "/" and by_zero:
        return f"division by zero produced {kinds} at column {col}"
    what = OP_WORDS.get(op, f"{op}()")
    return f"{what} produced {kinds} at column {col}"
