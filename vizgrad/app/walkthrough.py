"""The Backprop Walkthrough page's model: what it steps through, and what it shows at each step
(no streamlit here). The chain-rule step model itself (what one forward or backward step records)
is the graph wing's `vizgrad.graph.steps`; this module picks the source, bounds it, builds the
walk and checks its result.

A *source* is a scalar computation with named leaves: an expression (from the Expression
Playground's URL state or its examples), a small network (a 2-3-1 MLP), or a lesson's graph.

    src = from_query({"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"})   # or {"lesson": "backward"}, {"net": "mlp"}
    w = prepare(src)             # Walk: the steps, the traced graph, the final comparison
    figs = step_figure(w, k, st.context.headers)   # [(figure, media)]: the graph at step k (its op highlighted)
    anims = backward_figure(w, st.context.headers) # the whole backward pass, animated edge by edge (in the browser)
    running_grads(w, k)          # rows: the gradient each tensor has accumulated so far
    w.comparison                 # rows: walkthrough vs .backward() vs finite differences, ✓/✗

Every problem (a bad expression, an unknown lesson) becomes `Source.error`, a sentence for
the page; nothing raises out of `from_query` or `prepare`.

Bounds (the page serves untrusted links): a walk keeps every step's numbers, so `prepare` first
counts the graph on the engine's side (`vizgrad.graph.steps.graph_size`) and refuses one with more
than MAX_STEPS steps or more than MAX_STORED_ELEMENTS stored numbers before tracing anything; an
expression is evaluated under the same element budget (WALK_LIMITS). The finite-difference check
evaluates the function at most MAX_FD_EVALUATIONS times per walk (and within MAX_FD_WORK), on a
deterministic sample of elements when the leaves are bigger. The Walk refers to no tensor or
engine node and has no reference cycles: dropping it frees its arrays at once.

Heavy work (issue 17): a graph of HEAVY_NODES (VIZGRAD_WALK_HEAVY_NODES) nodes or more is walked,
and its backward animation drawn, in a slot of the server's one limiter for heavy work
(vizgrad.app.limiter.HEAVY; a code source's sandbox run takes one too). The page passes
`waiting=` (the visitor's place while queued); a Walk with busy=True was not built because no
slot came: the page says so and offers to try again (it must not keep that Walk).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

import vizgrad as vg
from vizgrad import graph as vgraph
from vizgrad.expr import DEFAULT_LIMITS, ExprError, Variable, evaluate
from vizgrad.graph import format_value
from vizgrad.app import lessons
from vizgrad.app import limiter as heavy
from vizgrad.app.expression import EXAMPLES, State, run
from vizgrad.app.markdown import plain
from vizgrad.autograd.gradcheck import central_differences as _array_central_differences
# the sampling rules the check uses, named here too (this module's API before the fold)
from vizgrad.autograd.gradcheck import fd_sample, fd_shares, sampled_central_differences  # noqa: F401
from vizgrad.autograd.gradcheck import INFINITE_NOTE, fd_agrees, fd_step_and_tolerance, magnitude
from vizgrad.tensor import Tensor
from vizgrad.graph import steps as vwalk
from vizgrad.graph.steps import Step, final_grads, steps  # noqa: F401  (steps: part of this module's API)

NETWORKS = {"mlp": "A 2-3-1 MLP (tanh) with MSE loss on 4 points"}
# The budgets (their defaults and VIZGRAD_WALK_* overrides) are in vizgrad/app/budgets.py, read at import.
from vizgrad.app import budgets  # noqa: E402  (here: the constants block is this module's one room for them)
MAX_STEPS = budgets.value("WALK_MAX_STEPS")   # longer graphs are refused: stepping through them teaches nothing
# A walk keeps, across its steps, values, contributions, local derivatives and running gradients
# (references where the numbers already exist, new arrays where they are new). Its upper bound
# (walkthrough.graph_size) may be at most this many numbers: 2e6 float32/float64 values are 8-16 MB
# per session at most; a graph is refused before it is traced when it would need more.
MAX_STORED_ELEMENTS = budgets.value("WALK_MAX_STORED_ELEMENTS")
# An expression for the walkthrough may compute at most this much (the expression language's
# weighted element operations; the Expression Playground allows the EXPR_MAX_WORK budget), so that
# evaluating a link the walk then refuses costs little too.
WALK_LIMITS = replace(budgets.expr_limits(), max_work=min(budgets.value("EXPR_MAX_WORK"), MAX_STORED_ELEMENTS))
# The finite-difference check: at most this many evaluations of the source's function per walk (two
# per checked element), and at most MAX_FD_WORK elements computed by them together (each evaluation
# recomputes the whole graph, about GraphSize.forward elements); beyond that, a sample of elements.
MAX_FD_EVALUATIONS = budgets.value("WALK_MAX_FD_EVALUATIONS")
MAX_FD_WORK = budgets.value("WALK_MAX_FD_WORK")
# A graph of this many nodes (tensors and ops) or more is heavy work: its walk is built, and its backward
# animation drawn, in a slot of the server's limiter (vizgrad.app.limiter.HEAVY, shared with training and
# Code runs). The animation is what costs: about 1 s of CPU at 40 nodes, 2.5 s at 110, 7 s at 250 (this
# 2-core machine); a step's figure and the walk itself stay under about 0.2 s.
HEAVY_NODES = budgets.value("WALK_HEAVY_NODES")
FD_TOL = 1e-2             # relative tolerance of the finite-difference check (float32 analytic grads)


@dataclass
class Source:
    kind: str                                    # "expr" | "net" | "lesson" | "code"
    title: str
    query: dict = field(default_factory=dict)    # URL params that reopen this source (without step)
    root: Tensor | None = None
    leaves: dict = field(default_factory=dict)   # label -> leaf tensor that requires grad
    params: dict | None = None                   # names for trace (parameters)
    f: Callable | None = None                    # {label: ndarray} -> float, for finite differences
    error: str | None = None
    warnings: list = field(default_factory=list)
    note: str = ""                               # one line about what this is
    f_eps: float = float(np.finfo(np.float64).eps)  # the precision f computes in (expressions: float32)
    graph: object = None                         # a recorded graph that came as data (the Code page's sandbox)
    busy: bool = False                           # not made: the server was busy (error says so; try again)

    @property
    def key(self) -> tuple:
        return tuple(sorted((str(k), str(v)) for k, v in self.query.items()))

    @property
    def ok(self) -> bool:
        return self.error is None and (self.root is not None or self.graph is not None)

    @property
    def kind_name(self) -> str:
        return {"expr": "the expression", "net": "the network", "lesson": "the lesson's graph",
                "code": "the graph made by"}[self.kind]


# ---- sources --------------------------------------------------------------------------------------
def from_state(state: State) -> Source:
    """An expression with its variables (the Expression Playground's state)."""
    query = state.to_query()
    out = run(state, limits=WALK_LIMITS, checks=False)
    vwalk.dispose(out.graph)  # the playground's traced graph: not needed here, and a cycle holding the engine's
    _drop_traceback(out.error)
    title = f"f = {state.expr}"
    if not out.ok:
        if out.error is not None and out.error.message.startswith("too much computation"):
            msg = (f"This expression is too big to walk through: the walkthrough keeps the numbers of every "
                   f"step, so it evaluates at most {WALK_LIMITS.max_work:,.0f} operations (the Expression "
                   f"Playground allows {DEFAULT_LIMITS.max_work:,.0f}). Try smaller tensors or a shorter expression.")
        elif out.error is not None:
            msg = f"The expression can't be evaluated: {out.error.message}"
            if out.error.col:
                msg += f" (column {out.error.col})"
        else:
            msg = "; ".join(out.var_errors.values()) or "The expression can't be evaluated."
        return Source("expr", title, query, error=msg)
    if out.graph is None:
        return Source("expr", title, query, error="Nothing in this expression requires grad, so there is no "
                                                  "backward pass to walk through. Mark a variable requires_grad.")
    res = out.result
    leaves = {n: t for n, t in res.inputs.items() if t.requires_grad}
    values = dict(out.values)
    expr = state.expr

    def f(vals: dict) -> float:
        variables = {n: Variable(vals.get(n, values[n]), state.vars[n].requires_grad) for n in values}
        o = evaluate(expr, variables, WALK_LIMITS).output
        return float(np.sum(np.asarray(o.detach().numpy(), dtype=np.float64)))

    note = "" if res.output.numel() == 1 else "The output is not a scalar: the walkthrough backpropagates its sum."
    return Source("expr", title, query, root=res.output, leaves=leaves, f=f, warnings=list(out.warnings), note=note,
                  f_eps=float(np.finfo(np.float32).eps))  # the expression language computes in float32


def _drop_traceback(err) -> None:
    """Forget where an error was raised: its traceback's frames (a reference cycle with the error) hold
    the partly evaluated tensors until a garbage collection. Only the message is needed."""
    seen, todo = set(), [err]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        e.__traceback__ = None
        todo += [e.__cause__, e.__context__]


def from_function(fn: Callable, leaves: dict, title: str, query: dict, kind: str = "lesson",
                  note: str = "") -> Source:
    """fn(**tensors) -> a scalar tensor, at the given leaf values (each leaf requires grad)."""
    tensors = {n: vg.tensor(np.asarray(v, dtype=np.float32), requires_grad=True, name=n) for n, v in leaves.items()}
    root = fn(**tensors)
    base = {n: np.asarray(v, dtype=np.float64) for n, v in leaves.items()}

    def f(vals: dict) -> float:  # leaves without requires_grad: nothing is recorded
        args = {n: vg.tensor(np.asarray(vals.get(n, base[n]), dtype=np.float64)) for n in base}
        return float(np.sum(fn(**args).detach().numpy()))

    return Source(kind, title, query, root=root, leaves=tensors, f=f, note=note)


_MLP_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_MLP_Y = np.array([[0.0], [1.0], [1.0], [0.0]])
_MLP_INIT = {
    "W1": [[0.5, -0.4], [0.3, 0.8], [-0.6, 0.2]], "b1": [0.1, -0.1, 0.0],
    "W2": [[0.7, -0.5, 0.4]], "b2": [0.05],
}


def _mlp_loss(W1, b1, W2, b2):
    X = vg.tensor(_MLP_X, dtype=W1.dtype, name="X")
    Y = vg.tensor(_MLP_Y, dtype=W1.dtype, name="Y")
    h = vg.tanh(X @ W1.T + b1)
    out = h @ W2.T + b2
    return ((out - Y) ** 2).mean()


def mlp() -> Source:
    """A 2-3-1 MLP, tanh hidden layer, MSE loss on the 4 XOR points (fixed weights)."""
    return from_function(_mlp_loss, _MLP_INIT, NETWORKS["mlp"], {"net": "mlp"}, kind="net",
                         note="loss = mean((tanh(X Wᵀ₁ + b₁) Wᵀ₂ + b₂ − Y)²), X the 4 XOR inputs, Y their labels")


def from_lesson(lesson_id: str) -> Source:
    lesson = lessons.get(lesson_id)
    if lesson is None:
        known = ", ".join(x.id for x in lessons.LESSONS)
        return Source("lesson", f"lesson {lesson_id}", {"lesson": lesson_id},
                      error=f"There is no lesson called '{lesson_id}'. Lessons: {known}.")
    query = {"lesson": lesson.id}
    moment = f"The lesson draws this graph {lesson.moment}." if lesson.moment else ""
    if lesson.graph is not None:
        try:  # some lessons read their leaf values off a run of the lesson's own code
            leaves = lesson.graph.leaves
        except Exception as e:  # noqa: BLE001 - a lesson that fails is a message, not a traceback
            return Source("lesson", lesson.title, query,
                          error=f"Lesson '{lesson.title}' could not be run for its graph: {type(e).__name__}: {e}")
        return from_function(lesson.graph.fn, leaves, f"{lesson.title}: {lesson.graph.title}", query, note=moment)
    # no pure graph: use what the lesson's code returns (no finite-difference check then)
    r = lessons.run(lesson)
    root = next((t for t in r.tensors if t.grad_fn is not None), None)
    if root is None:
        return Source("lesson", lesson.title, query, error=f"Lesson '{lesson.title}' has no graph to walk through.")
    g = vgraph.trace(root)
    leaves = {}
    for n, d in g.nodes(data=True):
        if d["kind"] == "tensor" and d["is_leaf"] and d["requires_grad"]:
            leaves[d["label"]] = None
    vwalk.dispose(g)
    return Source("lesson", lesson.title, query, root=root, leaves=leaves,
                  note=" ".join(x for x in (moment, "The graph the lesson's code returns (its leaves' .grad come "
                                                     "from the lesson's own backward).") if x))


def _code_query(params) -> dict:
    get = lambda k: str(params.get(k, "") or "")  # noqa: E731
    return {"code": get("code")[:8000], "var": get("var")[:100]}


def from_code(params, waiting: Callable[[int], None] | None = None) -> Source:
    """code=<compressed program>&var=<name>: the graph of one tensor the user's code made, run in the
    Code page's sandbox (vizgrad.app.code); it comes back as data, so there is no finite-difference check.
    The run waits for a slot of the server's limiter (`waiting(k)`: the visitor's place, see prepare)."""
    from vizgrad.app import code  # the sandbox runner: imported only when a code link is opened
    query = _code_query(params)
    try:
        g, title, err = code.graph_from_query(query, waiting=waiting)
    except heavy.QueueFull as e:
        return Source("code", "your code", query, error=str(e), busy=True)
    if err is None and g is not None:
        n_ops = sum(1 for _, d in g.nodes(data=True) if d.get("kind") == "op")
        if n_ops > MAX_STEPS // 2:
            err = (f"This graph has {n_ops} operations; the walkthrough steps through at most {MAX_STEPS // 2}. "
                   "Draw it on the Code page instead.")
    return Source("code", title, query, graph=g, error=err,
                  note="Run in the sandbox; its numbers came back as data (no finite-difference check).")


def from_example(index: int) -> Source:
    return from_state(State.from_example(index))


def from_query(params, waiting: Callable[[int], None] | None = None) -> Source:
    """The source a URL names: lesson=<id>, net=mlp, code=...&var=... (run in the sandbox: `waiting`
    hears its place in the server's queue), or expr=... with v.<name> and ng (the playground's)."""
    get = lambda k: str(params.get(k, "") or "")  # noqa: E731
    if get("lesson"):
        return from_lesson(get("lesson")[:100])
    if get("code"):
        return from_code(params, waiting)
    if get("net"):
        if get("net") in NETWORKS:
            return mlp()
        return Source("net", "network", {"net": get("net")[:100]},
                      error=f"Unknown network '{get('net')[:100]}'. Known: {', '.join(NETWORKS)}.")
    return from_state(State.from_query(params))


def normalize_query(params) -> dict:
    """The URL params that name a source, in one canonical form (so an unchanged URL is recognised)."""
    get = lambda k: str(params.get(k, "") or "")  # noqa: E731
    if get("lesson"):
        return {"lesson": get("lesson")[:100]}
    if get("code"):
        return _code_query(params)
    if get("net"):
        return {"net": get("net")[:100]}
    return State.from_query(params).to_query()


def query_key(params) -> tuple:
    """A hashable key for the source a URL names (the same as `from_query(params).key`, without building it)."""
    return tuple(sorted((str(k), str(v)) for k, v in normalize_query(params).items()))


def step_from_query(params, n_steps: int) -> int:
    """The 0-based step index for the URL's 1-based `step` (clamped; 0 when absent or not a number)."""
    try:
        k = int(str(params.get("step", "1")).strip()) - 1
    except ValueError:
        return 0
    return max(0, min(k, n_steps - 1))


# ---- the walk -------------------------------------------------------------------------------------
@dataclass
class LeafComparison:
    label: str
    walkthrough: np.ndarray | None
    backward: np.ndarray | None
    numeric: np.ndarray | None                   # finite differences (NaN at elements not sampled)
    matches_backward: bool
    matches_numeric: bool | None                 # None: no finite-difference check possible
    fd_checked: int = 0                          # elements compared with finite differences
    fd_elements: int = 0                         # the tensor's elements
    note: str = ""                               # why finite differences could not judge (an infinite slope)

    @property
    def sampled(self) -> bool:
        """Finite differences covered only some of the tensor's elements (the evaluation budget)."""
        return self.fd_checked < self.fd_elements


@dataclass
class Walk:
    # what the source is (kind, title, query, note, warnings): prepare() keeps a copy without its
    # tensors, parameters and function, so a Walk refers to nothing of the engine's graph
    source: Source
    steps: list[Step] = field(default_factory=list)
    graph: object = None                         # the traced graph (after backward), a walkthrough.PlainDiGraph
    checks: list[LeafComparison] = field(default_factory=list)
    error: str | None = None
    size: vwalk.GraphSize | None = None          # the graph as counted before the walk was built
    fd_evaluations: int = 0                      # evaluations the finite-difference check made
    busy: bool = False                           # not built: the server was busy (error says so; try again)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.steps)

    @property
    def n(self) -> int:
        return len(self.steps)

    @property
    def comparison(self) -> list[dict]:
        return comparison_rows(self.checks)

    @property
    def all_match(self) -> bool:
        return all(c.matches_backward and c.matches_numeric is not False for c in self.checks)

    @property
    def check_notes(self) -> list[str]:
        """Why some gradients could not be checked by finite differences, one sentence per tensor."""
        return [f"{c.label}: {c.note}." for c in self.checks if c.note]

    @property
    def fd_note(self) -> str:
        """A sentence when finite differences checked only a sample of the elements, else ''."""
        part = [c for c in self.checks if c.fd_elements and c.sampled]
        if not part:
            return ""
        checked = sum(c.fd_checked for c in self.checks if c.fd_elements)
        total = sum(c.fd_elements for c in self.checks if c.fd_elements)
        return (f"Finite differences sampled {checked:,} of {total:,} elements ({self.fd_evaluations:,} "
                f"evaluations of the function; the walkthrough makes at most {MAX_FD_EVALUATIONS:,} per graph).")


def _described(src: Source) -> Source:
    """The source without what holds the engine's graph (root, leaf tensors, parameters, function)."""
    return replace(src, root=None, leaves=dict.fromkeys(src.leaves), params=None, f=None, graph=None,
                   warnings=list(src.warnings))


def too_big(size: vwalk.GraphSize) -> str | None:
    """Why a graph of this size is not walked through (None when it is within the limits)."""
    if 2 * size.ops > MAX_STEPS:
        n = f"more than {MAX_STEPS}" if not size.complete else str(2 * size.ops)
        return (f"This graph has {n} steps; the walkthrough shows graphs of up to {MAX_STEPS}. "
                "Try a smaller expression.")
    if size.elements > MAX_STORED_ELEMENTS:
        more = "more than " if not size.complete else ""
        return (f"This graph is too big to walk through: its tensors (of up to {size.largest:,} numbers) would "
                f"make the walkthrough keep {more}{size.elements:,} numbers across its steps, and it keeps at "
                f"most {MAX_STORED_ELEMENTS:,}. Try smaller tensors or fewer operations.")
    return None


def prepare(src: Source, waiting: Callable[[int], None] | None = None, limiter: heavy.Limiter | None = None) -> Walk:
    """Run the source's backward pass step by step and check the result (within the module's bounds).
    A graph of HEAVY_NODES nodes or more is walked in a slot of `limiter` (default the server's HEAVY):
    `waiting(k)` hears the visitor's place while it waits (k runs ahead; 0 once the slot is got), and
    when no slot comes the Walk has busy=True and an error saying so (nothing raises out of prepare)."""
    w = Walk(_described(src))
    if not src.ok:
        w.error, w.busy = src.error, src.busy
        return w
    if src.graph is not None:  # a graph that came as data: walk it as it is (its size was checked)
        try:
            with heavy_slot(_nodes(src.graph), waiting, limiter):
                w.steps, w.graph = vwalk.walk_graph(src.graph), src.graph
        except heavy.QueueFull as e:
            return _busy(w, e)
        except Exception as e:  # noqa: BLE001 - a graph we cannot walk is a message
            w.steps, w.error = [], f"Could not walk through this graph: {e}"
        return w
    try:  # counted on the engine's graph: nothing is traced or copied for a graph that is refused
        w.size = vwalk.graph_size(src.root, max_ops=MAX_STEPS // 2, max_elements=MAX_STORED_ELEMENTS)
    except Exception as e:
        w.error = f"Could not walk through this graph: {e}"
        return w
    w.error = too_big(w.size)
    if w.error:
        return w
    try:
        with heavy_slot(w.size.ops + w.size.tensors, waiting, limiter):
            _build(src, w)
    except heavy.QueueFull as e:
        return _busy(w, e)
    return w


def _build(src: Source, w: Walk) -> None:
    """Trace the engine's graph, walk it, and check the walk's gradients (into w)."""
    g = None
    try:
        with np.errstate(all="ignore"):
            g = vwalk.traced(src.root, params=src.params, root_name="f" if src.kind == "expr" else "L")
            w.steps = vwalk.walk_graph(g)
        w.graph = vwalk.detached(g)
    except Exception as e:  # an engine failure is a message, never a crash
        w.steps = []
        w.error = f"Could not walk through this graph: {e}"
        return
    finally:
        vwalk.dispose(g)
    budget = min(MAX_FD_EVALUATIONS, MAX_FD_WORK // max(1, w.size.forward))
    w.checks, w.fd_evaluations = _checks(src, w.steps, w.graph, budget)


def _nodes(g) -> int:
    """The tensors and ops of a graph (module boxes are not drawn as nodes of the walk)."""
    return sum(1 for _, d in g.nodes(data=True) if d.get("kind") in ("tensor", "op"))


def heavy_slot(nodes: int, waiting: Callable[[int], None] | None = None, limiter: heavy.Limiter | None = None):
    """A slot of the server's limiter for work on a graph of `nodes` nodes, if it is heavy (HEAVY_NODES
    or more); for a smaller graph, nothing to wait for. Raises vizgrad.app.limiter.QueueFull."""
    if nodes < HEAVY_NODES:
        return contextlib.nullcontext(False)
    return (limiter or heavy.HEAVY).slot(waiting=waiting)


def _busy(w: Walk, e: Exception) -> Walk:
    w.steps, w.graph, w.checks = [], None, []
    w.error, w.busy = f"Not walked through: {e}. This graph is big, so it waits for its turn on the server.", True
    return w


def central_differences(f: Callable, values: dict, name: str) -> np.ndarray:
    """d f / d values[name] (float64, in its shape) for f: {label: ndarray} -> float, a source's f."""
    return _array_central_differences(lambda v: f({**values, name: v}), values[name])


def _close(a, b, tol=FD_TOL, atol: float = 0.0) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    return bool(np.all(np.isfinite(a)) and np.all(np.isfinite(b))
                and np.all(np.abs(a - b) <= tol * np.maximum(1.0, np.abs(b)) + atol))


def fd_precision(g, eps: float) -> tuple[float, float]:
    """(step, atol) for central differences of a function computed with relative precision `eps`
    whose graph is `g` (vizgrad.autograd.gradcheck.fd_step_and_tolerance at the graph's magnitude)."""
    values = (d.get("value") for _, d in g.nodes(data=True) if d["kind"] == "tensor")
    return fd_step_and_tolerance(magnitude(values), eps)


def _checks(src: Source, step_list: list[Step], g,
            max_evaluations: int = MAX_FD_EVALUATIONS) -> tuple[list[LeafComparison], int]:
    """Each leaf's walked gradient against .backward() and, within `max_evaluations` evaluations of
    src.f in all, against central differences (the one finite-difference helper,
    vizgrad.autograd.gradcheck.sampled_central_differences); returns the comparisons and the
    evaluations made."""
    walked = final_grads(step_list)
    leaves = {}
    for n, d in g.nodes(data=True):
        if d["kind"] == "tensor" and d["is_leaf"] and d["requires_grad"]:
            leaves[d["label"]] = d
    values = {n: np.asarray(t.detach().numpy(), dtype=np.float64) for n, t in src.leaves.items()
              if t is not None}
    fd_labels = [label for label in leaves if src.f is not None and label in values]
    step, atol = fd_precision(g, src.f_eps) if fd_labels else (0.0, 0.0)
    with np.errstate(all="ignore"):
        fd = sampled_central_differences(src.f, values, fd_labels, max_evaluations, min_step=step)

    out = []
    for label, d in leaves.items():
        mine = walked.get(label)
        bw = d["grad"]
        numeric, ok_num, checked, total, note = None, None, 0, 0, ""
        if label in fd.numeric and label not in fd.errors:  # an error: a perturbed value left f's domain
            total = int(values[label].size)
            idx = fd.indices[label]
            if len(idx):
                numeric, checked = fd.numeric[label], len(idx)
                if mine is not None:
                    m = np.asarray(mine, dtype=np.float64)
                    if m.shape == numeric.shape and np.any(np.isinf(m.reshape(-1)[idx])):
                        note = INFINITE_NOTE   # not a failure: nothing finite can check an infinite slope
                    else:
                        ok_num = m.shape == numeric.shape and _close(m.reshape(-1)[idx], numeric.reshape(-1)[idx],
                                                                     atol=atol)
        ok_bw = (mine is None and bw is None) or (mine is not None and bw is not None and _close(mine, bw, 1e-5))
        out.append(LeafComparison(label, mine, bw, numeric, ok_bw, ok_num, checked, total, note))
    return out, fd.evaluations


def comparison_rows(checks: list[LeafComparison]) -> list[dict]:
    rows = []
    for c in checks:
        fmt = lambda a: "None" if a is None else format_value(np.asarray(a), max_elems=6, sep=" ")  # noqa: E731
        if c.numeric is None:  # none possible, or the evaluation budget was spent on the other tensors
            fd = f"not checked (budget of {MAX_FD_EVALUATIONS} evaluations)" if c.fd_elements else "—"
        elif c.sampled:
            fd = f"sampled {c.fd_checked} of {c.fd_elements} elements"
        else:
            fd = fmt(np.asarray(c.numeric, dtype=np.float32))
        rows.append({
            "tensor": c.label,
            "walkthrough": fmt(c.walkthrough),
            ".backward() → .grad": fmt(c.backward),
            "finite differences": fd,
            "vs .backward()": "✓" if c.matches_backward else "✗",
            "vs finite diff.": ("∞ (not checkable)" if c.note else "—") if c.matches_numeric is None
                               else ("✓" if c.matches_numeric else "✗"),
        })
    return rows


# ---- what the page shows at step k -----------------------------------------------------------------
def running(w: Walk, k: int) -> dict:
    """{tensor node id: gradient accumulated so far} after step k (the root holds its seed 1)."""
    acc: dict = {}
    step_list = w.steps
    if k < 0 or not step_list or step_list[k].phase == "forward":
        return acc
    root = w.graph.graph["roots"][0]
    first_bw = next(s for s in step_list if s.phase == "backward")
    if first_bw.upstream is not None:
        acc[root] = np.asarray(first_bw.upstream)
    for s in step_list[: k + 1]:
        if s.phase != "backward":
            continue
        for c in s.inputs:
            if c.running_grad is not None:
                acc[c.tensor] = c.running_grad
    return acc


def running_grads(w: Walk, k: int) -> list[dict]:
    """Rows for the side panel: each tensor's gradient so far, and whether it is final."""
    step = w.steps[k]
    if step.phase == "forward":
        return []
    g = w.graph
    acc = running(w, k)
    counts: dict = {}
    for s in w.steps[: k + 1]:
        for c in s.inputs:
            if c.contribution is not None:
                counts[c.tensor] = counts.get(c.tensor, 0) + 1
    rows = []
    for n in sorted(acc, key=lambda n: (not g.nodes[n]["is_leaf"], int(n[1:]))):
        d = g.nodes[n]
        kind = "leaf" if d["is_leaf"] else ("output" if d.get("root") else "intermediate")
        rows.append({"tensor": f"{d['label']} ({kind})",
                     f"∂{vwalk.plain_name(g)}/∂tensor": vwalk.plain_value(acc[n]),
                     "from": "seed" if n == g.graph["roots"][0] else _plural(counts.get(n, 0), "edge"),
                     "status": "✓ final" if n in step.done_nodes else "… accumulating"})
    return rows


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def step_graph(w: Walk, k: int):
    """A copy of the graph as it stands after step k. Forward: only what has been computed by then
    has a value (the others hold NaN, drawn under the "not computed yet" veil), and nothing has a
    gradient. Backward: each tensor shows the gradient accumulated so far, each edge the gradient
    already sent along it, and each op its place in the backward order (① the first)."""
    g = w.graph.copy()
    step = w.steps[k]
    acc = running(w, k)
    done = step.done_nodes
    order = {s.node: s.order for s in w.steps if s.phase == "backward"}
    for n, d in g.nodes(data=True):
        if d["kind"] == "tensor":
            d["grad"] = acc.get(n) if step.phase == "backward" else None
            if step.phase == "forward" and n not in done:
                d = g.nodes[n]
                g.nodes[n].update(value=np.full(np.shape(d["value"]), np.nan), computed=False)
        elif d["kind"] == "op" and step.phase == "backward" and n in order:
            g.nodes[n].update(symbol=f"{order_mark(order[n])} {d['symbol']}", backward_order=order[n])
    for u, v, e in g.edges(data=True):
        if e.get("kind") == "input":      # tensor -> op: carries what the op's backward sent
            sent = step.phase == "backward" and v in done
            if not sent:
                e["grad"] = None
                e["grads"] = tuple(None for _ in e.get("grads", ()))
        else:                             # op -> tensor: the output's gradient, once it has one
            e["grad"] = g.nodes[v]["grad"] if step.phase == "backward" and v in acc else None
    return g


def output_name(w: Walk) -> str:
    """The output's one name on the page (f for an expression, L for a loss), as the graph shows it."""
    return w.graph.nodes[w.graph.graph["roots"][0]]["label"]


def order_mark(k: int) -> str:
    """A backward-order number as drawn on an op: ① ... ⑳, then #21."""
    return chr(0x2460 + k - 1) if 1 <= k <= 20 else f"#{k}"


GRAPH_HEIGHT = 440         # pixels: the step graph's window, so that it and the step buttons share one screen
GRAPH_WIDTH = 900          # and at most this wide: the page's column beside the sidebar at 1400 px is ~940


def step_figure(w: Walk, k: int, headers=None, *, focus: bool = False, theme: str = "light",
                show_shapes: bool = False, fit_height: int = GRAPH_HEIGHT) -> list:
    """The graph at step k as the page draws it, [(figure, media)] (vizgrad.plot.screen_figures: a
    phone gets one figure, a desktop browser a wide and a narrow layout, its window's width picks
    one; headers: the request's, st.context.headers): the step's nodes and edges highlighted, what
    is not yet computed (forward) or whose gradient is not final yet (backward) veiled; focus=True
    also dims the rest. Drawn at its natural size (text never shrunk), laid out for the screen, and
    shown through a window of at most GRAPH_WIDTH x fit_height pixels centred on the step's nodes: the
    graph pans and zooms inside it, and the page does not grow taller than the screen with it."""
    from vizgrad.plot import FigureOptions, screen_figures  # plotly only when drawing

    step = w.steps[k]
    g = step_graph(w, k)
    done = step.done_nodes
    pending = [n for n in g if n not in done and n not in step.highlight_nodes]
    # keep_graph=False: a plotly figure is a web of reference cycles; it must not keep the step's graph
    # (and through it the walk's arrays) alive after the page has drawn it, until a garbage collection
    o = FigureOptions(highlight_nodes=step.highlight_nodes, highlight_edges=step.highlight_edges, dim_others=focus,
                      theme=theme, show_shapes=show_shapes, pending=pending, fit_height=fit_height,
                      pending_label="not computed yet" if step.phase == "forward" else "gradient not final yet",
                      keep_graph=False)
    # the window centred on the step: its op, the op's output and the tensors it reads or sends gradients to
    centre = sorted(set(step.highlight_nodes) | {step.node, step.output})
    return screen_figures(g, headers, o, window=(centre, GRAPH_WIDTH, fit_height))


def backward_figure(w: Walk, headers=None, *, theme: str = "light", show_shapes: bool = False,
                    duration: int = 700, waiting: Callable[[int], None] | None = None,
                    limiter: heavy.Limiter | None = None) -> list:
    """The whole backward pass as one animated figure (vizgrad.plot.backward_animation), laid out for
    the screen as step_figure's ([(figure, media)]): plotly's own play button and slider light the
    edges one by one in reverse topological order, every node numbered in the backward order, each
    tensor's grad growing as its contributions arrive (+=). It plays in the browser: no reruns.
    For a graph of HEAVY_NODES nodes or more it is drawn in a slot of `limiter` (as prepare's:
    `waiting`), and raises vizgrad.app.limiter.QueueFull when no slot came."""
    from vizgrad.plot import FigureOptions, backward_animation, screen_figures  # plotly only when drawing

    # keep_graph=False: as step_figure, the figure must not keep the walk's arrays alive; drawn at its
    # natural size (the page puts it in a box that scrolls): text is never scaled down
    o = FigureOptions(theme=theme, show_shapes=show_shapes, keep_graph=False)
    with heavy_slot(_nodes(w.graph), waiting, limiter):
        return screen_figures(w.graph, headers, o, draw=lambda g, opts, **kw: backward_animation(
            g, opts, duration=duration, **kw))


# ---- forward mode beside reverse mode (colah's "Calculus on Computational Graphs") -------------------
MAX_MODE_INPUTS = 6        # forward mode makes one pass per input: beyond this many the table says little


@dataclass
class Modes:
    """Both ways of getting the derivatives of a small scalar graph from the same edge derivatives.

    edges: (from, to, ∂to/∂from) once per use of a tensor by an op (a*a gives two edges);
    forward: {input: [(tensor, ∂tensor/∂input)] in the forward order}: one pass per input, seeded
    with ∂input/∂input = 1, each tensor's tangent the sum over its in-edges of derivative × tangent;
    reverse: [(tensor, ∂out/∂tensor)] in the backward order: one pass for the one output, seeded with
    ∂out/∂out = 1, each tensor's adjoint the sum over its out-edges of derivative × adjoint;
    paths: {input: [(the tensors along the path, the product of its edge derivatives)]}, whose sum is
    the derivative both passes give."""
    output: str
    inputs: list
    edges: list
    forward: dict
    reverse: list
    paths: dict

    @property
    def forward_passes(self) -> int:
        return len(self.inputs)

    @property
    def reverse_passes(self) -> int:
        return 1


def modes(w: Walk) -> Modes | None:
    """Forward and reverse mode for a walk whose tensors are all scalars (None otherwise, or with more
    than MAX_MODE_INPUTS inputs): the edge derivatives are the numeric local derivatives of the
    walk's backward steps, and both passes and the path sums are computed from them alone."""
    g = w.graph
    if not w.ok or any(d["kind"] == "tensor" and np.size(d["value"]) != 1 for _, d in g.nodes(data=True)):
        return None
    root = g.graph["roots"][0]
    lab = {n: d["label"] for n, d in g.nodes(data=True)}
    inputs = [n for n, d in g.nodes(data=True) if d["kind"] == "tensor" and d["is_leaf"] and d["requires_grad"]]
    if not inputs or len(inputs) > MAX_MODE_INPUTS:
        return None
    edges = []                                   # (from id, to id, derivative)
    for s in reversed([s for s in w.steps if s.phase == "backward"]):    # in the forward order
        for c in s.inputs:
            if c.local is None and c.contribution is not None:
                return None                      # a derivative only the op's backward knows: no edge value
            if c.local is not None and c.requires_grad:
                edges.append((c.tensor, s.output, float(np.asarray(c.local, dtype=np.float64).reshape(()))))
    order = [s.output for s in w.steps if s.phase == "forward"]
    forward = {}
    for x in inputs:                            # one pass per input
        tangent = {n: 0.0 for n in lab if g.nodes[n]["kind"] == "tensor"}
        tangent[x] = 1.0
        for t in order:
            tangent[t] = sum(dv * tangent[u] for u, v, dv in edges if v == t)
        forward[lab[x]] = [(lab[x], 1.0)] + [(lab[t], tangent[t]) for t in order]
    adjoint = {root: 1.0}                       # one pass for the output
    for t in [root] + [u for u in reversed(order) if u != root]:
        for u, v, dv in edges:
            if v == t:
                adjoint[u] = adjoint.get(u, 0.0) + dv * adjoint.get(t, 0.0)
    rev = [(lab[root], 1.0)] + [(lab[t], adjoint.get(t, 0.0)) for t in reversed(order) if t != root]
    rev += [(lab[x], adjoint.get(x, 0.0)) for x in inputs]
    paths = {}
    for x in inputs:
        found, todo = [], [([x], 1.0)]
        while todo and len(found) <= 64:
            path, prod = todo.pop()
            if path[-1] == root:
                found.append(([lab[n] for n in path], prod))
                continue
            todo += [(path + [v], prod * dv) for u, v, dv in edges if u == path[-1]]
        paths[lab[x]] = found[::-1]
    return Modes(lab[root], [lab[x] for x in inputs], [(lab[u], lab[v], dv) for u, v, dv in edges], forward, rev,
                 paths)


def modes_rows(m: Modes) -> dict:
    """The Modes as the page's tables and sentences: edges (each derivative once), forward (a column
    per input pass), reverse (one column), paths (one sentence per input: the path sum)."""
    num = lambda v: format_value(np.float64(v))  # noqa: E731
    edges = [{"edge": f"{u} → {v}", "derivative on the edge": f"∂{v}/∂{u} = {num(dv)}"} for u, v, dv in m.edges]
    names = [t for t, _ in next(iter(m.forward.values()))][1:]
    forward = [{"tensor": t, **{f"pass {i + 1}: ∂·/∂{x}": num(dict(m.forward[x])[t]) if t in dict(m.forward[x])
                                else "0" for i, x in enumerate(m.inputs)}}
               for t in list(dict.fromkeys(m.inputs + names))]
    reverse = [{"tensor": t, f"the one pass: ∂{m.output}/∂·": num(v)} for t, v in m.reverse]
    paths = []
    for x, ps in m.paths.items():
        terms = [" → ".join(p) + f" ({' · '.join(num(dv) for dv in _path_edges(m, p))} = {num(prod)})" for p, prod in ps]
        total = sum(prod for _, prod in ps)
        paths.append(f"∂{m.output}/∂{x} = " + " + ".join(terms) + f" = {num(total)}")
    return dict(edges=edges, forward=forward, reverse=reverse, paths=paths)


def _path_edges(m: Modes, path: list) -> list:
    """The edge derivatives along a path of labels (the first edge between each pair)."""
    out = []
    for u, v in zip(path, path[1:]):
        out.append(next(dv for a, b, dv in m.edges if a == u and b == v))
    return out


def describe(w: Walk, k: int, escape: Callable[[str], str] = plain) -> str:
    """One or two plain sentences (markdown) on what step k does; labels and numbers go through
    `escape` (they come from variable names and values a link may carry)."""
    s = w.steps[k]
    e = escape
    if s.phase == "forward":
        return (f"**Forward pass.** `{s.op}` computes **{e(s.output_label)}** from its inputs. Autograd records "
                f"this op in the graph (and keeps what its backward will need).")
    ups = vwalk.plain_value(s.upstream)
    R = vwalk.plain_name(w.graph)
    parts = [f"**Backward pass** through `{s.op}`{' (a custom Function)' if s.custom else ''}. "
             f"The upstream gradient ∂{e(R)}/∂{e(s.output_label)} = {e(ups)} is multiplied by each local derivative "
             f"(the chain rule) and sent to the op's inputs."]
    acc = [e(c.label) for c in s.inputs if c.accumulates]
    if acc:
        parts.append(f"**{', '.join(acc)}** already had a gradient from another use: the new contribution is "
                     f"**added** (`+=`), which is how gradients accumulate when a tensor is used more than once.")
    red = [e(c.label) for c in s.inputs if c.reduced_from]
    if red:
        parts.append(f"For **{', '.join(red)}** the contribution was broadcast in the forward pass, so it is "
                     f"**summed** back to the tensor's shape (Σ).")
    skipped = [e(c.label) for c in s.inputs if c.contribution is None]
    if skipped:
        parts.append(f"{', '.join(skipped)} does not require grad: nothing is sent to it.")
    return " ".join(parts)


def sources_menu() -> list[tuple[str, dict]]:
    """(label, query) for every ready-made source: the examples, the network, the lessons' graphs."""
    out = [(f"Example: {t}", State.from_example(i).to_query()) for i, (t, *_rest) in enumerate(EXAMPLES)]
    out += [(f"Network: {t}", {"net": k}) for k, t in NETWORKS.items()]
    out += [(f"Lesson {lesson.title}", {"lesson": lesson.id}) for lesson in lessons.LESSONS]
    return out


__all__ = ["Source", "Walk", "LeafComparison", "from_query", "from_state", "from_function", "from_lesson",
           "from_example", "mlp", "prepare", "too_big", "normalize_query", "query_key", "step_from_query", "running",
           "running_grads", "step_graph", "step_figure", "GRAPH_HEIGHT", "GRAPH_WIDTH", "output_name", "order_mark", "Modes", "modes", "modes_rows", "backward_figure", "describe", "comparison_rows", "central_differences",
           "fd_shares", "fd_sample", "fd_precision", "sources_menu",
           "ExprError", "MAX_STEPS", "MAX_STORED_ELEMENTS", "WALK_LIMITS", "MAX_FD_EVALUATIONS", "MAX_FD_WORK"]
