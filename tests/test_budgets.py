"""Budgets in one place (issue 17): vizgrad/app/budgets.py states every budget with its default, a
VIZGRAD_<NAME> environment variable overrides it, and the pages enforce what it says, with a message
naming the limit. The walkthrough and the Code page read their budgets when the server starts, so
those are tested in a fresh interpreter started with the variable set.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from vizgrad.app import budgets
from vizgrad.app.budgets import BUDGETS, BudgetError, value
from vizgrad.expr import ExprLimits
from vizgrad.net.config import ConfigError, NetConfig, NetLimits

ROOT = Path(__file__).resolve().parents[1]


# ---- reading a budget -------------------------------------------------------------------------
def test_a_budget_is_its_default_unless_its_variable_is_set():
    assert value("WALK_MAX_STEPS", {}) == 400
    assert value("WALK_MAX_STEPS", {"VIZGRAD_WALK_MAX_STEPS": "50"}) == 50
    assert value("EXPR_MAX_WORK", {"VIZGRAD_EXPR_MAX_WORK": "1e6"}) == 1e6
    assert value("CODE_MAX_CHARS", {"VIZGRAD_CODE_MAX_CHARS": "20_000"}) == 20_000
    assert value("HEAVY_SLOTS", {}) == max(1, os.cpu_count() or 1)


@pytest.mark.parametrize("raw, why", [("lots", "not a number"), ("2.5", "whole number"), ("0", "below its minimum"),
                                      ("nan", "not a finite number"), ("inf", "not a finite number")])
def test_a_bad_setting_fails_loudly_naming_the_variable(raw, why):
    with pytest.raises(BudgetError, match=re.escape("VIZGRAD_WALK_MAX_STEPS") + ".*" + why):
        value("WALK_MAX_STEPS", {"VIZGRAD_WALK_MAX_STEPS": raw})


def test_every_field_of_the_lower_layers_limits_has_a_budget():
    """ExprLimits and NetLimits are built from the table, field by field: a new field needs a row."""
    for cls, prefix in [(ExprLimits, "EXPR_"), (NetLimits, "NET_")]:
        fields = set(cls.__dataclass_fields__)
        assert fields == set(budgets.section(prefix, {})), cls
    from vizgrad.app.sandbox import Limits
    assert set(Limits.__dataclass_fields__) - set(budgets.section("CODE_", {})) == {"processes"}  # not a budget: 1


def test_expr_and_net_limits_follow_their_variables():
    assert budgets.expr_limits({"VIZGRAD_EXPR_MAX_NODES": "10"}).max_nodes == 10
    limits = budgets.net_limits({"VIZGRAD_NET_MAX_WIDTH": "4"})
    assert limits.max_width == 4 and budgets.net_limits({}) == NetLimits()
    with pytest.raises(ConfigError, match="width"):
        NetConfig(hidden=(8,)).validate(limits)
    NetConfig(hidden=(4,)).validate(limits)


def test_readme_budgets_section_names_every_variable():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Budgets", 1)[1].split("\n## ", 1)[0]
    missing = [b.name for b in BUDGETS.values() if f"VIZGRAD_{b.name}" not in section]
    assert not missing, missing


# ---- the pages enforce them ---------------------------------------------------------------------
def open_playground(query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(query)
    at.run()
    at.switch_page("pages/expression.py").run()
    assert not at.exception, at.exception
    return at


def test_the_playground_enforces_an_overridden_expression_budget(monkeypatch):
    q = {"expr": "+".join(["x"] * 12), "v.x": "1"}
    assert not open_playground(q).error  # 47 syntax-tree nodes: within the default 2,000
    monkeypatch.setenv("VIZGRAD_EXPR_MAX_NODES", "20")
    at = open_playground(q)
    assert at.error and "too complex (more than 20 parts)" in at.error[0].value.replace("\\", "")
    at.text_input(key="pg_expr").set_value("x*x + x").run()  # the page stays usable
    assert not at.error and at.table[0].value.set_index("tensor").loc["x", "grad"] == "3"


def test_the_playground_gradcheck_follows_its_evaluation_budget(monkeypatch):
    q = {"expr": "sum(x**2)", "v.x": "[1, 2, 3, 4, 5, 6, 7, 8]"}
    assert not any("Finite differences checked" in c.value for c in open_playground(q).caption)
    monkeypatch.setenv("VIZGRAD_PLAYGROUND_FD_EVALS", "4")
    at = open_playground(q)
    assert any("checked 2 of 8 elements" in c.value and "at most 4 evaluations" in c.value for c in at.caption)


def fresh_python(code: str, **env) -> str:
    """Run `code` in a new interpreter with VIZGRAD_<k>=v set (what a server started so reads)."""
    full = {**os.environ, **{f"VIZGRAD_{k}": str(v) for k, v in env.items()}}
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


def test_the_walkthrough_enforces_an_overridden_step_budget():
    code = ("from vizgrad.app import walkthrough as w\n"
            "print(w.prepare(w.from_query({'expr': 'x**2 + y**3', 'v.x': '2', 'v.y': '3'})).error)")
    assert fresh_python(code).strip() == "None"
    out = fresh_python(code, WALK_MAX_STEPS=4)
    assert "shows graphs of up to 4" in out


def test_the_code_page_enforces_an_overridden_time_budget():
    code = ("from vizgrad.app import code\n"
            "r = code.run_code('while True:\\n    pass\\n')\n"
            "print(r.stopped, '|', r.error)")
    out = fresh_python(code, CODE_WALL_SECONDS=1, CODE_CPU_SECONDS=30)
    assert out.startswith("wall |") and "longer than 1 s" in out


def test_the_heavy_work_budgets_reach_the_limiter_and_the_walkthrough():
    """VIZGRAD_HEAVY_SLOTS sizes the one server-wide limiter (training, Code runs and big walks share
    it); VIZGRAD_WALK_HEAVY_NODES is the graph size from which a walk takes one of its slots."""
    code = ("from vizgrad.app.limiter import HEAVY\nfrom vizgrad.app import walkthrough as w\n"
            "print(HEAVY.slots, w.HEAVY_NODES)")
    assert fresh_python(code).split() == [str(max(1, os.cpu_count() or 1)), "40"]
    assert fresh_python(code, HEAVY_SLOTS=1, WALK_HEAVY_NODES=8).split() == ["1", "8"]
