"""The Playground's selection and history, as plain functions over Streamlit's event dicts, and the
page under AppTest (a click itself is tested in the browser: tests/browser/test_playground_clicks_browser.py)."""
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from vizgrad.app.expression import (
    History,
    State,
    VarSpec,
    op_text,
    clicked,
    edge_details,
    keeps_selection,
    run,
    selection_details,
    selection_in,
)
from vizgrad.plot import figure
from vizgrad.plot.figure import local_number, plain_rule

ROOT = Path(__file__).resolve().parents[1]


def event(*customdata):
    """What st.plotly_chart(on_select=...) puts in session_state after a click on points."""
    pts = [{"curve_number": 9, "point_number": i, "point_index": i, "x": 0.0, "y": 0.0, "customdata": cd}
           for i, cd in enumerate(customdata)]
    return {"selection": {"points": pts, "point_indices": list(range(len(pts))), "box": [], "lasso": []}}


def seed_graph():
    return run(State()).graph  # x**2 + y**3 at x=2, y=3


def label_of(g, n):
    return g.nodes[n]["label"]


def test_a_click_selects_exactly_the_clicked_node_every_time():
    g = seed_graph()
    sel = None
    for n in list(g.nodes) * 2:  # every node, twice round, each click right after the other
        sel = clicked(event(n), g, sel)
        assert sel == n
        assert selection_details(g, sel).title == f"op {op_text(g, n)}  ({g.nodes[n]['op']})" \
            if g.nodes[n]["kind"] == "op" else selection_details(g, sel).title == f"tensor {label_of(g, n)}"


def test_a_click_on_an_edge_selects_the_edge():
    g = seed_graph()
    u, v = next((u, v) for u, v, e in g.edges(data=True) if e["kind"] == "input")
    assert clicked(event([u, v]), g, "t0") == (u, v)


def test_an_empty_or_foreign_click_keeps_the_selection():
    g = seed_graph()
    assert clicked(event(), g, "t0") == "t0"            # plotly deselected (a click on the selected point)
    assert clicked(None, g, "t0") == "t0"
    assert clicked(event("t99"), g, "t0") == "t0"       # an id of another graph
    assert clicked(event(["t0", "t99"]), g, None) is None


def test_the_click_reads_streamlit_s_attribute_style_state():
    class Sel(dict):
        __getattr__ = dict.__getitem__
    g = seed_graph()
    assert clicked(Sel(selection=Sel(points=[Sel(customdata="op0")])), g, None) == "op0"


def test_selection_in_drops_what_the_graph_does_not_have():
    g = seed_graph()
    assert selection_in(g, "t0") == "t0" and selection_in(g, "nope") is None
    u, v = next(iter(g.edges))
    assert selection_in(g, [u, v]) == (u, v) and selection_in(g, (v, u)) is None
    assert selection_in(None, "t0") is None


def test_a_new_expression_or_requires_grad_drops_the_selection_a_new_value_keeps_it():
    a = State("x*y", {"x": VarSpec("2"), "y": VarSpec("3")})
    assert keeps_selection(a, State("x*y", {"x": VarSpec("5"), "y": VarSpec("3")}))
    assert not keeps_selection(a, State("x*y + 1", {"x": VarSpec("2"), "y": VarSpec("3")}))
    assert not keeps_selection(a, State("x*y", {"x": VarSpec("2"), "y": VarSpec("3", requires_grad=False)}))
    assert not keeps_selection(None, a)


def test_edge_details_scalar_is_upstream_times_local_with_numbers():
    g = seed_graph()
    x = next(n for n in g if g.nodes[n].get("label") == "x")
    op = next(iter(g.successors(x)))
    det = edge_details(g, (x, op))
    rows = dict(det.rows)
    assert det.title == "edge x → t1 = x²"
    assert rows["sent to x"] == "4" and rows["upstream ∂f/∂t1"] == "1" and rows["local ∂t1/∂x"] == "2x = 4"
    assert det.latex and det.latex[-1] == r"= 1 \cdot 4 = 4"


def test_edge_details_fan_out_lists_each_use():
    g = run(State("x*x + x", {"x": VarSpec("3")})).graph
    x = next(n for n in g if g.nodes[n].get("label") == "x")
    mul = next(v for v in g.successors(x) if g.nodes[v]["symbol"] == "×")
    rows = dict(edge_details(g, (x, mul)).rows)
    assert rows["sent to x (operand 0)"] == "3" and rows["sent to x (operand 1)"] == "3"
    assert rows["total along this edge"] == "6"


def test_edge_details_for_tensors_give_shapes_and_values_not_a_number():
    out = run(State("sum(tanh(W @ v + b)**2)", {"W": VarSpec("[[1, 2], [3, 4], [5, 6]]"), "v": VarSpec("[1, -1]"),
                                                  "b": VarSpec("[0, 1, 0]")}))
    g = out.graph
    W = next(n for n in g if g.nodes[n].get("label") == "W")
    op = next(iter(g.successors(W)))
    rows = dict(edge_details(g, (W, op)).rows)
    assert rows["sent to W"].startswith("shape [3, 2]: ") and rows["upstream ∂f/∂t1"].startswith("shape [3]: ")
    assert rows["local ∂t1/∂W"] == "g·vᵀ"  # a rule, no made-up number for a Jacobian
    assert local_number(g, op, 0) is None
    # an op -> output edge carries the output's gradient back
    t2 = g.nodes[op]["output"]
    assert dict(edge_details(g, (op, t2)).rows)["gradient carried back"].startswith("shape [3]")


def test_hover_shows_the_local_derivative_with_numbers():
    g = seed_graph()
    fig = figure(g)
    nodes = next(t for t in fig.data if t.name == "nodes")
    hover = dict(zip(nodes.customdata, nodes.hovertext))
    op = next(n for n in g if g.nodes[n].get("symbol") == "**3")
    assert "∂out/∂y = 3y^2 = 27  (at y = 3)" in hover[op]


def test_plain_rule_reads_like_the_math():
    assert plain_rule(r"1-\tanh^{2}a", ["u"]) == "1-tanh^2 u"
    assert plain_rule(r"-\frac{a}{b^{2}}", ["x", "y"]) == "-x/(y^2)"
    assert plain_rule(r"g\,b^{\top}", ["W", "v"]) == "g·vᵀ"


def test_selection_does_not_fade_the_figure():
    fig = figure(seed_graph(), highlight_nodes={"t0"})
    for t in fig.data:
        if "text" in (t.mode or ""):
            col = t.textfont.color
            assert t.unselected.textfont.color == (col if isinstance(col, str) else col[0])
        if "markers" in (t.mode or "") and t.name in ("nodes", "edges"):
            assert t.unselected.marker.opacity == 0 and t.selected.marker.opacity == 0


def test_history_steps_back_and_forward_and_a_new_change_drops_the_future():
    h = History()
    states = [State("x", {"x": VarSpec("1")}), State("x*2", {"x": VarSpec("1")}), State("x*2", {"x": VarSpec("5")})]
    for s in states:
        h.commit(s)
        h.commit(s)  # a rerun without a change adds nothing
    assert len(h.states) == 3 and not h.can_forward
    assert h.back() == states[1] and h.back() == states[0] and h.back() is None
    assert h.forward() == states[1]
    h.commit(states[1])  # the rerun that loads it
    assert h.can_forward
    h.commit(State("y", {"y": VarSpec("1")}))
    assert not h.can_forward and len(h.states) == 3 and h.states[-1]["expr"] == "y"


# ---- the page ----------------------------------------------------------------------------------
def open_playground(query=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if query:
        at.query_params.update(query)
    at.run()
    at.switch_page("pages/expression.py").run()
    assert not at.exception, at.exception
    return at


def inspector_title(at):
    titles = [m.value for m in at.markdown if m.value.startswith("**tensor ") or m.value.startswith("**op ")
              or m.value.startswith("**edge ")]
    return titles[0].strip("*") if titles else None


def test_page_selection_shows_the_inspector_and_a_new_expression_clears_it():
    at = open_playground()
    at.session_state["pg_sel"] = "t0"  # what the chart's on_select callback stores for a click on x
    at.run()
    assert inspector_title(at) == "tensor x"
    at.text_input(key="pg_v_x").set_value("5").run()  # a new value: the same node, new numbers
    assert inspector_title(at) == "tensor x"
    at.text_input(key="pg_expr").set_value("a*b").run()
    assert not at.exception and at.session_state["pg_sel"] is None and inspector_title(at) is None


def test_page_edge_selection_highlights_the_edge():
    at = open_playground()
    g = at.session_state["pg_computed"][1].graph
    u, v = next((u, v) for u, v, e in g.edges(data=True) if e["kind"] == "input")
    at.session_state["pg_sel"] = (u, v)
    at.run()
    assert inspector_title(at).startswith("edge ")


def test_page_back_and_forward_restore_each_expression():
    at = open_playground()
    for expr in ["x*3", "x*y*2", "tanh(x)"]:
        at.text_input(key="pg_expr").set_value(expr).run()
    back = next(b for b in at.button if b.label == "Back")
    for expected in ["x*y*2", "x*3", "x**2 + y**3"]:
        next(b for b in at.button if b.label == "Back").click().run()
        assert at.text_input(key="pg_expr").value == expected
        assert at.query_params["expr"] in (expected, [expected])
    assert next(b for b in at.button if b.label == "Back").disabled
    next(b for b in at.button if b.label == "Forward").click().run()
    assert at.text_input(key="pg_expr").value == "x*3"
    at.text_input(key="pg_v_x").set_value("7").run()  # a new change after Back: no Forward any more
    assert next(b for b in at.button if b.label == "Forward").disabled
    assert back is not None and not at.exception


def test_edge_details_say_when_broadcasting_sums_the_gradient_back():
    g = run(State("sum(a * b)", {"a": VarSpec("[[1], [2]]"), "b": VarSpec("[10, 20, 30]")})).graph
    a = next(n for n in g if g.nodes[n].get("label") == "a")
    rows = dict(edge_details(g, (a, next(iter(g.successors(a))))).rows)
    assert rows["note"] == "broadcast: g ⊙ local has shape [2, 3], summed back to a's shape [2, 1]"
    assert rows["sent to a"].startswith("shape [2, 1]: ")
    assert np.isclose(float(g.nodes[a]["grad"].sum()), 2 * 60)


def test_backward_animation_toggle_draws_the_animated_graph():
    import json
    from pathlib import Path

    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.query_params.update({"expr": "a*a + a", "v.a": "3"})
    at.run()
    at.switch_page("pages/expression.py").run()
    assert len(at.get("plotly_chart")) == 1
    at.toggle(key="pg_backflow").set_value(True).run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 2
    anim = json.loads(charts[1].proto.spec)
    assert len(anim["frames"]) >= 4   # one per backward edge (a is used three times)
