"""The look the Network Playground's figures and live images share: colours, number and text
formats, the plotly base layout, the SVG wrapper, and colour values as PNG pixels.

Colours follow TensorFlow Playground: orange (NEG) for negative values and class 0, blue (POS) for
positive values and class 1, white in between (SCALE). Figures are assembled as plain dicts
(trace_dict, make_figure) without plotly's per-property validation, which costs more than the
drawing at several updates per second; the tests validate them.
"""
from __future__ import annotations

import base64
import struct
import zlib

import numpy as np
import plotly.graph_objects as go

__all__ = ["NEG", "POS", "MID", "GRAD", "ACCENT", "FG", "MUTED", "GREY", "CLASS_COLORS", "SCALE", "diverging_rgb",
           "png_data_uri"]


NEG = "#f59322"           # orange: negative, class 0
POS = "#0877bd"           # blue: positive, class 1
MID = "#e8eaeb"           # the middle of the diverging scale
GRAD = "#9a4fc4"          # |grad| edges
ACCENT = "#d62728"        # the selected neuron
FG = "#1f2328"
MUTED = "#6e7781"
GREY = "#8c959f"          # the training set's curves; the fill of the train / test legend markers
TRAIN_EDGE = "#ffffff"    # training points are outlined white, test points FG
NODE_LINE = "#9aa0a6"     # a diagram node's outline
NODE_FILL = "#f6f8fa"     # a diagram node without a picture
BORDER = "#d0d7de"        # the frame of the input plane, the curves' x axis
CLASS_COLORS = [NEG, POS, "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
SCALE = [[0.0, NEG], [0.5, MID], [1.0, POS]]
_FONT = dict(family="Helvetica Neue, Helvetica, Arial, sans-serif", size=12, color=FG)
_GRID = "rgba(0,0,0,0.08)"


def hex_rgb(hex_color: str) -> np.ndarray:
    h = hex_color.lstrip("#")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.float64)


def mix_hex(a: str, b: str, t: float) -> str:
    c = hex_rgb(a) + (hex_rgb(b) - hex_rgb(a)) * t
    return "#" + "".join(f"{int(round(v)):02x}" for v in c)


def fmt_value(v) -> str:
    if v is None or v != v:
        return "–"
    a = abs(v)
    return f"{v:.3g}" if 1e-3 <= a < 1e4 or a == 0 else f"{v:.2e}"


# -- plotly ----------------------------------------------------------------------------------------------
def trace_dict(type_: str, **kw) -> dict:
    """A trace as a plain dict (figures are assembled without plotly's per-property validation,
    which costs more than the drawing at several updates per second; tests validate them)."""
    return dict(type=type_, **kw)


def make_figure(traces, layout) -> go.Figure:
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


def plotly_text(s) -> str:
    """Text for a plotly label, hover text, legend entry or title, shown as typed: plotly renders a
    subset of HTML there (<a href>, <b>, <br> ...) and its entities, typesets $...$ as LaTeX and
    fills %{...} fields in hover templates, so & < > are written as entities and $ and % as numeric
    ones (plotly decodes &amp; &lt; &gt; and &#NN;, not &quot;)."""
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("$", "&#36;")
            .replace("%", "&#37;"))


def axis(**kw) -> dict:
    return dict(gridcolor=_GRID, zeroline=False, **kw)


def base_layout(height: int, **kw) -> dict:
    d = dict(height=height, margin=dict(l=8, r=8, t=30, b=8), paper_bgcolor="white", plot_bgcolor="white",
             font=_FONT, showlegend=True, dragmode=False, hovermode="closest",
             legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0, font=dict(size=11),
                         bgcolor="rgba(255,255,255,0)"))
    d.update(kw)
    return d


# -- SVG -------------------------------------------------------------------------------------------------
def svg_text(s: str) -> str:
    """Text for SVG / HTML element content or a quoted attribute value, shown as typed."""
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("'", "&#39;"))


_SVG_FONT = "Helvetica Neue, Helvetica, Arial, sans-serif"


def svg_doc(width, height, body) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="{_SVG_FONT}" '
            f'font-size="12">' + "".join(body) + "</svg>")


# -- pixels --------------------------------------------------------------------------------------------
def diverging_rgb(v: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """Values -> uint8 RGB on the orange-white-blue scale; |v| >= vmax is full colour (default:
    the largest |v|, so a neuron's shape always shows; all-zero is white)."""
    v = np.nan_to_num(np.asarray(v, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    m = float(np.max(np.abs(v))) if vmax is None else float(vmax)
    t = np.clip(v / m, -1, 1) if m > 1e-12 else np.zeros_like(v)
    mid, neg, pos = hex_rgb(MID), hex_rgb(NEG), hex_rgb(POS)
    a = np.abs(t)[..., None]
    out = np.where((t < 0)[..., None], mid + (neg - mid) * a, mid + (pos - mid) * a)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def png_data_uri(rgb: np.ndarray, level: int = 6) -> str:
    """(h, w, 3) uint8 -> 'data:image/png;base64,...' (row 0 at the top)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    raw = b"".join(b"\x00" + rgb[i].tobytes() for i in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, level)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
