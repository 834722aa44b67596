"""The parsed form of an expression: a small tree of nodes with 1-based columns (end exclusive),
the constants `pi` and `e`, and constant folding of the number-only subtrees (literals, pi/e,
unary +/- and + - * / **), which the parser, the evaluator and the code generator share.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vizgrad.expr.errors import ExprError, ExprLimits, nonfinite_message


class Node:
    """`const`: the subtree is a number built from literals, pi/e, unary +/- and + - * / ** only
    (see `is_const`). Nodes are built bottom-up and never changed, so each constructor sets it
    from its children's flags in O(1): asking it at every level of a deep tree stays linear."""
    __slots__ = ("col", "end_col", "const")
    prec = 100  # precedence for printing: atoms

    def __init__(self, col: int, end_col: int):
        self.col, self.end_col = col, end_col
        self.const = False


class Num(Node):
    __slots__ = ("value",)

    def __init__(self, value, col, end_col):
        super().__init__(col, end_col)
        self.value = value
        self.const = True


class Name(Node):
    """A variable (kind "var") or a constant pi/e (kind "const")."""
    __slots__ = ("id", "kind")

    def __init__(self, id, kind, col, end_col):
        super().__init__(col, end_col)
        self.id, self.kind = id, kind
        self.const = kind == "const"


class Unary(Node):
    __slots__ = ("op", "operand")
    prec = 30

    def __init__(self, op, operand, col, end_col):
        super().__init__(col, end_col)
        self.op, self.operand = op, operand
        self.const = operand.const


BIN_PREC = {"+": 10, "-": 10, "*": 20, "/": 20, "@": 20, "**": 40}


class BinOp(Node):
    __slots__ = ("op", "left", "right", "op_col")

    def __init__(self, op, left, right, op_col, col, end_col):
        super().__init__(col, end_col)
        self.op, self.left, self.right, self.op_col = op, left, right, op_col
        self.const = op != "@" and left.const and right.const

    @property
    def prec(self):
        return BIN_PREC[self.op]


class Call(Node):
    """A call of a function of the table: `spec` is its row (functions.Func), `func` its name;
    `args` maps each parameter name to a Node (tensor parameters) or a plain Python value (dims,
    shapes, flags, clamp bounds)."""
    __slots__ = ("spec", "func", "args", "name_span")

    def __init__(self, spec, args, col, end_col):
        super().__init__(col, end_col)
        self.spec, self.func, self.args = spec, spec.name, args
        self.name_span = (col, col + len(self.func))  # the function's name: where errors point


class ListLit(Node):
    """`const_list`: every leaf is a constant number (see `const_list`), set once like `const`."""
    __slots__ = ("items", "const_list")

    def __init__(self, items, col, end_col):
        super().__init__(col, end_col)
        self.items = items
        self.const_list = all(it.const_list if isinstance(it, ListLit) else it.const for it in items)


class Subscript(Node):
    """x[key]: key is a tuple of ints and slices (of ints)."""
    __slots__ = ("value", "key", "bracket_col")

    def __init__(self, value, key, bracket_col, col, end_col):
        super().__init__(col, end_col)
        self.value, self.key, self.bracket_col = value, key, bracket_col


@dataclass
class Expression:
    """A parsed, validated expression."""
    source: str          # as typed
    text: str            # newlines/tabs as spaces (what columns index into)
    root: Node
    names: list          # variable names used, in order of first use
    uses_constants: bool


CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def key_text(k) -> str:
    """One part of an index key as typed: `0`, `1:3`, `::2` (LaTeX and code both print it)."""
    if isinstance(k, slice):
        s = ("" if k.start is None else str(k.start)) + ":" + ("" if k.stop is None else str(k.stop))
        if k.step is not None:
            s += ":" + str(k.step)
        return s
    return str(k)


# --------------------------------------------------------------------------------------------
# Constant folding (numbers only: Python floats/ints, numpy float64 semantics)
# --------------------------------------------------------------------------------------------
class NotConstant(Exception):
    """fold() met a subtree that is not a number (a variable, a call, a list, @)."""


def is_const(node: Node) -> bool:
    """A number literal, pi/e, or unary +/- and + - * / ** of those (not @). O(1): each node's
    flag was set from its children's when it was built (see Node)."""
    return node.const


def fold(node: Node, limits: ExprLimits, warnings: list | None, memo: dict | None = None):
    """Value of a constant subtree and whether every step stayed finite (so Python's own
    arithmetic gives the same number: used by the code generator).

    `memo` ({id(node): (node, value, ok)}, the node kept so its id cannot be reused) makes
    folding the subtrees of one tree again and again cost each node once in total: the parser
    folds every constant exponent and the code generator every constant subtree it prints, and
    each of those contains the ones below it. A node's warnings are appended when it is first
    folded, so one memo should go with one warnings list (the callers that pass a memo pass None)."""
    if memo is not None:
        hit = memo.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1], hit[2]
    if isinstance(node, Num):
        return node.value, True
    if isinstance(node, Name) and node.kind == "const":
        return CONSTANTS[node.id], True
    if isinstance(node, Unary):
        v, ok = fold(node.operand, limits, warnings, memo)
        out = (-v if node.op == "-" else v), ok
    elif isinstance(node, BinOp) and node.op != "@":
        a, oka = fold(node.left, limits, warnings, memo)
        b, okb = fold(node.right, limits, warnings, memo)
        out = fold_binop(node, a, b, oka and okb, limits, warnings)
    else:
        raise NotConstant
    if memo is not None:
        memo[id(node)] = (node, out[0], out[1])
    return out


_NP_OPS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "**": np.power}


def fold_binop(node: BinOp, a, b, ok, limits, warnings):
    op = node.op
    if op == "**":
        check_exponent(b, node, limits)
    with np.errstate(all="ignore"):
        x, y = np.float64(a), np.float64(b)
        r = _NP_OPS[op](x, y)
    r = float(r)
    if math.isfinite(r) and isinstance(a, int) and isinstance(b, int) and abs(r) <= 2 ** 53 and (
            op in "+-*" or (op == "**" and b >= 0)):
        r = {"+": a + b, "-": a - b, "*": a * b}.get(op) if op != "**" else a ** b
    finite = math.isfinite(r)
    if not finite and math.isfinite(a) and math.isfinite(b) and warnings is not None:
        warnings.append(nonfinite_message(op, "-inf" if r == -math.inf else ("nan" if r != r else "inf"),
                                          node.op_col, b == 0))
    return r, ok and finite


def check_exponent(b, node: BinOp, limits: ExprLimits):
    if isinstance(b, (int, float)) and not (abs(b) <= limits.max_exponent):
        shown = f"{b:g}" if isinstance(b, float) else (str(b) if abs(b) < 10 ** 15 else f"{float(b):g}")
        raise ExprError(f"the exponent {shown} is too large (the limit is {limits.max_exponent:g})",
                        node.op_col, node.op_col + 2, None)


def const_list(node) -> bool:
    """A list literal whose every leaf is constant, or a constant. O(1), like is_const."""
    if isinstance(node, ListLit):
        return node.const_list
    return node.const
