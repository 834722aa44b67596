"""The walkthrough model: forward then backward steps, contributions, accumulation, broadcasting."""
import numpy as np
import pytest

import vizgrad as vg
from vizgrad.graph.steps import final_grads, steps


def seed_expr():
    x = vg.tensor(2.0, requires_grad=True, name="x")
    y = vg.tensor(3.0, requires_grad=True, name="y")
    return x, y, x ** 2 + y ** 3


def test_seed_expression_has_three_op_steps_each_way():
    x, y, z = seed_expr()
    s = steps(z)
    fwd = [st for st in s if st.phase == "forward"]
    bwd = [st for st in s if st.phase == "backward"]
    assert [st.op for st in fwd] == ["PowBackward0", "PowBackward0", "AddBackward0"]
    assert [st.op for st in bwd] == ["AddBackward0", "PowBackward0", "PowBackward0"]
    assert [float(st.value) for st in fwd] == [4.0, 27.0, 31.0]
    # the add step is seeded with dL/dL = 1 and passes 1 to both operands
    assert float(bwd[0].upstream) == 1.0
    assert [float(c.contribution) for c in bwd[0].inputs] == [1.0, 1.0]
    # the pow steps: 3y^2 = 27 for y, 2x = 4 for x, with the local derivative's value shown
    by_label = {c.label: c for st in bwd[1:] for c in st.inputs}
    assert float(by_label["y"].contribution) == 27.0 and float(by_label["y"].local) == 27.0
    assert float(by_label["x"].contribution) == 4.0 and float(by_label["x"].local) == 4.0
    assert "27" in bwd[1].equation and r"\frac{\partial L}{\partial y}" in bwd[1].equation


def test_final_grads_match_backward():
    x, y, z = seed_expr()
    s = steps(z)  # runs backward itself
    g = final_grads(s)
    assert float(g["x"]) == float(x.grad) == 4.0
    assert float(g["y"]) == float(y.grad) == 27.0


def test_fan_out_accumulates_in_visible_additions():
    x = vg.tensor(3.0, requires_grad=True, name="x")
    s = steps(x * x + x)
    adds = [c for st in s if st.phase == "backward" for c in st.inputs if c.label == "x"]
    # three separate contributions: 1 from the add, then 3 and 3 from x * x
    assert [float(c.contribution) for c in adds] == [1.0, 3.0, 3.0]
    assert [float(c.running_grad) for c in adds] == [1.0, 4.0, 7.0]
    assert [c.accumulates for c in adds] == [False, True, True]
    assert float(x.grad) == 7.0
    assert r"\mathrel{+=}" in [st for st in s if st.phase == "backward"][-1].equation


def test_broadcasting_step_shows_the_reduction():
    w = vg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="W")
    b = vg.tensor([0.5, -0.5], requires_grad=True, name="b")
    loss = (w * b).sum()
    s = steps(loss)
    mul = next(st for st in s if st.phase == "backward" and st.op == "MulBackward0")
    cb = next(c for c in mul.inputs if c.label == "b")
    assert cb.reduced_from == (2, 2)              # (2,2) local derivative summed to b's (2,)
    np.testing.assert_allclose(cb.contribution, [4.0, 6.0])
    np.testing.assert_allclose(b.grad.numpy(), [4.0, 6.0])
    assert r"\Sigma" in mul.equation


def test_network_and_highlights_use_graph_ids():
    import vizgrad.graph as vgraph
    vg.manual_seed(0)
    lin = vg.nn.Linear(3, 2)
    loss = lin(vg.randn(4, 3)).tanh().mean()
    s = steps(loss, params=dict(lin.named_parameters()))
    g = vgraph.trace(loss)
    for st in s:
        assert st.node in g and st.output in g
        assert all(n in g for n in st.highlight_nodes)
        assert all(g.has_edge(*e) for e in st.highlight_edges)
    last = s[-1]
    assert last.phase == "backward"
    got = final_grads(s)
    np.testing.assert_allclose(got["weight"], lin.weight.grad.numpy(), rtol=1e-6)


def test_custom_function_is_named_and_marked_custom():
    Function = pytest.importorskip("vizgrad.autograd.function").Function

    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    x = vg.tensor(2.0, requires_grad=True, name="x")
    s = steps(Cube.apply(x) + 1)
    cube = next(st for st in s if st.phase == "backward" and st.custom)
    assert "Cube" in cube.op
    assert float(cube.inputs[0].contribution) == 12.0
    assert "custom backward" in cube.equation


def test_rejects_a_tensor_without_graph():
    with pytest.raises(ValueError, match="no graph"):
        steps(vg.tensor(1.0))
