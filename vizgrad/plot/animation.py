"""The backward pass as a plotly animation: frames light up the edges in the order gradients flow.

    import vizgrad.plot as vp
    anim = vp.backward_animation(z)          # a Figure with play / pause buttons and a step slider
    anim.show()

For each op, latest first: the gradient arriving from its output, then what it sends to each input;
each edge shows its gradient as it lights, and a tensor's grad appears once all its contributions
have arrived. Long passes are grouped into at most max_frames frames.
"""
from __future__ import annotations

import math
from dataclasses import replace

import networkx as nx
import numpy as np
import plotly.graph_objects as go

from vizgrad.plot.figure import as_graph, figure
from vizgrad.plot.layout import polylines
from vizgrad.plot.style import MONO, FigureOptions, esc, short_grad, theme_colors

__all__ = ["backward_animation"]


def backward_animation(obj, options: FigureOptions | None = None, *, duration: int = 500, max_frames: int = 300,
                       **overrides) -> go.Figure:
    """A Figure whose frames light up the backward pass: edges in reverse topological order (for
    each op, latest first: the gradient arriving from its output, then what it sends to each
    input), each edge labelled with its gradient as it lights; a tensor's grad appears once all its
    contributions have arrived. Play / pause buttons and a slider. options / overrides: as for figure;
    duration: milliseconds per frame while playing."""
    g = as_graph(obj)
    o = replace(options if options is not None else FigureOptions(), **overrides, animation=True)
    fig = figure(g, o)
    th = theme_colors(o.theme)
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
        xs, ys = polylines(lay, lit) if lit else (np.zeros(0), np.zeros(0))
        cx, cy = polylines(lay, cur) if cur else (np.zeros(0), np.zeros(0))
        lab = [k for k in lit if lay_grad(k) is not None]
        txt = [esc(short_grad(lay_grad(k))) for k in lab]
        gt = []
        for i in tix:
            d = g.nodes[ids[i]]
            gt.append(f"grad {short_grad(d['grad'])}" if d.get("grad") is not None and done_at[i] <= f else "")
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
                   textfont=dict(family=MONO, size=efs, color=th["grad"])),
              dict(hoverinfo="skip", showlegend=False, name="node grads",
                   textfont=dict(family=MONO, size=fs, color=th["grad"]))]
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

def _topo_order(g):
    index = {n: i for i, n in enumerate(g.nodes)}
    return list(nx.lexicographical_topological_sort(g, key=index.get))
