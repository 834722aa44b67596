"""The loss and gradient-norm curves over a run, as plotly figures (paused) and as SVG (live).

    curves_figure(trainer.history)                            # train / test loss (and accuracy) over steps
    grad_norm_figure(trainer.history, layer_names(snap))      # per-layer |grad| over steps, log scale
    curves_svg(trainer.history); grad_norm_svg(trainer.history, names)   # the same as images

Both forms read a History through _thin, so a redraw costs at most the history's bound
(vizgrad.net.trainer.HISTORY_POINTS) however long the run.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from vizgrad.net.style import (BORDER, FG, GRAD, GREY, MUTED, axis, base_layout, make_figure, mix_hex, plotly_text,
                               svg_doc, svg_text, trace_dict)

__all__ = ["curves_figure", "grad_norm_figure", "curves_svg", "grad_norm_svg", "lines_svg"]


def curves_figure(history, height: int = 260, accuracy: bool = True, log_y: bool = False,
                  max_points: int = 600) -> go.Figure:
    """Train and test loss over the steps (evaluated points of history); with accuracy (and
    classification data) a second panel below with train and test accuracy."""
    acc = accuracy and any(v == v for v in history.test_acc)
    x, (tr, te, tra, tea) = _thin(history.eval_step, [history.train_loss, history.test_loss, history.train_acc,
                                                      history.test_acc], max_points)
    traces = [trace_dict("scatter", x=x, y=tr, mode="lines", name="train loss", line=dict(color=GREY, width=2)),
              trace_dict("scatter", x=x, y=te, mode="lines", name="test loss", line=dict(color=FG, width=2))]
    layout = base_layout(height, margin=dict(l=48, r=8, t=30, b=34), hovermode="x unified",
                         xaxis=axis(title=dict(text="step", font=dict(size=11), standoff=4), rangemode="tozero",
                                    anchor="y2" if acc else "y"))
    loss_axis = axis(title=dict(text="loss", font=dict(size=11), standoff=6), type="log" if log_y else "linear")
    if not log_y:
        loss_axis["rangemode"] = "tozero"
    if acc:
        traces += [trace_dict("scatter", x=x, y=tra, mode="lines", name="train acc", yaxis="y2", showlegend=False,
                              line=dict(color=GREY, width=2), hovertemplate="train acc %{y:.3f}<extra></extra>"),
                   trace_dict("scatter", x=x, y=tea, mode="lines", name="test acc", yaxis="y2", showlegend=False,
                              line=dict(color=FG, width=2), hovertemplate="test acc %{y:.3f}<extra></extra>")]
        loss_axis["domain"] = [0.4, 1.0]
        layout["yaxis2"] = axis(domain=[0.0, 0.3], range=[0, 1.02], anchor="x", tickformat=".0%", dtick=0.5,
                                title=dict(text="acc.", font=dict(size=11), standoff=6))
    layout["yaxis"] = loss_axis
    return make_figure(traces, layout)


def grad_norm_figure(history, names=None, height: int = 260, max_points: int = 600, smooth: int = 10) -> go.Figure:
    """The L2 norm of each Linear layer's weight gradient at every step, log scale: layers whose
    curve sits far below the others are learning slowly (vanishing gradients); a curve shooting
    up means exploding gradients. smooth: a moving average over that many recorded steps (of the
    log), so minibatch noise does not hide the trend (a long run's History keeps every
    step_stride-th step). names: legend labels, shown as typed."""
    # (History.grad_norm_array() cannot reshape an empty history)
    G = history.grad_norm_array() if len(history.grad_norms) else np.zeros((0, 0))
    n_layers = G.shape[1] if G.ndim == 2 and G.size else (len(names) if names else 0)
    names = _layer_labels(names, n_layers)
    traces = []
    if G.size:
        with np.errstate(all="ignore"):
            logs = np.log10(np.where(G > 0, G, np.nan))
            w = max(1, min(int(smooth), len(logs) // 5))
            if w > 1:
                c = np.nancumsum(np.vstack([np.zeros((1, logs.shape[1])), logs]), axis=0)
                k = np.arange(1, len(logs) + 1)
                lo = np.maximum(k - w, 0)
                logs = (c[k] - c[lo]) / (k - lo)[:, None]
        x, (lg,) = _thin(history.step, [logs], max_points)
        vals = 10 ** lg
        for i in range(G.shape[1]):
            t = i / max(G.shape[1] - 1, 1)
            col = mix_hex("#9ecae1", "#08306b", t)
            traces.append(trace_dict("scatter", x=x, y=vals[:, i], mode="lines", name=plotly_text(names[i]),
                                     line=dict(color=col, width=2),
                                     hovertemplate="%{y:.3g}<extra>" + plotly_text(names[i]) + "</extra>"))
    else:
        for nm in names:
            traces.append(trace_dict("scatter", x=[], y=[], mode="lines", name=plotly_text(nm)))
    return make_figure(traces, base_layout(height, hovermode="x unified", margin=dict(l=48, r=8, t=30, b=34),
                                           xaxis=axis(title=dict(text="step", font=dict(size=11), standoff=4)),
                                           yaxis=axis(type="log", exponentformat="power")))


def curves_svg(history, width: int = 460, height: int = 260, max_points: int = 300) -> str:
    """curves_figure as an SVG string."""
    x, (tr, te, tra, tea) = _thin(history.eval_step, [history.train_loss, history.test_loss, history.train_acc,
                                                      history.test_acc], max_points)
    panels = [dict(series=[(x, tr, GREY), (x, te, FG)], label="loss", weight=2)]
    if any(v == v for v in history.test_acc):
        panels.append(dict(series=[(x, tra, GREY), (x, tea, FG)], label="acc.", yrange=(0, 1),
                           tickformat="pct", weight=1))
    return lines_svg(panels, width, height, legend=[("train", GREY), ("test", FG)])


def grad_norm_svg(history, names=None, width: int = 460, height: int = 260, smooth: int = 10) -> str:
    """grad_norm_figure as an SVG string."""
    fig = grad_norm_figure(history, names, smooth=smooth, max_points=300)
    series = [(np.asarray(t.x if t.x is not None else [], float), np.asarray(t.y if t.y is not None else [], float),
               t.line.color or GRAD) for t in fig.data]
    labels = _layer_labels(names, len(fig.data))   # as typed: lines_svg escapes them for SVG
    return lines_svg([dict(series=series, log=True)], width, height,
                     legend=[(label, t.line.color or GRAD) for label, t in zip(labels, fig.data)])


def lines_svg(panels, width: int = 460, height: int = 260, legend=()) -> str:
    """Line charts stacked vertically as one SVG, for st.image while training (the twins of
    curves_figure and grad_norm_figure). panels: dicts with series [(x, y, colour)], optional
    log (bool), yrange, label, tickformat ('pct' for percentages), weight (relative height);
    legend: [(label, colour)]. The last panel carries the x axis ('step')."""
    ml, mr, mt, mb, gap = 48, 10, 26, 30, 14
    weights = [p.get("weight", 1.0) for p in panels]
    avail = height - mt - mb - gap * (len(panels) - 1)
    xs_all = [np.asarray(x, float) for p in panels for x, _, _ in p["series"] if len(x)]
    x0 = 0.0
    x1 = max((float(np.nanmax(x)) for x in xs_all), default=1.0) or 1.0
    body = [f'<rect width="{width}" height="{height}" fill="white"/>']
    pw = width - ml - mr

    def X(v):
        return ml + (np.asarray(v, float) - x0) / (x1 - x0) * pw
    top = mt
    for k, p in enumerate(panels):
        ph = avail * weights[k] / sum(weights)
        log = p.get("log", False)
        ys = [np.asarray(y, float) for _, y, _ in p["series"] if len(y)]
        vals = np.concatenate(ys) if ys else np.array([])
        vals = vals[np.isfinite(vals) & ((vals > 0) if log else True)]
        if p.get("yrange"):
            lo, hi = p["yrange"]
        elif vals.size:
            lo, hi = (float(np.log10(vals.min())), float(np.log10(vals.max()))) if log else (
                min(0.0, float(vals.min())), float(vals.max()))
        else:
            lo, hi = 0.0, 1.0
        if log:
            lo, hi = math.floor(lo), math.ceil(hi)
        if hi - lo < 1e-12:
            hi = lo + 1.0
        hi += (hi - lo) * 0.04 if not log else 0

        def Y(v, lo=lo, hi=hi, top=top, ph=ph, log=log):
            v = np.asarray(v, float)
            if log:
                with np.errstate(all="ignore"):
                    v = np.log10(v)
            return top + (hi - v) / (hi - lo) * ph
        ticks = list(range(int(lo), int(hi) + 1)) if log else _nice_ticks(lo, hi)
        for t in ticks:
            py = float(Y(10.0 ** t if log else t))
            if log:
                lab = f"1e{t}" if t not in (0, 1, -1) else {0: "1", 1: "10", -1: "0.1"}[t]
            elif p.get("tickformat") == "pct":
                lab = f"{t:.0%}"
            else:
                lab = f"{t:g}"
            body.append(f'<line x1="{ml}" y1="{py:.1f}" x2="{width - mr}" y2="{py:.1f}" stroke="#eaeef2"/>'
                        f'<text x="{ml - 5}" y="{py:.1f}" text-anchor="end" dominant-baseline="middle" '
                        f'font-size="10" fill="{MUTED}">{svg_text(lab.replace("-", "−"))}</text>')
        if p.get("label"):
            body.append(f'<text transform="translate(11 {top + ph / 2:.1f}) rotate(-90)" text-anchor="middle" '
                        f'font-size="11" fill="{FG}">{svg_text(p["label"])}</text>')
        for x, y, colour in p["series"]:
            if not len(x):
                continue
            px, py = X(x), Y(y)
            ok = np.isfinite(px) & np.isfinite(py)
            pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px[ok], np.clip(py[ok], top - 2, top + ph + 2)))
            body.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        top += ph + gap
    bottom = top - gap
    body.append(f'<line x1="{ml}" y1="{bottom:.1f}" x2="{width - mr}" y2="{bottom:.1f}" stroke="{BORDER}"/>')
    for t in _nice_ticks(x0, x1, 5):
        px = float(X(t))
        body.append(f'<text x="{px:.1f}" y="{bottom + 13:.1f}" text-anchor="middle" font-size="10" '
                    f'fill="{MUTED}">{t:g}</text>')
    body.append(f'<text x="{ml + pw / 2:.1f}" y="{height - 4}" text-anchor="middle" font-size="11" '
                f'fill="{FG}">step</text>')
    lx = width - mr
    for label, colour in reversed(list(legend)):
        w = 6.2 * len(label)
        body.append(f'<text x="{lx:.1f}" y="{mt / 2 + 1}" text-anchor="end" dominant-baseline="middle" '
                    f'font-size="11" fill="{FG}">{svg_text(label)}</text>'
                    f'<line x1="{lx - w - 26:.1f}" y1="{mt / 2 + 1}" x2="{lx - w - 6:.1f}" y2="{mt / 2 + 1}" '
                    f'stroke="{colour}" stroke-width="2"/>')
        lx -= w + 40
    return svg_doc(width, height, body)


def _thin(x, ys, max_points):
    """Keep at most max_points samples (block means), for long runs."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if n <= max_points:
        return x, [np.asarray(y, dtype=np.float64) for y in ys]
    b = -(-n // max_points)
    m = (n // b) * b
    xs = x[:m].reshape(-1, b)[:, -1]
    out = []
    for y in ys:
        y = np.asarray(y, dtype=np.float64)
        with np.errstate(all="ignore"):
            out.append(y[:m].reshape((-1, b) + y.shape[1:]).mean(axis=1))
    if m < n:
        xs = np.append(xs, x[-1])
        out = [np.concatenate([o, np.asarray(y, dtype=np.float64)[-1:]]) for o, y in zip(out, ys)]
    return xs, out


def _layer_labels(names, n: int) -> list[str]:
    """n legend labels: the given names, then 'layer k' for layers without one."""
    names = list(names) if names else []
    return [str(names[i]) if i < len(names) else f"layer {i + 1}" for i in range(n)]


def _nice_ticks(lo: float, hi: float, n: int = 4) -> list:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    t = math.ceil(lo / step - 1e-9) * step
    out = []
    while t <= hi + 1e-9 * step:
        out.append(round(t, 12))
        t += step
    return out
