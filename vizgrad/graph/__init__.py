"""The recorded autograd graph as a networkx graph: what vizgrad.plot draws and the app inspects.

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

Module calls (vizgrad.nn) can be collapsed into one node and expanded again:

    modules(g)                         # [{'name': 'fc1', 'cls': 'Linear', 'depth': 1, 'ops': 2}, ...]
    h = collapse(g, {"fc1"})           # or trace(loss, collapse={"fc1"}), or collapse(g, depth=1)
    h.nodes["m:fc1"]                   # kind='module', label 'fc1', symbol 'Linear', members [...]
    expand(h, {"fc1"})                 # back (expand(h) expands everything)

Parameters used only inside a collapsed module are folded into it (absorb_params=False keeps
them). Export: to_dot(g) (Graphviz), to_json(g) / from_json(s) (node-link JSON, round trip).
"""
from __future__ import annotations

import json
import math

import networkx as nx
import numpy as np

__all__ = ["trace", "modules", "collapse", "collapse_modules", "expand", "to_dot", "to_json", "from_json",
           "format_value", "format_number", "grad_norm", "tensor_nodes", "op_nodes"]


# ============================================================================================
# trace
# ============================================================================================
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


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return np.asarray(a + b)


def trace(*roots, collapse=None, params: dict | None = None, absorb_params: bool = True) -> nx.DiGraph:
    """The graph recorded behind `roots` (Tensors, or lists of them) as an nx.DiGraph.

    params: optional {name: tensor} (e.g. dict(model.named_parameters())) naming leaves.
    collapse: module qualified names to draw as one node each (a str, a set), or an int depth
        (collapse every module call at that scope depth; 0 is the outermost module).
    """
    roots = _flatten_roots(roots)
    if not roots:
        raise ValueError("trace() needs at least one tensor")
    pnames = {id(t): n for n, t in (params or {}).items()}

    # depth-first post-order from the roots, operands in order: a topological order
    order, seen = [], set()
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
            for inp in reversed(fn.view()[0]):
                if id(inp) not in seen:
                    stack.append((inp, False))

    g = nx.DiGraph()
    tid, fid = {}, {}
    fns = {}  # op id -> the engine node (for the walkthrough; not exported)
    copies = {}  # shared constant node id -> how many extra drawn copies
    used = {getattr(t, "name", None) for t in order} | set(pnames.values())
    letters = (c for c in _letters() if c not in used)
    root_ids = {id(r) for r in roots}
    any_backward = False
    n_ops = 0
    for i, t in enumerate(order):
        fn = t.grad_fn
        if fn is not None and id(fn) not in fid:
            oid = f"op{n_ops}"
            n_ops += 1
            fid[id(fn)] = oid
            fns[oid] = fn
            g.add_node(oid, kind="op", label=fn.label(), symbol=fn.label(), op=fn.name(),
                       latex=tuple(fn.local_latex()), inputs=[tid[id(x)] for x in fn.view()[0]],
                       scope=tuple(getattr(fn, "scope", None) or ()), output=None)
            if fn.edge_grads is not None:
                any_backward = True
        nid = f"t{i}"
        tid[id(t)] = nid
        data = t._data
        value = np.array(data)  # a copy: later in-place updates (optimizer steps) don't change the picture
        name = getattr(t, "name", None) or pnames.get(id(t))
        if name is None:
            if fn is not None:
                name = nid
            elif t._requires_grad or value.size > 1:
                name = next(letters)
            else:
                name = format_number(value.reshape(()).item()) if value.size == 1 else "const"
        grad, src = None, None
        if t._grad is not None:
            grad, src = np.array(t._grad._data), ("leaf" if fn is None else "retained")
        g.add_node(nid, kind="tensor", label=str(name), shape=tuple(value.shape), dtype=str(t.dtype),
                   value=value, grad=grad, grad_source=src, requires_grad=bool(t._requires_grad),
                   is_leaf=fn is None, param=type(t).__name__ == "Parameter", root=id(t) in root_ids)
        if fn is not None:
            oid = fid[id(fn)]
            if g.nodes[oid]["output"] is None:
                g.nodes[oid]["output"] = nid
            inputs, edge_grads = fn.view()
            for pos, x in enumerate(inputs):
                eg = edge_grads[pos] if edge_grads is not None and pos < len(edge_grads) else None
                eg = _np(eg)
                u = tid[id(x)]
                if getattr(x, "shared_constant", False) and g.out_degree(u) and not g.has_edge(u, oid):
                    # a constant the engine shares between ops (x * 0.5 ...): one drawn node per use
                    copies[u] = copies.get(u, 0) + 1
                    v = f"{u}.{copies[u]}"
                    g.add_node(v, **g.nodes[u])
                    u = v
                if g.has_edge(u, oid):
                    e = g.edges[u, oid]
                    e["indices"] += (pos,)
                    e["grads"] += (eg,)
                    e["grad"] = _add(e["grad"], eg)
                else:
                    g.add_edge(u, oid, kind="input", index=pos, indices=(pos,), grads=(eg,), grad=eg)
            g.add_edge(oid, nid, kind="output", index=0, grad=None)

    # non-leaf grads: what the engine summed from the contributions (or the seed at a scalar root)
    for n in reversed(list(g.nodes)):
        d = g.nodes[n]
        if d["kind"] != "tensor":
            continue
        if d["grad"] is None and not d["is_leaf"]:
            total = None
            for _, _, e in g.out_edges(n, data=True):
                total = _add(total, e["grad"])
            if total is not None:
                d["grad"], d["grad_source"] = np.asarray(total).reshape(d["shape"]), "edges"
            elif d["root"] and any_backward and d["value"].size == 1:
                opn = next(iter(g.predecessors(n)))
                if g.nodes[opn]["op"] and any(e is not None for e in _edge_grads(g, opn)):
                    d["grad"], d["grad_source"] = np.ones_like(d["value"]), "seed"
        for p in g.predecessors(n):
            g.edges[p, n]["grad"] = d["grad"]
    g.graph.update(roots=[tid[id(r)] for r in roots], backward=any_backward, collapsed=(), full=None, fns=fns)
    if collapse is not None:
        return _collapse(g, collapse, absorb_params)
    return g


def _edge_grads(g, op):
    return [e["grad"] for _, _, e in g.in_edges(op, data=True)]


def tensor_nodes(g) -> list:
    return [n for n, k in g.nodes(data="kind") if k == "tensor"]


def op_nodes(g) -> list:
    return [n for n, k in g.nodes(data="kind") if k in ("op", "module")]


# ============================================================================================
# module collapse / expand
# ============================================================================================
def _split(entry: str):
    q, _, cls = entry.rpartition(":")
    return q, cls


def modules(g) -> list[dict]:
    """The module calls recorded in g (from op.scope), in order of first appearance."""
    full = g.graph.get("full") or g
    out = {}
    for n, d in full.nodes(data=True):
        if d["kind"] != "op":
            continue
        for depth, entry in enumerate(d.get("scope") or ()):
            q, cls = _split(entry)
            m = out.setdefault(entry, {"name": q, "cls": cls, "entry": entry, "depth": depth, "ops": 0})
            m["ops"] += 1
    return list(out.values())


def _matches(entry: str, names) -> bool:
    """A scope entry "<qualified name>:<Class>" is named by its qualified name, by the entry itself,
    or (for an outermost module, whose qualified name is "") by its class name."""
    q, cls = _split(entry)
    return q in names or entry in names or (q == "" and cls in names)


def collapse(g, names=None, *, depth: int | None = None, absorb_params: bool = True) -> nx.DiGraph:
    """g with the named module calls (qualified names, e.g. {"fc1", "block.attn"}) or every call
    at scope `depth` drawn as one node each; modules already collapsed in g stay collapsed."""
    if names is None and depth is None:
        raise ValueError("collapse() needs module names or a depth")
    full = g.graph.get("full") or g
    want = set(g.graph.get("collapsed") or ())
    if names is not None:
        want |= {names} if isinstance(names, str) else set(names)
    if depth is not None:
        want |= {m["entry"] for m in modules(full) if m["depth"] == depth}
    return _collapse(full, want, absorb_params)


def collapse_modules(g, depth: int = 1, absorb_params: bool = True) -> nx.DiGraph:
    """Collapse every module call at scope depth `depth` (1: the children of the outermost module)."""
    return collapse(g, depth=depth, absorb_params=absorb_params)


def expand(g, names=None) -> nx.DiGraph:
    """Undo collapse for the named modules (all when names is None)."""
    full = g.graph.get("full")
    if full is None:
        return g
    if names is None:
        return full
    names = {names} if isinstance(names, str) else set(names)
    keep = {c for c in g.graph.get("collapsed") or () if not (c in names or (":" in c and _matches(c, names)))}
    return _collapse(full, keep, g.graph.get("absorb_params", True)) if keep else full


def _collapse(full, names, absorb_params=True) -> nx.DiGraph:
    if isinstance(names, int) and not isinstance(names, bool):
        names = {m["entry"] for m in modules(full) if m["depth"] == names}
    elif isinstance(names, str):
        names = {names}
    names = set(names)
    if not names:
        return full
    # which module (outermost requested one in its scope) each op belongs to
    owner = {}
    for n, d in full.nodes(data=True):
        if d["kind"] == "op":
            for i, entry in enumerate(d.get("scope") or ()):
                if _matches(entry, names):
                    q, cls = _split(entry)
                    owner[n] = (entry, cls, d["scope"][:i + 1])
                    break
    # split a module's ops into calls: ops linked through tensors made and used inside the call
    parent = {n: n for n in owner}

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    absorbed = {}  # tensor id -> op id whose group it joins
    for n, d in full.nodes(data=True):
        if d["kind"] != "tensor":
            continue
        preds = list(full.predecessors(n))
        succs = list(full.successors(n))
        if preds:
            p = preds[0]
            if p in owner and succs and not d["root"] and all(owner.get(s, (None,))[0] == owner[p][0] for s in succs):
                for s in succs:
                    parent[find(s)] = find(p)
                absorbed[n] = p
    if absorb_params:  # parameters used by one call only fold into it
        for n, d in full.nodes(data=True):
            if d["kind"] == "tensor" and d["param"] and d["is_leaf"]:
                succs = list(full.successors(n))
                if succs and all(s in owner for s in succs) and len({find(s) for s in succs}) == 1:
                    absorbed[n] = succs[0]
    groups, gid = {}, {}
    for n in full.nodes:
        if n in owner:
            r = find(n)
            if r not in groups:
                entry = owner[n][0]
                q, cls = _split(entry)
                k = sum(1 for v in groups.values() if v["entry"] == entry)
                base = f"m:{q}" if q else f"m:{cls}"
                groups[r] = {"module": q, "entry": entry, "cls": cls, "scope": owner[n][2],
                             "id": base + (f"#{k}" if k else ""), "members": []}
            gid[n] = groups[r]["id"]
    for t, op in absorbed.items():
        gid[t] = gid[find(op)]
    for n in full.nodes:
        if n in gid:
            groups[find(n) if n in owner else find(absorbed[n])]["members"].append(n)
    # a group member list also tells which op the absorbed tensors belong to

    h = nx.DiGraph()
    h.graph.update(full.graph)
    h.graph.update(full=full, collapsed=tuple(sorted(names)), absorb_params=absorb_params)
    by_id = {v["id"]: v for v in groups.values()}
    for n, d in full.nodes(data=True):
        m = gid.get(n)
        if m is None:
            h.add_node(n, **d)
        elif m not in h:
            grp = by_id[m]
            h.add_node(m, kind="module", label=grp["module"] or grp["cls"], symbol=grp["cls"], op=grp["cls"],
                       module=grp["module"], cls=grp["cls"], scope=tuple(grp["scope"]), latex=(),
                       members=list(grp["members"]),
                       params=[x for x in grp["members"] if full.nodes[x]["kind"] == "tensor" and full.nodes[x]["is_leaf"]],
                       inputs=[], output=None)
    for u, v, e in full.edges(data=True):
        U, V = gid.get(u, u), gid.get(v, v)
        if U == V:
            continue
        if U == u and V == v:
            h.add_edge(u, v, **e)
            continue
        if h.nodes[V]["kind"] == "module":  # tensor -> module
            mod = h.nodes[V]
            if h.has_edge(U, V):
                he = h.edges[U, V]
                he["grads"] = he["grads"] + tuple(e["grads"])
                he["grad"] = _add(he["grad"], e["grad"])
            else:
                mod["inputs"].append(U)
                h.add_edge(U, V, kind="input", index=len(mod["inputs"]) - 1, indices=(len(mod["inputs"]) - 1,),
                           grads=tuple(e["grads"]), grad=e["grad"])
        else:  # module -> tensor
            if h.nodes[U]["output"] is None:
                h.nodes[U]["output"] = V
            h.add_edge(U, V, kind="output", index=0, grad=full.nodes[V]["grad"])
    # keep node order topological (module nodes were inserted where their first member was)
    pos = {n: i for i, n in enumerate(h.nodes)}
    if any(pos[u] > pos[v] for u, v in h.edges):
        topo = list(nx.lexicographical_topological_sort(h, key=pos.get))
        h2 = nx.DiGraph()
        h2.graph.update(h.graph)
        h2.add_nodes_from((n, h.nodes[n]) for n in topo)
        h2.add_edges_from(sorted(h.edges(data=True), key=lambda e: (pos[e[1]], pos[e[0]])))
        h = h2
    return h


# ============================================================================================
# formatting (shared with vizgrad.plot and to_dot)
# ============================================================================================
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


# ============================================================================================
# export
# ============================================================================================
def _dot_escape(s: str) -> str:
    return str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(g, values: bool = True, grads: bool = True) -> str:
    """Graphviz DOT text (left to right): tensors as boxes (label, value, grad), ops as circles with
    their symbol, modules as 3-D boxes; edges labelled with the gradient flowing back along them."""
    lines = ["digraph vizgrad {", '  rankdir=LR; node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for n, d in g.nodes(data=True):
        k = d["kind"]
        if k == "tensor":
            parts = [d["label"]]
            if values:
                parts.append(format_value(d["value"], sep=" "))
            if grads and d["grad"] is not None:
                parts.append("grad " + format_value(d["grad"], sep=" "))
            attrs = f'shape=box, style="rounded", label="{_dot_escape(chr(10).join(parts))}"'
        elif k == "module":
            attrs = f'shape=box3d, label="{_dot_escape(d["label"] + chr(10) + d["symbol"])}"'
        else:
            attrs = f'shape=circle, label="{_dot_escape(d["symbol"])}", tooltip="{_dot_escape(d["op"])}"'
        lines.append(f'  "{_dot_escape(n)}" [{attrs}];')
    for u, v, e in g.edges(data=True):
        attrs = []
        if grads and e.get("grad") is not None:
            attrs.append(f'label="{_dot_escape(format_value(e["grad"], sep=" "))}"')
        lines.append(f'  "{_dot_escape(u)}" -> "{_dot_escape(v)}"' + (f' [{", ".join(attrs)}]' if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


_TUPLE_KEYS = {"shape", "latex", "scope", "indices", "grads", "collapsed"}
_ARRAY_KEYS = {"value", "grad"}


def _enc(v):
    if isinstance(v, np.ndarray) or isinstance(v, np.generic):
        a = np.asarray(v)
        return {"__ndarray__": a.tolist(), "dtype": str(a.dtype), "shape": list(a.shape)}
    if isinstance(v, (list, tuple)):
        return [_enc(x) for x in v]
    if isinstance(v, dict):
        return {k: _enc(x) for k, x in v.items()}
    if isinstance(v, (np.bool_,)):
        return bool(v)
    return v


def _dec(v):
    if isinstance(v, dict):
        if "__ndarray__" in v:
            return np.array(v["__ndarray__"], dtype=v["dtype"]).reshape(v["shape"])
        return {k: _dec(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_dec(x) for x in v]
    return v


def _attrs_dec(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        v = _dec(v)
        if k in _TUPLE_KEYS and isinstance(v, list):
            v = tuple(tuple(x) if k == "shape" and isinstance(x, list) else x for x in v)
        out[k] = v
    return out


def _node_link(g) -> dict:
    graph = {k: v for k, v in g.graph.items() if k not in ("full", "fns")}
    data = {"directed": True, "multigraph": False, "graph": _enc(graph),
            "nodes": [{"id": n, **_enc(d)} for n, d in g.nodes(data=True)],
            "links": [{"source": u, "target": v, **_enc(e)} for u, v, e in g.edges(data=True)]}
    if g.graph.get("full") is not None:
        data["full"] = _node_link(g.graph["full"])
    return data


def to_json(g, indent: int | None = None) -> str:
    """Node-link JSON (networkx's layout: directed, graph, nodes, links); numpy arrays are stored
    as {"__ndarray__": nested list, "dtype", "shape"}. A collapsed graph carries its full graph."""
    return json.dumps(_node_link(g), indent=indent, ensure_ascii=False)


def _from_node_link(data: dict) -> nx.DiGraph:
    g = nx.DiGraph()
    g.graph.update(_attrs_dec(data.get("graph", {})))
    for nd in data["nodes"]:
        nd = dict(nd)
        n = nd.pop("id")
        g.add_node(n, **_attrs_dec(nd))
    for ed in data["links"]:
        ed = dict(ed)
        u, v = ed.pop("source"), ed.pop("target")
        g.add_edge(u, v, **_attrs_dec(ed))
    g.graph["full"] = _from_node_link(data["full"]) if data.get("full") else None
    return g


def from_json(s) -> nx.DiGraph:
    """The graph back from to_json output (a str, bytes or already-parsed dict)."""
    data = json.loads(s) if isinstance(s, (str, bytes)) else s
    return _from_node_link(data)
