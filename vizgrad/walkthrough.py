"""Backprop, one chain-rule step at a time: the model behind the Walkthrough page (no UI code).

    import vizgrad as vg
    from vizgrad.walkthrough import steps
    x = vg.tensor(2., requires_grad=True, name="x"); y = vg.tensor(3., requires_grad=True, name="y")
    z = x**2 + y**3
    for s in steps(z):           # records the graph, runs backward on a copy of the pass
        print(s.phase, s.title)  # forward ... then backward: AddBackward0, PowBackward0 (27), PowBackward0 (4)

`steps(root)` lists the forward pass in topological order (one step per op: its output value),
then the backward pass in reverse topological order, seeded with dL/dL = 1. A backward step
names its op node and gives the upstream gradient, the local derivative (LaTeX, and its numeric
value for elementwise ops), each input's contribution (upstream times local, with the
broadcasting reduction shown when shapes differ) and each input's running gradient after the
step, so fan-out accumulation appears as separate, visible additions. Node ids are those of
`vizgrad.graph.trace`, so a page can highlight the step in `vizgrad.plot.figure`.

If `root` has not been backpropagated yet, `steps` calls `root.backward(retain_graph=True)`
first (a non-scalar root needs `gradient=`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from vizgrad import graph as vgraph
from vizgrad.graph import format_value
from vizgrad.tensor import Tensor

INFIX = {"+", "−", "×", "÷", "@", "**"}


@dataclass
class Contribution:
    """What one backward step sends along one input edge."""
    tensor: str                    # input tensor node id
    label: str                     # its label (x, W, t3 ...)
    index: int                     # operand position
    local_latex: str               # d out / d input, symbolic
    local: np.ndarray | None       # its numeric value (elementwise ops), else None
    contribution: np.ndarray | None  # upstream * local, reduced to the input's shape
    reduced_from: tuple | None     # shape before the broadcasting reduction, when it differs
    running_grad: np.ndarray | None  # the input's accumulated gradient after this step
    accumulates: bool              # True when the input already had a gradient from an earlier step
    requires_grad: bool


@dataclass
class Step:
    index: int
    phase: str                     # "forward" | "backward"
    node: str                      # op node id in the traced graph
    op: str                        # torch's name, e.g. "MulBackward0"
    symbol: str
    custom: bool                   # a user-defined autograd.Function ("custom backward")
    output: str                    # output tensor node id
    output_label: str
    title: str                     # one line, e.g. "t2 = x ** 2 = 4"
    equation: str                  # LaTeX with the numbers filled in
    value: np.ndarray              # the op's output value
    upstream: np.ndarray | None = None     # dL/d(output), backward steps
    inputs: list[Contribution] = field(default_factory=list)
    highlight_nodes: set = field(default_factory=set)
    highlight_edges: set = field(default_factory=set)
    done_nodes: set = field(default_factory=set)   # nodes computed (forward) or whose grad is final (backward)


def _num(a, digits: int = 4) -> str:
    """A value for an equation: scalars as numbers, small tensors compactly, big ones by shape."""
    if a is None:
        return "?"
    return format_value(np.asarray(a), max_elems=4, digits=digits, sep=" ").replace("\n", " ")


def _tex(s: str) -> str:
    return s.replace("_", r"\_")


def substitute_operands(rule: str, args: list[str]) -> str:
    """Put the operand labels into a local-derivative rule written with placeholders a, b, c."""
    for ph, lab in zip("abc", args):
        rule = re.sub(rf"(?<![\\A-Za-z]){ph}(?![A-Za-z])", lambda m, lab=lab: "{" + _tex(lab) + "}", rule)
    return rule


def _expr(symbol: str, args: list[str]) -> str:
    if symbol in INFIX and len(args) == 2:
        return f"{args[0]} {symbol} {args[1]}"
    if symbol.startswith("**") and len(args) == 1:
        return f"{args[0]}{symbol}"
    if symbol == "−" and len(args) == 1:
        return f"−{args[0]}"
    return f"{symbol}({', '.join(args)})"


_TEX_INFIX = {"+": "+", "−": "-", "×": r"\times", "÷": r"\div", "@": r"\,@\,", "**": "^"}
_TEX_FUNCS = {"σ": r"\sigma", "√": r"\sqrt", "Σ": r"\sum", "|·|": "abs", "ᵀ": "transpose", "‖·‖": "norm"}


def _tex_expr(symbol: str, args: list[str]) -> str:
    """The forward expression in LaTeX: x^{3}, a \\times b, \\tanh(u), ... (labels escaped)."""
    a = [_tex(x) for x in args]
    if symbol == "**" and len(a) == 2:
        return f"{{{a[0]}}}^{{{a[1]}}}"
    if symbol in _TEX_INFIX and len(a) == 2:
        return f"{a[0]} {_TEX_INFIX[symbol]} {a[1]}"
    if symbol.startswith("**") and len(a) == 1:
        return f"{{{a[0]}}}^{{{symbol[2:]}}}"
    if symbol == "−" and len(a) == 1:
        return f"-{a[0]}"
    name = _TEX_FUNCS.get(symbol, symbol)
    if not name.startswith("\\"):
        name = rf"\operatorname{{{_tex(name)}}}"
    return rf"{name}\left({', '.join(a)}\right)"


def _local_numeric(fn, g_shape_value, inputs, out_value):
    """d out / d input_i elementwise, by running the op's backward with an upstream of ones.

    Only meaningful when the op is elementwise (output shape is the broadcast of the inputs);
    returns None for reductions, matmul, indexing, ... whose local derivative is a Jacobian.
    """
    if fn is None or getattr(fn, "custom", False):
        return None
    try:
        shapes = [np.shape(v) for v in inputs]
        if np.broadcast_shapes(*shapes) != np.shape(out_value):
            return None
        if fn.name() in ("SumBackward0", "SumBackward1", "MeanBackward0", "MeanBackward1", "SoftmaxBackward0",
                         "LogSoftmaxBackward0", "MaxBackward0", "MaxBackward1", "MinBackward0", "MinBackward1",
                         # products and transposes whose shapes can line up (square matrices)
                         "MmBackward0", "MvBackward0", "DotBackward0", "BmmBackward0", "AddmmBackward0",
                         "TBackward0", "TransposeBackward0", "PermuteBackward0"):
            return None
        ones = np.ones(np.shape(out_value), dtype=np.result_type(out_value))
        with np.errstate(all="ignore"):
            res = fn.backward(ones, out_value if fn.needs_out else None, *inputs)
        return [None if r is None else np.asarray(r) for r in res]
    except Exception:  # a formula that needs more context than values: show the rule only
        return None


def steps(root: Tensor, gradient=None, params: dict | None = None) -> list[Step]:
    """The forward and backward steps of the graph behind `root` (see module docstring).

    params: optional {name: tensor} (e.g. dict(model.named_parameters())) to label parameters.
    """
    if not isinstance(root, Tensor):
        raise TypeError("steps() expects a vizgrad Tensor")
    if root.grad_fn is None:
        raise ValueError("this tensor was not computed from tensors that require grad: there is no graph to walk")
    if root.grad_fn.edge_grads is None:
        root.backward(gradient, retain_graph=True)
    g = vgraph.trace(root, params=params)
    fns = g.graph.get("fns", {})
    ops = sorted(vgraph.op_nodes(g), key=lambda n: int(n[2:]))  # op ids follow a topological order
    labels = {n: d["label"] for n, d in g.nodes(data=True)}
    out: list[Step] = []

    # ---- forward: each op computes its output from its inputs -------------------------------
    done: set = {n for n, d in g.nodes(data=True) if d["kind"] == "tensor" and d["is_leaf"]}
    for op in ops:
        d = g.nodes[op]
        o = d["output"]
        args = [labels[i] for i in d["inputs"]]
        value = g.nodes[o]["value"]
        done = done | {op, o}
        out.append(Step(
            index=len(out), phase="forward", node=op, op=d["op"], symbol=d["symbol"],
            custom=bool(getattr(fns.get(op), "custom", False)), output=o, output_label=labels[o],
            title=f"{labels[o]} = {_expr(d['symbol'], args)} = {_num(value)}",
            equation=rf"{_tex(labels[o])} = {_tex_expr(d['symbol'], args)} = {_num(value)}",
            value=value, highlight_nodes={op, o, *d["inputs"]},
            highlight_edges={(i, op) for i in d["inputs"]} | {(op, o)}, done_nodes=set(done)))

    # ---- backward: reverse topological order, seeded with dL/dL = 1 --------------------------
    running: dict[str, np.ndarray] = {}
    root_id = g.graph["roots"][0]
    seed = g.nodes[root_id]["grad"]
    running[root_id] = np.ones_like(g.nodes[root_id]["value"]) if seed is None else np.asarray(seed)
    final: set = {root_id}
    for op in reversed(ops):
        d = g.nodes[op]
        o = d["output"]
        upstream = running.get(o)
        fn = fns.get(op)
        in_values = [g.nodes[i]["value"] for i in d["inputs"]]
        local = _local_numeric(fn, None, in_values, g.nodes[o]["value"])
        latex = list(d["latex"]) + [""] * (len(d["inputs"]) - len(d["latex"]))
        latex = [substitute_operands(r, [labels[i] for i in d["inputs"]]) for r in latex]
        contribs, eq_lines = [], []
        seen_pos = {}
        for pos, i in enumerate(d["inputs"]):
            e = g.edges[i, op]
            k = seen_pos.get(i, 0)
            seen_pos[i] = k + 1
            c = e["grads"][k] if k < len(e["grads"]) else None
            tin = g.nodes[i]
            lv = None if local is None or pos >= len(local) else local[pos]
            reduced_from = None
            if c is not None and lv is not None and np.shape(lv) != np.shape(c):
                reduced_from = tuple(np.shape(lv))
            had = i in running
            if c is not None:
                running[i] = running[i] + c if had else np.asarray(c).copy()
            contribs.append(Contribution(
                tensor=i, label=labels[i], index=pos, local_latex=latex[pos], local=lv, contribution=c,
                reduced_from=reduced_from, running_grad=None if i not in running else running[i].copy(),
                accumulates=had and c is not None, requires_grad=tin["requires_grad"]))
            if c is None:
                continue
            L, t, x = "L", _tex(labels[o]), _tex(labels[i])
            chain = (rf"\frac{{\partial {L}}}{{\partial {x}}} \mathrel{{{'+' if had else ''}=}} "
                     rf"\frac{{\partial {L}}}{{\partial {t}}}\cdot\frac{{\partial {t}}}{{\partial {x}}}")
            rule = latex[pos] or r"\text{custom backward}"
            # the numeric product is spelled out for scalars; for tensors it would repeat long vectors
            small = lv is not None and np.size(lv) == 1 and np.size(upstream) == 1
            nums = rf" = {_num(upstream)} \cdot {_num(lv)}" if small else ""
            red = rf" \;\xrightarrow{{\Sigma\,\text{{to}}\,{list(tin['shape'])}}}\; " if reduced_from else " = "
            line = rf"{chain} = {_num(upstream)} \cdot \left({rule}\right){nums}{red}{_num(c)}"
            if had:
                line += rf" \;\Rightarrow\; \frac{{\partial {L}}}{{\partial {x}}} = {_num(running[i])}"
            eq_lines.append(line)
        # an input's gradient is final once every op that consumes it has run
        for i in d["inputs"]:
            if all(ops.index(c) >= ops.index(op) for c in g.successors(i)):
                final.add(i)
        final.add(op)
        parts = [f"{c.label} gets {_num(c.contribution)}" + (" (accumulated)" if c.accumulates else "")
                 for c in contribs if c.contribution is not None]
        out.append(Step(
            index=len(out), phase="backward", node=op, op=d["op"], symbol=d["symbol"],
            custom=bool(getattr(fn, "custom", False)), output=o, output_label=labels[o],
            title=f"{d['op']}: upstream ∂L/∂{labels[o]} = {_num(upstream)}; " + ", ".join(parts),
            equation=r" \\ ".join(eq_lines) if eq_lines else r"\text{no input requires grad}",
            value=g.nodes[o]["value"], upstream=upstream, inputs=contribs,
            highlight_nodes={op, o, *d["inputs"]}, highlight_edges={(i, op) for i in d["inputs"]} | {(op, o)},
            done_nodes=set(final)))
    return out


def final_grads(step_list: list[Step]) -> dict[str, np.ndarray]:
    """The gradient each input tensor has accumulated by the end of the walkthrough."""
    acc: dict[str, np.ndarray] = {}
    for s in step_list:
        for c in s.inputs:
            if c.running_grad is not None:
                acc[c.label] = c.running_grad
    return acc
