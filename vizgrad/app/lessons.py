"""The Lessons page's model: a guided tour of autograd, built from the seed chapters (no UI here).

A lesson is one block below: `@define_lesson(...)` with its text, what its output must show and
(optionally) its graph for the Walkthrough, on top of a function whose body is PyTorch code written
against `torch`, which in this module *is* vizgrad. Adding a lesson is adding one such block; the
page, the Walkthrough's menu and the tests pick it up from LESSONS (in the order of the blocks).

The page shows the function's body as a script (`Lesson.source`: dedented, decorator, def line and
final `return` dropped, `import torch` added) and runs it by calling the function with stdout
captured (`run(lesson)`); nothing is ever exec'd or eval'd. The same source text runs unchanged on
real PyTorch (tests/test_lessons.py checks that both print the same thing).

    from vizgrad.app.lessons import LESSONS, get, run
    r = run(get("backward"))
    r.output          # 'Gradient of x:  tensor(4.)\\n...'
    r.tensors         # the tensors the lesson returns, to draw (vizgrad.plot.figure)
    r.curve           # a list of floats (the loss per step) for lessons that train

A lesson's *graph* (LessonGraph) is a pure function of a few named leaves (and their values) that
rebuilds the lesson's graph, so the Walkthrough page can step through it and check it with finite
differences (`vizgrad.app.walkthrough.from_lesson`).
"""
from __future__ import annotations

import contextlib
import inspect
import io
import sys
import textwrap
import threading
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import vizgrad as torch  # the lessons are PyTorch code; here `torch` is vizgrad

nn = torch.nn
optim = torch.optim


# =================================================================================================
# what a lesson is, and the block that defines one
# =================================================================================================
@dataclass(frozen=True)
class LessonGraph:
    """A lesson's graph for the walkthrough: fn(**leaves) -> scalar tensor, at these leaf values."""
    fn: Callable
    leaves: dict
    title: str


@dataclass(frozen=True)
class Lesson:
    id: str
    short: str                   # tab label
    title: str
    text: str                    # markdown, a short paragraph or two
    code: Callable               # the lesson's code (see module docstring)
    expect: tuple = ()           # lines (or fragments) the seed chapter shows in the output
    graph: LessonGraph | None = None
    seed: str = ""               # where the example comes from
    takeaway: str = ""

    @property
    def source(self) -> str:
        return source_of(self.code)


LESSONS: list[Lesson] = []       # in the order of the blocks below


def define_lesson(id: str, short: str, title: str, text: str, *, expect: tuple = (), graph: LessonGraph | None = None,
                  seed: str = "", takeaway: str = "") -> Callable:
    """Decorator: the function below is this lesson's code (see the module docstring)."""
    def add(code: Callable) -> Callable:
        LESSONS.append(Lesson(id, short, title, text, code, expect, graph, seed, takeaway))
        return code
    return add


# =================================================================================================
# the lessons: each body is a script; `return` hands the page what to draw
# =================================================================================================
# ---- graph --------------------------------------------------------------------------------------
@define_lesson(
    "graph", "1 · requires_grad", "1. requires_grad and the dynamic graph",
    "A tensor created with `requires_grad=True` is a **leaf** that autograd tracks. Every operation "
    "on it records a node in a graph, while your code runs: there is no separate \"compile\" step, "
    "and ordinary Python (`if`, `while`) decides the graph's shape each time. The result remembers "
    "the operation that made it in `grad_fn`.",
    expect=("tensor(31., grad_fn=<AddBackward0>)", "z.grad_fn: AddBackward0"),
    graph=LessonGraph(lambda x, y: x ** 2 + y ** 3, {"x": 2.0, "y": 3.0}, "z = x² + y³"),
    seed="Autograd in PyTorch, 1. Enabling Autograd",
    takeaway="What autograd recorded: x and y (leaves) on the left, then z = x² + y³, then the loop's two ×2 ops "
             "(31 < 100, 62 < 100, 124 stops it). Another start value would record a different graph.")
def lesson_graph():
    # Tensors that require grad are tracked.
    x = torch.tensor(2.0, requires_grad=True)
    y = torch.tensor(3.0, requires_grad=True)

    # The graph is recorded while this line runs.
    z = x**2 + y**3
    print(z)

    # z remembers the op that made it; x, y are leaves.
    print("z.grad_fn:", z.grad_fn.name())
    print("x is a leaf:", x.is_leaf, "| z is a leaf:", z.is_leaf)
    print("z requires grad:", z.requires_grad)

    # Plain Python decides the graph's shape: a "dynamic" graph.
    w = z
    while w < 100:
        w = w * 2
    print(w)
    return w


# ---- backward -----------------------------------------------------------------------------------
@define_lesson(
    "backward", "2 · backward()", "2. backward() and .grad",
    "Call `backward()` on a scalar (usually the loss) and autograd walks the graph backwards, "
    "applying the chain rule at every node. Each leaf's gradient lands in its `.grad`. "
    "For `z = x² + y³` at x = 2, y = 3: ∂z/∂x = 2x = 4 and ∂z/∂y = 3y² = 27.",
    expect=("Gradient of x:  tensor(4.)", "Gradient of y:  tensor(27.)", "tensor([1., 1., 1.])",
            "tensor([3.])", "tensor([2.])", "tensor([1.])"),
    graph=LessonGraph(lambda x, y: x ** 2 + y ** 3, {"x": 2.0, "y": 3.0}, "z = x² + y³"),
    seed="Autograd in PyTorch, 2. Computing Gradients; The Wizard of Autograd; AutoGradPyTorch Example 1",
    takeaway="Open the walkthrough to see 4 and 27 appear one chain-rule step at a time.")
def lesson_backward():
    x = torch.tensor(2.0, requires_grad=True)
    y = torch.tensor(3.0, requires_grad=True)
    z = x**2 + y**3

    # Compute gradients: dz/dx = 2x = 4, dz/dy = 3y² = 27
    z.backward()
    print("Gradient of x: ", x.grad)
    print("Gradient of y: ", y.grad)

    # The gradient of a sum is a vector of ones.
    v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    s = v.sum()
    s.backward()
    print(v.grad)

    # y = w * x + b: dy/dx = w, dy/dw = x, dy/db = 1
    x1 = torch.tensor([2.0], requires_grad=True)
    w = torch.tensor([3.0], requires_grad=True)
    b = torch.tensor([1.0], requires_grad=True)
    y1 = w * x1 + b
    y1.backward()
    print(x1.grad)
    print(w.grad)
    print(b.grad)
    return z


# ---- detach -------------------------------------------------------------------------------------
@define_lesson(
    "detach", "3 · detach", "3. detach() and no_grad()",
    "`b.detach()` gives b's value cut off from the graph, so no gradient flows back to b and "
    "`b.grad` stays `None`. Inside `with torch.no_grad():` nothing is recorded at all — that is how "
    "you evaluate a model or update weights without building a graph.",
    expect=("Gradient of a: tensor(6.)", "Gradient of b: None", "d requires grad: False"),
    graph=LessonGraph(lambda a, b: a ** 2 + b.detach() ** 3, {"a": 3.0, "b": 4.0}, "c = a² + detach(b)³"),
    seed="Autograd in PyTorch, 3. Detaching Tensors",
    takeaway="In the graph, b's edge carries no gradient.")
def lesson_detach():
    a = torch.tensor(3.0, requires_grad=True)
    b = torch.tensor(4.0, requires_grad=True)

    # b.detach(): b's value, cut off from the graph
    c = a ** 2 + b.detach() ** 3
    c.backward()
    print("Gradient of a:", a.grad)
    print("Gradient of b:", b.grad)

    # Inside no_grad() nothing is recorded.
    with torch.no_grad():
        d = a * 2
    print("d requires grad:", d.requires_grad)
    print("c requires grad:", c.requires_grad)
    return c


# ---- accumulate ---------------------------------------------------------------------------------
@define_lesson(
    "accumulate", "4 · zero_grad", "4. Gradients accumulate: zero_grad()",
    "`backward()` **adds** to `.grad` instead of overwriting it (so gradients from several losses "
    "can be combined). In a training loop that means you must reset the gradients before each "
    "backward pass — `optimizer.zero_grad()`. Forget it and every step uses the sum of all past "
    "gradients: here 4, then 8, then 12 instead of 4 each time.",
    expect=("x.grad = tensor(4.)", "x.grad = tensor(8.)", "x.grad = tensor(12.)"),
    graph=LessonGraph(lambda x: x ** 2, {"x": 2.0}, "y = x²"),
    seed="AutoGradPyTorch, Gradient Accumulation; Dracula's training loop",
    takeaway="Each backward adds 2x = 4 to x.grad.")
def lesson_accumulate():
    x = torch.tensor(2.0, requires_grad=True)

    # backward() ADDS into .grad: forget to reset it...
    for step in range(3):
        y = x ** 2
        y.backward()
        print("forgot zero_grad, step", step, "x.grad =", x.grad)

    # ...so reset it before each backward pass.
    optimizer = torch.optim.SGD([x], lr=0.1)
    for step in range(3):
        optimizer.zero_grad()
        y = x ** 2
        y.backward()
        print("with zero_grad,  step", step, "x.grad =", x.grad)
    return y


# ---- training -----------------------------------------------------------------------------------
def _training_graph(weight, bias):
    output = nn.functional.linear(torch.tensor([[1.0]], dtype=weight.dtype), weight, bias)
    return nn.functional.mse_loss(output, torch.tensor([[2.0]], dtype=weight.dtype))


@define_lesson(
    "training", "5 · a training step", "5. A training step: nn.Linear, MSELoss, SGD",
    "A network's weights are leaves too (`nn.Parameter` has `requires_grad=True`). One training "
    "step is: forward pass, loss, `optimizer.zero_grad()`, `loss.backward()` to fill every "
    "weight's `.grad`, then `optimizer.step()` to move each weight against its gradient "
    "(`w ← w − lr · w.grad`).",
    expect=("loss before: 2.25", "weight grad: tensor([[-3.]])", "bias grad: tensor([-3.])",
            "weight after: tensor([[0.8000]])", "loss after:  0.81"),
    graph=LessonGraph(_training_graph, {"weight": [[0.5]], "bias": [0.0]}, "MSE loss of nn.Linear(1, 1)"),
    seed="Autograd in PyTorch, 4. Autograd in Neural Networks",
    takeaway="The graph is the loss after the step (no backward yet): 0.81, down from 2.25.")
def lesson_training():
    # One nn.Linear(1, 1) layer, with fixed weights.
    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.fc = nn.Linear(1, 1)

        def forward(self, x):
            return self.fc(x)

    net = Net()
    with torch.no_grad():
        net.fc.weight.fill_(0.5)
        net.fc.bias.fill_(0.0)

    input_data = torch.tensor([[1.0]])
    target_data = torch.tensor([[2.0]])
    criterion = nn.MSELoss()
    optimizer = optim.SGD(net.parameters(), lr=0.1)

    # Forward pass and loss: (0.5 * 1 + 0 - 2)² = 2.25
    output = net(input_data)
    loss = criterion(output, target_data)
    print("loss before:", loss.item())

    # Backpropagation and optimization
    optimizer.zero_grad()
    loss.backward()
    print("weight grad:", net.fc.weight.grad)
    print("bias grad:", net.fc.bias.grad)
    optimizer.step()
    print("weight after:", net.fc.weight.data)
    print("bias after:", net.fc.bias.data)

    # The same input again: the loss went down.
    loss = criterion(net(input_data), target_data)
    print("loss after: ", round(loss.item(), 4))
    return loss


# ---- xy200 --------------------------------------------------------------------------------------
@define_lesson(
    "xy200", "6 · x·y → 200", "6. Drive x · y to 200",
    "The Dracula chapter's loop: two numbers, x = 5 and y = 10, and the loss |x·y − 200|. "
    "Each step computes the loss, backpropagates, lets SGD nudge x and y, and zeroes the "
    "gradients. The loss falls in a straight line (the gradient of |·| has constant size), "
    "then x·y hovers around 200. (The first `z.backward()` leaves gradients that the first "
    "step adds to — lesson 4 in action.)",
    expect=("x: tensor([", "y: tensor([", "output: tensor([", "requires_grad=True)"),
    graph=LessonGraph(lambda x, y: torch.abs(x * y - 200), {"x": [5.0], "y": [10.0]}, "loss = |x·y − 200|"),
    seed="Chapter 5: The Code That Brought Dracula's Story to Life",
    takeaway="The curve is the loss at each of the 1000 steps.")
def lesson_xy200():
    x = torch.tensor([5.0], requires_grad=True)
    y = torch.tensor([10.0], requires_grad=True)

    # Define model and compute a first gradient
    z = x * y
    z.backward()

    optimizer = torch.optim.SGD([x, y], lr=0.01)
    losses = []
    for i in range(1000):
        output = x * y                       # forward pass
        loss = torch.abs(output - 200)       # how far from 200
        loss.backward()                      # backward pass
        optimizer.step()                     # update x and y
        optimizer.zero_grad()                # zero gradients
        losses.append(loss.item())

    print("x:", x)
    print("y:", y)
    print("output:", x * y)
    print("loss after 1000 steps:", round(losses[-1], 2))
    return loss, losses


# ---- higher_order -------------------------------------------------------------------------------
@define_lesson(
    "higher_order", "7 · higher order", "7. Higher-order derivatives and Jacobians",
    "`torch.autograd.grad(y, x, create_graph=True)` returns dy/dx as a tensor *with its own "
    "graph*, so you can differentiate it again. For y = x³ at x = 3: dy/dx = 3x² = 27 and "
    "d²y/dx² = 6x = 18. `torch.autograd.functional.jacobian` stacks the gradients of every output "
    "element; `hessian` the second derivatives of a scalar.",
    expect=("dy/dx   = 3x² = 27.0", "d²y/dx² = 6x  = 18.0", "tensor([[2., 0., 0.],",
            "[ 6.,  0.]"),
    graph=LessonGraph(lambda x: x ** 3, {"x": 3.0}, "y = x³"),
    seed="Chapter 3: custom gradients, higher-order derivatives, and Jacobians",
    takeaway="The graph is dy/dx itself: the backward pass of x³, recorded as a graph.")
def lesson_higher_order():
    x = torch.tensor(3.0, requires_grad=True)
    y = x ** 3

    # create_graph=True records the backward pass too,
    # so the gradient can be differentiated again.
    (dy,) = torch.autograd.grad(y, x, create_graph=True)
    (d2y,) = torch.autograd.grad(dy, x)
    print("dy/dx   = 3x² =", dy.item())
    print("d²y/dx² = 6x  =", d2y.item())

    # Jacobian: each output's gradient w.r.t. each input.
    def f(v):
        return v ** 2

    J = torch.autograd.functional.jacobian(f, torch.tensor([1.0, 2.0, 3.0]))
    print(J)

    # Hessian: the matrix of second derivatives.
    H = torch.autograd.functional.hessian(lambda v: (v ** 3).sum(), torch.tensor([1.0, 2.0]))
    print(H)
    return dy


# ---- custom_function ----------------------------------------------------------------------------
@define_lesson(
    "custom_function", "8 · custom Function", "8. A custom autograd.Function",
    "Subclass `torch.autograd.Function` to define an operation with your own `forward` and "
    "`backward`. `ctx.save_for_backward` keeps what backward needs; backward receives the "
    "upstream gradient and returns one gradient per input. `gradcheck` verifies it against finite "
    "differences.",
    expect=("y = 10.0", "x.grad = tensor(13.)", "gradcheck: True"),
    seed="Chapter 3: custom gradients",
    takeaway="The custom op appears in the graph under its own name.")
def lesson_custom_function():
    # A new op with a hand-written backward: x³ -> 3x²
    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x ** 2

    x = torch.tensor(2.0, requires_grad=True)
    y = Cube.apply(x) + x
    y.backward()
    print("y =", y.item())
    print("x.grad =", x.grad)

    # gradcheck: backward vs finite differences (float64)
    xs = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    print("gradcheck:", torch.autograd.gradcheck(Cube.apply, (xs,)))
    return y


_BY_ID = {lesson.id: lesson for lesson in LESSONS}


def get(lesson_id: str) -> Lesson | None:
    return _BY_ID.get(str(lesson_id))


# =================================================================================================
# showing and running a lesson
# =================================================================================================
def source_of(fn: Callable) -> str:
    """The function's body as a standalone PyTorch script: imports first, no def line, no final return."""
    src = textwrap.dedent(inspect.getsource(fn))
    lines = src.splitlines()
    i = 0
    while not lines[i].lstrip().startswith("def "):   # decorators
        i += 1
    while not lines[i].rstrip().endswith(":"):          # a multi-line signature
        i += 1
    body = textwrap.dedent("\n".join(lines[i + 1:])).rstrip().splitlines()
    while body and (body[-1].startswith("return") or not body[-1].strip()):
        body.pop()
    text = "\n".join(body)
    imports = ["import torch"]
    if "nn." in text:
        imports.append("import torch.nn as nn")
    if "optim." in text.replace("torch.optim.", ""):
        imports.append("import torch.optim as optim")
    return "\n".join(imports) + "\n\n" + text + "\n"


_RUN_LOCK = threading.Lock()


@dataclass
class LessonRun:
    lesson: Lesson
    output: str = ""                               # what the code printed
    tensors: list = field(default_factory=list)    # what it returned to draw
    curve: list | None = None                      # the loss per step, if it trains
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run(lesson: Lesson) -> LessonRun:
    """Call the lesson's code with stdout captured; collect what it printed and returned."""
    buf = io.StringIO()
    out = LessonRun(lesson)
    seen: dict = {}

    def keep_locals(frame, event, arg):  # the lesson's variables at its return, to label the graph
        if event == "return" and frame.f_code is lesson.code.__code__:
            seen.update(frame.f_locals)

    with _RUN_LOCK:  # stdout redirection is process-wide: one lesson at a time across sessions
        ret = _call(lesson, buf, out, keep_locals)
    _name_tensors(seen)
    out.output = buf.getvalue()
    for item in (ret if isinstance(ret, tuple) else (ret,)):
        if isinstance(item, torch.Tensor):
            out.tensors.append(item)
        elif isinstance(item, list) and item and all(isinstance(v, float) for v in item):
            out.curve = item
    return out


def _call(lesson: Lesson, buf, out: LessonRun, profiler):
    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        with contextlib.redirect_stdout(buf):
            ret = lesson.code()
    except Exception as e:  # a lesson must never take the page down: show the error instead
        out.error = f"{type(e).__name__}: {e}"
        ret = None
    finally:
        sys.setprofile(previous)
    return ret


def _name_tensors(variables: dict) -> None:
    """Label tensors (and modules' parameters) by the variable names the lesson gave them."""
    for name, v in variables.items():
        if isinstance(v, torch.Tensor) and getattr(v, "name", None) is None:
            v.name = name
        elif isinstance(v, nn.Module):
            for pname, p in v.named_parameters():
                if getattr(p, "name", None) is None:
                    p.name = pname


def missing_lines(lesson: Lesson, output: str) -> list[str]:
    """The expected fragments (what the seed shows) that the output does not contain."""
    return [e for e in lesson.expect if e not in output]


def curve_points(curve: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """(step, loss) arrays for a loss curve."""
    y = np.asarray(curve, dtype=float)
    return np.arange(1, len(y) + 1), y


def curve_figure(curve: list[float], title: str = "loss per step"):
    """The lesson's loss curve, replayable ('▶ train'): vizgrad.plot.curves.replay_curve."""
    from vizgrad.plot.curves import replay_curve  # plotly only when drawing: the content stays engine-only
    steps, loss = curve_points(curve)
    return replay_curve(steps, loss, title=title, y_title="|x·y − 200|")
