"""Every lesson's graph is one moment, and the walkthrough opens exactly that graph.

For each lesson: the graph the page draws (`lessons.drawn_graph(run(lesson))`) and the graph the
Walkthrough builds from the lesson's link (`walkthrough.prepare(walkthrough.from_lesson(id))`)
have the same nodes, edges, labels and values, and, when the lesson's moment is after a backward,
the same gradients. Within the drawn graph, the values and gradients belong to one moment: a fresh
forward and backward on the engine from the drawn leaves gives the same numbers, and so does real
PyTorch running the lesson's shown code (its variables at the end of the script).

    cd <worktree> && python -m pytest -q tests/test_lessons_graphs.py
"""
from __future__ import annotations

import contextlib
import io
import operator

import numpy as np
import pytest

import vizgrad as vg
from tests.conftest import need_torch
from vizgrad.app import walkthrough
from vizgrad.app.lessons import LESSONS, drawn_graph, get, graph_of, run

# the retain_grad lesson reads an intermediate's .grad on purpose: PyTorch and vizgrad warn
pytestmark = pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf:UserWarning")

IDS = [lesson.id for lesson in LESSONS]


def _drawn(lesson_id):
    r = run(get(lesson_id))
    assert r.ok, r.error
    return drawn_graph(r)


def _tensors(g) -> dict:
    return {n: d for n, d in g.nodes(data=True) if d["kind"] == "tensor"}


def _has_grads(g) -> bool:
    return any(d["grad"] is not None for d in _tensors(g).values()) or \
        any(e.get("grad") is not None for _, _, e in g.edges(data=True))


def _same_number(a, b, what, rtol=1e-6, atol=1e-7):
    assert (a is None) == (b is None), f"{what}: {a} vs {b}"
    if a is not None:
        np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                                   rtol=rtol, atol=atol, err_msg=what)


def _float32_tolerance(g) -> dict:
    """Within float32 rounding of the graph's largest number (what either side may round off, should
    one of them compute in float64): a few units of float32 epsilon times the biggest |value|."""
    scale = max([1.0] + [float(np.max(np.abs(d["value"]))) for d in _tensors(g).values() if np.size(d["value"])])
    return dict(rtol=1e-6, atol=4 * float(np.finfo(np.float32).eps) * scale)


def _assert_same_graph(drawn, other, grads: bool):
    """Same node ids (a deterministic topological numbering), kinds, labels, ops, operands, edges and
    values; and, with grads=True, the same gradient on every tensor and edge."""
    tol = _float32_tolerance(drawn)
    assert list(drawn.nodes) == list(other.nodes)
    assert set(drawn.edges) == set(other.edges)
    for n, d in drawn.nodes(data=True):
        o = other.nodes[n]
        assert (d["kind"], d["label"]) == (o["kind"], o["label"]), n
        if d["kind"] == "op":
            assert (d["op"], d["inputs"], d["output"]) == (o["op"], o["inputs"], o["output"]), n
            continue
        assert (d["shape"], d["is_leaf"], d["requires_grad"]) == (o["shape"], o["is_leaf"], o["requires_grad"]), n
        _same_number(d["value"], o["value"], f"value of {d['label']}", **tol)
        if grads:
            _same_number(d["grad"], o["grad"], f"grad of {d['label']}", **tol)
    if grads:
        for u, v, e in drawn.edges(data=True):
            _same_number(e.get("grad"), other.edges[u, v].get("grad"), f"grad on edge {u}->{v}", **tol)


@pytest.mark.parametrize("lesson_id", IDS)
def test_every_lesson_names_its_moment(lesson_id):
    lesson = get(lesson_id)
    g = _drawn(lesson_id)
    assert lesson.moment.startswith("after "), lesson.moment
    backward = _has_grads(g)
    # a moment without a backward shows no gradient at all; one after a backward says so
    assert backward == ("no backward" not in lesson.moment), (lesson.moment, backward)


@pytest.mark.parametrize("lesson_id", IDS)
def test_walkthrough_opens_the_drawn_graph(lesson_id):
    drawn = _drawn(lesson_id)
    w = walkthrough.prepare(walkthrough.from_lesson(lesson_id))
    assert w.error is None, w.error
    _assert_same_graph(drawn, w.graph, grads=_has_grads(drawn))
    # ...and its last step (after backward) has every gradient the drawing shows, the check passes
    assert all(c.matches_backward and c.matches_numeric is not False for c in w.checks), w.checks


def _fresh(lesson, drawn):
    """The lesson's graph function at the drawn leaf values, on fresh leaves: (graph, its leaves)."""
    values = {d["label"]: d["value"] for d in _tensors(drawn).values() if d["is_leaf"] and d["requires_grad"]}
    start = lesson.graph.leaves
    assert set(values) <= set(start)  # a leaf the graph cuts off (detach) is an argument, not drawn
    leaves = {k: vg.tensor(np.asarray(values.get(k, v), dtype=np.float32), requires_grad=True, name=k)
              for k, v in start.items()}
    root = lesson.graph.fn(**leaves)
    return root, leaves


@pytest.mark.parametrize("lesson_id", [i for i in IDS if get(i).graph is not None])
def test_drawn_values_and_grads_are_one_moment(lesson_id):
    """Recompute the drawn graph on the engine from its leaves: every value agrees, and (after a
    backward) every leaf's .grad is the gradient of this very graph at these very values."""
    lesson, drawn = get(lesson_id), _drawn(lesson_id)
    root, leaves = _fresh(lesson, drawn)
    fresh = graph_of(root)
    _assert_same_graph(drawn, fresh, grads=False)
    if _has_grads(drawn):
        grads = vg.autograd.grad(root, list(leaves.values()), allow_unused=True)
        by_label = {d["label"]: d for d in _tensors(drawn).values()}
        for (label, _), gr in zip(leaves.items(), grads):
            if label not in by_label:
                assert gr is None, label
                continue
            _same_number(by_label[label]["grad"], None if gr is None else gr.numpy(), f"{lesson_id}: grad of {label}")


def _resolve(namespace: dict, label: str):
    if label in namespace:
        return namespace[label]
    if "." in label:  # a parameter, e.g. fc.weight, of a module the script holds
        for v in namespace.values():
            try:
                return operator.attrgetter(label)(v)
            except AttributeError:
                continue
    return None


def _torch_namespace(lesson) -> dict:
    ns = {"__name__": f"lesson_{lesson.id}"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(lesson.source, ns)  # the shown code under real torch (tests only)
    return ns


@pytest.mark.parametrize("lesson_id", IDS)
def test_drawn_graph_matches_pytorch_at_the_end_of_the_script(lesson_id):
    """Every tensor the drawn graph labels with a variable of the script (or a module's parameter):
    PyTorch's variable holds the same value when the script ends, and the same .grad for leaves.
    (Within float32 rounding: 1000 SGD steps may end an ulp apart, and |x·y − 200| magnifies that.)"""
    torch = need_torch()
    lesson, drawn = get(lesson_id), _drawn(lesson_id)
    ns = _torch_namespace(lesson)
    root = drawn.nodes[drawn.graph["roots"][0]]
    checked = []
    for d in _tensors(drawn).values():
        t = _resolve(ns, d["label"])
        if not isinstance(t, torch.Tensor):
            continue
        tol = dict(rtol=1e-5, atol=1e-4)
        _same_number(d["value"], t.detach().numpy(), f"{lesson_id}: value of {d['label']}", **tol)
        if d["is_leaf"]:
            _same_number(d["grad"], None if t.grad is None else t.grad.numpy(), f"{lesson_id}: grad of {d['label']}",
                         **tol)
        checked.append(d["label"])
    assert root["label"] in checked, (root["label"], checked)
    assert any(_tensors(drawn)[n]["label"] in checked for n in _tensors(drawn) if _tensors(drawn)[n]["is_leaf"])


# ---- the defects of issue 14, one by one ------------------------------------------------------------
def test_xy200_output_is_the_product_of_the_drawn_x_and_y():
    g = _drawn("xy200")
    by = {d["label"]: d for d in _tensors(g).values()}
    x, y, out, loss = (np.float32(by[k]["value"].item()) for k in ("x", "y", "output", "loss"))
    assert out == x * y and loss == abs(out - np.float32(200))      # one moment: 13.03 × 15.42 = 200.9
    assert by["x"]["grad"].item() == y and by["y"]["grad"].item() == x  # |xy − 200|' at xy > 200


def test_training_graph_after_the_step_has_no_stale_gradients():
    lesson, g = get("training"), _drawn("training")
    by = {d["label"]: d for d in _tensors(g).values()}
    assert by["fc.weight"]["value"].item() == pytest.approx(0.5 - 0.1 * -3.0)  # w − lr · grad
    assert by["fc.bias"]["value"].item() == pytest.approx(0.0 - 0.1 * -3.0)
    assert by["loss"]["value"].item() == pytest.approx((0.8 + 0.3 - 2.0) ** 2)
    assert not _has_grads(g) and "no backward" in lesson.moment
    assert "no backward" not in lesson.takeaway or "gradients" in lesson.takeaway


def test_higher_order_graph_is_the_graph_of_the_gradient():
    g = _drawn("higher_order")
    by = {d["label"]: d for d in _tensors(g).values()}
    assert by["dy"]["value"].item() == 27.0 and by["x"]["grad"].item() == 18.0   # 3x², then 6x at x = 3
    assert "y" not in by  # the gradient's graph: y = x³ itself is not in it
    w = walkthrough.prepare(walkthrough.from_lesson("higher_order"))
    assert {c.label: c.numeric.item() for c in w.checks}["x"] == pytest.approx(18.0, rel=1e-4)  # finite diff.


def test_lesson_one_opens_the_loop_it_drew():
    g = walkthrough.prepare(walkthrough.from_lesson("graph")).graph
    by = {d["label"]: d for d in _tensors(g).values()}
    assert by["w"]["value"].item() == 124.0 and by["z"]["value"].item() == 31.0
    assert by["x"]["grad"].item() == 4 * 2 * 2.0 and by["y"]["grad"].item() == 4 * 3 * 9.0  # w = 4z


@pytest.mark.parametrize("lesson_id", [i for i in IDS if get(i).highlight])
def test_what_a_takeaway_points_at_is_in_the_graph(lesson_id):
    from vizgrad.app.lessons import highlighted
    lesson = get(lesson_id)
    g = _drawn(lesson_id)
    marked = highlighted(lesson, g)
    names = {g.nodes[n]["label"] for n in marked} | {g.nodes[n].get("op") for n in marked}
    assert set(lesson.highlight) <= names, (lesson.highlight, names)


def test_the_walkthrough_says_which_moment_the_lesson_draws():
    from vizgrad.app import lessons
    from vizgrad.app.walkthrough import from_lesson
    for lesson in lessons.LESSONS:
        src = from_lesson(lesson.id)
        assert src.error is None, (lesson.id, src.error)
        assert lesson.moment and lesson.moment in src.note, (lesson.id, src.note)
