"""Bitwise ops (& | ^ ~ << >>, bitwise_and ... and their in-place forms) and torch.cdist for every
p, each against real torch: values, dtypes and printed form, errors (type and first line),
gradients and grad_fn names, gradcheck in float64, and hypothesis property tests. Also det's
gradient at singular matrices, cartesian_prod's nodes and what index_add's node saves.

    nice -n 5 /work/main/.venv/bin/python -m pytest -q tests/test_ops_bitwise_cdist.py
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vizgrad
from vizgrad.autograd import gradcheck, gradgradcheck

from tests.conftest import need_torch

INF = math.inf
_PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same(v, t):
    """vizgrad's result `v` is torch's `t`: dtype, printed form, values, and no grad."""
    assert str(v.dtype) == str(t.dtype)
    assert repr(v) == repr(t)
    np.testing.assert_array_equal(v.numpy(), t.numpy())
    assert v.requires_grad is t.requires_grad is False and v.grad_fn is None


# -- bitwise: values and dtypes ---------------------------------------------------------------------
def _i(L, values, dtype="int64"):
    return L.tensor(values, dtype=getattr(L, dtype))


BITWISE = {
    "and_int": lambda L: _i(L, [5, 3, 6]) & 3,
    "rand_int": lambda L: 3 & _i(L, [5, 3, 6]),
    "or_int": lambda L: _i(L, [5, 3, 6]) | 8,
    "ror_int": lambda L: 8 | _i(L, [5, 3, 6]),
    "xor_int": lambda L: _i(L, [5, 3, 6]) ^ 3,
    "rxor_int": lambda L: 3 ^ _i(L, [5, 3, 6]),
    "and_tensors": lambda L: _i(L, [[5], [12]]) & _i(L, [6, 7, 1]),
    "invert_int": lambda L: ~_i(L, [5, 0, -7]),
    "invert_uint8": lambda L: ~_i(L, [1, 0, 200], "uint8"),
    "invert_bool": lambda L: ~L.tensor([True, False]),
    "invert_0d": lambda L: ~L.tensor(5),
    "not_fn": lambda L: L.bitwise_not(_i(L, [5, -1], "int16")),
    "not_method": lambda L: _i(L, [5, -1], "int8").bitwise_not(),
    "bool_and": lambda L: L.tensor([True, False, True]) & L.tensor([True, True, False]),
    "bool_xor": lambda L: L.tensor([True, False]) ^ L.tensor([True, True]),
    "bool_and_int": lambda L: L.tensor([True, False, True]) & 1,          # int64: the number's category wins
    "bool_and_bool": lambda L: L.tensor([True, False, True]) & True,
    "int_and_bool": lambda L: _i(L, [5, 3, 6]) & True,
    "bool_or_int_tensor": lambda L: L.tensor([True, False]) | _i(L, [5, 3, 6][:2]),
    "bool_or_uint8": lambda L: L.tensor([True, False]) | _i(L, [1, 0], "uint8"),
    "int8_keeps_dtype": lambda L: _i(L, [1, 7], "int8") & 5,
    "int32_keeps_dtype": lambda L: _i(L, [1, 7], "int32") ^ 5,
    "uint8_int8_promote": lambda L: _i(L, [1, 7], "uint8") & _i(L, [3, -1], "int8"),
    "int32_int64": lambda L: _i(L, [1, 7], "int32") | _i(L, [8, 8]),
    "zero_dim_loses": lambda L: L.tensor(5) & _i(L, [1, 3], "int8"),
    "zero_dims": lambda L: L.tensor(5) & L.tensor(3),
    "int8_wraps_number": lambda L: _i(L, [1, 4], "int8") & 300,
    "uint8_wraps_negative": lambda L: _i(L, [1, 4], "uint8") & -1,
    "fn_number_first": lambda L: L.bitwise_and(3, _i(L, [5, 3, 6])),
    "fn_keyword": lambda L: L.bitwise_xor(_i(L, [5, 3, 6]), other=1),
    "methods": lambda L: _i(L, [5, 3, 6]).bitwise_or(_i(L, [1, 1, 1])),
    "numpy_operand": lambda L: _i(L, [5, 3, 6]) & np.array([1, 2, 4]),
    "lshift": lambda L: _i(L, [5, 3, 6]) << 1,
    "rlshift": lambda L: 1 << _i(L, [5, 3, 6]),
    "rshift": lambda L: _i(L, [5, -3, 6]) >> 1,
    "rrshift": lambda L: 100 >> _i(L, [5, 3, 6]),
    "shift_fn": lambda L: L.bitwise_left_shift(_i(L, [5, 3, 6]), 2),
    "shift_fn_number_first": lambda L: L.bitwise_right_shift(2 ** 40, _i(L, [5, 3, 6])),
    "shift_wraps": lambda L: _i(L, [5, 6, -1]) << 63,
    "shift_width_or_more": lambda L: _i(L, [5, 3, 6]) << 64,
    "shift_negative": lambda L: _i(L, [5, 3, 6]) << -1,
    "rshift_wide_signfill": lambda L: _i(L, [5, -3, 6]) >> 64,
    "rshift_negative_signfill": lambda L: _i(L, [5, -3, 6]) >> -1,
    "rshift_tensor_amounts": lambda L: _i(L, [5, -3, 6]) >> _i(L, [-1, 70, 2]),
    "lshift_tensor_amounts": lambda L: _i(L, [5, -3, 6]) << _i(L, [-1, 63, 62]),
    "uint8_shifts": lambda L: _i(L, [200, 1, 3], "uint8") << _i(L, [7, 8, 2], "uint8"),
    "uint8_rshift": lambda L: _i(L, [200], "uint8") >> 1,
    "int8_rshift": lambda L: _i(L, [-8], "int8") >> 1,
    "int8_lshift_overflow": lambda L: _i(L, [-8, 3], "int8") << 5,
    "int8_by_uint8": lambda L: _i(L, [1, 2], "int8") << _i(L, [1, 2], "uint8"),
    "int16_lshift_top": lambda L: _i(L, [-128], "int16") << _i(L, [15], "int16"),
    "shift_by_bool": lambda L: _i(L, [5, -3, 6]) << True,
    "int32_wide_shift": lambda L: _i(L, [1], "int32") << 40,
    "int64_shift_2_63": lambda L: _i(L, [1]) << 2 ** 63,
}


@pytest.mark.parametrize("name", sorted(BITWISE))
def test_bitwise_as_torch(name):
    torch = need_torch()
    _same(BITWISE[name](vizgrad), BITWISE[name](torch))


def test_bitwise_methods_and_operators_exist_as_in_torch():
    torch = need_torch()
    names = [n for n in dir(torch.Tensor) if "bitwise" in n] + [
        f"__{k}{op}__" for op in ("and", "or", "xor", "lshift", "rshift") for k in ("", "r", "i")] + ["__invert__"]
    assert len(names) == 28
    for n in names:
        assert hasattr(torch.Tensor, n), n
        assert hasattr(vizgrad.Tensor, n), n
    for n in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift"):
        assert callable(getattr(vizgrad, n))


def test_logical_functions_unchanged_on_floats():
    """& and | were logical_and / logical_or before; those functions keep their meaning on any dtype."""
    torch = need_torch()
    for L in (torch, vizgrad):
        a, b = L.tensor([0.0, 1.5, -2.0]), L.tensor([3.0, 0.0, 1.0])
        got = [L.logical_and(a, b), L.logical_or(a, b), a.logical_not(), L.logical_xor(a, b)]
        if L is torch:
            want = got
        else:
            for v, t in zip(got, want):
                _same(v, t)


# -- bitwise: in place --------------------------------------------------------------------------------
INPLACE = {
    "iand": lambda L, x: x.__iand__(3),
    "ior": lambda L, x: x.__ior__(_i(L, [8, 16])),
    "ixor": lambda L, x: x.__ixor__(_i(L, [1, 1])),
    "ilshift": lambda L, x: x.__ilshift__(2),
    "irshift": lambda L, x: x.__irshift__(1),
    "and_": lambda L, x: x.bitwise_and_(_i(L, [1, 1], "int32")),
    "or_": lambda L, x: x.bitwise_or_(4),
    "xor_": lambda L, x: x.bitwise_xor_(7),
    "not_": lambda L, x: x.bitwise_not_(),
    "left_shift_": lambda L, x: x.bitwise_left_shift_(3),
    "right_shift_": lambda L, x: x.bitwise_right_shift_(_i(L, [1, 70])),
}


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
@pytest.mark.parametrize("name", sorted(INPLACE))
def test_bitwise_inplace_as_torch(name, dtype):
    """x &= y ... write into x itself: same object, same dtype (an int32 x &= int64 y stays int32)."""
    torch = need_torch()
    res = []
    for L in (torch, vizgrad):
        x = _i(L, [5, 6], dtype)
        alias = x
        out = INPLACE[name](L, x)
        assert out is x is alias
        res.append((repr(x), x._version))
    assert res[1] == res[0]


def test_bitwise_augmented_assignment_keeps_the_object():
    torch = need_torch()
    for L in (torch, vizgrad):
        x = _i(L, [5, 3])
        y = x
        x &= 3
        x ^= _i(L, [1, 1])
        x <<= 1
        assert x is y and x.tolist() == [0, 4]


# -- bitwise: errors ---------------------------------------------------------------------------------
BITWISE_ERRORS = {
    "and_float": lambda L: L.tensor([1.0, 2.0]) & 1,
    "and_floats": lambda L: L.tensor([1.0]) & L.tensor([1.0]),
    "or_double": lambda L: L.tensor([1.0], dtype=L.float64) | 3,
    "xor_half": lambda L: L.tensor([1.0], dtype=L.float16) ^ 3,
    "and_int_float_number": lambda L: _i(L, [1, 2]) & 1.5,
    "rand_float_number": lambda L: 1.5 & _i(L, [1]),
    "and_int_float_tensor": lambda L: L.bitwise_and(_i(L, [1]), L.tensor([1.0])),
    "lshift_float": lambda L: L.tensor([1.0]) << 1,
    "rlshift_float": lambda L: 1 << L.tensor([1.0]),
    "rshift_float": lambda L: L.tensor([1.0]) >> 1,
    "lshift_by_float": lambda L: _i(L, [1]) << 1.5,
    "lshift_bool": lambda L: L.tensor([True]) << True,
    "rshift_bools": lambda L: L.tensor([True]) >> L.tensor([False]),
    "invert_float": lambda L: ~L.tensor([1.0]),
    "not_float": lambda L: L.bitwise_not(L.tensor([1.0])),
    "not_float_method": lambda L: L.tensor([1.0]).bitwise_not(),
    "not_number": lambda L: L.bitwise_not(True),
    "not_two_args": lambda L: L.bitwise_not(_i(L, [1]), 2),
    "not_float_inplace": lambda L: L.tensor([1.0]).bitwise_not_(),
    "float_requires_grad": lambda L: L.tensor([1.0], requires_grad=True) & 1,
    "float_requires_grad_other": lambda L: _i(L, [1]) & L.tensor([1.0], requires_grad=True),
    "inplace_leaf_requires_grad": lambda L: L.tensor([1.0], requires_grad=True).bitwise_and_(1),
    "inplace_nonleaf_float": lambda L: (L.tensor([1.0], requires_grad=True) * 1).__iand__(1),
    "inplace_float": lambda L: L.tensor([1.0]).__ior__(1),
    "inplace_broadcast": lambda L: _i(L, [1, 2]).__ior__(_i(L, [[1], [1]])),
    "shapes": lambda L: _i(L, [5, 3, 6]) & _i(L, [1, 2]),
    "two_numbers": lambda L: L.bitwise_and(3, 4),
    "string_fn": lambda L: L.bitwise_and(_i(L, [1]), "x"),
    "none_fn": lambda L: L.bitwise_left_shift(_i(L, [1]), None),
    "string_operator": lambda L: _i(L, [1]) & "x",
    "none_operator": lambda L: _i(L, [1]) | None,
    "list_operator": lambda L: _i(L, [1]) ^ [1],
    "string_reflected": lambda L: "x" << _i(L, [1]),
    "overflow": lambda L: _i(L, [1]) & 2 ** 64,
}


def _raises_as_torch(case):
    """case(torch) and case(vizgrad) raise the same exception type with the same first line."""
    torch = need_torch()
    with pytest.raises(Exception) as et:
        case(torch)
    with pytest.raises(Exception) as ev:
        case(vizgrad)
    assert type(ev.value) is type(et.value)
    assert str(ev.value).splitlines()[0] == str(et.value).splitlines()[0]


@pytest.mark.parametrize("name", sorted(BITWISE_ERRORS))
def test_bitwise_errors_as_torch(name):
    _raises_as_torch(BITWISE_ERRORS[name])


def test_inplace_bool_with_int_refused_as_torch():
    """A bool x &= int64 y cannot hold the result; x is left as it was."""
    torch = need_torch()
    msgs = []
    for L in (torch, vizgrad):
        x = L.tensor([True, False])
        with pytest.raises(RuntimeError) as e:
            x.bitwise_and_(_i(L, [1, 1]))
        assert x.tolist() == [True, False] and x._version == 0
        msgs.append(str(e.value))
    assert msgs[1] == msgs[0] == "result type Long can't be cast to the desired output type Bool"


# -- bitwise: properties over random integer arrays -----------------------------------------------
_INT_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64"]
_BINARY = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift"]


def _ints(dtype, shape, rng):
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


@_PROPERTY
@given(op=st.sampled_from(_BINARY), da=st.sampled_from(_INT_DTYPES), db=st.sampled_from(_INT_DTYPES),
       shape=st.sampled_from([((3,), (3,)), ((2, 1), (4,)), ((), (3,)), ((2, 3), ()), ((), ())]),
       scalar=st.sampled_from([None, 0, 1, 7, -1, 63, 64, 200, -300, True]), seed=st.integers(0, 2 ** 16))
def test_bitwise_random_arrays_as_torch(op, da, db, shape, scalar, seed):
    """Any pair of integer/bool dtypes, shapes that broadcast (0-d ones too), tensors or a Python
    number on the right: torch's promotion, values (shift amounts over the whole range, so
    negative and too-wide shifts are common) or its error."""
    torch = need_torch()
    rng = np.random.default_rng(seed)
    a0 = _ints(da, shape[0], rng)
    b0 = _ints(db, shape[1], rng)
    res = []
    for L in (torch, vizgrad):
        a = L.tensor(a0)
        b = scalar if scalar is not None else L.tensor(b0)
        try:
            res.append(getattr(L, op)(a, b))
        except Exception as e:
            res.append((type(e), str(e).splitlines()[0]))
    t, v = res
    if isinstance(t, tuple):
        assert v == t
    else:
        _same(v, t)


@_PROPERTY
@given(dtype=st.sampled_from(_INT_DTYPES), seed=st.integers(0, 2 ** 16))
def test_invert_random_arrays_as_numpy_and_torch(dtype, seed):
    """~x is numpy's invert (two's complement ~x = -x - 1 on signed ints, logical not on bool)."""
    torch = need_torch()
    x0 = _ints(dtype, (5,), np.random.default_rng(seed))
    v = ~vizgrad.tensor(x0)
    _same(v, ~torch.tensor(x0))
    np.testing.assert_array_equal(v.numpy(), np.invert(x0))


# -- cdist: every p, forward and backward -------------------------------------------------------------
_PS = [0, 0.5, 1, 1.5, 2, 3, INF]


def _cdist_inputs(shape1, shape2, seed):
    """Random rows with ties built in: row 1 of x1 equals row 2 of x2 (distance 0), x1[..., 2, 1] equals
    x2[..., 0, 1] (a zero coordinate), and a row whose two largest |differences| tie (for p = inf)."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shape1), rng.standard_normal(shape2)
    rows = b[(0,) * (b.ndim - 2)]  # (R, M): x2's first batch
    a[..., 1, :] = rows[2]
    a[..., 2, 1] = rows[0, 1]
    a[..., 0, :2] = rows[1, :2] + np.array([0.75, -0.75])
    a[..., 0, 2:] = rows[1, 2:]
    return a, b


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", [((3, 4), (5, 4)), ((2, 3, 4), (2, 5, 4)), ((2, 1, 3, 4), (3, 5, 4))],
                         ids=["2d", "batched", "broadcast"])
@pytest.mark.parametrize("p", _PS)
def test_cdist_values_and_gradients_as_torch(p, shapes, dtype):
    torch = need_torch()
    a0, b0 = _cdist_inputs(*shapes, seed=len(shapes[0]))
    res = []
    for L in (torch, vizgrad):
        dt = getattr(L, dtype)
        a, b = L.tensor(a0, dtype=dt, requires_grad=True), L.tensor(b0, dtype=dt, requires_grad=True)
        d = L.cdist(a, b, p=p)
        w = L.tensor(np.linspace(-1.0, 2.0, d.numel()).reshape(tuple(d.shape)), dtype=dt)
        ga, gb = L.autograd.grad((d * w).sum(), (a, b))
        res.append((d.grad_fn.name(), str(d.dtype), tuple(d.shape), d.detach().numpy(), ga.numpy(), gb.numpy(),
                    d.grad_fn._saved_p))
    t, v = res
    assert v[:3] == t[:3] and v[6] == t[6]
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
    for x, y in zip(v[3:6], t[3:6]):
        np.testing.assert_allclose(x, y, **tol)


def test_cdist_zero_distance_gradient_is_zero_for_every_p():
    """Identical rows: torch's kernels give 0 there for every p (the norm is not differentiable)."""
    torch = need_torch()
    for p in _PS:
        grads = []
        for L in (torch, vizgrad):
            a = L.tensor([[1.0, -2.0, 0.5]], dtype=L.float64, requires_grad=True)
            b = L.tensor([[1.0, -2.0, 0.5], [0.0, 0.0, 0.0]], dtype=L.float64, requires_grad=True)
            L.cdist(a, b, p=p)[0, 0].backward()
            grads.append((a.grad.tolist(), b.grad.tolist()))
        assert grads[1] == grads[0] == ([[0.0] * 3], [[0.0] * 3, [0.0] * 3]), p


def test_cdist_inf_ties_each_take_the_whole_gradient_as_torch():
    torch = need_torch()
    res = []
    for L in (torch, vizgrad):
        x = L.tensor([[0.0, 0.0, 0.25]], requires_grad=True)
        L.cdist(x, L.tensor([[1.0, -1.0, 0.0]]), p=INF).sum().backward()
        res.append(x.grad.tolist())
    assert res[1] == res[0] == [[-1.0, 1.0, 0.0]]


def test_cdist_p_below_one_zero_coordinate_gets_no_gradient_as_torch():
    """p < 1: |d|^(p-1) is infinite where a coordinate ties; torch's kernel sends 0 there."""
    torch = need_torch()
    res = []
    for L in (torch, vizgrad):
        x = L.tensor([[0.0, 1.0], [1.0, 2.0]], dtype=L.float64, requires_grad=True)
        y = L.tensor([[0.0, 0.0]], dtype=L.float64, requires_grad=True)
        L.cdist(x, y, p=0.5).sum().backward()
        res.append((x.grad.numpy(), y.grad.numpy()))
    assert res[1][0][0].tolist() == [0.0, 1.0]
    for a, b in zip(res[1], res[0]):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_cdist_edge_values_as_torch():
    """NaN (p = inf skips it, p = 0 and others propagate it), overflow to inf, and empty inputs."""
    torch = need_torch()
    for p in (0, 1, 3, INF):
        for x0 in ([[1.0, math.nan]], [[1e30, 2e30]], [[3.0, -1.0]]):
            got = [str(L.cdist(L.tensor(x0), L.zeros(1, 2), p=p)) for L in (torch, vizgrad)]
            assert got[1] == got[0], (p, x0)
    for s1, s2 in (((0, 2), (3, 2)), ((2, 0), (3, 0))):
        res = []
        for L in (torch, vizgrad):
            x = L.ones(*s1, requires_grad=True)
            d = L.cdist(x, L.ones(*s2), p=3)
            d.sum().backward()
            res.append((str(d), d.grad_fn.name(), str(x.grad)))
        assert res[1] == res[0]


@pytest.mark.parametrize("p", [0.5, 1, 1.5, 3, INF])
def test_cdist_gradcheck_away_from_ties(p):
    rng = np.random.default_rng(7)
    a = vizgrad.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    b = vizgrad.tensor(rng.standard_normal((1, 5, 4)), requires_grad=True)
    assert gradcheck(lambda x, y: vizgrad.cdist(x, y, p=p), (a, b))


@pytest.mark.parametrize("p", [0.5, 1.5, 3])
def test_cdist_second_derivative_any_p_by_finite_differences(p):
    """torch cannot differentiate cdist twice ('_cdist_backward' is not implemented); ours records its
    backward, checked against finite differences of the first derivative."""
    rng = np.random.default_rng(8)
    a = vizgrad.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    b = vizgrad.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    assert gradgradcheck(lambda x, y: vizgrad.cdist(x, y, p=p), (a, b))


CDIST_ERRORS = {
    "p_negative": lambda L: L.cdist(L.ones(2, 2), L.ones(2, 2), p=-1),
    "p_nan": lambda L: L.cdist(L.ones(2, 2), L.ones(3, 2), p=math.nan),
    "long_x1": lambda L: L.cdist(L.ones(2, 2, dtype=L.long), L.ones(2, 2), p=1),
    "long_x2": lambda L: L.cdist(L.ones(2, 2), L.ones(2, 2, dtype=L.long), p=1),
    "mixed_float": lambda L: L.cdist(L.ones(2, 2), L.ones(2, 2, dtype=L.float64), p=1),
    "mixed_double_p2": lambda L: L.cdist(L.ones(2, 2, dtype=L.float64), L.ones(2, 2)),
    "mixed_mm": lambda L: L.cdist(L.ones(30, 2), L.ones(2, 2, dtype=L.float64)),
    "mixed_mm_half": lambda L: L.cdist(L.ones(30, 2, dtype=L.float16), L.ones(2, 2)),
    "batch_mismatch": lambda L: L.cdist(L.ones(2, 2, 2), L.ones(3, 4, 2), p=1),
    "batch_mismatch_p2": lambda L: L.cdist(L.ones(5, 2, 2), L.ones(3, 4, 2)),
    "compute_mode": lambda L: L.cdist(L.ones(2, 2), L.ones(3, 2), compute_mode="bad"),
}


@pytest.mark.parametrize("name", sorted(CDIST_ERRORS))
def test_cdist_errors_as_torch(name):
    _raises_as_torch(CDIST_ERRORS[name])


def test_cdist_routes_and_shapes_as_torch():
    """Which node torch records (CdistBackward0, or EuclideanDistBackward0 under a view for the
    matrix-product route) and the broadcast batch shape."""
    torch = need_torch()
    cases = [lambda L, x: L.cdist(x, L.ones(3, 5, 4), p=3), lambda L, x: L.cdist(x, L.ones(3, 5, 4)),
             lambda L, x: L.cdist(x, L.ones(3, 5, 4), compute_mode="use_mm_for_euclid_dist"),
             lambda L, x: L.cdist(x, L.ones(3, 5, 4), p=1, compute_mode="use_mm_for_euclid_dist"),
             lambda L, x: L.cdist(L.ones(1, 30, 4, requires_grad=True), L.ones(3, 5, 4))]
    for case in cases:
        got = []
        for L in (torch, vizgrad):
            d = case(L, L.ones(1, 2, 4, requires_grad=True))
            got.append((tuple(d.shape), d.grad_fn.name(), [f[0].name() for f in d.grad_fn.next_functions if f[0]]))
        assert got[1] == got[0]


@_PROPERTY
@given(p=st.sampled_from(_PS + [0.25, 2.5, 7.0]), r1=st.integers(1, 4), r2=st.integers(1, 4), m=st.integers(1, 4),
       batch=st.sampled_from([(), (2,), (2, 1)]), seed=st.integers(0, 2 ** 16))
def test_cdist_small_integer_points_as_torch(p, r1, r2, m, batch, seed):
    """Points on a small integer grid, so equal rows, equal coordinates and tied maxima are common:
    values and both gradients as torch's for any p, row counts, width and batch."""
    torch = need_torch()
    rng = np.random.default_rng(seed)
    a0 = rng.integers(-2, 3, batch + (r1, m)).astype(np.float64)
    b0 = rng.integers(-2, 3, (r2, m)).astype(np.float64)
    w0 = rng.standard_normal(batch + (r1, r2))
    res = []
    for L in (torch, vizgrad):
        a, b = L.tensor(a0, requires_grad=True), L.tensor(b0, requires_grad=True)
        d = L.cdist(a, b, p=p)
        ga, gb = L.autograd.grad((d * L.tensor(w0)).sum(), (a, b))
        res.append((d.detach().numpy(), ga.numpy(), gb.numpy()))
    for x, y in zip(*reversed(res)):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)


# -- det at singular matrices ---------------------------------------------------------------------
# Matrices whose det is exactly 0 both in torch's LU and in numpy's (so torch's formula g det A^-T is
# 0 in both), plus 1 x 1 ones, where torch returns g itself.
SINGULAR = {
    "zero": [[0.0, 0.0], [0.0, 0.0]],
    "rank1": [[1.0, 2.0], [2.0, 4.0]],
    "nilpotent": [[0.0, 1.0], [0.0, 0.0]],
    "zero_row": [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [7.0, 8.0, 10.0]],
    "zero_col": [[1.0, 0.0, 3.0], [4.0, 0.0, 6.0], [7.0, 0.0, 10.0]],
    "one_zero": [[0.0]],
    "one": [[49.0]],
    "batch": [[[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.5], [0.0, 2.0]]],
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(SINGULAR))
def test_det_gradient_at_singular_matrices_as_torch(name, dtype):
    """A plain backward through det of a singular matrix: torch's values (0 for n > 1, g for 1 x 1),
    where numpy's inverse would raise."""
    torch = need_torch()
    res = []
    for L in (torch, vizgrad):
        a = L.tensor(SINGULAR[name], dtype=getattr(L, dtype), requires_grad=True)
        d = L.det(a)
        (d * 3).sum().backward()
        res.append((d.detach().numpy(), a.grad.numpy(), d.grad_fn.name()))
    t, v = res
    assert v[2] == t[2]
    np.testing.assert_array_equal(v[0], t[0])
    np.testing.assert_array_equal(v[1], t[1])


def test_det_nan_gradient_at_a_singular_matrix_as_torch():
    torch = need_torch()
    res = []
    for L in (torch, vizgrad):
        a = L.tensor(SINGULAR["rank1"], dtype=L.float64, requires_grad=True)
        (g,) = L.autograd.grad(L.det(a), a, grad_outputs=L.tensor(math.nan, dtype=L.float64))
        res.append(g.numpy())
    assert np.isnan(res[0]).all() and np.isnan(res[1]).all()


@pytest.mark.parametrize("name", ["rank1", "zero_row", "zero", "batch", "one_zero", "rank2of3"])
def test_det_create_graph_at_singular_matrices_as_torch(name):
    """With create_graph torch takes the singular matrix's gradient from an SVD (the cofactor
    matrix, not 0); ours from recorded cofactors. The gradient and the second derivative match."""
    torch = need_torch()
    m = SINGULAR.get(name, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    res = []
    for L in (torch, vizgrad):
        a = L.tensor(m, dtype=L.float64, requires_grad=True)
        (g,) = L.autograd.grad(L.det(a).sum() * 2, a, create_graph=True)
        w = L.tensor(np.linspace(-1.0, 1.5, g.numel()).reshape(tuple(g.shape)), dtype=L.float64)
        h = L.autograd.grad((g * w).sum(), a, allow_unused=True)[0] if g.requires_grad else None
        res.append((g.detach().numpy(), None if h is None else h.numpy()))
    t, v = res
    np.testing.assert_allclose(v[0], t[0], rtol=1e-12, atol=1e-12)
    if t[1] is None:
        assert v[1] is None or not v[1].any()
    elif name == "zero":  # torch's SVD backward at repeated singular values: NaN (ours: finite differences below)
        assert np.isnan(t[1]).all() and np.isfinite(v[1]).all()
    else:
        np.testing.assert_allclose(v[1], t[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["rank1", "zero_row", "nilpotent", "zero"])
def test_det_second_derivative_at_singular_matrices_by_finite_differences(name):
    a = vizgrad.tensor(SINGULAR[name], dtype=vizgrad.float64, requires_grad=True)
    assert gradgradcheck(vizgrad.det, (a,))


# -- cartesian_prod: torch's nodes -----------------------------------------------------------------
@pytest.mark.parametrize("sizes", [(2, 3), (2, 3, 2), (2, 1), (1, 3), (1, 1), (3, 1, 2)])
def test_cartesian_prod_nodes_values_and_gradients_as_torch(sizes):
    torch = need_torch()

    def chain(fn, out):
        if fn is not None:
            out.append(fn.name())
            for f, _ in fn.next_functions:
                chain(f, out)
        return out

    res = []
    for L in (torch, vizgrad):
        xs = [L.tensor(np.arange(n, dtype=np.float64) + k, requires_grad=True) for k, n in enumerate(sizes)]
        c = L.cartesian_prod(*xs)
        w = L.tensor(np.linspace(-1.0, 2.0, c.numel()).reshape(tuple(c.shape)), dtype=L.float64)
        grads = L.autograd.grad((c * w).sum(), xs)
        res.append((chain(c.grad_fn, []), c.detach().numpy(), [g.numpy() for g in grads]))
    t, v = res
    assert v[0] == t[0]
    np.testing.assert_array_equal(v[1], t[1])
    for a, b in zip(v[2], t[2]):
        np.testing.assert_allclose(a, b, rtol=1e-14)


# -- index_add: what its node saves -----------------------------------------------------------------
def test_index_add_saves_index_and_source_as_torch():
    """torch's IndexAddBackward0 keeps index and source: a second backward through it, its saved
    values after a backward, and a backward after source was written in place are refused; self
    is not kept (writing it in place is fine)."""
    torch = need_torch()
    res = []
    for L in (torch, vizgrad):
        out = []
        for modify in (None, "source", "self"):
            x, s = L.zeros(3, 2, requires_grad=True) * 1, L.ones(2, 2, requires_grad=True) * 1
            y = L.index_add(x, 0, L.tensor([0, 2]), s)
            if modify:
                (s if modify == "source" else x).mul_(2)
            loss = y.sum()
            for step in (lambda: loss.backward(), lambda: loss.backward(), lambda: y.grad_fn._saved_index):
                try:
                    step()
                    out.append("ok")
                except RuntimeError as e:
                    out.append(str(e)[:60])
        res.append(out)
    assert res[1] == res[0]
