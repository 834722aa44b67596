"""Forward mode beside reverse mode on colah's e = (a+b)·(b+1) and other small scalar graphs (issue 14).

    nice -n 5 .venv/bin/python -m pytest -q tests/test_walkthrough_modes.py

The same edge derivatives, summed two ways: forward mode makes one pass per input, reverse mode one
for the output; both equal the sum over paths of the products of edge derivatives, and the
gradients .backward() gives (and PyTorch's).
"""
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from vizgrad.app import walkthrough as ws
from vizgrad.app.expression import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
COLAH = {"expr": "(a + b)*(b + 1)", "v.a": "2", "v.b": "1"}


def test_colahs_example_both_ways():
    m = ws.modes(ws.prepare(ws.from_query(COLAH)))
    # c = a + b = 3, d = b + 1 = 2, e = c·d: ∂c/∂a = ∂c/∂b = ∂d/∂b = 1, ∂e/∂c = d = 2, ∂e/∂d = c = 3
    assert sorted(m.edges) == sorted([("a", "t1", 1.0), ("b", "t1", 1.0), ("b", "t2", 1.0), ("t1", "f", 2.0),
                                      ("t2", "f", 3.0)])
    assert m.forward_passes == 2 and m.reverse_passes == 1
    assert dict(m.forward["a"])["f"] == 2.0 and dict(m.forward["b"])["f"] == 5.0
    assert dict(m.reverse) == {"f": 1.0, "t2": 3.0, "t1": 2.0, "a": 2.0, "b": 5.0}
    assert sorted(m.paths["b"]) == [(["b", "t1", "f"], 2.0), (["b", "t2", "f"], 3.0)]
    rows = ws.modes_rows(m)
    assert "∂f/∂b = b → t1 → f (1 · 2 = 2) + b → t2 → f (1 · 3 = 3) = 5" in rows["paths"]
    assert any(EXAMPLES[i][1] == COLAH["expr"] for i in range(len(EXAMPLES)))


@pytest.mark.parametrize("query,f", [
    (COLAH, lambda t, a, b: (a + b) * (b + 1)),
    ({"expr": "a*(a + a) + a", "v.a": "3"}, lambda t, a: a * (a + a) + a),
    ({"expr": "sin(x)*y + x**2/y", "v.x": "0.7", "v.y": "-1.5"}, lambda t, x, y: t.sin(x) * y + x ** 2 / y),
    ({"expr": "tanh(w*x + b)", "v.w": "0.5", "v.x": "2", "v.b": "-1"}, lambda t, w, x, b: t.tanh(w * x + b)),
])
def test_both_modes_and_the_path_sums_give_the_gradient(query, f):
    torch = pytest.importorskip("torch")
    w = ws.prepare(ws.from_query(query))
    m = ws.modes(w)
    env = {k[2:]: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for k, v in query.items()
           if k.startswith("v.")}
    f(torch, **env).backward()
    for x in m.inputs:
        want = env[x].grad.item()
        assert np.isclose(dict(m.forward[x])[m.output], want, rtol=1e-5)
        assert np.isclose(dict(m.reverse)[x], want, rtol=1e-5)
        assert np.isclose(sum(p for _, p in m.paths[x]), want, rtol=1e-5)


def test_no_modes_for_tensors_or_matrix_products():
    assert ws.modes(ws.prepare(ws.from_query({"expr": "sum(x**2)", "v.x": "[1, 2]"}))) is None
    assert ws.modes(ws.prepare(ws.mlp())) is None


def test_the_page_shows_both_modes_for_colah():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    for k, v in COLAH.items():
        at.query_params[k] = v
    at.switch_page("pages/walkthrough.py").run()
    assert not at.exception, at.exception
    assert any("Forward mode beside reverse mode" in e.label for e in at.expander)
    text = " ".join(m.value for m in at.markdown)
    assert "2 passes, one per input" in text and "1 pass, one per output" in text
    assert "b → t2 → f" in text
