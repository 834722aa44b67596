"""Legacy names real programs use, against torch: torch.autograd.Variable, the legacy tensor types
(FloatTensor ... : constructors, isinstance, x.type()), type(t) printing, factories' size=, and
arange/linspace computing each element as torch's CPU kernels (bit for bit).

    nice -n 5 python -m pytest -q tests/test_legacy_types.py
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vizgrad
from tests.conftest import need_torch

# Each case is an expression over `torch` (and `Variable`); it is evaluated with real torch and with
# vizgrad, and the printed result (or the exception's type and message) must be the same text.
CASES = [
    "torch.FloatTensor(2, 3).shape", "torch.FloatTensor([1, 2])", "torch.DoubleTensor([1, 2])",
    "torch.LongTensor([1, 2])", "torch.LongTensor(3).dtype", "torch.IntTensor([[1], [2]])",
    "torch.BoolTensor([1, 0])", "torch.FloatTensor()", "torch.FloatTensor(torch.Size([2, 2])).shape",
    "torch.LongTensor(2, 3).fill_(0)", "torch.FloatTensor([[1, 2], [3, 4]]).requires_grad",
    "torch.FloatTensor(torch.tensor([1., 2.]))", "torch.FloatTensor(2.5)", "torch.FloatTensor('a')",
    "torch.FloatTensor", "type(torch.FloatTensor)", "torch.FloatTensor.dtype", "torch.LongTensor.dtype",
    "isinstance(torch.ones(2), torch.FloatTensor)", "isinstance(torch.ones(2), torch.DoubleTensor)",
    "isinstance(torch.arange(2), torch.LongTensor)", "issubclass(torch.FloatTensor, torch.Tensor)",
    "torch.tensor([1.5, 2.]).type()", "torch.tensor(3).type()", "torch.tensor(True).type()",
    "torch.ones(2, dtype=torch.float16).type()", "torch.zeros(1, dtype=torch.uint8).type()",
    "torch.tensor([1.5, -2.7]).type(torch.LongTensor)", "torch.tensor([1.5, 2.]).type('torch.IntTensor')",
    "torch.tensor([1.5, 2.]).type(torch.float64).type()", "torch.tensor([1, 2]).type(torch.FloatTensor)",
    "torch.ones(2).type('foo')", "torch.ones(2).type('torch.Foo')", "torch.ones(2).type(3)",
    "type(torch.ones(2))", "type(torch.ones(2)) is torch.Tensor", "torch.Tensor", "type(torch.nn.Parameter(torch.ones(1)))",
    "Variable(torch.ones(2), requires_grad=True)", "type(Variable(torch.ones(2)))", "Variable",
    "isinstance(torch.ones(2), Variable)", "Variable(torch.ones(2)).requires_grad", "Variable([1, 2])",
    "Variable(torch.tensor([1, 2]), requires_grad=True)",
    "Variable(torch.ones(2, requires_grad=True) * 2).grad_fn", "Variable(torch.ones(2, requires_grad=True) * 2).is_leaf",
    "type(Variable(torch.nn.Parameter(torch.ones(1))))",
    "torch.zeros(size=(2, 3)).shape", "torch.ones(size=[2])", "torch.empty(size=(1, 2)).shape",
    "torch.zeros(2, size=(2,))", "torch.zeros(2, bogus=1)",
    "torch.arange(5)", "torch.arange(5.0)", "torch.arange(1, 4, 0.5)", "torch.arange(5, 0, -1)",
    "torch.arange(0, 5, 0)", "torch.arange(5, 0, 1)", "torch.arange(torch.tensor(3))",
    "torch.arange(0, 5, dtype=torch.float32)", "torch.arange(-8.0, 8.0, 0.1)[78:83].tolist()",
    "torch.linspace(0, 1, 5)", "torch.linspace(0, 1, 1)", "torch.linspace(0, 1, 0)", "torch.linspace(0, 1, -1)",
    "torch.arange(0, 5, 0.5, dtype=torch.int64)", "torch.arange(0, 1, 0.3, dtype=torch.int32)",
    "torch.arange(0.5, 7.9, 2.5, dtype=torch.int64)", "torch.arange(0.5, 7.9, 2.5, dtype=torch.int16)",
    "torch.arange(-7, 8, 4)", "torch.arange(10, -1, -3)", "torch.arange(1.5, 4.2, 1, dtype=torch.int64)",
    "torch.arange(0, 300, 1, dtype=torch.uint8)[-3:]", "torch.arange(2 ** 40, 2 ** 40 + 3)",
    "torch.linspace(-5, 5, 11, dtype=torch.uint8)", "torch.linspace(-2.7, 9.9, 5, dtype=torch.int64)",
    "torch.linspace(0, 1, 5, dtype=torch.int64)",
    "torch.set_default_tensor_type(torch.LongTensor)", "torch.set_default_tensor_type('torch.IntTensor')",
    "torch.set_default_tensor_type(3)", "torch.linspace(0, 10, 4, dtype=torch.int64)",
]


def _show(lib, expr: str) -> str:
    env = {"torch": lib, "Variable": lib.autograd.Variable}
    try:
        return repr(eval(expr, env))  # test-side only: our own fixed expressions
    except Exception as e:  # noqa: BLE001 - the exception is the result being compared
        return f"{type(e).__name__}: {e}"


@pytest.mark.parametrize("expr", CASES)
def test_same_as_torch(expr):
    torch = need_torch()
    assert _show(vizgrad, expr) == _show(torch, expr)


def test_arange_80th_element_is_torch_fma_value():
    # the example: relu's gradient at this element flips if it is exactly 0
    torch = need_torch()
    assert vizgrad.arange(-8.0, 8.0, 0.1)[80].item() == torch.arange(-8.0, 8.0, 0.1)[80].item() != 0.0


def _ranges(seed, count):
    rng = np.random.default_rng(seed)
    out = [(-8.0, 8.0, 0.1), (0, 1, 0.01), (-3, 3, 0.07), (5, 0, -0.5), (1, 2, 1 / 3)]
    for _ in range(count):
        start = float(rng.uniform(-100, 100))
        step = float(rng.uniform(1e-4, 3)) * float(rng.choice([-1, 1]))
        n = int(rng.integers(1, 3000))  # lengths below and above the 16/8-lane blocks, with tails
        out.append((start, start + step * (n + float(rng.uniform(-0.5, 0.5))), step))
    return out


@pytest.mark.parametrize("dt", ["float32", "float64", "float16"])
def test_arange_bit_for_bit(dt):
    torch = need_torch()
    for start, end, step in _ranges(1, 150):
        want = torch.arange(start, end, step, dtype=getattr(torch, dt)).numpy()
        got = vizgrad.arange(start, end, step, dtype=getattr(vizgrad, dt)).numpy()
        assert got.dtype == want.dtype and got.shape == want.shape, (start, end, step)
        np.testing.assert_array_equal(got, want, err_msg=f"arange({start}, {end}, {step})")


@pytest.mark.parametrize("dt", ["float32", "float64", "float16", "int64", "int32"])
def test_linspace_bit_for_bit(dt):
    torch = need_torch()
    rng = np.random.default_rng(2)
    for _ in range(150):
        a, b, n = float(rng.uniform(-10, 10)), float(rng.uniform(-10, 10)), int(rng.integers(0, 3000))
        if dt.startswith("int"):
            a, b = int(a), int(b)
        want = torch.linspace(a, b, n, dtype=getattr(torch, dt)).numpy()
        got = vizgrad.linspace(a, b, n, dtype=getattr(vizgrad, dt)).numpy()
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want, err_msg=f"linspace({a}, {b}, {n})")


def test_set_default_tensor_type_as_torch():
    torch = need_torch()
    import warnings
    out = []
    for lib in (vizgrad, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib.set_default_tensor_type(lib.DoubleTensor)
            a = (lib.get_default_dtype(), lib.ones(1).dtype, lib.tensor([1.5]).dtype)
            lib.set_default_tensor_type("torch.FloatTensor")
        out.append(repr(a + (lib.get_default_dtype(),)))
    assert out[0] == out[1]


@settings(max_examples=60, deadline=None)
@given(start=st.floats(-1e3, 1e3), step=st.floats(1e-3, 10.0), n=st.integers(0, 4000), down=st.booleans(),
       dt=st.sampled_from(["float32", "float64", "float16"]))
def test_arange_property(start, step, n, down, dt):
    # any range, length and direction: the same elements as torch, bit for bit
    torch = need_torch()
    if dt == "float16":
        start, step, n = start / 100, max(step, 0.01), min(n, 300)  # inside half's range and resolution
    step = -step if down else step
    end = start + step * (n + 0.5)
    want = torch.arange(start, end, step, dtype=getattr(torch, dt)).numpy()
    got = vizgrad.arange(start, end, step, dtype=getattr(vizgrad, dt)).numpy()
    np.testing.assert_array_equal(got, want)


@settings(max_examples=60, deadline=None)
@given(a=st.floats(-1e4, 1e4), b=st.floats(-1e4, 1e4), n=st.integers(0, 5000),
       dt=st.sampled_from(["float32", "float64", "int64"]))
def test_linspace_property(a, b, n, dt):
    torch = need_torch()
    want = torch.linspace(a, b, n, dtype=getattr(torch, dt)).numpy()
    got = vizgrad.linspace(a, b, n, dtype=getattr(vizgrad, dt)).numpy()
    np.testing.assert_array_equal(got, want)
