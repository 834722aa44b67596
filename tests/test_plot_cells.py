"""Vectors and matrices drawn as heatmaps (vizgrad.plot.cells): every cell's hover text carries the
element's value and gradient (checked against PyTorch's numbers for the same expression), every
cell's colour is on the side of its sign and the largest |element| is the darkest, the cells sit
inside their box, a click on a cell selects its node, scalars keep their numbers, and tensors
larger than 16x16 keep the text with a note.

    .venv/bin/python -m pytest -q tests/test_plot_cells.py
"""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import vizgrad
import vizgrad.graph as vg
import vizgrad.plot as vp
from vizgrad.plot.cells import LEVELS, MAX_SIDE

NUM = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def tanh_expr(lib, W, v, b):
    """sum(tanh(W @ v + b)**2) with W (3, 2), v (2,), b (3,) in lib (vizgrad or torch)."""
    t = {n: lib.tensor(a, requires_grad=True) for n, a in (("W", W), ("v", v), ("b", b))}
    z = ((t["W"] @ t["v"] + t["b"]).tanh() ** 2).sum()
    z.backward()
    return z, t


@pytest.fixture
def drawn():
    rng = np.random.default_rng(3)
    W, v, b = rng.normal(size=(3, 2)), rng.normal(size=(2,)), rng.normal(size=(3,))
    ts = {n: vizgrad.tensor(a, requires_grad=True, name=n) for n, a in (("W", W), ("v", v), ("b", b))}
    z = ((ts["W"] @ ts["v"] + ts["b"]).tanh() ** 2).sum()
    z.backward()
    _, ref = tanh_expr(torch, W, v, b)
    g = vg.trace(z)
    fig = vp.figure(g, natural=True)
    return g, fig, ref


def node_of(g, label):
    return next(n for n, d in g.nodes(data=True) if d.get("label") == label)


def cells(fig):
    return next(t for t in fig.data if t.name == "cells")


def test_every_cell_hover_holds_the_elements_value_and_gradient(drawn):
    g, fig, ref = drawn
    cl = cells(fig)
    for label in ("W", "v", "b"):
        nid = node_of(g, label)
        mine = [t for t, c in zip(cl.hovertext, cl.customdata) if c == nid]
        want_v, want_g = ref[label].detach().numpy(), ref[label].grad.numpy()
        # one hover point per element in each of the two maps (data, grad)
        assert len(mine) == 2 * want_v.size
        seen = {}
        for text in mine:
            m = re.search(rf"\[(\d+)(?:, (\d+))?\]<br>data ({NUM})<br>grad ({NUM})", text)
            assert m, text
            idx = (int(m[1]),) if m[2] is None else (int(m[1]), int(m[2]))
            seen[idx] = (float(m[3]), float(m[4]))
        assert len(seen) == want_v.size
        for idx, (dv, dg) in seen.items():
            assert dv == pytest.approx(want_v[idx], rel=1e-5, abs=1e-6)
            assert dg == pytest.approx(want_g[idx], rel=1e-5, abs=1e-6)


def test_cell_colours_follow_sign_and_size(drawn):
    g, fig, _ = drawn
    mid = (LEVELS - 1) // 2
    nid = node_of(g, "W")
    d = g.nodes[nid]
    lay = fig._vizgrad["layout"]
    i = list(g.nodes).index(nid)
    # every filled square of W's box, with its colour level and map
    squares = []
    for t in fig.data:
        if t.meta and "level" in t.meta:
            for k in range(0, len(t.x), 6):
                cx, cy = (t.x[k] + t.x[k + 1]) / 2, (t.y[k] + t.y[k + 2]) / 2
                if abs(cx - lay.x[i]) < lay.w[i] / 2 and abs(cy - lay.y[i]) < lay.h[i] / 2:
                    squares.append((cx, cy, t.meta["map"], t.meta["level"]))
    assert len(squares) == 2 * d["value"].size
    for name, arr in (("data", d["value"]), ("grad", d["grad"])):
        sq = sorted((s for s in squares if s[2] == name), key=lambda s: (round(s[1]), s[0]))  # row-major
        lv = np.array([s[3] for s in sq]).reshape(arr.shape)
        assert ((lv > mid) == (arr > 0)).all() and ((lv < mid) == (arr < 0)).all()
        big = np.unravel_index(np.abs(arr).argmax(), arr.shape)
        assert lv[big] in (0, LEVELS - 1)


def test_cells_sit_inside_their_box_and_a_click_selects_the_node(drawn):
    g, fig, _ = drawn
    lay = fig._vizgrad["layout"]
    ids = list(g.nodes)
    cl = cells(fig)
    for x, y, nid in zip(cl.x, cl.y, cl.customdata):
        i = ids.index(nid)
        assert abs(x - lay.x[i]) < lay.w[i] / 2 and abs(y - lay.y[i]) < lay.h[i] / 2
    k = 4
    event = {"selection": {"points": [{"customdata": cl.customdata[k], "curve_number": 0}]}}
    assert vp.node_at(fig, event) == cl.customdata[k]


def test_scalars_keep_their_numbers_and_big_tensors_their_text():
    x = vizgrad.tensor(0.5, requires_grad=True, name="x")
    M = vizgrad.tensor(np.arange(MAX_SIDE + 1.0).repeat(2).reshape(MAX_SIDE + 1, 2), requires_grad=True, name="M")
    S = vizgrad.tensor(np.ones((MAX_SIDE, MAX_SIDE)), requires_grad=True, name="S")
    z = (M * x).sum() + (S * x).sum()
    z.backward()
    fig = vp.figure(z, natural=True)
    text = " ".join(str(s) for t in fig.data if t.mode == "text" for s in t.text)
    assert "data\u00a00.5" in text and "grad" in text           # the scalar: its numbers on the box
    assert f"no\u00a0map\u00a0above\u00a0{MAX_SIDE}×{MAX_SIDE}" in text  # M (17x2): text and a note
    cl = cells(fig)
    g = fig._vizgrad["graph"]
    assert node_of(g, "M") not in set(cl.customdata)
    assert list(cl.customdata).count(node_of(g, "S")) == 2 * MAX_SIDE * MAX_SIDE  # 16x16: cell by cell


def test_without_cell_maps_the_boxes_keep_the_text(drawn):
    g, _, _ = drawn
    fig = vp.figure(g, natural=True, cell_maps=False)
    assert not any(t.name == "cells" for t in fig.data)
    text = " ".join(str(s) for t in fig.data if t.mode == "text" for s in t.text)
    w = g.nodes[node_of(g, "W")]["value"]
    box = next(str(s) for t in fig.data if t.mode == "text" for s in t.text if str(s).startswith("<b>W</b>"))
    first = float(re.search(rf"data\W*\[\[\W*({NUM})", box.replace("\u00a0", " "))[1])
    assert first == pytest.approx(w[0, 0], rel=0.05)  # the elements as text (2 significant digits)


def test_dimmed_maps_fade_with_their_box(drawn):
    g, _, _ = drawn
    w = node_of(g, "W")
    fig = vp.figure(g, natural=True, highlight_nodes={w}, dim_others=True)
    faded = {t.opacity for t in fig.data if t.meta and "level" in t.meta}
    assert faded == {1.0, 0.25}


def test_the_captions_of_a_column_vectors_maps_do_not_overlap():
    from vizgrad.plot.style import CHAR
    c = vizgrad.tensor(np.array([[1.0], [-2.0], [3.0]]), requires_grad=True, name="c")   # (3, 1): one cell wide
    z = (c * c).sum()
    z.backward()
    fig = vp.figure(z, natural=True)
    cap = next(t for t in fig.data if t.name == "map captions")
    efs = cap.textfont.size
    spans = sorted((x - len(s) * CHAR * efs / 2, x + len(s) * CHAR * efs / 2) for x, s, y in zip(cap.x, cap.text, cap.y))
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_a_matrix_not_computed_yet_has_empty_cells_and_no_nan_on_hover():
    # the Walkthrough's forward steps: a tensor whose op has not run holds NaN, marked computed=False
    W = vizgrad.tensor([[1.0, -2.0], [0.5, 3.0], [2.0, 1.0]], requires_grad=True, name="W")
    v = vizgrad.tensor([1.0, 2.0], requires_grad=True, name="v")
    h = W @ v
    h.name = "h"
    g = vg.trace(h.sum())
    hid = next(n for n, d in g.nodes(data=True) if d["label"] == "h")
    g.nodes[hid].update(value=np.full((3,), np.nan), computed=False)
    fig = vp.figure(g)
    cells = next(t for t in fig.data if t.name == "cells")
    mine = [str(t) for t, c in zip(cells.hovertext, cells.customdata) if c == hid]
    assert len(mine) == 3 and all("data not computed yet" in t and "nan" not in t.lower() for t in mine)
    assert all("nan" not in str(t).lower() for t in cells.hovertext)
    caps = next(t for t in fig.data if t.name == "map captions").text
    assert "data ?" in caps and caps.count("data ?") == 1
    # its cells are drawn empty: no coloured square inside h's cells
    pts = [(x, y) for x, y, c in zip(cells.x, cells.y, cells.customdata) if c == hid]
    x0, x1 = min(p[0] for p in pts) - 7, max(p[0] for p in pts) + 7
    y0, y1 = min(p[1] for p in pts) - 7, max(p[1] for p in pts) + 7
    squares = [(x, y) for t in fig.data if (t.name or "").endswith(" cells") and t.name != "cells"
               for x, y in zip(t.x, t.y) if x is not None]
    assert squares and not [p for p in squares if x0 <= p[0] <= x1 and y0 <= p[1] <= y1]


def test_a_zero_cell_stands_out_from_every_box_fill():
    # a 0 element (XOR's inputs are 0 and 1) must read as a cell, not as a hole in its box
    from vizgrad.plot.cells import SCALES, level_colors
    from vizgrad.plot.style import THEMES

    def lum(c):
        return sum(w * int(c[i:i + 2], 16) for w, i in ((0.2126, 1), (0.7152, 3), (0.0722, 5)))
    for theme, scales in SCALES.items():
        fills = [v[0] for k, v in THEMES[theme].items() if isinstance(v, tuple)]
        for scale in scales.values():
            zero = level_colors(scale)[LEVELS // 2]
            assert min(abs(lum(zero) - lum(f)) for f in fills) >= 12, (theme, zero)
