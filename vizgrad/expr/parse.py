"""Text -> node tree, safely: the raw text is checked character by character and its bracket
depth measured, `ast.parse(..., mode="eval")` builds a Python syntax tree, and `_Converter` turns
it into nodes (see nodes.py), accepting only whitelisted node types, declared variables, the
constants and the functions of the table (functions.py). User text is never given to
eval/exec/compile.
"""
from __future__ import annotations

import ast
import difflib
import math
import re
from typing import Any, Mapping

from vizgrad.expr import nodes
from vizgrad.expr.errors import DEFAULT_LIMITS, ExprError, ExprLimits, plural, pointing_into, shielded
from vizgrad.expr.functions import _REQ, FUNCTIONS
from vizgrad.expr.nodes import (CONSTANTS, BinOp, Call, Expression, Subscript, ListLit, Name, Node,
                                NotConstant, Num, Unary, check_exponent)

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


def _method_message(name: str) -> str:
    return f"methods are not supported: write {name}(...) instead of .{name}(...)"


def _suggest(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(f"'{c}'" for c in close) + "?)"


_QUOTE_HASH_BACKSLASH = re.compile(r"['\"`#\\]")
_LONG_RUN = re.compile(r"[A-Za-z0-9_.]{101}")  # more than 100 letters, digits, _ or . in a row
_BRACKET = re.compile(r"[()\[\]{}]")


def _check_text(source, limits: ExprLimits) -> str:
    """Validate the raw text before the Python parser sees it; return it with whitespace flattened."""
    if not isinstance(source, str):
        raise ExprError(f"the expression must be text, not {type(source).__name__}")
    if len(source) > limits.max_source_length:
        raise ExprError(f"the expression is too long ({len(source)} characters; the limit is "
                        f"{limits.max_source_length})", limits.max_source_length + 1, None,
                        source[:limits.max_source_length + 40])
    text = source.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    # character by character only when there is something to report (this runs on every parse)
    plain = text.isascii() and text.isprintable() and not _QUOTE_HASH_BACKSLASH.search(text)
    for i, ch in enumerate("" if plain else text):
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
    long_run = _LONG_RUN.search(text)  # the text is ASCII by now
    if long_run:
        start = long_run.start()
        raise ExprError("this number or name is too long", start + 1, start + 101, text)
    # bracket depth and balance, before the (recursive) parser sees it
    stack = []
    pairs = {")": "(", "]": "[", "}": "{"}
    for m in _BRACKET.finditer(text):
        i, ch = m.start(), m.group()
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


def _measure(tree: ast.AST, limits: ExprLimits, text: str) -> None:
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

    def __init__(self, text: str, limits: ExprLimits, variables):
        self.text, self.limits = text, limits
        self.variables = variables  # set of declared names, or None (accept any identifier)
        self.names: list[str] = []
        self.uses_constants = False
        self.fold_memo: dict = {}  # see nodes.fold: nested constant exponents are folded once each

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
                    msg = _method_message(node.attr)
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
        declared = self.variables is not None and name in self.variables  # a variable named e or sum
        if not declared and name in CONSTANTS:
            self.uses_constants = True
            return Name(name, "const", _col(node), _end(node))
        if not declared and name in FUNCTIONS:
            raise self.err(f"'{name}' is a function: call it, as in {name}(x)", node)
        if declared or self.variables is None:
            if name not in self.names:
                self.names.append(name)
            return Name(name, "var", _col(node), _end(node))
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
        if sym == "**":
            return self.power(left, right, self._op_col(node, sym), _col(node), _end(node))
        return BinOp(sym, left, right, self._op_col(node, sym), _col(node), _end(node))

    def power(self, base, exponent, op_col, col, end) -> BinOp:
        """base ** exponent (also pow(a, b)); a constant exponent is checked already here, since
        to_latex does not evaluate (9**9**9)."""
        out = BinOp("**", base, exponent, op_col, col, end)
        if nodes.is_const(exponent):
            check_exponent(nodes.fold(exponent, self.limits, None, self.fold_memo)[0], out, self.limits)
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
        return Subscript(value, tuple(key), bracket + 1, _col(node), _end(node))

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
            value, _ = nodes.fold(n, self.limits, None, self.fold_memo)
        except NotConstant:
            raise self.err(f"{what} must be a number", node) from None
        if not math.isfinite(value):
            raise self.err(f"{what} must be a finite number", node)
        return float(value)

    # -- calls ----------------------------------------------------------------------------------
    def c_Call(self, node):
        f = node.func
        if not isinstance(f, ast.Name):
            if isinstance(f, ast.Attribute) and f.attr in FUNCTIONS:
                raise self.err(_method_message(f.attr), f)
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
                raise self.err(f"{spec.signature()} takes at most {plural(n, 'argument')}, got {len(pos)}",
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
        if spec.varargs:  # reshape(x, 2, 3) or reshape(x, [2, 3]): the rest is the shape
            if not extra:
                raise self.err(f"{name}() needs the new shape, as in {name}(x, 2, 3)", col=col, end=end)
            if len(extra) == 1 and isinstance(extra[0], (ast.List, ast.Tuple)):
                shape = self.static_ints(extra[0], "a shape")
            else:
                if len(extra) > self.limits.max_dims:
                    raise self.err(f"a shape has at most {self.limits.max_dims} sizes", col=col, end=end)
                shape = tuple(self.static_int(s, "a size") for s in extra)
            bound["shape"] = shape if isinstance(shape, tuple) else (shape,)
        problem = spec.check(name, bound, raw) if spec.check else None  # combinations the row rejects
        if problem:
            raise self.err(problem, col=col, end=end)
        if spec.rewrite:
            return spec.rewrite(self, bound, col, end)
        return Call(spec, bound, col, end)


@shielded
def parse(source: str, variables: Mapping | None = None, limits: ExprLimits | None = None) -> Expression:
    """Check and parse `source`. With `variables` (names, or the mapping given to `evaluate`) every
    name must be declared; without, any identifier that is not a function or constant is a variable."""
    limits = limits or DEFAULT_LIMITS
    text = _check_text(source, limits)
    tree = _parse_python(text)
    _measure(tree, limits, text)
    names = None if variables is None else set(variables)
    conv = _Converter(text, limits, names)
    with pointing_into(text):
        root = conv.convert(tree.body)
    return Expression(source, text, root, conv.names, conv.uses_constants)
