"""How the drawing looks: themes, node categories, gradient bins, fonts, and the options of a figure.

    import vizgrad.plot as vp
    opts = vp.FigureOptions(theme="dark", show_values=False)     # every field has a default
    vp.figure(g, opts)                                           # or vp.figure(g, theme="dark", ...)
    vp.THEMES["light"]["accent"]                                 # '#f08c00'

A theme is a dict of colours (background, text, gradient text, highlight accent, one (fill, line)
pair per node category, and the edge colours of the |grad| bins, light to strong).

Traces are built as plain dicts ({"type": "scatter", ...}) and a figure from them in one go
(plotly_figure): plotly's graph objects check every property against its schema as they are built,
which took about 85% of a figure's build time (a small graph's figure: 24 ms before, each trace
built and checked twice; 3.5 ms now, unchecked and once). vizgrad's figures come
from this package's code, not from user input, so they are built unchecked; VIZGRAD_PLOT_VALIDATE=1
in the environment (or style.VALIDATE = True) has plotly check them, and the tests build figures
both ways and compare their JSON (tests/test_plot_fast.py).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from vizgrad.graph.format import format_number, format_value

__all__ = ["FigureOptions", "THEMES", "CATEGORY_NAMES", "MONO", "CHAR", "LINE", "theme_colors", "category", "category_rank",
           "grad_bins", "bin_name", "esc", "short_grad", "plotly_figure", "VALIDATE"]

VALIDATE = os.environ.get("VIZGRAD_PLOT_VALIDATE", "") not in ("", "0")   # plotly checks every property (slow)


def plotly_figure(data, layout=None, frames=None) -> go.Figure:
    """A go.Figure of trace dicts, a layout dict and frame dicts, checked by plotly only when VALIDATE."""
    fig = go.Figure(data=data, layout=layout, frames=frames if VALIDATE else None, _validate=VALIDATE)
    if frames and not VALIDATE:
        # plotly's Figure checks the frames it is given whatever _validate says (its frames setter
        # does nothing else: it stores what its validator returns)
        fig._frame_objs = tuple(_Frame(f, _validate=False) for f in frames)
    return fig


class _Frame(go.Frame):
    """A go.Frame built unchecked. plotly cannot read an unchecked frame's traces back (its .data
    getter wants a checked one): .data reads them from a checked copy."""

    @property
    def data(self):
        return go.Frame(self.to_plotly_json()).data


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
CATEGORY_NAMES = {"leaf": "leaf (requires grad)", "param": "parameter", "const": "constant / input",
              "tensor": "intermediate tensor", "root": "output", "op": "op", "module": "module (collapsed)"}
MONO = "Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace"
CHAR = 0.61          # monospace advance, in font sizes
LINE = 1.3           # plotly's line spacing, in font sizes


@dataclass
class FigureOptions:
    """What vizgrad.plot.figure draws and how; `figure(g, options, **overrides)` replaces fields."""
    # what the tensor boxes and edges say
    show_values: bool = True        # each tensor's data
    show_grads: bool = True         # each tensor's .grad (and, with edge_labels, the gradient on each edge)
    show_shapes: bool = True        # the shape beside a tensor's label
    cell_maps: bool = True          # vectors and matrices up to 16x16 as small heatmaps of data and grad,
                                    # each element's numbers on hover (vizgrad.plot.cells); False: as text
    edge_labels: bool = True        # gradient text on the edges
    backflow: bool = True           # with show_grads: beside each edge that carries a gradient, an arrow
                                    # pointing back (output toward input), width / colour by |grad|;
                                    # the forward edges are then drawn thin and neutral
    # emphasis
    highlight_nodes: object = None  # node ids drawn in the accent colour
    highlight_edges: object = None  # (u, v) pairs; None: the edges between two highlighted nodes
    dim_others: bool = False        # fade what is not highlighted
    pending: object = None          # node ids veiled as not there yet (the Walkthrough: not computed yet,
                                    # or gradient not final yet); the veil has one legend entry:
    pending_label: str = "not computed yet"
    # look
    theme: object = "light"         # "light", "dark", or a dict like THEMES["light"]
    title: str | None = None
    font_size: float = 12.0         # node text at scale 1 (edge text is 2 smaller)
    legend: bool = True
    # direction: "LR" (left to right), "TB" (top to bottom), or "auto": left to right, unless that is
    # wider than fit_width (the width the page has for the figure) and top to bottom overflows the
    # screen (fit_width x fit_height) by fewer pixels, sideways and down together
    direction: str = "LR"
    fit_width: int | None = None
    fit_height: int = 800
    # size: natural=True draws the graph at its natural size, text at font_size and the boxes sized
    # to it, never shrunk (the page shows it in a box that scrolls); otherwise the natural size,
    # at most max_width x max_height, unless width / height are given
    natural: bool = False
    width: int | None = None
    height: int | None = None
    max_width: int = 1400
    max_height: int = 900
    min_width: int = 640            # a small graph is drawn larger (up to 1.5x), up to this width
    # large graphs
    label_threshold: int = 400      # above this many nodes the text is dropped (hover keeps everything)
    webgl_threshold: int = 1000     # above this many nodes every trace is WebGL (Scattergl)
    # the graph
    collapse: object = None         # when drawing a tensor: module calls drawn as one node (see vizgrad.graph.collapse)
    keep_graph: bool = True         # fig._vizgrad["graph"] keeps the graph (node_at(fig, event) checks ids
                                    # against it); False: the figure refers to no graph arrays once drawn
    animation: bool = False         # leave room for the grad lines backward_animation reveals (no edge text)


def theme_colors(theme) -> dict:
    """A theme's colours: a name from THEMES or a dict of the same keys."""
    return THEMES[theme] if isinstance(theme, str) else theme


def category(d) -> str:
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

def category_rank(cat):
    return {"leaf": 1, "param": 2, "const": 3, "tensor": 4, "root": 5, "op": 6, "module": 7}[cat]

def grad_bins(mags, n):
    """Bin index (0..n-1) per |grad| on a log scale; -1 for no gradient. Returns (bins, edges)."""
    out = np.full(len(mags), -1, np.int64)
    m = np.array([np.nan if v is None else v for v in mags], float)
    ok = ~np.isnan(m)
    if not ok.any():
        return out, None
    big = np.isinf(m)              # a diverged gradient: the strongest bin, kept out of the range
    pos = ok & (m > 0) & ~big
    if not pos.any():
        out[ok] = 0
        out[big] = n - 1
        return out, (0.0, 0.0)
    lo, hi = np.log10(m[pos].min()), np.log10(m[pos].max())
    if hi - lo < 1e-9:
        out[ok] = n // 2
        out[ok & (m == 0)] = 0
        out[big] = n - 1
        return out, (10 ** lo, 10 ** hi)
    b = np.floor((np.log10(np.where(pos, m, 10 ** lo)) - lo) / (hi - lo) * n).astype(np.int64)
    out[ok] = np.clip(b[ok], 0, n - 1)
    out[ok & (m == 0)] = 0
    out[big] = n - 1
    return out, (10 ** lo, 10 ** hi)

def bin_name(b, n, rng):
    if rng is None:
        return "|grad|"
    lo, hi = rng
    if hi <= lo or lo <= 0:
        return f"|grad| = {format_number(hi, 3)}"
    a = 10 ** (np.log10(lo) + (np.log10(hi) - np.log10(lo)) * b / n)
    c = 10 ** (np.log10(lo) + (np.log10(hi) - np.log10(lo)) * (b + 1) / n)
    return f"|grad| {format_number(a, 2)}–{format_number(c, 2)}"

def esc(s) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

def short_grad(a):
    """One-line gradient text for an edge: a number, a flat list of up to 3, or the norm."""
    if a is None:
        return ""
    return format_value(a, max_elems=3, sep=" ", shape=False, flat=True, digits=3 if np.size(a) == 1 else 2)
