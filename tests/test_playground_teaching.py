"""The Expression Playground's model writes the chain rule as a teacher does, one name per node (issue 14).

    nice -n 5 .venv/bin/python -m pytest -q tests/test_playground_teaching.py
"""
import numpy as np

from vizgrad.app.expression import State, VarSpec, node_details, partial_latex, results_table, run
from vizgrad.plot import figure


def playground(expr, **values):
    out = run(State(expr, {k: VarSpec(v) for k, v in values.items()}))
    assert out.ok, (out.error, out.var_errors)
    return out


def test_partials_show_the_symbolic_derivative_then_the_numbers():
    out = playground("x**2 + y**3", x="2", y="3")
    assert partial_latex(out) == [r"\frac{\partial f}{\partial x} = 2\,{x} = 2\cdot {2} = 4",
                                  r"\frac{\partial f}{\partial y} = 3\,{y}^{2} = 3\cdot {3}^{2} = 27"]


def test_a_fan_out_sums_the_paths():
    out = playground("x*x + x", x="3")        # df/dx = x + x + 1 = 7: three paths
    line, = partial_latex(out)
    assert line == r"\frac{\partial f}{\partial x} = {x} + {x} + 1 = {3} + {3} + 1 = 7"


def test_a_chain_multiplies_the_local_derivatives():
    out = playground("sin(x)*y", x="0", y="2")
    lines = dict(zip("xy", partial_latex(out)))
    assert r"\cos {x} \cdot {y} = \cos {0} \cdot {2} = 2" in lines["x"]
    assert lines["y"].endswith(r"= {t1} = {0} = 0")


def test_tensors_and_matrix_products_show_the_value_only():
    out = playground("sum(W @ v)", W="[[1, 2], [3, 4]]", v="[1, 1]")
    for line in partial_latex(out):
        assert line.count("=") == 1 and r"\begin{bmatrix}" in line


def test_a_tensor_output_says_its_sum_is_differentiated():
    out = playground("x**2", x="[1, 2, 3]")
    lines = partial_latex(out)
    assert lines[0].startswith(r"\frac{\partial \left(\textstyle\sum f\right)}{\partial x}")
    assert r"\begin{bmatrix}2 & 4 & 6\end{bmatrix}" in lines[0]
    assert "sum" in lines[-1]
    scalar = playground("sum(x**2)", x="[1, 2, 3]")
    assert all(r"\sum" not in line.split("=")[0] for line in partial_latex(scalar))


def test_one_name_per_node_and_numbers_without_gaps():
    out = playground("sin(x)*y + x**2 + y**3", x="2", y="3")
    labels = sorted(d["label"] for _, d in out.graph.nodes(data=True) if d["kind"] == "tensor")
    assert labels == ["f", "t1", "t2", "t3", "t4", "t5", "x", "y"]
    assert results_table(out)[0]["tensor"] == "f (output)"
    root = out.graph.graph["roots"][0]
    assert out.graph.nodes[root]["label"] == "f"


def test_inspector_titles_and_rules_read_as_written():
    out = playground("x**2 + y**3", x="2", y="3")
    g = out.graph
    ops = [n for n, d in g.nodes(data=True) if d["kind"] == "op"]
    titles = sorted(node_details(g, n).title for n in ops)
    assert titles == ["op f = t1 + t2  (AddBackward0)", "op t1 = x²  (PowBackward0)", "op t2 = y³  (PowBackward0)"]
    assert not any("**" in t for t in titles)
    pow2 = next(n for n in ops if g.nodes[n]["symbol"] == "**2")
    assert node_details(g, pow2).latex == [r"\frac{\partial\,t_{1}}{\partial\,x} = 2\,{x} = 4"]
    hovers = [str(h) for t in figure(g).data if t.hovertext is not None and not isinstance(t.hovertext, str)
              for h in t.hovertext]
    assert any("∂out/∂x = 2x" in h for h in hovers) and not any("^1" in h for h in hovers)


def test_gradients_in_partials_are_the_engines():
    out = playground("x*x + x", x="3")
    assert np.asarray(out.grads["x"]) == 7
