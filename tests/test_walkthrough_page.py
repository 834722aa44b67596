"""Backprop Walkthrough: its sources (vizgrad.app.walkthrough) and the page under AppTest."""
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from vizgrad.app import walkthrough as ws

ROOT = Path(__file__).resolve().parents[1]
SEED = {"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"}


# ---- the non-UI module ------------------------------------------------------------------------------
def test_expression_source_walks_and_checks():
    w = ws.prepare(ws.from_query(SEED))
    assert w.ok and w.n == 6 and w.all_match
    rows = {r["tensor"]: r for r in w.comparison}
    assert rows["x"]["walkthrough"] == "4" and rows["y"]["walkthrough"] == "27"
    assert rows["x"]["vs .backward()"] == "✓" and rows["y"]["vs finite diff."] == "✓"


@pytest.mark.parametrize("label,query", ws.sources_menu(), ids=[q[0][:30] for q in ws.sources_menu()])
def test_every_ready_made_source_matches_backward_and_finite_differences(label, query):
    w = ws.prepare(ws.from_query(query))
    assert w.ok, w.error
    assert w.all_match, w.comparison
    assert all(c.matches_backward for c in w.checks)


def test_mlp_is_a_2_3_1_network():
    src = ws.mlp()
    assert {n: tuple(t.shape) for n, t in src.leaves.items()} == {"W1": (3, 2), "b1": (3,), "W2": (1, 3), "b2": (1,)}
    w = ws.prepare(src)
    assert any(s.op == "TanhBackward0" for s in w.steps)
    assert all(c.matches_numeric for c in w.checks)


@pytest.mark.parametrize("query,words", [({"expr": "x**"}, "column 3"), ({"lesson": "nope"}, "no lesson"),
                                         ({"net": "huge"}, "Unknown network"),
                                         ({"expr": "x + 1", "v.x": "2", "ng": "x"}, "requires grad")])
def test_bad_sources_are_messages(query, words):
    w = ws.prepare(ws.from_query(query))
    assert not w.ok and words in w.error


def test_step_graph_hides_what_is_not_computed_yet():
    w = ws.prepare(ws.from_query(SEED))
    g0 = ws.step_graph(w, 0)                      # forward: no gradients anywhere
    assert all(d.get("grad") is None for _, d in g0.nodes(data=True) if d["kind"] == "tensor")
    k = next(i for i, s in enumerate(w.steps) if s.phase == "backward")
    g = ws.step_graph(w, k)                       # first backward step: the add sent 1 to both terms
    labels = {d["label"]: d for _, d in g.nodes(data=True)}
    assert labels["x"]["grad"] is None and labels["y"]["grad"] is None
    gl = ws.step_graph(w, w.n - 1)
    labels = {d["label"]: d for _, d in gl.nodes(data=True)}
    assert float(labels["x"]["grad"]) == 4 and float(labels["y"]["grad"]) == 27
    (fig, _), = ws.step_figure(w, 1)
    assert any(t.name == "not computed yet" for t in fig.data)


def test_running_grads_accumulate_on_fan_out():
    w = ws.prepare(ws.from_query({"expr": "x*x + x", "v.x": "3"}))
    rows = [ws.running_grads(w, k) for k in range(w.n)]
    xs = [next(r for r in rs if r["tensor"].startswith("x ")) for rs in rows if any(r["tensor"].startswith("x ") for r in rs)]
    assert [r["∂f/∂tensor"] for r in xs] == ["1", "7"] and xs[-1]["status"] == "✓ final"


def test_step_from_query_clamps():
    assert ws.step_from_query({"step": "3"}, 6) == 2
    assert ws.step_from_query({"step": "99"}, 6) == 5
    assert ws.step_from_query({"step": "abc"}, 6) == 0 and ws.step_from_query({}, 6) == 0


def test_central_differences():
    g = ws.central_differences(lambda v: float(np.sum(v["a"] ** 2)), {"a": np.array([1.0, -2.0])}, "a")
    np.testing.assert_allclose(g, [2.0, -4.0], rtol=1e-6)


# ---- the page ------------------------------------------------------------------------------------
def open_walkthrough(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page("pages/walkthrough.py").run()
    assert not at.exception, at.exception
    return at


def step_of(at) -> int:
    return at.slider(key="wt_slider").value


def test_next_previous_and_slider_change_the_step():
    at = open_walkthrough(SEED)
    assert step_of(at) == 1 and at.query_params["step"] == "1"
    at.button(key="wt_next").click().run()
    assert step_of(at) == 2 and at.query_params["step"] == "2"
    assert any("t2" in x.value and "27" in x.value for x in at.latex)
    at.button(key="wt_next").click().run()
    at.button(key="wt_prev").click().run()
    assert step_of(at) == 2
    at.slider(key="wt_slider").set_value(5).run()
    assert not at.exception and step_of(at) == 5 and at.query_params["step"] == "5"
    assert any("Backward pass" in b.value for b in at.markdown)


def test_url_step_is_honoured_and_the_last_step_checks_the_result():
    at = open_walkthrough({**SEED, "step": "6"})
    assert step_of(at) == 6
    assert at.button(key="wt_next").disabled
    assert at.success and "✓" in at.success[0].value
    table = next(t.value for t in at.table if "vs .backward()" in t.value.columns)  # the check, not the modes
    assert list(table["tensor"]) == ["x", "y"]
    assert list(table["walkthrough"]) == ["4", "27"] and list(table["vs finite diff."]) == ["✓", "✓"]


def test_bad_expression_in_the_url_shows_an_error():
    at = open_walkthrough({"expr": "x**", "v.x": "2"})
    assert at.error and "column 3" in at.error[0].value


def test_lesson_and_network_from_the_url():
    at = open_walkthrough({"lesson": "detach", "step": "2"})
    assert step_of(at) == 2 and any("lesson" in m.value for m in at.markdown)
    at = open_walkthrough({"net": "mlp"})
    assert at.slider(key="wt_slider").max == 20


def test_picking_an_example_and_typing_an_expression():
    at = open_walkthrough(SEED)
    at.selectbox(key="wt_pick").set_value(4).run()       # Fan-out: x·x + x
    assert not at.exception and at.query_params["expr"] == "x*x + x" and step_of(at) == 1
    at.text_input(key="wt_expr").set_value("a*b").run()
    assert not at.exception and at.query_params["expr"] == "a*b"
    assert {t.label for t in at.text_input} >= {"a =", "b ="}


PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/130.0 Mobile Safari/537.36"}
DESKTOP = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36"}


def test_step_figure_is_the_screen_view_in_a_window_under_the_buttons():
    # the MLP's last step: a desktop gets the wide layout and the narrow one, each with its media query;
    # each is a window of at most the page's room (GRAPH_WIDTH wide, GRAPH_HEIGHT tall; a phone's width)
    w = ws.prepare(ws.from_query({"net": "mlp"}))
    k = w.n - 1
    step = w.steps[k]
    (wide, m1), (narrow, m2) = ws.step_figure(w, k, DESKTOP)
    assert m1.startswith("(min-width:") and m2.startswith("(max-width:")
    assert wide.layout.width <= ws.GRAPH_WIDTH and wide.layout.height <= ws.GRAPH_HEIGHT
    assert narrow.layout.width <= 360 - 20 and narrow.layout.height <= ws.GRAPH_HEIGHT
    (phone, media), = ws.step_figure(w, k, PHONE)
    assert media is None and phone.layout.width <= 340
    for fig in (wide, narrow, phone):
        lay = fig._vizgrad["layout"]
        (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range
        x, y = lay.x[lay.index[step.node]], lay.y[lay.index[step.node]]
        assert x0 <= x <= x1 and min(y0, y1) <= y <= max(y0, y1)      # the step's op is in the window
        assert fig._vizgrad["scale"] == 1.0                              # natural size: text never shrunk
        assert any(t.name == "highlighted" for t in fig.data)


def test_backward_figure_is_laid_out_for_the_screen():
    w = ws.prepare(ws.from_query(SEED))
    figs = ws.backward_figure(w, DESKTOP)
    assert len(figs) == 2 and all(f.frames and f._vizgrad["scale"] == 1.0 for f, _ in figs)
    assert figs[1][0].layout.width <= 360 < figs[0][0].layout.width
