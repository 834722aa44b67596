"""The engine's two backward loops agree: `backward_plain` (the everyday loss.backward(), a
measured speed-up) and the general `run_backward`, run on one corpus of graphs, must give every
leaf the same .grad and every node the same received gradient and edge gradients.

The corpus: every op case of tests/_helpers.py (with its upstream gradient), plus graphs that
stress the loop itself: fan-out, shared scalar constants, a deep scalar chain, an MLP on the
fused Linear node with a fused loss, two roots, float64, hooks and retain_grad.
"""
from __future__ import annotations

import numpy as np
import pytest

import vizgrad
import vizgrad.nn as nn
import vizgrad.nn.functional as F
from tests._helpers import CASES, case_inputs, evaluate, upstream
from vizgrad.autograd.engine import backward_plain, run_backward


def _case_graph(case):
    def build():
        inputs, out = evaluate(vizgrad, case, case_inputs(case))
        return inputs, [out], [upstream(tuple(out.shape), dtype=out.detach().numpy().dtype)], []
    return build


def _fanout_shared_constants():
    x = vizgrad.tensor(0.7, requires_grad=True)
    y = vizgrad.tensor(-1.3, requires_grad=True)
    h = x * 0.5 + y * 0.5          # the 0.5 and the + 0.5 below share one constant tensor
    z = (h * h + h.exp() + 0.5) * x - y.tanh() * h
    return [x, y], [z], [np.float32(1)], []


def _scalar_chain():
    x = vizgrad.tensor(0.3, requires_grad=True)
    h = x
    for _ in range(3000):          # deep: the loops must not recurse
        h = (h * 0.9 + 0.1).tanh()
    return [x], [h], [np.float32(1)], []


def _mlp():
    vizgrad.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
    rng = np.random.default_rng(0)
    X = vizgrad.tensor(rng.standard_normal((16, 2)).astype(np.float32))
    T = vizgrad.tensor((rng.random((16, 1)) > 0.5).astype(np.float32))
    loss = F.binary_cross_entropy_with_logits(net(X), T) + F.mse_loss(net(X), T) * 0.1
    return list(net.parameters()), [loss], [np.float32(1)], []


def _two_roots_float64():
    rng = np.random.default_rng(1)
    a = vizgrad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = vizgrad.tensor(rng.standard_normal((4,)), requires_grad=True)
    c = a * b
    r1 = (c.sin() @ b).sum()
    r2 = c.softmax(1)[:, 1:].sum(0)
    return [a, b], [r1, r2], [np.float64(2), rng.standard_normal(3)], []


def _hooks_and_retain_grad():
    x = vizgrad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    w = vizgrad.tensor([1.5, 0.25, -0.5], requires_grad=True)
    h = x * w
    h.retain_grad()
    h.register_hook(lambda g: g * 2)
    m = h.relu() + h.sigmoid()
    x.register_hook(lambda g: g + 1)
    return [x, w], [m.sum()], [np.float32(1)], [h]


GRAPHS = {f"case_{c.name}": _case_graph(c) for c in CASES if c.grad}
GRAPHS.update(fanout_shared_constants=_fanout_shared_constants, scalar_chain=_scalar_chain, mlp=_mlp,
              two_roots_float64=_two_roots_float64, hooks_and_retain_grad=_hooks_and_retain_grad)


def _nodes(roots):
    """Every node reachable from the roots, in a fixed order (depth first, inputs in order)."""
    order, seen = [], set()
    stack = [r.grad_fn for r in reversed(roots) if r.grad_fn is not None]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        order.append(fn)
        stack.extend(t.grad_fn for t in reversed(fn.inputs) if t.grad_fn is not None)
    return order


def _same(a, b, what):
    if a is None or b is None:
        assert a is None and b is None, what
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, what
    np.testing.assert_array_equal(a, b, err_msg=what)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_plain_and_general_backward_agree(name):
    build = GRAPHS[name]
    runs = []
    for loop in ("plain", "general"):
        leaves, roots, grads, retained = build()
        with np.errstate(all="ignore"):
            if loop == "plain":
                backward_plain(roots, grads, False)
            else:
                run_backward(roots, grads, False, False)
        runs.append((leaves, roots, retained))
    (l1, r1, k1), (l2, r2, k2) = runs
    for i, (a, b) in enumerate(zip(l1 + k1, l2 + k2)):
        _same(None if a._grad is None else a._grad._data, None if b._grad is None else b._grad._data,
              f"{name}: .grad of tensor {i}")
    n1, n2 = _nodes(r1), _nodes(r2)
    assert [type(n) for n in n1] == [type(n) for n in n2]
    for k, (a, b) in enumerate(zip(n1, n2)):
        what = f"{name}: node {k} ({a.name()})"
        _same(a.out_grad, b.out_grad, what + " received gradient")
        assert len(a.edge_grads) == len(b.edge_grads) == len(a.inputs), what
        for e, (ga, gb) in enumerate(zip(a.edge_grads, b.edge_grads)):
            _same(ga, gb, what + f" edge {e}")
