"""Expression Playground: the logic module (vizgrad.app.expression) and the page under AppTest."""
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from vizgrad.app.expression import EXAMPLES, State, VarSpec, node_details, run

ROOT = Path(__file__).resolve().parents[1]


# ---- logic --------------------------------------------------------------------------------------
def test_default_state_is_the_seed_expression():
    out = run(State())
    assert out.ok
    assert float(out.output.item()) == 31.0
    assert float(out.grads["x"]) == 4.0 and float(out.grads["y"]) == 27.0
    assert all(c.ok for c in out.checks.values())


@pytest.mark.parametrize("i", range(len(EXAMPLES)))
def test_every_example_runs_and_its_gradients_pass_the_numeric_check(i):
    out = run(State.from_example(i))
    assert out.ok, (out.error, out.var_errors)
    assert out.graph is not None
    assert all(c.ok for c in out.checks.values()), out.checks
    assert out.code.startswith("import torch")


def test_url_round_trip():
    s = State("a*b + b", {"a": VarSpec("[1, 2]"), "b": VarSpec("3", requires_grad=False)})
    again = State.from_query(s.to_query())
    assert again == s


def test_sync_adds_and_drops_variables():
    s = State("x*y", {"x": VarSpec("2"), "z": VarSpec("5")})
    s.sync()
    assert list(s.vars) == ["x", "y"] and s.vars["x"].text == "2"


def test_bad_expression_reports_message_and_column():
    out = run(State("x + yy(2)", {"x": VarSpec("1")}))
    assert not out.ok and out.error is not None
    assert out.error.col == 5
    assert "yy" in out.error.message


def test_shape_mismatch_points_at_the_operator():
    out = run(State("x @ y", {"x": VarSpec("[1, 2]"), "y": VarSpec("[1, 2, 3]")}))
    assert out.error is not None and out.error.col == 3


def test_bad_variable_value_is_reported_for_that_variable():
    out = run(State("x**2", {"x": VarSpec("[1, 2")}))
    assert set(out.var_errors) == {"x"} and "never closed" in out.var_errors["x"]
    out = run(State("x**2", {"x": VarSpec("__import__('os')")}))
    assert set(out.var_errors) == {"x"}


def test_value_text_cannot_run_code():
    for text in ["().__class__", "open('/etc/passwd')", "lambda: 1", "[x for x in ()]", "a.b"]:
        out = run(State("x", {"x": VarSpec(text)}))
        assert "x" in out.var_errors, text


def test_division_by_zero_is_inf_and_warned():
    out = run(State("x / y", {"x": VarSpec("1"), "y": VarSpec("0")}))
    assert out.ok and np.isinf(out.output.item())
    assert any("zero" in w for w in out.warnings)


def test_node_details_for_tensor_and_op():
    out = run(State())
    g = out.graph
    x = next(n for n, d in g.nodes(data=True) if d.get("label") == "x")
    det = node_details(g, x)
    assert dict(det.rows)["grad"] == "4"
    op = next(iter(g.successors(x)))
    det = node_details(g, op)
    assert "PowBackward0" in det.title and det.latex and "{x}" in det.latex[0]


# ---- the page, as a user changes it ----------------------------------------------------------
def open_playground(query=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if query:
        at.query_params.update(query)
    at.run()
    at.switch_page("pages/expression.py").run()
    assert not at.exception, at.exception
    return at


def table(at):
    df = at.table[0].value
    return {row["tensor"]: row for _, row in df.iterrows()}


def test_page_shows_seed_results_and_updates_when_a_variable_changes():
    at = open_playground()
    rows = table(at)
    assert rows["f (output)"]["value"] == "31" and rows["x"]["grad"] == "4" and rows["y"]["grad"] == "27"
    at.text_input(key="pg_v_x").set_value("5").run()
    rows = table(at)
    assert rows["x"]["grad"] == "10" and rows["f (output)"]["value"] == "52"
    assert at.query_params["v.x"] == ["5"] or at.query_params["v.x"] == "5"


def test_page_new_expression_adds_its_variables():
    at = open_playground()
    at.text_input(key="pg_expr").set_value("tanh(w*x + b)").run()
    assert not at.exception
    keys = {t.key for t in at.text_input}
    assert {"pg_v_w", "pg_v_x", "pg_v_b"} <= keys and "pg_v_y" not in keys


def test_page_bad_expression_shows_message_and_keeps_working():
    at = open_playground()
    at.text_input(key="pg_expr").set_value("x ** (2").run()
    assert not at.exception
    assert at.error and "never closed" in at.error[0].value
    at.text_input(key="pg_expr").set_value("x * 3").run()
    assert not at.error
    assert table(at)["x"]["grad"] == "3"


def test_page_example_picker_loads_an_example():
    at = open_playground()
    idx = next(i for i, e in enumerate(EXAMPLES) if e[1] == "x*x + x")
    at.selectbox(key="pg_example").set_value(idx).run()
    assert at.text_input(key="pg_expr").value == "x*x + x"
    assert table(at)["x"]["grad"] == "7"


def test_page_opens_from_a_shared_url():
    at = open_playground({"expr": "a*b + b", "v.a": "3", "v.b": "4"})
    rows = table(at)
    assert rows["a"]["grad"] == "4" and rows["b"]["grad"] == "4" and rows["f (output)"]["value"] == "16"


def test_page_hostile_url_is_an_error_message_not_a_crash():
    at = open_playground({"expr": "__import__('os').system('id')", "v.x": "1"})
    assert not at.exception
    assert at.error
