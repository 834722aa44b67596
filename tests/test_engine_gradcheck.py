"""Every op's gradient against central finite differences, in float64, over hypothesis-drawn shapes.

For an op f and a fixed random upstream gradient g, the analytic gradient of sum(f(x) * g) that
vizgrad's backward gives must equal its numerical derivative (central differences, eps 1e-6).
Shapes include broadcasting (gradients reduced back to each input's shape), 0-d tensors and
size-1 dims; data come from a drawn seed, placed inside each op's domain and away from kinks.
No torch needed.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vizgrad

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EPS = 1e-6


def _data(rng, shape, domain):
    if domain == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "away":  # |x| in [0.2, 2]: no kink of abs/relu/clamp/max within eps
        return rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return rng.standard_normal(shape)


def gradcheck(fn, arrays, seed=0, atol=1e-6, rtol=1e-5):
    """Compare vizgrad's gradients of sum(fn(*xs) * g) with central finite differences."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    xs = [vizgrad.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    assert out.dtype is vizgrad.float64
    g = np.random.default_rng(seed + 1).standard_normal(out.shape)
    out.backward(vizgrad.tensor(g))

    def loss(arrs):
        return float(np.sum(fn(*[vizgrad.tensor(a) for a in arrs]).numpy() * g))

    for i, (x, a) in enumerate(zip(xs, arrays)):
        assert x.grad is not None, f"input {i} got no gradient"
        assert x.grad.shape == a.shape, f"grad {i} shape {tuple(x.grad.shape)} != input shape {a.shape}"
        num = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus = [b.copy() for b in arrays]
            minus = [b.copy() for b in arrays]
            plus[i][idx] += EPS
            minus[i][idx] -= EPS
            num[idx] = (loss(plus) - loss(minus)) / (2 * EPS)
        np.testing.assert_allclose(x.grad.numpy(), num, atol=atol, rtol=rtol, err_msg=f"gradient of input {i}")


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
seeds = st.integers(0, 2 ** 31)


def _bcast(n):
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=3, min_side=1, max_side=3)


# -- elementwise binary ops, with broadcasting --------------------------------------------------------
BINARY = {
    "add": (lambda a, b: a + b, "real", "real"),
    "add_fn_alpha": (lambda a, b: vizgrad.add(a, b, alpha=2.5), "real", "real"),
    "sub": (lambda a, b: a - b, "real", "real"),
    "sub_fn": (lambda a, b: vizgrad.sub(a, b), "real", "real"),
    "mul": (lambda a, b: a * b, "real", "real"),
    "div": (lambda a, b: a / b, "real", "away"),
    "pow": (lambda a, b: a ** b, "pos", "real"),
    "maximum": (lambda a, b: vizgrad.maximum(a, b), "real", "real"),
    "minimum": (lambda a, b: a.minimum(b), "real", "real"),
    "where": (lambda a, b: vizgrad.where(a > b, a, b * 2), "real", "real"),
}


@pytest.mark.parametrize("name", BINARY)
@SETTINGS
@given(bs=_bcast(2), seed=seeds)
def test_binary_broadcast(name, bs, seed):
    fn, da, db = BINARY[name]
    rng = np.random.default_rng(seed)
    a, b = _data(rng, bs.input_shapes[0], da), _data(rng, bs.input_shapes[1], db)
    if name in ("maximum", "minimum", "where"):  # keep the operands apart: no tie within eps
        close = np.abs(a - b) < 1e-3
        a = np.where(close, a + 0.1, a)
    gradcheck(fn, [a, b], seed)


SCALAR_BINARY = {
    "radd": lambda a: 2.5 + a, "rsub": lambda a: 1.5 - a, "sub_scalar": lambda a: a - 3, "rmul": lambda a: 3 * a,
    "div_scalar": lambda a: a / 4, "rdiv": lambda a: 2.0 / a, "rpow": lambda a: 2 ** a,
}


@pytest.mark.parametrize("name", SCALAR_BINARY)
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_python_scalar_operand(name, shape, seed):
    domain = "away" if name == "rdiv" else "real"
    gradcheck(SCALAR_BINARY[name], [_data(np.random.default_rng(seed), shape, domain)], seed)


# -- elementwise unary ops ------------------------------------------------------------------------------
UNARY = {
    "neg": (lambda x: -x, "real"), "neg_fn": (vizgrad.neg, "real"),
    "exp": (vizgrad.exp, "real"), "log": (vizgrad.log, "pos"), "sqrt": (vizgrad.sqrt, "pos"),
    "abs": (vizgrad.abs, "away"), "sin": (vizgrad.sin, "real"), "cos": (vizgrad.cos, "real"),
    "tanh": (vizgrad.tanh, "real"), "sigmoid": (vizgrad.sigmoid, "real"), "relu": (vizgrad.relu, "away"),
    "clamp": (lambda x: x.clamp(-0.1, 0.1), "away"), "clamp_min": (lambda x: vizgrad.clamp(x, min=0.1), "away"),
    "clamp_max": (lambda x: x.clamp(max=-0.1), "away"),
    "pow2": (lambda x: x ** 2, "real"), "pow3": (lambda x: x.pow(3), "real"), "pow_half": (lambda x: x ** 0.5, "pos"),
    "pow_neg": (lambda x: x ** -2.5, "pos"), "pow0": (lambda x: x ** 0, "real"),
    "composite": (lambda x: (x.sin() * x.exp() + x ** 2).tanh() * x, "real"),
}


@pytest.mark.parametrize("name", UNARY)
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_unary(name, shape, seed):
    fn, domain = UNARY[name]
    x = _data(np.random.default_rng(seed), shape, domain)
    if name.startswith("clamp"):
        x = np.where(np.abs(np.abs(x) - 0.1) < 0.05, x * 2, x)  # away from the clamp bounds +-0.1
    gradcheck(fn, [x], seed)


# -- reductions --------------------------------------------------------------------------------------------
@st.composite
def shape_and_dim(draw, min_dims=1):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return shape, dim, draw(st.booleans())


@pytest.mark.parametrize("name", ["sum", "mean"])
@SETTINGS
@given(sdk=shape_and_dim(), seed=seeds, multi=st.booleans(), method=st.booleans())
def test_sum_mean(name, sdk, seed, multi, method):
    shape, dim, keepdim = sdk
    dims = tuple(sorted({dim % len(shape), 0})) if multi else dim
    x = _data(np.random.default_rng(seed), shape, "real")
    if method:
        gradcheck(lambda t: getattr(t, name)(dims, keepdim=keepdim), [x], seed)
    else:
        gradcheck(lambda t: getattr(vizgrad, name)(t, dim=dims, keepdim=keepdim), [x], seed)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_full_reduction(name, shape, seed):
    x = np.random.default_rng(seed).permutation(np.prod(shape, dtype=int)).reshape(shape) * 0.1 + 0.01
    gradcheck(lambda t: getattr(t, name)(), [x], seed)  # distinct values: no tie for max/min


@pytest.mark.parametrize("name", ["max", "min"])
@SETTINGS
@given(sdk=shape_and_dim(), seed=seeds)
def test_max_min_dim(name, sdk, seed):
    shape, dim, keepdim = sdk
    x = np.random.default_rng(seed).permutation(np.prod(shape, dtype=int)).reshape(shape) * 0.1
    gradcheck(lambda t: getattr(t, name)(dim, keepdim=keepdim).values, [x], seed)
    idx = getattr(vizgrad.tensor(x), name)(dim, keepdim=keepdim).indices.numpy()
    ref = (np.argmax if name == "max" else np.argmin)(x, axis=dim)
    np.testing.assert_array_equal(idx, np.expand_dims(ref, dim) if keepdim else ref)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@SETTINGS
@given(sdk=shape_and_dim(), seed=seeds)
def test_softmax(name, sdk, seed):
    shape, dim, _ = sdk
    x = _data(np.random.default_rng(seed), shape, "real") * 3
    gradcheck(lambda t: getattr(vizgrad, name)(t, dim), [x], seed)
    out = vizgrad.softmax(vizgrad.tensor(x), dim).numpy()
    np.testing.assert_allclose(out.sum(axis=dim), 1.0)


# -- shape ops ---------------------------------------------------------------------------------------------
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=3), seed=seeds, data=st.data())
def test_shape_ops(shape, seed, data):
    x = _data(np.random.default_rng(seed), shape, "real")
    n = len(shape)
    d0, d1 = data.draw(st.integers(-n, n - 1)), data.draw(st.integers(-n, n - 1))
    perm = tuple(data.draw(st.permutations(range(n))))
    new_dim = data.draw(st.integers(-n - 1, n))
    gradcheck(lambda t: t.reshape(-1), [x], seed)
    gradcheck(lambda t: t.view(tuple(reversed(shape))), [x], seed)
    gradcheck(lambda t: t.transpose(d0, d1), [x], seed)
    gradcheck(lambda t: t.permute(*perm), [x], seed)
    gradcheck(lambda t: t.unsqueeze(new_dim), [x], seed)
    gradcheck(lambda t: t.unsqueeze(0).squeeze(), [x], seed)
    gradcheck(lambda t: t.squeeze(d0), [x], seed)
    if n <= 2:
        gradcheck(lambda t: t.t(), [x], seed)
    gradcheck(lambda t: t.T, [x], seed)


@st.composite
def index_keys(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    parts = []
    for n in shape[:draw(st.integers(1, len(shape)))]:
        kind = draw(st.sampled_from(["int", "slice", "array", "full"]))
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start, stop = draw(st.integers(-n, n)), draw(st.integers(-n, n))
            parts.append(slice(start, stop, draw(st.sampled_from([None, 1, 2]))))
        elif kind == "array":
            parts.append(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4)))  # repeats accumulate
        else:
            parts.append(slice(None))
    if len([p for p in parts if isinstance(p, list)]) > 1:  # one index array: the others become slices
        first = next(i for i, p in enumerate(parts) if isinstance(p, list))
        parts = [p if not isinstance(p, list) or i == first else slice(None) for i, p in enumerate(parts)]
    return shape, tuple(parts) if len(parts) > 1 or draw(st.booleans()) else parts[0]


@SETTINGS
@given(sk=index_keys(), seed=seeds)
def test_getitem(sk, seed):
    shape, key = sk
    x = _data(np.random.default_rng(seed), shape, "real")
    np_key = tuple(np.asarray(k) if isinstance(k, list) else k for k in key) if isinstance(key, tuple) else (
        np.asarray(key) if isinstance(key, list) else key)
    np.testing.assert_array_equal(vizgrad.tensor(x)[key].numpy(), x[np_key])
    gradcheck(lambda t: t[key] * 1.0, [x], seed)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), seed=seeds, data=st.data())
def test_cat_stack(shape, seed, data):
    rng = np.random.default_rng(seed)
    n = len(shape)
    dim = data.draw(st.integers(-n, n - 1))
    k = data.draw(st.integers(1, 3))
    sizes = [data.draw(st.integers(1, 3)) for _ in range(k)]
    parts = [_data(rng, shape[:dim % n] + (s,) + shape[dim % n + 1:], "real") for s in sizes]
    gradcheck(lambda *ts: vizgrad.cat(ts, dim), parts, seed)
    same = [_data(rng, shape, "real") for _ in range(k)]
    sdim = data.draw(st.integers(-n - 1, n))
    gradcheck(lambda *ts: vizgrad.stack(list(ts), dim=sdim), same, seed)


# -- matrix products ---------------------------------------------------------------------------------------
@st.composite
def matmul_shapes(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    kind = draw(st.sampled_from(["mm", "dot", "mv", "vm", "batched", "bcast"]))
    if kind == "mm":
        return (n, k), (k, m)
    if kind == "dot":
        return (k,), (k,)
    if kind == "mv":
        return (n, k), (k,)
    if kind == "vm":
        return (k,), (k, m)
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=2, max_side=3)).input_shapes
    if kind == "batched":
        return batch[0] + (n, k), batch[1] + (k, m)
    return batch[0] + (n, k), draw(st.sampled_from([(k, m), (k,)]))


@SETTINGS
@given(ab=matmul_shapes(), seed=seeds)
def test_matmul(ab, seed):
    rng = np.random.default_rng(seed)
    a, b = _data(rng, ab[0], "real"), _data(rng, ab[1], "real")
    np.testing.assert_allclose((vizgrad.tensor(a) @ vizgrad.tensor(b)).numpy(), a @ b)
    gradcheck(lambda x, y: x @ y, [a, b], seed)
    if len(ab[0]) == len(ab[1]) == 2:
        gradcheck(lambda x, y: vizgrad.mm(x, y), [a, b], seed)


def test_gradcheck_catches_a_wrong_gradient(monkeypatch):
    """The checker itself: a deliberately wrong backward must fail it."""
    from vizgrad import ops
    monkeypatch.setattr(ops.Sin, "backward", lambda ctx, g, out, a: (g * np.sin(a),))
    with pytest.raises(AssertionError):
        gradcheck(vizgrad.sin, [np.array([0.3, 1.2])])


# -- F.linear's fused node against finite differences and against the op-by-op graph -----------------
@SETTINGS
@given(n=st.integers(1, 5), fin=st.integers(1, 4), fout=st.integers(1, 4), bias_kind=st.sampled_from(["full", "one"]),
       seed=seeds)
def test_linear_fused_node(n, fin, fout, bias_kind, seed):
    """nn.functional.linear on a batch is one LinearAddmm node: its gradients match central finite
    differences and the op-by-op graph (x @ Wᵀ + b), for a full (out,) bias and a broadcast (1,) one."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((n, fin)), rng.standard_normal((fout, fin)),
              rng.standard_normal((fout,) if bias_kind == "full" else (1,))]
    fused = vizgrad.nn.functional.linear
    gradcheck(lambda x, w, b: fused(x, w, b), arrays, seed)
    grads = []
    for f in (fused, lambda x, w, b: x @ w.t() + b):
        ts = [vizgrad.tensor(a, requires_grad=True) for a in arrays]
        out = f(*ts)
        out.tanh().sum().backward()
        grads.append([t.grad.numpy() for t in ts])
    assert type(fused(*[vizgrad.tensor(a, requires_grad=True) for a in arrays]).grad_fn).__name__ == "LinearAddmm"
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
