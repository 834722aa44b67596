"""The torch functions added for code from the wild (log1p ... addcmul, diagonal ... cdist, det,
inverse), each against real torch: values in float32 and float64 (with edge values), the result's
dtype and printed form, grad_fn.name() and its _saved_* names and values, first derivatives,
second derivatives where torch has them, and gradcheck in float64.

    nice -n 5 /work/main/.venv/bin/python -m pytest -q tests/test_ops_more.py
"""
from __future__ import annotations

import math
import warnings
import zlib

import numpy as np
import pytest

import vizgrad
from vizgrad.autograd import gradcheck

from tests.conftest import need_torch

INF, NAN = math.inf, math.nan


# -- elementwise values, float32 and float64, edge values included --------------------------------
UNARY_POINTS = {
    "log1p": [-0.5, 0.0, 1e-9, 1.0, 3.0, -1.0, -2.0, INF, NAN],
    "expm1": [-1.0, 0.0, 1e-9, 2.0, -INF, INF, 80.0],
    "log2": [0.5, 1.0, 8.0, 1024.0, 3.0, 0.0, -1.0, INF],
    "log10": [0.1, 1.0, 1000.0, 7.0, 0.0, -1.0],
    "rsqrt": [0.25, 1.0, 4.0, 2.0, 0.0, -1.0, INF],
    "sinh": [-2.0, 0.0, 1.0, 0.3, 100.0],
    "cosh": [-2.0, 0.0, 1.0, 0.3, 100.0],
    "asin": [-1.0, -0.5, 0.0, 0.9, 1.0, 1.1],
    "acos": [-1.0, -0.5, 0.0, 0.9, 1.0, -1.5],
    "atan": [-5.0, 0.0, 1.0, 0.3, INF, -INF],
    "erf": [-3.0, -0.5, 0.0, 1e-4, 0.5, 2.0, 6.0, INF, -INF],
    "erfinv": [-0.999, -0.5, 0.0, 1e-5, 0.3, 0.9, 0.9999, 1.0, -1.0, 1.5],
    "frac": [-2.5, 1.25, 0.0, 3.75, -0.125],
    "sinc": [-1.5, 0.0, 0.5, 2.0, 1e-3, 3.25],
    "nan_to_num": [NAN, INF, -INF, 1.0, -0.0],
    "lgamma": [0.0, -0.0, -1.0, -2.5, -0.5, 1e-8, 1.0, 2.5, 10.0, 1e6, INF, -INF, NAN, 0.3, 3.7, -3.3],
    "digamma": [0.0, -0.0, -1.0, -2.5, -0.5, 1e-8, 1.0, 2.5, 10.0, 1e6, INF, -INF, NAN, 0.3, 3.7, -3.3],
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UNARY_POINTS))
def test_unary_values_as_torch(name, dtype):
    torch = need_torch()
    x = UNARY_POINTS[name]
    t = getattr(torch, name)(torch.tensor(x, dtype=getattr(torch, dtype)))
    v = getattr(vizgrad, name)(vizgrad.tensor(x, dtype=getattr(vizgrad, dtype)))
    m = getattr(vizgrad.tensor(x, dtype=getattr(vizgrad, dtype)), name)()  # the method
    assert str(v.dtype) == str(t.dtype)
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(v.numpy(), t.numpy(), rtol=rtol, atol=0, equal_nan=True)
    np.testing.assert_array_equal(m.numpy(), v.numpy())
    assert str(v) == str(t)


@pytest.mark.parametrize("name", ["log1p", "expm1", "log2", "log10", "rsqrt", "sinh", "cosh", "asin", "acos",
                                  "atan", "erf", "erfinv", "sinc", "lgamma", "digamma"])
def test_unary_integer_input_promotes_as_torch(name):
    torch = need_torch()
    t = getattr(torch, name)(torch.tensor([0, 1, 2]))
    v = getattr(vizgrad, name)(vizgrad.tensor([0, 1, 2]))
    assert str(v.dtype) == str(t.dtype) == "torch.float32"
    np.testing.assert_allclose(v.numpy(), t.numpy(), rtol=1e-6, equal_nan=True)


DENSE = {"log1p": (-0.99, 50), "expm1": (-20, 20), "log2": (1e-3, 1e4), "log10": (1e-3, 1e4), "rsqrt": (1e-3, 1e4),
         "sinh": (-20, 20), "cosh": (-20, 20), "asin": (-1, 1), "acos": (-1, 1), "atan": (-50, 50), "erf": (-5, 5),
         "erfinv": (-1, 1), "sinc": (-10, 10), "frac": (-100, 100), "lgamma": (-10, 30), "digamma": (0.01, 30)}


@pytest.mark.parametrize("name", sorted(DENSE))
def test_unary_dense_float32_against_torch(name):
    """5,000 float32 values across each function's domain: within float32 rounding of torch's (near a
    root, such as lgamma's at 1 and 2, within 1e-8: torch's lgammaf and our rounded C lgamma differ)."""
    torch = need_torch()
    lo, hi = DENSE[name]
    x = np.random.default_rng(zlib.crc32(name.encode())).uniform(lo, hi, 5000).astype(np.float32)
    np.testing.assert_allclose(getattr(vizgrad, name)(vizgrad.tensor(x)).numpy(),
                               getattr(torch, name)(torch.tensor(x)).numpy(), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "xlogy"])
def test_binary_dense_float32_against_torch(name):
    torch = need_torch()
    a, b = np.random.default_rng(zlib.crc32(name.encode())).uniform(-5, 5, (2, 5000)).astype(np.float32)
    b = np.abs(b) if name == "xlogy" else b
    np.testing.assert_allclose(getattr(vizgrad, name)(vizgrad.tensor(a), vizgrad.tensor(b)).numpy(),
                               getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-6, atol=1e-7)


def test_erfinv_dense_float64_against_torch():
    """erfinv over (-1, 1) to float64 precision (the Halley steps converge)."""
    torch = need_torch()
    y = np.concatenate([np.linspace(-0.9999, 0.9999, 2001), [1e-300, -1e-12, 0.5 - 1e-16, 1 - 1e-10]])
    np.testing.assert_allclose(vizgrad.erfinv(vizgrad.tensor(y)).numpy(), torch.erfinv(torch.tensor(y)).numpy(),
                               rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_polygamma_values_as_torch(n, dtype):
    """polygamma(n, x) with torch's algorithms (trigamma's short series, Hurwitz zeta for n >= 2),
    edges included; float32 digamma runs in float32 as torch's kernel does."""
    torch = need_torch()
    x = [0.0, -0.0, -1.0, -2.5, -0.5, 1e-8, 1.0, 2.5, 10.0, 1e6, INF, -INF, NAN, 0.3, 3.7, -3.3, 25.0]
    rng = np.random.default_rng(n)
    x += list(rng.uniform(-6, 30, 200))
    t = torch.polygamma(n, torch.tensor(x, dtype=getattr(torch, dtype)))
    v = vizgrad.polygamma(n, vizgrad.tensor(x, dtype=getattr(vizgrad, dtype)))
    assert str(v.dtype) == str(t.dtype)
    np.testing.assert_allclose(v.numpy(), t.numpy(), rtol=2e-6 if dtype == "float32" else 1e-13, equal_nan=True)
    np.testing.assert_array_equal(vizgrad.tensor(x, dtype=getattr(vizgrad, dtype)).polygamma(n).numpy(), v.numpy())


BINARY_A = [-2.0, -0.5, 0.0, 0.0, 1.5, NAN, 3.0, -0.0, 2.0, INF]
BINARY_B = [1.0, 0.0, 0.0, -1.0, 2.0, 1.0, NAN, -3.0, INF, 1.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "xlogy", "fmax", "fmin"])
def test_binary_values_as_torch(name, dtype):
    torch = need_torch()
    a, b = [torch.tensor(x, dtype=getattr(torch, dtype)) for x in (BINARY_A, BINARY_B)]
    va, vb = [vizgrad.tensor(x, dtype=getattr(vizgrad, dtype)) for x in (BINARY_A, BINARY_B)]
    t, v = getattr(torch, name)(a, b), getattr(vizgrad, name)(va, vb)
    assert str(v.dtype) == str(t.dtype)
    np.testing.assert_allclose(v.numpy(), t.numpy(), rtol=1e-6 if dtype == "float32" else 1e-14, equal_nan=True)
    np.testing.assert_array_equal(getattr(va, name)(vb).numpy(), v.numpy())
    assert str(v) == str(t)


def test_binary_integer_and_number_operands_as_torch():
    torch = need_torch()
    for L in (torch, vizgrad):
        a, b = L.tensor([1, 2, 3]), L.tensor([2, 0, 1])
        L.res = [L.atan2(a, b), L.hypot(a.float(), b.float()), L.xlogy(a, b), L.xlogy(2.0, b.double()),
                 L.xlogy(a.float(), 3), L.fmax(a, b), L.fmin(a.float(), b), L.lerp(a.float(), b.float(), 0.25),
                 L.addcmul(a, b, a, value=2), L.addcdiv(a.double(), a, b.float(), value=0.5)]
    for t, v in zip(torch.res, vizgrad.res):
        assert str(v) == str(t)
        assert str(v.dtype) == str(t.dtype)


def test_lerp_both_branches_and_addc_rounding_as_torch():
    """lerp's two formulas (weight below and above 0.5) and addcmul/addcdiv's order of rounding
    give torch's float32 bits."""
    torch = need_torch()
    rng = np.random.default_rng(3)
    x, y, z = rng.standard_normal((3, 1000)).astype(np.float32)
    for w in (0.1, 0.5, 0.9, 1.0, -0.3):
        t = torch.lerp(torch.tensor(x), torch.tensor(y), w).numpy()
        np.testing.assert_allclose(vizgrad.lerp(vizgrad.tensor(x), vizgrad.tensor(y), w).numpy(), t, rtol=1e-6, atol=1e-7)
    t = torch.addcmul(torch.tensor(x), torch.tensor(y), torch.tensor(z), value=0.3).numpy()
    np.testing.assert_allclose(vizgrad.addcmul(vizgrad.tensor(x), vizgrad.tensor(y), vizgrad.tensor(z), value=0.3).numpy(),
                               t, rtol=1e-6, atol=1e-7)
    t = torch.addcdiv(torch.tensor(x), torch.tensor(y), torch.tensor(z), value=-0.01).numpy()
    np.testing.assert_allclose(vizgrad.addcdiv(vizgrad.tensor(x), vizgrad.tensor(y), vizgrad.tensor(z), value=-0.01).numpy(),
                               t, rtol=1e-6, atol=1e-7)


# -- differentiable ops: node name, saved fields, first and second derivatives --------------------
def _pos(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _unit(rng, shape):
    return rng.uniform(-0.8, 0.8, shape)


MAKERS = {"pos": _pos, "unit": _unit, "n": lambda rng, shape: rng.standard_normal(shape),
          "away": lambda rng, shape: rng.uniform(0.3, 1.5, shape) * rng.choice([-1.0, 1.0], shape),
          "distinct": lambda rng, shape: rng.permutation(np.prod(shape)).reshape(shape) * 0.37 - 1.1,
          "withzero": lambda rng, shape: np.where(np.arange(np.prod(shape)).reshape(shape) == 2, 0.0,
                                                  rng.uniform(0.5, 1.5, shape))}


def _mesh0(L, a, b):
    return L.meshgrid(a, b, indexing="ij")[0] * L.meshgrid(a, b, indexing="xy")[1].t()


# name -> (fn(L, *xs), [(maker, shape)], torch has a second derivative)
CASES = {
    "log1p": (lambda L, a: L.log1p(a), [("pos", (3, 2))], True),
    "expm1": (lambda L, a: a.expm1(), [("n", (4,))], True),
    "log2": (lambda L, a: L.log2(a), [("pos", (4,))], True),
    "log10": (lambda L, a: a.log10(), [("pos", (4,))], True),
    "rsqrt": (lambda L, a: L.rsqrt(a), [("pos", (4,))], True),
    "sinh": (lambda L, a: L.sinh(a), [("n", (4,))], True),
    "cosh": (lambda L, a: a.cosh(), [("n", (4,))], True),
    "asin": (lambda L, a: L.asin(a), [("unit", (4,))], True),
    "acos": (lambda L, a: L.arccos(a), [("unit", (4,))], True),
    "atan": (lambda L, a: a.atan(), [("n", (4,))], True),
    "erf": (lambda L, a: L.erf(a), [("n", (4,))], True),
    "erfinv": (lambda L, a: L.erfinv(a), [("unit", (4,))], True),
    "frac": (lambda L, a: L.frac(a * 3) * a, [("n", (4,))], True),
    "sinc": (lambda L, a: L.sinc(a), [("n", (4,))], True),
    "nan_to_num": (lambda L, a: L.nan_to_num(a * a), [("n", (4,))], True),
    "atan2": (lambda L, a, b: L.atan2(a, b), [("n", (3,)), ("away", (2, 3))], True),
    "hypot": (lambda L, a, b: L.hypot(a, b), [("n", (3,)), ("n", (3,))], True),
    "logaddexp": (lambda L, a, b: L.logaddexp(a, b), [("n", (3,)), ("n", (2, 3))], True),
    "xlogy": (lambda L, a, b: L.xlogy(a, b), [("n", (3,)), ("pos", (3,))], True),
    "xlogy_number_self": (lambda L, b: L.xlogy(2.5, b), [("pos", (3,))], True),
    "xlogy_number_other": (lambda L, a: a.xlogy(3.0) * a, [("n", (3,))], True),
    "fmax": (lambda L, a, b: L.fmax(a, b) * a, [("away", (4,)), ("away", (4,))], True),
    "fmin": (lambda L, a, b: a.fmin(b) * b, [("away", (4,)), ("away", (4,))], True),
    "lerp_number": (lambda L, a, b: L.lerp(a * a, b, 0.3), [("n", (3,)), ("n", (3,))], True),
    "lerp_number_high": (lambda L, a, b: a.lerp(b * a, 0.8), [("n", (3,)), ("n", (3,))], True),
    "lerp_tensor": (lambda L, a, b, w: L.lerp(a, b, w), [("n", (3,)), ("n", (3,)), ("unit", (3,))], True),
    "addcmul": (lambda L, a, b, c: L.addcmul(a, b, c, value=2), [("n", (2, 3)), ("n", (3,)), ("n", (2, 3))], True),
    "addcdiv": (lambda L, a, b, c: a.addcdiv(b, c, value=-0.5), [("n", (3,)), ("n", (3,)), ("pos", (3,))], True),
    "diagonal": (lambda L, a: (a * a).diagonal(), [("n", (3, 4))], True),
    "diagonal_offset_dims": (lambda L, a: L.diagonal(a * a, -1, 2, 0), [("n", (3, 2, 4))], True),
    "diag_embed": (lambda L, a: L.diag_embed(a * a, 1, 0, 2), [("n", (2, 3))], True),
    "diag_embed_default": (lambda L, a: (a * a).diag_embed(), [("n", (2, 3))], True),
    "narrow": (lambda L, a: (a * a).narrow(1, 1, 2), [("n", (2, 4))], True),
    "movedim": (lambda L, a: L.movedim(a * a, (0, 1), (2, 0)), [("n", (2, 3, 4))], True),
    "tile": (lambda L, a: (a * a).tile((2, 1, 2)), [("n", (2, 3))], True),
    "sum_to_size": (lambda L, a: (a * a).sum_to_size(3, 1), [("n", (2, 3, 4))], True),
    "kron": (lambda L, a, b: L.kron(a, b), [("n", (2, 2)), ("n", (3, 2))], True),
    "cross": (lambda L, a, b: L.linalg.cross(a, b), [("n", (2, 3)), ("n", (2, 3))], True),
    "cross_dim": (lambda L, a, b: L.cross(a, b, dim=0), [("n", (3, 2)), ("n", (3, 1))], True),
    "cumprod": (lambda L, a: L.cumprod(a, 1), [("away", (2, 4))], True),
    "cumprod_zero": (lambda L, a: a.cumprod(0), [("withzero", (5,))], True),
    "cummax": (lambda L, a: a.cummax(1)[0] * a, [("distinct", (2, 4))], True),
    "cummin": (lambda L, a: L.cummin(a, 0)[0], [("distinct", (3, 2))], True),
    "kthvalue": (lambda L, a: (a * a).kthvalue(2, 0)[0], [("distinct", (3, 2))], True),
    "median": (lambda L, a: (a * a).median(), [("distinct", (2, 3))], True),
    "median_dim": (lambda L, a: L.median(a * a, 1, keepdim=True)[0], [("distinct", (2, 3))], True),
    "masked_select": (lambda L, a: (a * a).masked_select(a > 0), [("away", (2, 3))], True),
    "index_fill": (lambda L, a: (a * a).index_fill(1, L.tensor([0, 2]), -1.0), [("n", (2, 3))], True),
    "tensordot": (lambda L, a, b: L.tensordot(a, b, ([0, 2], [1, 0])), [("n", (2, 3, 4)), ("n", (4, 2))], True),
    "inner": (lambda L, a, b: L.inner(a, b) ** 2, [("n", (2, 3)), ("n", (4, 3))], True),
    "dist": (lambda L, a, b: L.dist(a, b), [("n", (2, 3)), ("n", (3,))], True),
    "dist_p3": (lambda L, a, b: L.dist(a, b, 3), [("n", (4,)), ("n", (4,))], True),
    "cdist": (lambda L, a, b: L.cdist(a, b), [("n", (3, 2)), ("n", (4, 2))], False),
    "cdist_batched": (lambda L, a, b: L.cdist(a, b), [("n", (2, 3, 2)), ("n", (2, 4, 2))], False),
    "cdist_mm": (lambda L, a, b: L.cdist(a, b), [("n", (30, 3)), ("n", (4, 3))], False),
    "det": (lambda L, a: L.det(a), [("n", (3, 3))], True),
    "det_batched": (lambda L, a: L.linalg.det(a), [("n", (2, 3, 3))], True),
    "inverse": (lambda L, a: L.inverse(a), [("n", (3, 3))], True),
    "linalg_inv": (lambda L, a: L.linalg.inv(a) * a, [("n", (2, 2, 2))], True),
    "meshgrid": (_mesh0, [("n", (3,)), ("n", (2,))], True),
    "trace": (lambda L, a: L.trace(a * a), [("n", (3, 4))], True),
    "diag_vector": (lambda L, a: L.diag(a * a, -1), [("n", (3,))], True),
    "diag_matrix": (lambda L, a: (a * a).diag(1), [("n", (3, 4))], True),
    "lgamma": (lambda L, a: L.lgamma(a * 3), [("n", (4,))], True),
    "digamma": (lambda L, a: a.digamma(), [("pos", (4,))], True),
    "polygamma": (lambda L, a: L.polygamma(2, a), [("pos", (4,))], True),
    "renorm": (lambda L, a: a.renorm(2, 0, 1.0), [("n", (3, 4))], True),
    "renorm_p3_dim1": (lambda L, a: L.renorm(a * 2, 3.0, 1, 1.5), [("n", (2, 3, 2))], True),
    "renorm_p1": (lambda L, a: L.renorm(a, 1, -1, 0.8), [("away", (3, 2))], True),
    "cartesian_prod": (lambda L, a, b: L.cartesian_prod(a, b * b), [("n", (3,)), ("n", (2,))], True),
}


def _inputs(name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return [MAKERS[m](rng, shape) for m, shape in CASES[name][1]]


def _run(L, name, arrays, second):
    fn = CASES[name][0]
    xs = [L.tensor(a, dtype=L.float64, requires_grad=True) for a in arrays]
    out = fn(L, *xs)
    w = L.tensor(np.linspace(-1.0, 1.5, out.numel()).reshape(tuple(out.shape)))
    gs = L.autograd.grad((out * w).sum(), xs, create_graph=second, allow_unused=True)
    hs = None
    if second and any(g is not None and g.requires_grad for g in gs):
        vs = [L.tensor(np.cos(np.arange(np.size(a)) + 1.0).reshape(np.shape(a))) for a in arrays]
        total = sum((g * v).sum() for g, v in zip(gs, vs) if g is not None and g.requires_grad)
        hs = L.autograd.grad(total, xs, allow_unused=True)
    return out, gs, hs


def _close(v, t, what, rtol=1e-10):
    if t is None:
        assert v is None or np.allclose(np.asarray(v.detach()), 0), what
        return
    assert v is not None, what
    np.testing.assert_allclose(np.asarray(v.detach()), t.detach().numpy(), rtol=rtol, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_as_torch(name):
    """Value and printed form, node name, saved fields, gradient and (where torch has one) the second
    derivative, all as torch's."""
    torch = need_torch()
    arrays = _inputs(name)
    second = CASES[name][2]
    out_t, g_t, h_t = _run(torch, name, arrays, second)
    out_v, g_v, h_v = _run(vizgrad, name, arrays, second)
    assert str(out_v) == str(out_t)
    _close(out_v, out_t, "value")
    assert out_v.grad_fn.name() == out_t.grad_fn.name()
    for gv, gt in zip(g_v, g_t):
        _close(gv, gt, "gradient")
    if h_t is not None:
        assert h_v is not None
        for hv, ht in zip(h_v, h_t):
            _close(hv, ht, "second derivative", rtol=1e-9)


# name -> the op's output in torch and vizgrad whose node's _saved_* are compared
SAVED = {
    "log1p": lambda L, a, b, c: a.log1p(), "expm1": lambda L, a, b, c: a.expm1(), "erf": lambda L, a, b, c: a.erf(),
    "erfinv": lambda L, a, b, c: (a * 0.3).erfinv(), "rsqrt": lambda L, a, b, c: a.rsqrt(),
    "sinh": lambda L, a, b, c: a.sinh(), "cosh": lambda L, a, b, c: a.cosh(), "asin": lambda L, a, b, c: (a * 0.3).asin(),
    "acos": lambda L, a, b, c: (a * 0.3).acos(), "atan": lambda L, a, b, c: a.atan(), "log2": lambda L, a, b, c: a.log2(),
    "log10": lambda L, a, b, c: a.log10(), "frac": lambda L, a, b, c: a.frac(), "sinc": lambda L, a, b, c: a.sinc(),
    "nan_to_num": lambda L, a, b, c: a.nan_to_num(),
    "atan2": lambda L, a, b, c: a.atan2(b), "hypot": lambda L, a, b, c: a.hypot(b),
    "logaddexp": lambda L, a, b, c: a.logaddexp(b), "xlogy": lambda L, a, b, c: a.xlogy(b),
    "xlogy1": lambda L, a, b, c: L.xlogy(2.0, b), "xlogy2": lambda L, a, b, c: a.xlogy(2),
    "fmax": lambda L, a, b, c: a.fmax(b), "fmin": lambda L, a, b, c: a.fmin(b),
    "lerp0": lambda L, a, b, c: a.lerp(b, 0.3), "lerp1": lambda L, a, b, c: a.lerp(b, c),
    "addcmul": lambda L, a, b, c: a.addcmul(b, c, value=2), "addcdiv": lambda L, a, b, c: a.addcdiv(b, c, value=0.5),
    "diagonal": lambda L, a, b, c: a.diagonal(-1), "diag_embed": lambda L, a, b, c: a.diag_embed(),
    "diag_embed_dims": lambda L, a, b, c: a.diag_embed(2, 0, 2), "tile": lambda L, a, b, c: a.tile(2),
    "movedim": lambda L, a, b, c: a.movedim(0, 1),
    "narrow": lambda L, a, b, c: a.narrow(1, 1, 2), "narrow_negative": lambda L, a, b, c: L.narrow(a, -1, -2, 1), "cross": lambda L, a, b, c: L.linalg.cross(a, b),
    "cross_dim": lambda L, a, b, c: L.cross(a, b, dim=1), "cumprod": lambda L, a, b, c: a.cumprod(0),
    "masked_select": lambda L, a, b, c: a.masked_select(a > 1), "index_fill": lambda L, a, b, c: a.index_fill(0, L.tensor([1]), 2.0),
    "dist": lambda L, a, b, c: L.dist(a, b), "cdist": lambda L, a, b, c: L.cdist(a, b),
    "median": lambda L, a, b, c: a.median(), "median_dim": lambda L, a, b, c: a.median(0)[0],
    "det": lambda L, a, b, c: L.det(a), "linalg_det": lambda L, a, b, c: L.linalg.det(a),
    "inverse": lambda L, a, b, c: L.inverse(a), "sum_to_size": lambda L, a, b, c: a.sum_to_size(1, 3),
    "cummax": lambda L, a, b, c: a.cummax(0)[0], "cummin": lambda L, a, b, c: a.cummin(1)[0],
    "kthvalue": lambda L, a, b, c: a.kthvalue(2, 0)[0], "trace": lambda L, a, b, c: a.trace(),
    "diag_vector": lambda L, a, b, c: L.diag(a[0], 1), "diag_matrix": lambda L, a, b, c: L.diag(a),
    "lgamma": lambda L, a, b, c: a.lgamma(), "digamma": lambda L, a, b, c: a.digamma(),
    "polygamma": lambda L, a, b, c: a.polygamma(3), "renorm": lambda L, a, b, c: a.renorm(2, 0, 1.0),
    "renorm_int": lambda L, a, b, c: L.renorm(a, 3.0, 1, 2),
}


@pytest.mark.parametrize("name", sorted(SAVED))
def test_saved_fields_as_torch(name):
    torch = need_torch()
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    arrays = [rng.uniform(0.5, 2.0, (3, 3)) for _ in range(3)]
    res = []
    for L in (torch, vizgrad):
        a, b, c = [L.tensor(x, requires_grad=True) for x in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res.append(SAVED[name](L, a, b, c).grad_fn)
    tf, vf = res
    assert vf.name() == tf.name()
    tnames = [n for n in dir(tf) if n.startswith("_saved")]
    assert [n for n in dir(vf) if n.startswith("_saved")] == tnames
    for n in tnames:
        tv, vv = getattr(tf, n), getattr(vf, n)
        if isinstance(tv, torch.Tensor):
            assert isinstance(vv, vizgrad.Tensor), n
            assert str(vv.dtype) == str(tv.dtype), n
            np.testing.assert_allclose(np.asarray(vv.detach()), tv.detach().numpy(), rtol=1e-12, err_msg=n)
            assert (vv.grad_fn is None) == (tv.grad_fn is None), n
        else:
            assert vv == tv and type(vv) is type(tv), (n, vv, tv)


# -- gradcheck (finite differences) in float64, away from kinks ----------------------------------
@pytest.mark.parametrize("name", [n for n in sorted(CASES) if not n.startswith(("fmax", "fmin", "cum", "kth", "median",
                                                                               "frac", "masked"))])
def test_gradcheck(name):
    fn = CASES[name][0]
    xs = tuple(vizgrad.tensor(a, dtype=vizgrad.float64, requires_grad=True) for a in _inputs(name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(lambda *t: fn(vizgrad, *t), xs)


# -- no-gradient selections, creation-like functions and methods ---------------------------------
def _same(v, t, torch):
    if isinstance(t, torch.Tensor):
        assert isinstance(v, vizgrad.Tensor)
        assert str(v.dtype) == str(t.dtype)
        assert tuple(v.shape) == tuple(t.shape)
        assert str(v) == str(t)
    elif isinstance(t, (tuple, list)):
        assert len(v) == len(t)
        for a, b in zip(v, t):
            _same(a, b, torch)
    else:
        assert v == t


NO_GRAD = {
    "nonzero": lambda L, x: L.nonzero(x),
    "nonzero_tuple": lambda L, x: x.nonzero(as_tuple=True),
    "argwhere": lambda L, x: L.argwhere(x),
    "count_nonzero": lambda L, x: (x.count_nonzero(), L.count_nonzero(x, 1), L.count_nonzero(x, dim=0)),
    "unique": lambda L, x: (L.unique(x), x.unique(return_counts=True), L.unique(x, return_inverse=True),
                            L.unique(x, sorted=True, return_inverse=True, return_counts=True)),
    "unique_dim": lambda L, x: L.unique(L.tensor([[1, 2], [0, 1], [1, 2]]), dim=0, return_inverse=True),
    "bincount": lambda L, x: (L.bincount(x[1]), x[0].bincount(minlength=7),
                              L.bincount(x[0], weights=L.tensor([0.5, 1.0, 2.0, 3.0]))),
    "searchsorted": lambda L, x: (L.searchsorted(L.tensor([1, 3, 5, 7]), L.tensor([3, 6, 9, 0])),
                                  L.searchsorted(L.tensor([1, 3, 5, 7]), L.tensor([3, 6]), right=True),
                                  L.searchsorted(L.tensor([[1, 3, 5], [2, 4, 6]]), L.tensor([[3], [3]])),
                                  L.searchsorted(L.tensor([1., 3]), L.tensor([2.]), side="right", out_int32=True)),
    "bucketize": lambda L, x: (L.bucketize(L.tensor([1, 5, 8, 3]), L.tensor([1, 3, 5, 7])),
                               L.bucketize(L.tensor([[1, 5], [8, 0]]), L.tensor([1, 3, 5, 7]), right=True)),
    "histc": lambda L, x: (L.histc(L.tensor([1., 2, 1, 4, 2.5, 7]), bins=4, min=0, max=4),
                           L.tensor([1., 2, 1, 4, 2.5, 7]).histc(bins=3), L.histc(L.tensor([2.0, 2.0]), bins=4)),
    "heaviside": lambda L, x: (L.heaviside(L.tensor([-1.0, 0.0, 2.0]), L.tensor(0.5)),
                               L.tensor([-1.0, 0.0]).heaviside(L.tensor([0.25, 0.75])),
                               L.heaviside(L.tensor([-1.0, 0.0], requires_grad=True), L.tensor(0.5))),
    "logical": lambda L, x: (L.logical_xor(x[0], x[1]), x[0].logical_xor(x[1] > 0), x[0].logical_and(x[1]),
                             x[1].logical_or(x[0])),
    "median_ties": lambda L, x: (L.tensor([1.0, 3.0, 2.0, 4.0]).median(), L.tensor([[1.0, 5.0], [3.0, 2.0]]).median(0),
                                 L.tensor([2.0, NAN, 1.0]).median()),
    "kthvalue_result": lambda L, x: L.tensor([[3.0, 1.0, 2.0], [0.5, 9.0, 4.0]]).kthvalue(2),
    "cummax_result": lambda L, x: (L.tensor([1.0, 3.0, 2.0, 3.0, 5.0]).cummax(0), L.tensor([4.0, 3.0, 3.0, 5.0]).cummin(0)),
    "int_ops": lambda L, x: (x.cumprod(1), x.tile(2), x.diagonal(), L.kron(x[0], x[1]), x.narrow(1, 1, 2)),
    "meshgrid_xy": lambda L, x: L.meshgrid(L.tensor([1, 2, 3]), L.tensor([4, 5]), indexing="xy"),
    "meshgrid_list": lambda L, x: L.meshgrid([L.tensor([1, 2]), L.tensor([4, 5, 6]), L.tensor([7])], indexing="ij"),
    "cartesian_prod": lambda L, x: L.cartesian_prod(L.tensor([1, 2]), L.tensor([3, 4]), L.tensor([5])),
}


@pytest.mark.parametrize("name", sorted(NO_GRAD))
def test_selection_as_torch(name):
    torch = need_torch()
    data = np.array([[3, 1, 3, 2], [0, 0, 5, 1]])
    _same(NO_GRAD[name](vizgrad, vizgrad.tensor(data)), NO_GRAD[name](torch, torch.tensor(data)), torch)


def test_meshgrid_without_indexing_warns_as_torch():
    torch = need_torch()
    got = {}
    for L in (torch, vizgrad):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            grids = L.meshgrid(L.tensor([1, 2]), L.tensor([3, 4, 5]))
        got[L] = ([str(m.message) for m in w], [m.category for m in w], [str(g) for g in grids])
    assert got[vizgrad] == got[torch]


def test_tensor_methods_as_torch():
    torch = need_torch()
    res = []
    for L in (torch, vizgrad):
        x = L.tensor([[1.5, 2.0, 100.0], [4.0, 0.0, 12.7]])
        r = [x.ndimension(), x[1].storage_offset(), x[:, 1:].storage_offset(), x.storage_offset(),
             str(x.byte()), str(x.char()), str(x.short()), str(x.byte().dtype), str(x.short().dtype)]
        y = x.clone()
        y.t_()
        r.append(str(y))
        z = L.zeros(2, 1, 3)
        z.squeeze_(1)
        r.append(tuple(z.shape))
        z.unsqueeze_(0)
        r.append(tuple(z.shape))
        z.squeeze_()
        r.append(tuple(z.shape))
        res.append(r)
    assert res[1] == res[0]


def test_data_ptr_is_stable_per_storage():
    x = vizgrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    p = x.data_ptr()
    assert p == x.data_ptr() and p != 0
    assert x[1].data_ptr() == p + 2 * x.element_size()  # a view: the same storage, its own offset
    assert x.view(4).data_ptr() == p
    assert x.clone().data_ptr() != p
    s = vizgrad.tensor(2.0)
    assert s.data_ptr() == s.data_ptr()


def test_inplace_view_methods_record_torch_nodes():
    torch = need_torch()
    res = []
    for L in (torch, vizgrad):
        a = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        y = a * 2
        y.t_()
        names = [y.grad_fn.name(), y._version]
        y.unsqueeze_(1)
        names.append(y.grad_fn.name())
        y.squeeze_(1)
        names.append(y.grad_fn.name())
        y.squeeze_()
        names.append(y.grad_fn.name())
        (y * L.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
        names.append(a.grad.tolist())
        with pytest.raises(RuntimeError) as e:
            a.t_()
        names.append(str(e.value).splitlines()[0])
        res.append(names)
    assert res[1] == res[0]


def test_optimizer_inplace_updates_as_torch():
    """exp_avg.lerp_(g, 1 - b1); exp_avg_sq.mul_(b2).addcmul_(g, g, value=1 - b2); p.addcdiv_(m, d, value=-lr)."""
    torch = need_torch()
    rng = np.random.default_rng(0)
    g0, p0 = rng.standard_normal((2, 5)).astype(np.float32)
    out = []
    for L in (torch, vizgrad):
        p, g = L.tensor(p0), L.tensor(g0)
        m, v = L.zeros(5), L.zeros(5)
        for _ in range(3):
            m.lerp_(g, 0.1)
            v.mul_(0.999).addcmul_(g, g, value=0.001)
            p.addcdiv_(m, v.sqrt().add_(1e-8), value=-0.01)
            w = L.full((5,), 0.5)
            m.lerp_(g, w)
        out.append((p.numpy().copy(), m.numpy().copy(), v.numpy().copy(), str(p)))
    for a, b in zip(out[1][:3], out[0][:3]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert out[1][3] == out[0][3]


def test_inplace_elementwise_forms():
    torch = need_torch()
    res = []
    for L in (torch, vizgrad):
        r = []
        for name in ("log1p_", "expm1_", "rsqrt_", "sinh_", "cosh_", "atan_", "erf_", "frac_", "log2_", "log10_"):
            x = L.tensor([0.25, 1.5, 3.0])
            assert getattr(x, name)() is x
            r.append(str(x))
        a = L.tensor([0.5, 2.0], requires_grad=True)
        y = a * 1
        y.log1p_()
        r.append(y.grad_fn.name())
        x = L.tensor([[1.0, 2.0], [3.0, 4.0]])
        x.index_fill_(1, L.tensor([0]), -1.0)
        r.append(str(x))
        x = L.tensor([NAN, INF])
        x.nan_to_num_(0.0, 9.0)
        r.append(str(x))
        res.append(r)
    assert res[1] == res[0]


# -- bad arguments: torch's first line ----------------------------------------------------------
ERRORS = {
    "narrow_past_end": lambda L: L.arange(6.0).reshape(2, 3).narrow(0, 1, 5),
    "narrow_start": lambda L: L.arange(6.0).reshape(2, 3).narrow(1, 4, 1),
    "narrow_dim": lambda L: L.arange(6.0).reshape(2, 3).narrow(2, 0, 1),
    "inverse_singular": lambda L: L.inverse(L.zeros(2, 2)),
    "inverse_nonsquare": lambda L: L.linalg.inv(L.zeros(2, 3)),
    "det_int": lambda L: L.det(L.zeros(2, 2, dtype=L.long)),
    "sum_to_size": lambda L: L.zeros(2, 3).sum_to_size(4, 3),
    "cross_size": lambda L: L.linalg.cross(L.zeros(2, 4), L.zeros(2, 4)),
    "kthvalue_k": lambda L: L.zeros(2, 3).kthvalue(5),
    "cdist_columns": lambda L: L.cdist(L.zeros(2, 3), L.zeros(2, 2)),
    "cdist_1d": lambda L: L.cdist(L.zeros(3), L.zeros(2, 3)),
    "frac_int": lambda L: L.frac(L.tensor([1])),
    "diagonal_same_dims": lambda L: L.zeros(2, 2).diagonal(0, 1, 1),
    "bincount_negative": lambda L: L.bincount(L.tensor([1, -1])),
    "meshgrid_indexing": lambda L: L.meshgrid(L.tensor([1]), indexing="yx"),
    "movedim_lengths": lambda L: L.zeros(2, 3).movedim((0, 1), 0),
    "index_fill_range": lambda L: L.zeros(2, 3).index_fill(1, L.tensor([3]), 1.0),
    "addcdiv_int": lambda L: L.addcdiv(L.tensor([1]), L.tensor([1]), L.tensor([2])),
    "heaviside_backward": lambda L: L.heaviside(L.tensor([1.0, 0.0], requires_grad=True), L.tensor(0.5)).sum().backward(),
    "heaviside_dtypes": lambda L: L.heaviside(L.tensor([1.0, 0.0]), L.tensor(1)),
    "masked_select_mask": lambda L: L.zeros(3).masked_select(L.tensor([1, 0, 1])),
    "tensordot_sizes": lambda L: L.tensordot(L.zeros(2, 3), L.zeros(4, 2), 1),
    "renorm_1d": lambda L: L.zeros(3).renorm(2, 0, 1.0),
    "renorm_p": lambda L: L.zeros(3, 3).renorm(0, 0, 1.0),
    "renorm_maxnorm": lambda L: L.zeros(3, 3).renorm(2, 0, -1),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_as_torch(name):
    torch = need_torch()
    with pytest.raises(Exception) as et:
        ERRORS[name](torch)
    with pytest.raises(Exception) as ev:
        ERRORS[name](vizgrad)
    assert str(ev.value).splitlines()[0] == str(et.value).splitlines()[0]
    want = type(et.value)
    if want.__name__ == "_LinAlgError":  # torch.linalg.LinAlgError, a RuntimeError (ours: vizgrad.linalg's)
        want = RuntimeError
    assert isinstance(ev.value, want)


def _new_op_outputs():
    """One output per op class added here, for the registry's symbol/LaTeX check (tests/test_graph.py)."""
    outs = []
    for name, (fn, _, _) in CASES.items():
        xs = [vizgrad.tensor(a, requires_grad=True) for a in _inputs(name)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outs.append(fn(vizgrad, *xs))
    return outs


def test_new_ops_draw_with_one_rule_per_input():
    """Each new op's drawn node has a symbol and one LaTeX derivative per input (as the graph view needs)."""
    import vizgrad.graph as vg
    met = set()
    for out in _new_op_outputs():
        g = vg.trace(out)
        for _, d in g.nodes(data=True):
            if d["kind"] == "op":
                met.add(d["op"])
                assert d["symbol"] and d["symbol"] != "?", d["op"]
                assert len(d["latex"]) == len(d["inputs"]), (d["op"], d["latex"], d["inputs"])
    from vizgrad.ops import OPS
    new = {"Log1PBackward0", "ErfinvBackward0", "LerpBackward1", "AddcdivBackward0", "DiagEmbedBackward0",
           "CumprodBackward0", "MaskedSelectBackward0", "LinalgDetBackward0", "CdistBackward0", "LinalgCrossBackward0"}
    assert new <= set(OPS) and new <= met, new - met


def test_cdist_second_derivative_by_finite_differences():
    """torch has no second derivative for cdist on few rows ('_cdist_backward' is not implemented),
    so the double-backward table cannot compare CdistBackward0 with torch; vizgrad's is checked
    against finite differences of its own gradient instead."""
    from vizgrad.autograd import gradgradcheck
    torch = need_torch()
    rng = np.random.default_rng(4)
    a0, b0 = rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    (g,) = torch.autograd.grad(torch.cdist(ta, tb).sum(), ta, create_graph=True)
    with pytest.raises(RuntimeError, match="_cdist_backward"):
        torch.autograd.grad(g.sum(), ta)
    a, b = vizgrad.tensor(a0, requires_grad=True), vizgrad.tensor(b0, requires_grad=True)
    assert vizgrad.cdist(a, b).grad_fn.name() == "CdistBackward0"
    assert gradgradcheck(lambda x, y: vizgrad.cdist(x, y), (a, b))


# -- property tests: shapes, offsets, dims and zeros drawn at random, each against torch ---------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4), offset=st.integers(-4, 4), data=st.data())
def test_diagonal_and_diag_embed_any_dims_as_torch(shape, offset, data):
    """diagonal over any pair of dims and any offset (empty diagonals too), its gradient, and
    diag_embed of the result back, all as torch."""
    torch = need_torch()
    n = len(shape)
    d1 = data.draw(st.integers(-n, n - 1))
    d2 = data.draw(st.integers(-n, n - 1).filter(lambda d: d % n != d1 % n))
    x0 = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) * 0.5 - 1
    res = []
    for L in (torch, vizgrad):
        x = L.tensor(x0, requires_grad=True)
        d = x.diagonal(offset, d1, d2)
        e = L.diag_embed(d * d, offset, d1, d2) if d.numel() else None
        (d.sum() * 3 + (e.sum() if e is not None else 0)).backward()
        res.append((str(d), None if e is None else str(e), x.grad.numpy().copy()))
    assert res[1][:2] == res[0][:2]
    np.testing.assert_array_equal(res[1][2], res[0][2])


@_PROPERTY
@given(n=st.integers(2, 6), zeros=st.sets(st.integers(0, 5), max_size=3), seed=st.integers(0, 1000))
def test_cumprod_gradient_with_any_zeros_as_torch(n, zeros, seed):
    """cumprod's gradient (and second derivative) where the input has zeros anywhere, as torch's."""
    torch = need_torch()
    x0 = np.random.default_rng(seed).uniform(0.5, 1.5, n) * np.where(np.arange(n) % 2, -1, 1)
    x0[[z for z in zeros if z < n]] = 0.0
    res = []
    for L in (torch, vizgrad):
        x = L.tensor(x0, requires_grad=True)
        w = L.tensor(np.linspace(-1, 2, n))
        (g,) = L.autograd.grad((x.cumprod(0) * w).sum(), x, create_graph=True)
        (h,) = L.autograd.grad((g * w).sum(), x)
        res.append((g.detach().numpy(), h.numpy()))
    for a, b in zip(res[1], res[0]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@_PROPERTY
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), k=st.integers(1, 4), data=st.data())
def test_median_kthvalue_cummax_any_dim_as_torch(shape, k, data):
    """Values and indices of median/kthvalue/cummax/cummin along any dim (distinct values, so the
    index is defined), and the gradient each sends back, as torch's."""
    torch = need_torch()
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keep = data.draw(st.booleans())
    x0 = np.random.default_rng(sum(shape) + k).permutation(int(np.prod(shape))).reshape(shape) * 0.25 - 1.0
    k = min(k, shape[dim])
    res = []
    for L in (torch, vizgrad):
        x = L.tensor(x0, requires_grad=True)
        outs = [x.median(dim, keepdim=keep), x.kthvalue(k, dim, keep), x.cummax(dim), x.cummin(dim)]
        total = sum((o.values * (i + 1)).sum() for i, o in enumerate(outs)) + x.median() * 7
        total.backward()
        res.append(([repr(o) for o in outs], x.grad.numpy().copy()))
    assert res[1][0] == res[0][0]
    np.testing.assert_array_equal(res[1][1], res[0][1])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32"])
def test_logspace_is_torchs_bit_for_bit(dtype):
    """torch's CPU kernel: end - start in the dtype, the step and C's pow in double, the first half
    from start and the rest from end; one step is base**start."""
    torch = need_torch()
    for args in [(0, 3, 7), (-2, 2, 11), (0.5, 4.5, 100), (1, 10, 5, 2.0), (-5, 5, 51, 3.0), (0, 1, 1), (0, 2, 0),
                 (0.1, 0.7, 33, 2.5), (-1.3, 7.9, 1000), (0, 400, 5), (1, 3, 4, -2.0), (0.5, 2.5, 3, -2.0)]:
        want = torch.logspace(*args, dtype=getattr(torch, dtype))
        got = vizgrad.logspace(*args, dtype=getattr(vizgrad, dtype))
        assert str(got) == str(want), args
        assert np.array_equal(got.numpy(), want.numpy(), equal_nan=want.dtype.is_floating_point), args
