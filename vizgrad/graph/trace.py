"""trace: the recorded autograd graph behind some tensors as a networkx DiGraph.

    import vizgrad, vizgrad.graph as vg
    x = vizgrad.tensor(2., requires_grad=True, name="x")
    y = vizgrad.tensor(3., requires_grad=True, name="y")
    z = x**2 + y**3
    z.backward()
    g = vg.trace(z)            # nx.DiGraph: tensor -> op -> tensor
    g.nodes["op0"]             # {'kind': 'op', 'op': 'PowBackward0', 'symbol': '**2', 'latex': ('2\\,a^{1}',), ...}
    g.edges["t0", "op0"]       # {'kind': 'input', 'index': 0, 'grad': array(4.), ...}

Node ids are deterministic: tensors "t0", "t1", ... and ops "op0", "op1", ... numbered in a
topological order found by a depth-first walk from the roots that visits operands in order (so
the first operand of an op is numbered, and drawn, before the second).

Tensor nodes: kind='tensor', label, shape, dtype, value (numpy), grad (numpy or None),
requires_grad, is_leaf, param (an nn.Parameter), root, grad_source ('leaf' | 'retained' |
'edges' | 'seed' | None). A non-leaf tensor's grad is its retained .grad, or else the sum of
the contributions on its outgoing edges (what the engine summed into it), or for a scalar root
after backward the seed 1.
Op nodes: kind='op', label and symbol (e.g. '**2'), op (torch's name, e.g. 'PowBackward0'),
latex (tuple: d out / d input_i per input, LaTeX), inputs (tensor ids, operand order, repeats
kept), output, scope (module-call tags from vizgrad.nn, outermost first; () outside modules).
Edges: tensor -> op (kind='input'): index (first operand position), indices (every position,
`x * x` has (0, 1)), grads (the contribution per position, from the op's edge_grads) and grad
(their sum, None before backward). op -> tensor (kind='output'): grad = the output's grad.
The contributions on a tensor's outgoing edges sum to its .grad.

Module calls (vizgrad.nn) collapse into one node each (vizgrad.graph.collapse: `trace(loss,
collapse={"fc1"})` does it at once); export is in vizgrad.graph.export. The engine is read through
vizgrad.graph.view only.
"""
from __future__ import annotations

import gc

import networkx as nx
import numpy as np

from vizgrad.graph import view
from vizgrad.graph.collapse import regroup
from vizgrad.graph.format import format_number
from vizgrad.graph.view import add_grads

__all__ = ["trace", "tensor_nodes", "op_nodes"]


def _flatten_roots(roots) -> list:
    out = []
    for r in roots:
        if isinstance(r, (list, tuple)):
            out.extend(_flatten_roots(r))
        elif isinstance(r, dict):
            out.extend(_flatten_roots(list(r.values())))
        else:
            out.append(r)
    return out


def _letters():
    """a, b, ..., z, a1, b1, ..."""
    k = 0
    while True:
        for c in "abcdefghijklmnopqrstuvwxyz":
            yield c if k == 0 else f"{c}{k}"
        k += 1


def _np(a):
    return None if a is None else np.asarray(a)


def trace(*roots, collapse=None, params: dict | None = None, absorb_params: bool = True) -> nx.DiGraph:
    """The graph recorded behind `roots` (Tensors, or lists of them) as an nx.DiGraph.

    params: optional {name: tensor} (e.g. dict(model.named_parameters())) naming leaves.
    collapse: module qualified names to draw as one node each (a str, a set), or an int depth
        (collapse every module call at that scope depth; 0 is the outermost module).
    """
    roots = _flatten_roots(roots)
    if not roots:
        raise ValueError("trace() needs at least one tensor")
    # Tracing makes no reference cycles (as the engine's backward pass): pausing the cyclic collector
    # saves its repeated scans of the many young dicts the graph is made of. It resumes afterwards.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        g = _build(roots, params)
    finally:
        if gc_was_enabled:
            gc.enable()
    if collapse is not None:
        return regroup(g, collapse, absorb_params)
    return g


def _build(roots: list, params: dict | None) -> nx.DiGraph:
    pnames = {id(t): n for n, t in (params or {}).items()}

    # depth-first post-order from the roots, operands in order: a topological order
    order, seen = [], set()
    views = {}  # id(op node) -> (inputs, edge_grads), read once per node
    stack = [(t, False) for t in reversed(roots)]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        k = id(t)
        if k in seen:
            continue
        seen.add(k)
        stack.append((t, True))
        fn = t.grad_fn
        if fn is not None:
            vw = views.get(id(fn))
            if vw is None:
                vw = views[id(fn)] = view.edges(fn)
            for inp in reversed(vw[0]):
                if id(inp) not in seen:
                    stack.append((inp, False))

    # the graph is built in plain dicts (node id -> attributes; edges in insertion order, and per
    # node its outgoing and incoming edge attributes) and handed to networkx once at the end: the
    # same nodes, edges and orders, without a networkx view per lookup
    nodes = {}
    edges = []     # (u, v, attributes), in the order they are made
    succ = {}      # u -> {v: attributes}
    pred = {}      # v -> [attributes of the edges into v]
    maker = {}     # tensor id -> the op id that made it
    tid, fid = {}, {}
    fns = {}  # op id -> the engine node (for the walkthrough; not exported)
    copies = {}  # shared constant node id -> how many extra drawn copies
    used = {getattr(t, "name", None) for t in order} | set(pnames.values())
    letters = (c for c in _letters() if c not in used)
    root_ids = {id(r) for r in roots}
    any_backward = False
    n_ops = 0

    def edge(u, v, attrs):
        edges.append((u, v, attrs))
        succ.setdefault(u, {})[v] = attrs
        pred.setdefault(v, []).append(attrs)

    for i, t in enumerate(order):
        fn = t.grad_fn
        if fn is not None and id(fn) not in fid:
            oid = f"op{n_ops}"
            n_ops += 1
            fid[id(fn)] = oid
            fns[oid] = fn
            inputs, edge_grads = views[id(fn)]
            nodes[oid] = dict(kind="op", label=fn.label(), symbol=fn.label(), op=fn.name(),
                              latex=tuple(fn.local_latex()), inputs=[tid[id(x)] for x in inputs],
                              scope=tuple(getattr(fn, "scope", None) or ()), output=None)
            if edge_grads is not None:
                any_backward = True
        nid = f"t{i}"
        tid[id(t)] = nid
        value = view.value(t)  # a copy: later in-place updates (optimizer steps) don't change the picture
        requires_grad = bool(t.requires_grad)
        name = getattr(t, "name", None) or pnames.get(id(t))
        if name is None:
            if fn is not None:
                name = nid
            elif requires_grad or value.size > 1:
                name = next(letters)
            else:
                name = format_number(value.reshape(()).item()) if value.size == 1 else "const"
        grad = view.grad(t)
        src = None if grad is None else "leaf" if fn is None else "retained"
        nodes[nid] = dict(kind="tensor", label=str(name), shape=tuple(value.shape), dtype=str(t.dtype),
                          value=value, grad=grad, grad_source=src, requires_grad=requires_grad,
                          is_leaf=fn is None, param=type(t).__name__ == "Parameter", root=id(t) in root_ids)
        if fn is not None:
            oid = maker[nid] = fid[id(fn)]
            op = nodes[oid]
            if op["output"] is None:
                op["output"] = nid
            inputs, edge_grads = views[id(fn)]
            for pos, x in enumerate(inputs):
                eg = edge_grads[pos] if edge_grads is not None and pos < len(edge_grads) else None
                eg = _np(eg)
                u = tid[id(x)]
                out = succ.get(u)
                if getattr(x, "shared_constant", False) and out and oid not in out:
                    # a constant the engine shares between ops (x * 0.5 ...): one drawn node per use
                    copies[u] = copies.get(u, 0) + 1
                    v = f"{u}.{copies[u]}"
                    nodes[v] = dict(nodes[u])
                    u = v
                    out = None
                e = out.get(oid) if out else None
                if e is not None:
                    e["indices"] += (pos,)
                    e["grads"] += (eg,)
                    e["grad"] = add_grads(e["grad"], eg)
                else:
                    edge(u, oid, dict(kind="input", index=pos, indices=(pos,), grads=(eg,), grad=eg))
            edge(oid, nid, dict(kind="output", index=0, grad=None))

    # non-leaf grads: what the engine summed from the contributions (or the seed at a scalar root)
    for n in reversed(list(nodes)):
        d = nodes[n]
        if d["kind"] != "tensor":
            continue
        if d["grad"] is None and not d["is_leaf"]:
            total = None
            for e in succ.get(n, {}).values():
                total = add_grads(total, e["grad"])
            if total is not None:
                d["grad"], d["grad_source"] = np.asarray(total).reshape(d["shape"]), "edges"
            elif d["root"] and any_backward and d["value"].size == 1:
                opn = maker[n]
                if nodes[opn]["op"] and any(e["grad"] is not None for e in pred.get(opn, ())):
                    d["grad"], d["grad_source"] = np.ones_like(d["value"]), "seed"
        for e in pred.get(n, ()):
            e["grad"] = d["grad"]

    g = nx.DiGraph()
    g.add_nodes_from(nodes.items())
    g.add_edges_from(edges)
    g.graph.update(roots=[tid[id(r)] for r in roots], backward=any_backward, collapsed=(), full=None, fns=fns)
    return g


def tensor_nodes(g) -> list:
    return [n for n, k in g.nodes(data="kind") if k == "tensor"]


def op_nodes(g) -> list:
    return [n for n, k in g.nodes(data="kind") if k in ("op", "module")]


