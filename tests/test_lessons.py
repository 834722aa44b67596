"""The lessons: each runs on vizgrad, prints what its seed chapter shows, and its shown source
prints exactly the same under real PyTorch."""
import contextlib
import io

import pytest

from tests.conftest import need_torch
from vizgrad.app import lessons
from vizgrad.app.lessons import LESSONS, get, missing_lines, run, source_of

# the retain_grad lesson reads an intermediate's .grad on purpose: PyTorch and vizgrad warn
pytestmark = pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf:UserWarning")

IDS = [lesson.id for lesson in LESSONS]


def test_the_tour_covers_the_seed_chapters():
    assert IDS == ["graph", "backward", "detach", "accumulate", "training", "xy200", "higher_order",
                   "custom_function", "fan_out", "retain_grad", "backward_twice", "forward_reverse"]
    assert [lesson.short.split(" · ")[0] for lesson in LESSONS] == [str(k) for k in range(1, len(LESSONS) + 1)]
    assert all(lesson.title.startswith(f"{k}. ") for k, lesson in enumerate(LESSONS, 1))
    assert get("backward") is LESSONS[1] and get("nope") is None


@pytest.mark.parametrize("lesson_id", IDS)
def test_lesson_runs_and_prints_what_the_seed_shows(lesson_id):
    lesson = get(lesson_id)
    r = run(lesson)
    assert r.ok, r.error
    assert lesson.expect, "every lesson states what its output must contain"
    assert not missing_lines(lesson, r.output), r.output
    assert r.tensors and r.tensors[0].grad_fn is not None  # something to draw


def test_seed_outputs_verbatim():
    out = run(get("backward")).output
    assert "Gradient of x:  tensor(4.)\nGradient of y:  tensor(27.)\n" in out
    assert "tensor([1., 1., 1.])\n" in out
    assert "tensor([3.])\ntensor([2.])\ntensor([1.])\n" in out
    assert "Gradient of a: tensor(6.)\nGradient of b: None\n" in run(get("detach")).output
    assert run(get("graph")).output.startswith("tensor(31., grad_fn=<AddBackward0>)\n")


def test_forgetting_zero_grad_accumulates():
    out = run(get("accumulate")).output.splitlines()
    assert [line.split("= ")[-1] for line in out] == ["tensor(4.)", "tensor(8.)", "tensor(12.)"] + ["tensor(4.)"] * 3


def test_xy_loop_has_a_loss_curve_that_falls():
    r = run(get("xy200"))
    assert r.curve is not None and len(r.curve) == 1000
    assert r.curve[0] == 150.0 and max(r.curve[100:]) < 10
    fig = lessons.curve_figure(r.curve)
    assert len(fig.data[0].y) == 1000


def test_source_is_a_standalone_script():
    for lesson in LESSONS:
        src = lesson.source
        assert src.startswith("import torch\n")
        assert "def lesson_" not in src and "\nreturn" not in src
        compile(src, lesson.id, "exec")  # valid at module level (tests only; shipped code never compiles)
    assert "import torch.nn as nn" in get("training").source
    assert source_of(lessons.lesson_detach).splitlines()[2].startswith("a = torch.tensor(3.0")


def test_graph_is_labelled_with_the_lessons_variable_names():
    from vizgrad.graph import trace
    labels = {d["label"] for _, d in trace(run(get("training")).tensors[0]).nodes(data=True)}
    assert {"fc.weight", "fc.bias", "input_data", "loss"} <= labels


def test_a_failing_lesson_becomes_a_message():
    def broken():
        print("before")
        raise ValueError("boom")
    bad = lessons.Lesson("bad", "bad", "bad", "", broken)
    r = run(bad)
    assert not r.ok and "boom" in r.error and r.output == "before\n"


@pytest.mark.parametrize("lesson_id", IDS)
def test_same_output_on_real_torch(lesson_id):
    need_torch()
    lesson = get(lesson_id)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(lesson.source, {"__name__": f"lesson_{lesson_id}"})  # the shown code; `import torch` is real torch
    assert buf.getvalue() == run(lesson).output


def test_loss_curve_replays_live():
    """The x*y -> 200 lesson's curve can be replayed step by step (frames that grow to the full run)."""
    r = run(get("xy200"))
    fig = lessons.curve_figure(r.curve)
    assert len(fig.frames) >= 10
    sizes = [len(f.data[0].x) for f in fig.frames]
    assert sizes == sorted(sizes) and sizes[-1] == len(r.curve)
    assert fig.layout.updatemenus[0].buttons[0].method == "animate"
