"""The network diagram's numbers and geometry, shared by figures.network_figure (plotly) and
svg.network_svg (the live image).

    snap = snapshot(trainer)            # weights, gradients, every node's output over the input plane
    layer_names(snap)                   # ['hidden 1', 'hidden 2', 'output']
    neuron_title(snap, 0, 3)            # 'hidden layer 1, neuron 4 (tanh)'

Geometry: layer i is a column at x = i * DX, its nodes are squares of side BOX one unit apart,
centred on the tallest layer; y grows upwards (row r at y = -r). A diagram column li is the
layer li - 1 of clicks and of the Trainer (-1 = the input features, len(hidden) = the output).
An edge's colour is its weight's sign and its width |weight| (mode="weight"), or one colour and
width |grad| (mode="grad").
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vizgrad.net.choices import LOSSES
from vizgrad.net.features import FEATURES
from vizgrad.net.style import GRAD, NEG, POS, diverging_rgb, fmt_value, plotly_text, png_data_uri

__all__ = ["Snapshot", "snapshot", "layer_names", "neuron_title"]


@dataclass
class Snapshot:
    """sizes: [n_features, h1, ..., n_out]; weights / biases / grads (None before the first
    backward) per Linear layer, weight shape (out, in); features: display labels of the inputs;
    activations: per hidden layer; thumbs: per layer (input first) an array (units, r, r) of
    each node's output over the input plane, or None; output: 'probability' | 'logits' | 'value'."""
    sizes: list
    weights: list
    biases: list
    grads: list
    features: list
    activations: list
    thumbs: list | None = None
    output: str = "probability"
    step: int = 0


def snapshot(trainer, resolution: int = 16, extent: float = 6.0, thumbnails: bool = True) -> Snapshot:
    """Read weights, gradients and (thumbnails) every node's output over the input plane from a
    vizgrad.net.trainer.Trainer."""
    lins = trainer.linears
    cfg = trainer.config
    sizes = [lins[0].in_features] + [lin.out_features for lin in lins]
    W = [np.array(lin.weight.detach().numpy(), dtype=np.float64) for lin in lins]
    b = [np.array(lin.bias.detach().numpy(), dtype=np.float64) for lin in lins]
    G = []
    for lin in lins:
        g = lin.weight.grad
        G.append(None if g is None else np.array(g.detach().numpy(), dtype=np.float64))
    output = LOSSES[cfg.loss].shows
    thumbs = None
    if thumbnails and trainer.dataset.input_dim == 2:
        thumbs = [np.stack([trainer.feature_grid(f, resolution, extent).z for f in cfg.features])]
        for layer in range(len(cfg.hidden)):
            thumbs.append(np.stack([trainer.neuron_outputs_grid(layer, u, resolution, extent).z
                                    for u in range(sizes[layer + 1])]))
        if output == "probability":
            thumbs.append(trainer.predict_grid(resolution, extent).z[None] * 2 - 1)
        else:
            thumbs.append(np.stack([trainer.neuron_outputs_grid(len(cfg.hidden), u, resolution, extent).z
                                    for u in range(sizes[-1])]))
    labels = [FEATURES[f].label if f in FEATURES else f for f in cfg.features]
    return Snapshot(sizes, W, b, G, labels, list(cfg.activation), thumbs, output, int(trainer.steps))


def layer_names(n_linear) -> list[str]:
    """One name per Linear layer ('hidden 1', ..., 'output'), from their number, a Snapshot, or the sizes."""
    if isinstance(n_linear, Snapshot):
        n = len(n_linear.sizes) - 1
    elif isinstance(n_linear, (int, np.integer)):
        n = int(n_linear)
    else:
        n = len(list(n_linear)) - 1
    return [f"hidden {i + 1}" if i < n - 1 else "output" for i in range(n)]


def neuron_title(snap: Snapshot, layer: int, unit: int) -> str:
    n_hidden = len(snap.sizes) - 2
    if layer < 0:
        return f"input {snap.features[unit]}"
    if layer >= n_hidden:
        return "output" if snap.sizes[-1] == 1 else f"output {unit + 1} (class {unit} logit)"
    return f"hidden layer {layer + 1}, neuron {unit + 1} ({snap.activations[layer]})"


# -- geometry ------------------------------------------------------------------------------------------
DX = 3.2      # layer spacing, in units of the neuron spacing
BOX = 0.72    # neuron square side


def node_positions(sizes):
    """x, y (axis units) of every node, per layer; y = 0 at the top row, going down."""
    top = max(sizes)
    return [(i * DX, np.arange(n) + (top - n) / 2.0) for i, n in enumerate(sizes)]


def view_box(sizes) -> tuple[float, float, float, float]:
    """(x_lo, x_hi, y_lo, y_hi) of the drawing in axis units: the nodes, the input labels on the
    left and the layer headers above."""
    top = max(sizes)
    return -1.4, (len(sizes) - 1) * DX + 0.8, -(top - 1) - BOX / 2 - 0.8, BOX / 2 + 1.25


def check_mode(mode: str) -> None:
    if mode not in ("weight", "grad"):
        raise ValueError(f"mode must be 'weight' or 'grad', got {mode!r}")


EDGE_OPACITY = {"weight": 0.85, "grad": 0.75}


def edge_legend(mode: str, vmax: float) -> list[tuple[str, str]]:
    """(colour, label) of each legend entry for the edges."""
    if mode == "weight":
        return [(POS, "positive weight"), (NEG, "negative weight")]
    return [(GRAD, f"|∂L/∂w| (widest = {fmt_value(vmax)})")]


def edge_groups(snap: Snapshot, mode: str, n_bins: int):
    """Edges grouped for drawing, thinnest first: ([((colour, bin), [(xa, ya, xb, yb), ...]), ...],
    widths per bin, vmax, hover (x, y, text) lists). y grows upwards (row r at y = -r)."""
    sizes = snap.sizes
    pos = node_positions(sizes)
    n_hidden = len(sizes) - 2
    half = BOX / 2
    vals = snap.weights if mode == "weight" else [None if g is None else np.abs(g) for g in snap.grads]
    have = [v for v in vals if v is not None and v.size]
    with np.errstate(all="ignore"):
        vmax = max((float(np.nanmax(np.abs(v))) if np.isfinite(v).any() else 0.0 for v in have), default=0.0)
    if not math.isfinite(vmax):
        vmax = 0.0
    groups: dict = {}
    hx, hy, htext = [], [], []
    for li, W in enumerate(snap.weights):
        (x0, y0s), (x1, y1s) = pos[li], pos[li + 1]
        V, G = vals[li], snap.grads[li]
        for j in range(W.shape[0]):
            for i in range(W.shape[1]):
                w = float(W[j, i])
                mag = abs(float(V[j, i])) if V is not None else 0.0
                if not math.isfinite(mag):
                    mag = vmax
                k = min(int(mag / vmax * n_bins), n_bins - 1) if vmax > 0 else 0
                colour = (POS if w >= 0 else NEG) if mode == "weight" else GRAD
                xa, ya, xb, yb = x0 + half, -y0s[i], x1 - half, -y1s[j]
                groups.setdefault((colour, k), []).append((xa, ya, xb, yb))
                hx.append(xa + (xb - xa) * 0.6)
                hy.append(ya + (yb - ya) * 0.6)
                src = plotly_text(snap.features[i]) if li == 0 else f"h{li}.{i + 1}"
                dst = f"h{li + 1}.{j + 1}" if li < n_hidden else ("out" if sizes[-1] == 1 else f"out.{j + 1}")
                g = None if G is None else float(G[j, i])
                htext.append(f"{src} → {dst}<br>w = {fmt_value(w)}<br>∂L/∂w = {fmt_value(g)}")
    widths = [0.6 + 5.4 * (k + 0.5) / n_bins if vmax > 0 else 0.8 for k in range(n_bins)]
    return sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])), widths, vmax, (hx, hy, htext)


def node_image(snap: Snapshot, li: int, u: int) -> str | None:
    if snap.thumbs is None:
        return None
    prob = li == len(snap.sizes) - 1 and snap.output == "probability"
    return png_data_uri(diverging_rgb(snap.thumbs[li][u][::-1], 1.0 if prob else None))


def column_header(snap: Snapshot, li: int) -> tuple[str, str]:
    sizes = snap.sizes
    if li == 0:
        return f"{sizes[0]} feature{'s' if sizes[0] != 1 else ''}", ""
    if li < len(sizes) - 1:
        return f"{sizes[li]} neuron{'s' if sizes[li] != 1 else ''}", snap.activations[li - 1].replace("_", " ")
    return "output" + (f" ({sizes[li]})" if sizes[li] > 1 else ""), ""


def column_layer(snap: Snapshot, li: int) -> int:
    """Diagram column -> the layer index used by clicks and Trainer (-1 = inputs)."""
    return li - 1


def diagram_height(snap: Snapshot, width: float = 560.0) -> int:
    """A height that fits the diagram drawn `width` pixels wide (at most 60 px per neuron spacing)."""
    x_ext = (len(snap.sizes) - 1) * DX + 2.2
    y_ext = max(snap.sizes) + 2.05
    unit = min(width / x_ext, 60.0)
    return int(min(max(300, y_ext * unit + 44), 720))
