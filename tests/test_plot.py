"""vizgrad.plot: the figure holds the numbers, the layout is deterministic, layered and
overlap-free, big graphs go WebGL, options and the backward animation work."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import vizgrad
import vizgrad.graph as vg
import vizgrad.plot as vp


def seed(backward=True):
    x = vizgrad.tensor(2.0, requires_grad=True, name="x")
    y = vizgrad.tensor(3.0, requires_grad=True, name="y")
    z = x ** 2 + y ** 3
    if backward:
        z.backward()
    return z


def scalar_mlp(n_samples, seed_=0):
    """micrograd-style scalar MLP 2-3-1 over n_samples (25 ops a sample), backpropagated."""
    rng = np.random.default_rng(seed_)
    W1 = [[vizgrad.tensor(float(rng.uniform(-1, 1)), requires_grad=True) for _ in range(2)] for _ in range(3)]
    b1 = [vizgrad.tensor(float(rng.uniform(-1, 1)), requires_grad=True) for _ in range(3)]
    W2 = [vizgrad.tensor(float(rng.uniform(-1, 1)), requires_grad=True) for _ in range(3)]
    b2 = vizgrad.tensor(0.1, requires_grad=True)
    loss = None
    for _ in range(n_samples):
        x = [vizgrad.tensor(float(v)) for v in rng.uniform(-1, 1, 2)]
        h = []
        for ws, b in zip(W1, b1):
            a = b
            for w, xi in zip(ws, x):
                a = a + w * xi
            h.append(a.tanh())
        o = b2
        for w, hi in zip(W2, h):
            o = o + w * hi
        e = (o.tanh() - float(rng.uniform(-1, 1))) ** 2
        loss = e if loss is None else loss + e
    loss.backward()
    return loss


def texts(fig):
    out = []
    for t in fig.data:
        if t.text is not None and "text" in (t.mode or ""):
            out.extend(str(s) for s in t.text)
    return out


def boxes(lay):
    return np.stack([lay.x - lay.w / 2, lay.y - lay.h / 2, lay.x + lay.w / 2, lay.y + lay.h / 2], 1)


def assert_no_overlap(lay):
    b = boxes(lay)
    order = np.argsort(b[:, 0])
    b = b[order]
    # sweep: only compare boxes whose x-ranges can intersect
    for i in range(len(b)):
        j = np.searchsorted(b[:, 0], b[i, 2], side="left")
        other = b[i + 1:j]
        if len(other):
            hit = (other[:, 0] < b[i, 2] - 1e-6) & (other[:, 2] > b[i, 0] + 1e-6) & \
                  (other[:, 1] < b[i, 3] - 1e-6) & (other[:, 3] > b[i, 1] + 1e-6)
            assert not hit.any(), f"node {order[i]} overlaps {order[i + 1 + np.nonzero(hit)[0][0]]}"


def crossings(lay):
    """Proper intersections between the straight pieces of the edge routes (geometric, O(S^2))."""
    segs = []
    for k in range(len(lay.edges)):
        xs, ys = lay.points(k)
        segs += [(xs[i], ys[i], xs[i + 1], ys[i + 1]) for i in range(len(xs) - 1)]
    if len(segs) < 2:
        return 0
    s = np.array(segs)
    p, r = s[:, None, :2], (s[:, 2:] - s[:, :2])[:, None, :]
    q, t = s[None, :, :2], (s[:, 2:] - s[:, :2])[None, :, :]
    cross = lambda a, b: a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]  # noqa: E731
    den = cross(r, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = cross(q - p, t) / den
        v = cross(q - p, r) / den
    hit = (np.abs(den) > 1e-9) & (u > 1e-6) & (u < 1 - 1e-6) & (v > 1e-6) & (v < 1 - 1e-6)
    return int(np.triu(hit, 1).sum())


# -- content ---------------------------------------------------------------------------------------
def test_seed_figure_holds_values_and_gradient_labels():
    fig = vp.figure(seed())
    t = texts(fig)
    joined = "\n".join(t)
    # the edge labels carry the contributions 4 and 27 (and the 1s of the add)
    edge_trace = [tr for tr in fig.data if tr.name == "edge grads"][0]
    assert {"4", "27"} <= set(edge_trace.text) and "1" in edge_trace.text
    assert "grad\u00a04" in joined and "grad\u00a027" in joined and "data\u00a031" in joined
    assert any(s == "**2" for s in t) and any(s == "+" for s in t)
    # hover has full detail; customdata carries the node ids in the nodes trace
    nodes = [tr for tr in fig.data if tr.name == "nodes"][0]
    g = fig._vizgrad["graph"]
    assert list(nodes.customdata) == list(g.nodes)
    assert any("PowBackward0" in h and "∂out/∂x" in h for h in nodes.hovertext)
    edges = [tr for tr in fig.data if tr.name == "edges"][0]
    assert [tuple(c) for c in edges.customdata] == list(g.edges)
    assert any("gradient flowing back" in h and "27" in h for h in edges.hovertext)
    # a legend explains colours: node kinds and |grad| bins
    names = {tr.name for tr in fig.data if tr.showlegend is not False and tr.name}
    assert "leaf (requires grad)" in names and "op" in names
    assert any(n.startswith("|grad|") for n in names)


def test_before_backward_has_no_gradient_labels():
    fig = vp.figure(seed(backward=False))
    assert not [tr for tr in fig.data if tr.name == "edge grads"]
    assert not any("grad\u00a0" in s for s in texts(fig))
    assert "data\u00a031" in "\n".join(texts(fig))


def test_options_values_grads_shapes_theme():
    vizgrad.manual_seed(0)
    W = vizgrad.randn(2, 3, requires_grad=True)
    W.name = "W"
    loss = (W * W).sum()
    loss.backward()
    full = "\n".join(texts(vp.figure(loss)))
    assert "2×3" in full and "data" in full and "grad" in full
    bare = "\n".join(texts(vp.figure(loss, show_values=False, show_grads=False, show_shapes=False)))
    assert "data" not in bare and "grad" not in bare and "2×3" not in bare and "W" in bare
    dark = vp.figure(loss, theme="dark")
    assert dark.layout.paper_bgcolor == vp.THEMES["dark"]["bg"] != vp.THEMES["light"]["bg"]


def test_highlight_and_dim():
    z = seed()
    g = vg.trace(z)
    fig = vp.figure(g, highlight_nodes={"t0", "op0"}, highlight_edges=[("t0", "op0")], dim_others=True)
    names = [tr.name for tr in fig.data]
    assert names.count("highlighted") >= 2  # edge overlay and node outlines
    dimmed = [tr for tr in fig.data if tr.opacity is not None and tr.opacity < 0.5]
    assert dimmed, "the other nodes and edges are faded"
    plain = vp.figure(g)
    assert "highlighted" not in [tr.name for tr in plain.data]


# -- layout ----------------------------------------------------------------------------------------
def test_layout_layered_deterministic_no_overlap():
    z = seed()
    g = vg.trace(z)
    a, b = vp.figure(g), vp.figure(vg.trace(seed()))
    la, lb = a._vizgrad["layout"], b._vizgrad["layout"]
    np.testing.assert_array_equal(la.x, lb.x)
    np.testing.assert_array_equal(la.y, lb.y)
    assert a.to_json() == b.to_json()
    assert_no_overlap(la)
    # left to right: every edge goes from a lower layer to a higher one; inputs left, output right
    assert np.all(la.x[la.src] < la.x[la.dst])
    root = la.index[g.graph["roots"][0]]
    assert la.x[root] == la.x.max()
    # x is above y (operand order), and a tree has no crossings
    assert la.y[la.index["t0"]] < la.y[la.index["t2"]]
    assert crossings(la) == 0


def test_layout_mlp_quality_and_no_overlap():
    loss = scalar_mlp(4)
    g = vg.trace(loss)
    lay = vp.layout(g)
    assert_no_overlap(lay)
    assert np.all(lay.x[lay.src] < lay.x[lay.dst])
    fig = vp.figure(g)
    assert_no_overlap(fig._vizgrad["layout"])
    # crossing reduction does better than the plain depth-first order
    lay0 = vp.layout(g, sweeps=0)
    assert lay.crossings < lay0.crossings
    assert crossings(lay) < crossings(lay0)


def test_layout_edges_routes_end_on_borders():
    g = vg.trace(scalar_mlp(2))
    lay = vp.layout(g)
    for k in range(len(lay.edges)):
        xs, ys = lay.points(k)
        assert len(xs) >= 2 and np.all(np.diff(xs) >= -1e-6)  # routes run left to right
    assert np.isfinite(lay.px).all() and np.isfinite(lay.py).all()


def test_collapsed_module_figure():
    x = vizgrad.tensor(1.0, requires_grad=True, name="x")
    h = (x * 2).tanh()
    h.grad_fn.scope = (":Net", "act:Tanh")
    h.grad_fn.inputs[0].grad_fn.scope = (":Net", "act:Tanh")
    out = h + 1
    out.backward()
    g = vg.collapse(vg.trace(out), "act")
    fig = vp.figure(g)
    assert any("act" in s for s in texts(fig))
    assert_no_overlap(fig._vizgrad["layout"])


# -- big graphs ------------------------------------------------------------------------------------
def test_2000_op_graph_renders_with_webgl():
    loss = scalar_mlp(80)  # 2,000 ops
    g = vg.trace(loss)
    fig = vp.figure(g)
    n_ops = sum(1 for _, k in g.nodes(data="kind") if k == "op")
    assert n_ops >= 1990  # how fast it renders is measured in bench/render.py, not asserted here
    # markers in WebGL; the edges and their heads SVG lines (no per-point marker angles: see bench/render.py)
    kinds = {(type(tr).__name__, tr.mode) for tr in fig.data}
    assert {k for k in kinds if k[1] != "lines"} == {("Scattergl", "markers")}
    assert {k for k in kinds if k[1] == "lines"} == {("Scatter", "lines")}
    heads = [tr for tr in fig.data if tr.name == "arrowheads"]
    assert sum(len(tr.x) for tr in heads) == 4 * g.number_of_edges()  # a V (3 points + gap) per edge
    assert not any("text" in (tr.mode or "") for tr in fig.data)  # labels dropped ...
    nodes = [tr for tr in fig.data if tr.name == "nodes"][0]
    assert len(nodes.hovertext) == g.number_of_nodes()  # ... hover kept
    assert_no_overlap(fig._vizgrad["layout"])
    fig.to_json()


# -- animation -------------------------------------------------------------------------------------
def test_backward_animation():
    z = seed()
    g = vg.trace(z)
    fig = vp.backward_animation(g)
    E = g.number_of_edges()
    assert len(fig.frames) == E + 1
    assert fig.layout.updatemenus[0].buttons[0].label.endswith("play")
    assert "pause" in fig.layout.updatemenus[0].buttons[1].label
    assert len(fig.layout.sliders[0].steps) == len(fig.frames)
    lay = fig._vizgrad["layout"]
    steps = [k for ch in fig._vizgrad["steps"] for k in ch]
    assert sorted(steps) == list(range(E))
    # reverse topological: the edge into the output lights first; leaves' edges come last
    first_u, first_v = lay.edges[steps[0]]
    assert first_v == g.graph["roots"][0]
    assert g.nodes[lay.edges[steps[-1]][0]]["is_leaf"]
    # the last frame shows every gradient label
    last = fig.frames[-1]
    labels = [d for d in last.data if d.mode == "text"][0].text
    assert {"4", "27"} <= set(labels)
    first = [d for d in fig.frames[0].data if d.mode == "text"][0].text
    assert not first


# -- events and notebook display -------------------------------------------------------------------
def test_node_at_and_edge_at():
    fig = vp.figure(seed())
    assert vp.node_at({"points": [{"customdata": "t0", "curve_number": 3}]}) == "t0"
    assert vp.node_at({"selection": {"points": [{"customdata": "op1"}]}}, fig) == "op1"
    assert vp.node_at(fig, {"selection": {"points": [{"customdata": "t9"}]}}) is None  # not in this graph
    assert vp.node_at({"selection": {"points": []}}) is None
    assert vp.edge_at({"points": [{"customdata": ["t0", "op0"]}]}, fig) == ("t0", "op0")
    assert vp.node_at({"points": [{"customdata": ["t0", "op0"]}]}) is None


def test_show_is_lazy_and_displays(monkeypatch):
    code = "import sys, vizgrad; assert callable(vizgrad.show); print('plotly' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.stdout.strip() == "False", out.stderr
    import plotly.graph_objects as go
    shown = []
    monkeypatch.setattr(go.Figure, "show", lambda self, *a, **k: shown.append(self))
    fig = vizgrad.show(seed(), theme="dark")
    assert shown == [fig] and fig.layout.paper_bgcolor == vp.THEMES["dark"]["bg"]


def test_a_graph_too_wide_for_its_numbers_keeps_names_before_dropping_to_markers():
    """Between "every number fits" and "markers only", a figure keeps node names and op symbols."""
    x = vizgrad.tensor(2.0, requires_grad=True, name="x")
    y = vizgrad.tensor(3.0, requires_grad=True, name="y")
    z = x ** 2 + y ** 3
    z.backward()
    g = vg.trace(z)
    assert any("data" in t for t in texts(vp.figure(g)))
    names = texts(vp.figure(g, max_width=250))    # too narrow for the numbers, wide enough for names
    assert "<b>x</b>" in names and not any("data" in t or "grad" in t for t in names)
    assert texts(vp.figure(g, max_width=150)) == []  # narrower still: markers, hover keeps the detail


def test_options_object_and_keywords_draw_the_same_figure():
    g = vg.trace(seed())
    kw = dict(theme="dark", show_values=False, highlight_nodes={"t0"}, dim_others=True, max_width=700)
    a = vp.figure(g, **kw).to_json()
    assert vp.figure(g, vp.FigureOptions(**kw)).to_json() == a
    assert vp.figure(g, vp.FigureOptions(theme="dark"), show_values=False, highlight_nodes={"t0"},
                     dim_others=True, max_width=700).to_json() == a
    with pytest.raises(TypeError):
        vp.figure(g, no_such_option=True)


def test_pending_nodes_are_veiled_under_the_click_targets_and_keep_graph_false_drops_the_graph():
    g = vg.trace(seed())
    fig = vp.figure(g, pending={"t0", "op0"}, pending_label="not computed yet", keep_graph=False)
    names = [t.name for t in fig.data]
    k = names.index("not computed yet")
    assert names[k + 1:] == ["edges", "nodes"]  # the hover / click targets stay on top
    assert sum(1 for v in fig.data[k].x if v is None) == 2  # one box per pending node
    veil = fig.data[k]  # its legend swatch is visible: an outline unlike the page behind it
    assert veil.line.width > 0 and veil.line.color != fig.layout.paper_bgcolor
    assert fig._vizgrad["graph"] is None and fig._vizgrad["layout"] is not None
    assert "not computed yet" not in [t.name for t in vp.figure(g).data]


def test_a_tensor_not_computed_yet_shows_a_question_mark_never_its_nan_placeholder():
    # the Walkthrough's forward steps mark tensors whose op has not run: computed=False, value NaN
    g = vg.trace(seed(backward=False))
    later = next(n for n, d in g.nodes(data=True) if d["kind"] == "tensor" and d.get("root"))
    g.nodes[later].update(value=np.full((), np.nan), computed=False)
    fig = vp.figure(g)
    box = next(t for t in texts(fig) if t.startswith(f"<b>{g.nodes[later]['label']}</b>"))
    assert "data\u00a0?" in box and "nan" not in box.lower()
    nodes = next(t for t in fig.data if t.name == "nodes")
    hover = dict(zip(nodes.customdata, nodes.hovertext))
    assert "data: not computed yet" in hover[later] and "nan" not in hover[later].lower()
    others = [h for n, h in hover.items() if n != later and g.nodes[n]["kind"] == "tensor"]
    assert others and all("not computed" not in h and "nan" not in h.lower() for h in others)


def test_derivative_rules_read_as_a_teacher_writes_them_on_any_traced_graph():
    # a plain traced graph (the Home page's, not the Walkthrough's): 2x, not 2·x^1; 3y^2; x**1 -> 1
    x = vizgrad.tensor(2.0, requires_grad=True, name="x")
    y = vizgrad.tensor(3.0, requires_grad=True, name="y")
    z = x ** 2 + y ** 3 + x ** 1
    z.backward()
    g = vg.trace(z)
    nodes = next(t for t in vp.figure(g).data if t.name == "nodes")
    hover = " | ".join(map(str, nodes.hovertext))
    assert "∂out/∂x = 2x = 4  (at x = 2)" in hover          # d(x²)/dx at x = 2, as torch's 2*x gives
    assert "∂out/∂y = 3y^2 = 27  (at y = 3)" in hover
    assert "∂out/∂x = 1" in hover
    assert "^1" not in hover and "x^0" not in hover and "2·x" not in hover
