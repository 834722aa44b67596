"""Draw a vizgrad graph with plotly: values on the nodes, gradients flowing back along the edges.

    import vizgrad, vizgrad.plot as vp
    z = x**2 + y**3; z.backward()
    fig = vp.figure(z)                      # or vp.figure(vizgrad.graph.trace(z)); fig.show()
    fig = vp.figure(z, theme="dark", show_values=False, highlight_nodes={"t0", "op0"}, dim_others=True)
    anim = vp.backward_animation(z)          # frames light up the backward pass edge by edge

Layout (`layout(g)`): layered, left to right (Sugiyama style): longest-path layers with leaves
pulled next to their first consumer, dummy nodes on long edges, barycenter sweeps to reduce
crossings, then y coordinates by a few vectorized rounds of "move to the mean of your neighbours,
then keep the order and the spacing" (so chains are straight and nothing overlaps). Everything
after the layer assignment is numpy over all nodes or one layer at a time. Deterministic.

Drawing: tensors are rounded boxes (label, data, grad), ops are circles with their symbol,
collapsed modules are green boxes. Coordinates are in pixels at scale 1: the figure is sized so a
small graph is drawn 1:1; a graph larger than max_width x max_height is scaled down, fonts with
it, and when the fonts would be too small (or above `label_threshold` nodes) the text is dropped
and nodes become markers; above `webgl_threshold` nodes every trace is WebGL (Scattergl). Hover
shows full detail in every mode. Edge colour and width follow |grad| in log-spaced bins (legend).

Clicks: every node point carries customdata = the graph node id, every edge point customdata =
[source id, target id]. `node_at(event)` / `edge_at(event)` turn a plotly click / Streamlit
selection event into those ids:

    ev = st.plotly_chart(fig, on_select="rerun", selection_mode="points")
    node = vp.node_at(ev)                    # e.g. "t3", or None
"""
from __future__ import annotations

import math

import networkx as nx
import numpy as np
import plotly.graph_objects as go

from vizgrad.graph import format_number, format_value, grad_norm, trace

__all__ = ["figure", "layout", "backward_animation", "node_at", "edge_at", "Layout", "THEMES", "show"]

THEMES = {
    "light": dict(
        bg="#ffffff", fg="#1f2328", muted="#6e7781", grad="#c2185b", accent="#f08c00", no_grad="#c4cbd3",
        tensor=("#f6f8fa", "#8c959f"), leaf=("#ddf4ff", "#0969da"), param=("#e8e1ff", "#7c4dff"),
        const=("#f6f8fa", "#afb8c1"), root=("#fff4d1", "#bf8700"), op=("#fdf1ff", "#9a4fc4"),
        module=("#dafbe1", "#1a7f37"),
        edges=["#b6c8dc", "#8fb0d3", "#5f8fc4", "#3a6db0", "#234f96", "#0f2f6e"],
    ),
    "dark": dict(
        bg="#0d1117", fg="#e6edf3", muted="#8b949e", grad="#ff7eb6", accent="#ffb000", no_grad="#3d444d",
        tensor=("#161b22", "#6e7681"), leaf=("#0c2d4a", "#58a6ff"), param=("#2a2150", "#a78bfa"),
        const=("#161b22", "#484f58"), root=("#3b2e05", "#d29922"), op=("#2b1838", "#c297e8"),
        module=("#0f3320", "#3fb950"),
        edges=["#2c3e55", "#335a85", "#3f7ab8", "#5d9de0", "#8cc2f5", "#d0e8ff"],
    ),
}
_CAT_NAMES = {"leaf": "leaf (requires grad)", "param": "parameter", "const": "constant / input",
              "tensor": "intermediate tensor", "root": "output", "op": "op", "module": "module (collapsed)"}
_MONO = "Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace"
_CHAR = 0.61          # monospace advance, in font sizes
_LINE = 1.3           # plotly's line spacing, in font sizes


# ============================================================================================
# layout
# ============================================================================================
class Layout:
    """Node boxes and edge routes, in pixels at scale 1 (y grows downwards).

    ids (list), index {id: i}, x, y, w, h (arrays, centres and sizes), shape ('box' | 'circle'),
    layer (int array), edges (list of (u, v)), src, dst (arrays), and the route of edge k:
    points(k) -> (xs, ys), from the source's border through the dummy points to the target's;
    crossings: edge crossings between layers (counted on the routes' segments), n_layers, n_dummies.
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def points(self, k):
        a, b = self.ptr[k], self.ptr[k + 1]
        return self.px[a:b], self.py[a:b]

    def bbox(self):
        return (float(np.min(self.x - self.w / 2)), float(np.min(self.y - self.h / 2)),
                float(np.max(self.x + self.w / 2)), float(np.max(self.y + self.h / 2)))


def _topo(g, ids, index, src, dst):
    if len(src) == 0 or np.all(src < dst):
        return np.arange(len(ids))
    return np.array([index[n] for n in nx.lexicographical_topological_sort(g, key=index.get)])


def layout(g, w=None, h=None, shape=None, *, label_w=None, gap: float = 36.0, sep: float = 16.0,
           sweeps: int = 4, rounds: int = 12, max_dummies: int | None = None) -> Layout:
    """Layered left-to-right layout of g. w, h: node sizes (arrays in g's node order, default
    40 x 24); shape: 'box' / 'circle' per node (from the node kind by default); label_w: width of
    each edge's label (array in g's edge order) so the gap before the target leaves room for it.
    max_dummies: bend points for long edges (default 2 (N + E)); beyond it the longest edges are straight."""
    ids = list(g.nodes)
    N = len(ids)
    index = {n: i for i, n in enumerate(ids)}
    E = g.number_of_edges()
    if w is None:
        w = np.full(N, 40.0)
    if h is None:
        h = np.full(N, 24.0)
    w, h = np.asarray(w, float), np.asarray(h, float)
    if shape is None:
        shape = ["circle" if k == "op" else "box" for k in (g.nodes[n]["kind"] for n in ids)]
    edges = list(g.edges)
    src = np.fromiter((index[u] for u, _ in edges), np.int64, E)
    dst = np.fromiter((index[v] for _, v in edges), np.int64, E)
    if N == 0:
        z = np.zeros(0)
        return Layout(ids=ids, index=index, x=z, y=z, w=w, h=h, shape=shape, layer=z.astype(int), edges=edges,
                      src=src, dst=dst, px=z, py=z, ptr=np.zeros(1, int), label_xy=np.zeros((0, 2)))

    # -- 1. layers: longest path from the sources; sources then pulled next to their first consumer
    topo = _topo(g, ids, index, src, dst)
    preds = [[] for _ in range(N)]
    for s_, d_ in zip(src.tolist(), dst.tolist()):
        preds[d_].append(s_)
    lay = [0] * N
    for v in topo.tolist():
        p = preds[v]
        if p:
            lay[v] = max([lay[u] for u in p]) + 1
    # then as late as possible: every node moves right next to its first consumer (side branches
    # such as a parameter's transpose sit by the op that uses them, not at the far left)
    succs = [[] for _ in range(N)]
    for s_, d_ in zip(src.tolist(), dst.tolist()):
        succs[s_].append(d_)
    for v in topo[::-1].tolist():
        q = succs[v]
        if q:
            lay[v] = min([lay[u] for u in q]) - 1
    layer = np.array(lay, np.int64)
    layer -= layer.min()

    # -- 2. dummy nodes on edges spanning more than one layer
    span = layer[dst] - layer[src]
    longe = np.nonzero(span > 1)[0]
    if max_dummies is None:
        max_dummies = 2 * (N + E) + 64
    if int((span[longe] - 1).sum()) > max_dummies:
        # too many: the shortest long edges get dummies, the longest are drawn straight (keeps
        # the layout near-linear when, say, a parameter is used by every one of 200 samples)
        by_span = longe[np.argsort(span[longe], kind="stable")]
        keep = np.cumsum(span[by_span] - 1) <= max_dummies
        longe = np.sort(by_span[keep])
    nd = span[longe] - 1
    D = int(nd.sum())
    d_edge = np.repeat(longe, nd)
    first = np.cumsum(nd) - nd
    d_step = np.arange(D) - np.repeat(first, nd) + 1
    d_layer = layer[src[d_edge]] + d_step
    d_id = N + np.arange(D)
    d_last = d_step == np.repeat(nd, nd)
    # segments: direct edges; into each dummy; from each edge's last dummy to its target
    has_d = np.zeros(E, bool)
    has_d[longe] = True
    short = np.nonzero(~has_d)[0]
    nd_e = np.zeros(E, np.int64)
    nd_e[longe] = nd
    seg_src = np.concatenate([src[short], np.where(d_step == 1, src[d_edge], d_id - 1), d_id[d_last]])
    seg_dst = np.concatenate([dst[short], d_id, dst[d_edge[d_last]]])
    seg_edge = np.concatenate([short, d_edge, d_edge[d_last]])
    M = N + D
    lay_all = np.concatenate([layer, d_layer])
    L = int(lay_all.max()) + 1

    # -- 3. order within layers: depth-first order first, then barycenter sweeps
    key = np.concatenate([np.argsort(topo).astype(float), np.argsort(topo)[src[d_edge]] + 0.5])
    order = np.lexsort((key, lay_all))
    lstart = np.searchsorted(lay_all[order], np.arange(L + 1))
    lsize = np.diff(lstart)
    loc = np.empty(M, np.int64)
    loc[order] = np.arange(M) - lstart[lay_all[order]]
    frac = (loc + 0.5) / lsize[lay_all]
    # operand order as a tie-break (first operand above): a small port offset on the target side
    port = np.zeros(len(seg_src))
    if E:
        idx = np.fromiter((e.get("index", 0) for _, _, e in g.edges(data=True)), float, E)
        port = 1e-3 * idx[seg_edge]
    by_dst = np.argsort(lay_all[seg_dst], kind="stable")
    by_src = np.argsort(lay_all[seg_src], kind="stable")
    in_ptr = np.searchsorted(lay_all[seg_dst][by_dst], np.arange(L + 1))
    out_ptr = np.searchsorted(lay_all[seg_src][by_src], np.arange(L + 1))
    multi = [l for l in range(L) if lsize[l] > 1]
    best, best_frac = _crossings(frac, lay_all, seg_src, seg_dst), frac.copy()
    if len(multi) and len(seg_src) and best > 0:
        for _ in range(sweeps):
            for down in (True, False):
                for l in (multi if down else multi[::-1]):
                    mem = order[lstart[l]:lstart[l + 1]]
                    n = len(mem)
                    if down:
                        sl = by_dst[in_ptr[l]:in_ptr[l + 1]]
                        other, me = seg_src[sl], seg_dst[sl]
                        target = frac[other]
                    else:
                        sl = by_src[out_ptr[l]:out_ptr[l + 1]]
                        other, me = seg_dst[sl], seg_src[sl]
                        target = frac[other] + port[sl]
                    if not len(sl):
                        continue
                    li = loc[me]
                    cnt = np.bincount(li, minlength=n)
                    bary = np.bincount(li, target, minlength=n)
                    cur = frac[mem]
                    bary = np.where(cnt > 0, bary / np.maximum(cnt, 1), cur)
                    o = np.lexsort((cur, bary))
                    frac[mem[o]] = (np.arange(n) + 0.5) / n
            c = _crossings(frac, lay_all, seg_src, seg_dst)
            if c >= best * 0.995:  # converged (or got worse): stop sweeping
                if c < best:
                    best, best_frac = c, frac.copy()
                break
            best, best_frac = c, frac.copy()
            if best == 0:
                break
    frac = best_frac  # the sweeps keep the best order seen (never worse than depth-first order)
    # final rank order: nodes sorted by (layer, frac)
    order = np.lexsort((frac, lay_all))

    # -- 4. x: layer columns wide enough for their nodes, gaps wide enough for the edge labels
    wa = np.concatenate([w, np.zeros(D)])
    ha = np.concatenate([h, np.zeros(D)])
    colw = np.zeros(L)
    np.maximum.at(colw, lay_all, wa)
    gaps = np.full(L, float(gap))
    if label_w is not None and E:
        lw = np.asarray(label_w, float)
        np.maximum.at(gaps, layer[dst], lw + 20.0)
    xl = np.zeros(L)
    if L > 1:
        xl[1:] = np.cumsum(colw[:-1] / 2 + gaps[1:] + colw[1:] / 2)
    xl += colw[0] / 2
    X = xl[lay_all]

    # -- 5. y: keep order and spacing, move towards neighbours (vectorized over all layers)
    ho = ha[order]
    lo = lay_all[order]
    same = np.concatenate([[False], lo[1:] == lo[:-1]])
    is_d = np.concatenate([np.zeros(N, bool), np.ones(D, bool)])[order]
    pair_sep = np.where(is_d[1:] | is_d[:-1], sep * 0.6, sep) if M > 1 else np.zeros(0)
    step = np.zeros(M)
    if M > 1:
        step[1:] = np.where(same[1:], (ho[1:] + ho[:-1]) / 2 + pair_sep, 0.0)
    c = _seg_cumsum(step, ~same)
    seg_start = np.nonzero(~same)[0]
    seg_len = np.diff(np.append(seg_start, M))
    last_c = np.repeat(c[np.append(seg_start[1:] - 1, M - 1)], seg_len)
    yo = c - last_c / 2  # centred columns
    if len(seg_src):
        isd = np.concatenate([np.zeros(N), np.ones(D)])
        wgt = 1.0 + isd[seg_src] + isd[seg_dst]
        pos_of = np.empty(M, np.int64)
        pos_of[order] = np.arange(M)
        a_, b_ = pos_of[seg_src], pos_of[seg_dst]
        cnt = np.bincount(a_, wgt, M) + np.bincount(b_, wgt, M)
        for r in range(rounds):
            tot = np.bincount(a_, wgt * yo[b_], M) + np.bincount(b_, wgt * yo[a_], M)
            want = np.where(cnt > 0, tot / np.maximum(cnt, 1e-12), yo)
            want = 0.5 * yo + 0.5 * want if r < rounds - 1 else want
            yo = _project(want, c, lo)
    Y = np.empty(M)
    Y[order] = yo
    Y -= Y.min() - ha[np.argmin(Y)] / 2 if M else 0
    top = float(np.min(Y[:N] - h / 2))
    Y -= top

    # -- 6. routes: source border -> dummies -> target border
    px, py, ptr = _routes(X, Y, w, h, shape, src, dst, nd_e, d_id, first, longe, E)
    # label anchor: middle of the last segment (entering the target)
    end = ptr[1:] - 1
    label_xy = np.stack([(px[end] + px[end - 1]) / 2, (py[end] + py[end - 1]) / 2], 1) if E else np.zeros((0, 2))
    return Layout(ids=ids, index=index, x=X[:N], y=Y[:N], w=w, h=h, shape=shape, layer=layer, edges=edges,
                  src=src, dst=dst, px=px, py=py, ptr=ptr, label_xy=label_xy, n_dummies=D, n_layers=L,
                  crossings=int(best))


def _crossings(frac, lay_all, seg_src, seg_dst) -> int:
    """Crossings between segments joining the same pair of layers (with dummies, all of them):
    the inversions of the targets' positions once segments are sorted by (layer, source position)."""
    if len(seg_src) < 2:
        return 0
    grp = lay_all[seg_dst] * (int(lay_all.max()) + 1) + lay_all[seg_src]  # the pair of layers joined
    o = np.lexsort((frac[seg_dst], frac[seg_src], grp))
    v = grp[o] * 2.0 + frac[seg_dst][o]  # frac < 1: segments of different layer pairs never invert
    return _inversions(v)


def _inversions(a) -> int:
    """Number of pairs i < j with a[i] > a[j]: bottom-up merge sort, each level vectorized."""
    n = len(a)
    _, val = np.unique(np.asarray(a), return_inverse=True)
    val = val.astype(np.int64).ravel()
    idx = np.arange(n)
    total, width = 0, 1
    while width < n:
        block = idx // width
        pair = block >> 1
        right = (block & 1).astype(bool)
        base = pair * (n + 1)
        left_keys = (base + val)[~right]
        rq = (base + val)[right]
        pos = np.searchsorted(left_keys, rq, side="right")
        end = np.searchsorted(left_keys, base[right] + n + 1, side="left")
        total += int((end - pos).sum())
        val = np.sort(base + val) - base
        width *= 2
    return total


def _seg_cumsum(step, starts):
    """Cumulative sum of step restarting (at 0) where starts is True."""
    cs = np.cumsum(step)
    base = np.maximum.accumulate(np.where(starts, cs, -np.inf))
    return cs - base


def _project(want, c, lo):
    """Closest-ish y to `want` with y[i+1] - y[i] >= c[i+1] - c[i] inside each layer (segment):
    the mean of the forward running max and the backward running min of want - c."""
    z = want - c
    span = float(np.max(np.abs(z))) * 2 + 1.0
    off = lo * span * 2
    up = np.maximum.accumulate(z + off) - off
    dn = np.minimum.accumulate((z + off)[::-1])[::-1] - off
    return (up + dn) / 2 + c


def _clip(cx, cy, hw, hh, circ, tx, ty):
    """Point on the border of the box (or circle) centred at (cx, cy) towards (tx, ty)."""
    dx, dy = tx - cx, ty - cy
    ax, ay = np.abs(dx) + 1e-12, np.abs(dy) + 1e-12
    t_box = np.minimum(hw / ax, hh / ay)
    t_circ = hw / np.hypot(dx, dy).clip(1e-12)
    t = np.minimum(np.where(circ, t_circ, t_box), 1.0)
    return cx + t * dx, cy + t * dy


def _routes(X, Y, w, h, shape, src, dst, nd, d_id, first, longe, E):
    npts = nd + 2
    ptr = np.zeros(E + 1, np.int64)
    ptr[1:] = np.cumsum(npts)
    P = int(ptr[-1])
    px, py = np.empty(P), np.empty(P)
    if E == 0:
        return px, py, ptr
    circ = np.array([s == "circle" for s in shape], bool)
    # interior dummy points
    if len(longe):
        starts = ptr[longe] + 1
        n_l = nd[longe]
        pos = np.repeat(starts, n_l) + (np.arange(n_l.sum()) - np.repeat(np.cumsum(n_l) - n_l, n_l))
        dids = np.repeat(d_id[first], n_l) + (np.arange(n_l.sum()) - np.repeat(np.cumsum(n_l) - n_l, n_l))
        px[pos], py[pos] = X[dids], Y[dids]
    s_next = np.where(nd > 0, ptr[:-1] + 1, -1)
    t_prev = np.where(nd > 0, ptr[1:] - 2, -1)
    nx_ = np.where(nd > 0, px[np.maximum(s_next, 0)], X[dst])
    ny_ = np.where(nd > 0, py[np.maximum(s_next, 0)], Y[dst])
    bx_ = np.where(nd > 0, px[np.maximum(t_prev, 0)], X[src])
    by_ = np.where(nd > 0, py[np.maximum(t_prev, 0)], Y[src])
    sx, sy = _clip(X[src], Y[src], w[src] / 2, h[src] / 2, circ[src], nx_, ny_)
    ex, ey = _clip(X[dst], Y[dst], w[dst] / 2, h[dst] / 2, circ[dst], bx_, by_)
    px[ptr[:-1]], py[ptr[:-1]] = sx, sy
    px[ptr[1:] - 1], py[ptr[1:] - 1] = ex, ey
    return px, py, ptr


# ============================================================================================
# node text and styles
# ============================================================================================
def _nb(s: str) -> str:
    return s.replace(" ", "\u00a0")


def _category(d) -> str:
    k = d["kind"]
    if k != "tensor":
        return k
    if d.get("root"):
        return "root"
    if d["is_leaf"]:
        if d.get("param"):
            return "param"
        return "leaf" if d["requires_grad"] else "const"
    return "tensor"


def _tensor_lines(d, values, grads, shapes, grad_color, muted, max_elems=6):
    """Text lines of a tensor box (plotly HTML) and their plain lengths."""
    head = f"<b>{_esc(d['label'])}</b>"
    plain = [d["label"]]
    if shapes and len(d["shape"]):
        sh = "×".join(str(s) for s in d["shape"])
        head += f" <span style='color:{muted}'>{sh}</span>"
        plain[0] += " " + sh
    lines = [head]
    if values:
        for i, row in enumerate(format_value(d["value"], max_elems=max_elems, shape=not shapes, digits=2 if d["value"].size > 1 else 3).split("\n")):
            t = ("data " if i == 0 else "     ") + row
            lines.append(_esc(_nb(t)))
            plain.append(t)
    if grads and d.get("grad") is not None:
        for i, row in enumerate(format_value(d["grad"], max_elems=max_elems, shape=not shapes, digits=2 if d["grad"].size > 1 else 3).split("\n")):
            t = ("grad " if i == 0 else "     ") + row
            lines.append(f"<span style='color:{grad_color}'>{_esc(_nb(t))}</span>")
            plain.append(t)
    return lines, plain


def _esc(s) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _detail(a) -> str:
    """Full-detail text of a value for hover (fast path for scalars)."""
    if a.ndim == 0:
        return format_number(a.item(), 6)
    return _esc(format_value(a, max_elems=24, digits=5, sep="<br>"))


def _hover(n, d, g) -> str:
    k = d["kind"]
    if k == "tensor":
        kind = ("leaf (parameter)" if d.get("param") else "leaf") if d["is_leaf"] else "computed"
        s = (f"<b>{_esc(d['label'])}</b> ({n})<br>shape {d['shape']}  {d['dtype']}<br>{kind}, "
             f"requires_grad={d['requires_grad']}<br>data: {_detail(d['value'])}")
        gr = d.get("grad")
        if gr is not None:
            s += "<br>grad: " + _detail(gr)
            if gr.size > 1:
                s += f"<br>‖grad‖ = {format_number(grad_norm(gr), 5)}"
        else:
            s += "<br>grad: none yet" if d["requires_grad"] else "<br>grad: none (no requires_grad)"
        return s
    if k == "module":
        return "<br>".join([f"<b>{_esc(d['label'])}</b>: {_esc(d['cls'])} ({n})", f"{len(d['members'])} nodes inside",
                            "scope: " + _esc(" / ".join(d.get("scope") or ()))])
    ins = d.get("inputs") or []
    lat = d.get("latex") or ()
    parts = [f"<b>{_esc(d['symbol'])}</b>  {d['op']} ({n})"]
    for i, u in enumerate(ins):
        lbl = g.nodes[u]["label"] if u in g else u
        rule = lat[i] if i < len(lat) else ""
        parts.append(f"∂out/∂{_esc(lbl)} = {_esc(rule)}")
    if d.get("scope"):
        parts.append("in " + _esc(" / ".join(d["scope"])))
    return "<br>".join(parts)


def _edge_hover(u, v, e, nodes) -> str:
    su, sv = nodes[u], nodes[v]
    a = su["label"] if su["kind"] == "tensor" else su["symbol"]
    b = sv["label"] if sv["kind"] == "tensor" else sv["symbol"]
    s = f"{_esc(a)} → {_esc(b)}  ({u} → {v})"
    if e.get("kind") == "input":
        s += "<br>operand " + ", ".join(map(str, e.get("indices", (e.get("index", 0),))))
    gr = e.get("grad")
    if gr is None:
        return s + "<br>no gradient (yet)"
    s += "<br>gradient flowing back:<br>" + _detail(np.asarray(gr))
    gs = e.get("grads") or ()
    if len(gs) > 1:
        s += "<br>(sum of " + " + ".join(_esc(format_value(x, max_elems=3)) for x in gs if x is not None) + ")"
    return s


# ============================================================================================
# figure
# ============================================================================================
def _as_graph(obj, collapse=None):
    if isinstance(obj, nx.DiGraph):
        return obj
    return trace(obj, collapse=collapse)


def _bins(mags, n):
    """Bin index (0..n-1) per |grad| on a log scale; -1 for no gradient. Returns (bins, edges)."""
    out = np.full(len(mags), -1, np.int64)
    m = np.array([np.nan if v is None else v for v in mags], float)
    ok = ~np.isnan(m)
    if not ok.any():
        return out, None
    pos = ok & (m > 0)
    if not pos.any():
        out[ok] = 0
        return out, (0.0, 0.0)
    lo, hi = np.log10(m[pos].min()), np.log10(m[pos].max())
    if hi - lo < 1e-9:
        out[ok] = n // 2
        out[ok & (m == 0)] = 0
        return out, (10 ** lo, 10 ** hi)
    b = np.floor((np.log10(np.where(pos, m, 10 ** lo)) - lo) / (hi - lo) * n).astype(np.int64)
    out[ok] = np.clip(b[ok], 0, n - 1)
    out[ok & (m == 0)] = 0
    return out, (10 ** lo, 10 ** hi)


def _rounded_rect(x, y, w, h, r=6.0, k=4):
    """Polygon points (xs, ys) of rounded rectangles, NaN-separated, vectorized over nodes."""
    r = np.minimum(r, np.minimum(w, h) / 2)
    ang = [np.linspace(a, a + np.pi / 2, k) for a in (np.pi, 1.5 * np.pi, 0.0, 0.5 * np.pi)]
    cxs = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    xs, ys = [], []
    for (sx, sy), a in zip(cxs, ang):
        xs.append((x + sx * (w / 2 - r))[:, None] + r[:, None] * np.cos(a)[None, :])
        ys.append((y + sy * (h / 2 - r))[:, None] + r[:, None] * np.sin(a)[None, :])
    X = np.concatenate(xs + [xs[0][:, :1], np.full((len(x), 1), np.nan)], 1)
    Y = np.concatenate(ys + [ys[0][:, :1], np.full((len(x), 1), np.nan)], 1)
    return X.ravel(), Y.ravel()


def _circles(x, y, r, k=28):
    a = np.linspace(0, 2 * np.pi, k)
    X = np.concatenate([x[:, None] + r[:, None] * np.cos(a), np.full((len(x), 1), np.nan)], 1)
    Y = np.concatenate([y[:, None] + r[:, None] * np.sin(a), np.full((len(x), 1), np.nan)], 1)
    return X.ravel(), Y.ravel()


def _nan_join(lay, ks):
    """Concatenate the routes of edges ks with NaN gaps."""
    ks = np.asarray(ks, np.int64)
    if not len(ks):
        return np.zeros(0), np.zeros(0)
    a, b = lay.ptr[ks], lay.ptr[ks + 1]
    n = b - a
    idx = np.repeat(a - np.cumsum(np.concatenate([[0], n[:-1] + 1])), n + 1) + np.arange(int(n.sum()) + len(ks))
    gap = np.cumsum(n + 1) - 1
    xs, ys = np.empty(len(idx)), np.empty(len(idx))
    valid = np.ones(len(idx), bool)
    valid[gap] = False
    xs[valid], ys[valid] = lay.px[idx[valid]], lay.py[idx[valid]]
    xs[gap] = ys[gap] = np.nan
    return xs, ys


def _arrows(lay, ks, size):
    """Filled triangles at the target end of edges ks (NaN separated), and the angles (degrees)."""
    ks = np.asarray(ks, np.int64)
    e = lay.ptr[ks + 1] - 1
    tx, ty = lay.px[e], lay.py[e]
    dx, dy = tx - lay.px[e - 1], ty - lay.py[e - 1]
    nrm = np.hypot(dx, dy).clip(1e-9)
    ux, uy = dx / nrm, dy / nrm
    bx, by = tx - ux * size, ty - uy * size
    px_, py_ = -uy * size * 0.45, ux * size * 0.45
    X = np.stack([tx, bx + px_, bx - px_, tx, np.full(len(ks), np.nan)], 1).ravel()
    Y = np.stack([ty, by + py_, by - py_, ty, np.full(len(ks), np.nan)], 1).ravel()
    ang = np.degrees(np.arctan2(dy, dx))
    return X, Y, tx, ty, ang


def figure(obj, *, show_values: bool = True, show_grads: bool = True, show_shapes: bool = True,
           edge_labels: bool = True, highlight_nodes=None, highlight_edges=None, dim_others: bool = False,
           theme: str = "light", title: str | None = None, width: int | None = None, height: int | None = None,
           max_width: int = 1400, max_height: int = 900, min_width: int = 640, label_threshold: int = 400,
           webgl_threshold: int = 1000, font_size: float = 12.0, collapse=None, legend: bool = True,
           _anim: bool = False) -> go.Figure:
    """A plotly Figure of a graph (from vizgrad.graph.trace) or of the graph behind a tensor.

    show_values / show_grads / show_shapes: what the tensor boxes show; edge_labels: gradient
    text on the edges. highlight_nodes / highlight_edges: ids / (u, v) pairs drawn in the accent
    colour (edges between two highlighted nodes are highlighted too when highlight_edges is None);
    dim_others fades the rest. theme: "light" or "dark". width / height: figure size in pixels
    (default: the graph's natural size, at most max_width x max_height). Above label_threshold
    nodes the text is dropped (hover keeps everything); above webgl_threshold traces are WebGL.
    """
    g = _as_graph(obj, collapse)
    th = THEMES[theme] if isinstance(theme, str) else theme
    ids = list(g.nodes)
    N = len(ids)
    nodes = [g.nodes[n] for n in ids]
    edges = list(g.edges(data=True))
    E = len(edges)
    webgl = N > webgl_threshold
    Sc = go.Scattergl if webgl else go.Scatter
    hl_nodes = set(highlight_nodes or ())
    if highlight_edges is None:
        hl_edges = {(u, v) for u, v, _ in edges if u in hl_nodes and v in hl_nodes}
    else:
        hl_edges = {tuple(e) for e in highlight_edges}
    dimming = dim_others and (hl_nodes or hl_edges)

    # -- node text and sizes at scale 1; the layout; the scale that fits the figure
    fs = float(font_size)
    efs = fs - 2
    kinds = [d["kind"] for d in nodes]
    cats = [_category(d) for d in nodes]
    shape = ["circle" if k == "op" else "box" for k in kinds]
    grads = [e.get("grad") for _, _, e in edges]
    leg_h = 60 if legend else 0
    mt = 40 if title else 10
    mb = 10 + leg_h
    pad = 24.0
    labels = N <= label_threshold
    while True:
        texts, w, h = _node_text(nodes, kinds, labels, fs, th, show_values, show_grads, show_shapes, _anim)
        show_edge_text = labels and edge_labels and show_grads and not _anim
        etext = [_short(gr) if show_edge_text and gr is not None else "" for gr in grads]
        label_w = np.array([len(t) * _CHAR * efs for t in etext]) if show_edge_text else None
        lay = layout(g, w, h, shape, label_w=label_w, gap=36.0 if labels else 24.0, sep=16.0 if labels else 8.0)
        x0, y0, x1, y1 = lay.bbox() if N else (0, 0, 1, 1)
        natw, nath = (x1 - x0) + 2 * pad, (y1 - y0) + 2 * pad
        if width is None and height is None:
            s = min(1.0, max_width / natw, (max_height - mt - mb) / nath)
            if s >= 1.0:  # small graphs are drawn larger, up to min_width wide
                s = max(1.0, min(1.5, min_width / natw, (max_height - mt - mb) / nath))
            W = max(int(natw * s) + 20, 420)
            H = max(int(nath * s) + mt + mb, 260)
        else:
            W = width or max_width
            H = height or max_height
            s = min((W - 20) / natw, (H - mt - mb) / nath)
        s = min(s, 1.5)
        s *= natw / (natw + 24 / s)  # keep ~12 px clear at each side whatever the scale
        if labels and s * fs < 6.5 and width is None:
            if show_values or show_grads or show_shapes:
                # too wide to read with numbers: keep the names and symbols (numbers stay in hover)
                show_values = show_grads = show_shapes = False
                continue
            labels = False  # still too small to read: markers and hover only, laid out compactly
            continue
        break
    fsz = fs * s
    pw, ph = W - 20, H - mt - mb
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    xr = [cx - pw / s / 2, cx + pw / s / 2]
    yr = [cy + ph / s / 2, cy - ph / s / 2]

    traces = []
    # -- edges, binned by |grad|
    mags = [grad_norm(gr) for gr in grads]
    nb = len(th["edges"])
    bins, rng = _bins(mags, nb)
    if _anim:
        bins[:] = -1
    widths = np.linspace(1.2, 4.5, nb)
    ehl = np.array([(u, v) in hl_edges for u, v, _ in edges], bool) if E else np.zeros(0, bool)
    arrow = max(4.0, 9.0 * min(s, 1.0) / max(s, 1e-9)) if labels else 7.0 / max(s, 1e-9)
    line_shape = "spline" if (labels and not webgl) else "linear"
    edge_groups = [(-1, th["no_grad"], 1.2, "no gradient")] + [
        (b, th["edges"][b], widths[b], _bin_name(b, nb, rng)) for b in range(nb)]
    for b, col, wd, name in edge_groups:
        base_sel = bins == b
        for dim, m in (((False, base_sel & ehl), (True, base_sel & ~ehl)) if dimming else ((False, base_sel),)):
            sel = np.nonzero(m)[0]
            if not len(sel):
                continue
            xs, ys = _nan_join(lay, sel)
            op = 0.18 if dim else 1.0
            traces.append(Sc(x=xs, y=ys, mode="lines", line=dict(color=col, width=wd * max(min(s, 1), 0.5),
                                                                 **({} if webgl else {"shape": line_shape})),
                             opacity=op, hoverinfo="skip", name=name, legendgroup=f"e{b}",
                             showlegend=legend and not dim and not _anim and (b >= 0 or rng is None),
                             legendrank=20 + b))
            ax, ay, tx, ty, ang = _arrows(lay, sel, arrow)
            if webgl or not labels:
                traces.append(Sc(x=tx, y=ty, mode="markers", opacity=op, hoverinfo="skip", showlegend=False,
                                 legendgroup=f"e{b}", marker=dict(symbol="triangle-right", angle=ang,
                                                                  size=6, color=col, line=dict(width=0))))
            else:
                traces.append(Sc(x=ax, y=ay, mode="lines", fill="toself", fillcolor=col, opacity=op,
                                 line=dict(color=col, width=0.5), hoverinfo="skip", showlegend=False,
                                 legendgroup=f"e{b}"))
    if hl_edges and E:
        sel = np.nonzero(ehl)[0]
        if len(sel):
            xs, ys = _nan_join(lay, sel)
            traces.append(Sc(x=xs, y=ys, mode="lines", hoverinfo="skip", name="highlighted",
                             line=dict(color=th["accent"], width=3.5, **({} if webgl else {"shape": line_shape})),
                             showlegend=False))
            ax, ay, *_ = _arrows(lay, sel, arrow)
            if not webgl:
                traces.append(Sc(x=ax, y=ay, mode="lines", fill="toself", fillcolor=th["accent"],
                                 line=dict(color=th["accent"], width=0.5), hoverinfo="skip", showlegend=False))

    # -- nodes
    nhl = np.array([n in hl_nodes for n in ids], bool)
    cat_arr = np.array(cats)
    order_cats = ["leaf", "param", "const", "tensor", "root", "op", "module"]
    if labels and not webgl:
        for cat in order_cats:
            for dim in ((False, True) if dimming else (False,)):
                m = (cat_arr == cat) & ((~nhl) if dim else (nhl if dimming else True))
                sel = np.nonzero(m)[0]
                if not len(sel):
                    continue
                fill, line = th[cat]
                if cat == "op":
                    xs, ys = _circles(lay.x[sel], lay.y[sel], w[sel] / 2)
                else:
                    xs, ys = _rounded_rect(lay.x[sel], lay.y[sel], w[sel], h[sel], 8.0 if cat == "module" else 6.0)
                traces.append(Sc(x=xs, y=ys, mode="lines", fill="toself", fillcolor=fill, opacity=0.25 if dim else 1,
                                 line=dict(color=line, width=2.0 if cat in ("module", "root") else 1.3),
                                 hoverinfo="skip", name=_CAT_NAMES[cat], legendgroup=cat, showlegend=False))
                if legend and not dim:
                    traces.append(Sc(x=[None], y=[None], mode="markers", name=_CAT_NAMES[cat], legendgroup=cat,
                                     legendrank=cats_rank(cat), hoverinfo="skip",
                                     marker=dict(symbol="circle" if cat == "op" else "square", size=13,
                                                 color=fill, line=dict(color=line, width=1.5))))
        if hl_nodes:
            sel = np.nonzero(nhl)[0]
            bx, by = _rounded_rect(lay.x[sel], lay.y[sel], w[sel] + 6, h[sel] + 6, 9.0)
            traces.append(Sc(x=bx, y=by, mode="lines", line=dict(color=th["accent"], width=3), hoverinfo="skip",
                             name="highlighted", showlegend=legend, legendrank=90))
        # text
        tcol = [th["fg"] if not (dimming and not nhl[i]) else th["muted"] for i in range(N)]
        is_op = np.array([k == "op" for k in kinds])
        for sel, size in ((np.nonzero(~is_op)[0], fsz), (np.nonzero(is_op)[0], fsz + s)):
            if len(sel):
                traces.append(Sc(x=lay.x[sel], y=lay.y[sel], mode="text", text=[texts[i] for i in sel],
                                 textposition="middle center", hoverinfo="skip", showlegend=False,
                                 textfont=dict(family=_MONO, size=size, color=[tcol[i] for i in sel])))
    else:
        sym = {"tensor": "square", "op": "circle", "module": "diamond"}
        for cat in order_cats:
            sel = np.nonzero(cat_arr == cat)[0]
            if not len(sel):
                continue
            fill, line = th[cat]
            traces.append(Sc(x=lay.x[sel], y=lay.y[sel], mode="markers", hoverinfo="skip", name=_CAT_NAMES[cat],
                             legendgroup=cat, showlegend=legend, legendrank=cats_rank(cat),
                             marker=dict(symbol=sym.get(kinds[sel[0]], "square"), color=line,
                                         size=np.maximum(4.0, np.minimum(w[sel], h[sel]) * s),
                                         opacity=np.where(dimming & ~nhl[sel], 0.25, 1.0) if dimming else 1.0,
                                         line=dict(width=np.where(nhl[sel], 2.5, 0.0) if hl_nodes else 0,
                                                   color=th["accent"]))))

    # -- edge gradient text
    if show_edge_text and E:
        sel = [k for k in range(E) if etext[k]]
        if sel:
            col = [th["muted"] if dimming and not ehl[k] else th["grad"] for k in sel]
            lx, ly = _place_labels(lay, sel, [len(etext[k]) * _CHAR * efs for k in sel], efs * 1.25)
            traces.append(Sc(x=lx, y=ly, mode="text",
                             text=[_esc(etext[k]) for k in sel], hoverinfo="skip", showlegend=False,
                             textfont=dict(family=_MONO, size=efs * s, color=col), name="edge grads"))
    # -- hover / click targets (customdata = ids)
    if E:
        nd_ = g.nodes
        eh = [_edge_hover(u, v, e, nd_) for u, v, e in edges]
        traces.append(Sc(x=lay.label_xy[:, 0], y=lay.label_xy[:, 1], mode="markers", name="edges",
                         marker=dict(size=8, color=th["muted"], opacity=0.0), showlegend=False,
                         customdata=np.array([[u, v] for u, v, _ in edges], dtype=str), hovertext=np.array(eh),
                         hoverinfo="text"))
    traces.append(Sc(x=lay.x, y=lay.y, mode="markers", name="nodes", showlegend=False,
                     marker=dict(size=np.maximum(6.0, np.minimum(w, h) * s), color=th["muted"], opacity=0.0),
                     customdata=np.array(ids, dtype=str), hovertext=np.array([_hover(n, d, g) for n, d in zip(ids, nodes)]),
                     hoverinfo="text"))

    fig = go.Figure(data=traces)
    ax = dict(visible=False, showgrid=False, zeroline=False, fixedrange=False)
    fig.update_layout(
        width=W, height=H, margin=dict(l=10, r=10, t=mt, b=mb), paper_bgcolor=th["bg"], plot_bgcolor=th["bg"],
        font=dict(color=th["fg"], size=12), hovermode="closest", dragmode="pan",
        xaxis=dict(range=xr, **ax), yaxis=dict(range=yr, scaleanchor="x", scaleratio=1, **ax),
        showlegend=legend,
        legend=dict(orientation="h", yanchor="top", y=-0.01, xanchor="left", x=0, font=dict(size=11),
                    itemclick="toggle", bgcolor="rgba(0,0,0,0)", traceorder="normal"),
        hoverlabel=dict(font=dict(family=_MONO, size=12), align="left"),
        title=dict(text=title, x=0.01, font=dict(size=15)) if title else None,
    )
    fig._vizgrad = dict(graph=g, layout=lay, scale=s)  # for node_at, animations and tests
    return fig


def _place_labels(lay, ks, widths, height):
    """Centres for edge labels: each sits just above its edge's last segment, at the first of a
    few points along it (middle first) where it overlaps no node and no label placed before."""
    m = 4.0  # keep labels a little off the nodes
    nodes_b = np.stack([lay.x - lay.w / 2 - m, lay.y - lay.h / 2 - m, lay.x + lay.w / 2 + m, lay.y + lay.h / 2 + m], 1)
    placed = np.zeros((0, 4))
    out_x, out_y = [], []
    for k, wd in zip(ks, widths):
        e = lay.ptr[k + 1] - 1
        x0, y0, x1, y1 = lay.px[e - 1], lay.py[e - 1], lay.px[e], lay.py[e]
        best = None
        # offset along the segment's upper normal, just enough for the box to clear the line
        dx, dy = x1 - x0, y1 - y0
        ln = math.hypot(dx, dy) or 1.0
        nx_, ny_ = dy / ln, -dx / ln
        if ny_ > 0:
            nx_, ny_ = -nx_, -ny_
        dist = abs(nx_) * wd / 2 + abs(ny_) * height / 2 + 1.5
        for t in (0.5, 0.35, 0.65, 0.2, 0.8, 0.5):
            cx, cy = x0 + t * dx + nx_ * dist, y0 + t * dy + ny_ * dist
            b = np.array([cx - wd / 2 - 2, cy - height / 2, cx + wd / 2 + 2, cy + height / 2])
            hit = False
            for arr in (nodes_b, placed):
                if len(arr) and np.any((arr[:, 0] < b[2]) & (arr[:, 2] > b[0]) & (arr[:, 1] < b[3]) & (arr[:, 3] > b[1])):
                    hit = True
                    break
            if not hit:
                best = (cx, cy, b)
                break
        if best is None:
            best = (x0 + 0.5 * dx + nx_ * dist, y0 + 0.5 * dy + ny_ * dist, None)
        out_x.append(best[0])
        out_y.append(best[1])
        if best[2] is not None:
            placed = np.vstack([placed, best[2][None]])
    return np.array(out_x), np.array(out_y)


def _node_text(nodes, kinds, labels, fs, th, show_values, show_grads, show_shapes, anim):
    """(texts, widths, heights) of the nodes at scale 1; without labels, small fixed sizes."""
    N = len(nodes)
    texts = [""] * N
    w, h = np.empty(N), np.empty(N)
    if not labels:
        for i, k in enumerate(kinds):
            w[i], h[i] = ((14, 14) if k == "op" else (22, 14) if k == "tensor" else (30, 18))
        return texts, w, h
    for i, d in enumerate(nodes):
        if kinds[i] == "tensor":
            lines, plain = _tensor_lines(d, show_values, show_grads and not anim, show_shapes, th["grad"], th["muted"])
            if anim and d.get("grad") is not None:  # room for the grad line the animation reveals
                lines.append("\u00a0")
                plain.append(" " * (5 + len(_short(d["grad"]))))
            texts[i] = "<br>".join(lines)
            w[i] = max(len(x) for x in plain) * _CHAR * fs + 16
            h[i] = len(lines) * _LINE * fs + 8
        elif kinds[i] == "module":
            texts[i] = f"<b>{_esc(d['label'])}</b><br><span style='color:{th['muted']}'>{_esc(d['symbol'])}</span>"
            w[i] = max(len(d["label"]), len(d["symbol"])) * _CHAR * fs + 24
            h[i] = 2 * _LINE * fs + 14
        else:
            texts[i] = _esc(d["symbol"])
            w[i] = h[i] = max(30.0, len(d["symbol"]) * _CHAR * (fs + 1) + 14)
    return texts, w, h


def cats_rank(cat):
    return {"leaf": 1, "param": 2, "const": 3, "tensor": 4, "root": 5, "op": 6, "module": 7}[cat]


def _bin_name(b, n, rng):
    if rng is None:
        return "|grad|"
    lo, hi = rng
    if hi <= lo or lo <= 0:
        return f"|grad| = {format_number(hi, 3)}"
    a = 10 ** (np.log10(lo) + (np.log10(hi) - np.log10(lo)) * b / n)
    c = 10 ** (np.log10(lo) + (np.log10(hi) - np.log10(lo)) * (b + 1) / n)
    return f"|grad| {format_number(a, 2)}–{format_number(c, 2)}"


# ============================================================================================
# backward animation
# ============================================================================================
def backward_animation(obj, *, duration: int = 500, max_frames: int = 300, theme: str = "light",
                       **kw) -> go.Figure:
    """A Figure whose frames light up the backward pass: edges in reverse topological order (for
    each op, latest first: the gradient arriving from its output, then what it sends to each
    input), each edge labelled with its gradient as it lights; a tensor's grad appears once all its
    contributions have arrived. Play / pause buttons and a slider."""
    g = _as_graph(obj)
    fig = figure(g, theme=theme, _anim=True, **kw)
    th = THEMES[theme] if isinstance(theme, str) else theme
    lay, s = fig._vizgrad["layout"], fig._vizgrad["scale"]
    eidx = {(u, v): k for k, (u, v) in enumerate(lay.edges)}
    ops = [n for n in _topo_order(g) if g.nodes[n]["kind"] in ("op", "module")]
    steps = []
    for op in reversed(ops):
        for _, v in g.out_edges(op):
            steps.append(eidx[(op, v)])
        ins = sorted(g.in_edges(op, data=True), key=lambda e: e[2].get("index", 0))
        steps.extend(eidx[(u, op)] for u, _, _ in ins)
    per = max(1, math.ceil(len(steps) / max_frames))
    chunks = [steps[i:i + per] for i in range(0, len(steps), per)]
    ids = lay.ids
    tix = [i for i, n in enumerate(ids) if g.nodes[n]["kind"] == "tensor"]
    # frame at which each tensor's grad is complete: after its last outgoing edge lit (roots: 0)
    done_at = {}
    for i in tix:
        outs = [eidx[(ids[i], v)] for v in g.successors(ids[i])]
        if not outs:
            done_at[i] = 0
        else:
            pos = {k: f + 1 for f, ch in enumerate(chunks) for k in ch}
            done_at[i] = max(pos.get(k, 10 ** 9) for k in outs)
    fs = 12.0 * s
    efs = 10.0 * s

    def lit_traces(f):
        lit = [k for ch in chunks[:f] for k in ch]
        cur = chunks[f - 1] if f else []
        xs, ys = _nan_join(lay, lit) if lit else (np.zeros(0), np.zeros(0))
        cx, cy = _nan_join(lay, cur) if cur else (np.zeros(0), np.zeros(0))
        lab = [k for k in lit if lay_grad(k) is not None]
        txt = [_esc(_short(lay_grad(k))) for k in lab]
        gt = []
        for i in tix:
            d = g.nodes[ids[i]]
            gt.append(f"grad {_short(d['grad'])}" if d.get("grad") is not None and done_at[i] <= f else "")
        return [
            go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=th["edges"][3], width=3 * min(s, 1) + 0.5)),
            go.Scatter(x=cx, y=cy, mode="lines", line=dict(color=th["accent"], width=5 * min(s, 1) + 1)),
            go.Scatter(x=lay.label_xy[lab, 0] if lab else [], y=(lay.label_xy[lab, 1] - 9) if lab else [],
                       mode="text", text=txt),
            go.Scatter(x=lay.x[tix], y=lay.y[tix] + lay.h[tix] / 2 - 11, mode="text", text=gt),
        ]

    edges_data = [e for _, _, e in g.edges(data=True)]

    def lay_grad(k):
        return edges_data[k].get("grad")

    base = lit_traces(0)
    n0 = len(fig.data)
    styles = [dict(hoverinfo="skip", showlegend=False, name="lit"),
              dict(hoverinfo="skip", showlegend=False, name="current"),
              dict(hoverinfo="skip", showlegend=False, name="edge grads",
                   textfont=dict(family=_MONO, size=efs, color=th["grad"])),
              dict(hoverinfo="skip", showlegend=False, name="node grads",
                   textfont=dict(family=_MONO, size=fs, color=th["grad"]))]
    for t, st in zip(base, styles):
        t.update(**st)
    # the lit traces go under the hover targets (last two traces) so hover keeps working
    data = list(fig.data)
    fig.data = []
    fig.add_traces(data[:-2] + base + data[-2:])
    idx = list(range(n0 - 2, n0 + 2))
    frames = []
    for f in range(len(chunks) + 1):
        tr = lit_traces(f)
        for t, st in zip(tr, styles):
            t.update(**st)
        frames.append(go.Frame(data=tr, traces=idx, name=str(f)))
    fig.frames = frames
    play = dict(frame=dict(duration=duration, redraw=True), fromcurrent=True, transition=dict(duration=0),
                mode="immediate")
    fig.update_layout(
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=1.0, xanchor="left", yanchor="bottom",
                          pad=dict(t=0, r=4), showactive=False,
                          buttons=[dict(label="▶ play", method="animate", args=[None, play]),
                                   dict(label="❚❚ pause", method="animate",
                                        args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate",
                                                           transition=dict(duration=0))])])],
        sliders=[dict(active=0, x=min(0.5, 170 / (fig.layout.width or 800)), len=1 - min(0.5, 170 / (fig.layout.width or 800)),
                      y=1.0, yanchor="bottom", pad=dict(t=0, b=0),
                      currentvalue=dict(prefix="step ", font=dict(size=11)),
                      steps=[dict(method="animate", label=str(f),
                                  args=[[str(f)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                       transition=dict(duration=0))])
                             for f in range(len(frames))])],
    )
    fig.update_layout(margin=dict(t=max(fig.layout.margin.t or 0, 70)), height=(fig.layout.height or 400) + 60)
    fig._vizgrad = dict(graph=g, layout=lay, scale=s, steps=chunks)
    return fig


def _short(a):
    """One-line gradient text for an edge: a number, a flat list of up to 3, or the norm."""
    if a is None:
        return ""
    return format_value(a, max_elems=3, sep=" ", shape=False, flat=True, digits=3 if np.size(a) == 1 else 2)


def _topo_order(g):
    index = {n: i for i, n in enumerate(g.nodes)}
    return list(nx.lexicographical_topological_sort(g, key=index.get))


# ============================================================================================
# events and notebook display
# ============================================================================================
def _is_event(obj) -> bool:
    return isinstance(obj, dict) or hasattr(obj, "selection") or isinstance(obj, list)


def _split_args(args):
    """(event, graph or None) from (event,), (fig_or_graph, event) or (event, fig_or_graph)."""
    if len(args) == 1:
        return args[0], None
    a, b = args
    return (b, a) if _is_event(b) and not _is_event(a) else (a, b)


def _points(event) -> list:
    """The points of a plotly click event ({"points": [...]}), a Streamlit selection state
    ({"selection": {"points": [...]}}, also by attribute) or a bare list of points."""
    if event is None:
        return []
    if isinstance(event, list):
        return event
    sel = event.get("selection") if isinstance(event, dict) else getattr(event, "selection", None)
    if sel is not None:
        pts = sel.get("points") if isinstance(sel, dict) else getattr(sel, "points", None)
        return list(pts or [])
    if isinstance(event, dict):
        if "points" in event:
            return list(event["points"] or [])
        if "customdata" in event:
            return [event]
    return []


def _customdata(p):
    cd = p.get("customdata") if isinstance(p, dict) else getattr(p, "customdata", None)
    if isinstance(cd, (list, tuple)) and len(cd) == 1:
        cd = cd[0]
    return cd


def node_at(*args):
    """The graph node id that a plotly click event or a Streamlit selection points at, or None
    (e.g. when it is on an edge). node_at(event), or node_at(fig_or_graph, event) to also check
    the id is in that graph."""
    event, graph = _split_args(args)
    g = _graph_of(graph)
    for p in _points(event):
        cd = _customdata(p)
        if isinstance(cd, str) and (g is None or cd in g):
            return cd
    return None


def edge_at(*args):
    """The (source, target) edge that a plotly click / Streamlit selection points at, or None."""
    event, graph = _split_args(args)
    g = _graph_of(graph)
    for p in _points(event):
        cd = _customdata(p)
        if isinstance(cd, (list, tuple)) and len(cd) == 2 and (g is None or g.has_edge(cd[0], cd[1])):
            return (str(cd[0]), str(cd[1]))
    return None


def _graph_of(obj):
    if obj is None:
        return None
    if isinstance(obj, nx.DiGraph):
        return obj
    meta = getattr(obj, "_vizgrad", None)
    return meta["graph"] if meta else None


def show(*roots, **kw):
    """Display the figure of the graph behind roots (a notebook shows it inline)."""
    kwf = {k: v for k, v in kw.items() if k != "renderer"}
    obj = roots[0] if len(roots) == 1 else list(roots)
    fig = figure(obj, **kwf)
    fig.show(renderer=kw.get("renderer"))
    return fig
