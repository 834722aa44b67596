"""The figure: a traced graph drawn with plotly, values on the nodes, gradients flowing back along the edges.

    import vizgrad.plot as vp
    fig = vp.figure(z)                      # or vp.figure(vizgrad.graph.trace(z)); fig.show()
    fig = vp.figure(z, theme="dark", show_values=False, highlight_nodes={"t0", "op0"}, dim_others=True)
    fig = vp.figure(g, vp.FigureOptions(pending={"t3"}, pending_label="gradient not final yet"))

Tensors are rounded boxes (label, data, grad), ops are circles with their symbol, collapsed modules
are green boxes. Coordinates are in pixels at scale 1 (vizgrad.plot.layout): the figure is sized so
a small graph is drawn 1:1; a graph larger than max_width x max_height is scaled down, fonts with
it, and when the fonts would be too small (or above `label_threshold` nodes) the text is dropped
and nodes become markers; above `webgl_threshold` nodes the markers are WebGL (Scattergl) and the
edges stay SVG lines with open arrowheads (both measured fastest by bench/render.py --browser). Hover
shows full detail in every mode. Edge colour and width follow |grad| in log-spaced bins (legend).
Options (vizgrad.plot.style.FigureOptions) say what is drawn; fig._vizgrad holds the graph, the
layout and the scale, for vizgrad.plot.events, the animation and tests.
"""
from __future__ import annotations

import re
from dataclasses import replace

import networkx as nx
import numpy as np
import plotly.graph_objects as go

from vizgrad.graph import format_number, format_value, grad_norm, trace
from vizgrad.graph.steps import simplify_rule
from vizgrad.plot.cells import MAX_SIDE, box_size, grid, map_traces, maps_of
from vizgrad.plot.layout import arrowheads, back_routes, chevrons, circles, layout, place_labels, polylines, rounded_rects
from vizgrad.plot.style import (CATEGORY_NAMES, CHAR, LINE, MONO, FigureOptions, bin_name, category, category_rank,
                                esc, grad_bins, plotly_figure, short_grad, theme_colors)

__all__ = ["figure", "show", "as_graph", "plain_rule", "local_number"]


def _nb(s: str) -> str:
    return s.replace(" ", "\u00a0")

def computed(d) -> bool:
    """False for a tensor node marked not computed yet (the Walkthrough's forward steps: its value is
    a NaN placeholder), whose data is drawn as "?" and never as a number."""
    return d.get("computed") is not False

def _tensor_lines(d, values, grads, shapes, grad_color, muted, max_elems=6):
    """Text lines of a tensor box (plotly HTML) and their plain lengths."""
    head = f"<b>{esc(d['label'])}</b>"
    plain = [d["label"]]
    if shapes and len(d["shape"]):
        sh = "×".join(str(s) for s in d["shape"])
        head += f" <span style='color:{muted}'>{sh}</span>"
        plain[0] += " " + sh
    lines = [head]
    if values and not computed(d):  # the Walkthrough's forward pass before this tensor's op: no number yet
        lines.append(esc(_nb("data ?")))
        plain.append("data ?")
    elif values:
        for i, row in enumerate(format_value(d["value"], max_elems=max_elems, shape=not shapes, digits=2 if d["value"].size > 1 else 3).split("\n")):
            t = ("data " if i == 0 else "     ") + row
            lines.append(esc(_nb(t)))
            plain.append(t)
    if grads and d.get("grad") is not None:
        for i, row in enumerate(format_value(d["grad"], max_elems=max_elems, shape=not shapes, digits=2 if d["grad"].size > 1 else 3).split("\n")):
            t = ("grad " if i == 0 else "     ") + row
            lines.append(f"<span style='color:{grad_color}'>{esc(_nb(t))}</span>")
            plain.append(t)
    return lines, plain

def _detail(a) -> str:
    """Full-detail text of a value for hover (fast path for scalars)."""
    if a.ndim == 0:
        return format_number(a.item(), 6)
    return esc(format_value(a, max_elems=24, digits=5, sep="<br>"))

def _hover(n, d, g) -> str:
    k = d["kind"]
    if k == "tensor":
        kind = ("leaf (parameter)" if d.get("param") else "leaf") if d["is_leaf"] else \
            "computed" if computed(d) else "made by an op"
        s = (f"<b>{esc(d['label'])}</b> ({n})<br>shape {d['shape']}  {d['dtype']}<br>{kind}, "
             f"requires_grad={d['requires_grad']}<br>data: "
             + (_detail(d["value"]) if computed(d) else "not computed yet"))
        gr = d.get("grad")
        if gr is not None:
            s += "<br>grad: " + _detail(gr)
            if gr.size > 1:
                s += f"<br>‖grad‖ = {format_number(grad_norm(gr), 5)}"
        else:
            s += "<br>grad: none yet" if d["requires_grad"] else "<br>grad: none (no requires_grad)"
        return s
    if k == "module":
        return "<br>".join([f"<b>{esc(d['label'])}</b>: {esc(d['cls'])} ({n})", f"{len(d['members'])} nodes inside",
                            "scope: " + esc(" / ".join(d.get("scope") or ()))])
    ins = d.get("inputs") or []
    lat = d.get("latex") or ()
    parts = [f"<b>{esc(d['symbol'])}</b>  {d['op']} ({n})"]
    labels = [g.nodes[u]["label"] if u in g else u for u in ins]
    for i, lbl in enumerate(labels):
        rule = plain_rule(lat[i], labels) if i < len(lat) and lat[i] else "?"
        num = local_number(g, n, i)
        line = f"∂out/∂{esc(lbl)} = {esc(rule)}"
        if num is not None:  # a scalar: the number, and the operand values it was computed at
            at = [f"{esc(lb)} = {format_number(float(np.asarray(g.nodes[u]['value']).reshape(())), 4)}"
                  for u, lb in zip(ins, labels) if re.search(rf"(?<![A-Za-z_]){re.escape(lb)}(?!\w)", rule)  # 2x names x
                  and np.size(g.nodes[u].get("value")) == 1]
            num_s = format_number(num, 4)
            line += (f" = {num_s}" if num_s != rule.strip() else "") + (f"  (at {', '.join(dict.fromkeys(at))})" if at else "")
        elif g.has_edge(ins[i], n) and g.edges[ins[i], n].get("grad") is not None:
            line += f"  → sends {esc(short_grad(g.edges[ins[i], n]['grad']))}"
        parts.append(line)
    if d.get("scope"):
        parts.append("in " + esc(" / ".join(d["scope"])))
    return "<br>".join(parts)

_PLAIN_TEX = [(r"\,", "·"), (r"\cdot", "·"), (r"\times", "×"), (r"\top", "ᵀ"), (r"\odot", "⊙"),
              (r"\left", ""), (r"\right", ""), (r"\operatorname", ""), (r"\textstyle", ""), (r"\sum", "Σ"),
              (r"\lVert", "‖"), (r"\rVert", "‖"), (r"\lnot", "¬"), (r"\le", "≤"), (r"\ge", "≥"), ("\\", "")]
_ARG = r"\{((?:[^{}]|\{[^{}]*\})*)\}"   # a {...} argument, with at most one level of braces inside

def _group(t: str) -> str:
    bare = t.replace("\x00", "").replace("\x01", "")
    return t if len(bare) <= 1 or re.fullmatch(r"[\w.]+|\x00[^\x01]*\x01", t) else f"({t})"

def plain_rule(rule: str, labels) -> str:
    """A local-derivative rule (LaTeX over placeholders a, b, c; g the upstream gradient) as short
    plain text with the operand labels in, as a teacher writes it (vizgrad.graph.steps.simplify_rule,
    as the Walkthrough's equations): '2\\,a^{1}' -> '2x', '3\\,a^{2}' -> '3y^2', '1\\,a^{0}' -> '1',
    '-\\frac{a}{b^{2}}' -> '-x/(y^2)'. A number times a one-letter label is juxtaposed (2x), else · (2·t3)."""
    rule = simplify_rule(rule)
    rule = re.sub(r"(?<![\d.])1\\,(?=.)", "", rule)      # a coefficient 1 (1·1 of x**1 is 1)
    rule = rule.replace(r"^{\top}", "ᵀ").replace(r"}\ln", r"}\,\ln")
    for ph, lab in zip("abc", labels):
        rule = re.sub(rf"(?<![\\A-Za-z]){ph}(?![A-Za-z])", lambda m, lab=lab: "\x00" + lab + "\x01", rule)
    rule = re.sub(r"\\t?frac" + _ARG + _ARG, lambda m: _group(m[1]) + "/" + _group(m[2]), rule)
    rule = re.sub(r"\\sqrt" + _ARG, r"sqrt(\1)", rule)
    rule = re.sub(r"\^" + _ARG, lambda m: "^" + _group(m[1]), rule)
    for a, b in _PLAIN_TEX:
        rule = rule.replace(a, b)
    rule = rule.replace("{", "").replace("}", "")
    rule = re.sub(r"(?<![\w.])(\d+(?:\.\d+)?)·\x00([A-Za-z])\x01", r"\1\2", rule)   # 2·x -> 2x
    rule = re.sub(r"([A-Za-z0-9])\x00", r"\1 ", rule)
    return rule.replace("\x00", "").replace("\x01", "").strip()

def local_number(g, op, i):
    """The number ∂out/∂input_i of a scalar op (output and that input both scalars), read off the
    graph: the gradient sent to the input is upstream × local, so local = sent / upstream. None for
    tensors (a Jacobian, not a number) and when the upstream gradient is 0 or missing."""
    d = g.nodes[op]
    ins, out = d.get("inputs") or [], d.get("output")
    if i >= len(ins) or out not in g:
        return None
    up = g.nodes[out].get("grad")
    e = g.edges[ins[i], op] if g.has_edge(ins[i], op) else None
    if up is None or e is None or np.size(up) != 1 or g.nodes[ins[i]].get("kind") != "tensor":
        return None
    if len(g.nodes[ins[i]].get("shape") or ()) or len(g.nodes[out].get("shape") or ()):
        return None
    idx = list(e.get("indices") or (e.get("index", 0),))
    gs = e.get("grads") or (e.get("grad"),)
    sent = gs[idx.index(i)] if i in idx and idx.index(i) < len(gs) else None
    u = float(np.asarray(up).reshape(()))
    if sent is None or u == 0.0 or not np.isfinite(u):
        return None
    return float(np.asarray(sent, dtype=np.float64).reshape(())) / u

def _edge_hover(u, v, e, nodes) -> str:
    su, sv = nodes[u], nodes[v]
    a = su["label"] if su["kind"] == "tensor" else su["symbol"]
    b = sv["label"] if sv["kind"] == "tensor" else sv["symbol"]
    s = f"{esc(a)} → {esc(b)}  ({u} → {v})"
    if e.get("kind") == "input":
        s += "<br>operand " + ", ".join(map(str, e.get("indices", (e.get("index", 0),))))
    gr = e.get("grad")
    if gr is None:
        return s + "<br>no gradient (yet)"
    s += "<br>gradient flowing back:<br>" + _detail(np.asarray(gr))
    gs = e.get("grads") or ()
    if len(gs) > 1:
        s += "<br>(sum of " + " + ".join(esc(format_value(x, max_elems=3)) for x in gs if x is not None) + ")"
    return s

def as_graph(obj, collapse=None):
    if isinstance(obj, nx.DiGraph):
        return obj
    return trace(obj, collapse=collapse)

def figure(obj, options: FigureOptions | None = None, **overrides) -> go.Figure:
    """A plotly Figure of a graph (from vizgrad.graph.trace) or of the graph behind a tensor.

    options: a FigureOptions (vizgrad.plot.style: what each field does, and its default); keyword
    overrides replace its fields, so figure(g, theme="dark", show_values=False) works without one.
    """
    traces, layout_, meta = drawing(obj, options, **overrides)
    fig = plotly_figure(traces, layout_)
    # for node_at, animations and tests; without the graph (keep_graph=False) a figure, a web of reference
    # cycles, does not keep the graph's arrays alive until a garbage collection
    fig._vizgrad = meta
    return fig


def drawing(obj, options: FigureOptions | None = None, **overrides):
    """What figure() draws, before plotly: (the traces, as dicts; the layout, a dict; fig._vizgrad's
    dict: the graph, the Layout, the scale). backward_animation adds its own traces and frames."""
    if "_anim" in overrides:  # backward_animation's old private keyword
        overrides["animation"] = overrides.pop("_anim")
    o = replace(options, **overrides) if options is not None else FigureOptions(**overrides)
    g = as_graph(obj, o.collapse)
    th = theme_colors(o.theme)
    anim = o.animation
    # the text shown can be narrowed below when the graph is too big to read it
    show_values, show_grads, show_shapes = o.show_values, o.show_grads, o.show_shapes
    ids = list(g.nodes)
    N = len(ids)
    nodes = [g.nodes[n] for n in ids]
    edges = list(g.edges(data=True))
    E = len(edges)
    webgl = N > o.webgl_threshold
    # big graphs: markers in WebGL; the edges stay SVG, one path per trace, which Chromium without a
    # GPU draws in a fraction of the time regl's WebGL lines take (bench/render.py --browser)
    Sc = "scattergl" if webgl else "scatter"
    hl_nodes = set(o.highlight_nodes or ())
    if o.highlight_edges is None:
        hl_edges = {(u, v) for u, v, _ in edges if u in hl_nodes and v in hl_nodes}
    else:
        hl_edges = {tuple(e) for e in o.highlight_edges}
    dimming = bool(o.dim_others and (hl_nodes or hl_edges))

    # -- node text and sizes at scale 1; the layout; the scale that fits the figure
    fs = float(o.font_size)
    efs = fs - 2
    kinds = [d["kind"] for d in nodes]
    cats = [category(d) for d in nodes]
    shape = ["circle" if k == "op" else "box" for k in kinds]
    grads = [e.get("grad") for _, _, e in edges]
    leg_h = 60 if o.legend else 0
    mt = 40 if o.title else 10
    mb = 10 + leg_h
    pad = 24.0
    labels = N <= o.label_threshold
    while True:
        texts, w, h, maps = _node_text(nodes, kinds, labels, fs, th, show_values, show_grads, show_shapes, anim,
                                       o.cell_maps)
        show_edge_text = labels and o.edge_labels and show_grads and not anim
        etext = [short_grad(gr) if show_edge_text and gr is not None else "" for gr in grads]
        # room for the edge text (the animation's too: it shows the same gradients frame by frame)
        room = labels and o.edge_labels and show_grads
        label_w = np.array([len(short_grad(gr)) * CHAR * efs if gr is not None else 0.0 for gr in grads]) \
            if room else None
        # room beside the edges for the gradients' arrows (backflow, below)
        roomy = o.backflow and room and not webgl and any(gr is not None for gr in grads)
        lay = _layout(g, w, h, shape, o, label_w, roomy, labels, pad)
        x0, y0, x1, y1 = lay.bbox() if N else (0, 0, 1, 1)
        natw, nath = (x1 - x0) + 2 * pad, (y1 - y0) + 2 * pad
        if o.natural and o.width is None and o.height is None:
            s = 1.0  # text at its size, boxes sized to it: the page scrolls, nothing is shrunk
            W = max(int(natw) + 44, 320)  # 20 of margins, 12 clear at each side
            H = max(int(nath) + mt + mb, 200)
            break
        if o.width is None and o.height is None:
            s = min(1.0, o.max_width / natw, (o.max_height - mt - mb) / nath)
            if s >= 1.0:  # small graphs are drawn larger, up to min_width wide
                s = max(1.0, min(1.5, o.min_width / natw, (o.max_height - mt - mb) / nath))
            W = max(int(natw * s) + 20, 420)
            H = max(int(nath * s) + mt + mb, 260)
        else:
            W = o.width or o.max_width
            H = o.height or o.max_height
            s = min((W - 20) / natw, (H - mt - mb) / nath)
        s = min(s, 1.5)
        s *= natw / (natw + 24 / s)  # keep ~12 px clear at each side whatever the scale
        if labels and s * fs < 6.5 and o.width is None:
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
    # -- edges, binned by |grad|. With gradients shown (backflow), the forward edges are thin and
    # neutral, and beside each edge that carries a gradient runs an arrow pointing back, from the
    # output toward the input, coloured and as wide as its |grad| bin, labelled with the gradient.
    mags = [grad_norm(gr) for gr in grads]
    nb = len(th["edges"])
    bins, rng = grad_bins(mags, nb)
    if anim:
        bins[:] = -1
    widths = np.linspace(1.2, 4.5, nb)
    ehl = np.array([(u, v) in hl_edges for u, v, _ in edges], bool) if E else np.zeros(0, bool)
    arrow = max(4.0, 9.0 * min(s, 1.0) / max(s, 1e-9)) if labels else 7.0 / max(s, 1e-9)
    line_shape = "spline" if (labels and not webgl) else "linear"
    wscale = max(min(s, 1), 0.5)
    backflow = bool(o.backflow and show_grads and labels and not webgl and not anim and E and (bins >= 0).any())
    if backflow:
        fbins = np.where(bins >= 0, -2, -1)
        edge_groups = [(-1, th["no_grad"], 1.2, "no gradient"), (-2, th["muted"], 1.0, "forward")]
    else:
        fbins = bins
        edge_groups = [(-1, th["no_grad"], 1.2, "no gradient")] + [
            (b, th["edges"][b], widths[b], bin_name(b, nb, rng)) for b in range(nb)]
    for b, col, wd, name in edge_groups:
        base_sel = fbins == b
        for dim, m in (((False, base_sel & ehl), (True, base_sel & ~ehl)) if dimming else ((False, base_sel),)):
            sel = np.nonzero(m)[0]
            if not len(sel):
                continue
            xs, ys = polylines(lay, sel)
            op = 0.18 if dim else (0.7 if b == -2 else 1.0)
            traces.append(dict(type="scatter", x=xs, y=ys, mode="lines",
                               line=dict(color=col, width=wd * wscale, shape=line_shape),
                               opacity=op, hoverinfo="skip", name=name, legendgroup=f"e{b}",
                               showlegend=o.legend and not dim and not anim and (b >= 0 or rng is None),
                               legendrank=20 + b))
            head = arrow * (0.8 if b == -2 else 1.0)
            if webgl or not labels:  # open heads: one path, however many edges
                cx_, cy_ = chevrons(lay, sel, head)
                traces.append(dict(type="scatter", x=cx_, y=cy_, mode="lines", opacity=op, hoverinfo="skip",
                                   showlegend=False,
                                   legendgroup=f"e{b}", name="arrowheads", line=dict(color=col, width=wd * wscale)))
            else:
                ax, ay, *_ = arrowheads(lay, sel, head)
                traces.append(dict(type=Sc, x=ax, y=ay, mode="lines", fill="toself", fillcolor=col, opacity=op,
                                   line=dict(color=col, width=0.5), hoverinfo="skip", showlegend=False,
                                   legendgroup=f"e{b}"))
    back = None
    if backflow:
        offs = 4.0 + widths[np.maximum(bins, 0)] / 2
        back = back_routes(lay, offs, shrink=3.0)
        for b in range(nb):
            for dim, m in (((False, (bins == b) & ehl), (True, (bins == b) & ~ehl)) if dimming
                           else ((False, bins == b),)):
                sel = np.nonzero(m)[0]
                if not len(sel):
                    continue
                col, op = th["edges"][b], 0.18 if dim else 1.0
                xs, ys = polylines(back, sel)
                traces.append(dict(type=Sc, x=xs, y=ys, mode="lines",
                                   line=dict(color=col, width=widths[b] * wscale, shape=line_shape),
                                   opacity=op, hoverinfo="skip", name=bin_name(b, nb, rng), legendgroup=f"e{b}",
                                   showlegend=o.legend and not dim, legendrank=20 + b,
                                   meta=dict(backflow=[list(lay.edges[k]) for k in sel])))
                ax, ay, *_ = arrowheads(back, sel, arrow + widths[b] * wscale)
                traces.append(dict(type=Sc, x=ax, y=ay, mode="lines", fill="toself", fillcolor=col, opacity=op,
                                   line=dict(color=col, width=0.5), hoverinfo="skip", showlegend=False,
                                   legendgroup=f"e{b}", name="backflow heads"))
    if hl_edges and E:
        # the highlighted edges in the accent colour: the gradient's arrow where there is one
        hb = ehl & (bins >= 0) if backflow else np.zeros(E, bool)
        for routes, m in ((lay, ehl & ~hb), (back, hb)):
            sel = np.nonzero(m)[0]
            if not len(sel):
                continue
            xs, ys = polylines(routes, sel)
            traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", hoverinfo="skip", name="highlighted",
                               line=dict(color=th["accent"], width=3.5, shape=line_shape), showlegend=False))
            ax, ay, *_ = arrowheads(routes, sel, arrow + (3.5 * wscale if routes is back else 0))
            traces.append(dict(type="scatter", x=ax, y=ay, mode="lines", fill="toself", fillcolor=th["accent"],
                               line=dict(color=th["accent"], width=0.5), hoverinfo="skip", showlegend=False))

    # -- nodes
    nhl = np.array([n in hl_nodes for n in ids], bool)
    # a box with maps has its text (the header line) at its top, and its hover target there too
    map_nodes = [i for i in range(N) if maps[i]]
    text_y = lay.y.astype(float).copy()
    text_y[map_nodes] = lay.y[map_nodes] - h[map_nodes] / 2 + 4 + LINE * fs / 2
    target = np.maximum(6.0, np.minimum(w, h) * s)
    target[map_nodes] = (LINE * fs + 6) * s
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
                    xs, ys = circles(lay.x[sel], lay.y[sel], w[sel] / 2)
                else:
                    xs, ys = rounded_rects(lay.x[sel], lay.y[sel], w[sel], h[sel], 8.0 if cat == "module" else 6.0)
                traces.append(dict(type=Sc, x=xs, y=ys, mode="lines", fill="toself", fillcolor=fill,
                                   opacity=0.25 if dim else 1,
                                   line=dict(color=line, width=2.0 if cat in ("module", "root") else 1.3),
                                   hoverinfo="skip", name=CATEGORY_NAMES[cat], legendgroup=cat, showlegend=False))
                if o.legend and not dim:
                    traces.append(dict(type=Sc, x=[None], y=[None], mode="markers", name=CATEGORY_NAMES[cat],
                                       legendgroup=cat,
                                       legendrank=category_rank(cat), hoverinfo="skip",
                                       marker=dict(symbol="circle" if cat == "op" else "square", size=13,
                                                   color=fill, line=dict(color=line, width=1.5))))
        if hl_nodes:
            sel = np.nonzero(nhl)[0]
            bx, by = rounded_rects(lay.x[sel], lay.y[sel], w[sel] + 6, h[sel] + 6, 9.0)
            traces.append(dict(type=Sc, x=bx, y=by, mode="lines", line=dict(color=th["accent"], width=3),
                               hoverinfo="skip",
                               name="highlighted", showlegend=o.legend, legendrank=90))
        # the heatmaps of vectors and matrices, under their header line (vizgrad.plot.cells)
        traces += map_traces([(ids[i], nodes[i], maps[i], lay.x[i], text_y[i] + LINE * fs / 2)
                              for i in map_nodes], o.theme, th["muted"], efs, s,
                             dim={ids[i] for i in map_nodes if dimming and not nhl[i]})
        # text
        tcol = [th["fg"] if not (dimming and not nhl[i]) else th["muted"] for i in range(N)]
        is_op = np.array([k == "op" for k in kinds])
        for sel, size in ((np.nonzero(~is_op)[0], fsz), (np.nonzero(is_op)[0], fsz + s)):
            if len(sel):
                traces.append(dict(type=Sc, x=lay.x[sel], y=text_y[sel], mode="text", text=[texts[i] for i in sel],
                                   textposition="middle center", hoverinfo="skip", showlegend=False,
                                   textfont=dict(family=MONO, size=size, color=[tcol[i] for i in sel])))
    else:
        sym = {"tensor": "square", "op": "circle", "module": "diamond"}
        for cat in order_cats:
            sel = np.nonzero(cat_arr == cat)[0]
            if not len(sel):
                continue
            fill, line = th[cat]
            traces.append(dict(type=Sc, x=lay.x[sel], y=lay.y[sel], mode="markers", hoverinfo="skip",
                               name=CATEGORY_NAMES[cat],
                               legendgroup=cat, showlegend=o.legend, legendrank=category_rank(cat),
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
            half = np.array([len(etext[k]) * CHAR * efs for k in sel]) / 2
            lx, ly = place_labels(lay, sel, 2 * half, efs * 1.25, clear=8.0 if backflow else 0.0)
            if s == 1.0 and o.natural:
                # at natural size the figure grows to hold a label placed beside an edge past the nodes
                over_l = max(0.0, x0 - pad - float(np.min(lx - half)))
                over_r = max(0.0, float(np.max(lx + half)) - (x1 + pad))
                over_t = max(0.0, y0 - pad - float(np.min(ly)) + efs)
                over_b = max(0.0, float(np.max(ly)) + efs - (y1 + pad))
                W, H = int(np.ceil(W + over_l + over_r)), int(np.ceil(H + over_t + over_b))
                xr = [xr[0] - over_l, xr[1] + over_r]
                yr = [yr[0] + over_b, yr[1] - over_t]
            traces.append(dict(type=Sc, x=lx, y=ly, mode="text",
                               text=[esc(etext[k]) for k in sel], hoverinfo="skip", showlegend=False,
                               textfont=dict(family=MONO, size=efs * s, color=col), name="edge grads",
                               meta=dict(edges=[list(lay.edges[k]) for k in sel])))
    # -- the veil over pending nodes (not computed yet, gradient not final yet): above the drawing,
    # under the hover / click targets so they stay clickable
    pend = set(o.pending or ())
    veiled = [i for i, n in enumerate(ids) if n in pend] if pend else []
    if veiled:
        xs, ys = [], []
        for i in veiled:
            x, y, wd, ht = float(lay.x[i]), float(lay.y[i]), float(lay.w[i]) + 4, float(lay.h[i]) + 4
            xs += [x - wd / 2, x + wd / 2, x + wd / 2, x - wd / 2, x - wd / 2, None]
            ys += [y - ht / 2, y - ht / 2, y + ht / 2, y + ht / 2, y - ht / 2, None]
        # a dotted outline: the boxes read as "not there yet", and the legend's swatch (a fill the
        # colour of the page would be invisible there) shows what the veil looks like
        traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", fill="toself", fillcolor=th["bg"], opacity=0.72,
                           line=dict(width=1, color=th["muted"], dash="dot"), hoverinfo="skip", name=o.pending_label,
                           showlegend=True, legendrank=95))
    # -- hover / click targets (customdata = ids; text as lists: plotly passes every numpy array through
    # narwhals on its way to JSON, for nothing when it holds text)
    if E:
        nd_ = g.nodes
        eh = [_edge_hover(u, v, e, nd_) for u, v, e in edges]
        traces.append(dict(type=Sc, x=lay.label_xy[:, 0], y=lay.label_xy[:, 1], mode="markers", name="edges",
                           marker=dict(size=8, color=th["muted"], opacity=0.0), showlegend=False,
                           customdata=[[str(u), str(v)] for u, v, _ in edges], hovertext=eh, hoverinfo="text"))
    traces.append(dict(type=Sc, x=lay.x, y=text_y, mode="markers", name="nodes", showlegend=False,
                       marker=dict(size=target, color=th["muted"], opacity=0.0), customdata=[str(n) for n in ids],
                       hovertext=[_hover(n, d, g) for n, d in zip(ids, nodes)], hoverinfo="text"))

    _no_selection_fade(traces)
    ax = dict(visible=False, showgrid=False, zeroline=False, fixedrange=False)
    layout_ = dict(
        width=W, height=H, margin=dict(l=10, r=10, t=mt, b=mb), paper_bgcolor=th["bg"], plot_bgcolor=th["bg"],
        font=dict(color=th["fg"], size=12), hovermode="closest", dragmode="pan",
        xaxis=dict(range=xr, **ax), yaxis=dict(range=yr, scaleanchor="x", scaleratio=1, **ax),
        showlegend=o.legend,
        legend=dict(orientation="h", yanchor="top", y=-0.01, xanchor="left", x=0, font=dict(size=11),
                    itemclick="toggle", bgcolor="rgba(0,0,0,0)", traceorder="normal"),
        hoverlabel=dict(font=dict(family=MONO, size=12), align="left"),
    )
    if o.title:
        layout_["title"] = dict(text=o.title, x=0.01, font=dict(size=15))
    return traces, layout_, dict(graph=g if o.keep_graph else None, layout=lay, scale=s)


def _layout(g, w, h, shape, o, label_w, roomy, labels, pad):
    """The layout in o.direction; "auto": left to right unless that is wider than o.fit_width and
    top to bottom overflows the screen (o.fit_width x o.fit_height) less."""
    def lay_in(direction):
        tb = direction == "TB"
        gap = (52.0 if roomy else 36.0) if labels else 24.0
        # top to bottom, the edge labels sit beside the edges: more room across, the rows as usual
        sep = (28.0 if tb and label_w is not None else 16.0) if labels else 8.0
        return layout(g, w, h, shape, label_w=label_w, gap=gap, sep=sep, direction=direction)

    if o.direction != "auto":
        return lay_in(o.direction)
    lr = lay_in("LR")
    if not o.fit_width or not len(lr.x):
        return lr
    def overflow(lay):
        x0, y0, x1, y1 = lay.bbox()
        return (max(0.0, x1 - x0 + 2 * pad + 44 - o.fit_width), max(0.0, y1 - y0 + 2 * pad + 80 - o.fit_height))

    over = overflow(lr)
    if over[0] == 0:
        return lr
    tb = lay_in("TB")
    return tb if sum(overflow(tb)) < sum(over) else lr


def _no_selection_fade(traces) -> None:
    """A click selects a point (Streamlit's on_select), and plotly then fades every unselected
    marker and text of every trace: the graph would go pale and the highlight with it. Selected
    and unselected points look exactly as drawn instead; the selection shows as vizgrad's highlight."""
    for t in traces:
        mode = t.get("mode") or ""  # a heatmap has none (and no selection look)
        look = {}
        if "text" in mode:
            col = (t.get("textfont") or {}).get("color")
            if not isinstance(col, str) and col is not None and len(set(col)) == 1:
                col = col[0]
            if isinstance(col, str):
                look["textfont"] = dict(color=col)
        if "markers" in mode:
            op = (t.get("marker") or {}).get("opacity")
            if op is None or isinstance(op, (int, float)):  # an array (dimmed points) stays as drawn
                look["marker"] = dict(opacity=1.0 if op is None else op)
        if look:
            t["selected"], t["unselected"] = look, look


def _node_text(nodes, kinds, labels, fs, th, show_values, show_grads, show_shapes, anim, cell_maps=True):
    """(texts, widths, heights, maps) of the nodes at scale 1; maps[i]: the heatmaps of a vector or
    matrix box (vizgrad.plot.cells.maps_of), [] for the rest. Without labels, small fixed sizes."""
    N = len(nodes)
    texts = [""] * N
    maps = [[] for _ in range(N)]
    w, h = np.empty(N), np.empty(N)
    if not labels:
        for i, k in enumerate(kinds):
            w[i], h[i] = ((14, 14) if k == "op" else (22, 14) if k == "tensor" else (30, 18))
        return texts, w, h, maps
    efs = fs - 2
    for i, d in enumerate(nodes):
        # the animation reveals gradients as text lines: its boxes keep the text
        m = maps_of(d, show_values, show_grads) if kinds[i] == "tensor" and cell_maps and not anim else []
        if m:
            maps[i] = m
            lines, plain = _tensor_lines(d, False, False, show_shapes, th["grad"], th["muted"])
            mw, mh = box_size(m, efs)
            texts[i] = lines[0]
            w[i] = max(len(plain[0]) * CHAR * fs + 16, mw + 16)
            h[i] = LINE * fs + 8 + mh + 6
            continue
        if kinds[i] == "tensor":
            lines, plain = _tensor_lines(d, show_values, show_grads and not anim, show_shapes, th["grad"], th["muted"])
            if cell_maps and show_values and np.size(d["value"]) > 1 and grid(d["value"]) is None:
                note = f"no map above {MAX_SIDE}×{MAX_SIDE}: hover"
                lines.append(f"<span style='color:{th['muted']}'>{esc(_nb(note))}</span>")
                plain.append(note)
            if anim and d.get("grad") is not None:  # room for the grad line the animation reveals
                lines.append("\u00a0")
                plain.append(" " * (5 + d.get("anim_grad_chars", len(short_grad(d["grad"])))))
            texts[i] = "<br>".join(lines)
            w[i] = max(len(x) for x in plain) * CHAR * fs + 16
            h[i] = len(lines) * LINE * fs + 8
        elif kinds[i] == "module":
            texts[i] = f"<b>{esc(d['label'])}</b><br><span style='color:{th['muted']}'>{esc(d['symbol'])}</span>"
            w[i] = max(len(d["label"]), len(d["symbol"])) * CHAR * fs + 24
            h[i] = 2 * LINE * fs + 14
        else:
            texts[i] = esc(d["symbol"])
            w[i] = h[i] = max(30.0, len(d["symbol"]) * CHAR * (fs + 1) + 14)
    return texts, w, h, maps

def show(*roots, **kw):
    """Display the figure of the graph behind roots (a notebook shows it inline)."""
    kwf = {k: v for k, v in kw.items() if k != "renderer"}
    obj = roots[0] if len(roots) == 1 else list(roots)
    fig = figure(obj, **kwf)
    fig.show(renderer=kw.get("renderer"))
    return fig
