"""Level of detail (vizgrad.graph.lod): big graphs open as labelled group boxes, one level at a time."""
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import vizgrad
import vizgrad.graph as vg
from vizgrad import nn
from vizgrad.graph import lod

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from render import scalar_mlp  # noqa: E402


def mlp_step_graph():
    """One training step of a 2-16-16-1 tanh MLP (vizgrad.nn) on 8 points, traced."""
    vizgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
    x = vizgrad.tensor(np.random.default_rng(0).uniform(-1, 1, (8, 2)).astype(np.float32))
    y = vizgrad.tensor(np.random.default_rng(1).uniform(-1, 1, (8, 1)).astype(np.float32))
    loss = nn.MSELoss()(model(x), y)
    loss.backward()
    return vg.trace(loss, params=dict(model.named_parameters()))


@pytest.fixture(scope="module")
def mlp():
    return mlp_step_graph()


@pytest.fixture(scope="module")
def scalar():
    g = vg.trace(scalar_mlp(1000))
    assert 1800 <= g.number_of_nodes() <= 2400
    return g


def boxes(v):
    return [n for n, d in v.nodes(data=True) if d.get("group")]


def check_view(v, full):
    """A view: acyclic, every box labelled, and every full node drawn exactly once (itself or in a box)."""
    assert nx.is_directed_acyclic_graph(v)
    pos = {n: i for i, n in enumerate(v.nodes)}
    assert all(pos[a] < pos[b] for a, b in v.edges), "node order is not topological"
    drawn = set()
    for n, d in v.nodes(data=True):
        if d.get("group"):
            assert d["label"] and d["symbol"] and d["kind"] == "module", d
            drawn |= set(d["members"])
        else:
            drawn.add(n)
    assert drawn == set(full.nodes)


@pytest.mark.parametrize("name", ["mlp", "scalar"])
def test_big_graphs_open_collapsed_within_the_threshold(name, request):
    g = request.getfixturevalue(name)
    v = lod.default_view(g)
    assert v.number_of_nodes() <= lod.auto_threshold(g) < g.number_of_nodes()
    assert boxes(v)
    check_view(v, g)


def test_a_small_graph_is_its_own_default_view():
    x = vizgrad.tensor(2.0, requires_grad=True)
    z = x ** 2 + x
    z.backward()
    g = vg.trace(z)
    assert lod.default_view(g) is g


def test_the_mlp_opens_at_its_layers(mlp):
    v = lod.default_view(mlp)
    labels = {(v.nodes[b]["label"], v.nodes[b]["symbol"]) for b in boxes(v)}
    assert {("0", "Linear"), ("2", "Linear"), ("4", "Linear")} <= labels
    # the parameters are folded into their layer
    assert not any(d["kind"] == "tensor" and d["param"] for _, d in v.nodes(data=True))


def test_expanding_a_layer_shows_its_ops_and_back(mlp):
    v = lod.default_view(mlp)
    w = lod.expand_group(v, "m:0")
    assert "m:0" not in w and w.number_of_nodes() > v.number_of_nodes()
    inside = set(v.nodes["m:0"]["members"])
    assert inside <= set(w.nodes)       # a Linear's ops and parameters are all drawn now
    assert any(w.nodes[n]["kind"] == "op" and w.nodes[n]["symbol"] == "addmm" for n in inside)
    check_view(w, mlp)
    back = lod.collapse_group(w, "m:0")
    assert set(back.nodes) == set(v.nodes) and set(back.edges) == set(v.edges)


def test_repeats_find_the_per_sample_chains(scalar):
    grp = lod.groups(scalar)
    (rep,) = [G for G in grp.values() if G.kind == "repeat" and G.parent is None]
    assert rep.label == "repeat ×40"
    copies = [G for G in grp.values() if G.kind == "copy"]
    n_samples = len(copies)
    assert n_samples == 40 and all(set(c.members) <= set(rep.members) for c in copies)
    ops = [sorted(scalar.nodes[n]["symbol"] for n in c.members if scalar.nodes[n]["kind"] == "op") for c in copies]
    assert all(o == ops[0] for o in ops) and len(ops[0]) >= 20
    assert ops[0].count("tanh") == 4 and "**2" in ops[0]
    # the copies are disjoint, and the shared parameters stay outside them
    seen = set()
    for c in copies:
        assert not seen & set(c.members)
        seen |= set(c.members)
    assert not any(scalar.nodes[n]["kind"] == "tensor" and scalar.nodes[n]["requires_grad"]
                   and scalar.nodes[n]["is_leaf"] for n in seen)
    (chain,) = [G for G in grp.values() if G.kind == "chain"]
    assert chain.symbol == f"×{n_samples - 1}"


def test_the_scalar_graph_opens_level_by_level(scalar):
    v = lod.default_view(scalar)
    assert set(boxes(v)) == {"g:repeat0", "g:chain0"}
    w = lod.expand_group(v, "g:repeat0")          # the first copy, and the other 39 in two boxes
    assert {"g:repeat0.0", "g:repeat0.r1-20", "g:repeat0.r21-39"} <= set(boxes(w))
    assert w.nodes["g:repeat0.r1-20"]["label"] == "×20" and w.number_of_nodes() <= lod.THRESHOLD
    check_view(w, scalar)
    x = lod.expand_group(w, "g:repeat0.0")        # one sample's ops
    assert "g:repeat0.0" not in x and x.number_of_nodes() > w.number_of_nodes()
    assert sum(1 for n in x if x.nodes[n]["kind"] == "op") >= 24
    check_view(x, scalar)
    y = lod.expand_group(x, "g:repeat0.r1-20")    # the next level of copies, still boxes
    assert {"g:repeat0.1", "g:repeat0.r2-11", "g:repeat0.r12-20"} <= set(boxes(y))
    check_view(y, scalar)
    # collapse back: the copies close again with their parent
    assert set(lod.collapse_group(x, "g:repeat0").nodes) == set(v.nodes)
    assert set(lod.default_view(x).nodes) == set(v.nodes)


@pytest.mark.parametrize("name", ["mlp", "scalar"])
def test_expanding_every_level_reaches_the_full_graph(name, request):
    g = request.getfixturevalue(name)
    v = lod.default_view(g)
    for _ in range(10_000):
        b = boxes(v)
        if not b:
            break
        v = lod.expand_group(v, b[0])
        check_view(v, g)
    assert set(v.nodes) == set(g.nodes) and set(v.edges) == set(g.edges)


def test_a_view_carries_the_gradients_into_its_boxes(mlp):
    v = lod.default_view(mlp)
    (x_edge,) = [e for e in v.in_edges("m:0", data=True) if v.nodes[e[0]]["kind"] == "tensor"]
    assert x_edge[2]["grad"] is None or np.shape(x_edge[2]["grad"]) == v.nodes[x_edge[0]]["shape"]


def test_views_draw(scalar, mlp):
    import vizgrad.plot as vp
    for v in (lod.default_view(scalar), lod.default_view(mlp)):
        fig = vp.figure(v)
        assert set(fig.data[-1].customdata) >= set(boxes(v))


def test_a_view_exports_like_any_graph(mlp):
    v = lod.default_view(mlp)
    back = vg.from_json(vg.to_json(v))
    assert set(back.nodes) == set(v.nodes) and back.nodes["m:0"]["label"] == "0"
    vg.to_json(mlp)  # the full graph carries no level-of-detail state that JSON cannot hold


def test_a_lone_model_box_opens_a_level():
    """Six layers do not fit the threshold as layers, but one "Sequential" box would say nothing."""
    vizgrad.manual_seed(0)
    layers = [nn.Linear(2, 8), nn.Tanh()] + [m for _ in range(5) for m in (nn.Linear(8, 8), nn.Tanh())] + [nn.Linear(8, 1)]
    model = nn.Sequential(*layers)
    loss = nn.MSELoss()(model(vizgrad.tensor(np.ones((4, 2), np.float32))), vizgrad.tensor(np.zeros((4, 1), np.float32)))
    loss.backward()
    g = vg.trace(loss)
    v = lod.default_view(g)
    assert "m:Sequential" not in v and {"m:0", "m:12"} <= set(boxes(v))
    check_view(v, g)
