"""The backward pass as a plotly animation: frames light up the edges in the order gradients flow.

    import vizgrad.plot as vp
    anim = vp.backward_animation(z)          # a Figure with play / pause buttons and a step slider
    anim.show()                              # plays in the browser: no server round trips

Ops in reverse topological order, latest first; for each: the gradient arriving from its output,
then what it sends to each input (an operand used twice, as in `a * a`, is sent twice). Each
edge lights as a backward arrow (output toward input) labelled with its gradient; a tensor's grad
grows as its contributions arrive, each arrival shown as "+= contribution" (fan-out accumulation),
until it holds the sum. Every node carries its number in the backward order (1: the output).
Long passes are grouped into at most max_frames frames.
"""
from __future__ import annotations

import math
from dataclasses import replace

import networkx as nx
import numpy as np
import plotly.graph_objects as go

from vizgrad.graph.view import add_grads
from vizgrad.graph import grad_norm
from vizgrad.plot.figure import as_graph, drawing
from vizgrad.plot.layout import arrowheads, back_routes, place_labels, polylines
from vizgrad.plot.style import CHAR, MONO, FigureOptions, esc, grad_bins, plotly_figure, short_grad, theme_colors

__all__ = ["backward_animation", "backward_plan"]

MIN_TEXT = 10.0  # px: the animation's own text (order numbers, "+=", edge gradients) is never smaller


def backward_plan(g) -> dict:
    """The backward pass of a traced graph, step by step, as the animation shows it.

    steps: [(edge index in g.edges order, operand)]: operand is the position in the edge's grads
    (an input used twice has two), None for an op -> tensor edge (the gradient arriving at the op);
    contribution: per step, the gradient it adds to the edge's source tensor (None: adds nothing);
    order: {node: number in the backward order}: the output(s) 1, then each op as it runs and each
    tensor once its gradient is complete (all its consumers have run)."""
    edges = list(g.edges(data=True))
    eidx = {(u, v): k for k, (u, v, _) in enumerate(edges)}
    topo = _topo_order(g)
    ops = [n for n in topo if g.nodes[n]["kind"] in ("op", "module")]
    steps, contrib = [], []
    for op in reversed(ops):
        for _, v in g.out_edges(op):
            steps.append((eidx[(op, v)], None))
            contrib.append(None)
        ins = sorted(g.in_edges(op, data=True), key=lambda e: e[2].get("index", 0))
        for u, _, e in ins:
            k = eidx[(u, op)]
            gs = tuple(e.get("grads") or ())
            if len(gs) > 1:
                for j, c in enumerate(gs):
                    steps.append((k, j))
                    contrib.append(c)
            else:
                steps.append((k, 0))
                contrib.append(e.get("grad"))
    order, n = {}, 0
    for t in reversed(topo):  # outputs (and unused tensors) are complete from the start
        if g.nodes[t]["kind"] == "tensor" and g.out_degree(t) == 0:
            n += 1
            order[t] = n
    waiting = {t: g.out_degree(t) for t in g if g.nodes[t]["kind"] == "tensor"}
    for op in reversed(ops):
        n += 1
        order[op] = n
        for u, _, _ in sorted(g.in_edges(op, data=True), key=lambda e: e[2].get("index", 0)):
            if u in waiting:
                waiting[u] -= 1
                if waiting[u] == 0:
                    n += 1
                    order[u] = n
    for t in reversed(topo):
        if t not in order:
            n += 1
            order[t] = n
    return dict(steps=steps, contribution=contrib, order=order)


def backward_animation(obj, options: FigureOptions | None = None, *, duration: int = 500, max_frames: int = 300,
                       **overrides) -> go.Figure:
    """A Figure whose frames light up the backward pass (see backward_plan): each edge as a backward
    arrow (output toward input) labelled with its gradient as it lights, width and colour by its
    |grad|; each tensor's grad growing as its contributions arrive ("+= c" where one arrives); the
    backward-order number on every node. Play / pause buttons and a slider; plotly plays it in the
    browser. options / overrides: as for figure; duration: milliseconds per frame while playing."""
    g = as_graph(obj)
    o = replace(options if options is not None else FigureOptions(), **overrides, animation=True)
    plan = backward_plan(g)
    ids = list(g.nodes)
    edges = list(g.edges(data=True))
    tens = [n for n in ids if g.nodes[n]["kind"] == "tensor"]
    per = max(1, math.ceil(len(plan["steps"]) / max_frames))
    rng_steps = range(0, len(plan["steps"]), per)
    chunks = [list(range(i, min(i + per, len(plan["steps"])))) for i in rng_steps]
    # every tensor's running gradient after each frame (the outputs hold their seed from frame 0)
    run = {t: (g.nodes[t].get("grad") if g.out_degree(t) == 0 else None) for t in tens}
    edge_run = [None] * len(edges)
    hist, edge_hist, arrivals = [dict(run)], [list(edge_run)], [{}]
    for ch in chunks:
        got = {}
        for i in ch:
            k, _j = plan["steps"][i]
            u = edges[k][0]
            c = plan["contribution"][i]
            if _j is None:
                edge_run[k] = edges[k][2].get("grad")
            elif c is not None:
                edge_run[k] = add_grads(edge_run[k], np.asarray(c))
                if u in run:
                    run[u] = add_grads(run[u], np.asarray(c).reshape(np.shape(g.nodes[u]["value"]))
                                       if np.size(c) == np.size(g.nodes[u]["value"]) else np.asarray(c))
                    got[u] = add_grads(got.get(u), np.asarray(c))
        hist.append(dict(run))
        edge_hist.append(list(edge_run))
        arrivals.append(got)
    # the boxes leave room for the longest grad line any frame shows
    g = g.copy()
    for t in tens:
        texts = [short_grad(h[t]) for h in hist if h.get(t) is not None]
        if texts:
            g.nodes[t]["anim_grad_chars"] = max(len(x) for x in texts)
    data, layout_, meta = drawing(g, o)
    th = theme_colors(o.theme)
    lay, s = meta["layout"], meta["scale"]
    fs = 12.0 * s
    efs = max(MIN_TEXT, 10.0 * s)
    nb = len(th["edges"])
    bins, _ = grad_bins([grad_norm(e.get("grad")) for _, _, e in edges], nb)
    widths = np.linspace(1.2, 4.5, nb) * max(min(s, 1), 0.5)
    back = back_routes(lay, 4.0 + widths[np.maximum(bins, 0)] / 2, shrink=3.0)
    _, _, hx, hy, hang = arrowheads(back, np.arange(len(edges)), 1.0) if edges else ([], [], [], [], [])
    # angles as plotly keeps them, in [-180, 180) (its validator wraps them: 180 would become -180)
    hx, hy, hang = (np.asarray(v, float).tolist() for v in (hx, hy, (np.asarray(hang, float) + 180) % 360 - 180))
    lab = [k for k in range(len(edges)) if edges[k][2].get("grad") is not None]
    lx, ly = place_labels(lay, lab, [len(short_grad(edges[k][2]["grad"])) * CHAR * efs / max(s, 1e-9) for k in lab],
                          12.5, clear=8.0) if lab else (np.zeros(0), np.zeros(0))
    tix = [lay.index[t] for t in tens]
    top_right = ((lay.x[tix] + lay.w[tix] / 2).tolist(), (lay.y[tix] - lay.h[tix] / 2 - 7).tolist())
    grad_x, grad_y = lay.x[tix].tolist(), (lay.y[tix] + lay.h[tix] / 2 - 11).tolist()

    # frames carry Python lists, not numpy arrays (but long routes, _gapped): plotly converts each
    # array of a figure (a few hundred in the frames) through narwhals on its way to JSON, which cost
    # more than all the rest; the routes' gaps as None (JSON's null, which plotly reads as NaN), not
    # NaN, which plotly's JSON encoder writes and then parses and writes again to make it null
    def lit_traces(f):
        lit = sorted({plan["steps"][i][0] for ch in chunks[:f] for i in ch})
        cur = sorted({plan["steps"][i][0] for i in chunks[f - 1]}) if f else []
        out = []
        for b in range(nb):
            sel = [k for k in lit if bins[k] == b]
            xs, ys = polylines(back, sel)
            out.append(dict(type="scatter", x=_gapped(xs), y=_gapped(ys), mode="lines",
                            line=dict(color=th["edges"][b], width=float(widths[b]), shape="spline"),
                            meta=dict(edges=[list(edges[k][:2]) for k in sel])))
        out.append(dict(type="scatter", x=[hx[k] for k in lit], y=[hy[k] for k in lit], mode="markers",
                        marker=dict(symbol="triangle-right", angle=[float(hang[k]) for k in lit],
                                    size=[9 + 2 * float(widths[max(bins[k], 0)]) for k in lit],
                                    color=[th["edges"][max(bins[k], 0)] for k in lit], line=dict(width=0))))
        cx, cy = polylines(back, cur)
        out.append(dict(type="scatter", x=_gapped(cx), y=_gapped(cy), mode="lines",
                        line=dict(color=th["accent"], width=5 * min(s, 1) + 1, shape="spline"),
                        meta=dict(edges=[list(edges[k][:2]) for k in cur])))
        out.append(dict(type="scatter", x=[hx[k] for k in cur], y=[hy[k] for k in cur], mode="markers",
                        marker=dict(symbol="triangle-right", angle=[float(hang[k]) for k in cur], size=14,
                                    color=th["accent"], line=dict(width=0))))
        eh = edge_hist[f]
        on = [i for i, k in enumerate(lab) if eh[k] is not None]
        out.append(dict(type="scatter", x=lx[on].tolist(), y=ly[on].tolist(), mode="text",
                        text=[esc(short_grad(eh[lab[i]])) for i in on],
                        meta=dict(edges=[list(edges[lab[i]][:2]) for i in on])))
        h, got = hist[f], arrivals[f]
        out.append(dict(type="scatter", x=grad_x, y=grad_y, mode="text",
                        text=[f"grad {esc(short_grad(h[t]))}" if h.get(t) is not None else "" for t in tens],
                        textfont=dict(color=[th["accent"] if t in got else th["grad"] for t in tens]),
                        meta=dict(ids=tens)))
        out.append(dict(type="scatter", x=top_right[0], y=top_right[1], mode="text", textposition="middle left",
                        text=[f"<b>+= {esc(short_grad(got[t]))}</b>" if t in got else "" for t in tens],
                        meta=dict(ids=tens)))
        return out

    styles = ([dict(hoverinfo="skip", showlegend=False, name="lit")] * nb
              + [dict(hoverinfo="skip", showlegend=False, name="lit heads"),
                 dict(hoverinfo="skip", showlegend=False, name="current"),
                 dict(hoverinfo="skip", showlegend=False, name="current heads"),
                 dict(hoverinfo="skip", showlegend=False, name="edge grads",
                      textfont=dict(family=MONO, size=efs, color=th["grad"])),
                 dict(hoverinfo="skip", showlegend=False, name="node grads", textfont=dict(family=MONO, size=fs)),
                 dict(hoverinfo="skip", showlegend=False, name="accumulate", cliponaxis=False,
                      textfont=dict(family=MONO, size=max(MIN_TEXT, 11.0 * s), color=th["accent"]))])

    def styled(tr):  # each trace with its style (a nested dict, such as textfont, merged into the trace's)
        for t, st in zip(tr, styles):
            for k, v in st.items():
                t[k] = {**t[k], **v} if isinstance(v, dict) and isinstance(t.get(k), dict) else v
        return tr

    # the backward order on every node: a small badge at its top-left corner (static)
    circ = np.array([sh == "circle" for sh in lay.shape], bool)
    ox = np.where(circ, lay.x - (lay.w / 2 + 5) * 0.71, lay.x - lay.w / 2)  # circles: just outside, upper left
    oy = np.where(circ, lay.y - (lay.h / 2 + 5) * 0.71, lay.y - lay.h / 2)
    badge = dict(type="scatter", x=ox, y=oy, mode="markers+text", text=[str(plan["order"][n]) for n in ids],
                 textposition="middle center", hoverinfo="skip", showlegend=False, name="backward order",
                 cliponaxis=False,
                 marker=dict(size=max(17.0, 18 * min(s, 1)), color=th["bg"], line=dict(color=th["muted"], width=1)),
                 textfont=dict(family=MONO, size=max(MIN_TEXT, 10.0 * s), color=th["fg"]),
                 customdata=[plan["order"][n] for n in ids], meta=dict(ids=ids))
    base = styled(lit_traces(0))
    n_hover = 2 if edges else 1
    # the lit traces go under the hover targets (last traces) so hover keeps working
    first = len(data) - n_hover
    data = data[:-n_hover] + base + [badge] + data[-n_hover:]
    idx = list(range(first, first + len(base)))
    frames = [dict(data=styled(lit_traces(f)), traces=idx, name=str(f)) for f in range(len(chunks) + 1)]
    play = dict(frame=dict(duration=duration, redraw=True), fromcurrent=True, transition=dict(duration=0),
                mode="immediate")
    sx = min(0.5, 170 / (layout_["width"] or 800))
    layout_.update(
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=1.0, xanchor="left", yanchor="bottom",
                          pad=dict(t=0, r=4), showactive=False,
                          buttons=[dict(label="▶ play", method="animate", args=[None, play]),
                                   dict(label="❚❚ pause", method="animate",
                                        args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate",
                                                           transition=dict(duration=0))])])],
        sliders=[dict(active=0, x=sx, len=1 - sx, y=1.0, yanchor="bottom", pad=dict(t=0, b=0),
                      currentvalue=dict(prefix="step ", font=dict(size=11)),
                      steps=[dict(method="animate", label=str(f),
                                  args=[[str(f)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                       transition=dict(duration=0))])
                             for f in range(len(chunks) + 1)])],
    )
    layout_["margin"] = {**layout_["margin"], "t": max(layout_["margin"]["t"] or 0, 70)}
    layout_["height"] = (layout_["height"] or 400) + 60
    fig = plotly_figure(data, layout_, frames)
    fig._vizgrad = dict(graph=g if o.keep_graph else None, layout=lay, scale=s,
                        steps=[[plan["steps"][i][0] for i in ch] for ch in chunks],
                        plan=plan, chunks=chunks)
    return fig

def _gapped(a):
    """A route's coordinates for a frame: a short one as a list, its NaN gaps as None; a long one
    (above 256 points) stays a numpy array, which plotly sends as base64 (its narwhals pass costs
    about what 300 numbers written as JSON text do, and the text is a third longer)."""
    return a if len(a) > 256 else [None if v != v else v for v in a.tolist()]

def _topo_order(g):
    index = {n: i for i, n in enumerate(g.nodes)}
    return list(nx.lexicographical_topological_sort(g, key=index.get))
