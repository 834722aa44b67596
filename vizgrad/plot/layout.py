"""Where everything goes: the layered left-to-right layout of a graph, and the shapes drawn from it.

    import vizgrad.plot as vp
    lay = vp.layout(g)                  # Layout: node centres and sizes, edge routes, in pixels at scale 1
    lay.x, lay.y, lay.points(0)         # node 0's centre; edge 0's route (xs, ys)

Layered, left to right or top to bottom (Sugiyama style): longest-path layers with leaves pulled next to their first
consumer, dummy nodes on long edges, barycenter sweeps to reduce crossings, then y coordinates by a
few vectorized rounds of "move to the mean of your neighbours, then keep the order and the spacing"
(so chains are straight and nothing overlaps). Everything after the layer assignment is numpy over
all nodes or one layer at a time. Deterministic.

Also here, vectorized over nodes or edges: the polylines of edge routes (NaN-separated, one trace
for many edges), arrowheads, rounded boxes and circles, and the spots for edge labels.
"""
from __future__ import annotations

import math

import networkx as nx
import numpy as np

__all__ = ["Layout", "layout", "polylines", "arrowheads", "chevrons", "back_routes", "rounded_rects", "circles", "place_labels"]


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
           sweeps: int = 4, rounds: int = 12, max_dummies: int | None = None, direction: str = "LR") -> Layout:
    """Layered layout of g, left to right (direction="LR") or top to bottom ("TB"). w, h: node
    sizes (arrays in g's node order, default 40 x 24); shape: 'box' / 'circle' per node (from the
    node kind by default); label_w: width of each edge's label (array in g's edge order) so the gap
    before the target leaves room for it (LR only: top to bottom, labels sit beside the edges).
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
    tb = direction == "TB"
    if direction not in ("LR", "TB"):
        raise ValueError(f"direction must be 'LR' or 'TB', not {direction!r}")
    if tb:  # the same layered layout with the axes swapped: layers are rows, the order runs across
        w, h = h, w
        label_w = None
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
    if tb:
        X, Y, w, h = Y, X, h, w

    # -- 6. routes: source border -> dummies -> target border
    px, py, ptr = _routes(X, Y, w, h, shape, src, dst, nd_e, d_id, first, longe, E)
    # label anchor: middle of the last segment (entering the target)
    end = ptr[1:] - 1
    label_xy = np.stack([(px[end] + px[end - 1]) / 2, (py[end] + py[end - 1]) / 2], 1) if E else np.zeros((0, 2))
    return Layout(ids=ids, index=index, x=X[:N], y=Y[:N], w=w, h=h, shape=shape, layer=layer, edges=edges,
                  src=src, dst=dst, px=px, py=py, ptr=ptr, label_xy=label_xy, n_dummies=D, n_layers=L,
                  crossings=int(best), direction=direction)

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

def rounded_rects(x, y, w, h, r=6.0, k=4):
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

def circles(x, y, r, k=28):
    a = np.linspace(0, 2 * np.pi, k)
    X = np.concatenate([x[:, None] + r[:, None] * np.cos(a), np.full((len(x), 1), np.nan)], 1)
    Y = np.concatenate([y[:, None] + r[:, None] * np.sin(a), np.full((len(x), 1), np.nan)], 1)
    return X.ravel(), Y.ravel()

def polylines(lay, ks):
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

def arrowheads(lay, ks, size):
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

def chevrons(lay, ks, size):
    """Open arrowheads (a V of two strokes meeting at the target end) of edges ks, NaN separated:
    drawn as lines, so WebGL draws thousands at the cost of their edges. (Triangle markers turned
    per point, marker.angle, made a 5,000-op Scattergl figure take 30 s to draw in Chromium here.)"""
    X, Y, *_ = arrowheads(lay, ks, size)
    # arrowheads' rows are tip, corner, corner, tip, NaN: corner, tip, corner, NaN is the V
    X, Y = X.reshape(-1, 5), Y.reshape(-1, 5)
    return X[:, [1, 0, 2, 4]].ravel(), Y[:, [1, 0, 2, 4]].ravel()

def back_routes(lay, offset, shrink: float = 3.0):
    """The routes of the gradients flowing back: each edge's route reversed (target to source),
    moved `offset` pixels (scalar or one per edge) to the side its label goes (the upper normal of
    each segment, as place_labels) and shortened by `shrink` at both ends. Returns an object with
    ptr, px, py like a Layout's, so polylines and arrowheads draw it (arrowheads then sit at the
    source: pointing into the input)."""
    E = len(lay.ptr) - 1
    ptr = lay.ptr
    off = np.broadcast_to(np.asarray(offset, float), (E,))
    n = np.diff(ptr)
    edge_of = np.repeat(np.arange(E), n)
    # reversed point order within each route
    start = np.repeat(ptr[:-1], n)
    rev = start + (np.repeat(ptr[1:], n) - 1 - np.arange(len(lay.px)))
    px, py = lay.px[rev].astype(float), lay.py[rev].astype(float)
    P = len(px)
    if P == 0:
        return Layout(ptr=ptr, px=px, py=py)
    # segment normals (the upper side, as place_labels), averaged at the interior points
    dx, dy = np.diff(px), np.diff(py)
    ln = np.hypot(dx, dy).clip(1e-9)
    nx_, ny_ = -dy / ln, dx / ln            # reversed direction: (-dy', dx') of the forward one
    flip = ny_ > 0
    nx_, ny_ = np.where(flip, -nx_, nx_), np.where(flip, -ny_, ny_)
    valid = np.ones(P - 1, bool)
    valid[ptr[1:-1] - 1] = False            # the joins between routes are no segments
    nx_, ny_ = np.where(valid, nx_, 0.0), np.where(valid, ny_, 0.0)
    ax = np.zeros(P)
    ay = np.zeros(P)
    ax[:-1] += nx_
    ay[:-1] += ny_
    ax[1:] += nx_
    ay[1:] += ny_
    nrm = np.hypot(ax, ay).clip(1e-9)
    d = off[edge_of]
    qx, qy = px + ax / nrm * d, py + ay / nrm * d
    # shorten both ends along their segment
    a, b = ptr[:-1], ptr[1:] - 1
    for i, j in ((a, a + 1), (b, b - 1)):
        ex, ey = qx[j] - qx[i], qy[j] - qy[i]
        el = np.hypot(ex, ey).clip(1e-9)
        t = np.minimum(shrink, 0.4 * el) / el
        qx[i], qy[i] = qx[i] + ex * t, qy[i] + ey * t
    return Layout(ptr=ptr, px=qx, py=qy)

def place_labels(lay, ks, widths, height, clear: float = 0.0):
    """Centres for edge labels: each sits just above its edge's last segment, at the first of a
    few points along it (middle first) where it overlaps no node and no label placed before;
    `clear`: extra distance from the line (room for the gradient's arrow beside it)."""
    m = 4.0  # keep labels a little off the nodes
    nodes_b = np.stack([lay.x - lay.w / 2 - m, lay.y - lay.h / 2 - m, lay.x + lay.w / 2 + m, lay.y + lay.h / 2 + m], 1)
    placed = np.zeros((0, 4))
    out_x, out_y = [], []
    across = getattr(lay, "direction", "LR") == "TB"
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
        dist = abs(nx_) * wd / 2 + abs(ny_) * height / 2 + 1.5 + clear
        offs = [(nx_ * dist, ny_ * dist)]
        if across and abs(dy) > 0.3 * abs(dx):
            # top to bottom: the label beside its edge, level, on the gradient's arrow side first (the
            # upper normal's), else the other side, just far enough sideways to clear the line;
            # then along the normal as left to right
            side = 1.0 if nx_ >= 0 else -1.0
            hx = wd / 2 + height / 2 * abs(dx / dy) + 1.5 + clear
            offs = [(side * hx, 0.0), (-side * (hx - clear), 0.0)] + offs
        for t, (ox, oy) in [(t, o) for t in (0.5, 0.35, 0.65, 0.2, 0.8) for o in offs] + [(0.5, offs[0])]:
            cx, cy = x0 + t * dx + ox, y0 + t * dy + oy
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
            best = (x0 + 0.5 * dx + offs[0][0], y0 + 0.5 * dy + offs[0][1], None)
        out_x.append(best[0])
        out_y.append(best[1])
        if best[2] is not None:
            placed = np.vstack([placed, best[2][None]])
    return np.array(out_x), np.array(out_y)
