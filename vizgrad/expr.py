"""A small, safe expression language over vizgrad tensors, for formulas typed into a web page.

    from vizgrad.expr import evaluate, to_latex, to_torch_code
    r = evaluate("tanh(w*x + b)", {"w": 0.5, "x": 2.0, "b": {"value": -1.0, "requires_grad": False}})
    r.output                  # tensor(0., grad_fn=<TanhBackward0>)
    r.backward()              # {'w': tensor(2.), 'x': tensor(0.5000), 'b': None}
    to_latex("sum((W @ v - t)**2)")          # \\sum \\left(W\\,v - t\\right)^{2}
    print(to_torch_code("x**2 + y**3", {"x": 2.0, "y": 3.0}))

The language: numbers (`2`, `1e-3`), the constants `pi` and `e`, declared variables, list
literals (`[[1, 2], [3, 4]]`; a list holding tensors stacks them), `+ - * / ** @`, unary `-`/`+`,
parentheses, integer indexing and slicing (`x[0]`, `W[:, 1]`) and the functions in `FUNCTIONS`
(with keyword arguments such as `sum(x, dim=0)` or `softmax(v, dim=0)`). Every tensor is float32,
as torch's default.

Safety: user text is never given to eval/exec/compile. It is checked character by character,
its bracket depth is measured, then `ast.parse(..., mode="eval")` builds a syntax tree that must
consist of whitelisted node types only; names must be declared variables, constants or
whitelisted functions. `Limits` bounds the source length, node count, nesting depth, literal
magnitude, exponents, tensor sizes (of inputs, literals and every intermediate result, checked
*before* an op runs wherever the result could grow) and the total amount of arithmetic, so that
any input finishes (or fails) well within a second. Every failure is an `ExprError` (a ValueError)
carrying a plain message and the 1-based column it points at.
"""
from __future__ import annotations

import ast
import contextlib
import difflib
import functools
import keyword
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

import vizgrad as vg
from vizgrad.tensor import Tensor

__all__ = ["ExprError", "Limits", "Variable", "Result", "Expression", "FUNCTIONS", "CONSTANTS",
           "evaluate", "parse", "to_latex", "to_torch_code"]


# ============================================================================================
# Errors and limits
# ============================================================================================
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
class Limits:
    """Bounds on what one expression may ask for. The defaults keep any input well under a second."""
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


DEFAULT_LIMITS = Limits()


@dataclass
class Variable:
    """A variable's value (number, nested list, numpy array or Tensor) and whether it requires grad."""
    value: Any
    requires_grad: bool = True


# ============================================================================================
# The parsed form: a small node tree, positions as 1-based columns (end exclusive)
# ============================================================================================
class Node:
    """`const`: the subtree is a number built from literals, pi/e, unary +/- and + - * / ** only
    (see `_is_const`). Nodes are built bottom-up and never changed, so each constructor sets it
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


_BIN_PREC = {"+": 10, "-": 10, "*": 20, "/": 20, "@": 20, "**": 40}


class BinOp(Node):
    __slots__ = ("op", "left", "right", "op_col")

    def __init__(self, op, left, right, op_col, col, end_col):
        super().__init__(col, end_col)
        self.op, self.left, self.right, self.op_col = op, left, right, op_col
        self.const = op != "@" and left.const and right.const

    @property
    def prec(self):
        return _BIN_PREC[self.op]


class Call(Node):
    """A whitelisted function call; `args` maps each parameter name to a Node (tensor
    parameters) or a plain Python value (dims, shapes, flags, clamp bounds)."""
    __slots__ = ("func", "args")

    def __init__(self, func, args, col, end_col):
        super().__init__(col, end_col)
        self.func, self.args = func, args


class ListLit(Node):
    """`const_list`: every leaf is a constant number (see `_const_list`), set once like `const`."""
    __slots__ = ("items", "const_list")

    def __init__(self, items, col, end_col):
        super().__init__(col, end_col)
        self.items = items
        self.const_list = all(it.const_list if isinstance(it, ListLit) else it.const for it in items)


class Index(Node):
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


# ============================================================================================
# Functions and constants
# ============================================================================================
_REQ = object()


@dataclass(frozen=True)
class Func:
    name: str
    params: tuple        # (name, kind, default); kind: tensor | int | ints | bool | number
    family: str
    cost: float = 1.0    # work per element, relative to an add
    doc: str = ""
    varargs: bool = False  # reshape(x, 2, 3): extra positional ints form the shape

    def signature(self) -> str:
        parts = []
        for n, kind, d in self.params:
            parts.append(n if d is _REQ else f"{n}={d!r}")
        if self.varargs:
            parts.append("*shape")
        return f"{self.name}({', '.join(parts)})"


def _fn(name, params, family, cost=1.0, doc="", varargs=False):
    return name, Func(name, tuple(params), family, cost, doc, varargs)


_X = ("x", "tensor", _REQ)
_A, _B = ("a", "tensor", _REQ), ("b", "tensor", _REQ)
_DIMS = ("dim", "ints", None)
_KEEP = ("keepdim", "bool", False)

_UNARY_DOCS = {
    "exp": "e to the x", "log": "natural logarithm", "sqrt": "square root", "abs": "absolute value",
    "sin": "sine", "cos": "cosine", "tanh": "hyperbolic tangent", "sigmoid": "1 / (1 + exp(-x))",
    "relu": "max(x, 0)", "square": "x ** 2", "reciprocal": "1 / x",
}
_TRANSCENDENTAL = {"exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid"}

FUNCTIONS: dict[str, Func] = dict([
    *[_fn(n, [_X], "unary", 3.0 if n in _TRANSCENDENTAL else 1.0, d) for n, d in _UNARY_DOCS.items()],
    _fn("detach", [_X], "detach", 1.0, "x as a constant: no gradient flows through it"),
    _fn("sum", [_X, _DIMS, _KEEP], "reduce", 1.0, "sum of all elements, or along dim"),
    _fn("mean", [_X, _DIMS, _KEEP], "reduce", 1.0, "mean of all elements, or along dim"),
    _fn("var", [_X, _DIMS, _KEEP], "reduce", 6.0, "variance (unbiased), of all elements or along dim"),
    _fn("std", [_X, _DIMS, _KEEP], "reduce", 7.0, "standard deviation (unbiased)"),
    _fn("norm", [_X, _DIMS, _KEEP], "reduce", 3.0, "Euclidean norm"),
    _fn("logsumexp", [_X, ("dim", "ints", _REQ), _KEEP], "reduce", 6.0, "log(sum(exp(x), dim))"),
    _fn("max", [_X, ("other", "tensor", None), ("dim", "int", None), _KEEP], "maxmin", 3.0,
        "largest element, along dim, or elementwise max(a, b)"),
    _fn("min", [_X, ("other", "tensor", None), ("dim", "int", None), _KEEP], "maxmin", 3.0,
        "smallest element, along dim, or elementwise min(a, b)"),
    _fn("softmax", [_X, ("dim", "int", -1)], "softmax", 8.0, "exp(x) / sum(exp(x)) along dim"),
    _fn("log_softmax", [_X, ("dim", "int", -1)], "softmax", 8.0, "log(softmax(x, dim))"),
    _fn("dot", [_A, _B], "matmul", 1.0, "dot product of two vectors"),
    _fn("matmul", [_A, _B], "matmul", 1.0, "matrix product, same as a @ b"),
    _fn("outer", [_A, _B], "outer", 1.0, "outer product of two vectors"),
    _fn("maximum", [_A, _B], "binary", 1.0, "elementwise maximum"),
    _fn("minimum", [_A, _B], "binary", 1.0, "elementwise minimum"),
    _fn("pow", [_A, _B], "pow", 3.0, "a ** b"),
    _fn("clamp", [_X, ("min", "number", None), ("max", "number", None)], "clamp", 1.0,
        "x limited to [min, max]"),
    _fn("transpose", [_X, ("dim0", "int", None), ("dim1", "int", None)], "transpose", 1.0,
        "swap two dims (a matrix's rows and columns by default)"),
    _fn("reshape", [_X], "reshape", 1.0, "the same elements in a new shape, e.g. reshape(x, 2, 3)",
        varargs=True),
    _fn("flatten", [_X], "reshape", 1.0, "all elements as a vector"),
    _fn("squeeze", [_X, ("dim", "int", None)], "reshape", 1.0, "drop dims of size 1"),
    _fn("unsqueeze", [_X, ("dim", "int", _REQ)], "reshape", 1.0, "insert a dim of size 1"),
])

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

# names the generated code relies on; variables may not take them (a variable may share a function's
# name: `mean(x)` is always the function, a bare `mean` the variable)
_RESERVED = {"torch", "math", "print", "float", "True", "False", "None"}

_NODE_WORDS = {
    "Compare": "comparisons (==, <, ...)", "BoolOp": "'and' / 'or'", "IfExp": "'if ... else'",
    "Lambda": "lambda functions", "Dict": "dictionaries", "Set": "sets", "DictComp": "comprehensions",
    "SetComp": "comprehensions", "ListComp": "comprehensions", "GeneratorExp": "comprehensions",
    "Attribute": "attribute access (x.something)", "Starred": "'*' unpacking", "NamedExpr": "':='",
    "Await": "await", "Yield": "yield", "YieldFrom": "yield", "JoinedStr": "strings",
    "FormattedValue": "strings", "Tuple": "tuples (use [ ] for a vector)", "Slice": "slices here",
}
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
_BAD_BINOPS = {ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
               ast.BitAnd: "&", ast.BitXor: "^"}
_CHAR_HINTS = {"\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u00f7": "/", "\u2212": "-", "\u2013": "-",
               "\u00b2": "**2", "\u00b3": "**3", "\u221a": "sqrt(...)", "\u03c0": "pi", "\u2211": "sum(...)"}
_OP_WORDS = {"+": "addition '+'", "-": "subtraction '-'", "*": "multiplication '*'", "/": "division '/'",
             "**": "power '**'", "@": "matrix product '@'"}


def _shielded(fn):
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
            raise ExprError(f"internal error ({type(e).__name__}: {_clean(e)})") from e
    return wrapper


def _plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def _suggest(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(f"'{c}'" for c in close) + "?)"


# ============================================================================================
# Parsing: text checks, ast.parse, whitelist conversion
# ============================================================================================
def _check_text(source, limits: Limits) -> str:
    """Validate the raw text before the Python parser sees it; return it with whitespace flattened."""
    if not isinstance(source, str):
        raise ExprError(f"the expression must be text, not {type(source).__name__}")
    if len(source) > limits.max_source_length:
        raise ExprError(f"the expression is too long ({len(source)} characters; the limit is "
                        f"{limits.max_source_length})", limits.max_source_length + 1, None,
                        source[:limits.max_source_length + 40])
    text = source.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    for i, ch in enumerate(text):
        o = ord(ch)
        if 32 <= o < 127:
            if ch in "'\"`":
                raise ExprError("text in quotes (strings) is not supported", i + 1, None, text)
            if ch == "#":
                raise ExprError("'#' (comments) is not supported", i + 1, None, text)
            if ch == "\\":
                raise ExprError("backslashes are not supported", i + 1, None, text)
            continue
        hint = _CHAR_HINTS.get(ch)
        what = f"'{ch}' (U+{o:04X})" if ch.isprintable() else f"U+{o:04X}"
        msg = f"unsupported character {what}"
        msg += f"; write {hint} instead" if hint else ": use only ASCII letters, digits and operators"
        raise ExprError(msg, i + 1, None, text)
    if not text.strip():
        raise ExprError("the expression is empty", 1, None, text)
    # an over-long number or name (Python would spend time on, or refuse, huge integer literals)
    run = 0
    for i, ch in enumerate(text):
        if ch.isalnum() or ch in "_.":
            run += 1
            if run > 100:
                start = i - run + 1
                raise ExprError("this number or name is too long", start + 1, start + 101, text)
        else:
            run = 0
    # bracket depth and balance, before the (recursive) parser sees it
    stack = []
    pairs = {")": "(", "]": "[", "}": "{"}
    for i, ch in enumerate(text):
        if ch in "([{":
            stack.append((ch, i))
            if len(stack) > limits.max_bracket_depth:
                raise ExprError(f"too deeply nested (more than {limits.max_bracket_depth} brackets inside "
                                "each other)", i + 1, None, text)
        elif ch in ")]}":
            if not stack:
                raise ExprError(f"unmatched '{ch}'", i + 1, None, text)
            open_ch, j = stack.pop()
            if open_ch != pairs[ch]:
                raise ExprError(f"'{ch}' does not match '{open_ch}' at column {j + 1}", i + 1, None, text)
    if stack:
        open_ch, j = stack[-1]
        raise ExprError(f"'{open_ch}' is never closed", j + 1, None, text)
    return text


def _parse_python(text: str) -> ast.Expression:
    stripped = text.lstrip(" ")
    shift = len(text) - len(stripped)
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as e:
        msg = (e.msg or "invalid syntax").rstrip(".")
        if msg.startswith("invalid syntax. "):
            msg = msg[len("invalid syntax. "):]
        col = (e.offset or 1) + shift
        end = (getattr(e, "end_offset", None) or 0) + shift
        last = stripped.rstrip(" ")
        if msg == "invalid syntax" and last and last[-1] in "+-*/@=.,:%^&|<>~" and col == 1 + shift:
            # Python points at the start of "x +"; the problem is the dangling operator at the end
            msg = f"the expression ends after '{last[-1]}'"
            col = shift + len(last)
            end = col + 1
        if e.lineno not in (None, 1):  # cannot happen on one line, but never point outside it
            col = len(text)
        col = max(1, min(col, len(text) + 1))
        raise ExprError(f"syntax error: {msg}", col, end if end > col else None, text) from None
    except (RecursionError, MemoryError):
        raise ExprError("the expression is too deeply nested or too long", 1, None, text) from None
    except (ValueError, OverflowError) as e:
        raise ExprError(f"syntax error: {e}", 1, None, text) from None
    if shift:
        for node in ast.walk(tree):
            if hasattr(node, "col_offset") and node.col_offset is not None:
                node.col_offset += shift
                if getattr(node, "end_col_offset", None) is not None:
                    node.end_col_offset += shift
    return tree


def _measure(tree: ast.AST, limits: Limits, text: str) -> None:
    """Node count and depth, iteratively (the tree may be deep)."""
    count = 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > limits.max_nodes:
            raise ExprError(f"the expression is too complex (more than {limits.max_nodes} parts)",
                            _col(node), None, text)
        if depth > limits.max_depth:
            raise ExprError(f"the expression is too deeply nested (more than {limits.max_depth} levels)",
                            _col(node), None, text)
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1))


def _col(node) -> int:
    return (getattr(node, "col_offset", 0) or 0) + 1


def _end(node) -> int:
    end = getattr(node, "end_col_offset", None)
    return (end if end is not None else getattr(node, "col_offset", 0)) + 1


class _Converter:
    """Python ast -> Node tree, accepting only the whitelist."""

    def __init__(self, text: str, limits: Limits, variables):
        self.text, self.limits = text, limits
        self.variables = variables  # set of declared names, or None (accept any identifier)
        self.names: list[str] = []
        self.uses_constants = False
        self.fold_memo: dict = {}  # see _fold: nested constant exponents are folded once each

    def err(self, msg, node=None, col=None, end=None):
        if node is not None:
            col, end = _col(node), _end(node)
        return ExprError(msg, col, end, self.text)

    def convert(self, node) -> Node:
        method = getattr(self, "c_" + type(node).__name__, None)
        if method is None:
            name = type(node).__name__
            msg = f"{_NODE_WORDS.get(name, repr(name) + ' expressions')} are not supported"
            if isinstance(node, ast.Attribute):
                if node.attr in FUNCTIONS:
                    msg = f"methods are not supported: write {node.attr}(...) instead of .{node.attr}(...)"
                elif node.attr in ("T", "mT"):
                    msg = "'.T' is not supported: write transpose(x) instead"
            raise self.err(msg, node)
        return method(node)

    # -- leaves ---------------------------------------------------------------------------------
    def c_Constant(self, node):
        v = node.value
        if isinstance(v, bool) or v is None:
            raise self.err(f"'{v}' is not supported: use numbers", node)
        if isinstance(v, complex):
            raise self.err("complex numbers are not supported", node)
        if isinstance(v, (str, bytes)):
            raise self.err("strings are not supported", node)
        if v is Ellipsis:
            raise self.err("'...' is not supported", node)
        if not isinstance(v, (int, float)):
            raise self.err("unsupported literal", node)
        if not (isinstance(v, int) or math.isfinite(v)) or abs(v) > self.limits.max_abs_number:
            raise self.err(f"the number is too large (the limit is {self.limits.max_abs_number:g})", node)
        return Num(v, _col(node), _end(node))

    def c_Name(self, node):
        name = node.id
        if len(name) > self.limits.max_name_length:
            raise self.err("the name is too long", node)
        if self.variables is None or name in self.variables:
            if self.variables is None and name in CONSTANTS:
                self.uses_constants = True
                return Name(name, "const", _col(node), _end(node))
            if name in FUNCTIONS and self.variables is None:
                raise self.err(f"'{name}' is a function: call it, as in {name}(x)", node)
            if name not in self.names:
                self.names.append(name)
            return Name(name, "var", _col(node), _end(node))
        if name in CONSTANTS:
            self.uses_constants = True
            return Name(name, "const", _col(node), _end(node))
        if name in FUNCTIONS:
            raise self.err(f"'{name}' is a function: call it, as in {name}(x)", node)
        pool = set(self.variables) | set(CONSTANTS) | set(FUNCTIONS)
        raise self.err(f"unknown name '{name}'{_suggest(name, pool)}", node)

    # -- operators ------------------------------------------------------------------------------
    def c_UnaryOp(self, node):
        if isinstance(node.op, ast.USub):
            op = "-"
        elif isinstance(node.op, ast.UAdd):
            op = "+"
        else:
            word = {ast.Not: "'not'", ast.Invert: "'~'"}.get(type(node.op), "this operator")
            raise self.err(f"{word} is not supported", node)
        return Unary(op, self.convert(node.operand), _col(node), _end(node))

    def _op_col(self, node, symbol) -> int:
        """Column of the operator token between the two operands of a BinOp."""
        lo, hi = node.left.end_col_offset, node.right.col_offset
        seg = self.text[lo:hi]
        i = seg.find(symbol)
        if i < 0:
            return lo + 1
        return lo + i + 1

    def c_BinOp(self, node):
        t = type(node.op)
        if t in _BAD_BINOPS:
            sym = _BAD_BINOPS[t]
            hint = "; use ** for powers" if sym == "^" else ""
            raise self.err(f"the operator '{sym}' is not supported{hint}", col=self._op_col(node, sym),
                           end=self._op_col(node, sym) + len(sym))
        sym = _BINOPS[t]
        left = self.convert(node.left)
        right = self.convert(node.right)
        out = BinOp(sym, left, right, self._op_col(node, sym), _col(node), _end(node))
        if sym == "**" and _is_const(right):  # reject 9**9**9 already here (to_latex does not evaluate)
            _check_exponent(_fold(right, self.limits, None, self.fold_memo)[0], out, self.limits)
        return out

    def c_List(self, node):
        if not node.elts:
            raise self.err("empty lists are not supported", node)
        return ListLit([self.convert(e) for e in node.elts], _col(node), _end(node))

    def c_Subscript(self, node):
        bracket = self.text.find("[", node.value.end_col_offset)
        value = self.convert(node.value)
        sl = node.slice
        parts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
        if len(parts) > self.limits.max_dims:
            raise self.err("too many indices", sl)
        key = []
        for p in parts:
            if isinstance(p, ast.Slice):
                bounds = []
                for b in (p.lower, p.upper, p.step):
                    bounds.append(None if b is None else self.static_int(b, "a slice bound"))
                if bounds[2] is not None and bounds[2] <= 0:
                    raise self.err("a slice step must be positive", p.step)
                key.append(slice(*bounds))
            else:
                key.append(self.static_int(p, "an index"))
        return Index(value, tuple(key), bracket + 1, _col(node), _end(node))

    # -- static (compile-time) arguments ---------------------------------------------------------
    def static_int(self, node, what) -> int:
        sign = 1
        inner = node
        if isinstance(inner, ast.UnaryOp) and isinstance(inner.op, (ast.USub, ast.UAdd)):
            sign = -1 if isinstance(inner.op, ast.USub) else 1
            inner = inner.operand
        if not (isinstance(inner, ast.Constant) and isinstance(inner.value, int)
                and not isinstance(inner.value, bool)):
            raise self.err(f"{what} must be a whole number written out, like 0 or -1", node)
        v = sign * inner.value
        if abs(v) > self.limits.max_elements:
            raise self.err(f"{what} is too large", node)
        return v

    def static_ints(self, node, what) -> int | tuple:
        if isinstance(node, (ast.List, ast.Tuple)):
            if not node.elts or len(node.elts) > self.limits.max_dims:
                raise self.err(f"{what} must list 1 to {self.limits.max_dims} whole numbers", node)
            return tuple(self.static_int(e, what) for e in node.elts)
        return self.static_int(node, what)

    def static_bool(self, node, what) -> bool:
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node.value
        raise self.err(f"{what} must be True or False", node)

    def static_number(self, node, what) -> float:
        n = self.convert(node)
        try:
            value, _ = _fold(n, self.limits, None, self.fold_memo)
        except _NotConstant:
            raise self.err(f"{what} must be a number", node) from None
        if not math.isfinite(value):
            raise self.err(f"{what} must be a finite number", node)
        return float(value)

    # -- calls ----------------------------------------------------------------------------------
    def c_Call(self, node):
        f = node.func
        if not isinstance(f, ast.Name):
            if isinstance(f, ast.Attribute) and f.attr in FUNCTIONS:
                raise self.err(f"methods are not supported: write {f.attr}(...) instead of .{f.attr}(...)", f)
            if isinstance(f, ast.Attribute):
                raise self.err("methods (x.name(...)) are not supported", f)
            raise self.err("only the listed functions can be called", f)
        name = f.id
        if name not in FUNCTIONS:
            if name == "t":
                raise self.err("unknown function 't': write transpose(x)", f)
            if self.variables is not None and name in self.variables:
                raise self.err(f"'{name}' is a variable, not a function", f)
            if name in CONSTANTS:
                raise self.err(f"'{name}' is a number, not a function", f)
            raise self.err(f"unknown function '{name}'{_suggest(name, FUNCTIONS)}", f)
        spec = FUNCTIONS[name]
        col, end = _col(f), _end(node)
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise self.err("'*' unpacking is not supported", a)
        params = spec.params
        pos = list(node.args)
        bound: dict[str, Any] = {}
        extra: list = []
        if len(pos) > len(params):
            if spec.varargs:
                extra = pos[len(params):]
            else:
                n = len(params)
                raise self.err(f"{spec.signature()} takes at most {_plural(n, 'argument')}, got {len(pos)}",
                               col=col, end=end)
        raw: dict[str, ast.AST] = {}
        for (pname, _, _), a in zip(params, pos):
            raw[pname] = a
        for kw in node.keywords:
            if kw.arg is None:
                raise self.err("'**' unpacking is not supported", kw)
            names = [p[0] for p in params]
            if kw.arg not in names:
                raise self.err(f"{name}() has no argument '{kw.arg}'{_suggest(kw.arg, names)}; "
                               f"it is {spec.signature()}", kw)
            if kw.arg in raw:
                raise self.err(f"{name}() got '{kw.arg}' twice", kw)
            raw[kw.arg] = kw.value
        for pname, kind, default in params:
            if pname not in raw:
                if default is _REQ:
                    raise self.err(f"{name}() is missing its argument '{pname}': it is {spec.signature()}",
                                   col=col, end=end)
                bound[pname] = default
                continue
            a = raw[pname]
            if kind == "tensor":
                bound[pname] = self.convert(a)
            elif kind == "int":
                bound[pname] = self.static_int(a, f"'{pname}'")
            elif kind == "ints":
                bound[pname] = self.static_ints(a, f"'{pname}'")
            elif kind == "bool":
                bound[pname] = self.static_bool(a, f"'{pname}'")
            elif kind == "number":
                bound[pname] = self.static_number(a, f"'{pname}'")
        if spec.varargs:
            shape_nodes = extra
            if not extra and len(pos) <= len(params):
                raise self.err(f"{name}() needs the new shape, as in {name}(x, 2, 3)", col=col, end=end)
            if len(shape_nodes) == 1 and isinstance(shape_nodes[0], (ast.List, ast.Tuple)):
                shape = self.static_ints(shape_nodes[0], "a shape")
            else:
                if len(shape_nodes) > self.limits.max_dims:
                    raise self.err(f"a shape has at most {self.limits.max_dims} sizes", col=col, end=end)
                shape = tuple(self.static_int(s, "a size") for s in shape_nodes)
            bound["shape"] = shape if isinstance(shape, tuple) else (shape,)
        if name == "reshape" and "shape" not in bound:
            raise self.err("reshape() needs the new shape, as in reshape(x, 2, 3)", col=col, end=end)
        if spec.family == "maxmin":
            other = bound["other"]
            if other is not None and bound["dim"] is not None:
                raise self.err(f"{name}(a, b) compares two tensors; {name}(x, dim=...) reduces one: "
                               "not both at once", col=col, end=end)
            if other is not None and bound["keepdim"]:
                raise self.err("keepdim needs dim", col=col, end=end)
            if other is not None and isinstance(raw.get("other"), ast.Constant):
                raise self.err(f"{name}(x, {ast.unparse(raw['other'])}) is ambiguous: write {name}(x, dim="
                               f"{ast.unparse(raw['other'])}) for the {name} along a dimension, or "
                               f"{name}imum(x, {ast.unparse(raw['other'])}) for the elementwise {name}",
                               col=col, end=end)
        if name == "clamp" and bound["min"] is None and bound["max"] is None:
            raise self.err("clamp() needs min or max, as in clamp(x, min=0)", col=col, end=end)
        if name == "transpose" and (bound["dim0"] is None) != (bound["dim1"] is None):
            raise self.err("transpose() takes both dim0 and dim1, or neither", col=col, end=end)
        if name == "pow":
            out = BinOp("**", bound["a"], bound["b"], col, col, end)
            if _is_const(out.right):
                _check_exponent(_fold(out.right, self.limits, None, self.fold_memo)[0], out, self.limits)
            return out
        return Call(name, bound, col, end)


@_shielded
def parse(source: str, variables: Mapping | None = None, limits: Limits | None = None) -> Expression:
    """Check and parse `source`. With `variables` (names, or the mapping given to `evaluate`) every
    name must be declared; without, any identifier that is not a function or constant is a variable."""
    limits = limits or DEFAULT_LIMITS
    text = _check_text(source, limits)
    tree = _parse_python(text)
    _measure(tree, limits, text)
    names = None if variables is None else set(variables)
    conv = _Converter(text, limits, names)
    try:
        root = conv.convert(tree.body)
    except ExprError as e:
        if e.source is None:
            e.source = text
        raise
    except RecursionError:
        raise ExprError("the expression is too deeply nested", 1, None, text) from None
    return Expression(source, text, root, conv.names, conv.uses_constants)


# ============================================================================================
# Constant folding (numbers only: Python floats/ints, numpy float64 semantics)
# ============================================================================================
class _NotConstant(Exception):
    pass


def _is_const(node: Node) -> bool:
    """A number literal, pi/e, or unary +/- and + - * / ** of those (not @). O(1): each node's
    flag was set from its children's when it was built (see Node)."""
    return node.const


def _fold(node: Node, limits: Limits, warnings: list | None, memo: dict | None = None):
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
        v, ok = _fold(node.operand, limits, warnings, memo)
        out = (-v if node.op == "-" else v), ok
    elif isinstance(node, BinOp) and node.op != "@":
        a, oka = _fold(node.left, limits, warnings, memo)
        b, okb = _fold(node.right, limits, warnings, memo)
        out = _fold_binop(node, a, b, oka and okb, limits, warnings)
    else:
        raise _NotConstant
    if memo is not None:
        memo[id(node)] = (node, out[0], out[1])
    return out


def _fold_binop(node: BinOp, a, b, ok, limits, warnings):
    op = node.op
    if op == "**":
        _check_exponent(b, node, limits)
    with np.errstate(all="ignore"):
        x, y = np.float64(a), np.float64(b)
        r = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "**": np.power}[op](x, y)
    r = float(r)
    if math.isfinite(r) and isinstance(a, int) and isinstance(b, int) and abs(r) <= 2 ** 53 and (
            op in "+-*" or (op == "**" and b >= 0)):
        r = {"+": a + b, "-": a - b, "*": a * b}.get(op) if op != "**" else a ** b
    finite = math.isfinite(r)
    if not finite and math.isfinite(a) and math.isfinite(b) and warnings is not None:
        warnings.append(_nonfinite_message(op, "-inf" if r == -math.inf else ("nan" if r != r else "inf"),
                                           node.op_col, b == 0))
    return r, ok and finite


def _check_exponent(b, node: BinOp, limits: Limits):
    if isinstance(b, (int, float)) and not (abs(b) <= limits.max_exponent):
        shown = f"{b:g}" if isinstance(b, float) else (str(b) if abs(b) < 10 ** 15 else f"{float(b):g}")
        raise ExprError(f"the exponent {shown} is too large (the limit is {limits.max_exponent:g})",
                        node.op_col, node.op_col + 2, None)


def _nonfinite_message(op: str, kinds: str, col: int, by_zero: bool) -> str:
    if op == "/" and by_zero:
        return f"division by zero produced {kinds} at column {col}"
    what = _OP_WORDS.get(op, f"{op}()")
    return f"{what} produced {kinds} at column {col}"


# ============================================================================================
# Evaluation
# ============================================================================================
@dataclass
class Result:
    """`output` (a Tensor), the named `inputs` (leaf Tensors, in declaration order), `warnings`
    (plain sentences, e.g. "division by zero produced inf at column 3") and the parsed expression."""
    output: Tensor
    inputs: dict
    warnings: list = field(default_factory=list)
    expression: Expression | None = None
    _grads: dict | None = field(default=None, repr=False)
    _values: dict | None = field(default=None, repr=False)

    def backward(self) -> dict:
        """Run backward once (for a non-scalar output, with a gradient of ones, i.e. of out.sum())
        and return each input's gradient (None when it does not require grad or is unused)."""
        if self._grads is None:
            out = self.output
            if out.requires_grad:
                try:
                    with np.errstate(all="ignore"):
                        out.backward(None if out.numel() == 1 else vg.ones_like(out))
                except (RecursionError, MemoryError):
                    raise ExprError("could not compute the gradients: the expression is too large") from None
                except Exception as e:  # engine failure: report it plainly, never crash the page
                    raise ExprError(f"could not compute the gradients: {e}") from None
            self._grads = {n: t.grad for n, t in self.inputs.items()}
        return self._grads

    @property
    def grads(self) -> dict:
        return self.backward()


def _variable_spec(name, spec):
    if isinstance(spec, Variable):
        return spec.value, spec.requires_grad
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"value", "requires_grad"}
        if unknown or "value" not in spec:
            raise ExprError(f"variable '{name}': expected {{'value': ..., 'requires_grad': ...}}")
        return spec["value"], spec.get("requires_grad", True)
    return spec, True


def _check_variable_name(name, limits: Limits):
    if not isinstance(name, str):
        raise ExprError(f"variable names must be text, not {type(name).__name__}")
    shown = name if len(name) <= 20 else name[:20] + "..."
    if not name.isascii() or not name.isidentifier():
        raise ExprError(f"'{shown}' is not a valid variable name: use ASCII letters, digits and _, "
                        "not starting with a digit")
    if len(name) > limits.max_name_length:
        raise ExprError(f"the variable name '{shown}' is too long")
    if keyword.iskeyword(name) or name in _RESERVED:
        raise ExprError(f"'{name}' cannot be a variable name (it is a reserved word or function)")


def _variable_array(name, value, limits: Limits) -> np.ndarray:
    if isinstance(value, Tensor):
        value = np.asarray(value.detach()._data)
    if isinstance(value, (bool, np.bool_)):
        raise ExprError(f"variable '{name}' must be a number, not {value}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        arr = np.array(_to_float(value))
    elif isinstance(value, np.ndarray):
        if value.dtype.kind not in "iuf":
            raise ExprError(f"variable '{name}' must hold numbers (got an array of {value.dtype})")
        if value.ndim > limits.max_dims or value.size > limits.max_elements or any(
                n > limits.max_elements for n in value.shape):
            raise ExprError(f"variable '{name}' is too large (shape {list(value.shape)}; the limit is "
                            f"{limits.max_elements} elements in at most {limits.max_dims} dims)")
        arr = value.astype(np.float64)
    elif isinstance(value, (list, tuple)):
        arr = _nested_to_array(name, value, limits)
    else:
        shown = repr(value)
        shown = shown if len(shown) <= 30 else shown[:30] + "..."
        raise ExprError(f"variable '{name}' must be a number or a list of numbers, not {shown}")
    if arr.size and not np.all(np.abs(arr) <= limits.max_abs_number):
        if not np.all(np.isfinite(arr)):
            raise ExprError(f"variable '{name}' contains inf or nan")
        raise ExprError(f"variable '{name}' has a value too large (the limit is {limits.max_abs_number:g})")
    return arr


def _to_float(v) -> float:
    if isinstance(v, int) and abs(v) > 10 ** 300:  # float() would raise; the magnitude check rejects it
        return 1e300
    return float(v)


def _nested_to_array(name, value, limits: Limits) -> np.ndarray:
    """Nested lists of numbers -> array, rejecting ragged or non-number input without recursion
    and without ever walking more than max_elements leaves."""
    shape = []
    v = value
    while isinstance(v, (list, tuple)):
        shape.append(len(v))
        if len(shape) > limits.max_dims:
            raise ExprError(f"variable '{name}' has too many dimensions (the limit is {limits.max_dims})")
        if not v:
            break
        v = v[0]
    total = 1
    for n in shape:
        total *= n
        if total > limits.max_elements:
            raise ExprError(f"variable '{name}' is too large (the limit is {limits.max_elements} elements)")
    ndim = len(shape)
    stack = [(value, 0)]
    flat = []
    while stack:
        v, d = stack.pop()
        if d < ndim:
            if not isinstance(v, (list, tuple)) or len(v) != shape[d]:
                raise ExprError(f"variable '{name}' is ragged: its lists must have equal lengths "
                                f"(expected shape {shape})")
            stack.extend((x, d + 1) for x in reversed(v))
        else:
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
                shown = repr(v)
                shown = shown if len(shown) <= 30 else shown[:30] + "..."
                kind = "ragged: its lists must have equal lengths" if isinstance(v, (list, tuple)) else \
                    f"not all numbers (found {shown})"
                raise ExprError(f"variable '{name}' is {kind}")
            flat.append(_to_float(v))
    return np.array(flat, dtype=np.float64).reshape(shape)


def _make_inputs(variables, limits: Limits) -> tuple[dict, dict]:
    """-> (tensors by name, the checked float64 values by name)."""
    if variables is None:
        variables = {}
    if not isinstance(variables, Mapping):
        raise ExprError("variables must be a mapping of names to values")
    if len(variables) > limits.max_variables:
        raise ExprError(f"too many variables (the limit is {limits.max_variables})")
    inputs, values = {}, {}
    total = 0
    for name, spec in variables.items():
        _check_variable_name(name, limits)
        value, requires_grad = _variable_spec(name, spec)
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise ExprError(f"variable '{name}': requires_grad must be True or False")
        arr = _variable_array(name, value, limits)
        total += arr.size
        if total > limits.max_input_elements:
            raise ExprError(f"the variables are too large together (more than {limits.max_input_elements} "
                            "numbers)")
        values[name] = arr
        inputs[name] = vg.tensor(arr.astype(np.float32), requires_grad=bool(requires_grad), name=name)
    return inputs, values


class _Evaluator:
    def __init__(self, expr: Expression, inputs: dict, limits: Limits):
        self.expr, self.inputs, self.limits = expr, inputs, limits
        self.text = expr.text
        self.work = 0.0
        self.warnings: list[str] = []
        self.finite_inputs = {n: bool(np.all(np.isfinite(t._data))) for n, t in inputs.items()}

    def err(self, msg, col, end=None):
        return ExprError(msg, col, end, self.text)

    # -- bookkeeping ---------------------------------------------------------------------------
    def charge(self, amount, col, end=None):
        self.work += amount
        if self.work > self.limits.max_work:
            raise self.err(f"too much computation (over {self.limits.max_work:.3g} operations); "
                           "use smaller tensors or a shorter expression", col, end)

    def check_size(self, shape, col, end=None, what="the result"):
        n = 1
        for s in shape:
            n *= int(s)
        if n > self.limits.max_elements or len(shape) > self.limits.max_dims:
            raise self.err(f"{what} would be too large (shape {list(shape)}; the limit is "
                           f"{self.limits.max_elements} elements in at most {self.limits.max_dims} dims)", col, end)
        return n

    @contextlib.contextmanager
    def guard(self, what, col, end=None):
        """Run one engine op: its errors become ExprErrors pointing at the op."""
        try:
            yield
        except ExprError:
            raise
        except (RuntimeError, ValueError, IndexError) as e:
            raise self.err(f"{what}: {_clean(e)}", col, end) from None
        except MemoryError:
            raise self.err(f"{what}: out of memory", col, end) from None
        except RecursionError:
            raise self.err(f"{what}: the expression is too deeply nested", col, end) from None
        except Exception as e:  # an engine bug: never let it escape as anything but ExprError
            raise self.err(f"{what} (internal error {type(e).__name__}: {_clean(e)})", col, end) from None

    def finish(self, out, inputs_finite, op, col, end=None, by_zero=None):
        if isinstance(out, tuple):  # max(x, dim=...) gives (values, indices)
            out = out[0]
        if not isinstance(out, Tensor):
            raise self.err(f"{op} did not produce a tensor (internal error)", col, end)
        self.check_size(out.shape, col, end)
        data = out._data
        finite = bool(np.all(np.isfinite(data)))
        if not finite and inputs_finite:
            kinds = []
            if np.any(np.isposinf(data)):
                kinds.append("inf")
            if np.any(np.isneginf(data)):
                kinds.append("-inf")
            if np.any(np.isnan(data)):
                kinds.append("nan")
            zero = bool(by_zero()) if by_zero is not None else False
            self.warnings.append(_nonfinite_message(op, " and ".join(kinds), col, zero))
        return out, finite

    # -- nodes ----------------------------------------------------------------------------------
    def ev(self, node: Node):
        """-> (value, finite): value is a Python number (constant) or a Tensor."""
        if _is_const(node):
            value = _fold(node, self.limits, self.warnings)[0]
            return value, math.isfinite(value)
        if isinstance(node, Name):
            return self.inputs[node.id], self.finite_inputs[node.id]
        if isinstance(node, Unary):
            v, fin = self.ev(node.operand)
            if node.op == "+":
                return v, fin
            self.charge(v.numel(), node.col)
            with self.guard("negation '-'", node.col):
                return -v, fin
        if isinstance(node, BinOp):
            return self.binop(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, ListLit):
            return self.listlit(node)
        if isinstance(node, Index):
            return self.index(node)
        raise self.err("unsupported expression", node.col, node.end_col)  # pragma: no cover

    def binop(self, node: BinOp):
        a, fa = self.ev(node.left)
        b, fb = self.ev(node.right)
        op, col = node.op, node.op_col
        end = col + len(op)
        what = _OP_WORDS[op]
        if op == "@":
            if not isinstance(a, Tensor) or not isinstance(b, Tensor):
                raise self.err("'@' multiplies two tensors (vectors or matrices), not a number; use * "
                               "to scale", col, end)
            shape, flops = self.predict_matmul(tuple(a.shape), tuple(b.shape), col, end, "@")
            self.charge(flops + _numel(shape), col, end)
            with self.guard(f"shape mismatch in {what}", col, end):
                out = a @ b
            return self.finish(out, fa and fb, op, col, end)
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):  # not reached: folded in ev
            value = _fold_binop(node, a, b, True, self.limits, self.warnings)[0]
            return value, math.isfinite(value)
        if op == "**" and not isinstance(b, Tensor):
            _check_exponent(b, node, self.limits)
        shape = self.predict_broadcast(a, b, what, col, end)
        self.charge(_numel(shape) * (3 if op == "**" else 1), col, end)
        with self.guard(f"{what} failed", col, end):
            if op == "+":
                out = a + b
            elif op == "-":
                out = a - b
            elif op == "*":
                out = a * b
            elif op == "/":
                out = a / b
            else:
                out = a ** b
        by_zero = (lambda: np.any(_data(b) == 0)) if op == "/" else None
        return self.finish(out, fa and fb, op, col, end, by_zero)

    def predict_broadcast(self, a, b, what, col, end):
        sa, sb = _shape(a), _shape(b)
        try:
            shape = np.broadcast_shapes(sa, sb)
        except ValueError:
            raise self.err(f"shape mismatch in {what}: shapes {list(sa)} and {list(sb)} cannot be "
                           "broadcast together", col, end) from None
        self.check_size(shape, col, end)
        return shape

    def predict_matmul(self, sa, sb, col, end, what):
        if not sa or not sb:
            raise self.err(f"shape mismatch in {_OP_WORDS['@'] if what == '@' else what + '()'}: both sides must "
                           f"be vectors or matrices, got shapes {list(sa)} and {list(sb)}", col, end)
        a2 = (1,) + sa if len(sa) == 1 else sa
        b2 = sb + (1,) if len(sb) == 1 else sb
        if a2[-1] != b2[-2]:
            raise self.err(f"shape mismatch in {_OP_WORDS['@'] if what == '@' else what + '()'}: shapes "
                           f"{list(sa)} and {list(sb)} cannot be multiplied ({a2[-1]} != {b2[-2]})", col, end)
        try:
            batch = np.broadcast_shapes(a2[:-2], b2[:-2])
        except ValueError:
            raise self.err(f"shape mismatch in {_OP_WORDS['@'] if what == '@' else what + '()'}: batch shapes "
                           f"{list(sa[:-2])} and {list(sb[:-2])} cannot be broadcast together", col, end) from None
        shape = tuple(batch) + ((a2[-2],) if len(sa) > 1 else ()) + ((b2[-1],) if len(sb) > 1 else ())
        self.check_size(shape, col, end)
        flops = _numel(batch) * a2[-2] * a2[-1] * b2[-1]
        # The backward pass multiplies by transposed or broadcast (stride-0) views, which numpy
        # runs without BLAS: measured at ~5 ns per multiply-add for 2-D operands and ~30x an
        # elementwise op for batched ones (plus a per-matrix overhead). Charge for that.
        if len(sa) > 2 or len(sb) > 2:
            flops = flops * 30 + _numel(batch) * 100
        else:
            flops = flops * 4
        return shape, flops

    def as_tensor(self, v):
        return v if isinstance(v, Tensor) else vg.tensor(float(v))

    def call(self, node: Call):
        name, args = node.func, node.args
        spec = FUNCTIONS[name]
        col, end = node.col, node.col + len(name)
        tens = {}
        finite = True
        for pname, kind, _ in spec.params:
            if kind == "tensor" and args.get(pname) is not None:
                v, fin = self.ev(args[pname])
                tens[pname] = self.as_tensor(v)
                finite = finite and fin
        fam = spec.family
        what = f"{name}()"
        if fam in ("binary",) or (fam == "maxmin" and tens.get("other") is not None):
            a, b = tens.get("a", tens.get("x")), tens.get("b", tens.get("other"))
            shape = self.predict_broadcast(a, b, what, col, end)
            self.charge(_numel(shape) * spec.cost, col, end)
            fn = vg.maximum if name in ("max", "maximum") else vg.minimum
            with self.guard(f"{what} failed", col, end):
                out = fn(a, b)
            return self.finish(out, finite, name, col, end)
        if fam == "matmul" or fam == "outer":
            a, b = tens["a"], tens["b"]
            sa, sb = tuple(a.shape), tuple(b.shape)
            if fam == "outer" or name == "dot":
                if len(sa) != 1 or len(sb) != 1:
                    raise self.err(f"shape mismatch in {what}: it takes two vectors, got shapes {list(sa)} "
                                   f"and {list(sb)}", col, end)
            if fam == "outer":
                shape = (sa[0], sb[0])
                self.check_size(shape, col, end)
                self.charge(_numel(shape), col, end)
                with self.guard(f"{what} failed", col, end):
                    out = vg.outer(a, b)
                return self.finish(out, finite, name, col, end)
            shape, flops = self.predict_matmul(sa, sb, col, end, name)
            self.charge(flops + _numel(shape), col, end)
            with self.guard(f"shape mismatch in {what}", col, end):
                out = vg.dot(a, b) if name == "dot" else vg.matmul(a, b)
            return self.finish(out, finite, name, col, end)
        x = tens["x"]
        self.charge(x.numel() * spec.cost, col, end)
        with self.guard(f"{what} failed", col, end):
            if fam == "unary":
                out = getattr(vg, name)(x)
            elif fam == "detach":
                out = x.detach()
            elif fam == "reduce":
                kw = {}
                if args["dim"] is not None:
                    kw["dim"] = args["dim"]
                if args["keepdim"]:
                    kw["keepdim"] = True
                out = getattr(vg, name)(x, **kw)
            elif fam == "maxmin":
                fn = vg.max if name == "max" else vg.min
                if args["dim"] is None:
                    out = fn(x)
                else:
                    out = fn(x, dim=args["dim"], keepdim=args["keepdim"])
            elif fam == "softmax":
                out = getattr(vg, name)(x, dim=args["dim"])
            elif fam == "clamp":
                out = vg.clamp(x, min=args["min"], max=args["max"])
            elif fam == "transpose":
                if args.get("dim0") is None:
                    # torch.t of a 0-d tensor is the identity; vizgrad.t raises TypeError there (engine bug)
                    out = vg.t(x) if x.dim() else vg.reshape(x, ())
                else:
                    out = vg.transpose(x, args["dim0"], args["dim1"])
            elif name == "reshape":
                out = vg.reshape(x, tuple(args["shape"]))
            elif name == "flatten":
                out = vg.flatten(x)
            elif name == "squeeze":
                out = vg.squeeze(x) if args["dim"] is None else vg.squeeze(x, args["dim"])
            elif name == "unsqueeze":
                if x.dim() + 1 > self.limits.max_dims:
                    raise self.err(f"{what}: too many dims (the limit is {self.limits.max_dims})", col, end)
                out = vg.unsqueeze(x, args["dim"])
            else:  # pragma: no cover
                raise self.err(f"{what} is not available", col, end)
        return self.finish(out, finite, name, col, end)

    def listlit(self, node: ListLit):
        if _const_list(node):
            nested, shape = self.const_list(node)
            self.check_size(shape, node.col, node.end_col, "the list")
            self.charge(_numel(shape), node.col)
            arr = np.array(nested, dtype=np.float64).reshape(shape)
            finite = bool(np.all(np.isfinite(arr)))
            t = vg.tensor(arr.astype(np.float32))
            if finite and not np.all(np.isfinite(t._data)):
                self.warnings.append(f"a number in the list at column {node.col} is too large for float32 "
                                     "and became inf")
                finite = False
            return t, finite
        items, finite = [], True
        for it in node.items:
            v, fin = self.ev(it)
            items.append(self.as_tensor(v))
            finite = finite and fin
        shapes = {tuple(t.shape) for t in items}
        if len(shapes) > 1:
            first = tuple(items[0].shape)
            bad = next(i for i, t in enumerate(items) if tuple(t.shape) != first)
            raise self.err(f"the list items have different shapes: {list(first)} and "
                           f"{list(items[bad].shape)}", node.items[bad].col, node.items[bad].end_col)
        shape = (len(items),) + tuple(items[0].shape)
        self.check_size(shape, node.col, node.col + 1, "the list")
        self.charge(_numel(shape), node.col)
        with self.guard("the list", node.col, node.col + 1):
            out = vg.stack(items)
        return self.finish(out, finite, "stack", node.col, node.col + 1)

    def const_list(self, node):
        """A constant list as nested Python floats and its shape; ragged lists are errors."""
        if not isinstance(node, ListLit):
            v = _fold(node, self.limits, self.warnings)[0]
            return float(v), ()
        parts = [self.const_list(it) for it in node.items]
        first = parts[0][1]
        for it, (_, s) in zip(node.items, parts):
            if s != first:
                raise self.err(f"the list is ragged: an item has shape {list(s)} where {list(first)} was "
                               "expected (rows must have equal lengths)", it.col, it.end_col)
        if len(first) + 1 > self.limits.max_dims:
            raise self.err(f"the list has too many dims (the limit is {self.limits.max_dims})", node.col)
        return [p[0] for p in parts], (len(parts),) + first

    def index(self, node: Index):
        v, fin = self.ev(node.value)
        col = node.bracket_col
        if not isinstance(v, Tensor):
            raise self.err("a number cannot be indexed", col, col + 1)
        if len(node.key) > v.dim():
            raise self.err(f"too many indices: the tensor has {_plural(v.dim(), 'dim')} (shape {list(v.shape)})",
                           col, node.end_col)
        self.charge(1, col)
        with self.guard("index out of range", col, node.end_col):
            out = v[node.key if len(node.key) > 1 else node.key[0]]
        self.charge(out.numel(), col)
        return self.finish(out, fin, "indexing", col, node.end_col)


def _const_list(node) -> bool:
    """A list literal whose every leaf is constant, or a constant. O(1), like _is_const."""
    if isinstance(node, ListLit):
        return node.const_list
    return node.const


def _clean(e: BaseException) -> str:
    msg = str(e).strip() or type(e).__name__
    msg = msg.replace("\n", " ")
    return msg if len(msg) <= 200 else msg[:200] + "..."


def _shape(v) -> tuple:
    return tuple(v.shape) if isinstance(v, Tensor) else ()


def _data(v):
    return v._data if isinstance(v, Tensor) else v


def _numel(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


@_shielded
def evaluate(source: str, variables: Mapping | None = None, limits: Limits | None = None) -> Result:
    """Evaluate `source` over `variables` ({name: value}, {name: {"value": v, "requires_grad": b}} or
    {name: Variable(v, requires_grad)}; a bare value requires grad). Returns a Result; raises only
    ExprError for bad input."""
    limits = limits or DEFAULT_LIMITS
    inputs, values = _make_inputs(variables, limits)
    expr = parse(source, inputs, limits)
    ev = _Evaluator(expr, inputs, limits)
    try:
        with np.errstate(all="ignore"):
            out, _ = ev.ev(expr.root)
    except ExprError as e:
        if e.source is None:
            e.source = expr.text
        raise
    except RecursionError:
        raise ExprError("the expression is too deeply nested", 1, None, expr.text) from None
    except MemoryError:
        raise ExprError("out of memory", 1, None, expr.text) from None
    if not isinstance(out, Tensor):
        out = vg.tensor(float(out))
    return Result(out, inputs, ev.warnings, expr, _values=values)


# ============================================================================================
# LaTeX
# ============================================================================================
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "mu", "nu",
          "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "Gamma", "Delta",
          "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "varepsilon", "varphi"}
_LATEX_FUNCS = {"exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos", "tanh": r"\tanh",
                "max": r"\max", "min": r"\min", "maximum": r"\max", "minimum": r"\min"}


def _latex_word(w: str) -> str:
    if w in _GREEK:
        return "\\" + w
    if len(w) == 1 or w.isdigit():
        return w
    return r"\mathrm{" + w.replace("_", r"\_") + "}"


def _latex_name(name: str) -> str:
    if name == "pi":
        return r"\pi"
    base, sep, sub = name.partition("_")
    if not base:  # _x
        return r"\mathrm{" + name.replace("_", r"\_") + "}"
    if not sep and base.rstrip("0123456789") != base and base.rstrip("0123456789").isalpha():
        letters = base.rstrip("0123456789")  # x1 -> x_{1}, W12 -> W_{12}
        return _latex_word(letters) + "_{" + base[len(letters):] + "}"
    out = _latex_word(base)
    if sep and sub:
        out += "_{" + _latex_word(sub) + "}"
    return out


def _latex_num(v) -> str:
    if isinstance(v, int):
        return str(v)
    v = float(v)
    s = repr(v)
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
        s = f"{v:.8g}"
    if "e" in s:
        m, _, ex = s.partition("e")
        ex = str(int(ex))
        if m in ("1", "1.0"):
            return "10^{" + ex + "}"
        return m + r" \times 10^{" + ex + "}"
    if s.endswith(".0"):
        s = s[:-2]
    return s


class _Latex:
    """Each node is emitted exactly once and its string reused: emitting a child twice (as a
    shared link's exp(exp(...(x))) once did) doubles the work at every level."""

    def paren(self, s):
        return r"\left(" + s + r"\right)"

    def emit(self, node: Node) -> str:
        if isinstance(node, Num):
            return _latex_num(node.value)
        if isinstance(node, Name):
            return _latex_name(node.id)
        if isinstance(node, Unary):
            inner = self.emit(node.operand)
            if isinstance(node.operand, BinOp) and node.operand.op in "+-" or isinstance(node.operand, Unary):
                inner = self.paren(inner)
            return node.op + inner if node.op == "-" else inner
        if isinstance(node, BinOp):
            return self.binop(node)
        if isinstance(node, ListLit):
            return self.matrix(node)
        if isinstance(node, Index):
            base = self.emit(node.value)
            if not _latex_atomic(node.value):
                base = self.paren(base)
            return base + r"\left[" + ", ".join(_fmt_key_part(k).replace(":", "{:}") for k in node.key) + r"\right]"
        if isinstance(node, Call):
            return self.call(node)
        return "?"  # pragma: no cover

    def binop(self, node: BinOp) -> str:
        op = node.op
        if op == "/":
            return r"\frac{" + self.emit(node.left) + "}{" + self.emit(node.right) + "}"
        if op == "**":
            base = self.emit(node.left)
            if not _latex_atomic(node.left) or (isinstance(node.left, Num) and "times" in base):
                base = self.paren(base)
            return "{" + base + "}^{" + self.emit(node.right) + "}"
        return self.infix(op, node.left, node.right, self.emit(node.left), self.emit(node.right))

    def infix(self, op, lnode, rnode, left: str, right: str) -> str:
        """`left op right` for + - * @, from the operands' already emitted strings."""
        p = _BIN_PREC[op]
        if _latex_prec(lnode) < p:
            left = self.paren(left)
        rp = _latex_prec(rnode)
        if rp < p or (op == "-" and rp == p) or (isinstance(rnode, Unary) and rnode.op == "-"):
            right = self.paren(right)
        sym = {"+": " + ", "-": " - ", "*": r" \cdot ", "@": r"\,"}[op]
        return left + sym + right

    def matrix(self, node: ListLit) -> str:
        if all(not isinstance(it, ListLit) for it in node.items):
            body = r" \\ ".join(self.emit(it) for it in node.items)  # a vector: one column
        elif all(isinstance(it, ListLit) and all(not isinstance(x, ListLit) for x in it.items)
                 for it in node.items):
            body = r" \\ ".join(" & ".join(self.emit(x) for x in it.items) for it in node.items)
        else:
            body = " & ".join(self.emit(it) for it in node.items)
        return r"\begin{bmatrix} " + body + r" \end{bmatrix}"

    def call(self, node: Call) -> str:
        name, args = node.func, node.args
        spec = FUNCTIONS[name]
        # every tensor argument emitted once, in parameter order
        ts = {p: self.emit(args[p]) for p, kind, _ in spec.params if kind == "tensor" and args.get(p) is not None}
        x = args.get("x")
        xs = ts.get("x", "")
        extras = []
        for pname, kind, default in spec.params:
            if kind != "tensor" and args.get(pname) != default:
                extras.append(r"\mathrm{" + pname + "}=" + _latex_static(args[pname]))
        sub = ("_{" + ", ".join(extras) + "}") if extras else ""
        if name == "sqrt":
            return r"\sqrt{" + xs + "}"
        if name == "abs":
            return r"\left|" + xs + r"\right|"
        if name == "norm":
            return r"\left\lVert " + xs + r" \right\rVert" + sub
        if name == "square":
            return "{" + (xs if _latex_atomic(x) else self.paren(xs)) + "}^{2}"
        if name == "reciprocal":
            return r"\frac{1}{" + xs + "}"
        if name == "transpose" and not extras:
            return "{" + (xs if _latex_atomic(x) else self.paren(xs)) + r"}^{\top}"
        if name == "sum":
            inner = xs if _latex_atomic(x) or isinstance(x, BinOp) and x.op == "**" else self.paren(xs)
            return r"\sum" + sub + " " + inner
        if name == "sigmoid":
            return r"\sigma" + self.paren(xs)
        if name in ("dot",):
            return r"\left\langle " + ts["a"] + ", " + ts["b"] + r" \right\rangle"
        if name == "matmul":
            return self.infix("@", args["a"], args["b"], ts["a"], ts["b"])
        if name == "outer":
            return ts["a"] + r" \otimes " + ts["b"]
        if name == "clamp":
            parts = [xs] + [_latex_num(args[k]) if args[k] is not None else r"-\infty" if k == "min"
                            else r"\infty" for k in ("min", "max")]
            return r"\operatorname{clamp}" + self.paren(", ".join(parts))
        head = _LATEX_FUNCS.get(name, r"\operatorname{" + name.replace("_", r"\_") + "}")
        targs = list(ts.values())
        if name == "reshape":
            extras = [r"\mathrm{shape}=" + _latex_static(args["shape"])]
            sub = "_{" + ", ".join(extras) + "}"
        return head + sub + self.paren(", ".join(targs))


def _latex_static(v) -> str:
    if isinstance(v, tuple):
        return "(" + ", ".join(str(i) for i in v) + ")"
    if isinstance(v, bool):
        return r"\mathrm{" + str(v) + "}"
    if isinstance(v, (int, float)):
        return _latex_num(v)
    return str(v)


def _latex_atomic(node) -> bool:
    if isinstance(node, Num):
        return node.value >= 0
    return isinstance(node, (Name, ListLit, Index)) or (
        isinstance(node, Call) and node.func not in ("sum", "square", "reciprocal", "outer", "matmul",
                                                     "transpose"))


def _latex_prec(node) -> int:
    if isinstance(node, BinOp):
        return 50 if node.op in ("/", "**") else _BIN_PREC[node.op]
    if isinstance(node, Unary):
        return 30
    if isinstance(node, Call) and node.func in ("outer", "matmul"):
        return 20
    if isinstance(node, Call) and node.func == "sum":
        return 5
    return 100


def _fmt_key_part(k) -> str:
    if isinstance(k, slice):
        s = ("" if k.start is None else str(k.start)) + ":" + ("" if k.stop is None else str(k.stop))
        if k.step is not None:
            s += ":" + str(k.step)
        return s
    return str(k)


@_shielded
def to_latex(source: str, variables: Mapping | None = None, limits: Limits | None = None) -> str:
    """The expression as LaTeX (fractions, powers, function names, matrix products)."""
    expr = parse(source, variables, limits)
    try:
        return _Latex().emit(expr.root)
    except RecursionError:
        raise ExprError("the expression is too deeply nested", 1, None, expr.text) from None


# ============================================================================================
# PyTorch code
# ============================================================================================
def _float_literal(v: float) -> str:
    if math.isnan(v):
        return 'float("nan")'
    if math.isinf(v):
        return 'float("inf")' if v > 0 else '-float("inf")'
    return repr(float(v))


def _code_value(arr: np.ndarray) -> str:
    if arr.ndim == 0:
        return _float_literal(float(arr))
    return repr(arr.astype(np.float64).tolist())


class _Code:
    """Each node is emitted exactly once and its code reused (see _Latex)."""

    def __init__(self, limits: Limits, names: dict):
        self.limits = limits
        self.names = names  # variable -> identifier in the generated code
        self.fold_memo: dict = {}  # see _fold: every constant subtree printed folds the ones below it

    def emit(self, node: Node, *, tensor=False) -> tuple[str, int]:
        """(code, precedence). tensor=True: a number must become a torch tensor."""
        if _is_const(node):
            if isinstance(node, Name) and node.kind == "const":
                code, prec = f"math.{node.id}", 100
            else:
                value, safe = _fold(node, self.limits, None, self.fold_memo)
                if isinstance(node, Num):
                    code, prec = repr(node.value), 100
                elif safe:
                    code, prec = self.emit_struct(node)
                else:
                    code, prec = _float_literal(value), 100
                    if code.startswith("-"):
                        prec = 30
            if tensor:
                if isinstance(node, Num):
                    return f"torch.tensor({_float_literal(float(node.value))})", 100
                return f"torch.tensor(float({code}))", 100
            return code, prec
        if isinstance(node, Name):
            return self.names[node.id], 100
        return self.emit_struct(node)

    def emit_struct(self, node: Node) -> tuple[str, int]:
        if isinstance(node, Num):
            return repr(node.value), 100
        if isinstance(node, Name):
            return (f"math.{node.id}" if node.kind == "const" else self.names[node.id]), 100
        if isinstance(node, Unary):
            code, p = self.emit(node.operand)
            if p <= 30:
                code = f"({code})"
            return node.op + code, 30
        if isinstance(node, BinOp):
            left, lp = self.emit(node.left)
            right, rp = self.emit(node.right)
            p = _BIN_PREC[node.op]
            if node.op == "**":
                if lp <= p:
                    left = f"({left})"
                if rp < 30:
                    right = f"({right})"
            else:
                if lp < p:
                    left = f"({left})"
                if rp <= p:
                    right = f"({right})"
            return f"{left} {node.op} {right}", p
        if isinstance(node, ListLit):
            return self.listlit(node), 100
        if isinstance(node, Index):
            base, p = self.emit(node.value)
            if p < 100:
                base = f"({base})"
            return base + "[" + ", ".join(_fmt_key_part(k) for k in node.key) + "]", 100
        if isinstance(node, Call):
            return self.call(node), 100
        raise AssertionError(type(node))  # pragma: no cover

    def listlit(self, node: ListLit) -> str:
        if _const_list(node):
            plain = _all_num_leaves(node)
            body = self.const_items(node, plain)
            return f"torch.tensor({body})" if plain else f"torch.tensor({body}, dtype=torch.float32)"
        return "torch.stack([" + ", ".join(self.emit(it, tensor=True)[0] for it in node.items) + "])"

    def const_items(self, node, plain) -> str:
        if isinstance(node, ListLit):
            return "[" + ", ".join(self.const_items(it, plain) for it in node.items) + "]"
        if isinstance(node, Num):
            return _float_literal(float(node.value))
        return self.emit(node)[0]

    def call(self, node: Call) -> str:
        name, args = node.func, node.args
        spec = FUNCTIONS[name]
        fam = spec.family
        # every tensor argument emitted once: (code, precedence), in parameter order
        tp = {p: self.emit(args[p], tensor=True) for p, kind, _ in spec.params
              if kind == "tensor" and args.get(p) is not None}
        t = {p: code for p, (code, _) in tp.items()}
        x = t.get("x")
        if fam == "unary":
            return f"torch.{name}({x})"
        if fam == "detach":
            code, p = tp["x"]
            return (code if p == 100 else f"({code})") + ".detach()"
        if fam == "reduce":
            kw = ""
            if args["dim"] is not None:
                kw += f", dim={args['dim']!r}"
            if args["keepdim"]:
                kw += ", keepdim=True"
            return f"torch.{name}({x}{kw})"
        if fam == "maxmin":
            if args["other"] is not None:
                return f"torch.{name}imum({x}, {t['other']})"
            if args["dim"] is None:
                return f"torch.{name}({x})"
            kw = f", dim={args['dim']}" + (", keepdim=True" if args["keepdim"] else "")
            return f"torch.{name}({x}{kw}).values"
        if fam == "softmax":
            return f"torch.{name}({x}, dim={args['dim']})"
        if fam in ("matmul", "outer", "binary"):
            return f"torch.{name}({t['a']}, {t['b']})"
        if fam == "clamp":
            kw = "".join(f", {k}={_float_literal(args[k])}" for k in ("min", "max") if args[k] is not None)
            return f"torch.clamp({x}{kw})"
        if fam == "transpose":
            if args.get("dim0") is None:
                return f"torch.t({x})"
            return f"torch.transpose({x}, {args['dim0']}, {args['dim1']})"
        if name == "reshape":
            shape = args["shape"]
            return f"torch.reshape({x}, {shape!r})"
        if name == "flatten":
            return f"torch.flatten({x})"
        if name == "squeeze":
            return f"torch.squeeze({x})" if args["dim"] is None else f"torch.squeeze({x}, {args['dim']})"
        if name == "unsqueeze":
            return f"torch.unsqueeze({x}, {args['dim']})"
        raise AssertionError(name)  # pragma: no cover


def _all_num_leaves(node) -> bool:
    if isinstance(node, ListLit):
        return all(_all_num_leaves(it) for it in node.items)
    return isinstance(node, Num)


@_shielded
def to_torch_code(source: str, variables: Mapping | None = None, limits: Limits | None = None) -> str:
    """Runnable PyTorch code computing the same value and gradients, printing the output and each
    variable's .grad. (The expression is evaluated first, so bad input raises ExprError.)"""
    limits = limits or DEFAULT_LIMITS
    result = evaluate(source, variables, limits)
    expr = result.expression
    names = {n: n for n in result.inputs}
    out_name = "out"
    while out_name in names:
        out_name += "_"
    gen = _Code(limits, names)
    try:
        body, _ = gen.emit(expr.root)
    except RecursionError:
        raise ExprError("the expression is too deeply nested", 1, None, expr.text) from None
    out = result.output
    if not isinstance(expr.root, Node) or _is_const(expr.root):
        body = f"torch.tensor(float({body}))" if not isinstance(expr.root, Num) else \
            f"torch.tensor({_float_literal(float(expr.root.value))})"
    lines = []
    uses_math = expr.uses_constants or "math." in body
    if uses_math:
        lines.append("import math")
    lines.append("import torch")
    lines.append("")
    for n, t in result.inputs.items():
        value = _code_value(result._values[n])
        rg = ", requires_grad=True" if t.requires_grad else ""
        lines.append(f"{n} = torch.tensor({value}{rg})")
    lines.append("")
    lines.append(f"{out_name} = {body}")
    if out.requires_grad:
        if out.numel() == 1:
            lines.append(f"{out_name}.backward()")
        else:
            lines.append(f"# {out_name} is not a scalar: backward with a gradient of ones, which gives the "
                         f"gradients of {out_name}.sum()")
            lines.append(f"{out_name}.backward(torch.ones_like({out_name}))")
    else:
        lines.append(f"# {out_name} does not depend on any tensor that requires grad: there is nothing to "
                     "differentiate")
    lines.append(f'print("{out_name} =", {out_name})')
    for n in result.inputs:
        lines.append(f'print("{n}.grad =", {n}.grad)')
    return "\n".join(lines) + "\n"
