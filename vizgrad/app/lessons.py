"""The Lessons page's model: a guided tour of autograd, built from the seed chapters (no UI here).

A lesson is one block below: `@define_lesson(...)` with its text, what its output must show, the
moment its graph shows and (optionally) its graph function for the Walkthrough, on top of a
function whose body is PyTorch code written against `torch`, which in this module *is* vizgrad.
Adding a lesson is adding one such block; the page, the Walkthrough's menu and the tests pick it up
from LESSONS (in the order of the blocks).

The page shows the function's body as a script (`Lesson.source`: dedented, decorator, def line and
final `return` dropped, `import torch` added) and runs it by calling the function with stdout
captured (`run(lesson)`); nothing is ever exec'd or eval'd. The same source text runs unchanged on
real PyTorch (tests/test_lessons.py checks that both print the same thing).

    from vizgrad.app.lessons import LESSONS, get, run, drawn_graph
    r = run(get("backward"))
    r.output          # 'Gradient of x:  tensor(4.)\\n...'
    r.tensors         # the tensors the lesson returns; the first is its graph's root
    drawn_graph(r)    # that graph (vizgrad.graph.trace), what the page draws
    r.curve           # a list of floats (the loss per step) for lessons that train

One lesson, one graph, one moment. What the code returns is drawn as it stands when the code ends,
and the code is written so that this is one consistent moment (`Lesson.moment`, e.g. "after
backward", "after step 1000"): every value and every gradient in the picture belongs to it. (A
graph whose leaves an optimizer has moved since its forward pass, or whose leaves still hold the
gradients of an earlier backward, would not be; the lessons end on a fresh forward pass instead.)

A lesson's *graph function* (LessonGraph) rebuilds that same graph from its named leaves, so the
Walkthrough page can step through it and check it with finite differences
(`vizgrad.app.walkthrough.from_lesson`). Its leaves are the drawn graph's, at the drawn values
(`leaves_of`: read off a run of the lesson, so "after step 1000" needs no copied numbers), and it
names the tensors the lesson's code names, so both pages label every node alike.
tests/test_lessons_graphs.py checks, for every lesson, that the walkthrough opens exactly the drawn
graph and that the drawn values and gradients are those the engine (and PyTorch) computes.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import io
import sys
import textwrap
import threading
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import vizgrad as torch  # the lessons are PyTorch code; here `torch` is vizgrad
from vizgrad.graph import trace
from vizgrad.graph.steps import name_nodes as _name_nodes  # the walkthrough's one name per node

nn = torch.nn
optim = torch.optim


# =================================================================================================
# what a lesson is, and the block that defines one
# =================================================================================================
@dataclass(frozen=True)
class LessonGraph:
    """A lesson's graph for the walkthrough: fn(**leaves) -> the scalar tensor the lesson draws.

    values: {leaf label: value}, or a function returning that dict (`leaves_of(lesson id)`: the
    values the lesson's code reaches only by running it, e.g. after an optimizer step)."""
    fn: Callable
    values: dict | Callable
    title: str

    @property
    def leaves(self) -> dict:
        """{leaf label: value} to call fn with (a fresh dict each time)."""
        return dict(self.values() if callable(self.values) else self.values)


@dataclass(frozen=True)
class Lesson:
    id: str
    short: str                   # tab label
    title: str
    text: str                    # markdown, a short paragraph or two
    code: Callable               # the lesson's code (see module docstring)
    expect: tuple = ()           # lines (or fragments) the seed chapter shows in the output
    graph: LessonGraph | None = None
    seed: str = ""               # where the example comes from: a seed chapter, a lecture, PyTorch's docs
    takeaway: str = ""
    moment: str = ""             # which moment the drawn graph shows: "after backward", "after step 3" ...
    highlight: tuple = ()        # node labels or op names (e.g. "PowBackward0") the takeaway points at

    @property
    def source(self) -> str:
        return source_of(self.code)


LESSONS: list[Lesson] = []       # in the order of the blocks below


def define_lesson(id: str, short: str, title: str, text: str, *, moment: str, expect: tuple = (),
                  graph: LessonGraph | None = None, seed: str = "", takeaway: str = "",
                  highlight: tuple = ()) -> Callable:
    """Decorator: the function below is this lesson's code (see the module docstring)."""
    def add(code: Callable) -> Callable:
        LESSONS.append(Lesson(id, short, title, text, code, expect, graph, seed, takeaway, moment, highlight))
        return code
    return add


def _named(t, name: str):
    """t, labelled `name` in drawn graphs (vizgrad's Tensor.name): a graph function labels the
    tensors that the lesson's code names, so the lesson and the walkthrough label them alike."""
    t.name = name
    return t


def leaves_of(lesson_id: str) -> Callable[[], dict]:
    """The drawn graph's leaves that require grad, {label: value}, from a run of the lesson (run
    once; the values are copied for each caller)."""
    return lambda: {label: value.copy() for label, value in _reached(lesson_id)}


@functools.lru_cache(maxsize=None)
def _reached(lesson_id: str) -> tuple:
    r = run(get(lesson_id))
    if not r.tensors:
        raise RuntimeError(f"lesson {lesson_id!r} drew no graph: {r.error}")
    g = drawn_graph(r)
    return tuple((d["label"], d["value"]) for _, d in g.nodes(data=True)
                 if d["kind"] == "tensor" and d["is_leaf"] and d["requires_grad"])


# =================================================================================================
# the lessons: each body is a script; `return` hands the page what to draw
# =================================================================================================
# ---- graph --------------------------------------------------------------------------------------
def _doubling_graph(x, y):
    z = _named(x ** 2 + y ** 3, "z")
    w = z
    while w < 100:
        w = w * 2
    return _named(w, "w")


@define_lesson(
    "graph", "1 · requires_grad", "1. requires_grad and the dynamic graph",
    "A tensor created with `requires_grad=True` is a **leaf** that autograd tracks. Every operation "
    "on it records a node in a graph, while your code runs: there is no separate \"compile\" step, "
    "and ordinary Python (`if`, `while`) decides the graph's shape each time. The result remembers "
    "the operation that made it in `grad_fn`.",
    moment="after the forward pass (no backward yet: no gradients anywhere)",
    expect=("tensor(31., grad_fn=<AddBackward0>)", "z.grad_fn: AddBackward0"),
    graph=LessonGraph(_doubling_graph, {"x": 2.0, "y": 3.0}, "w: z = x² + y³ doubled while below 100"),
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
    moment="after z.backward()",
    expect=("Gradient of x:  tensor(4.)", "Gradient of y:  tensor(27.)", "tensor([1., 1., 1.])",
            "tensor([3.])", "tensor([2.])", "tensor([1.])"),
    graph=LessonGraph(lambda x, y: _named(x ** 2 + y ** 3, "z"), {"x": 2.0, "y": 3.0}, "z = x² + y³"),
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
    moment="after c.backward()",
    expect=("Gradient of a: tensor(6.)", "Gradient of b: None", "d requires grad: False"),
    graph=LessonGraph(lambda a, b: _named(a ** 2 + b.detach() ** 3, "c"), {"a": 3.0, "b": 4.0},
                      "c = a² + detach(b)³"),
    seed="Autograd in PyTorch, 3. Detaching Tensors",
    takeaway="b is not in the graph at all: detach(b)³ = 64 enters as a constant, so its edge carries no "
             "gradient and b.grad stays None. Only a's path (∂c/∂a = 2a = 6) is differentiated.")
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
    moment="after the last step's y.backward() (with zero_grad)",
    expect=("x.grad = tensor(4.)", "x.grad = tensor(8.)", "x.grad = tensor(12.)"),
    graph=LessonGraph(lambda x: _named(x ** 2, "y"), {"x": 2.0}, "y = x²"),
    seed="AutoGradPyTorch, Gradient Accumulation; Dracula's training loop",
    takeaway="Each backward adds 2x = 4 to x.grad. With zero_grad() before it, x.grad is this graph's own 4; "
             "without it, after three passes x.grad held 12: three graphs' gradients added up.")
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
def _training_graph(**params):
    """The lesson's loss as a function of its parameters (labelled as the lesson's code labels them)."""
    weight, bias = params["fc.weight"], params["fc.bias"]
    input_data = torch.tensor([[1.0]], dtype=weight.dtype, name="input_data")
    target_data = torch.tensor([[2.0]], dtype=weight.dtype, name="target_data")
    output = nn.functional.linear(input_data, weight, bias)
    return _named(nn.functional.mse_loss(output, target_data), "loss")


@define_lesson(
    "training", "5 · a training step", "5. A training step: nn.Linear, MSELoss, SGD",
    "A network's weights are leaves too (`nn.Parameter` has `requires_grad=True`). One training "
    "step is: forward pass, loss, `optimizer.zero_grad()`, `loss.backward()` to fill every "
    "weight's `.grad`, then `optimizer.step()` to move each weight against its gradient "
    "(`w ← w − lr · w.grad`): here 0.5 − 0.1 · (−3) = 0.8 and 0 − 0.1 · (−3) = 0.3.",
    moment="after step 1: zero_grad(), then the forward pass at the new weights (no backward yet)",
    expect=("loss before: 2.25", "weight grad: tensor([[-3.]])", "bias grad: tensor([-3.])",
            "weight after: tensor([[0.8000]])", "loss after:  0.81", "weight grad now: None"),
    graph=LessonGraph(_training_graph, leaves_of("training"), "MSE loss of nn.Linear(1, 1) after one SGD step"),
    seed="Autograd in PyTorch, 4. Autograd in Neural Networks",
    takeaway="The graph is the next step's forward pass: the weights moved to 0.8 and 0.3, the loss fell from "
             "2.25 to (0.8 + 0.3 − 2)² = 0.81, and zero_grad() has cleared the old gradients, so none is shown "
             "until this loss's backward (open the walkthrough to run it).")
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

    # The next step: clear the gradients, the same input again.
    optimizer.zero_grad()
    loss = criterion(net(input_data), target_data)
    print("loss after: ", round(loss.item(), 4))
    print("weight grad now:", net.fc.weight.grad)
    return loss


# ---- xy200 --------------------------------------------------------------------------------------
def _xy_graph(x, y):
    output = _named(x * y, "output")
    return _named(torch.abs(output - 200), "loss")


@define_lesson(
    "xy200", "6 · x·y → 200", "6. Drive x · y to 200",
    "The Dracula chapter's loop: two numbers, x = 5 and y = 10, and the loss |x·y − 200|. "
    "Each step computes the loss, backpropagates, lets SGD nudge x and y, and zeroes the "
    "gradients. The loss falls in a straight line (the gradient of |·| has constant size), "
    "then x·y hovers around 200. (The first `z.backward()` leaves gradients that the first "
    "step adds to — lesson 4 in action.)",
    moment="after step 1000: the loss at the final x and y, and its backward",
    expect=("x: tensor([", "y: tensor([", "output: tensor([", "requires_grad=True)", "x.grad: tensor(["),
    graph=LessonGraph(_xy_graph, leaves_of("xy200"), "loss = |x·y − 200| at the final x, y"),
    seed="Chapter 5: The Code That Brought Dracula's Story to Life",
    takeaway="The curve is the loss at each of the 1000 steps, each measured before its step's update (3.1 at "
             "step 1000). The graph "
             "is the loss where the updates left x and y: x·y just above 200, so ∂loss/∂x = y and ∂loss/∂y = x.")
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
    print("loss at step 1000:", round(losses[-1], 2))

    # Where the updates left x and y: the loss, its gradients
    output = x * y
    loss = torch.abs(output - 200)
    loss.backward()
    print("x:", x)
    print("y:", y)
    print("output:", output)
    print("loss now:", round(loss.item(), 4))
    print("x.grad:", x.grad, " y.grad:", y.grad)
    return loss, losses


# ---- higher_order -------------------------------------------------------------------------------
def _gradient_graph(x):
    """dy/dx of y = x³ as a tensor with its own graph (create_graph=True)."""
    with torch.enable_grad():  # finite differences call this with a plain x: dy/dx still needs a graph
        leaf = x if x.requires_grad else x.detach().requires_grad_(True)
        (dy,) = torch.autograd.grad(leaf ** 3, leaf, create_graph=True)
    return _named(dy, "dy")


@define_lesson(
    "higher_order", "7 · higher order", "7. Higher-order derivatives and Jacobians",
    "`torch.autograd.grad(y, x, create_graph=True)` returns dy/dx as a tensor *with its own "
    "graph*: the backward pass of y is recorded like any other computation, so you can "
    "differentiate it again. For y = x³ at x = 3: dy/dx = 3x² = 27, and `dy.backward()` puts "
    "d²y/dx² = 6x = 18 in x.grad. `torch.autograd.functional.jacobian` stacks the gradients of "
    "every output element; `hessian` the second derivatives of a scalar.",
    moment="after dy.backward(): the graph of the gradient dy/dx, differentiated again",
    expect=("dy/dx   = 3x² = 27.0", "d²y/dx² = 6x  = 18.0", "tensor([[2., 0., 0.],",
            "[ 6.,  0.]"),
    graph=LessonGraph(_gradient_graph, {"x": 3.0}, "dy/dx of y = x³ (create_graph=True)"),
    seed="Chapter 3: custom gradients, higher-order derivatives, and Jacobians",
    takeaway="The graph is dy/dx itself, 3 · x² = 27, the backward pass of x³ recorded as ops; its own backward "
             "sends 3 · 2x = 18 to x. y = x³ is not in it: the gradient needs only x.")
def lesson_higher_order():
    x = torch.tensor(3.0, requires_grad=True)
    y = x ** 3

    # create_graph=True records the backward pass too: the
    # gradient has a graph, and can be differentiated again.
    (dy,) = torch.autograd.grad(y, x, create_graph=True)
    print("dy/dx   = 3x² =", dy.item())
    dy.backward()
    print("d²y/dx² = 6x  =", x.grad.item())

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
    moment="after y.backward()",
    expect=("y = 10.0", "x.grad = tensor(13.)", "gradcheck: True"),
    seed="Chapter 3: custom gradients",
    takeaway="The custom op appears in the graph under its own name. x is used twice (in Cube and in +), so "
             "x.grad = 3x² + 1 = 13 is the sum of its two edges.")
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


# ---- fan_out ------------------------------------------------------------------------------------
@define_lesson(
    "fan_out", "9 · += (fan-out)", "9. A tensor used twice: its gradients add up (+=)",
    "When a tensor feeds more than one op (or the same op twice), each use sends back its own "
    "contribution, and backward **adds** them: `.grad += contribution`. In `b = a + a` the two "
    "edges from a into + each carry ∂b/∂a = 1, so a.grad = 1 + 1 = 2. Karpathy's micrograd lecture "
    "shows the classic bug: a backward written with `=` instead of `+=` keeps only the last "
    "contribution and reports a.grad = 1, half the true gradient.",
    moment="after b.backward()",
    expect=("b = 6.0", "a.grad = tensor(2.)", "with += : 2.0", "with =  : 1.0"),
    graph=LessonGraph(lambda a: _named(a + a, "b"), {"a": 3.0}, "b = a + a"),
    seed="micrograd lecture (Karpathy): the b = a + a accumulation bug",
    highlight=("a",),
    takeaway="Two edges leave a (highlighted), both into +: in the walkthrough a.grad gets 1 from the first, "
             "then 1 more (+=) from the second. With `=` the second would overwrite the first.")
def lesson_fan_out():
    a = torch.tensor(3.0, requires_grad=True)
    b = a + a       # a is used twice: two edges into +
    b.backward()
    print("b =", b.item())
    print("a.grad =", a.grad)

    # At a, backward ADDS what each edge sends (db/da = 1).
    edges = [1.0, 1.0]
    grad = 0.0
    for contribution in edges:
        grad += contribution
    print("with += :", grad)

    # The bug: `=` keeps only the last edge's contribution.
    grad = 0.0
    for contribution in edges:
        grad = contribution
    print("with =  :", grad)
    return b


# ---- retain_grad --------------------------------------------------------------------------------
def _retain_graph(x):
    h = _named(x * 3, "h")
    h.retain_grad()
    return _named(h ** 2, "y")


@define_lesson(
    "retain_grad", "10 · retain_grad", "10. The gradient of an intermediate: retain_grad()",
    "Only leaves keep their gradient in `.grad`. An intermediate tensor's gradient is computed "
    "during backward (the chain rule needs it on the way to the leaves) and then dropped, so its "
    "`.grad` stays `None` (PyTorch warns when you read it). Call `h.retain_grad()` before "
    "backward to keep it: for h = 3x and y = h² at x = 2, h.grad = ∂y/∂h = 2h = 12, and "
    "x.grad = ∂y/∂h · ∂h/∂x = 12 · 3 = 36.",
    moment="after y.backward()",
    expect=("h.is_leaf: False", "h.grad = tensor(12.)", "x.grad = tensor(36.)", "without retain_grad: None"),
    graph=LessonGraph(_retain_graph, {"x": 2.0}, "y = h², h = 3x"),
    seed="PyTorch autograd: Tensor.retain_grad",
    highlight=("h",),
    takeaway="The graph shows the gradient reaching every node, h's (highlighted) included: that is what backward "
             "computes on its way to x. Only with retain_grad() does h.grad keep it after backward.")
def lesson_retain_grad():
    x = torch.tensor(2.0, requires_grad=True)
    h = x * 3           # an intermediate: not a leaf
    h.retain_grad()     # keep its gradient after backward
    y = h ** 2
    y.backward()
    print("h.is_leaf:", h.is_leaf)
    print("h.grad =", h.grad)
    print("x.grad =", x.grad)

    # Without retain_grad, an intermediate's .grad is None.
    x2 = torch.tensor(2.0, requires_grad=True)
    h2 = x2 * 3
    (h2 ** 2).backward()
    print("without retain_grad:", h2.grad)
    return y


# ---- backward_twice -----------------------------------------------------------------------------
@define_lesson(
    "backward_twice", "11 · backward twice", "11. Backward twice: retain_graph",
    "To compute a local derivative an op keeps what it needs from the forward pass: `x ** 2` "
    "keeps x (its derivative is 2x). The first `backward()` uses these saved tensors and then "
    "**frees** them, to save memory, so a second backward through the same graph has nothing to "
    "work with and PyTorch raises the error below. Pass `retain_graph=True` to keep them for "
    "another pass (the two passes' gradients then add up in `.grad`, as in lesson 4).",
    moment="after the first y.backward() (the second one raised)",
    expect=("x.grad = tensor(6.)", "RuntimeError: Trying to backward through the graph a second time",
            "Specify retain_graph=True", "w.grad = tensor(12.)"),
    graph=LessonGraph(lambda x: _named(x ** 2, "y"), {"x": 3.0}, "y = x²"),
    seed="PyTorch autograd: retain_graph",
    highlight=("PowBackward0",),
    takeaway="The highlighted op node, PowBackward0 (**2), held the saved x it needs for 2x = 6. The first "
             "backward used it and freed it; the second found it gone. The gradients drawn are the first pass's.")
def lesson_backward_twice():
    x = torch.tensor(3.0, requires_grad=True)
    y = x ** 2      # PowBackward0 saves x (dy/dx = 2x)
    y.backward()
    print("x.grad =", x.grad)

    # Again through the same graph: the saved x was freed.
    try:
        y.backward()
    except RuntimeError as err:
        print("RuntimeError:", err)

    # retain_graph=True keeps them for another pass.
    w = torch.tensor(3.0, requires_grad=True)
    v = w ** 2
    v.backward(retain_graph=True)
    v.backward()
    print("w.grad =", w.grad)
    return y


# ---- forward_reverse ----------------------------------------------------------------------------
def _colah_graph(a, b):
    c = _named(a + b, "c")
    d = _named(b + 1, "d")
    return _named(c * d, "e")


@define_lesson(
    "forward_reverse", "12 · forward vs reverse", "12. Forward mode and reverse mode",
    "colah's example: e = (a + b) · (b + 1) at a = 2, b = 1, with c = a + b = 3 and d = b + 1 = 2. "
    "Each edge has a local derivative: ∂c/∂a = 1, ∂c/∂b = 1, ∂d/∂b = 1, ∂e/∂c = d = 2, "
    "∂e/∂d = c = 3. A derivative is the sum over paths of the edges' products: "
    "∂e/∂b = 2 · 1 + 3 · 1 = 5, ∂e/∂a = 2 · 1 = 2.\n\n"
    "**Forward mode** pushes the derivative with respect to *one input* forward along the edges: "
    "one pass per input (here two). **Reverse mode** — `backward()` — pulls ∂e/∂(node) back from "
    "the output: one pass per output gives the derivative for *every* input at once. A loss is one "
    "output and a network has millions of inputs, which is why training uses reverse mode.",
    moment="after e.backward()",
    expect=("reverse: de/da = 2.0  de/db = 5.0", "forward, seed a: de/da = 2.0",
            "forward, seed b: de/db = 5.0", "jvp: tensor(5.)"),
    graph=LessonGraph(_colah_graph, {"a": 2.0, "b": 1.0}, "e = (a + b) · (b + 1)"),
    seed="colah, Calculus on Computational Graphs: Backpropagation",
    takeaway="In the walkthrough, reverse mode is the backward pass: one sweep from e fills a.grad = 2 and "
             "b.grad = 5 (b fans out, so its two paths add up).")
def lesson_forward_reverse():
    a = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(1.0, requires_grad=True)
    c = a + b
    d = b + 1
    e = c * d

    # Reverse mode: ONE backward pass from e gives the
    # derivative for every input.
    e.backward()
    print("reverse: de/da =", a.grad.item(), " de/db =", b.grad.item())

    # Forward mode: one pass PER INPUT. Start from the seed
    # d(input)/d(input) = 1 and carry d(node)/d(input)
    # forward, edge by edge.
    def forward_pass(da, db):
        dc = 1 * da + 1 * db   # dc/da = 1, dc/db = 1
        dd = 1 * db            # dd/db = 1
        # de/dc = d, de/dd = c
        return d.item() * dc + c.item() * dd

    print("forward, seed a: de/da =", forward_pass(1.0, 0.0))
    print("forward, seed b: de/db =", forward_pass(0.0, 1.0))

    # PyTorch's Jacobian-vector product: the seeded pass.
    def f(a, b):
        return (a + b) * (b + 1)

    seed_b = (torch.tensor(0.0), torch.tensor(1.0))
    _, de_db = torch.autograd.functional.jvp(f, (a, b), seed_b)
    print("jvp:", de_db)
    return e


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
    warnings: list = field(default_factory=list)   # what it warned (PyTorch prints these to stderr)

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

    # stdout redirection and the warning filters are process-wide: one lesson at a time across sessions
    # (a warning another session's thread raises meanwhile may land in this lesson's list)
    with _RUN_LOCK:
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
        with contextlib.redirect_stdout(buf), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ret = lesson.code()
        out.warnings = [f"{w.category.__name__}: {w.message}" for w in caught]
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


def highlighted(lesson: Lesson, g) -> set:
    """The node ids of graph g that the lesson's `highlight` names (by label, or by op name)."""
    return {n for n, d in g.nodes(data=True) if d["label"] in lesson.highlight or d.get("op") in lesson.highlight}


def graph_of(root):
    """The graph behind a tensor as it stands now (vizgrad.graph.trace), its nodes named as the
    walkthrough names them."""
    g = trace(root)
    return _name_nodes(g, None)


def drawn_graph(r: LessonRun):
    """The graph the page draws for a run: the one behind the first tensor the lesson returns, at
    the lesson's moment (graph_of). None when the lesson drew nothing."""
    return graph_of(r.tensors[0]) if r.tensors else None
