"""Backprop, one chain-rule step at a time: the model behind the Walkthrough page (no UI code).

    import vizgrad as vg
    from vizgrad.graph.steps import steps
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

Every number in a step's equation (`Step.lines`, one LaTeX line each) adds up: a tensor of up to
SMALL elements is written out in full, and the factors shown (`Contribution.factors`) multiply out
to the contribution by `combine(kind, factors, shape)` (upstream ⊙ local, summed back over
broadcast axes; a matrix product G·Bᵀ or Aᵀ·G; a transpose; a reshape); a bigger tensor gets the
rule in matrix form with its shape, never a bare norm. An accumulation gets its own line (before
+ this = after), and when a leaf's gradient is final, the chain rule composed over every path
(`chain_rule`: ∂f/∂x = 2x = 2·2 = 4). The graph's tensors have one name each (`name_nodes`:
t1, t2, ... in the order computed, the root f or L) and its rules read as written (2x, not 2x¹).

If `root` has not been backpropagated yet, `steps` calls `root.backward(retain_graph=True)`
first (a non-scalar root needs `gradient=`).

Memory: the steps hold references to the traced graph's arrays (values, the contributions on its
edges), not copies; new arrays appear only where a number is new: a local derivative, or a running
gradient that another contribution was added to. `graph_size(root)` bounds, from the engine's
graph and before anything is traced, how many numbers a walk of it keeps. `detached(g)` turns a
traced graph into one that refers to no engine object and has no reference cycles (a networkx
graph caches views of itself on itself, a cycle), so that dropping a walk frees its arrays at
once, by reference counting, without waiting for a garbage collection.
"""
from __future__ import annotations

import functools
import inspect
import re
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from vizgrad.graph import view
from vizgrad.graph.format import format_number, format_value, tex_name
from vizgrad.graph.trace import op_nodes, trace
from vizgrad.tensor import Tensor

__all__ = ["Step", "Contribution", "steps", "walk_graph", "traced", "final_grads", "substitute_operands",
           "substitute_values", "simplify_rule", "name_nodes", "simplify_rules", "differentiated", "chain_rule", "plain_name", "plain_value", "combine", "tex_array", "SMALL",
           "GraphSize", "graph_size", "PlainDiGraph", "dispose", "detached"]

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
    # how the equation's numbers multiply out (combine(kind, factors, shape) == contribution):
    #   "elementwise": factors (upstream, local): upstream ⊙ local, summed back to the input's shape
    #   "matmul": factors (A, B): A @ B            "transpose": factors (upstream,): upstreamᵀ
    #   "reshape": factors (upstream,): upstream reshaped to the input's shape
    #   "vjp": the op's own backward (a custom Function, indexing, ...): no factors to multiply
    kind: str = "vjp"
    factors: tuple = ()
    previous: np.ndarray | None = None    # the input's gradient before this step (when it accumulates)
    shape: tuple = ()                     # the input's shape


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
    equation: str                  # LaTeX with the numbers filled in (the lines joined by newlines)
    value: np.ndarray              # the op's output value
    upstream: np.ndarray | None = None     # dL/d(output), backward steps
    inputs: list[Contribution] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)   # the equation's lines, one st.latex each
    order: int = 0                 # backward steps: the op's place in the backward order (1: the first)
    highlight_nodes: set = field(default_factory=set)
    highlight_edges: set = field(default_factory=set)
    # node id -> index of the first step of this phase at which it is done; one dict shared by all
    # the steps of a phase, so a walk of n steps stores O(n) entries, not a set per step
    done_at: dict = field(default_factory=dict, repr=False)

    @property
    def done_nodes(self) -> set:
        """Nodes computed by now (forward) or whose gradient is final (backward)."""
        return {n for n, k in self.done_at.items() if k <= self.index}


SMALL = 16          # tensors of up to this many elements (about 4x4) are written out in full


def _num(a, digits: int = 4) -> str:
    """A value for a one-line title: scalars as numbers, small tensors in full, big ones by shape."""
    if a is None:
        return "?"
    a = np.asarray(a)
    if a.size > SMALL or a.ndim > 2:
        return "a " + "×".join(map(str, a.shape)) + " tensor"
    return format_value(a, max_elems=SMALL, digits=digits, sep=" ").replace("\n", " ")


plain_value = _num   # the public name: a value as the steps' titles write it


def tex_number(v, digits: int = 4) -> str:
    s = format_number(v, digits)
    return s.replace("inf", r"\infty").replace("nan", r"\text{nan}")


def tex_array(a, digits: int = 4) -> str | None:
    """A value in LaTeX: a number, or a small tensor written out in full (a row vector, a matrix);
    None for a tensor with more than SMALL elements or more than 2 dimensions (shown by formula)."""
    a = np.asarray(a)
    if a.ndim == 0 or (a.size == 1 and a.ndim == 0):
        return tex_number(a.item(), digits)
    if a.size > SMALL or a.ndim > 2:
        return None
    rows = [a.reshape(-1)] if a.ndim == 1 else list(a)
    body = r" \\ ".join(" & ".join(tex_number(v, digits) for v in r.tolist()) for r in rows)
    return r"\begin{bmatrix}" + body + r"\end{bmatrix}"


def tex_shape(shape) -> str:
    return r"\mathbb{R}^{" + r"\times ".join(map(str, shape)) + "}" if len(shape) else r"\mathbb{R}"


def sum_to_shape(a: np.ndarray, shape: tuple) -> np.ndarray:
    """Broadcasting's reverse: `a` summed over the axes that broadcasting added or stretched."""
    a = np.asarray(a)
    while a.ndim > len(shape):
        a = a.sum(axis=0)
    for ax, n in enumerate(shape):
        if n == 1 and a.shape[ax] != 1:
            a = a.sum(axis=ax, keepdims=True)
    return a


def combine(kind: str, factors: tuple, shape: tuple) -> np.ndarray | None:
    """What an equation's factors multiply out to (see Contribution.kind); None for "vjp"."""
    with np.errstate(all="ignore"):
        if kind == "elementwise":
            u, loc = (np.asarray(f, dtype=np.float64) for f in factors)
            return sum_to_shape(u * loc, tuple(shape))
        if kind == "matmul":
            return np.asarray(factors[0], dtype=np.float64) @ np.asarray(factors[1], dtype=np.float64)
        if kind == "transpose":
            return np.asarray(factors[0], dtype=np.float64).T
        if kind == "reshape":
            return np.asarray(factors[0], dtype=np.float64).reshape(shape)
    return None


def simplify_rule(rule: str) -> str:
    """A local-derivative rule as a teacher writes it: a^{1} -> a, a^{0} -> 1 (x², not 2x¹)."""
    rule = re.sub(r"\^\{1\}", "", rule)
    rule = re.sub(r"(\{[^{}]*\}|[A-Za-z])\^\{0\}", "1", rule)
    return rule


def substitute_operands(rule: str, args: list[str]) -> str:
    """Put the operand labels into a local-derivative rule written with placeholders a, b, c."""
    rule = simplify_rule(rule)
    for ph, lab in zip("abc", args):
        rule = re.sub(rf"(?<![\\A-Za-z]){ph}(?![A-Za-z])", lambda m, lab=lab: "{" + tex_name(lab) + "}", rule)
    return rule


def substitute_values(rule: str, values: list) -> str | None:
    """The rule with the operands' values in (scalars only), juxtaposition written as ·: '2\\,a' at
    a = 3 -> '2\\cdot 3'; None when an operand is not a scalar or the rule needs the upstream g."""
    if re.search(r"(?<![\\A-Za-z])g(?![A-Za-z])", rule) or any(np.size(v) != 1 for v in values):
        return None
    rule = simplify_rule(rule).replace(r"\,", r"\cdot ")
    for ph, v in zip("abc", values):
        num = tex_number(np.asarray(v).reshape(()).item())
        num = f"({num})" if num.startswith("-") else num
        rule = re.sub(rf"(?<![\\A-Za-z]){ph}(?![A-Za-z])", lambda m, num=num: "{" + num + "}", rule)
    if re.search(r"[A-Za-z]", re.sub(r"\\[A-Za-z]+|e(?=\^)", "", rule)):   # (e^{...}: Euler's e)
        return None      # a symbol that is not an operand (n, x, y of a loss's rule): no numbers to put in
    return rule


def _expr(symbol: str, args: list[str]) -> str:
    if symbol in INFIX and len(args) == 2:
        return f"{args[0]} {symbol} {args[1]}"
    if symbol.startswith("**") and len(args) == 1:
        return f"{args[0]}{symbol}"
    if symbol == "−" and len(args) == 1:
        return f"−{args[0]}"
    if symbol == "ᵀ" and len(args) == 1:
        return f"{args[0]}ᵀ"
    return f"{symbol}({', '.join(args)})"


_TEX_INFIX = {"+": "+", "−": "-", "×": r"\times", "÷": r"\div", "@": r"\,@\,", "**": "^"}


def _tex_expr(symbol: str, args: list[str], fn=None) -> str:
    """The forward expression in LaTeX: x^{3}, a \\times b, \\tanh(u), ... (labels escaped)."""
    a = [tex_name(x) for x in args]
    if symbol == "**" and len(a) == 2:
        return f"{{{a[0]}}}^{{{a[1]}}}"
    if symbol in _TEX_INFIX and len(a) == 2:
        return f"{a[0]} {_TEX_INFIX[symbol]} {a[1]}"
    if symbol.startswith("**") and len(a) == 1:
        return f"{{{a[0]}}}^{{{symbol[2:]}}}"
    if symbol == "−" and len(a) == 1:
        return f"-{a[0]}"
    if symbol == "ᵀ" and len(a) == 1:
        return f"{{{a[0]}}}^{{\top}}"
    name = view.latex_function(fn, symbol)
    if not name.startswith("\\"):
        name = rf"\operatorname{{{tex_name(name)}}}"
    return rf"{name}\left({', '.join(a)}\right)"


def _local_numeric(fn, g_shape_value, inputs, out_value):
    """d out / d input_i elementwise, by running the op's backward with an upstream of ones.

    Only meaningful when the op is elementwise (output shape is the broadcast of the inputs);
    returns None for reductions, matmul, indexing, ... whose local derivative is a Jacobian.
    """
    if not view.elementwise(fn):
        return None
    try:
        shapes = [np.shape(v) for v in inputs]
        if np.broadcast_shapes(*shapes) != np.shape(out_value):
            return None
        ones = np.ones(np.shape(out_value), dtype=np.result_type(out_value))
        with np.errstate(all="ignore"):
            res = fn.backward(ones, out_value if fn.needs_out else None, *inputs)
        return [None if r is None else np.asarray(r) for r in res]
    except Exception:  # a formula that needs more context than values: show the rule only
        return None


# ---- how big a walk is, before it is built ----------------------------------------------------------
@dataclass
class GraphSize:
    """What the engine's graph behind a root holds, counted without tracing or copying anything."""
    ops: int             # op nodes: a walk has two steps per op (forward and backward)
    tensors: int
    elements: int        # an upper bound on the numbers (array elements) a walk of the graph stores
    forward: int         # elements the op outputs hold: about the work of one forward pass
    largest: int         # the biggest tensor's elements
    complete: bool       # False when counting stopped early at a bound (the true sizes are larger)


def graph_size(root: Tensor, max_ops: int | None = None, max_elements: int | None = None) -> GraphSize:
    """Count the graph behind `root`: ops, tensors, and a bound on what a walk of it stores.

    What a walk (its traced graph, its steps, its final check) can hold, in numbers: per tensor its
    value and its gradient (two arrays of its size), and for a leaf also a finite-difference estimate;
    per op input, the contribution sent along the edge and the local derivative (as big as the larger
    of that input and the op's output); per use of a tensor after its first, the new running gradient
    (and, when one op uses it twice, the sum on their shared edge). Everything else the steps show
    refers to these arrays. Counting stops as soon as the graph has more than `max_ops` ops or
    `max_elements` elements (then `complete` is False and the counts are lower bounds).
    """
    if not isinstance(root, Tensor):
        raise TypeError("graph_size() expects a vizgrad Tensor")
    ops = tensors = elements = forward = largest = 0
    seen_t, seen_f, used = set(), set(), set()
    stack = [root]
    while stack:
        t = stack.pop()
        if id(t) in seen_t:
            continue
        seen_t.add(id(t))
        size = view.numel(t)
        tensors += 1
        largest = max(largest, size)
        fn = t.grad_fn
        elements += (2 if fn is not None else 3) * size
        if fn is not None and id(fn) not in seen_f:
            seen_f.add(id(fn))
            ops += 1
            forward += size
            in_op = set()
            for x in view.edges(fn)[0]:
                sx = view.numel(x)
                elements += sx + max(size, sx)
                if id(x) in used:
                    elements += sx                  # a running gradient that this use adds to
                if id(x) in in_op:
                    elements += sx                  # the sum on the edge this op uses twice
                used.add(id(x))
                in_op.add(id(x))
                if id(x) not in seen_t:
                    stack.append(x)
        if (max_ops is not None and ops > max_ops) or (max_elements is not None and elements > max_elements):
            return GraphSize(ops, tensors, elements, forward, largest, complete=False)
    return GraphSize(ops, tensors, elements, forward, largest, complete=True)


# ---- graphs that reference counting can free ----------------------------------------------------------
def _cached_views(cls) -> list[str]:
    return [n for n in dir(cls) if isinstance(inspect.getattr_static(cls, n, None), functools.cached_property)]


class PlainDiGraph(nx.DiGraph):
    """An nx.DiGraph that builds its views (nodes, edges, succ, ...) on each access instead of caching
    them on the instance: a cached view refers back to its graph, so a plain DiGraph is a reference
    cycle that only the garbage collector frees, with every array its attributes hold. Copies
    (`.copy()`) are PlainDiGraphs too."""


for _name in _cached_views(nx.DiGraph):
    setattr(PlainDiGraph, _name, property(inspect.getattr_static(nx.DiGraph, _name).func))
del _name


def dispose(g) -> None:
    """Break a networkx graph's reference cycles (its cached views) and drop its engine nodes, so that
    it is freed as soon as the last reference to it goes. The graph stays usable."""
    if g is None:
        return
    g.graph.pop("fns", None)
    for name in _cached_views(type(g)):
        g.__dict__.pop(name, None)


def detached(g) -> PlainDiGraph:
    """A copy of the traced graph `g` without its engine nodes (`g.graph['fns']`) and without reference
    cycles; `g` itself is disposed. Attribute values (the numpy arrays) are shared, not copied."""
    h = PlainDiGraph()
    h.graph.update((k, v) for k, v in g.graph.items() if k != "fns")
    h.add_nodes_from(g.nodes(data=True))
    h.add_edges_from(g.edges(data=True))
    dispose(g)
    return h


# ---- the steps ---------------------------------------------------------------------------------------
def name_nodes(g, root_name: str | None = "L"):
    """One name per node, used everywhere on a page: the unnamed intermediate tensors (labelled by
    their node id, which skips numbers) become t1, t2, ... in the order they are computed, and an
    unnamed root becomes `root_name` (f for an expression, L for a loss). Names the graph already
    uses (a variable called t1) are skipped. Changes g's labels in place and returns g."""
    unnamed = lambda n: g.nodes[n]["label"] == n  # noqa: E731  (trace labels an unnamed tensor by its id)
    ops = sorted(op_nodes(g), key=lambda n: int(n[2:]))
    roots = set(g.graph.get("roots", ()))
    taken = {d["label"] for n, d in g.nodes(data=True) if not (d["kind"] == "tensor" and unnamed(n))}
    for r in roots:
        if unnamed(r) and root_name and root_name not in taken:
            g.nodes[r]["label"] = root_name
            taken.add(root_name)
    k = 0
    for op in ops:
        o = g.nodes[op].get("output")
        if o is None or o in roots or not unnamed(o):
            continue
        k += 1
        while f"t{k}" in taken:
            k += 1
        g.nodes[o]["label"] = f"t{k}"
    return g


def simplify_rules(g):
    """Each op's local-derivative rules written as a teacher writes them (simplify_rule: 2x, not 2x¹),
    for every reader of the graph (the hover, the inspector, the steps). In place; returns g."""
    for n, d in g.nodes(data=True):
        if d["kind"] == "op" and d.get("latex"):
            d["latex"] = tuple(simplify_rule(r) for r in d["latex"])
    return g


def traced(root: Tensor, gradient=None, params: dict | None = None, root_name: str | None = "L"):
    """The graph behind `root` after backward (run first, retaining the graph, if it has not run), with
    its engine nodes in `g.graph['fns']` (what `walk_graph` needs for the local derivatives), its
    nodes named by name_nodes (the root `root_name`)."""
    if not isinstance(root, Tensor):
        raise TypeError("steps() expects a vizgrad Tensor")
    if root.grad_fn is None:
        raise ValueError("this tensor was not computed from tensors that require grad: there is no graph to walk")
    if view.edges(root.grad_fn)[1] is None:
        root.backward(gradient, retain_graph=True)
    return simplify_rules(name_nodes(trace(root, params=params), root_name))


def steps(root: Tensor, gradient=None, params: dict | None = None, root_name: str | None = "L") -> list[Step]:
    """The forward and backward steps of the graph behind `root` (see module docstring).

    params: optional {name: tensor} (e.g. dict(model.named_parameters())) to label parameters.
    root_name: the root's name when it has none (L; the Walkthrough names an expression's f).
    """
    g = traced(root, gradient, params, root_name)
    try:
        return walk_graph(g)
    finally:
        dispose(g)


def walk_graph(g) -> list[Step]:
    """The steps of a graph from `traced` (it must still hold its engine nodes)."""
    fns = g.graph.get("fns", {})
    ops = sorted(op_nodes(g), key=lambda n: int(n[2:]))  # op ids follow a topological order
    position = {op: k for k, op in enumerate(ops)}
    labels = {n: d["label"] for n, d in g.nodes(data=True)}
    out: list[Step] = []

    # ---- forward: each op computes its output from its inputs -------------------------------
    done_at = {n: 0 for n, d in g.nodes(data=True) if d["kind"] == "tensor" and d["is_leaf"]}
    for op in ops:
        d = g.nodes[op]
        o = d["output"]
        args = [labels[i] for i in d["inputs"]]
        value = g.nodes[o]["value"]
        k = len(out)
        done_at.setdefault(op, k)
        done_at.setdefault(o, k)
        shown = tex_array(value)
        eq = (rf"{tex_name(labels[o])} = {_tex_expr(d['symbol'], args, fns.get(op))} = {shown}" if shown is not None
              else rf"{tex_name(labels[o])} = {_tex_expr(d['symbol'], args, fns.get(op))} \in {tex_shape(np.shape(value))}")
        out.append(Step(
            index=k, phase="forward", node=op, op=d["op"], symbol=d["symbol"],
            custom=bool(getattr(fns.get(op), "custom", False)), output=o, output_label=labels[o],
            title=f"{labels[o]} = {_expr(d['symbol'], args)} = {_num(value)}",
            equation=eq, lines=[eq],
            value=value, highlight_nodes={op, o, *d["inputs"]},
            highlight_edges={(i, op) for i in d["inputs"]} | {(op, o)}, done_at=done_at))

    # ---- backward: reverse topological order, seeded with dL/dL = 1 --------------------------
    # running[t]: t's gradient so far. Never changed in place: an accumulation makes a new array,
    # so each step can refer to the array it saw instead of keeping a copy.
    running: dict[str, np.ndarray] = {}
    root_id = g.graph["roots"][0]
    seed = g.nodes[root_id]["grad"]
    running[root_id] = np.ones_like(g.nodes[root_id]["value"]) if seed is None else np.asarray(seed)
    R = differentiated(g)
    final_at = {root_id: len(out)}
    for order, op in enumerate(reversed(ops), start=1):
        d = g.nodes[op]
        o = d["output"]
        upstream = running.get(o)
        fn = fns.get(op)
        in_values = [g.nodes[i]["value"] for i in d["inputs"]]
        local = _local_numeric(fn, None, in_values, g.nodes[o]["value"])
        raw = list(d["latex"]) + [""] * (len(d["inputs"]) - len(d["latex"]))
        latex = [substitute_operands(r, [labels[i] for i in d["inputs"]]) for r in raw]
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
            previous = running.get(i)
            if c is not None:
                running[i] = running[i] + c if had else np.asarray(c)
            kind, factors = ("vjp", ())
            if c is not None:
                kind, factors = _factors(d["op"], fn, pos, upstream, lv, c, in_values, tin["shape"], d["symbol"])
            contribs.append(Contribution(
                tensor=i, label=labels[i], index=pos, local_latex=latex[pos], local=lv, contribution=c,
                reduced_from=reduced_from, running_grad=running.get(i),
                accumulates=had and c is not None, requires_grad=tin["requires_grad"],
                kind=kind, factors=factors, previous=previous if had else None, shape=tuple(tin["shape"])))
            if c is None:
                continue
            t, x = tex_name(labels[o]), tex_name(labels[i])
            dR = lambda v: rf"\frac{{\partial {R}}}{{\partial {v}}}"  # noqa: E731
            head = rf"{dR(x)} \mathrel{{{'+' if had else ''}=}} {dR(t)}\cdot\frac{{\partial {t}}}{{\partial {x}}}"
            eq_lines.append(head + _rhs(kind, factors, c, latex[pos], raw[pos], in_values, dR(t), tin["shape"],
                                        custom=bool(getattr(fn, "custom", False))))
            if had:  # the += made visible: what the input had, plus this edge's contribution
                before, now, add = tex_array(previous), tex_array(running[i]), tex_array(c)
                if before is not None and now is not None:
                    eq_lines.append(rf"{dR(x)} = {before} + {add} = {now}"
                                    r"\quad\text{(accumulated: }\mathrel{+}=\text{)}")
                else:
                    eq_lines.append(rf"{dR(x)} = \text{{(its gradient so far)}} + \text{{(this contribution)}}"
                                    rf"\;\in {tex_shape(tin['shape'])}")
        # an input's gradient is final once every op that consumes it has run
        k = len(out)
        for i in d["inputs"]:
            if all(position[c] >= position[op] for c in g.successors(i)):
                final_at.setdefault(i, k)
        final_at.setdefault(op, k)
        for i in dict.fromkeys(d["inputs"]):     # a leaf's gradient just became final: the chain rule whole
            tin = g.nodes[i]
            if final_at.get(i) == k and tin["is_leaf"] and tin["requires_grad"] and i in running:
                composed = chain_rule(g, i)
                if composed is not None:
                    x = tex_name(labels[i])
                    eq_lines.append(rf"\frac{{\partial {R}}}{{\partial {x}}} = {composed[0]} = {composed[1]}"
                                    rf" = {tex_array(running[i])}\quad\text{{(every path from {x} to {R}, summed)}}")
        parts = [f"{c.label} gets {_num(c.contribution)}" + (" (accumulated)" if c.accumulates else "")
                 for c in contribs if c.contribution is not None]
        lines = eq_lines or [r"\text{no input requires grad}"]
        out.append(Step(
            index=k, phase="backward", node=op, op=d["op"], symbol=d["symbol"],
            custom=bool(getattr(fn, "custom", False)), output=o, output_label=labels[o],
            title=f"{d['op']}: upstream ∂{plain_name(g)}/∂{labels[o]} = {_num(upstream)}; " + ", ".join(parts),
            equation="\n".join(lines), lines=lines, order=order,
            value=g.nodes[o]["value"], upstream=upstream, inputs=contribs,
            highlight_nodes={op, o, *d["inputs"]}, highlight_edges={(i, op) for i in d["inputs"]} | {(op, o)},
            done_at=final_at))
    return out


def differentiated(g) -> str:
    """What the backward pass differentiates, in LaTeX: the root's name when it is a scalar; for a
    non-scalar root seeded with ones, its sum (Σf, what backward of f.sum() computes); else the
    seed's inner product with it (v·f, the `gradient=` argument)."""
    root = g.graph["roots"][0]
    d = g.nodes[root]
    name = tex_name(d["label"])
    if np.size(d["value"]) == 1:
        return name
    seed = d.get("grad")
    if seed is None or np.all(np.asarray(seed) == 1):
        return rf"\left(\textstyle\sum {name}\right)"
    return rf"\left(v\cdot {name}\right)"


def plain_name(g) -> str:
    """differentiated(g) as plain text: f, (Σf) or (v·f)."""
    root = g.graph["roots"][0]
    d = g.nodes[root]
    if np.size(d["value"]) == 1:
        return d["label"]
    seed = d.get("grad")
    return f"(Σ{d['label']})" if seed is None or np.all(np.asarray(seed) == 1) else f"(v·{d['label']})"


_TRANSPOSES = {"PermuteBackward0", "TransposeBackward0", "TBackward0"}
_RESHAPES = {"ViewBackward0", "ReshapeAliasBackward0", "UnsqueezeBackward0", "SqueezeBackward0",
             "SqueezeBackward1", "UnsafeViewBackward0"}
_BROADCASTS = {"SumBackward0": False, "MeanBackward0": True, "ExpandBackward0": False}   # op: divides by n


def _matmul_factors(pos: int, g, a, b) -> tuple[str, tuple]:
    """out = a @ b: ∂L/∂a = g bᵀ and ∂L/∂b = aᵀ g, with a vector operand written as a row (a @ B)
    or a column (A @ b), so that the factors' product has the operand's own shape."""
    if a.ndim == 2 and b.ndim == 2:
        return "matmul", ((g, b.T) if pos == 0 else (a.T, g))
    if a.ndim == 1 and b.ndim == 2:                   # (n,) @ (n, m) -> (m,)
        return "matmul", ((g, b.T) if pos == 0 else (a[:, None], g[None, :]))
    if a.ndim == 2 and b.ndim == 1:                   # (k, n) @ (n,) -> (k,)
        return "matmul", ((g[:, None], b[None, :]) if pos == 0 else (a.T, g))
    return "elementwise", ((g, b) if pos == 0 else (g, a))   # a dot product: g times the other vector


def _factors(op: str, fn, pos: int, upstream, lv, c, in_values, shape, symbol: str = "") -> tuple[str, tuple]:
    """How this contribution is upstream times the local derivative, as factors that multiply out to
    it (Contribution.kind); ("vjp", ()) when the op's backward is not one of these products."""
    u = np.asarray(upstream)
    cand = ("vjp", ())
    if lv is not None:
        cand = ("elementwise", (u, np.asarray(lv)))
    elif symbol == "@" and len(in_values) == 2 and all(1 <= np.ndim(v) <= 2 for v in in_values):
        cand = _matmul_factors(pos, u, *(np.asarray(v) for v in in_values))
    elif op == "AddmmBackward0" and len(in_values) == 3 and u.ndim == 2:   # bias + x @ w (nn.Linear)
        bias, x, wt = (np.asarray(v) for v in in_values)
        cand = (("elementwise", (u, np.ones_like(u))) if pos == 0 else
                _matmul_factors(pos - 1, u, x, wt) if x.ndim == 2 and wt.ndim == 2 else ("vjp", ()))
    elif op == "MseLossBackward0" and len(in_values) == 2 and u.size == 1:   # mean((x - y)²): 2/n (x - y)
        x, y = (np.asarray(v, dtype=np.float64) for v in in_values)
        norm = 2.0 / max(1, x.size) if getattr(fn, "reduction", "mean") == "mean" else 2.0
        cand = ("elementwise", (u, norm * (x - y) * (1 if pos == 0 else -1)))
    elif op in _TRANSPOSES and u.ndim == 2:
        cand = ("transpose", (u,))
    elif op in _RESHAPES and u.size == int(np.prod(shape)):
        cand = ("reshape", (u,))
    elif op in _BROADCASTS:
        out_shape = u.shape
        big = tuple(shape) if op != "ExpandBackward0" else out_shape
        n = max(1, int(np.prod(shape)) // max(1, u.size))
        try:
            np.broadcast_shapes(out_shape, big)
            loc = np.full(big, 1.0 / n if _BROADCASTS[op] else 1.0, dtype=np.result_type(u))
            cand = ("elementwise", (u, loc))
        except ValueError:
            pass
    if cand[0] != "vjp":
        got = combine(cand[0], cand[1], tuple(shape))
        want = np.asarray(c, dtype=np.float64)
        if got is None or got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-6, equal_nan=True):
            return ("vjp", ())
    return cand


def _paren(t: str | None) -> str | None:
    """A negative number as a factor: (-0.25), so that 1 · (-0.25) does not read as a subtraction."""
    return f"({t})" if t is not None and t.startswith("-") else t


def _rhs(kind, factors, c, rule, raw_rule, in_values, upstream_tex, shape, custom=False) -> str:
    """The right-hand side of one chain-rule line: the rule in symbols, then the numbers written out
    (tensors of up to SMALL elements) that multiply out to the contribution; for bigger tensors the
    rule in matrix form with the shapes, never a bare norm."""
    cn = tex_array(c)
    into = f" = {cn}" if cn is not None else rf" \;\in {tex_shape(np.shape(c))}"
    if kind == "elementwise":
        u, loc = factors
        symbolic = rule if rule and not re.search(r"(?<![\\A-Za-z])g(?![A-Za-z])", rule) else None
        un, ln = _paren(tex_array(u)), _paren(tex_array(loc))
        scalar = u.size == 1 and loc.size == 1
        dot = r"\cdot" if scalar or u.size == 1 or loc.size == 1 else r"\odot"
        s = rf" = {upstream_tex} {dot} \left({symbolic}\right)" if symbolic else ""
        reduce = np.shape(loc) != tuple(shape) or np.broadcast_shapes(u.shape, loc.shape) != tuple(shape)
        if un is not None and ln is not None:
            if scalar and symbolic:
                at = substitute_values(raw_rule, in_values)
                if at is not None and at.strip("{} ") != ln:
                    s += rf" = {un} \cdot \left({at}\right)"
            prod = rf"{un} {dot} {ln}"
            if reduce:
                return s + rf" = \Sigma_{{\to {tex_shape(shape)}}}\left({prod}\right){into}"
            return s + rf" = {prod}{into}"
        s = s or rf" = {upstream_tex} \odot \frac{{\partial}}{{\partial}}"
        red = rf",\ \text{{summed back to }} {tex_shape(shape)}" if reduce else ""
        return s + rf"\quad\left(\text{{elementwise, }} {tex_shape(np.broadcast_shapes(u.shape, loc.shape))}{red}\right)"
    if kind == "matmul":
        a, b = factors
        sym = re.sub(r"(?<![\\A-Za-z{])g(?![A-Za-z}])", lambda m: upstream_tex, rule) if rule else ""
        s = rf" = {sym}" if sym else ""
        an, bn = tex_array(a), tex_array(b)
        if an is not None and bn is not None and cn is not None:
            return s + rf" = {an} {bn}{into}"
        return s + rf"\quad\left({tex_shape(a.shape)} \cdot {tex_shape(b.shape)} \to {tex_shape(np.shape(c))}\right)"
    if kind == "transpose":
        un = tex_array(factors[0])
        s = rf" = \left({upstream_tex}\right)^{{\top}}"
        return s + (rf" = {un}^{{\top}}{into}" if un is not None and cn is not None else into)
    if kind == "reshape":
        un = tex_array(factors[0])
        s = rf" = \operatorname{{reshape}}\left({upstream_tex}\right)"
        return s + (rf" = \operatorname{{reshape}}\left({un}\right){into}" if un is not None and cn is not None
                    else into)
    what = r"\text{custom backward}" if custom else rf"J^{{\top}} {upstream_tex}"
    return rf" = {what}{into}"


# ---- the chain rule composed, as a teacher writes it ----------------------------------------------
MAX_PATHS = 8       # a derivative that is a sum over more paths is not written out


def _factor(rule: str) -> str:
    """A rule as a factor of a product: parenthesised when it is a sum or starts with a sign."""
    r = rule.strip()
    bare = re.sub(r"\{[^{}]*\}|\\left\(.*?\\right\)|\([^()]*\)", "", r)
    return rf"\left({r}\right)" if re.search(r"[+\-]", bare) else r


def _product(rules: list[str]) -> str:
    """Factors multiplied, a teacher's way: 1s dropped, a -1 turned into a sign."""
    sign, keep = 1, []
    for r in rules:
        r = r.strip()
        if r in ("1", "{1}"):
            continue
        if r in ("-1", "{-1}"):
            sign = -sign
            continue
        if r.startswith("-") and not re.search(r"[+\-]", re.sub(r"\{[^{}]*\}", "", r[1:])):
            sign, r = -sign, r[1:].strip()        # -a/b² : the sign goes in front of the product
        keep.append(_factor(r))
    body = r" \cdot ".join(keep) if keep else "1"
    return ("-" if sign < 0 else "") + body


def chain_rule(g, leaf: str) -> tuple[str, str] | None:
    """∂root/∂leaf composed from the ops' local derivatives by the chain rule: the product of the
    local derivatives along each path from the leaf to the root, summed over the paths (a node
    that fans out adds a path). -> (the rule in symbols, the same with the numbers in), e.g.
    ('2\\,{x}', '2\\cdot {2}') for f = x**2 + y**3 at x = 2; None when it cannot be written
    simply: a tensor that is not a scalar, a local derivative that needs the upstream gradient
    (a matrix product), a custom backward, or more than MAX_PATHS paths."""
    root = g.graph["roots"][0]
    labels = {n: d["label"] for n, d in g.nodes(data=True)}
    if any(d["kind"] == "tensor" and np.size(d["value"]) != 1 for _, d in g.nodes(data=True)):
        return None
    paths = []                       # each: [(op, operand position), ...] from the leaf up to the root

    def walk(t, path):
        if len(paths) > MAX_PATHS:
            return
        if t == root:
            paths.append(list(path))
            return
        for op in g.successors(t):
            d = g.nodes[op]
            if d["kind"] != "op":
                continue
            for pos, i in enumerate(d["inputs"]):
                if i == t:
                    walk(d["output"], path + [(op, pos)])

    walk(leaf, [])
    if not paths or len(paths) > MAX_PATHS:
        return None
    sym, num = [], []
    for path in paths:
        rs, ns = [], []
        for op, pos in path:
            d = g.nodes[op]
            raw = d["latex"][pos] if pos < len(d["latex"]) else ""
            vals = [g.nodes[i]["value"] for i in d["inputs"]]
            at = substitute_values(raw, vals) if raw else None
            if not raw or at is None or "custom" in raw:
                return None
            rs.append(substitute_operands(raw, [labels[i] for i in d["inputs"]]))
            ns.append(at)
        sym.append(_product(rs))
        num.append(_product(ns))
    join = lambda parts: " + ".join(parts).replace("+ -", "- ")  # noqa: E731
    return join(sym), join(num)


def final_grads(step_list: list[Step]) -> dict[str, np.ndarray]:
    """The gradient each input tensor has accumulated by the end of the walkthrough."""
    acc: dict[str, np.ndarray] = {}
    for s in step_list:
        for c in s.inputs:
            if c.running_grad is not None:
                acc[c.label] = c.running_grad
    return acc
