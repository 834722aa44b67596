"""The live-play images: SVG twins of the network diagram, the output plane and a neuron's
output, and the stats row, for st.image / st.html while training.

Why: Streamlit rebuilds a plotly chart from scratch whenever its figure changes (its element id
hashes the figure), which costs the browser ~0.1 s per chart; an image redraws in a few
milliseconds. Same geometry and colours as vizgrad.net.figures, no hover or clicks. The curves'
twins are in vizgrad.net.curves.

    network_svg(snapshot(trainer), "weight", selected=(0, 3), width=600)
    decision_svg(trainer.predict_grid(50), trainer.dataset, width=400, height=340)
    stats_html({"Step": "1,200", "Test loss": "0.0412"})
"""
from __future__ import annotations

import math

import numpy as np

from vizgrad.net.diagram import (BOX, EDGE_OPACITY, Snapshot, check_mode, column_header, column_layer, diagram_height,
                                 edge_groups, edge_legend, node_image, node_positions, view_box)
from vizgrad.net.plane import plane_image, value_colors
from vizgrad.net.style import (ACCENT, BORDER, FG, GREY, MUTED, NODE_FILL, NODE_LINE, TRAIN_EDGE, png_data_uri, svg_doc,
                               svg_text)

__all__ = ["network_svg", "decision_svg", "neuron_svg", "plane_svg", "stats_html"]


def network_svg(snap: Snapshot, mode: str = "weight", selected=None, width: int = 600, height: int | None = None,
                n_bins: int = 6) -> str:
    """network_figure as an SVG string (no hover or clicks), for st.image while training."""
    check_mode(mode)
    height = height or diagram_height(snap)
    sizes = snap.sizes
    pos = node_positions(sizes)
    half = BOX / 2
    x_lo, x_hi, y_lo, y_hi = view_box(sizes)
    legend_h = 26
    sc = min((width - 8) / (x_hi - x_lo), (height - 8 - legend_h) / (y_hi - y_lo))
    ox = (width - (x_hi - x_lo) * sc) / 2 - x_lo * sc
    oy = 4 + (height - 8 - legend_h - (y_hi - y_lo) * sc) / 2 + y_hi * sc

    def X(v):
        return ox + v * sc

    def Y(v):
        return oy - v * sc
    body = [f'<rect width="{width}" height="{height}" fill="white"/>']
    groups, widths, vmax, _ = edge_groups(snap, mode, n_bins)
    for (colour, k), segs in groups:
        d = "".join(f"M{X(a):.1f} {Y(b):.1f}L{X(c):.1f} {Y(e):.1f}" for a, b, c, e in segs)
        body.append(f'<path d="{d}" stroke="{colour}" stroke-width="{widths[k]:.2f}" fill="none" '
                    f'stroke-opacity="{EDGE_OPACITY[mode]}"/>')
    bs = BOX * sc
    for li, (x, ys) in enumerate(pos):
        layer = column_layer(snap, li)
        for u, y in enumerate(ys):
            px, py = X(x - half), Y(-y + half)
            uri = node_image(snap, li, u)
            if uri:
                body.append(f'<image x="{px:.1f}" y="{py:.1f}" width="{bs:.1f}" height="{bs:.1f}" '
                            f'preserveAspectRatio="none" href="{uri}" xlink:href="{uri}"/>')
            sel = selected is not None and tuple(selected) == (layer, u)
            body.append(f'<rect x="{px:.1f}" y="{py:.1f}" width="{bs:.1f}" height="{bs:.1f}" '
                        f'fill="{"none" if uri else NODE_FILL}" stroke="{ACCENT if sel else NODE_LINE}" '
                        f'stroke-width="{3 if sel else 1}"/>')
            if li == 0:
                body.append(f'<text x="{X(x - half - 0.12):.1f}" y="{Y(-y):.1f}" text-anchor="end" '
                            f'dominant-baseline="middle" fill="{FG}">{svg_text(snap.features[u])}</text>')
        head, sub = column_header(snap, li)
        yb = Y(half + 0.35)
        if sub:
            body.append(f'<text x="{X(x):.1f}" y="{yb - 3:.1f}" text-anchor="middle" fill="{MUTED}">'
                        f'{svg_text(sub)}</text>')
            yb -= 17
        body.append(f'<text x="{X(x):.1f}" y="{yb - 3:.1f}" text-anchor="middle" fill="{FG}">{svg_text(head)}</text>')
    items = edge_legend(mode, vmax)
    lx = width / 2 - 75 * len(items)
    ly = height - legend_h / 2
    for colour, label in items:
        body.append(f'<line x1="{lx:.1f}" y1="{ly:.1f}" x2="{lx + 28:.1f}" y2="{ly:.1f}" stroke="{colour}" '
                    f'stroke-width="4"/><text x="{lx + 34:.1f}" y="{ly:.1f}" dominant-baseline="middle" '
                    f'font-size="11" fill="{FG}">{svg_text(label)}</text>')
        lx += 150
    return svg_doc(width, height, body)


def decision_svg(grid, dataset, width: int = 400, height: int = 330) -> str:
    """decision_figure as an SVG string (points drawn into the image), for st.image while training."""
    img, box = plane_image(grid, dataset, points=False, pixels=160)
    vmax = None
    if dataset.kind != "classification":
        vmax = float(np.max(np.abs(dataset.y))) or None
    pts = [(dataset.x_train, value_colors(dataset.y_train, dataset.kind, vmax), TRAIN_EDGE),
           (dataset.x_test, value_colors(dataset.y_test, dataset.kind, vmax), FG)]
    return plane_svg(img, box, width, height, legend=POINT_LEGEND, points=pts)


def neuron_svg(grid, width: int = 400, height: int = 250, title: str = "") -> str:
    """neuron_figure as an SVG string, for st.image while training."""
    img, box = plane_image(grid, None, kind="value", pixels=120)
    return plane_svg(img, box, width, height, title=title)


POINT_LEGEND = (("train", GREY, TRAIN_EDGE), ("test", GREY, FG))


def plane_svg(img: np.ndarray, box, width: int = 400, height: int = 330, legend=(), title: str = "",
              points=()) -> str:
    """An image over the input plane (rows top to bottom), with axes, ticks, points (a list of
    (xy (n, 2), fill colours (n, 3), outline)) and a legend of (label, fill, outline) markers."""
    x0, x1, y0, y1 = box
    ml, mr, mt, mb = 30, 8, (30 if legend or title else 8), 22
    side = min(width - ml - mr, height - mt - mb)
    left = ml + (width - ml - mr - side) / 2
    topy = mt
    uri = png_data_uri(img, level=1)
    body = [f'<rect width="{width}" height="{height}" fill="white"/>',
            f'<image x="{left:.1f}" y="{topy:.1f}" width="{side:.1f}" height="{side:.1f}" preserveAspectRatio="none" '
            f'href="{uri}" xlink:href="{uri}"/>',
            f'<rect x="{left:.1f}" y="{topy:.1f}" width="{side:.1f}" height="{side:.1f}" fill="none" '
            f'stroke="{BORDER}"/>']
    for xy, fills, outline in points:
        px = left + (xy[:, 0] - x0) / (x1 - x0) * side
        py = topy + (y1 - xy[:, 1]) / (y1 - y0) * side
        ok = (px >= left) & (px <= left + side) & (py >= topy) & (py <= topy + side)
        body.append(f'<g stroke="{outline}" stroke-width="1">' + "".join(
            f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="#{int(c[0]):02x}{int(c[1]):02x}{int(c[2]):02x}"/>'
            for a, b, c in zip(px[ok], py[ok], np.asarray(fills)[ok])) + "</g>")
    span = x1 - x0
    step = 2 if span <= 16 else 10 ** math.floor(math.log10(span / 2))
    t = math.ceil(x0 / step) * step
    while t <= x1 + 1e-9:
        px = left + (t - x0) / span * side
        py = topy + (y1 - t) / (y1 - y0) * side
        lab = f"{t:g}".replace("-", "−")
        body.append(f'<line x1="{px:.1f}" y1="{topy + side:.1f}" x2="{px:.1f}" y2="{topy + side + 3:.1f}" '
                    f'stroke="{MUTED}"/><text x="{px:.1f}" y="{topy + side + 14:.1f}" text-anchor="middle" '
                    f'font-size="11" fill="{FG}">{lab}</text>')
        body.append(f'<line x1="{left - 3:.1f}" y1="{py:.1f}" x2="{left:.1f}" y2="{py:.1f}" stroke="{MUTED}"/>'
                    f'<text x="{left - 5:.1f}" y="{py:.1f}" text-anchor="end" dominant-baseline="middle" '
                    f'font-size="11" fill="{FG}">{lab}</text>')
        t += step
    lx = left + side
    for label, fill, outline in reversed(list(legend)):
        w = 8 + 6 * len(label)
        body.append(f'<text x="{lx:.1f}" y="{mt / 2 + 2:.1f}" text-anchor="end" dominant-baseline="middle" '
                    f'font-size="11" fill="{FG}">{svg_text(label)}</text><circle cx="{lx - w - 6:.1f}" '
                    f'cy="{mt / 2 + 2:.1f}" r="4" fill="{fill}" stroke="{outline}" stroke-width="1.5"/>')
        lx -= w + 22
    if title:
        body.append(f'<text x="{left:.1f}" y="{mt / 2 + 2:.1f}" dominant-baseline="middle" font-size="13" '
                    f'fill="{FG}">{svg_text(title)}</text>')
    return svg_doc(width, height, body)


def stats_html(stats: dict) -> str:
    """A row of label / value pairs (step, losses, accuracy) as one HTML block; each value is in a
    <span class="nw-value" data-stat="<label>">."""
    cells = "".join(
        f'<div style="min-width:7.5rem"><div style="font-size:0.8rem;color:{MUTED}">{svg_text(k)}</div>'
        f'<div class="nw-value" data-stat="{svg_text(k)}" style="font-size:1.55rem;font-variant-numeric:tabular-nums;'
        f'color:{FG}">{svg_text(v)}</div></div>' for k, v in stats.items())
    return f'<div class="nw-stats" style="display:flex;flex-wrap:wrap;gap:0.6rem 1.6rem">{cells}</div>'
