"""vizgrad.plot builds its figures unchecked (trace dicts, one go.Figure, plotly's validation off:
vizgrad/plot/style.py, issue 17 (c)); these tests build the same figures with plotly checking every
property (style.VALIDATE, as before) and compare them: the same JSON, number for number, for many
graphs, values, themes, selections and options, the animation's frames included. A property plotly
would reject, or coerce to something else, fails here. And a Sent figure (serialised once, as the
Playground's memo keeps them) gives Streamlit what the figure itself would.

    .venv/bin/python -m pytest -q tests/test_plot_fast.py
"""
from __future__ import annotations

import json
import math

import numpy as np
import plotly.io as pio
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import vizgrad.plot as vp
import vizgrad.plot.style as style
from vizgrad.app.expression import State, run

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
DESKTOP = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0"}   # gets a wide and a narrow layout


def spec(fig) -> dict:
    """The figure as the browser gets it (Streamlit sends pio.to_json of it), parsed."""
    return json.loads(pio.to_json(fig, validate=False))


def same(a, b, path="") -> None:
    """a == b, floats to 1e-12 (plotly's validators wrap marker angles into [-180, 180), which can
    move the last bit); anything else exactly."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), (path, a, b)
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), (path, a, b)
        return
    assert type(a) is type(b), (path, a, b)
    if isinstance(a, dict):
        assert a.keys() == b.keys(), (path, sorted(a.keys() ^ b.keys()))
        for k in a:
            same(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


def both(monkeypatch, draw):
    """draw() unchecked, then with plotly checking: (fast, checked)."""
    monkeypatch.setattr(style, "VALIDATE", False)
    fast = draw()
    monkeypatch.setattr(style, "VALIDATE", True)
    checked = draw()
    monkeypatch.setattr(style, "VALIDATE", False)
    return fast, checked


# ---- graphs: small expressions over scalars, a vector and a matrix -----------------------------
LEAVES = st.sampled_from(["x", "y", "w", "2", "0.5", "v", "M"])
UNARY = ["tanh({})", "exp({})", "sum({})", "sigmoid({})", "({})**2", "-{}", "relu({})", "log(1 + exp({}))"]
BINARY = ["{} + {}", "{} * {}", "{} - {}", "{} / (1 + {}**2)", "M @ {} + {}"]


def _grow(inner):
    return st.one_of(st.tuples(st.sampled_from(UNARY), inner).map(lambda t: t[0].format(t[1])),
                     st.tuples(st.sampled_from(BINARY), inner, inner).map(lambda t: t[0].format(t[1], t[2])))


EXPRS = st.recursive(LEAVES, _grow, max_leaves=6)
NUMBER = st.floats(-3, 3, allow_nan=False).map(lambda v: f"{v:.3g}")
VALUES = st.fixed_dictionaries({
    "x": NUMBER, "y": NUMBER, "w": NUMBER,
    "v": st.lists(NUMBER, min_size=2, max_size=2).map(lambda l: "[" + ", ".join(l) + "]"),
    "M": st.lists(NUMBER, min_size=4, max_size=4).map(lambda l: f"[[{l[0]}, {l[1]}], [{l[2]}, {l[3]}]]"),
})


def graph_of(expr, values):
    q = {"expr": expr, **{f"v.{k}": v for k, v in values.items()}}
    out = run(State.from_query(q))
    assume(out.ok and out.graph is not None)
    return out.graph


OPTIONS = st.fixed_dictionaries({
    "theme": st.sampled_from(["light", "dark"]),
    "show_values": st.booleans(), "show_grads": st.booleans(), "show_shapes": st.booleans(),
    "cell_maps": st.booleans(), "edge_labels": st.booleans(), "backflow": st.booleans(),
    "legend": st.booleans(), "dim_others": st.booleans(),
    "title": st.sampled_from([None, "f = tanh(w·x)"]),
    "direction": st.sampled_from(["LR", "TB", "auto"]),
    "natural": st.booleans(),
    "label_threshold": st.sampled_from([400, 3]),       # 3: markers only, hover keeps the text
    "webgl_threshold": st.sampled_from([1000, 4]),      # 4: WebGL markers
})


@FUZZ
@given(EXPRS, VALUES, OPTIONS, st.data())
def test_figure_unchecked_equals_checked(monkeypatch_module, expr, values, opts, data):
    g = graph_of(expr, values)
    nodes, edges = list(g.nodes), list(g.edges)
    pick = data.draw(st.sampled_from(["none", "node", "edge", "pending"]))
    if pick == "node":
        opts["highlight_nodes"] = {data.draw(st.sampled_from(nodes))}
    elif pick == "edge" and edges:
        opts["highlight_edges"] = {data.draw(st.sampled_from(edges))}
    elif pick == "pending":
        opts["pending"] = set(data.draw(st.lists(st.sampled_from(nodes), max_size=3)))
    fast, checked = both(monkeypatch_module, lambda: vp.figure(g, fit_width=700, **opts))
    same(spec(fast), spec(checked))
    assert fast.layout.width == checked.layout.width and fast._vizgrad["scale"] == checked._vizgrad["scale"]


@FUZZ
@given(EXPRS, VALUES, st.sampled_from(["light", "dark"]), st.booleans(), st.booleans())
def test_animation_unchecked_equals_checked(monkeypatch_module, expr, values, theme, show_values, show_shapes):
    g = graph_of(expr, values)
    fast, checked = both(monkeypatch_module, lambda: vp.backward_animation(
        g, theme=theme, show_values=show_values, show_shapes=show_shapes, max_width=4000, keep_graph=False))
    same(spec(fast), spec(checked))
    # an unchecked frame's traces read back as the checked frame's do
    assert len(fast.frames) == len(checked.frames)
    for f, c in zip(fast.frames, checked.frames):
        assert f.name == c.name and f.traces == c.traces
        same(json.loads(pio.to_json(dict(data=[t.to_plotly_json() for t in f.data]), validate=False)),
             json.loads(pio.to_json(dict(data=[t.to_plotly_json() for t in c.data]), validate=False)))


@FUZZ
@given(EXPRS, VALUES, st.sampled_from([{}, DESKTOP]), st.booleans())
def test_screen_graph_unchecked_equals_checked(monkeypatch_module, expr, values, headers, dark):
    """What a page draws: the view, laid out for the screen (a desktop: wide and narrow), and the
    Walkthrough's window on a node (window_on changes a built figure's layout)."""
    g = graph_of(expr, values)
    (_, fast), (_, checked) = both(monkeypatch_module, lambda: vp.screen_graph(
        g, headers, None, theme="dark" if dark else "light", show_shapes=False))
    assert len(fast) == len(checked)
    for (f, m1), (c, m2) in zip(fast, checked):
        assert m1 == m2
        same(spec(f), spec(c))
    node = list(g.nodes)[0]
    windows = both(monkeypatch_module, lambda: vp.screen_figures(g, headers, window=([node], 300, 200)))
    for (f, _), (c, _) in zip(*windows):
        same(spec(f), spec(c))


@settings(FUZZ, max_examples=25)
@given(EXPRS, VALUES, st.sampled_from(["light", "dark"]), st.booleans())
def test_a_sent_figure_is_what_streamlit_would_send_of_the_figure(expr, values, theme, animated):
    """vizgrad.plot.Sent (the memo's figures: serialised once) gives st.plotly_chart the dict it
    gets of the figure itself, and the same JSON; and again on the next rerun."""
    import plotly.tools
    g = graph_of(expr, values)
    fig = (vp.backward_animation(g, theme=theme, max_width=4000) if animated
           else vp.screen_figures(g, DESKTOP, theme=theme)[-1][0])
    sent = vp.Sent(fig)
    for _ in range(2):  # what st.plotly_chart does with it, twice
        assert plotly.tools.return_figure_from_figure_or_data(sent, validate_figure=True) == fig.to_dict()
        assert pio.to_json(sent, validate=False) == pio.to_json(fig, validate=False)
    assert vp.scroll_css("box", sent, "(min-width: 9px)") == vp.scroll_css("box", fig, "(min-width: 9px)")
    assert (sent.width, sent.height) == (fig.layout.width, fig.layout.height)


@pytest.mark.parametrize("label_threshold, webgl_threshold", [(400, 1000), (3, 1000), (3, 4)])
@pytest.mark.parametrize("highlight", [{"highlight_nodes": {"t1"}}, {"highlight_edges": {("t0", "op0")}}, {}])
def test_every_drawing_mode_with_highlights_and_dimming(monkeypatch, label_threshold, webgl_threshold, highlight):
    """Text boxes, markers (SVG and WebGL), each with a highlighted node or edge, the rest dimmed
    (the markers' dimming once failed: a set where a bool was meant)."""
    g = run(State.from_query({"expr": "tanh(w*x + b) * x", "v.w": "0.5", "v.x": "2", "v.b": "-1"})).graph
    fast, checked = both(monkeypatch, lambda: vp.figure(g, label_threshold=label_threshold, dim_others=True,
                                                         webgl_threshold=webgl_threshold, **highlight))
    same(spec(fast), spec(checked))


def test_big_graph_collapsed_and_webgl(monkeypatch):
    """A graph big enough for the level of detail's boxes (modules) and for WebGL markers."""
    q = {"expr": " + ".join(f"tanh(w*{i} + b)" for i in range(1, 40)), "v.w": "0.3", "v.b": "0.1"}
    out = run(State.from_query(q))
    assert out.ok and out.graph.number_of_nodes() > 150
    (view, fast), (_, checked) = both(monkeypatch, lambda: vp.screen_graph(out.graph, {}, None))
    assert any(view.nodes[n]["kind"] == "module" for n in view)
    same(spec(fast[0][0]), spec(checked[0][0]))
    fast, checked = both(monkeypatch, lambda: vp.figure(out.graph, webgl_threshold=50, label_threshold=50))
    assert any(t["type"] == "scattergl" for t in spec(fast)["data"])
    same(spec(fast), spec(checked))


def test_unchecked_is_checked_by_the_tests_comparison(monkeypatch):
    """The comparison can fail: a property plotly would wrap (an angle past 180) differs."""
    import plotly.graph_objects as go
    t = dict(type="scatter", x=[0.0], y=[0.0], mode="markers", marker=dict(angle=[190.0]))
    fast, checked = both(monkeypatch, lambda: style.plotly_figure([t]))
    with pytest.raises(AssertionError):
        same(spec(fast), spec(checked))
    monkeypatch.setattr(style, "VALIDATE", True)
    with pytest.raises(ValueError):  # and a checked build rejects what plotly does not know
        style.plotly_figure([dict(type="scatter", x=[0.0], y=[0.0], mode="lines", line=dict(color="not a colour"))])
    assert isinstance(fast, go.Figure)


@pytest.fixture(scope="module")
def monkeypatch_module():
    """A monkeypatch that hypothesis' examples can share (function-scoped fixtures are reset once per test)."""
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()
