"""Level of detail: a big traced graph drawn as labelled group boxes, opened one level at a time.

    from vizgrad.graph.lod import default_view, expand_group, collapse_group
    v = default_view(g)                # at most about THRESHOLD visible nodes (g itself when it fits)
    groups(v)                          # {group id: Group}: the hierarchy, outermost first
    v2 = expand_group(v, "m:0")        # that box opened: its children visible, still collapsed below
    collapse_group(v2, "m:0")          # back (its inner groups close again)
    default_view(v2)                   # "collapse all": the default view of the same full graph

The groups, outermost first:
- nn module calls (vizgrad.graph.collapse: the outermost module, then its children, ...);
- repeated sub-expressions outside modules: structurally identical subgraphs (same ops in the
  same order over leaves of the same shape, e.g. the per-sample chains of a scalar MLP) as one
  box "repeat ×N", which opens into its first copy and the others in two boxes "×k" (opening
  the same way), each copy one box of its ops;
- chains of one op (the running sum `loss = loss + sample` of a scalar MLP) as one box.
A view is the full graph with every group that is not open drawn as one node (kind='module', so
vizgrad.plot draws it as a labelled box; attributes `group`, `label`, `symbol`, `members`). Which
groups are open is v.graph["open"] (a sorted tuple); the default opens module calls outermost
first while the view stays within the threshold. Pure functions: a new graph each time, the full
one in v.graph["full"]; the hierarchy is remembered per full graph object (not in its attributes,
so to_json works on views as on any graph).
"""
from __future__ import annotations

import weakref
from collections import deque
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from vizgrad.graph.collapse import modules, regroup

__all__ = ["THRESHOLD", "MATRIX_THRESHOLD", "auto_threshold", "Group", "groups", "default_view", "view_of", "expand_group", "collapse_group",
           "expand_all", "visible_groups"]

THRESHOLD = 60      # visible nodes a default view keeps to (about: fewer boxes cannot always be had)
MATRIX_THRESHOLD = 16  # the same for graphs of vectors and matrices: their boxes are larger
MIN_REPEAT_OPS = 3  # a repeated sub-expression has at least this many ops
MIN_CHAIN = 4       # a chain of one op is grouped from this length on
_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # full graph -> (groups, innermost group per node)


@dataclass
class Group:
    id: str
    label: str                  # the box's first line, e.g. "0" or "repeat ×40"
    symbol: str                 # its second line, e.g. "Linear" or "25 ops each"
    kind: str                   # "module" | "repeat" | "copy" | "chain"
    parent: str | None = None
    children: list = field(default_factory=list)   # inner group ids, in order
    direct: list = field(default_factory=list)     # full-graph nodes in this group and in no inner one
    members: list = field(default_factory=list)    # every full-graph node inside


def _full(g):
    return g.graph.get("full") or g


def groups(g) -> dict:
    """The group hierarchy of g's full graph: {id: Group}, parents before children (remembered
    for that graph object while it lives)."""
    return _hierarchy(g)[0]


def _hierarchy(g):
    full = _full(g)
    cached = _CACHE.get(full)
    if cached is not None:
        return cached
    home: dict = {}   # full node -> innermost group
    out: dict = {}
    _module_groups(full, out, home)
    _repeat_groups(full, out, home)
    _chain_groups(full, out, home)
    for n in full.nodes:
        gid = home.get(n)
        if gid is not None:
            out[gid].direct.append(n)
            while gid is not None:
                out[gid].members.append(n)
                gid = out[gid].parent
    _CACHE[full] = out, home
    return out, home


def _module_groups(full, out, home):
    """Module calls, one regroup per scope depth: a call at depth d+1 nests in the call at depth d
    holding its first op."""
    depths = sorted({m["depth"] for m in modules(full)})
    for d in depths:
        h = regroup(full, d)
        for n, a in h.nodes(data=True):
            if a["kind"] != "module":
                continue
            members = a["members"]
            parent = None
            if d != depths[0]:
                first = next((m for m in members if full.nodes[m]["kind"] == "op"), members[0])
                parent = home.get(first)
            gid = n if n not in out else f"{n}@{d}"
            out[gid] = Group(gid, a["label"], a["symbol"], "module", parent)
            if parent is not None:
                out[parent].children.append(gid)
            for m in members:
                home[m] = gid


def _signatures(full):
    """A structural signature (a small int) and height per node, in the full graph's
    topological node order: a leaf by its shape and kind, an op by its symbol and its inputs'."""
    intern, sig, height = {}, {}, {}
    for n, d in full.nodes(data=True):
        if d["kind"] == "tensor":
            preds = list(full.predecessors(n))
            if preds:
                sig[n], height[n] = sig[preds[0]], height[preds[0]]
                continue
            key = ("leaf", d["shape"], d["param"], d["requires_grad"])
        else:
            ins = d.get("inputs") or []
            key = (d.get("symbol"), tuple(sig[u] for u in ins if u in sig))
            height[n] = 1 + max((height[u] for u in ins if u in height), default=0)
        sig[n] = intern.setdefault(key, len(intern))
        height.setdefault(n, 0)
    return sig, height


def _cone(full, root, free, pos):
    """The nodes of root's sub-expression (among the `free` ones) that nothing outside it uses:
    root, its output, and going back in topological order every node all of whose users are in."""
    out = full.nodes[root]["output"]
    inside = {root} | ({out} if out is not None else set())
    anc = [a for a in nx.ancestors(full, root) if a in free]
    for a in sorted(anc, key=pos.__getitem__, reverse=True):
        if all(s in inside for s in full.successors(a)):
            inside.add(a)
    return inside


def _repeat_groups(full, out, home):
    free = {n for n in full.nodes if n not in home}
    pos = {n: i for i, n in enumerate(full.nodes)}
    sig, height = _signatures(full)
    by_sig: dict = {}
    for n in full.nodes:
        if n in free and full.nodes[n]["kind"] == "op":
            by_sig.setdefault(sig[n], []).append(n)
    order = sorted((s for s, ns in by_sig.items() if len(ns) > 1), key=lambda s: -height[by_sig[s][0]])
    k = 0
    for s in order:
        roots = [r for r in by_sig[s] if r in free]
        if len(roots) < 2 or height[roots[0]] < MIN_REPEAT_OPS:
            continue
        cones = []
        for r in roots:
            c = _cone(full, r, free, pos)
            if sum(1 for x in c if full.nodes[x]["kind"] == "op") >= MIN_REPEAT_OPS:
                cones.append(c)
                free -= c
        if len(cones) < 2:
            for c in cones:
                free |= c
            continue
        n_ops = sum(1 for x in cones[0] if full.nodes[x]["kind"] == "op")
        rid = f"g:repeat{k}"
        k += 1
        merged = _acyclic_merge(full, cones)
        if merged:
            out[rid] = Group(rid, f"repeat ×{len(cones)}", f"{n_ops} ops each", "repeat")
        for i, c in enumerate(cones):
            cid = f"{rid}.{i}"
            out[cid] = Group(cid, f"copy {i + 1}/{len(cones)}", f"{len(c)} nodes", "copy")
            for x in c:
                home[x] = cid
        if merged:
            _nest_copies(out, rid, [f"{rid}.{i}" for i in range(len(cones))], 0)


def _nest_copies(out, parent, copies, first, root=None):
    """The copies under `parent` a few at a time: the first one, then the others in two boxes
    "×k" (each opening the same way), so every level draws at most three boxes."""
    root = root or parent
    parts = [[c] for c in copies] if len(copies) <= 3 else [
        copies[:1], copies[1:(len(copies) + 2) // 2], copies[(len(copies) + 2) // 2:]]
    start = first
    for part in parts:
        kid = part[0]
        if len(part) > 1:
            kid = f"{root}.r{start}-{start + len(part) - 1}"
            out[kid] = Group(kid, f"×{len(part)}", f"copies {start + 1}–{start + len(part)}", "repeat")
        out[kid].parent = parent
        out[parent].children.append(kid)
        if len(part) > 1:
            _nest_copies(out, kid, part, start, root)
        start += len(part)


def _acyclic_merge(full, cones) -> bool:
    """Whether the copies drawn as one box keep the graph acyclic: nothing leaving one copy comes
    back into another."""
    inside = set().union(*cones)
    seen = set()
    queue = deque(s for c in cones for x in c for s in full.successors(x) if s not in inside)
    while queue:
        n = queue.popleft()
        if n in seen:
            continue
        seen.add(n)
        for s in full.successors(n):
            if s in inside:
                return False
            queue.append(s)
    return True


def _chain_groups(full, out, home):
    """Runs of one op, each consuming the previous one's output (which nothing else uses)."""
    done, k = set(), 0
    for n, d in full.nodes(data=True):
        if d["kind"] != "op" or n in home or n in done:
            continue
        run, cur = [n], n
        while True:
            t = full.nodes[cur]["output"]
            succ = list(full.successors(t)) if t is not None else []
            if len(succ) != 1 or succ[0] in home or full.nodes[succ[0]].get("symbol") != d.get("symbol"):
                break
            cur = succ[0]
            run.append(cur)
        done.update(run)
        if len(run) < MIN_CHAIN:
            continue
        cid = f"g:chain{k}"
        k += 1
        out[cid] = Group(cid, f"{d.get('symbol')} chain", f"×{len(run)}", "chain")
        for op in run:
            home[op] = cid
        for op in run[:-1]:  # the tensors between the links
            home[full.nodes[op]["output"]] = cid


def _path(grp, gid):
    """gid and its parents, outermost first."""
    p = []
    while gid is not None:
        p.append(gid)
        gid = grp[gid].parent
    return p[::-1]


def visible_groups(v) -> list:
    """The group boxes drawn in view v, in node order."""
    return [n for n, d in v.nodes(data=True) if d.get("group")]


def _grad_sum(a, b):
    if a is None or b is None:
        return None
    a, b = np.asarray(a), np.asarray(b)
    return a + b if a.shape == b.shape else None


def view_of(g, open_groups=()) -> nx.DiGraph:
    """The full graph behind g with every group not in open_groups (and every group inside a
    closed one) drawn as one node."""
    full = _full(g)
    grp, home = _hierarchy(full)
    opened = frozenset(x for x in open_groups if x in grp)
    if all(x in opened for x in grp):
        return full
    rep = {}
    for n in full.nodes:
        gid = home.get(n)
        r = n
        if gid is not None:
            for x in _path(grp, gid):
                if x not in opened:
                    r = x
                    break
        rep[n] = r
    h = nx.DiGraph()
    h.graph.update(full.graph)
    h.graph.update(full=full, open=tuple(sorted(opened)), collapsed=())
    for n, d in full.nodes(data=True):
        r = rep[n]
        if r == n:
            h.add_node(n, **d)
        elif r not in h:
            G = grp[r]
            h.add_node(r, kind="module", group=G.kind, label=G.label, symbol=G.symbol, op=G.symbol, module=G.label,
                       cls=G.symbol, scope=(), latex=(), members=list(G.members), inputs=[], output=None,
                       params=[m for m in G.members if full.nodes[m]["kind"] == "tensor" and full.nodes[m]["is_leaf"]],
                       children=list(G.children))
    for u, v, e in full.edges(data=True):
        U, V = rep[u], rep[v]
        if U == V:
            continue
        if U == u and V == v:
            h.add_edge(u, v, **e)
        elif h.has_edge(U, V):
            he = h.edges[U, V]
            he["grads"] = tuple(he.get("grads", ())) + tuple(e.get("grads", (e.get("grad"),)))
            he["grad"] = _grad_sum(he.get("grad"), e.get("grad"))
        else:
            if h.nodes[V]["kind"] == "module":
                h.nodes[V]["inputs"].append(U)
            elif h.nodes[U]["kind"] == "module" and h.nodes[U]["output"] is None:
                h.nodes[U]["output"] = V
            h.add_edge(U, V, kind=e.get("kind", "input"), index=e.get("index", 0), indices=e.get("indices", (0,)),
                       grads=tuple(e.get("grads", (e.get("grad"),))), grad=e.get("grad"))
    # node order stays topological (a box sits where its first member was; its inputs may come later)
    pos = {n: i for i, n in enumerate(h.nodes)}
    if any(pos[u] > pos[v] for u, v in h.edges):
        h2 = nx.DiGraph()
        h2.graph.update(h.graph)
        h2.add_nodes_from((n, h.nodes[n]) for n in nx.lexicographical_topological_sort(h, key=pos.get))
        h2.add_edges_from(h.edges(data=True))
        h = h2
    return h


def default_view(g, threshold: int | None = None) -> nx.DiGraph:
    """g's full graph if it has at most `threshold` nodes; else every group collapsed, then module
    calls opened outermost first (in order) while the view keeps within the threshold (repeats
    and chains stay one box each); a module box left alone is opened a level anyway. threshold None: THRESHOLD, or MATRIX_THRESHOLD when most
    tensors are vectors or matrices (drawn as larger boxes)."""
    full = _full(g)
    if threshold is None:
        threshold = auto_threshold(full)
    if full.number_of_nodes() <= threshold:
        return full
    grp = groups(full)
    tops = [x for x, G in grp.items() if G.parent is None]
    count = full.number_of_nodes() - sum(len(grp[x].members) for x in tops) + len(tops)
    opened = set()
    queue = deque(x for x in tops if grp[x].kind == "module")
    while queue:
        x = queue.popleft()
        G = grp[x]
        more = len(G.children) + len(G.direct) - 1
        if count + more <= threshold:
            opened.add(x)
            count += more
            queue.extend(G.children)
    # one box alone says little (a Sequential holding the whole model): open it a level anyway
    while True:
        closed = [x for x in grp if x not in opened and (grp[x].parent is None or grp[x].parent in opened)]
        if len(closed) != 1 or grp[closed[0]].kind != "module" or not grp[closed[0]].children:
            break
        opened.add(closed[0])
    return view_of(full, opened)


def auto_threshold(g) -> int:
    """THRESHOLD, or MATRIX_THRESHOLD when most of g's tensors hold more than one number."""
    sizes = [int(np.prod(d["shape"])) for _, d in _full(g).nodes(data=True) if d["kind"] == "tensor"]
    return MATRIX_THRESHOLD if sizes and sum(s > 1 for s in sizes) * 2 >= len(sizes) else THRESHOLD


def expand_group(v, group: str) -> nx.DiGraph:
    """v with the box `group` opened one level: its inner groups are boxes, its other nodes drawn."""
    grp = groups(v)
    if group not in grp:
        raise KeyError(f"no group {group!r} in this graph")
    return view_of(v, set(v.graph.get("open") or ()) | set(_path(grp, group)))


def collapse_group(v, group: str) -> nx.DiGraph:
    """v with `group` drawn as one box again (the groups inside it close too)."""
    grp = groups(v)
    inner = {group}
    stack = [group]
    while stack:
        for c in grp[stack.pop()].children:
            inner.add(c)
            stack.append(c)
    return view_of(v, set(v.graph.get("open") or ()) - inner)


def expand_all(v) -> nx.DiGraph:
    return _full(v)
