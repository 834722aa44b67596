"""How the project writes numbers and names: the one number formatter and the one LaTeX-name escaper.

    from vizgrad.graph.format import format_number, format_value, grad_norm, tex_name
    format_number(0.25)                     # '0.25'     (1.2e-05, 4, nan ...)
    format_value(np.eye(2))                 # '[[1, 0],\\n [0, 1]]': a matrix, a list, or shape and norm
    tex_name("w_1")                         # 'w\\_1': a label in LaTeX math mode, shown as typed

The graph's nodes (vizgrad.graph.trace), the drawing (vizgrad.plot), the DOT export and the
chain-rule steps (vizgrad.graph.steps) all write values through these, so a number reads the same
on the node, in the hover, in the exported file and in the equation.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["format_number", "format_value", "grad_norm", "tex_name"]


def format_number(v, digits: int = 4) -> str:
    """A short readable number: 4, 0.25, -1.234, 1.2e-05."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if math.isnan(v) or math.isinf(v):
        return str(v)
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    s = f"{v:.{digits}g}"
    if "e" in s:
        m, ex = s.split("e")
        s = f"{m}e{int(ex)}"
    return s


def grad_norm(a) -> float | None:
    """|a|: the absolute value of a scalar, the Frobenius norm of a tensor; None for None."""
    if a is None:
        return None
    a = np.asarray(a)
    if a.size == 1:
        return float(abs(a.reshape(()).item()))
    if a.dtype.kind not in "fc":
        a = a.astype(np.float64)
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))


def format_value(a, max_elems: int = 6, digits: int = 3, sep: str = "\n", shape: bool = True,
                 flat: bool = False) -> str:
    """A scalar as a number, a small tensor as a compact matrix (rows joined by `sep`; one flat
    list with flat=True), a large one as its shape (unless shape=False) and norm."""
    if a is None:
        return ""
    a = np.asarray(a)
    if a.size == 1:
        return format_number(a.reshape(()).item(), digits + 1)
    if a.ndim == 0:
        return format_number(a.item(), digits + 1)
    if a.size <= max_elems and a.ndim <= 2:
        fl = a.reshape(-1)
        items = [format_number(v, digits) for v in fl.tolist()]
        if a.ndim == 1 or flat:
            return "[" + ", ".join(items) + "]"
        if a.shape[1] == 1:  # a column: one line, transposed
            return "[" + ", ".join(items) + "]ᵀ"
        if a.shape[0] == 1:  # a single row: one line
            return "[[" + ", ".join(items) + "]]"
        r, c = a.shape
        w = max(len(s) for s in items)
        rows = ["[" + ", ".join(s.rjust(w) for s in items[i * c:(i + 1) * c]) + "]" for i in range(r)]
        return "[" + ("," + sep + " ").join(rows) + "]"
    norm = f"‖·‖={format_number(grad_norm(a), digits)}"
    return f"{tuple(a.shape)} {norm}" if shape else norm


# A label in math mode, shown as typed: labels come from variable and parameter names (an expression's
# variables are ASCII identifiers, so only _ occurs there), but nothing else may turn into markup.
_TEX_ESCAPES = {"\\": r"\backslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
                "%": r"\%", "_": r"\_", "^": r"\text{\textasciicircum}", "~": r"\text{\textasciitilde}"}


def tex_name(s) -> str:
    """`s` (a node label, a variable name) for LaTeX math mode, every markup character escaped."""
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in str(s))
