"""vizgrad.autograd.functional against torch.autograd.functional (values and return structure)."""
from __future__ import annotations

import numpy as np
import pytest

import vizgrad
import vizgrad.autograd.functional as VAF

from tests.conftest import need_torch


def _same(a, b):
    """Compare nested tuples of tensors (vizgrad vs torch)."""
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    assert not isinstance(a, tuple)
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(np.asarray(a.detach()._data), b.detach().numpy(), rtol=1e-10, atol=1e-12)


def f_scalar(L, x):
    return (L.sin(x) * x ** 3).sum()


def f_vec(L, x):
    return L.tanh(x) * x.sum()


def f_two(L, x, y):
    return (x.exp() * y).sum() + (x * x * y * y).sum()


def f_two_out(L, x, y):
    return x * y, (x ** 2).sum() + y.sum()


def _inputs(L, *shapes):
    rng = np.random.default_rng(0)
    return tuple(L.tensor(rng.standard_normal(s), dtype=L.float64) for s in shapes)


@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian(create_graph):
    torch = need_torch()
    for fn, shapes in [(f_vec, [(3,)]), (f_scalar, [(4,)]), (f_two_out, [(2,), (2,)]), (f_two, [(2,), (2,)])]:
        res = []
        for L, AF in ((vizgrad, VAF), (torch, torch.autograd.functional)):
            ins = _inputs(L, *shapes)
            arg = ins if len(ins) > 1 else ins[0]
            res.append(AF.jacobian(lambda *a: fn(L, *a), arg, create_graph=create_graph))
        _same(*res)


def test_hessian():
    torch = need_torch()
    for fn, shapes in [(f_scalar, [(3,)]), (f_two, [(2,), (2,)])]:
        res = []
        for L, AF in ((vizgrad, VAF), (torch, torch.autograd.functional)):
            ins = _inputs(L, *shapes)
            arg = ins if len(ins) > 1 else ins[0]
            res.append(AF.hessian(lambda *a: fn(L, *a), arg))
        _same(*res)


def test_vjp_jvp_hvp_vhp():
    torch = need_torch()
    rng = np.random.default_rng(1)
    v3 = rng.standard_normal(3)
    for name in ["vjp", "jvp", "hvp", "vhp"]:
        res = []
        for L, AF in ((vizgrad, VAF), (torch, torch.autograd.functional)):
            (x,) = _inputs(L, (3,))
            v = L.tensor(v3, dtype=L.float64)
            fn = f_vec if name in ("vjp", "jvp") else f_scalar
            res.append(getattr(AF, name)(lambda a: fn(L, a), x, v))
        _same(*res)
    # tuple inputs
    for name in ["vjp", "vhp", "hvp"]:
        res = []
        for L, AF in ((vizgrad, VAF), (torch, torch.autograd.functional)):
            ins = _inputs(L, (2,), (2,))
            vs = (L.tensor([1.0, 2.0], dtype=L.float64), L.tensor([0.5, -1.0], dtype=L.float64))
            if name == "vjp":
                res.append(AF.vjp(lambda a, b: f_two(L, a, b), ins))
            else:
                res.append(getattr(AF, name)(lambda a, b: f_two(L, a, b), ins, vs))
        _same(*res)


def test_create_graph_results_are_differentiable():
    x = vizgrad.tensor([0.5, 1.5], dtype=vizgrad.float64, requires_grad=True)
    _, g = VAF.vjp(lambda a: (a ** 3).sum(), x, create_graph=True)
    assert g.requires_grad
    (h,) = vizgrad.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x.detach().numpy())
    _, g2 = VAF.vjp(lambda a: (a ** 3).sum(), x)
    assert not g2.requires_grad


def test_strict_and_errors():
    x = vizgrad.ones(2, dtype=vizgrad.float64)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        VAF.jacobian(lambda a: vizgrad.ones(2), x, strict=True)
    np.testing.assert_array_equal(VAF.jacobian(lambda a: vizgrad.ones(2) * 1.0, x).numpy(), np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="v can only be None"):
        VAF.vjp(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="should contain a single element"):
        VAF.hessian(lambda a: a * 2, x)


def test_third_derivative_via_grad():
    torch = need_torch()
    out = []
    for L in (vizgrad, torch):
        x = L.tensor(0.7, dtype=L.float64, requires_grad=True)
        y = L.sin(x) * x ** 3
        d1, = L.autograd.grad(y, x, create_graph=True)
        d2, = L.autograd.grad(d1, x, create_graph=True)
        d3, = L.autograd.grad(d2, x)
        out.append([float(d1), float(d2), float(d3)])
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12)
