"""An expression as runnable PyTorch code (`to_torch_code`): the variables as tensors, the
expression, backward and prints of the output and every gradient, so a reader can check the
page's numbers against real torch. Every node is emitted once.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from vizgrad.expr import nodes
from vizgrad.expr.errors import DEFAULT_LIMITS, ExprLimits, pointing_into, shielded
from vizgrad.expr.evaluate import evaluate
from vizgrad.expr.nodes import BIN_PREC, BinOp, Call, Subscript, ListLit, Name, Node, Num, Unary, key_text


def _float_literal(v: float) -> str:
    """A float as Python source, inf and nan included."""
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
    """Each node is emitted exactly once and its code reused (see latex._Latex). A call is written
    by its row's code form (functions.py), from its arguments' already emitted code."""

    def __init__(self, limits: ExprLimits, names: dict):
        self.limits = limits
        self.names = names  # variable -> identifier in the generated code
        self.fold_memo: dict = {}  # see nodes.fold: every constant subtree printed folds the ones below it

    def emit(self, node: Node, *, tensor=False) -> tuple[str, int]:
        """(code, precedence). tensor=True: a number must become a torch tensor."""
        if nodes.is_const(node):
            if isinstance(node, Name) and node.kind == "const":
                code, prec = f"math.{node.id}", 100
            else:
                value, safe = nodes.fold(node, self.limits, None, self.fold_memo)
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
        """Code of a Unary, BinOp, ListLit, Subscript or Call from its children's (numbers and names
        are emit's)."""
        if isinstance(node, Unary):
            code, p = self.emit(node.operand)
            if p <= 30:
                code = f"({code})"
            return node.op + code, 30
        if isinstance(node, BinOp):
            left, lp = self.emit(node.left)
            right, rp = self.emit(node.right)
            p = BIN_PREC[node.op]
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
        if isinstance(node, Subscript):
            base, p = self.emit(node.value)
            if p < 100:
                base = f"({base})"
            return base + "[" + ", ".join(key_text(k) for k in node.key) + "]", 100
        if isinstance(node, Call):
            return self.call(node), 100
        raise AssertionError(type(node))  # pragma: no cover

    def listlit(self, node: ListLit) -> str:
        if nodes.const_list(node):
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
        spec, args = node.spec, node.args
        # every tensor argument emitted once: (code, precedence), in parameter order
        tp = {p: self.emit(args[p], tensor=True) for p in spec.tensor_params if args[p] is not None}
        return spec.code(self, node, tp)


def _all_num_leaves(node) -> bool:
    if isinstance(node, ListLit):
        return all(_all_num_leaves(it) for it in node.items)
    return isinstance(node, Num)


@shielded
def to_torch_code(source: str, variables: Mapping | None = None, limits: ExprLimits | None = None) -> str:
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
    with pointing_into(expr.text):
        body, _ = gen.emit(expr.root, tensor=True)  # a constant expression still gives a tensor
    out = result.output
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
