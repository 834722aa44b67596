"""Expression Playground, issue 11: a shared link must not buy unbounded CPU.

The finite-difference gradcheck has one budget of function evaluations per request (shared by
all inputs, a sample beyond it, and the result says so), and the page keeps its computation per
state, so a display toggle redraws without evaluating again. Everything here counts calls; no
test measures time.
"""
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import vizgrad.app.expression as pg
from vizgrad.app.expression import MAX_FD_EVALS, State, VarSpec, numeric_checks, run
from vizgrad.autograd.gradcheck import fd_plan as _sample_plan

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def evaluations(monkeypatch):
    """Counts every evaluation of an expression or value text the playground makes."""
    calls = {"n": 0}
    real = pg.evaluate

    def counting(*a, **k):
        calls["n"] += 1
        return real(*a, **k)

    monkeypatch.setattr(pg, "evaluate", counting)
    return calls


def vector(n, offset=0.0):
    return "[" + ", ".join(f"{offset + (j % 7) / 10:.1f}" for j in range(n)) + "]"


def big_state(nvars=64, n=64) -> State:
    """The issue's shape of link: 64 variables, each a 64-element vector (4,096 elements)."""
    names = [f"v{i}" for i in range(nvars)]
    expr = " + ".join(f"sum(tanh({a}) * {names[(i + 1) % nvars]})" for i, a in enumerate(names))
    return State(expr, {a: VarSpec(vector(n, i / 100)) for i, a in enumerate(names)})


# ---- the budget ---------------------------------------------------------------------------------
def test_a_64_variable_link_makes_at_most_the_budgeted_evaluations_and_says_it_sampled(evaluations):
    state = big_state()
    run(state, checks=False)
    base = evaluations["n"]
    evaluations["n"] = 0
    out = run(state)
    assert out.ok
    fd = evaluations["n"] - base
    assert 2 <= fd <= MAX_FD_EVALS
    checked = sum(c.checked for c in out.checks.values())
    assert checked == fd // 2 and checked < 4096
    assert "of 4,096 elements" in out.check_summary
    assert all(c.total == 64 for c in out.checks.values())
    assert all(c.coverage.endswith("of 64 elements") for c in out.checks.values())
    # (no assertion on .ok here: with an output of ~1500 in float32, one rounding step of the output
    # is 0.06 of a central difference, so finite differences can disagree; see test below for .ok)
    assert all(c.ok and "not checked" in c.note for c in out.checks.values() if c.skipped)


def test_the_budget_is_shared_fairly_and_the_sample_is_the_same_each_time(evaluations):
    state = big_state(nvars=4)
    values = {n: pg.parse_value(n, s.text) for n, s in state.vars.items()}
    grads = {n: np.asarray(g.numpy()) for n, g in pg.evaluate(state.expr, {
        n: pg.Variable(v) for n, v in values.items()}).backward().items()}
    evaluations["n"] = 0
    checks, summary = numeric_checks(state.expr, values, grads, list(values), max_seconds=None)
    assert evaluations["n"] == MAX_FD_EVALS  # without the time cap, exactly the budget
    per_input = MAX_FD_EVALS // 2 // 4
    assert all(c.checked == per_input and c.coverage == f"checked {per_input} of 64 elements"
               for c in checks.values())
    assert summary.startswith(f"Finite differences checked {MAX_FD_EVALS // 2} of 256 elements")
    assert all(c.ok for c in checks.values())
    plan = _sample_plan({"a": 64, "b": 3, "c": 1000}, 20)
    again = _sample_plan({"a": 64, "b": 3, "c": 1000}, 20)
    assert {n: list(ix) for n, ix in plan.items()} == {n: list(ix) for n, ix in again.items()}
    assert [len(ix) for ix in plan.values()] == [9, 3, 8]  # b is used up; the rest goes to a and c
    assert all(len(set(ix)) == len(ix) for ix in plan.values())


def test_small_inputs_are_still_checked_completely(evaluations):
    run(State("sum(x*y) + z", {"x": VarSpec("[1, 2, 3]"), "y": VarSpec("[4, 5, 6]"), "z": VarSpec("2")}),
        checks=False)
    base = evaluations["n"]
    evaluations["n"] = 0
    out = run(State("sum(x*y) + z", {"x": VarSpec("[1, 2, 3]"), "y": VarSpec("[4, 5, 6]"), "z": VarSpec("2")}))
    assert evaluations["n"] - base == 2 * 7
    assert {n: (c.checked, c.total, c.coverage) for n, c in out.checks.items()} == {
        "x": (3, 3, ""), "y": (3, 3, ""), "z": (1, 1, "")}
    assert out.check_summary == "" and all(c.ok for c in out.checks.values())


def test_a_sampled_check_still_catches_a_wrong_gradient():
    state = big_state(nvars=2)
    values = {n: pg.parse_value(n, s.text) for n, s in state.vars.items()}
    res = pg.evaluate(state.expr, {n: pg.Variable(v) for n, v in values.items()})
    grads = {n: 2 * np.asarray(g.numpy()) + 1 for n, g in res.backward().items()}
    checks, _ = numeric_checks(state.expr, values, grads, list(values), max_seconds=None)
    assert all(not c.ok and 0 < c.checked < c.total for c in checks.values())


def test_the_time_cap_still_checks_one_element_and_says_it_stopped(evaluations):
    state = big_state(nvars=3)
    values = {n: pg.parse_value(n, s.text) for n, s in state.vars.items()}
    res = pg.evaluate(state.expr, {n: pg.Variable(v) for n, v in values.items()})
    grads = {n: np.asarray(g.numpy()) for n, g in res.backward().items()}
    evaluations["n"] = 0
    checks, summary = numeric_checks(state.expr, values, grads, list(values), max_seconds=0)
    assert evaluations["n"] == 2
    assert [c.checked for c in checks.values()] == [1, 0, 0]
    assert checks["v1"].skipped and "ran out of time" in checks["v1"].note
    assert "ran out of time" in summary


# ---- the page computes once per state ----------------------------------------------------------
@pytest.fixture
def runs(monkeypatch):
    """Counts vizgrad.app.expression.run calls (the page imports it afresh on every script run)."""
    calls = {"n": 0}
    real = pg.run

    def counting(*a, **k):
        calls["n"] += 1
        return real(*a, **k)

    monkeypatch.setattr(pg, "run", counting)
    return calls


def open_playground(query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(query)
    at.run()
    at.switch_page("pages/expression.py").run()
    assert not at.exception, at.exception
    return at


def charts(at):
    return at.get("plotly_chart")


def test_display_toggles_and_a_node_click_do_not_recompute(runs, evaluations):
    at = open_playground({"expr": "sum(tanh(w*x) + b)", "v.w": vector(64), "v.x": vector(64, 1), "v.b": "0.5"})
    assert runs["n"] == 1 and charts(at)
    before = evaluations["n"]
    for key, value in [("pg_show_values", False), ("pg_show_grads", False), ("pg_show_shapes", True),
                       ("pg_dark", True), ("pg_show_values", True)]:
        at.toggle(key=key).set_value(value).run()
        assert not at.exception, at.exception
        assert charts(at), key  # the graph is still drawn, from the kept result
    at.session_state["pg_sel"] = "t0"  # what a click on the graph stores
    at.run()
    assert not at.exception and charts(at)
    assert runs["n"] == 1 and evaluations["n"] == before
    assert any("Finite differences checked" in c.value for c in at.caption)  # 129 elements: a sample
    results = next(t for t in at.table if "tensor" in t.value.columns)  # the inspector's table comes first
    grads = results.value.set_index("tensor")["gradcheck"]
    assert grads["w"].endswith(" of 64)") and grads["b"] in ("✓ matches", "✗ differs")


def test_a_new_expression_value_or_requires_grad_does_recompute(runs):
    at = open_playground({"expr": "a*b + b", "v.a": "3", "v.b": "4"})
    assert runs["n"] == 1
    at.text_input(key="pg_v_a").set_value("5").run()
    assert runs["n"] == 2 and at.table[0].value.set_index("tensor").loc["b", "grad"] == "6"
    at.checkbox(key="pg_g_a").uncheck().run()
    assert runs["n"] == 3 and at.table[0].value.set_index("tensor").loc["a", "grad"] == "None"
    at.text_input(key="pg_expr").set_value("a*b*b").run()
    assert runs["n"] == 4 and at.table[0].value.set_index("tensor").loc["b", "grad"] == "40"
    at.toggle(key="pg_dark").set_value(True).run()
    assert runs["n"] == 4 and charts(at)
