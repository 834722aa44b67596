"""The input plane as pixels: what the network outputs over it (with the data points drawn in),
shared by figures.decision_figure / neuron_figure (plotly) and svg.decision_svg / neuron_svg.

    img, box = plane_image(trainer.predict_grid(50, 6.0), trainer.dataset)   # (h, w, 3) uint8, (x0, x1, y0, y1)
    data_extent(dataset)                # the half-width of the square view (6 for the built-in sets)
"""
from __future__ import annotations

import math

import numpy as np

from vizgrad.net.style import CLASS_COLORS, FG, TRAIN_EDGE, diverging_rgb, hex_rgb

__all__ = ["data_extent", "plane_image"]


def data_extent(dataset) -> float:
    """The half-width of the square view: 6 for the built-in sets (as TensorFlow Playground),
    else the largest |coordinate| plus 10 %, rounded up to a round number."""
    if (dataset.meta or {}).get("source") != "csv":
        return 6.0
    m = float(np.max(np.abs(dataset.x))) * 1.1 if dataset.x.size else 1.0
    if not math.isfinite(m) or m <= 0:
        return 1.0
    step = 10 ** math.floor(math.log10(m))
    return float(math.ceil(m / step) * step)


def plane_image(grid, dataset=None, points: bool = True, pixels: int = 320, show_train: bool = True,
                show_test: bool = True, kind: str | None = None):
    """The background of the output view as an RGB image (rows top to bottom) and its box
    (x0, x1, y0, y1): P(class 1) on the orange-white-blue scale with the 0.5 boundary drawn
    (binary), the class colours mixed by probability (several classes), or the value
    (regression, or any neuron: kind="value"). points: draw the dataset's points into it."""
    kind = kind or (dataset.kind if dataset is not None else "value")
    z = np.nan_to_num(np.asarray(grid.z, dtype=np.float64), nan=0.5 if kind == "classification" else 0.0)
    n = int(pixels)
    vmax = None
    if kind == "classification" and z.ndim == 3:
        rgb = _upsample(_class_rgb(z).astype(np.float32), n)
    elif kind == "classification":
        p = _upsample(z.astype(np.float32), n)
        rgb = _upsample(diverging_rgb(z * 2 - 1, 1.0).astype(np.float32), n)
        above = p > 0.5  # the decision boundary: pixels whose right or upper neighbour is on the other side
        edge = np.zeros_like(above)
        edge[:, :-1] |= above[:, :-1] != above[:, 1:]
        edge[:-1, :] |= above[:-1, :] != above[1:, :]
        rgb[edge] = rgb[edge] * 0.45 + hex_rgb(FG) * 0.55
    else:
        if dataset is not None:
            ys_all = np.concatenate([dataset.y_train, dataset.y_test]).astype(np.float64)
            vmax = float(np.max(np.abs(ys_all))) if ys_all.size else 1.0
        vmax = vmax or None
        rgb = _upsample(diverging_rgb(z, vmax).astype(np.float32), n)
    if dataset is not None:
        rgb = 255 - (255 - rgb) * 0.85          # a lighter background, so points stand out
    x0, x1, y0, y1 = float(grid.xs[0]), float(grid.xs[-1]), float(grid.ys[0]), float(grid.ys[-1])
    hx, hy = (x1 - x0) / (n - 1), (y1 - y0) / (n - 1)
    img = rgb[::-1].copy()                  # row 0 = the top (largest y)
    if points and dataset is not None:
        for x, y, outline, show in ((dataset.x_train, dataset.y_train, TRAIN_EDGE, show_train),
                                    (dataset.x_test, dataset.y_test, FG, show_test)):
            if show and len(x):
                _draw_points(img, (y1 - x[:, 1]) / hy, (x[:, 0] - x0) / hx, value_colors(y, dataset.kind, vmax),
                             hex_rgb(outline))
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return img, (x0 - hx / 2, x1 + hx / 2, y0 - hy / 2, y1 + hy / 2)


def _class_rgb(probs: np.ndarray) -> np.ndarray:
    """(..., k) class probabilities -> RGB: the mixture of class colours, faded to white where unsure."""
    k = probs.shape[-1]
    cols = np.stack([hex_rgb(c) for c in (CLASS_COLORS * 2)[:k]])
    mix = probs @ cols
    conf = (probs.max(-1, keepdims=True) - 1 / k) / (1 - 1 / k)
    out = 255 + (mix - 255) * (0.25 + 0.75 * conf) * 0.8
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _upsample(z: np.ndarray, n: int) -> np.ndarray:
    """Bilinear resampling of (h, w, ...) to (n, n, ...) (corner-aligned)."""
    def along(a, axis):
        m = a.shape[axis]
        u = np.linspace(0, m - 1, n)
        i0 = np.minimum(np.floor(u).astype(int), m - 2) if m > 1 else np.zeros(n, int)
        w = (u - i0) if m > 1 else np.zeros(n)
        a0, a1 = np.take(a, i0, axis), np.take(a, np.minimum(i0 + 1, m - 1), axis)
        shape = [1] * a.ndim
        shape[axis] = n
        w = w.reshape(shape)
        return a0 * (1 - w) + a1 * w
    return along(along(z, 0), 1)


_STAMPS: dict = {}


def _stamp(radius: float, ring: float):
    """Pixel offsets of a disc of radius + ring, its coverage (antialiased edge) and the weight of
    the fill colour against the outline colour."""
    key = (radius, ring)
    if key not in _STAMPS:
        r = int(math.ceil(radius + ring + 1))
        dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
        d = np.hypot(dx, dy).ravel()
        cover = np.clip(radius + ring + 0.5 - d, 0, 1)
        keep = cover > 0
        inner = np.clip(radius + 0.5 - d, 0, 1)
        _STAMPS[key] = (dy.ravel()[keep], dx.ravel()[keep], cover[keep], inner[keep])
    return _STAMPS[key]


def _draw_points(img, rows, cols, colors, outline, radius=3.0, ring=1.0):
    """Stamp antialiased discs (fill colours (n, 3), one outline colour) into img (h, w, 3) float, in place.
    Vectorized: where two discs overlap, the later one wins (each is blended with the background)."""
    h, w = img.shape[:2]
    oy, ox, cover, inner = _stamp(radius, ring)
    yy = np.rint(rows).astype(int)[:, None] + oy[None]
    xx = np.rint(cols).astype(int)[:, None] + ox[None]
    ok = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
    f = np.broadcast_to(inner[None, :, None], yy.shape + (1,))[ok]
    a = np.broadcast_to(cover[None, :, None], yy.shape + (1,))[ok]
    c = np.broadcast_to(np.asarray(colors, dtype=np.float32)[:, None, :], yy.shape + (3,))[ok]
    yy, xx = yy[ok], xx[ok]
    c = c * f + np.asarray(outline, dtype=np.float32) * (1 - f)
    img[yy, xx] = img[yy, xx] * (1 - a) + c * a


def value_colors(y, kind, vmax):
    if kind == "classification":
        cols = np.stack([hex_rgb(c) for c in CLASS_COLORS])
        return cols[np.asarray(y).astype(np.int64) % len(CLASS_COLORS)]
    return diverging_rgb(np.asarray(y, dtype=np.float64), vmax).astype(np.float64)
