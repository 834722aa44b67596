"""The gradcheck badges never fail an exact gradient, and do fail a wrong one (issue 14).

    nice -n 5 .venv/bin/python -m pytest -q tests/test_gradcheck_exact.py

The Expression Playground and the Walkthrough check gradients by central finite differences of
an expression that computes in float32. Over many elements its rounding error is large (sum(x) of 50
elements, sum(x**2) from 30 failed before), so the step and tolerance grow with the size of the sums
(vizgrad.autograd.gradcheck.fd_step_and_tolerance). A corpus of expressions whose gradients are exact
(sums, products, polynomials over vectors of 1 to 500 elements) must always pass; a custom
Function whose backward is wrong must always fail; sqrt at 0 is an infinite slope, not a kink.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vizgrad as vg
from vizgrad.app import walkthrough as ws
from vizgrad.app.expression import State, VarSpec, results_table, run
from vizgrad.autograd.gradcheck import INFINITE_NOTE, fd_step_and_tolerance, magnitude

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# expressions over vectors x, y of one length whose gradients the engine computes exactly
# (polynomials up to degree 3, sums, elementwise and inner products, a product of sums)
CORPUS = ["sum(x)", "sum(x**2)", "sum(x**3)", "sum(x*y)", "sum(3*x**2 - 2*x + 1)", "sum((x - y)**2)",
          "mean(x**2)", "sum(x)*sum(y)", "dot(x, y)", "sum(x*y*x)", "sum(x**2 + y**3)", "sum(x)**2"]


def text(v) -> str:
    return "[" + ", ".join(f"{float(a):g}" for a in v) + "]"


def vector(n):
    return st.lists(st.integers(-1000, 1000).map(lambda k: k / 100), min_size=n, max_size=n)


@SETTINGS
@given(expr=st.sampled_from(CORPUS), data=st.data(), n=st.sampled_from([1, 2, 7, 30, 50, 128, 500]))
def test_an_exact_gradient_never_fails_the_playground_check(expr, data, n):
    x, y = data.draw(vector(n)), data.draw(vector(n))
    out = run(State(expr, {"x": VarSpec(text(x)), "y": VarSpec(text(y))}) if "y" in expr
              else State(expr, {"x": VarSpec(text(x))}))
    assert out.ok, (out.error, out.var_errors)
    for name, c in out.checks.items():
        assert c.ok and c.checked > 0, (expr, n, name, c)


@pytest.mark.parametrize("expr,values", [
    ("sum(x)", {"x": text(np.full(50, 1.5))}),
    ("sum(x**2)", {"x": text(np.arange(30))}),
    ("sum(x**2)", {"x": text(np.arange(500) / 10)}),
])
def test_the_reported_false_failures_pass(expr, values):
    out = run(State(expr, {k: VarSpec(v) for k, v in values.items()}))
    assert all(c.ok for c in out.checks.values()), out.checks
    w = ws.prepare(ws.from_state(State(expr, {k: VarSpec(v) for k, v in values.items()})))
    assert w.all_match and all(c.matches_numeric for c in w.checks), w.comparison


def test_sqrt_at_zero_is_an_infinite_slope_not_a_kink():
    out = run(State("sqrt(x)", {"x": VarSpec("0")}))
    c = out.checks["x"]
    assert c.infinite and c.note == INFINITE_NOTE and "kink" not in c.note
    assert "∞" in next(r["gradcheck"] for r in results_table(out) if r["tensor"] == "x")
    w = ws.prepare(ws.from_state(State("sqrt(x)", {"x": VarSpec("0")})))
    assert w.checks[0].note == INFINITE_NOTE and w.checks[0].matches_numeric is None
    assert w.comparison[0]["vs finite diff."].startswith("∞")
    # a kink is still called a kink
    assert "kink" in run(State("relu(x)", {"x": VarSpec("0")})).checks["x"].note


class WrongCube(vg.autograd.Function):
    """x**3 with a wrong backward: 2x² instead of 3x² (off by a third: any check must see it)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 2 * x ** 2


class RightCube(WrongCube):
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x ** 2


@pytest.mark.parametrize("n", [1, 30, 500])
def test_a_wrong_custom_function_fails_and_the_right_one_passes(n):
    x0 = np.linspace(0.5, 2.0, n)
    for fn, ok in ((WrongCube, False), (RightCube, True)):
        src = ws.from_function(lambda x, fn=fn: fn.apply(x).sum(), {"x": x0}, "cube", {"net": "cube"})
        w = ws.prepare(src)
        assert w.ok, w.error
        assert w.checks[0].matches_numeric is ok, (fn.__name__, n, w.comparison)
        xt = vg.tensor(x0, dtype=vg.float64, requires_grad=True)
        assert vg.autograd.gradcheck(fn.apply, (xt,), raise_exception=False) is ok


def test_the_step_and_tolerance_grow_with_the_sums():
    assert magnitude([np.ones(3), -np.ones(5), None]) == 5.0 and magnitude([]) == 1.0
    f32 = np.finfo(np.float32).eps
    small, big = fd_step_and_tolerance(1.0, f32), fd_step_and_tolerance(1e5, f32)
    assert small[0] < big[0] and small[1] < big[1]
    assert fd_step_and_tolerance(1.0, np.finfo(np.float64).eps)[1] < 1e-9
