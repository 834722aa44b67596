"""Issue 11 (the Walkthrough's part): what one link may cost the shared server.

Memory: a walk is bounded by the numbers it stores, checked on the engine's graph before anything
is traced; its steps refer to the traced graph's arrays; a dropped walk is freed by reference
counting (no reference cycles, no tensors). CPU: the finite-difference check makes a bounded number
of evaluations per walk, on a deterministic sample. Every test asserts sizes and counts, not times.
"""
import gc
import tracemalloc
from contextlib import contextmanager

import numpy as np
import pytest

import vizgrad as vg
from vizgrad import graph as vgraph
from vizgrad.graph import steps as vwalk
from vizgrad.app import walkthrough as ws
from vizgrad.ops import Op
from vizgrad.tensor import Tensor

MB = 1 << 20
ONES = "[" + ",".join(["1"] * 316) + "]"
# the 3.4 KB link from the issue: 190 factors of a 316 x 316 variable (about 750 MB per session before)
HOSTILE = {"expr": "sum(" + "*".join(["x"] * 190) + ")", "v.x": f"outer({ONES},{ONES})"}


@contextmanager
def traced_memory():
    """Yields a function returning (current, peak) traced bytes since the block started."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        yield lambda: tuple(v - base for v in tracemalloc.get_traced_memory())
    finally:
        tracemalloc.stop()


def chain(x, n):
    """x * x * ... (n factors): n - 1 ops on x's shape, all using x (fan-out)."""
    y = x
    for _ in range(n - 1):
        y = y * x
    return y.sum()


def vector(n: int) -> str:
    return "[" + ",".join(f"{0.5 + (i % 7) / 10:.1f}" for i in range(n)) + "]"


def matrix(rows: int, cols: int) -> str:
    """A value text for a rows x cols variable that fits in one URL value."""
    return f"outer({vector(rows)}, {vector(cols)})"


def arrays_of(walk) -> list[np.ndarray]:
    """Every numpy array the walk holds (steps, traced graph, checks), each once."""
    found, seen = [], set()

    def add(a):
        if isinstance(a, np.ndarray) and id(a) not in seen:
            seen.add(id(a))
            found.append(a)
        elif isinstance(a, (list, tuple)):
            for b in a:
                add(b)

    for s in walk.steps:
        add([s.value, s.upstream])
        for c in s.inputs:
            add([c.local, c.contribution, c.running_grad])
    for _, d in walk.graph.nodes(data=True):
        add(list(d.values()))
    for _, _, d in walk.graph.edges(data=True):
        add(list(d.values()))
    for c in walk.checks:
        add([c.walkthrough, c.backward, c.numeric])
    return found


def reachable(obj, limit=200_000):
    """Objects reachable from obj through containers and instances (not through classes, modules,
    functions or numpy arrays' internals)."""
    import types
    stop = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, str, bytes, int, float)
    seen, todo, out = set(), [obj], []
    while todo and len(out) < limit:
        o = todo.pop()
        if id(o) in seen or isinstance(o, stop):
            continue
        seen.add(id(o))
        out.append(o)
        if not isinstance(o, np.ndarray):
            todo.extend(gc.get_referents(o))
    return out


# ---- refused before anything is built ---------------------------------------------------------------
def test_the_hostile_link_is_refused_with_the_limit_and_costs_little():
    with traced_memory() as mem:
        w = ws.prepare(ws.from_query(HOSTILE))
        _, peak = mem()
    assert not w.ok and "too big to walk through" in w.error
    assert f"{ws.WALK_LIMITS.max_work:,.0f}" in w.error
    assert peak < 40 * MB, peak / MB          # before: about 770 MB


def big_source(n_ops=20, shape=(316, 316)):
    """A graph made outside the expression language (so its limits do not apply): 100k-element tensors."""
    return ws.from_function(lambda x: chain(x, n_ops + 1), {"x": np.full(shape, 0.999)}, "big", {"lesson": "big"})


def test_prepare_refuses_a_graph_over_the_element_budget_before_tracing_it(monkeypatch):
    src = big_source()
    size = vwalk.graph_size(src.root)
    assert size.complete and size.ops == 21 and size.elements > ws.MAX_STORED_ELEMENTS

    def no_trace(*a, **k):
        raise AssertionError("traced a graph that is refused")
    monkeypatch.setattr(vgraph, "trace", no_trace)
    with traced_memory() as mem:
        w = ws.prepare(src)
        _, peak = mem()
    assert not w.ok and "too big to walk through" in w.error, w.error
    assert f"{ws.MAX_STORED_ELEMENTS:,}" in w.error
    assert peak < 1 * MB, peak / MB           # before: every step built, hundreds of MB


def test_prepare_refuses_too_many_steps_before_tracing(monkeypatch):
    def many(x):
        y = x
        for _ in range(250):
            y = y + x
        return y
    src = ws.from_function(many, {"x": 1.0}, "long", {"lesson": "long"})
    monkeypatch.setattr(vgraph, "trace", lambda *a, **k: pytest.fail("traced a graph that is refused"))
    w = ws.prepare(src)
    assert not w.ok and f"up to {ws.MAX_STEPS}" in w.error and "steps" in w.error, w.error


def test_graph_size_stops_counting_at_the_bound():
    x = vg.tensor(np.ones(1000), requires_grad=True)
    size = vwalk.graph_size(chain(x, 300), max_ops=10)
    assert not size.complete and size.ops == 11


# ---- what an accepted walk stores ---------------------------------------------------------------------
ACCEPTED = [q for _, q in ws.sources_menu()] + [
    {"expr": "sum(x*x*x*x + x)", "v.x": matrix(20, 100)},                      # fan-out on a vector
    {"expr": "sum(tanh(W @ v + b))", "v.W": "[[1,2],[3,4],[5,6]]", "v.v": "[1,-1]", "v.b": "[0.5]"},  # broadcast
    {"expr": "sum(exp(-x) * sin(x))", "v.x": matrix(250, 200)},
]


@pytest.mark.parametrize("query", ACCEPTED, ids=lambda q: str(q)[:40])
def test_an_accepted_walk_stores_no_more_than_its_bound(query):
    w = ws.prepare(ws.from_query(query))
    assert w.ok, w.error
    stored = sum(a.size for a in arrays_of(w))
    assert stored <= w.size.elements <= ws.MAX_STORED_ELEMENTS


def test_steps_refer_to_the_traced_graph_instead_of_copying():
    w = ws.prepare(ws.from_query({"expr": "sum(x*x*x)", "v.x": matrix(10, 100)}))
    g = w.graph
    for s in w.steps:
        assert s.value is g.nodes[s.output]["value"]
        for c in s.inputs:
            if c.contribution is not None:
                assert any(c.contribution is e for e in g.edges[c.tensor, s.node]["grads"])
                if not c.accumulates:       # the first contribution is the running gradient itself
                    assert c.running_grad is c.contribution
    # the steps of a phase share one record of what is done when (not a set per step)
    assert len({id(s.done_at) for s in w.steps}) == 2
    # new arrays only where the numbers are new: 3 values + 4 contributions + 3 locals... of 1000 each
    assert sum(a.size for a in arrays_of(w)) <= 20 * 1000


def test_done_nodes_are_what_they_were():
    w = ws.prepare(ws.from_query({"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"}))
    g = w.graph
    leaves = {n for n, d in g.nodes(data=True) if d["kind"] == "tensor" and d["is_leaf"]}
    fwd = [s for s in w.steps if s.phase == "forward"]
    bwd = [s for s in w.steps if s.phase == "backward"]
    assert fwd[0].done_nodes == leaves | {fwd[0].node, fwd[0].output}
    assert fwd[-1].done_nodes == set(g.nodes)
    root = g.graph["roots"][0]
    assert bwd[0].done_nodes == {root, bwd[0].node} | {i for i in g.nodes[bwd[0].node]["inputs"]}
    assert bwd[-1].done_nodes == set(g.nodes)


# ---- released when dropped --------------------------------------------------------------------------
def test_a_walk_refers_to_no_tensor_or_engine_node():
    w = ws.prepare(ws.mlp())
    for k in range(w.n):
        ws.running_grads(w, k)
    found = reachable(w)
    assert not [o for o in found if isinstance(o, (Tensor, Op))]
    assert not [o for o in found if callable(o) and not isinstance(o, type)]   # no function kept (src.f)


def test_a_dropped_walk_is_freed_by_reference_counting():
    query = {"expr": "sum(tanh(x*x + x) * x)", "v.x": matrix(200, 250)}
    warm = ws.prepare(ws.from_query({"expr": "x*y", "v.x": "2", "v.y": "3"}))  # imports, caches, plotly
    ws.step_figure(warm, 0)
    del warm
    gc.collect()
    gc.disable()
    try:
        with traced_memory() as mem:
            w = ws.prepare(ws.from_query(query))
            assert w.ok, w.error
            for k in range(w.n):                 # what the page does with it (step_figure: below)
                ws.running_grads(w, k)
                ws.describe(w, k)
                ws.step_graph(w, k)
            w.comparison
            held, _ = mem()
            del w
            left, _ = mem()
    finally:
        gc.enable()
    assert held > 3 * MB, held / MB             # the walk holds its arrays ...
    assert left < 0.05 * held, (held / MB, left / MB)   # ... and gives them back without a collection


def test_a_step_figure_keeps_none_of_the_walks_arrays():
    # plotly figures are reference cycles (freed only by a collection): they must not hold the walk's data
    w = ws.prepare(ws.from_query({"expr": "sum(x*x + x)", "v.x": matrix(10, 20)}))
    mine = {id(a) for a in arrays_of(w)}
    for k in (0, w.n - 1):
        (fig, _), = ws.step_figure(w, k, focus=True, show_shapes=True)
        assert not [o for o in reachable(fig) if id(o) in mine]
