"""Module calls of a traced graph drawn as one node each, and expanded again.

    from vizgrad.graph import collapse, expand, modules
    modules(g)                         # [{'name': 'fc1', 'cls': 'Linear', 'depth': 1, 'ops': 2}, ...]
    h = collapse(g, {"fc1"})           # or trace(loss, collapse={"fc1"}), or collapse(g, depth=1)
    h.nodes["m:fc1"]                   # kind='module', label 'fc1', symbol 'Linear', members [...]
    expand(h, {"fc1"})                 # back (expand(h) expands everything)

An op's `scope` (the vizgrad.nn module calls running when it was recorded, outermost first, each
"<qualified name>:<Class>") says which modules it belongs to. A collapsed graph keeps the full one
in g.graph["full"], so collapsing more or expanding starts from it. Parameters used only inside a
collapsed module are folded into it (absorb_params=False keeps them).
"""
from __future__ import annotations

import networkx as nx

from vizgrad.graph.view import add_grads

__all__ = ["modules", "collapse", "collapse_modules", "expand", "regroup"]


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
    return regroup(full, want, absorb_params)


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
    return regroup(full, keep, g.graph.get("absorb_params", True)) if keep else full


def regroup(full, names, absorb_params=True) -> nx.DiGraph:
    """The full graph `full` with the module calls `names` (scope entries or qualified names, or an int
    depth) each drawn as one node; what collapse, expand and trace(collapse=...) build."""
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
                he["grad"] = add_grads(he["grad"], e["grad"])
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


