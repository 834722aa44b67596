"""The Network Playground's plotly figures (hover and clicks; drawn while paused): the network
diagram, the output over the input plane, one neuron's output, and the autograd graph of a step.

    snap = snapshot(trainer)                          # vizgrad.net.diagram
    network_figure(snap, mode="weight")               # TensorFlow-Playground-style diagram (mode="grad": |grad|)
    decision_figure(trainer.predict_grid(50), trainer.dataset)   # heatmap with train / test points
    neuron_figure(trainer.neuron_outputs_grid(0, 3), title="layer 1, neuron 4")
    neuron_at(event)                                  # the (layer, unit) a click on the diagram picked
    g = step_graph(trainer, collapse={"0", "1"})      # the autograd graph of one training step (vizgrad.plot.figure)

Clicks: every neuron point of the diagram carries customdata [layer, unit], layer -1 for the
input features and len(hidden) for the output layer. The loss and gradient-norm curves are in
vizgrad.net.curves, the live images in vizgrad.net.svg. No Streamlit here.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from vizgrad.graph import trace
from vizgrad.net.diagram import (BOX, EDGE_OPACITY, Snapshot, check_mode, column_header, column_layer, diagram_height,
                                 edge_groups, edge_legend, neuron_title, node_image, node_positions, view_box)
from vizgrad.net.plane import plane_image
from vizgrad.net.style import (ACCENT, BORDER, CLASS_COLORS, FG, GREY, MUTED, NEG, NODE_FILL, NODE_LINE, POS, SCALE,
                               TRAIN_EDGE, axis, base_layout, fmt_value, make_figure, plotly_text, png_data_uri,
                               trace_dict)

__all__ = ["network_figure", "decision_figure", "neuron_figure", "neuron_at", "step_graph"]


def network_figure(snap: Snapshot, mode: str = "weight", selected=None, height: int | None = None,
                   n_bins: int = 6, edge_hover: bool = True) -> go.Figure:
    """The network: inputs, hidden layers and output as squares (showing each node's output over
    the input plane when snap.thumbs is set), weights as edges. mode="weight": colour = sign
    (blue > 0, orange < 0), width = |w|; mode="grad": width = |dL/dw| (one colour), so vanishing
    or exploding gradients show as thin or thick layers. selected: (layer, unit) to outline.
    edge_hover=False leaves out the points that hover each weight."""
    check_mode(mode)
    sizes = snap.sizes
    pos = node_positions(sizes)
    half = BOX / 2
    traces = []
    groups, widths, vmax, (hx, hy, htext) = edge_groups(snap, mode, n_bins)
    for (colour, k), segs in groups:
        a = np.full((len(segs), 3, 2), np.nan)
        a[:, :2] = np.asarray(segs, dtype=np.float64).reshape(-1, 2, 2)
        name = ("w > 0" if colour == POS else "w < 0") if mode == "weight" else "|∂L/∂w|"
        traces.append(trace_dict("scatter", x=a[:, :, 0].ravel(), y=a[:, :, 1].ravel(), mode="lines",
                                 line=dict(color=colour, width=widths[k]), opacity=EDGE_OPACITY[mode],
                                 hoverinfo="skip", showlegend=False, name=name, meta=f"edges {name} bin {k}"))
    if edge_hover:
        traces.append(trace_dict("scatter", x=hx, y=hy, mode="markers", marker=dict(size=7, color="rgba(0,0,0,0)"),
                                 hovertext=htext, hoverinfo="text", showlegend=False, name="weights"))

    # -- nodes: images + outline shapes + a transparent marker trace carrying [layer, unit]
    images, shapes, annotations = [], [], []
    nx_, ny_, ncd, ntext = [], [], [], []
    for li, (x, ys) in enumerate(pos):
        layer = column_layer(snap, li)
        for u, y in enumerate(ys):
            cy = -y
            uri = node_image(snap, li, u)
            if uri:
                images.append(dict(source=uri, xref="x", yref="y", x=x - half, y=cy + half, sizex=BOX, sizey=BOX,
                                   sizing="stretch", layer="above"))
            sel = selected is not None and tuple(selected) == (layer, u)
            shapes.append(dict(type="rect", x0=x - half, x1=x + half, y0=cy - half, y1=cy + half, layer="above",
                               line=dict(color=ACCENT if sel else NODE_LINE, width=3 if sel else 1),
                               fillcolor="rgba(0,0,0,0)" if uri else NODE_FILL))
            nx_.append(x)
            ny_.append(cy)
            ncd.append([layer, u])
            txt = plotly_text(neuron_title(snap, layer, u))
            if li > 0:
                txt += f"<br>bias = {fmt_value(float(snap.biases[li - 1][u]))}"
            ntext.append(txt + "<br><i>click to see its output over the input plane</i>")
            if li == 0:
                annotations.append(dict(x=x - half - 0.12, y=cy, xref="x", yref="y", text=plotly_text(snap.features[u]),
                                        showarrow=False, xanchor="right", font=dict(size=12, color=FG)))
    traces.append(trace_dict("scatter", x=nx_, y=ny_, mode="markers", customdata=ncd, hovertext=ntext, hoverinfo="text",
                             marker=dict(symbol="square", size=22, color="rgba(255,255,255,0.01)", line=dict(width=0)),
                             selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)),
                             showlegend=False, name="neurons"))
    for li, (x, ys) in enumerate(pos):
        head, sub = column_header(snap, li)
        text = plotly_text(head) + (f"<br><span style='color:{MUTED}'>{plotly_text(sub)}</span>" if sub else "")
        annotations.append(dict(x=x, y=half + 0.35, xref="x", yref="y", text=text, showarrow=False,
                                yanchor="bottom", font=dict(size=12, color=FG)))
    for colour, label in edge_legend(mode, vmax):
        traces.append(trace_dict("scatter", x=[None], y=[None], mode="lines", line=dict(color=colour, width=4),
                                 name=label, showlegend=True))
    x_lo, x_hi, y_lo, y_hi = view_box(sizes)
    layout = base_layout(height or diagram_height(snap), margin=dict(l=4, r=4, t=4, b=4), images=images,
                         shapes=shapes, annotations=annotations,
                         meta={"mode": mode, "sizes": list(sizes), "max": vmax},
                         legend=dict(orientation="h", yanchor="top", y=0.0, xanchor="center", x=0.5,
                                     font=dict(size=11)),
                         xaxis=dict(visible=False, range=[x_lo, x_hi], fixedrange=True),
                         yaxis=dict(visible=False, range=[y_lo, y_hi], fixedrange=True, scaleanchor="x",
                                    scaleratio=1))
    return make_figure(traces, layout)


def neuron_at(event):
    """(layer, unit) of the neuron a Streamlit selection / plotly click event points at, or None."""
    if event is None:
        return None
    sel = event.get("selection") if isinstance(event, dict) else getattr(event, "selection", None)
    pts = (sel.get("points") if isinstance(sel, dict) else getattr(sel, "points", None)) if sel is not None else None
    if pts is None and isinstance(event, dict):
        pts = event.get("points")
    for p in pts or []:
        cd = p.get("customdata") if isinstance(p, dict) else None
        if isinstance(cd, (list, tuple)) and len(cd) == 2 and all(isinstance(v, (int, float)) for v in cd):
            return int(cd[0]), int(cd[1])
    return None


def decision_figure(grid, dataset, show_test: bool = True, show_train: bool = True, height: int = 380,
                    title: str | None = None, points: str = "svg", pixels: int = 320) -> go.Figure:
    """What the network outputs over the input plane (see plane_image), with the training points
    (white outline) and test points (dark outline). grid: Trainer.predict_grid(...); dataset:
    vizgrad.net.datasets.Dataset. points="svg": points are plotly traces named "train" and "test" (with
    hover), plus an invisible heatmap that hovers the output; points="image": points are drawn
    into the background image. 1-D data (grid.ys None): the prediction as a line over the points."""
    if points not in ("svg", "image"):
        raise ValueError(f"points must be 'svg' or 'image', got {points!r}")
    kind, k = dataset.kind, dataset.n_classes
    traces = []
    layout = base_layout(height, title=dict(text=plotly_text(title or ""), x=0.01, font=dict(size=13)),
                         margin=dict(l=30, r=8, t=30, b=24))
    if grid.ys is None:  # 1-D regression
        traces.append(trace_dict("scatter", x=grid.xs, y=grid.z, mode="lines", name="prediction",
                                 line=dict(color=FG, width=2.5)))
        for x, y, name, col in ((dataset.x_train, dataset.y_train, "train", POS),
                                (dataset.x_test, dataset.y_test, "test", NEG)):
            if name == "test" and not show_test or name == "train" and not show_train:
                continue
            traces.append(trace_dict("scatter", x=x[:, 0], y=y, mode="markers", name=name,
                                     marker=dict(size=6, color=col, line=dict(color="white", width=0.8))))
        layout.update(xaxis=axis(range=[float(grid.xs[0]), float(grid.xs[-1])], title=dict(text="x")),
                      yaxis=axis(title=dict(text="y")))
        return make_figure(traces, layout)
    img, (bx0, bx1, by0, by1) = plane_image(grid, dataset, points=points == "image", pixels=pixels,
                                            show_train=show_train, show_test=show_test)
    parts = [(dataset.x_train, dataset.y_train, "train", TRAIN_EDGE, show_train),
             (dataset.x_test, dataset.y_test, "test", FG, show_test)]
    if points == "svg":
        z = np.asarray(grid.z)
        hover = z.argmax(-1) if z.ndim == 3 else z
        what = "class %{z}" if z.ndim == 3 else ("P(class 1) = %{z:.3f}" if kind == "classification" else "%{z:.3f}")
        traces.append(trace_dict("heatmap", x=grid.xs, y=grid.ys, z=hover, opacity=0, showscale=False, name="output",
                                 hovertemplate="(%{x:.2f}, %{y:.2f}): " + what + "<extra></extra>"))
        for x, y, name, outline, show in parts:
            if show:
                traces += _point_traces(x, y, kind, k, name, outline, 7)
    for x, y, name, outline, show in parts:  # legend entries
        if show:
            traces.append(trace_dict("scatter", x=[None], y=[None], mode="markers", name=name, legendgroup=name,
                                     marker=dict(size=8, color=GREY, line=dict(color=outline, width=1.5))))
    images = [dict(source=png_data_uri(img, level=1), xref="x", yref="y", x=bx0, y=by1, sizex=bx1 - bx0,
                   sizey=by1 - by0, sizing="stretch", layer="below")]
    x0, x1, y0, y1 = float(grid.xs[0]), float(grid.xs[-1]), float(grid.ys[0]), float(grid.ys[-1])
    ticks = dict(ticks="outside", ticklen=3, showgrid=False, zeroline=False, fixedrange=True, constrain="domain",
                 showline=True, linecolor=BORDER, mirror=True)
    if x1 - x0 <= 16:
        ticks["dtick"] = 2
    layout.update(images=images, xaxis=dict(range=[x0, x1], **ticks),
                  yaxis=dict(range=[y0, y1], scaleanchor="x", scaleratio=1, **ticks))
    return make_figure(traces, layout)


def _point_traces(x, y, kind, n_classes, name, outline, size):
    out = []
    if len(x) == 0:
        return out
    if kind == "classification":
        y = np.asarray(y).astype(np.int64)
        colors = [CLASS_COLORS[c % len(CLASS_COLORS)] for c in y]
        text = [f"class {c}" for c in y]
    else:
        m = float(np.max(np.abs(y))) or 1.0
        colors = np.asarray(y, dtype=np.float64).tolist()
        text = [f"y = {fmt_value(float(v))}" for v in y]
    marker = dict(size=size, color=colors, line=dict(color=outline, width=1.2 if name == "test" else 1.0))
    if kind != "classification":
        marker.update(colorscale=SCALE, cmin=-m, cmax=m)
    out.append(trace_dict("scatter", x=x[:, 0], y=x[:, 1], mode="markers", name=name, marker=marker, hovertext=text,
                          showlegend=False, legendgroup=name,
                          hovertemplate="(%{x:.2f}, %{y:.2f}) %{hovertext}<extra>" + name + "</extra>"))
    return out


def neuron_figure(grid, title: str = "", height: int = 300, probability: bool = False) -> go.Figure:
    """One neuron's output over the input plane (Trainer.neuron_outputs_grid / feature_grid),
    on the orange-white-blue scale centred at 0 (probability=True: at 0.5, range 0..1)."""
    z = np.asarray(grid.z, dtype=np.float64)
    title_ = dict(text=plotly_text(title), x=0.01, font=dict(size=13))
    if grid.ys is None:
        line = trace_dict("scatter", x=grid.xs, y=z, mode="lines", line=dict(color=POS, width=2.5), name="output")
        return make_figure([line], base_layout(height, showlegend=False, title=title_, xaxis=axis(), yaxis=axis()))
    if probability:
        lo, hi = 0.0, 1.0
    else:
        m = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
        lo, hi = -(m or 1.0), (m or 1.0)
    heat = trace_dict("heatmap", x=grid.xs, y=grid.ys, z=z, zmin=lo, zmax=hi, colorscale=SCALE, zsmooth="fast",
                      name="output", colorbar=dict(thickness=10, len=0.9, outlinewidth=0),
                      hovertemplate="(%{x:.2f}, %{y:.2f}): %{z:.4g}<extra></extra>")
    return make_figure([heat], base_layout(
        height, showlegend=False, margin=dict(l=30, r=8, t=30 if title else 8, b=24), title=title_,
        xaxis=dict(range=[float(grid.xs[0]), float(grid.xs[-1])], showgrid=False, zeroline=False, fixedrange=True,
                   constrain="domain"),
        yaxis=dict(range=[float(grid.ys[0]), float(grid.ys[-1])], showgrid=False, zeroline=False, fixedrange=True,
                   scaleanchor="x", scaleratio=1, constrain="domain")))


def step_graph(trainer, batch: int | None = None, collapse=None):
    """Run one training step's forward and backward through vizgrad's autograd on the first
    `batch` training points (default: the batch size), at the current weights, and return its
    recorded graph (vizgrad.graph.trace), loss (with regularization) as the root; the
    parameters' .grad are restored afterwards, so training is not affected. collapse: module
    names of the Sequential ("0", "1", ...) to draw as one node each."""
    n = int(batch or trainer.batch_size)
    X = trainer.X_train[:n]
    T = trainer.T_train[:n]
    params = trainer.params
    saved = [p._grad for p in params]
    try:
        for p in params:
            p._grad = None
        with np.errstate(all="ignore"):
            _, total = trainer.loss_on(X, T)
            total.backward()
        return trace(total, collapse=collapse, params=dict(trainer.model.named_parameters()))
    finally:
        for p, g in zip(params, saved):
            p._grad = g
