"""Expression Playground, issue 17 (c) and issue 14: what a rerun reuses from the session's Memo, the
bounds of that memo, and two page fixes (the infinite-slope badge, the scrolling math column).

Calls are counted with monkeypatch (no test measures time; bench/edit_cost.py does).
"""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

import vizgrad.app.expression as pg
import vizgrad.graph
import vizgrad.plot
from vizgrad.app.expression import Memo, State, VarSpec, outcome_elements, run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def calls(monkeypatch):
    """Counts the page's parses (State.sync's names), traces (run's graph) and drawings."""
    n = {"parse": 0, "trace": 0, "screen_graph": 0, "backward_animation": 0}

    def counting(mod, name):
        real = getattr(mod, name)

        def f(*a, **k):
            n[name] += 1
            return real(*a, **k)
        monkeypatch.setattr(mod, name, f)

    counting(pg, "parse")
    counting(vizgrad.graph, "trace")
    counting(vizgrad.plot, "screen_graph")
    counting(vizgrad.plot, "backward_animation")
    return n


def open_playground(query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(query)
    at.run()
    at.switch_page("pages/expression.py").run()
    assert not at.exception, at.exception
    return at


def rerun(at, act=None):
    if act is not None:
        act(at)
    at.run()
    assert not at.exception, at.exception
    assert at.get("plotly_chart"), "the graph is drawn"


def zero(calls):
    for k in calls:
        calls[k] = 0


# ---- the page ---------------------------------------------------------------------------------
def test_a_toggle_rerun_neither_parses_nor_traces_and_switching_back_redraws_nothing(calls):
    at = open_playground({"expr": "tanh(w*x + b)", "v.w": "0.5", "v.x": "2", "v.b": "-1"})
    assert calls["parse"] >= 1 and calls["trace"] == 1 and calls["screen_graph"] >= 1  # (Home draws one too)
    zero(calls)
    rerun(at, lambda at: at.toggle(key="pg_show_values").set_value(False))
    assert calls == {"parse": 0, "trace": 0, "screen_graph": 1, "backward_animation": 0}  # a new drawing only
    rerun(at, lambda at: at.toggle(key="pg_show_values").set_value(True))
    rerun(at, lambda at: at.toggle(key="pg_show_values").set_value(False))
    assert calls["screen_graph"] == 1, "both settings' figures were kept"
    assert calls["parse"] == 0 and calls["trace"] == 0


def test_back_forward_and_a_state_typed_again_reuse_the_result_and_its_figures(calls):
    at = open_playground({"expr": "x*y", "v.x": "2", "v.y": "3"})
    zero(calls)
    rerun(at, lambda at: at.text_input(key="pg_v_x").set_value("5"))
    assert calls["trace"] == 1 and calls["screen_graph"] == 1
    assert at.table[0].value.set_index("tensor").loc["y", "grad"] == "5"
    zero(calls)
    rerun(at, lambda at: at.button[0].click())   # Back: x = 2 again
    assert at.table[0].value.set_index("tensor").loc["y", "grad"] == "2"
    rerun(at, lambda at: at.button[1].click())   # Forward: x = 5
    rerun(at, lambda at: at.text_input(key="pg_v_x").set_value("2"))   # typed again
    assert at.table[0].value.set_index("tensor").loc["y", "grad"] == "2"
    assert calls["trace"] == 0 and calls["screen_graph"] == 0  # (Back / Forward parse the state they load)


def test_the_backward_animation_is_built_once_per_result(calls):
    at = open_playground({"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"})
    zero(calls)
    rerun(at, lambda at: at.toggle(key="pg_backflow").set_value(True))
    rerun(at, lambda at: at.toggle(key="pg_dark").set_value(True))
    rerun(at, lambda at: at.toggle(key="pg_dark").set_value(False))
    assert calls["backward_animation"] == 2  # light and dark; light again is kept


def test_each_session_has_its_own_memo(calls):
    """A second visitor with the same link computes it again: nothing is shared between sessions."""
    q = {"expr": "a*b + b", "v.a": "3", "v.b": "4"}
    first = open_playground(q)
    assert calls["trace"] == 1
    second = open_playground(q)
    assert calls["trace"] == 2
    assert first.session_state["pg_memo"] is not second.session_state["pg_memo"]


def test_a_zero_cache_budget_recomputes_every_drawing(calls, monkeypatch):
    monkeypatch.setenv("VIZGRAD_PLAYGROUND_CACHE_ENTRIES", "0")
    at = open_playground({"expr": "x*y", "v.x": "2", "v.y": "3"})
    zero(calls)
    for v in (False, True, False):
        rerun(at, lambda at: at.toggle(key="pg_show_grads").set_value(v))
    assert calls["screen_graph"] == 3 and len(at.session_state["pg_memo"]) == 0
    assert calls["trace"] == 0  # the current result is still kept for toggles (pg_computed)


# what a visitor does: (name, how, to an AppTest); a sequence of them runs with the memo and without
EDITS = {
    "value": lambda at, v: at.text_input(key="pg_v_w").set_value(v),
    "values": lambda at, v: at.toggle(key="pg_show_values").set_value(v),
    "grads": lambda at, v: at.toggle(key="pg_show_grads").set_value(v),
    "shapes": lambda at, v: at.toggle(key="pg_show_shapes").set_value(v),
    "dark": lambda at, v: at.toggle(key="pg_dark").set_value(v),
    "play": lambda at, v: at.toggle(key="pg_backflow").set_value(v),
    "select": lambda at, v: at.session_state.__setitem__("pg_sel", v),
    "expr": lambda at, v: at.text_input(key="pg_expr").set_value(v),
    "back": lambda at, v: at.button[0].click() if not at.button[0].disabled else None,
    "forward": lambda at, v: at.button[1].click() if not at.button[1].disabled else None,
}
VALUE_OF = {"value": st.sampled_from(["0.5", "-2", "[1, 2]", "0.5"]), "select": st.sampled_from(
    [None, "t0", "t1", "op0", "op1", ("t0", "op0"), ("op0", "t2")]), "expr": st.sampled_from(
    ["w*x + b", "tanh(w*x + b)", "w*x + b", "sum(w * x)"]), "back": st.none(), "forward": st.none()}
EDIT = st.sampled_from(sorted(EDITS)).flatmap(lambda k: st.tuples(st.just(k), VALUE_OF.get(k, st.booleans())))


def page_output(at) -> list:
    """Everything the page sent that a memo could make stale: the charts' JSON (graph, narrow twin,
    animation), the tables, the LaTeX, the messages."""
    return ([c.proto.spec for c in at.get("plotly_chart")] + [t.value.to_json() for t in at.table]
            + [x.value for x in at.latex] + [e.value for e in at.error] + [w.value for w in at.warning])


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EDIT, min_size=4, max_size=10))
def test_what_the_memo_serves_is_what_a_fresh_rerun_draws(edits):
    """The same edits with the memo and with VIZGRAD_PLAYGROUND_CACHE_ENTRIES=0 (every drawing
    recomputed): the page sends the same charts, tables and formulas after every one of them."""
    q = {"expr": "w*x + b", "v.w": "0.5", "v.x": "2", "v.b": "-1"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VIZGRAD_PLAYGROUND_FD_SECONDS", "60")  # the gradcheck's time budget: no cut under load
        mp.setenv("VIZGRAD_PLAYGROUND_CACHE_ENTRIES", "0")
        fresh = open_playground(q)
        mp.delenv("VIZGRAD_PLAYGROUND_CACHE_ENTRIES")
        memo = open_playground(q)
        assert len(fresh.session_state["pg_memo"]) == 0 < len(memo.session_state["pg_memo"])
        for name, value in edits:
            outs = []
            for at in (fresh, memo):
                EDITS[name](at, value)
                at.run()
                assert not at.exception, (name, at.exception)
                outs.append(page_output(at))
            assert outs[0] == outs[1], (name, value)
    assert len(fresh.session_state["pg_memo"]) == 0, "the fresh session kept nothing: it recomputed every drawing"


# ---- the memo's bounds --------------------------------------------------------------------------
def test_memo_keeps_at_most_max_entries_least_recently_used_first():
    m = Memo(max_entries=2, max_elements=100)
    made = []
    get = lambda k: m.get(k, lambda: made.append(k) or k)  # noqa: E731
    get("a"), get("b"), get("a"), get("c")   # c evicts b (a was used last)
    assert "a" in m and "c" in m and "b" not in m and len(m) == 2
    get("a")
    assert made == ["a", "b", "c"] and m.hits == 2


def test_memo_bounds_the_numbers_it_keeps():
    m = Memo(max_entries=10, max_elements=100)
    for k in range(5):
        m.get(k, lambda: np.zeros(40), np.size)
    assert m.weight <= 100 and len(m) == 2 and 4 in m and 3 in m
    big = m.get("big", lambda: np.zeros(500), np.size)   # heavier than the budget: returned, not kept
    assert big.size == 500 and "big" not in m and m.weight <= 100


def test_memo_with_no_entries_keeps_nothing():
    m = Memo(max_entries=0)
    assert m.get("k", lambda: 1) == 1 and m.get("k", lambda: 2) == 2 and len(m) == 0


def test_outcome_elements_counts_values_grads_and_graph_numbers():
    out = run(State("sum(x * y)", {"x": VarSpec("[1, 2, 3]"), "y": VarSpec("2")}))
    n = outcome_elements(out)
    # values 3 + 1, grads 3 + 1, and the graph holds x, y, x*y, sum with their grads: at least 2 * 8 more
    assert n >= 8 + 16


# ---- issue 14's page fixes ----------------------------------------------------------------------
def test_sqrt_at_zero_gets_the_gray_infinite_slope_badge_not_a_failure():
    at = open_playground({"expr": "sqrt(x) + y", "v.x": "0", "v.y": "1"})
    badges = [m.value for m in at.markdown if "gradcheck" in m.value]
    x_badge = next(b for b in badges if "gradcheck x" in b)
    assert x_badge.startswith(":gray-badge[") and "∞ slope" in x_badge and "infinite" in x_badge
    assert not any(b.startswith(":orange-badge[") for b in badges)
    assert any(b.startswith(":green-badge[") and "gradcheck y" in b for b in badges)


def test_the_math_column_scrolls_long_formulas():
    at = open_playground({"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"})
    assert any(".st-key-pg_math .katex-display" in h.proto.body and "overflow-x:auto" in h.proto.body
               for h in at.get("html"))
    assert at.latex and any(getattr(b, "key", None) == "pg_math" for b in _blocks(at))


def _blocks(at):
    """Every block (container) of the page, walked from the root."""
    out, todo = [], [at._tree]
    while todo:
        node = todo.pop()
        out.append(node)
        todo.extend(getattr(node, "children", {}).values())
    return out
