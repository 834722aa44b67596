"""Gradients flowing back on the figure: arrows from output to input beside the edges, labelled with
the gradient, wider as |grad| grows; the backward animation lights the edges in reverse topological
order, numbers the nodes in that order and shows a reused tensor's grad growing (b = a + a)."""
from __future__ import annotations

import numpy as np

import vizgrad
import vizgrad.graph as vg
import vizgrad.plot as vp
from vizgrad.plot.animation import backward_plan
from vizgrad.plot.style import short_grad


def seed():
    x = vizgrad.tensor(2.0, requires_grad=True, name="x")
    y = vizgrad.tensor(3.0, requires_grad=True, name="y")
    z = x ** 2 + y ** 3
    z.backward()
    return vg.trace(z)


def fan_out(expr="a + a"):
    a = vizgrad.tensor(3.0, requires_grad=True, name="a")
    b = a + a if expr == "a + a" else a * a + a
    b.backward()
    return vg.trace(b)


def routes(trace):
    """The NaN/None-separated polylines of a lines trace, as (xs, ys) arrays."""
    xs = np.array([np.nan if v is None else v for v in trace.x], float)
    ys = np.array([np.nan if v is None else v for v in trace.y], float)
    cut = np.nonzero(np.isnan(xs))[0]
    out, a = [], 0
    for c in list(cut) + [len(xs)]:
        if c > a:
            out.append((xs[a:c], ys[a:c]))
        a = c + 1
    return out


def backflow_traces(fig):
    return [t for t in fig.data if isinstance(t.meta, dict) and "backflow" in t.meta]


def test_backward_arrows_point_from_output_to_input():
    g = seed()
    fig = vp.figure(g)
    lay = fig._vizgrad["layout"]
    seen = []
    for t in backflow_traces(fig):
        for (u, v), (xs, ys) in zip(t.meta["backflow"], routes(t)):
            iu, iv = lay.index[u], lay.index[v]
            d = lambda i, px, py: np.hypot(px - lay.x[i], py - lay.y[i])  # noqa: E731
            assert d(iv, xs[0], ys[0]) < d(iu, xs[0], ys[0])      # starts at the output side (the target)
            assert d(iu, xs[-1], ys[-1]) < d(iv, xs[-1], ys[-1])  # ends at the input (the source)
            assert xs[0] > xs[-1]                                 # left-to-right graph: it runs right to left
            seen.append((u, v))
    # every edge carrying a gradient has its backward arrow; the forward edges are still all drawn
    assert sorted(seen) == sorted((u, v) for u, v, e in g.edges(data=True) if e.get("grad") is not None)
    fwd = [t for t in fig.data if t.name == "forward"]
    assert fwd and sum(len(routes(t)) for t in fwd) == g.number_of_edges()
    # the arrowheads of the backward arrows sit at the inputs
    heads = [t for t in fig.data if t.name == "backflow heads"]
    assert sum(len(routes(t)) for t in heads) == len(seen)


def test_labels_carry_each_edges_gradient_and_widths_grow_with_grad():
    g = seed()
    fig = vp.figure(g)
    lab = [t for t in fig.data if t.name == "edge grads"][0]
    for (u, v), text in zip(lab.meta["edges"], lab.text):
        assert text == short_grad(g.edges[u, v]["grad"])
    assert ["t0", "op0"] in lab.meta["edges"] and ["t2", "op1"] in lab.meta["edges"]
    width = {}
    for t in backflow_traces(fig):
        for u, v in t.meta["backflow"]:
            width[(u, v)] = t.line.width
    mags = {e: vg.grad_norm(g.edges[e]["grad"]) for e in width}
    by_mag = sorted(width, key=lambda e: mags[e])
    w = [width[e] for e in by_mag]
    assert w == sorted(w) and w[-1] > w[0]
    assert width[("t2", "op1")] > width[("t0", "op0")]  # 27 flows to y, 4 to x


def test_no_backward_arrows_without_gradients_or_when_switched_off():
    x = vizgrad.tensor(2.0, requires_grad=True, name="x")
    g = vg.trace(x * x + 1)
    assert not backflow_traces(vp.figure(g))
    assert not backflow_traces(vp.figure(seed(), backflow=False))
    assert not backflow_traces(vp.figure(seed(), show_grads=False))


def frame_trace(frame, name):
    return [t for t in frame.data if t.name == name][0]


def test_animation_lights_edges_in_reverse_topological_order_with_order_numbers():
    for g in (seed(), fan_out("a*a + a")):
        fig = vp.backward_animation(g)
        badge = [t for t in fig.data if t.name == "backward order"][0]
        order = {n: int(s) for n, s in zip(badge.meta["ids"], badge.text)}
        assert sorted(order.values()) == list(range(1, g.number_of_nodes() + 1))
        assert order[g.graph["roots"][0]] == 1
        for u, v in g.edges:  # a reverse topological numbering: every node after its consumers
            assert order[v] < order[u]
        # frame by frame, the edge lighting now belongs to the next op in that order
        ops = []
        for f in fig.frames[1:]:
            cur = frame_trace(f, "current").meta["edges"]
            assert len(cur) == 1
            u, v = cur[0]
            ops.append(v if g.nodes[u]["kind"] == "tensor" else u)
        nums = [order[o] for o in ops]
        assert nums == sorted(nums)
        # lit edges only grow, and at the end every edge is lit
        all_lit = set()
        for f in fig.frames:
            now = {tuple(e) for t in f.data if t.name == "lit" for e in t.meta["edges"]}
            assert all_lit <= now
            all_lit = now
        assert all_lit == set(g.edges)


def test_fan_out_grad_grows_one_contribution_at_a_time():
    g = fan_out("a + a")
    a = next(n for n, d in g.nodes(data=True) if d.get("label") == "a")
    plan = backward_plan(g)
    assert [j for _, j in plan["steps"]] == [None, 0, 1]  # the reused operand is sent once per use
    fig = vp.backward_animation(g)
    texts = []
    for f in fig.frames:
        t = frame_trace(f, "node grads")
        texts.append(dict(zip(t.meta["ids"], t.text))[a])
    assert texts == ["", "", "grad 1", "grad 2"]  # first one contribution, then the sum
    acc = [dict(zip(frame_trace(f, "accumulate").meta["ids"], frame_trace(f, "accumulate").text))[a]
           for f in fig.frames]
    assert "+= 1" in acc[2] and "+= 1" in acc[3] and acc[1] == ""
    # the edge a -> add shows its running sum: 1, then 2
    labs = []
    for f in fig.frames:
        t = frame_trace(f, "edge grads")
        labs.append(dict(zip(map(tuple, t.meta["edges"]), t.text)).get((a, "op0")))
    assert labs[2:] == ["1", "2"]


def test_animation_text_is_at_least_10px_and_keep_graph_false():
    g = vg.trace(vizgrad.tensor(np.ones((3, 4)), requires_grad=True).tanh().sum())
    fig = vp.backward_animation(g, keep_graph=False)
    assert fig._vizgrad["graph"] is None
    for f in fig.frames:
        for t in f.data:
            if t.mode and "text" in t.mode and t.name in ("edge grads", "accumulate"):
                assert t.textfont.size >= 10
    assert [t for t in fig.data if t.name == "backward order"][0].textfont.size >= 10


def test_a_diverged_gradient_takes_the_strongest_bin_and_leaves_the_range_alone():
    from vizgrad.plot.style import grad_bins
    bins, rng = grad_bins([1.0, 10.0, float("inf"), None, 0.0], 6)
    assert list(bins) == [0, 5, 5, -1, 0] and rng == (1.0, 10.0)
    bins, _ = grad_bins([float("inf"), None], 6)
    assert list(bins) == [5, -1]
