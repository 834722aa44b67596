"""Tensor methods against torch: gather/scatter/index_add/index_select, masked_fill, sort/argsort/
topk, cumsum, flip, roll, repeat, chunk/split/unbind, einsum and the in-place unary ops (values,
gradients, grad_fn names, printing, errors); and gradcheck (float64 finite differences) of each.

    nice -n 5 /work/main/.venv/bin/python -m pytest -q tests/test_ops_select.py
"""
from __future__ import annotations

import numpy as np
import pytest

import vizgrad
from vizgrad.autograd import gradcheck

RNG = np.random.default_rng(16)


def run_both(torch, fn, arrays, atol=1e-10):
    """fn(lib, *tensors) with real torch and with vizgrad on the same float64 arrays (each a leaf
    requiring grad); backward with a fixed upstream gradient. Asserts equal values, gradients of
    every input and grad_fn name; returns the two outputs."""
    results = {}
    for lib in (torch, vizgrad):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = fn(lib, *ts)
        g = np.cos(np.arange(int(np.prod(tuple(y.shape))))).reshape(tuple(y.shape))
        y.backward(lib.tensor(g))
        results[lib] = (y, [None if t.grad is None else t.grad.numpy() for t in ts])
    (ty, tg), (vy, vg) = results[torch], results[vizgrad]
    np.testing.assert_allclose(vy.detach().numpy(), ty.detach().numpy(), atol=atol, rtol=1e-7)
    assert tuple(vy.shape) == tuple(ty.shape)
    for k, (a, b) in enumerate(zip(vg, tg)):
        assert (a is None) == (b is None), f"input {k}: gradient presence differs"
        if a is not None:
            np.testing.assert_allclose(a, b, atol=atol, rtol=1e-7, err_msg=f"gradient of input {k}")
    assert vy.grad_fn.name() == ty.grad_fn.name()
    return ty, vy


def _r(*shape):
    return RNG.standard_normal(shape)


IDX = np.array([[0, 2, 1, 2], [3, 0, 0, 1], [1, 1, 2, 3]])  # (3, 4), values < 4

METHOD_CASES = {
    "gather_dim1": (lambda lib, a: a.gather(1, lib.tensor(IDX[:, :2])), [(3, 4)]),
    "gather_dim0": (lambda lib, a: lib.gather(a, 0, lib.tensor(IDX[:2] % 3)), [(3, 4)]),
    # (no index repeated within a row: which of two writes wins is unspecified, in torch too)
    "scatter_src": (lambda lib, a, s: a.scatter(1, lib.tensor([[0, 2], [3, 0], [1, 2]]), s), [(3, 4), (3, 2)]),
    "scatter_value": (lambda lib, a: a.scatter(0, lib.tensor(IDX[:1] % 3), 2.5), [(3, 4)]),
    "scatter_add": (lambda lib, a, s: a.scatter_add(1, lib.tensor(IDX), s), [(3, 4), (3, 4)]),
    "scatter_add_zeros": (lambda lib, s: lib.zeros(3, 5, dtype=lib.float64).scatter_add(1, lib.tensor(IDX), s),
                          [(3, 4)]),
    "index_add": (lambda lib, a, s: a.index_add(0, lib.tensor([0, 2, 0]), s), [(3, 4), (3, 4)]),
    "index_add_alpha": (lambda lib, a, s: a.index_add(1, lib.tensor([1, 3]), s, alpha=-2.0), [(3, 4), (3, 2)]),
    "index_select": (lambda lib, a: a.index_select(1, lib.tensor([3, 0, 3])), [(3, 4)]),
    "masked_fill": (lambda lib, a: a.masked_fill(a > 0, 0.0), [(3, 4)]),
    "masked_fill_bcast": (lambda lib, a: a.masked_fill(lib.tensor([True, False, True, False]), -1.0), [(3, 4)]),
    "masked_fill_tensor_value": (lambda lib, a, v: a.masked_fill(a < 0, v), [(3, 4), ()]),
    "sort": (lambda lib, a: a.sort(1)[0], [(3, 4)]),
    "sort_desc_dim0": (lambda lib, a: lib.sort(a, 0, descending=True).values, [(3, 4)]),
    "topk": (lambda lib, a: a.topk(2)[0], [(3, 4)]),
    "topk_smallest_dim0": (lambda lib, a: a.topk(2, dim=0, largest=False).values, [(3, 4)]),
    "cumsum": (lambda lib, a: a.cumsum(1), [(3, 4)]),
    "cumsum_dim0": (lambda lib, a: lib.cumsum(a, dim=0), [(3, 4)]),
    "flip": (lambda lib, a: a.flip(0), [(3, 4)]),
    "flip_two": (lambda lib, a: lib.flip(a, [0, 1]), [(3, 4)]),
    "roll": (lambda lib, a: a.roll(1, 0), [(3, 4)]),
    "roll_flat": (lambda lib, a: a.roll(2), [(3, 4)]),
    "roll_two": (lambda lib, a: lib.roll(a, (1, -1), (0, 1)), [(3, 4)]),
    "repeat": (lambda lib, a: a.repeat(2, 1), [(3, 4)]),
    "repeat_lead": (lambda lib, a: a.repeat(2, 1, 3), [(3, 4)]),
    "repeat_interleave": (lambda lib, a: a.repeat_interleave(2, dim=0), [(3, 4)]),
    "expand_as": (lambda lib, a: a.expand_as(lib.zeros(2, 3, 4)), [(3, 1)]),
    "chunk": (lambda lib, a: a.chunk(2)[1], [(3, 4)]),
    "split_sizes": (lambda lib, a: a.split([1, 3], 1)[1], [(3, 4)]),
    "unbind": (lambda lib, a: a.unbind(1)[2], [(3, 4)]),
}


@pytest.mark.parametrize("name", list(METHOD_CASES))
def test_method_vs_torch(name, torch_ref):
    fn, shapes = METHOD_CASES[name]
    run_both(torch_ref, fn, [_r(*s) for s in shapes])


@pytest.mark.parametrize("name", list(METHOD_CASES))
def test_method_gradcheck(name):
    fn, shapes = METHOD_CASES[name]
    if name.startswith("sort") or name.startswith("topk"):
        arrays = [RNG.permutation(int(np.prod(s))).reshape(s) * 0.5 for s in shapes]  # no ties: differentiable
    else:
        arrays = [_r(*s) for s in shapes]
    ts = [vizgrad.tensor(a, requires_grad=True) for a in arrays]
    assert gradcheck(lambda *xs: fn(vizgrad, *xs), tuple(ts))


def test_sort_topk_print_and_indices_as_torch(torch_ref):
    a = _r(3, 4)
    for call in (lambda lib, t: lib.sort(t, 1, descending=True), lambda lib, t: t.topk(3, 1),
                 lambda lib, t: t.sort(0)):
        tt, vt = torch_ref.tensor(a, requires_grad=True), vizgrad.tensor(a, requires_grad=True)
        assert repr(call(vizgrad, vt)) == repr(call(torch_ref, tt))
    ties = np.array([[1.0, 3.0, 1.0, 3.0, 2.0]])
    for desc in (False, True):  # stable: equal values keep their order, as torch's stable sort
        t = torch_ref.sort(torch_ref.tensor(ties), descending=desc, stable=True).indices.numpy()
        assert vizgrad.sort(vizgrad.tensor(ties), descending=desc).indices.numpy().tolist() == t.tolist()
        assert vizgrad.argsort(vizgrad.tensor(ties), descending=desc).numpy().tolist() == t.tolist()


def test_scatter_gather_in_place_and_errors(torch_ref):
    idx = IDX[:, :2]
    outs = []
    for lib in (torch_ref, vizgrad):
        z = lib.zeros(3, 4)
        z.scatter_(1, lib.tensor(idx), lib.ones(3, 2))
        z.scatter_add_(1, lib.tensor(idx), lib.ones(3, 2))
        z.index_add_(0, lib.tensor([0, 0]), lib.ones(2, 4))
        z.masked_fill_(z > 3, -1.0)
        outs.append((repr(z), z._version))
    assert outs[0] == outs[1]
    for call in (lambda lib: lib.zeros(3, 4).gather(1, lib.tensor([[4]])),
                 lambda lib: lib.zeros(3, 4).gather(1, lib.tensor([0, 1])),
                 lambda lib: lib.zeros(3, 4).masked_fill(lib.tensor([1, 0, 1, 0]), 1.0),
                 lambda lib: lib.zeros(3, 4).index_add(0, lib.tensor([0, 1]), lib.ones(3, 4)),
                 lambda lib: lib.zeros(3, 4).topk(5)):
        with pytest.raises(Exception) as t_err:
            call(torch_ref)
        with pytest.raises(type(t_err.value)):
            call(vizgrad)


INPLACE = ["sin_", "cos_", "tan_", "exp_", "log_", "sqrt_", "abs_", "tanh_", "sigmoid_", "relu_", "neg_",
           "reciprocal_", "square_"]


@pytest.mark.parametrize("name", INPLACE + ["clamp_", "clamp_min_", "clamp_max_"])
def test_inplace_unary_vs_torch(name, torch_ref):
    a = RNG.random((3, 4)) + 0.1  # positive: log_ and sqrt_ stay finite
    args = {"clamp_": (0.3, 0.8), "clamp_min_": (0.5,), "clamp_max_": (0.5,)}.get(name, ())

    def fn(lib, x):
        y = x * 1.5
        r = getattr(y, name)(*args)
        assert r is y and y._version == 1
        return y * 2

    run_both(torch_ref, fn, [a])
    # the in-place result is rebased onto the op's node, named as torch names it
    tt, vt = torch_ref.tensor(a, requires_grad=True), vizgrad.tensor(a, requires_grad=True)
    ty, vy = tt * 1, vt * 1
    getattr(ty, name)(*args)
    getattr(vy, name)(*args)
    assert vy.grad_fn.name() == ty.grad_fn.name()
    assert repr(vy) == repr(ty)


@pytest.mark.parametrize("name", INPLACE + ["clamp_"])
def test_inplace_unary_refuses_as_torch(name, torch_ref):
    """A leaf that requires grad refuses; a value saved for backward and then written refuses at backward."""
    args = (0.0, 1.0) if name == "clamp_" else ()
    for lib in (torch_ref, vizgrad):
        leaf = lib.rand(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            getattr(leaf, name)(*args)
        y = leaf * 1 + 0.5
        z = y * y                      # saves y
        getattr(y, name)(*args)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()
        with lib.no_grad():            # under no_grad a leaf may be written
            getattr(leaf, name)(*args)


EINSUM = [("ij,jk->ik", [(3, 4), (4, 5)]), ("i,i->", [(4,), (4,)]), ("i,j->ij", [(3,), (4,)]), ("ij->ji", [(3, 4)]),
          ("ij->", [(3, 4)]), ("ij->j", [(3, 4)]), ("ij,ij->ij", [(3, 4), (3, 4)]), ("ii", [(3, 3)]),
          ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ij,kj->ik", [(3, 4), (5, 4)]),
          ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]), ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
          ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("ijk->kji", [(2, 3, 4)]), ("ij,j", [(3, 4), (4,)]),
          ("b i d, b j d -> b i j", [(2, 3, 4), (2, 5, 4)])]
EINSUM_VALUES_ONLY = [("ii->i", [(3, 3)]), ("iij->ij", [(3, 3, 2)])]  # torch: a diagonal view node


@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum_vs_torch(eq, shapes, torch_ref):
    run_both(torch_ref, lambda lib, *ts: lib.einsum(eq, *ts), [_r(*s) for s in shapes])


@pytest.mark.parametrize("eq,shapes", EINSUM + EINSUM_VALUES_ONLY, ids=[e for e, _ in EINSUM + EINSUM_VALUES_ONLY])
def test_einsum_gradcheck_and_values(eq, shapes):
    arrays = [_r(*s) for s in shapes]
    want = np.einsum(eq.replace(" ", ""), *arrays)
    np.testing.assert_allclose(vizgrad.einsum(eq, *[vizgrad.tensor(a) for a in arrays]).numpy(), want, atol=1e-12)
    ts = tuple(vizgrad.tensor(a, requires_grad=True) for a in arrays)
    assert gradcheck(lambda *xs: vizgrad.einsum(eq, *xs), ts)


def test_einsum_list_operands_and_errors(torch_ref):
    a, b = _r(2, 3), _r(3, 2)
    got = vizgrad.einsum("ij,jk", [vizgrad.tensor(a), vizgrad.tensor(b)]).numpy()
    np.testing.assert_allclose(got, a @ b)
    for eq, shapes in (("ij,jk->ik", [(2, 3)]), ("ijk->ij", [(2, 3)]), ("ij->q", [(2, 3)])):
        with pytest.raises(RuntimeError) as t_err:
            torch_ref.einsum(eq, *[torch_ref.zeros(*s) for s in shapes])
        with pytest.raises(RuntimeError) as v_err:
            vizgrad.einsum(eq, *[vizgrad.zeros(*s) for s in shapes])
        assert str(v_err.value).split(":")[0] == str(t_err.value).split(":")[0] == "einsum()"
