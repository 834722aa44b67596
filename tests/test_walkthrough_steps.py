"""Every number a Walkthrough step shows is true to that moment and adds up (issue 14).

    nice -n 5 .venv/bin/python -m pytest -q tests/test_walkthrough_steps.py

Forward: a step shows only the values computed by then. Backward: each equation's numbers
multiply out (upstream x local = contribution, matrices written out in full when small), and the
contributions a tensor receives sum to the gradient the engine's .backward() gives (the MLP's
also against PyTorch).
"""
import re

import numpy as np
import pytest

from vizgrad.app import walkthrough as ws
from vizgrad.graph.format import format_value
from vizgrad.graph.steps import combine, tex_array

SEED = {"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"}
FAN_OUT = {"expr": "a*(a + a) + a", "v.a": "3"}           # b = a + a, then a*b + a: a is used four times
VECTOR = {"expr": "sum(w*x + x**2)", "v.w": "[1, -2, 0.5]", "v.x": "[2, 3, -1]"}
SOURCES = {"seed": SEED, "fan-out": FAN_OUT, "vector": VECTOR, "mlp": {"net": "mlp"}}


@pytest.fixture(scope="module", params=list(SOURCES))
def walk(request):
    w = ws.prepare(ws.from_query(SOURCES[request.param]))
    assert w.ok, w.error
    return w


def node_texts(fig) -> tuple[list[str], list[str]]:
    """(the text drawn in the boxes, the hover texts) of a step figure."""
    boxes, hovers = [], []
    for t in fig.data:
        if t.text is not None and not isinstance(t.text, str):
            boxes += [str(x) for x in t.text]
        if t.hovertext is not None and not isinstance(t.hovertext, str):
            hovers += [str(x) for x in t.hovertext]
    return boxes, hovers


def test_seed_step_one_shows_neither_27_nor_31():
    w = ws.prepare(ws.from_query(SEED))
    boxes, hovers = node_texts(ws.step_figure(w, 0)[0][0])
    text = " ".join(boxes + hovers)
    assert "27" not in text and "31" not in text
    assert any("data\u00a04" in b for b in boxes)          # x**2 = 4 is computed at step 1


def test_forward_steps_show_only_what_is_computed(walk):
    g0 = walk.graph
    for s in walk.steps:
        if s.phase != "forward":
            continue
        g = ws.step_graph(walk, s.index)
        done = s.done_nodes
        _, hovers = node_texts(ws.step_figure(walk, s.index)[0][0])
        for n, d in g.nodes(data=True):
            if d["kind"] != "tensor":
                continue
            real = g0.nodes[n]["value"]
            if n in done:
                assert np.array_equal(d["value"], real), (s.index, n)
            else:
                assert np.all(np.isnan(d["value"])) and d["value"].shape == real.shape, (s.index, n)
                hover = next(h for h in hovers if f"({n})<br>" in h)
                data = re.sub(r"^\(\d+(, \d+)*\) ", "", hover.split("data: ")[1].split("<br>")[0])
                assert data == "not computed yet", (s.index, n, hover)
        # a tensor is computed exactly when the op that makes it has run
        for op in (s2.node for s2 in walk.steps[: s.index + 1] if s2.phase == "forward"):
            assert g0.nodes[op]["output"] in done


def test_backward_equations_multiply_out(walk):
    g = walk.graph
    sent: dict = {}
    for s in walk.steps:
        if s.phase != "backward":
            continue
        assert not any("‖" in line for line in s.lines), s.lines      # never a bare norm
        lines = iter(s.lines)
        for c in s.inputs:
            if c.contribution is None:
                continue
            line = next(lines)
            assert c.kind != "vjp", (s.op, c.label)                    # every op here has a product form
            got = combine(c.kind, c.factors, c.shape)
            assert np.allclose(got, c.contribution, rtol=1e-5, atol=1e-7), (s.op, c.label)
            a = [np.asarray(g.nodes[i]["value"]) for i in g.nodes[s.node]["inputs"]]
            if c.kind == "elementwise":
                assert np.array_equal(np.asarray(c.factors[0]), np.asarray(s.upstream))
            elif c.kind == "matmul":      # dL/dA = G Bᵀ, dL/dB = Aᵀ G with the operands' own values
                want = (s.upstream, a[1].T) if c.index == 0 else (a[0].T, s.upstream)
                assert all(np.array_equal(x, y) for x, y in zip(c.factors, want))
            else:
                assert np.array_equal(np.asarray(c.factors[0]), np.asarray(s.upstream))
            for f in (*c.factors, c.contribution):                    # each number written out in the line
                if np.size(f) <= 16:
                    assert tex_array(f) in line, (s.op, c.label, tex_array(f), line)
            if c.accumulates:                                         # then the += line: before + this = now
                acc = next(lines)
                assert np.allclose(c.previous + c.contribution, c.running_grad)
                assert f"{tex_array(c.previous)} + {tex_array(c.contribution)} = {tex_array(c.running_grad)}" in acc
            sent.setdefault(c.tensor, []).append(np.asarray(c.contribution, dtype=np.float64))
    # contributions sum to what .backward() put in each leaf's .grad
    for n, d in g.nodes(data=True):
        if d["kind"] == "tensor" and d["is_leaf"] and d["requires_grad"]:
            assert np.allclose(np.sum(sent[n], axis=0), d["grad"], rtol=1e-5, atol=1e-6), d["label"]


def test_the_mlp_gradients_are_pytorchs():
    torch = pytest.importorskip("torch")
    w = ws.prepare(ws.mlp())
    p = {k: torch.tensor(v, dtype=torch.float32, requires_grad=True) for k, v in ws._MLP_INIT.items()}
    X, Y = torch.tensor(ws._MLP_X, dtype=torch.float32), torch.tensor(ws._MLP_Y, dtype=torch.float32)
    out = torch.tanh(X @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"]
    ((out - Y) ** 2).mean().backward()
    walked = ws.final_grads(w.steps)
    for k, t in p.items():
        assert np.allclose(walked[k], t.grad.numpy(), rtol=1e-5, atol=1e-6), k


def test_the_mlp_last_step_writes_the_matrices_out():
    w = ws.prepare(ws.mlp())
    last = w.steps[-1]
    line = last.lines[0]
    assert last.inputs[0].label == "W1" and last.inputs[0].kind == "transpose"
    assert r"\left(1\right)" not in line and "(2, 3)" not in line
    assert tex_array(last.inputs[0].contribution) in line and r"^{\top}" in line
    assert line.count(r"\begin{bmatrix}") == 2


def test_a_vector_gradient_of_ones_is_written_as_ones():
    w = ws.prepare(ws.from_query({"expr": "sum(x)", "v.x": "[1, 2, 3]"}))
    line = w.steps[-1].lines[0]
    assert r"\begin{bmatrix}1 & 1 & 1\end{bmatrix}" in line


def test_big_tensors_show_the_formula_with_shapes_not_a_norm():
    x = "[" + ", ".join(str(i) for i in range(30)) + "]"
    w = ws.prepare(ws.from_query({"expr": "sum(x**2)", "v.x": x}))
    lines = [line for s in w.steps for line in s.lines]
    assert not any("‖" in line for line in lines)
    pow_step = next(s for s in w.steps if s.phase == "backward" and s.op == "PowBackward0")
    assert r"\mathbb{R}^{30}" in pow_step.lines[0] and r"2\,{x}" in pow_step.lines[0]


def test_a_non_scalar_output_says_its_sum_is_differentiated():
    w = ws.prepare(ws.from_query({"expr": "x**2", "v.x": "[1, 2]"}))
    bw = [s for s in w.steps if s.phase == "backward"]
    assert all(r"\partial \left(\textstyle\sum f\right)" in s.lines[0] for s in bw)
    assert "∂(Σf)/∂f" in bw[0].title


def test_one_name_per_node_numbered_without_gaps():
    w = ws.prepare(ws.from_query({"expr": "sin(x)*y + x**2 + y**3", "v.x": "2", "v.y": "3"}))
    labels = {d["label"] for _, d in w.graph.nodes(data=True) if d["kind"] == "tensor"}
    assert labels == {"x", "y", "t1", "t2", "t3", "t4", "t5", "f"}
    rows = ws.running_grads(w, w.n - 1)
    assert any(r["tensor"] == "f (output)" for r in rows)
    first_bw = next(s for s in w.steps if s.phase == "backward")
    assert r"\frac{\partial f}{\partial f}" in first_bw.lines[0] and "L" not in first_bw.lines[0]


def test_a_name_the_user_took_is_not_reused():
    w = ws.prepare(ws.from_query({"expr": "t1*x + x", "v.t1": "2", "v.x": "3"}))
    labels = [d["label"] for _, d in w.graph.nodes(data=True) if d["kind"] == "tensor"]
    assert sorted(labels) == sorted(["t1", "x", "t2", "f"])


def test_derivatives_read_2x_not_2x_to_the_1():
    w = ws.prepare(ws.from_query(SEED))
    text = " ".join(line for s in w.steps for line in s.lines)
    assert "^{1}" not in text and r"2\,{x}" in text and r"\left(2\cdot {2}\right)" in text
    assert all("^{1}" not in r for _, d in w.graph.nodes(data=True) if d["kind"] == "op" for r in d["latex"])


def test_backward_order_is_on_each_op():
    w = ws.prepare(ws.from_query(SEED))
    k = w.n - 1
    g = ws.step_graph(w, k)
    marks = sorted(d["symbol"].split()[0] for _, d in g.nodes(data=True) if d["kind"] == "op")
    assert marks == ["①", "②", "③"]
    first = next(s for s in w.steps if s.phase == "backward")
    assert g.nodes[first.node]["symbol"].startswith("①")      # the output's op runs first
    assert all("①" not in d["symbol"] for _, d in ws.step_graph(w, 0).nodes(data=True) if d["kind"] == "op")


def test_fan_out_grad_grows_one_contribution_at_a_time():
    w = ws.prepare(ws.from_query(FAN_OUT))   # f = a*(a+a) + a at a=3: df/da = 4a + 1 = 13
    uses = [c for s in w.steps for c in s.inputs if c.label == "a" and c.contribution is not None]
    assert len(uses) == 4 and [c.accumulates for c in uses] == [False, True, True, True]
    running = [float(c.running_grad) for c in uses]
    assert running[-1] == 13.0 and running == sorted(running)
    assert format_value(np.float32(13.0)) == "13"


# ---- the same over drawn expressions --------------------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

UNARY = ["sin({})", "tanh({})", "exp({})", "({})**2", "({})**3", "-({})", "2*({})", "({}) / 3"]
BINARY = ["({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (({})**2 + 1)"]
SHAPES = {"scalar": "0.5", "vector": "[0.5, -1.0, 2.0]", "matrix": "[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]"}


@st.composite
def expressions(draw, depth=3):
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(["x", "y", "x", "y", "1.5"]))
    if draw(st.booleans()):
        return draw(st.sampled_from(UNARY)).format(draw(expressions(depth - 1)))
    return draw(st.sampled_from(BINARY)).format(draw(expressions(depth - 1)), draw(expressions(depth - 1)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=expressions(), sx=st.sampled_from(list(SHAPES)), sy=st.sampled_from(list(SHAPES)),
       reduce=st.sampled_from(["sum({})", "mean({})", "sum(({}) @ transpose(W, 0, 1))"]))
def test_drawn_expressions_multiply_out_and_sum_to_the_grads(body, sx, sy, reduce):
    if {sx, sy} == {"vector", "matrix"} or "x" not in body:
        sx = sy                                      # shapes that broadcast together; x always used
    expr = reduce.format(f"({body}) + x")
    q = {"expr": expr, "v.x": SHAPES[sx], "v.y": SHAPES[sy]}
    if "@" in expr:
        q["v.W"] = "[[1, 2, 3], [4, 5, 6]]"
    w = ws.prepare(ws.from_query(q))
    if not w.ok:                                     # e.g. (3,) @ (3, 2) shapes do not fit: nothing to walk
        return
    sent: dict = {}
    for s in w.steps:
        for c in s.inputs:
            if c.contribution is None:
                continue
            assert c.kind != "vjp", (expr, s.op, c.label)
            assert np.allclose(combine(c.kind, c.factors, c.shape), c.contribution, rtol=1e-4, atol=1e-6)
            sent.setdefault(c.tensor, []).append(np.asarray(c.contribution, dtype=np.float64))
        assert not any("‖" in line for line in s.lines)
    for n, d in w.graph.nodes(data=True):
        if d["kind"] == "tensor" and d["is_leaf"] and d["requires_grad"]:
            assert np.allclose(np.sum(sent[n], axis=0), d["grad"], rtol=1e-4, atol=1e-5), (expr, d["label"])


@pytest.mark.parametrize("label,query", ws.sources_menu())
def test_every_ready_made_source_adds_up(label, query):
    w = ws.prepare(ws.from_query(query))
    assert w.ok, (label, w.error)
    sent: dict = {}
    for s in w.steps:
        for c in s.inputs:
            if c.contribution is None:
                continue
            if c.kind == "vjp":   # only ops whose backward is no simple product: a custom Function, softmax...
                assert s.custom or s.op in {"LogSoftmaxBackward0", "SoftmaxBackward0", "IndexBackward0", "SelectBackward0"}, (label, s.op)
            else:
                assert np.allclose(combine(c.kind, c.factors, c.shape), c.contribution, rtol=1e-4, atol=1e-6)
            sent.setdefault(c.tensor, []).append(np.asarray(c.contribution, dtype=np.float64))
    for n, d in w.graph.nodes(data=True):
        if d["kind"] == "tensor" and d["is_leaf"] and d["requires_grad"] and d["grad"] is not None:
            assert np.allclose(np.sum(sent[n], axis=0), d["grad"], rtol=1e-4, atol=1e-5), (label, d["label"])
