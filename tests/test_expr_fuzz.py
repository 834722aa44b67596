"""Fuzzing vizgrad.expr: whatever a visitor types, the only exception is ExprError and no input
takes a second (evaluate, backward, to_latex and to_torch_code each timed per example).
Valid random expressions are also checked against real torch through the generated code."""
from __future__ import annotations

import contextlib
import io
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import need_torch
from vizgrad.expr import ExprError, evaluate, to_latex, to_torch_code

VARS = {
    "x": 0.7,
    "y": {"value": -1.3, "requires_grad": False},
    "v": [0.5, -1.25, 2.0],
    "u": [1.2, -0.4, 2.1],
    "W": [[0.3, -1.1, 2.0], [1.7, 0.4, -0.6], [0.2, 0.9, -1.4]],
    "B": np.linspace(-1, 1, 24).reshape(2, 3, 4),
    "big": np.linspace(-3, 3, 20_000).reshape(100, 200),
}

FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])


def check(src, variables=VARS):
    """Run everything a page would run on `src`; only ExprError may escape, each step under 1 s."""
    for step in ("evaluate", "latex", "code"):
        try:
            if step == "evaluate":
                r = evaluate(src, variables)
                r.backward()
                assert r.output is not None
            elif step == "latex":
                assert isinstance(to_latex(src), str)
            else:
                assert "import torch" in to_torch_code(src, variables)
        except ExprError as e:
            assert isinstance(e.message, str) and e.message
            assert e.col is None or e.col >= 1
            assert isinstance(e.pointer(), str)
            assert "internal error" not in e.message, (src, e.message)


# ------------------------------------------------------------------------------------------------
# hostile text
# ------------------------------------------------------------------------------------------------
@FUZZ
@given(st.text(max_size=300))
def test_random_unicode_text(src):
    check(src)


@FUZZ
@given(st.text(alphabet=string.printable, max_size=200))
def test_random_printable_text(src):
    check(src)


TOKENS = ["x", "y", "v", "u", "W", "B", "big", "q", "pi", "e", "0", "1", "2", "2.5", "1e-3", "1e30", "1e31",
          "9", "64", "65", "-1", "+", "-", "*", "/", "**", "@", "(", ")", "[", "]", ",", ":", "=", ".", " ",
          "exp", "log", "sqrt", "sum", "mean", "max", "min", "softmax", "log_softmax", "dot", "matmul",
          "detach", "clamp", "transpose", "reshape", "outer", "maximum", "var", "norm", "logsumexp",
          "unsqueeze", "squeeze", "flatten", "pow", "dim", "keepdim", "min=", "max=", "dim=", "True",
          "lambda", "if", "else", "for", "in", "'", "#", "\\", "\n", "\t", "%", "//", "^", "~", "<", "==",
          "{", "}", "...", "j", "__import__", "eval", ".T", ".sum()", "é", "ｘ", "²", "×", "\x00"]


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60), st.booleans())
def test_token_soup(tokens, spaced):
    check((" " if spaced else "").join(tokens))


# ------------------------------------------------------------------------------------------------
# grammar: well-formed expressions (shape errors and the like are expected, crashes are not)
# ------------------------------------------------------------------------------------------------
LEAVES = st.one_of(
    st.sampled_from(["x", "y", "v", "u", "W", "B", "pi", "e", "big"]),
    st.integers(-5, 70).map(str),
    st.floats(-1e3, 1e3, allow_nan=False).map(lambda f: repr(round(f, 3))),
    st.sampled_from(["0", "0.0", "1e-3", "2.5e1", "[1, 2, 3]", "[[1, 0, 2], [0, 1, 0], [3, 2, 1]]",
                     "[x, 2*x, 1]", "[v, u]"]),
)
UNARY_FUNCS = ["exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "square", "reciprocal",
               "detach", "sum", "mean", "max", "min", "var", "std", "norm", "softmax", "log_softmax", "flatten",
               "squeeze", "transpose"]


def _grow(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**", "@"]), children).map(
            lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(st.sampled_from(["-", "+"]), children).map(lambda t: f"{t[0]}{t[1]}"),
        children.map(lambda c: f"({c})"),
        st.tuples(st.sampled_from(UNARY_FUNCS), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["sum", "mean", "max", "min", "softmax", "log_softmax", "var", "logsumexp",
                                   "unsqueeze", "squeeze", "norm"]),
                  children, st.integers(-3, 3), st.booleans()).map(
            lambda t: f"{t[0]}({t[1]}, dim={t[2]}" + (", keepdim=True)" if t[3] and t[0] in
                                                         ("sum", "mean", "max", "min", "var", "norm")
                                                         else ")")),
        st.tuples(st.sampled_from(["dot", "matmul", "outer", "maximum", "minimum", "pow", "max", "min"]),
                  children, children).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(children, st.floats(-3, 3, allow_nan=False), st.floats(-3, 3, allow_nan=False)).map(
            lambda t: f"clamp({t[0]}, min={min(t[1], t[2]):.2f}, max={max(t[1], t[2]):.2f})"),
        st.tuples(children, st.sampled_from(["2, 2", "4, -1", "-1", "[3, 1]", "1, 3", "9", "3, 8"])).map(
            lambda t: f"reshape({t[0]}, {t[1]})"),
        st.tuples(children, st.sampled_from(["0", "-1", "1:", ":2", "0, 1", ":, 0", "::2", "5"])).map(
            lambda t: f"({t[0]})[{t[1]}]"),
        st.tuples(children, st.integers(-3, 3), st.integers(-3, 3)).map(
            lambda t: f"transpose({t[0]}, {t[1]}, {t[2]})"),
        st.lists(children, min_size=1, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
    )


EXPRS = st.recursive(LEAVES, _grow, max_leaves=12)


@FUZZ
@given(EXPRS)
def test_grammar_expressions(src):
    check(src)


SMOOTH_LEAVES = st.sampled_from(["x", "y", "v", "u", "W", "2", "0.5", "1.5", "pi", "[1, -2, 0.5]"])
SMOOTH_UNARY = ["exp", "tanh", "sigmoid", "sin", "cos", "square", "detach", "sum", "mean", "softmax",
                "log_softmax", "norm", "logsumexp"]


def _grow_smooth(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "@"]), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(children, st.sampled_from(["2", "3", "0.5", "-1"])).map(lambda t: f"abs({t[0]}) ** {t[1]}"
                                                                            if t[1] in ("0.5", "-1")
                                                                            else f"({t[0]}) ** {t[1]}"),
        children.map(lambda c: f"-({c})"),
        children.map(lambda c: f"({c}) / (1 + square({c}))"),
        st.tuples(st.sampled_from(SMOOTH_UNARY), children).map(
            lambda t: f"{t[0]}({t[1]}" + (", dim=-1)" if t[0] == "logsumexp" else ")")),
        st.tuples(st.sampled_from(["sum", "mean", "softmax"]), children).map(lambda t: f"{t[0]}({t[1]}, dim=0)"),
        st.tuples(st.sampled_from(["dot", "matmul", "outer"]), children, children).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        children.map(lambda c: f"transpose({c})"),
    )


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.recursive(SMOOTH_LEAVES, _grow_smooth, max_leaves=8))
def test_random_smooth_expressions_match_torch(src):
    """Values and gradients of random well-formed expressions equal torch's (through the generated code)."""
    torch = need_torch()
    variables = {k: VARS[k] for k in ("x", "y", "v", "u", "W")}
    try:
        r = evaluate(src, variables)
        grads = r.backward()
        code = to_torch_code(src, variables)
    except ExprError:
        return  # shape mismatches and the like
    ns = {"__name__": "generated"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(code, ns)  # our own generated code, in a test
    want = ns["out"].detach().numpy()
    got = r.output.detach().numpy()
    assert got.shape == want.shape, src
    scale = max(1.0, float(np.nanmax(np.abs(want[np.isfinite(want)]), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5 * scale, equal_nan=True, err_msg=src)
    for name in variables:
        g_t = ns[name].grad
        g = grads[name]
        if g_t is None:
            assert g is None or not np.any(g.numpy()), (src, name)
            continue
        assert g is not None, (src, name)
        gt = g_t.numpy()
        scale = max(1.0, float(np.nanmax(np.abs(gt[np.isfinite(gt)]), initial=0.0)))
        np.testing.assert_allclose(g.numpy(), gt, rtol=2e-4, atol=2e-5 * scale, equal_nan=True,
                                   err_msg=f"{src}: d/d{name}")


# ------------------------------------------------------------------------------------------------
# deep nesting, huge numbers, big tensors
# ------------------------------------------------------------------------------------------------
WRAPPERS = ["(", "[", "-", "exp(", "sum(", "-(", "x + (", "x ** (", "reshape(", "transpose(", "detach(", "+"]
CLOSERS = {"(": ")", "[": "]", "-": "", "exp(": ")", "sum(": ")", "-(": ")", "x + (": ")", "x ** (": ")",
           "reshape(": ", -1)", "transpose(": ")", "detach(": ")", "+": ""}


@FUZZ
@given(st.sampled_from(WRAPPERS), st.integers(1, 6000), st.sampled_from(["x", "v", "W", "1", "big"]))
def test_deep_nesting(wrapper, depth, core):
    check(wrapper * depth + core + CLOSERS[wrapper] * depth)


@FUZZ
@given(st.lists(st.sampled_from(["+", "-", "*", "/", "**", "@"]), min_size=1, max_size=3000),
       st.sampled_from(["x", "v", "W", "2", "big"]))
def test_long_chains(ops, operand):
    check(operand + "".join(f" {op} {operand}" for op in ops))


@FUZZ
@given(st.one_of(
    st.integers(0, 10 ** 4000).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.tuples(st.integers(-50, 10 ** 6), st.integers(-50, 10 ** 6)).map(lambda t: f"{t[0]} ** {t[1]}"),
    st.tuples(st.integers(2, 99), st.integers(1, 8)).map(lambda t: "**".join([str(t[0])] * t[1])),
    st.integers(1, 400).map(lambda n: "1e" + "9" * n),
    st.integers(1, 2000).map(lambda n: "[" + ", ".join(["1e30"] * n) + "] * 1e30"),
    st.integers(1, 80).map(lambda n: "x" + " * 1e30" * n),
    st.integers(1, 80).map(lambda n: "2" + " ** 2" * n),
))
def test_huge_numbers(src):
    check(src)
    check(f"x * ({src})")


@settings(FUZZ, max_examples=60)
@given(st.lists(st.sampled_from(["big", "transpose(big)", "big @ transpose(big)", "transpose(big) @ big",
                                 "exp(big)", "softmax(big, dim=0)", "reshape(big, 200, 100)",
                                 "reshape(big, 20000, 1)", "reshape(big, 1, 20000)", "sum(big, dim=0)"]),
                min_size=1, max_size=12),
       st.sampled_from([" + ", " * ", " @ ", " - "]))
def test_big_tensors(parts, op):
    check(op.join(parts))


@FUZZ
@given(st.recursive(st.one_of(st.floats(allow_nan=True), st.integers(), st.text(max_size=3), st.none(),
                              st.booleans()),
                    lambda c: st.lists(c, max_size=4), max_leaves=20))
def test_random_variable_values(value):
    check("x * 2 + sum(x)", {"x": value})
