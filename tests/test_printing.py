"""vizgrad._printing must print exactly what torch prints.

Two layers:

* ``test_reference_*`` replay ``tests/data/printing_reference.json`` (torch
  output captured by ``tests/data/make_printing_reference.py``) and need no
  torch.
* Every other comparison builds the same tensor in torch and compares
  ``repr`` live; those tests skip when torch is not installed.
"""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.conftest import need_torch
from vizgrad._printing import (
    format_str,
    format_tensor,
    get_printoptions,
    printoptions,
    set_printoptions,
)

REFERENCE = pathlib.Path(__file__).parent / "data" / "printing_reference.json"
DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


@pytest.fixture(autouse=True)
def _default_printoptions():
    """Every test starts and ends with default options, in vizgrad and (if present) torch."""

    def reset():
        set_printoptions(profile="default")
        try:
            import torch
        except ImportError:
            return
        torch.set_printoptions(profile="default")
        torch.set_default_dtype(torch.float32)

    reset()
    yield
    reset()


def _set_both(torch, **options):
    torch.set_printoptions(**options)
    set_printoptions(**options)


def _torch_repr_and_ours(torch, array, autograd=None):
    """(torch repr, vizgrad repr) for ``array``; autograd is None, "leaf" or "mul"."""
    t = torch.tensor(array)
    suffixes = []
    if autograd is not None:
        t.requires_grad_(True)
        suffixes = ["requires_grad=True"]
        if autograd == "mul":
            t = t * 1
            suffixes = [f"grad_fn=<{type(t.grad_fn).__name__}>"]
    dtype_name = str(t.dtype).replace("torch.", "")
    return repr(t), format_tensor(array, dtype_name, suffixes=suffixes)


# --------------------------------------------------------------------------
# Without torch: the stored reference file
# --------------------------------------------------------------------------


def _decode(values):
    if isinstance(values, list):
        return [_decode(v) for v in values]
    if isinstance(values, str):  # "nan", "inf", "-inf"
        return float(values)
    return values


def _reference_cases():
    return json.loads(REFERENCE.read_text())["cases"]


@pytest.mark.parametrize("case", _reference_cases(), ids=lambda c: c["name"])
def test_reference_file(case):
    array = np.array(_decode(case["data"]), dtype=case["dtype"]).reshape(case["shape"])
    with printoptions(**case["options"]):
        got = format_tensor(array, case["dtype"], suffixes=case["suffixes"])
    assert got == case["repr"]


def test_reference_file_is_big_enough():
    assert len(_reference_cases()) >= 40


# --------------------------------------------------------------------------
# Without torch: API behaviour
# --------------------------------------------------------------------------


def test_readme_examples():
    assert format_tensor(np.float32(31.0), "float32", suffixes=["grad_fn=<AddBackward0>"]) == (
        "tensor(31., grad_fn=<AddBackward0>)"
    )
    assert format_tensor(np.ones(3, np.float32), "float32") == "tensor([1., 1., 1.])"
    assert format_tensor(np.array([0.2325], np.float32), "float32") == "tensor([0.2325])"


def test_str_equals_repr():
    a = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    assert format_str(a, "float32") == format_tensor(a, "float32")


def test_dtype_name_forms():
    a = np.array([1.5, 2.0])
    expected = "tensor([1.5000, 2.0000], dtype=torch.float64)"
    assert format_tensor(a, "float64") == expected
    assert format_tensor(a, "torch.float64") == expected
    assert format_tensor(a, "double") == expected
    assert format_tensor(a) == expected  # taken from the array
    # the data is cast to the named dtype, like torch.tensor(..., dtype=...)
    assert format_tensor(a, "int32") == "tensor([1, 2], dtype=torch.int32)"


def test_default_dtype_float64():
    a = np.array([1.5, 2.0])
    assert format_tensor(a, "float64", default_dtype_name="float64") == "tensor([1.5000, 2.0000])"
    assert format_tensor(a.astype(np.float32), "float32", default_dtype_name="float64") == (
        "tensor([1.5000, 2.0000], dtype=torch.float32)"
    )


def test_get_and_set_printoptions():
    assert get_printoptions() == DEFAULTS
    set_printoptions(precision=2, sci_mode=True)
    assert get_printoptions() == {**DEFAULTS, "precision": 2, "sci_mode": True}
    # like torch, any call resets sci_mode when it is not given
    set_printoptions(linewidth=100)
    assert get_printoptions() == {**DEFAULTS, "precision": 2, "linewidth": 100}
    set_printoptions(profile="full")
    assert get_printoptions() == {**DEFAULTS, "threshold": math.inf}
    set_printoptions(profile="short")
    assert get_printoptions() == {**DEFAULTS, "precision": 2, "edgeitems": 2}
    set_printoptions(profile="default")
    assert get_printoptions() == DEFAULTS


def test_printoptions_context_restores():
    with printoptions(precision=1, threshold=5):
        assert format_tensor(np.array([1.25, 3.5], np.float32), "float32") == "tensor([1.2, 3.5])"
    assert get_printoptions() == DEFAULTS


# --------------------------------------------------------------------------
# With torch: hand-picked cases
# --------------------------------------------------------------------------

_rng = np.random.default_rng(0)
_f32 = np.float32

HAND_PICKED = {
    "scalar_31": np.array(31.0, _f32),
    "scalar_fraction": np.array(0.2325, _f32),
    "scalar_neg_zero": np.array(-0.0, _f32),
    "scalar_inf": np.array(-np.inf, _f32),
    "scalar_big": np.array(1e20, _f32),
    "scalar_tiny": np.array(1e-20, _f32),
    "scalar_int": np.array(5, np.int64),
    "scalar_bool": np.array(False),
    "ones": np.ones(3, _f32),
    "single": np.array([0.2325], _f32),
    "zeros": np.zeros(4, _f32),
    "neg_zeros": np.array([-0.0, 0.0, -0.0], _f32),
    "matrix_2x5": _rng.standard_normal((2, 5)).astype(_f32),
    "matrix_2x5_neg": -np.abs(_rng.standard_normal((2, 5))).astype(_f32),
    "large": np.array([1e10, 1.0, 2.5], _f32),
    "small": np.array([1e-6, 1.0], _f32),
    "ratio_just_over_1000": np.array([0.1, 100.5], _f32),
    "ratio_exactly_1000": np.array([0.25, 250.0], _f32),
    "max_1e8": np.array([1e8, 1.5], _f32),
    "int_valued_1e8": np.array([1e8, 2e8], _f32),
    "int_valued_ratio": np.array([1.0, 1001.0], _f32),
    "rounds_up_width": np.array([9.99996, 1.0], _f32),
    "nan_inf": np.array([np.nan, np.inf, -np.inf, 2.0], _f32),
    "nan_inf_frac": np.array([np.nan, -np.inf, 0.125], _f32),
    "only_nan": np.array([np.nan, np.nan], _f32),
    "ints": np.array([[1, -2, 3], [400, 5, -60000]], np.int64),
    "int8": np.array([-128, 127], np.int8),
    "int16": np.array([1, 2], np.int16),
    "int32_big": np.array([2**31 - 1, -(2**31)], np.int32),
    "uint8": np.arange(5, dtype=np.uint8),
    "bools": np.array([True, False, True]),
    "float64": _rng.standard_normal(5),
    "float64_sci": np.array([1e-300, 1e300]),
    "float16": np.array([0.1, 65504.0, -1e-3], np.float16),
    "float16_int": np.array([1.0, 2.0, 3.0], np.float16),
    "empty": np.zeros((0,), _f32),
    "empty_2x0": np.zeros((2, 0), _f32),
    "empty_0x3_int": np.zeros((0, 3), np.int64),
    "empty_bool": np.zeros((0,), bool),
    "empty_float64": np.zeros((0,)),
    "empty_3d": np.zeros((1, 0, 2), _f32),
    "cube": _rng.standard_normal((2, 3, 4)).astype(_f32),
    "five_d": _rng.standard_normal((2, 1, 2, 1, 3)).astype(_f32),
    "summarized_2000": _rng.standard_normal(2000).astype(_f32),
    "summarized_1001": np.arange(1001, dtype=_f32),
    "not_summarized_1000": np.arange(1000, dtype=_f32) / 3,
    "summarized_matrix": _rng.standard_normal((40, 60)).astype(_f32) * 1000,
    "summarized_3d": _rng.standard_normal((10, 10, 20)).astype(_f32),
    "summarized_short_dim": _rng.standard_normal((2, 600)).astype(_f32),
    "summarized_ints": np.arange(5000, dtype=np.int64).reshape(50, 100),
    "summarized_bools": _rng.random(3000) > 0.5,
    "wide_row": np.arange(30, dtype=_f32) * 1.2345,
    "wide_row_sci": np.logspace(-8, 8, 25).astype(_f32),
    "wide_matrix": _rng.standard_normal((3, 17)).astype(_f32) * 100,
    "wide_3d": _rng.standard_normal((2, 2, 13)).astype(_f32),
    "wide_ints": np.arange(100, dtype=np.int64) * 1234,
    "complex64": np.array([1 + 2j, -0.5j, 3.25 - 1j], np.complex64),
    "complex128_scalar": np.array(1.5 - 2j),
}


@pytest.mark.parametrize("name", sorted(HAND_PICKED))
def test_matches_torch(name):
    torch = need_torch()
    expected, got = _torch_repr_and_ours(torch, HAND_PICKED[name])
    assert got == expected


@pytest.mark.parametrize("autograd", ["leaf", "mul"])
@pytest.mark.parametrize(
    "name",
    ["scalar_31", "ones", "matrix_2x5", "wide_row", "wide_matrix", "summarized_2000", "float64", "empty"],
)
def test_matches_torch_with_autograd_suffix(name, autograd):
    torch = need_torch()
    expected, got = _torch_repr_and_ours(torch, HAND_PICKED[name], autograd)
    assert got == expected


def test_suffix_wraps_onto_new_line():
    torch = need_torch()
    # a last line of 70+ characters pushes grad_fn onto its own line
    array = np.arange(9, dtype=_f32) * 1.5 + 1000.25
    expected, got = _torch_repr_and_ours(torch, array, "mul")
    assert "\n" in expected
    assert got == expected


def test_bfloat16_values_given_as_float32():
    torch = need_torch()
    # numpy has no bfloat16: vizgrad keeps such values in float32 arrays
    t = torch.tensor([0.1, 2.5, -3e5, 1.0], dtype=torch.bfloat16)
    assert format_tensor(t.float().numpy(), "bfloat16") == repr(t)


def test_default_dtype_float64_matches_torch():
    torch = need_torch()
    torch.set_default_dtype(torch.float64)
    for array in (np.array([1.5, 2.0]), np.array([1.5, 2.0], _f32), np.zeros((0,)), np.zeros((0,), _f32)):
        t = torch.tensor(array)
        dtype_name = str(t.dtype).replace("torch.", "")
        assert format_tensor(array, dtype_name, default_dtype_name="float64") == repr(t)


# --------------------------------------------------------------------------
# With torch: print options
# --------------------------------------------------------------------------

OPTION_SETS = [
    {"precision": 2},
    {"precision": 0},
    {"precision": 8},
    {"sci_mode": True},
    {"sci_mode": False},
    {"precision": 2, "sci_mode": True},
    {"threshold": 5},
    {"threshold": 5, "edgeitems": 1},
    {"threshold": 5, "edgeitems": 0},
    {"edgeitems": 5},
    {"linewidth": 40},
    {"linewidth": 5},
    {"linewidth": 200},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "full", "precision": 6},
]

OPTION_ARRAYS = [
    "scalar_31",
    "scalar_fraction",
    "matrix_2x5",
    "large",
    "small",
    "nan_inf",
    "ints",
    "bools",
    "cube",
    "summarized_2000",
    "summarized_ints",
    "wide_row",
    "wide_row_sci",
    "complex64",
    "empty_2x0",
]


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_printoptions_match_torch(options):
    torch = need_torch()
    _set_both(torch, **options)
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    for name in OPTION_ARRAYS:
        expected, got = _torch_repr_and_ours(torch, HAND_PICKED[name])
        assert got == expected, name


# --------------------------------------------------------------------------
# With torch: property tests
# --------------------------------------------------------------------------

_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6)


@st.composite
def float_arrays(draw, dtype=np.float32, width=32):
    """Arrays mixing a random magnitude with specials: zeros, nan, inf, whole numbers."""
    shape = draw(_shapes)
    exponent = draw(st.integers(-12, 12))
    scale = float(np.dtype(dtype).type(10.0**exponent))  # hypothesis wants an exact bound
    finite = st.floats(-scale, scale, width=width, allow_subnormal=False)
    specials = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, float("nan"), float("inf"), float("-inf")])
    whole = st.integers(-100_000, 100_000).map(float)
    elements = st.one_of(finite, finite, finite, specials, whole)
    return draw(hnp.arrays(dtype, shape, elements=elements))


_property = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_property
@given(float_arrays())
def test_property_float32(array):
    torch = need_torch()
    expected, got = _torch_repr_and_ours(torch, array)
    assert got == expected


@_property
@given(float_arrays(np.float64, 64))
def test_property_float64(array):
    torch = need_torch()
    expected, got = _torch_repr_and_ours(torch, array)
    assert got == expected


@_property
@given(hnp.arrays(np.int64, _shapes, elements=st.integers(-(2**40), 2**40)))
def test_property_int64(array):
    torch = need_torch()
    expected, got = _torch_repr_and_ours(torch, array)
    assert got == expected


@settings(max_examples=100, deadline=None)
@given(
    float_arrays(),
    st.integers(0, 8),
    st.integers(10, 120),
    st.sampled_from([None, True, False]),
    st.integers(0, 4),
    st.sampled_from([3, 20, 1000]),
    st.sampled_from([None, "leaf"]),
)
def test_property_options(array, precision, linewidth, sci_mode, edgeitems, threshold, autograd):
    torch = need_torch()
    _set_both(
        torch,
        precision=precision,
        linewidth=linewidth,
        sci_mode=sci_mode,
        edgeitems=edgeitems,
        threshold=threshold,
    )
    try:
        expected, got = _torch_repr_and_ours(torch, array, autograd)
    finally:
        _set_both(torch, profile="default")
    assert got == expected
