"""Vectors and matrices drawn as small heatmaps in their boxes: one cell per element, value and gradient
side by side, each element's numbers on hover.

    import vizgrad.plot as vp
    fig = vp.figure(loss)               # a 3x2 W shows a 3x2 "data" map and a 3x2 "grad" map
    fig = vp.figure(loss, cell_maps=False)   # the old text: shape, then the elements or the norm

vizgrad.plot.figure asks grid() whether a tensor gets maps, box_size() how much room they take
(the box is sized to it), and draws them with map_traces(). A tensor of 1 or 2 dimensions, each at
most MAX_SIDE long (a (n,) vector is one row), is drawn cell by cell; anything larger keeps the
text (its shape and norm) with a note, since a downsampled map would show numbers no element has.
Colours are diverging around 0 in LEVELS steps, each map scaled to its own largest |element|.
"""
from __future__ import annotations

import numpy as np

from vizgrad.graph.format import format_number
from vizgrad.plot.style import CHAR, LINE, MONO, esc

__all__ = ["MAX_SIDE", "LEVELS", "grid", "maps_of", "cell_px", "box_size", "levels", "level_colors", "map_traces"]

MAX_SIDE = 16          # elements along a side drawn cell by cell (16x16 is 256 cells in a box)
GAP = 10.0             # px between the data map and the grad map
LEVELS = 11            # colour levels of a map (odd: 0 has its own, the middle one)
# colour scales (negative, zero, positive) of the data and of the gradient, by theme brightness
# (0 is a mid grey, not white: on a box's near-white fill a white cell looked like a missing one)
SCALES = {"light": dict(data=("#2166ac", "#cfd4da", "#b2182b"), grad=("#1b7837", "#cfd4da", "#c2185b")),
          "dark": dict(data=("#4393c3", "#3d4450", "#f4a582"), grad=("#5aae61", "#3d4450", "#ff7eb6"))}


def grid(a):
    """The 2-D cells of a tensor's value or gradient: (n,) -> (1, n), (r, c) as it is; None for a
    scalar, more than 2 dimensions, or a side longer than MAX_SIDE."""
    if a is None:
        return None
    a = np.asarray(a)
    if a.ndim == 0 or a.ndim > 2 or a.size <= 1 or max(a.shape) > MAX_SIDE or a.dtype.kind not in "biuf":
        return None
    return a.reshape(1, -1) if a.ndim == 1 else a

def maps_of(d, values: bool, grads: bool):
    """[(name, cells)] of a tensor node's maps: "data" with values shown, "grad" with gradients shown
    and one there; [] when its value has no grid (a scalar or too big)."""
    v = grid(d.get("value"))
    if v is None:
        return []
    out = [("data", v)] if values else []
    gr = grid(d.get("grad")) if grads else None
    if gr is not None and gr.shape == v.shape:
        out.append(("grad", gr))
    return out

def cell_px(rows: int, cols: int) -> float:
    """Side of a cell in px at scale 1: 14 for small matrices, down to 7 so a 16x16 map is 112 px."""
    return float(np.clip(min(112.0 / cols, 64.0 / rows), 7.0, 14.0))

def _slots(maps, efs: float):
    """The width of each map's slot: its cells, or its caption ("data", "grad") when that is wider."""
    r, c = maps[0][1].shape
    return [max(c * cell_px(r, c), len(name) * CHAR * efs + 4) for name, _ in maps]

def box_size(maps, efs: float):
    """(width, height) in px of a row of maps with their captions above (caption font efs)."""
    r, c = maps[0][1].shape
    return sum(_slots(maps, efs)) + GAP * (len(maps) - 1), LINE * efs + r * cell_px(r, c)

def _mix(a: str, b: str, t: float) -> str:
    """The colour a fraction t of the way from hex colour a to hex colour b."""
    ca = np.array([int(a[i:i + 2], 16) for i in (1, 3, 5)], float)
    cb = np.array([int(b[i:i + 2], 16) for i in (1, 3, 5)], float)
    r, g, b_ = np.rint(ca + (cb - ca) * t).astype(int)
    return f"#{r:02x}{g:02x}{b_:02x}"

def level_colors(scale) -> list:
    """LEVELS colours from scale's negative end through its zero colour to its positive end."""
    lo, mid, hi = scale
    half = (LEVELS - 1) // 2
    return [_mix(lo, mid, k / half) for k in range(half)] + [mid] + [_mix(mid, hi, k / half) for k in range(1, half + 1)]

def levels(z) -> np.ndarray:
    """Colour level 0..LEVELS-1 of each element of z: scaled by the largest finite |z|, exact 0 in
    the middle and anything else at least one step off it (a small element still shows its sign);
    -1 for NaN and infinities (drawn empty)."""
    z = np.asarray(z, np.float64)
    fin = np.isfinite(z)
    zf = np.where(fin, z, 0.0)
    m = float(np.abs(zf).max())
    half = (LEVELS - 1) // 2
    steps = np.where(zf != 0, np.maximum(1, np.rint(np.abs(zf) / (m if m > 0 else 1.0) * half)), 0)
    return np.where(fin, half + np.sign(zf).astype(np.int64) * steps.astype(np.int64), -1)

def _cell_hover(label, d, r, c):
    """Hover text of each cell: the element's index, its value and its gradient, as numbers."""
    v = grid(d.get("value"))
    gr = grid(d.get("grad"))
    vec = np.ndim(d.get("value")) == 1
    known = d.get("computed") is not False   # a Walkthrough tensor not computed yet holds NaN placeholders
    out = []
    for i in range(r):
        row = []
        for j in range(c):
            idx = f"[{j}]" if vec else f"[{i}, {j}]"
            s = f"<b>{esc(label)}</b>{idx}<br>data " + (format_number(float(v[i, j]), 6) if known else "not computed yet")
            s += f"<br>grad {format_number(float(gr[i, j]), 6)}" if gr is not None and gr.shape == v.shape else ""
            row.append(s)
        out.append(row)
    return out

def map_traces(items, theme: str, muted: str, efs: float, s: float, dim=()):
    """The traces of the maps of items [(node id, node dict, maps, x, top)]: the maps centred on x,
    their captions' top at `top` (layout px); dim: ids drawn faded. The cells are filled squares in
    the figure's coordinates (they zoom with it), one trace per colour level and fading; above them
    one invisible marker per cell carries its hover text and customdata = the node id, so a click
    on a cell selects its node. (plotly draws heatmap traces under every scatter trace: under the
    boxes.)"""
    scales = SCALES.get(theme if isinstance(theme, str) else "light", SCALES["light"])
    colors = {name: level_colors(sc) for name, sc in scales.items()}
    rects = {}                                  # (map name, level, faded) -> [xs, ys]
    hx, hy, ht, hid, hsize, cx, cy, ct = [], [], [], [], [], [], [], []
    for nid, d, maps, x, top in items:
        r, c = maps[0][1].shape
        px = cell_px(r, c)
        w, _ = box_size(maps, efs)
        hover = _cell_hover(d["label"], d, r, c)
        faded = nid in dim
        left = x - w / 2
        y0 = top + LINE * efs
        for (name, z), slot in zip(maps, _slots(maps, efs)):
            lv = levels(z)
            x0 = left + (slot - c * px) / 2   # the cells centred in their slot
            for i in range(r):
                for j in range(c):
                    xa, ya = x0 + j * px + 0.5, y0 + i * px + 0.5
                    xb, yb = xa + px - 1, ya + px - 1
                    if lv[i, j] >= 0:
                        xs, ys = rects.setdefault((name, int(lv[i, j]), faded), ([], []))
                        xs += [xa, xb, xb, xa, xa, None]
                        ys += [ya, ya, yb, yb, ya, None]
                    hx.append((xa + xb) / 2)
                    hy.append((ya + yb) / 2)
                    ht.append(hover[i][j])
                    hid.append(nid)
                    hsize.append(px * s)
            cx.append(left + slot / 2)
            cy.append(top + LINE * efs / 2)
            # not computed yet (the Walkthrough's forward steps): the cells stay empty (NaN), the caption asks
            ct.append(name if d.get("computed") is not False or name != "data" else "data ?")
            left += slot + GAP
    traces = [dict(type="scatter", x=xs, y=ys, mode="lines", fill="toself", fillcolor=colors[name][lv],
                   line=dict(width=0, color=colors[name][lv]), opacity=0.25 if faded else 1.0,
                   hoverinfo="skip", showlegend=False, name=f"{name} cells",
                   meta=dict(map=name, level=lv))
              for (name, lv, faded), (xs, ys) in sorted(rects.items())]
    if ct:
        traces.append(dict(type="scatter", x=cx, y=cy, mode="text", text=ct, hoverinfo="skip", showlegend=False,
                           name="map captions", textfont=dict(family=MONO, size=efs * s, color=muted)))
        traces.append(dict(type="scatter", x=hx, y=hy, mode="markers", hovertext=ht, hoverinfo="text", showlegend=False,
                           name="cells", customdata=[str(n) for n in hid],
                           marker=dict(symbol="square", size=hsize, color=muted, opacity=0.0)))
    return traces
