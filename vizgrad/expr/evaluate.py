"""Running an expression on vizgrad tensors: the variables are checked and turned into leaf
tensors (`Variable`, `_make_inputs`), then `_Evaluator` walks the node tree, predicting each
result's size and charging its work *before* the engine op runs, and collecting warnings where a
finite input gave inf or nan. `evaluate` returns a `Result` whose `backward()` gives the gradients.
"""
from __future__ import annotations

import keyword
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

import vizgrad as vg
from vizgrad.expr import nodes
from vizgrad.expr.errors import (DEFAULT_LIMITS, OP_WORDS, ExprError, ExprLimits, clean, nonfinite_message,
                                 plural, pointing_into, shielded)
from vizgrad.expr.nodes import BinOp, Call, Expression, Subscript, ListLit, Name, Node, Unary, check_exponent, fold_binop
from vizgrad.expr.parse import parse
from vizgrad.tensor import Tensor


# names the generated code relies on; variables may not take them (a variable may share a function's
# name: `mean(x)` is always the function, a bare `mean` the variable)
_RESERVED = {"torch", "math", "print", "float", "True", "False", "None"}


@dataclass
class Variable:
    """A variable's value (number, nested list, numpy array or Tensor) and whether it requires grad."""
    value: Any
    requires_grad: bool = True


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


class _Guard:
    """See _Evaluator.guard. (A class, not a generator: it runs around every op.)"""
    __slots__ = ("ev", "what", "col", "end")

    def __init__(self, ev, what, col, end):
        self.ev, self.what, self.col, self.end = ev, what, col, end

    def __enter__(self):
        return self

    def __exit__(self, kind, e, tb):
        if kind is None or issubclass(kind, ExprError) or not issubclass(kind, Exception):
            return False
        if issubclass(kind, (RuntimeError, ValueError, IndexError)):  # RecursionError is a RuntimeError
            raise self.ev.err(f"{self.what}: {clean(e)}", self.col, self.end) from None
        if issubclass(kind, MemoryError):
            raise self.ev.err(f"{self.what}: out of memory", self.col, self.end) from None
        # an engine bug: never let it escape as anything but ExprError
        raise self.ev.err(f"{self.what} (internal error {kind.__name__}: {clean(e)})", self.col, self.end) from None


def _shortened(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width] + "..."


def _variable_spec(name, spec):
    if isinstance(spec, Variable):
        return spec.value, spec.requires_grad
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"value", "requires_grad"}
        if unknown or "value" not in spec:
            raise ExprError(f"variable '{name}': expected {{'value': ..., 'requires_grad': ...}}")
        return spec["value"], spec.get("requires_grad", True)
    return spec, True


def _check_variable_name(name, limits: ExprLimits):
    if not isinstance(name, str):
        raise ExprError(f"variable names must be text, not {type(name).__name__}")
    shown = _shortened(name, 20)
    if not name.isascii() or not name.isidentifier():
        raise ExprError(f"'{shown}' is not a valid variable name: use ASCII letters, digits and _, "
                        "not starting with a digit")
    if len(name) > limits.max_name_length:
        raise ExprError(f"the variable name '{shown}' is too long")
    if keyword.iskeyword(name) or name in _RESERVED:
        raise ExprError(f"'{name}' cannot be a variable name (it is a reserved word or function)")


def _variable_array(name, value, limits: ExprLimits) -> np.ndarray:
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
        raise ExprError(f"variable '{name}' must be a number or a list of numbers, not {_shortened(repr(value), 30)}")
    if arr.size and not np.all(np.abs(arr) <= limits.max_abs_number):
        if not np.all(np.isfinite(arr)):
            raise ExprError(f"variable '{name}' contains inf or nan")
        raise ExprError(f"variable '{name}' has a value too large (the limit is {limits.max_abs_number:g})")
    return arr


def _to_float(v) -> float:
    if isinstance(v, int) and abs(v) > 10 ** 300:  # float() would raise; the magnitude check rejects it
        return 1e300
    return float(v)


def _nested_to_array(name, value, limits: ExprLimits) -> np.ndarray:
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
                shown = _shortened(repr(v), 30)
                kind = "ragged: its lists must have equal lengths" if isinstance(v, (list, tuple)) else \
                    f"not all numbers (found {shown})"
                raise ExprError(f"variable '{name}' is {kind}")
            flat.append(_to_float(v))
    return np.array(flat, dtype=np.float64).reshape(shape)


def _make_inputs(variables, limits: ExprLimits) -> tuple[dict, dict]:
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
    """One evaluation: each node is evaluated once, to a Python number (constants) or a Tensor.
    The rows' evaluation forms (functions.py) use `limits`, `err`, `charge`, `check_size`,
    `predict_broadcast`, `predict_matmul` and `guard`."""

    def __init__(self, expr: Expression, inputs: dict, limits: ExprLimits):
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
        n = math.prod(shape)
        if n > self.limits.max_elements or len(shape) > self.limits.max_dims:
            raise self.err(f"{what} would be too large (shape {list(shape)}; the limit is "
                           f"{self.limits.max_elements} elements in at most {self.limits.max_dims} dims)", col, end)
        return n

    def guard(self, what, col, end=None) -> "_Guard":
        """`with ev.guard(...):` around one engine op: its errors become ExprErrors pointing at the op."""
        return _Guard(self, what, col, end)

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
            self.warnings.append(nonfinite_message(op, " and ".join(kinds), col, zero))
        return out, finite

    # -- nodes ----------------------------------------------------------------------------------
    def ev(self, node: Node):
        """-> (value, finite): value is a Python number (constant) or a Tensor."""
        if nodes.is_const(node):
            value = nodes.fold(node, self.limits, self.warnings)[0]
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
        if isinstance(node, Subscript):
            return self.index(node)
        raise self.err("unsupported expression", node.col, node.end_col)  # pragma: no cover

    def binop(self, node: BinOp):
        a, fa = self.ev(node.left)
        b, fb = self.ev(node.right)
        op, col = node.op, node.op_col
        end = col + len(op)
        what = OP_WORDS[op]
        if op == "@":
            if not isinstance(a, Tensor) or not isinstance(b, Tensor):
                raise self.err("'@' multiplies two tensors (vectors or matrices), not a number; use * "
                               "to scale", col, end)
            shape, flops = self.predict_matmul(tuple(a.shape), tuple(b.shape), col, end, "@")
            self.charge(flops + math.prod(shape), col, end)
            with self.guard(f"shape mismatch in {what}", col, end):
                out = a @ b
            return self.finish(out, fa and fb, op, col, end)
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):  # not reached: folded in ev
            value = fold_binop(node, a, b, True, self.limits, self.warnings)[0]
            return value, math.isfinite(value)
        if op == "**" and not isinstance(b, Tensor):
            check_exponent(b, node, self.limits)
        shape = self.predict_broadcast(a, b, what, col, end)
        self.charge(math.prod(shape) * (3 if op == "**" else 1), col, end)
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
        """The shape of a matrix product of shapes sa and sb (`what`: "@" or a function's name) and
        the multiply-adds it takes, or an ExprError saying why they cannot be multiplied."""
        mismatch = f"shape mismatch in {OP_WORDS['@'] if what == '@' else what + '()'}"
        if not sa or not sb:
            raise self.err(f"{mismatch}: both sides must be vectors or matrices, got shapes {list(sa)} and "
                           f"{list(sb)}", col, end)
        a2 = (1,) + sa if len(sa) == 1 else sa
        b2 = sb + (1,) if len(sb) == 1 else sb
        if a2[-1] != b2[-2]:
            raise self.err(f"{mismatch}: shapes {list(sa)} and {list(sb)} cannot be multiplied "
                           f"({a2[-1]} != {b2[-2]})", col, end)
        try:
            batch = np.broadcast_shapes(a2[:-2], b2[:-2])
        except ValueError:
            raise self.err(f"{mismatch}: batch shapes {list(sa[:-2])} and {list(sb[:-2])} cannot be broadcast "
                           "together", col, end) from None
        shape = tuple(batch) + ((a2[-2],) if len(sa) > 1 else ()) + ((b2[-1],) if len(sb) > 1 else ())
        self.check_size(shape, col, end)
        flops = math.prod(batch) * a2[-2] * a2[-1] * b2[-1]
        # The backward pass multiplies by transposed or broadcast (stride-0) views, which numpy
        # runs without BLAS: measured at ~5 ns per multiply-add for 2-D operands and ~30x an
        # elementwise op for batched ones (plus a per-matrix overhead). Charge for that.
        if len(sa) > 2 or len(sb) > 2:
            flops = flops * 30 + math.prod(batch) * 100
        else:
            flops = flops * 4
        return shape, flops

    def as_tensor(self, v):
        return v if isinstance(v, Tensor) else vg.tensor(float(v))

    def call(self, node: Call):
        """The tensor arguments (in parameter order), then the row's own evaluation (functions.py)."""
        spec, args = node.spec, node.args
        tens = {}
        finite = True
        for pname in spec.tensor_params:
            if args[pname] is not None:
                v, fin = self.ev(args[pname])
                tens[pname] = self.as_tensor(v)
                finite = finite and fin
        out = spec.evaluate(self, node, tens)
        return self.finish(out, finite, node.func, *node.name_span)

    def listlit(self, node: ListLit):
        if nodes.const_list(node):
            nested, shape = self.const_list(node)
            self.check_size(shape, node.col, node.end_col, "the list")
            self.charge(math.prod(shape), node.col)
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
        self.charge(math.prod(shape), node.col)
        with self.guard("the list", node.col, node.col + 1):
            out = vg.stack(items)
        return self.finish(out, finite, "stack", node.col, node.col + 1)

    def const_list(self, node):
        """A constant list as nested Python floats and its shape; ragged lists are errors."""
        if not isinstance(node, ListLit):
            v = nodes.fold(node, self.limits, self.warnings)[0]
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

    def index(self, node: Subscript):
        v, fin = self.ev(node.value)
        col = node.bracket_col
        if not isinstance(v, Tensor):
            raise self.err("a number cannot be indexed", col, col + 1)
        if len(node.key) > v.dim():
            raise self.err(f"too many indices: the tensor has {plural(v.dim(), 'dim')} (shape {list(v.shape)})",
                           col, node.end_col)
        self.charge(1, col)
        with self.guard("index out of range", col, node.end_col):
            out = v[node.key if len(node.key) > 1 else node.key[0]]
        self.charge(out.numel(), col)
        return self.finish(out, fin, "indexing", col, node.end_col)


def _shape(v) -> tuple:
    return tuple(v.shape) if isinstance(v, Tensor) else ()


def _data(v):
    return v._data if isinstance(v, Tensor) else v


@shielded
def evaluate(source: str, variables: Mapping | None = None, limits: ExprLimits | None = None) -> Result:
    """Evaluate `source` over `variables` ({name: value}, {name: {"value": v, "requires_grad": b}} or
    {name: Variable(v, requires_grad)}; a bare value requires grad). Returns a Result; raises only
    ExprError for bad input."""
    limits = limits or DEFAULT_LIMITS
    inputs, values = _make_inputs(variables, limits)
    expr = parse(source, inputs, limits)
    ev = _Evaluator(expr, inputs, limits)
    with pointing_into(expr.text), np.errstate(all="ignore"):
        out, _ = ev.ev(expr.root)
    if not isinstance(out, Tensor):
        out = vg.tensor(float(out))
    return Result(out, inputs, ev.warnings, expr, _values=values)
