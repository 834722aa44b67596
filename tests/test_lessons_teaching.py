"""The numbers the teaching lessons print, checked against the engine, the walkthrough's steps and
real PyTorch: fan-out (+= vs =), retain_grad, backward twice (torch's error text), forward vs
reverse mode.

    cd <worktree> && python -m pytest -q tests/test_lessons_teaching.py
"""
from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest

import vizgrad as vg
from tests.conftest import need_torch
from vizgrad.app import walkthrough
from vizgrad.app.lessons import drawn_graph, get, run

# the retain_grad lesson reads an intermediate's .grad on purpose: PyTorch and vizgrad warn
pytestmark = pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf:UserWarning")


def _printed(lesson_id: str, label: str) -> float:
    """The number the lesson prints after `label` (e.g. 'with += :')."""
    out = run(get(lesson_id)).output
    m = re.search(re.escape(label) + r"\s*(?:tensor\()?(-?[\d.]+)", out)
    assert m, (label, out)
    return float(m.group(1))


def _by_label(lesson_id: str) -> dict:
    g = drawn_graph(run(get(lesson_id)))
    return {d["label"]: d for _, d in g.nodes(data=True) if d["kind"] == "tensor"}


def _torch_run(lesson_id: str) -> dict:
    ns = {"__name__": f"lesson_{lesson_id}"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(get(lesson_id).source, ns)  # the shown code under real torch (tests only)
    return ns


# ---- fan-out: += versus = ------------------------------------------------------------------------------
def test_fan_out_plus_equals_is_the_true_gradient_and_equals_keeps_only_the_last_edge():
    w = walkthrough.prepare(walkthrough.from_lesson("fan_out"))
    sent = [float(c.contribution) for s in w.steps if s.phase == "backward" for c in s.inputs if c.label == "a"]
    assert len(sent) == 2                                         # a + a: two edges from a
    true_grad = _by_label("fan_out")["a"]["grad"].item()
    assert _printed("fan_out", "with += :") == sum(sent) == true_grad == 2.0
    assert _printed("fan_out", "with =  :") == sent[-1] == 1.0    # `=`: the last edge overwrote the first
    assert _printed("fan_out", "with =  :") != true_grad


def test_fan_out_gradient_is_torchs():
    torch = need_torch()
    a = torch.tensor(3.0, requires_grad=True)
    (a + a).backward()
    assert a.grad.item() == _by_label("fan_out")["a"]["grad"].item() == _printed("fan_out", "a.grad =")


def test_fan_out_walkthrough_accumulates_a_second_contribution():
    w = walkthrough.prepare(walkthrough.from_lesson("fan_out"))
    inputs = [c for s in w.steps if s.phase == "backward" for c in s.inputs if c.label == "a"]
    assert [c.accumulates for c in inputs] == [False, True]      # the second one is the `+=`
    assert [float(c.running_grad) for c in inputs] == [1.0, 2.0]


# ---- retain_grad -----------------------------------------------------------------------------------------
def test_retain_grad_keeps_the_intermediate_gradient_torch_computes():
    torch = need_torch()
    by = _by_label("retain_grad")
    ns = _torch_run("retain_grad")
    assert ns["h"].grad.item() == by["h"]["grad"].item() == _printed("retain_grad", "h.grad =") == 2 * 6.0
    assert ns["x"].grad.item() == by["x"]["grad"].item() == _printed("retain_grad", "x.grad =") == 2 * 6.0 * 3
    assert by["h"]["grad_source"] == "retained" and ns["h2"].grad is None
    assert isinstance(ns["h2"], torch.Tensor) and not ns["h2"].is_leaf
    mine = vg.tensor(2.0, requires_grad=True) * 3
    (mine ** 2).backward()
    assert mine.grad is None  # the engine too: no retained gradient unless asked


def test_retain_grad_lesson_shows_the_warning():
    r = run(get("retain_grad"))
    assert any("not a leaf" in w for w in r.warnings), r.warnings


# ---- backward twice --------------------------------------------------------------------------------------
def _second_backward_error(lib) -> str:
    x = lib.tensor(3.0, requires_grad=True)
    y = x ** 2
    y.backward()
    with pytest.raises(RuntimeError) as err:
        y.backward()
    return str(err.value)


def test_backward_twice_raises_torchs_error_text():
    torch = need_torch()
    mine, theirs = _second_backward_error(vg), _second_backward_error(torch)
    assert mine == theirs
    assert "RuntimeError: " + theirs in run(get("backward_twice")).output


def test_retain_graph_lets_the_second_pass_add_up():
    torch = need_torch()
    for lib in (vg, torch):
        w = lib.tensor(3.0, requires_grad=True)
        v = w ** 2
        v.backward(retain_graph=True)
        v.backward()
        assert w.grad.item() == 2 * (2 * 3.0) == _printed("backward_twice", "w.grad =")


def test_backward_twice_graph_shows_the_first_pass():
    by = _by_label("backward_twice")
    assert by["x"]["grad"].item() == 2 * 3.0 and by["y"]["value"].item() == 9.0


# ---- forward versus reverse mode -------------------------------------------------------------------------
def _colah(a, b):
    return (a + b) * (b + 1)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")  # torch.func's own
def test_forward_and_reverse_mode_agree_with_torch_forward_mode():
    """torch.func.jvp is true forward mode (dual numbers): seeding a, then b, gives what one
    backward pass gives for both, and what the lesson's hand-written forward pass prints."""
    torch = need_torch()
    a, b = torch.tensor(2.0), torch.tensor(1.0)
    one, zero = torch.tensor(1.0), torch.tensor(0.0)
    _, de_da = torch.func.jvp(_colah, (a, b), (one, zero))
    _, de_db = torch.func.jvp(_colah, (a, b), (zero, one))
    by = _by_label("forward_reverse")
    assert de_da.item() == _printed("forward_reverse", "forward, seed a: de/da =") == by["a"]["grad"].item() == 2.0
    assert de_db.item() == _printed("forward_reverse", "forward, seed b: de/db =") == by["b"]["grad"].item() == 5.0
    assert _printed("forward_reverse", "jvp:") == de_db.item()
    _, mine = vg.autograd.functional.jvp(_colah, (vg.tensor(2.0), vg.tensor(1.0)), (vg.tensor(0.0), vg.tensor(1.0)))
    assert mine.item() == de_db.item()


def test_colah_graph_values_and_path_sums():
    by = _by_label("forward_reverse")
    c, d, e = (by[k]["value"].item() for k in "cde")
    assert (c, d, e) == (3.0, 2.0, 6.0)
    # b fans out (into c and into d): its gradient is the sum over the two paths, de/dc·1 + de/dd·1
    assert by["b"]["grad"].item() == d * 1 + c * 1 and by["a"]["grad"].item() == d * 1
    assert np.isclose(by["c"]["grad"].item(), d) and np.isclose(by["d"]["grad"].item(), c)


# ---- higher order ------------------------------------------------------------------------------------------
def test_second_derivative_is_torchs():
    torch = need_torch()
    x = torch.tensor(3.0, requires_grad=True)
    (dy,) = torch.autograd.grad(x ** 3, x, create_graph=True)
    dy.backward()
    by = _by_label("higher_order")
    assert by["dy"]["value"].item() == dy.item() and by["x"]["grad"].item() == x.grad.item() == 18.0
