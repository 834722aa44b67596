"""Regenerate ``printing_reference.json``: torch's repr for a fixed set of tensors.

The file lets ``tests/test_printing.py`` check ``vizgrad._printing`` against
real torch output on machines where torch is not installed.  Run from the
repository root with the reference torch (2.13.0) installed:

    .venv/bin/python tests/data/make_printing_reference.py

Each entry holds the input values (``data`` as nested lists, non-finite
floats spelled "nan"/"inf"/"-inf" so that the file is strict JSON), its
``shape`` and torch ``dtype``, the print ``options`` in force, the autograd
``suffixes`` torch appended, and torch's ``repr``.
"""

import json
import math
import pathlib

import numpy as np
import torch

OUT = pathlib.Path(__file__).with_name("printing_reference.json")


def cases():
    """(name, array, options, autograd) tuples; autograd is None, "leaf" or "mul"."""
    rng = np.random.default_rng(20240601)
    f32 = np.float32
    yield "scalar_int_valued", np.array(31.0, f32), {}, None
    yield "scalar_grad_fn", np.array(31.0, f32), {}, "mul"
    yield "scalar_fraction", np.array(0.2325, f32), {}, None
    yield "scalar_neg_zero", np.array(-0.0, f32), {}, None
    yield "scalar_nan", np.array(np.nan, f32), {}, None
    yield "scalar_int64", np.array(-7, np.int64), {}, None
    yield "scalar_bool", np.array(True), {}, None
    yield "scalar_float64", np.array(1.0 / 3.0), {}, None
    yield "ones3", np.ones(3, f32), {}, None
    yield "ones3_requires_grad", np.ones(3, f32), {}, "leaf"
    yield "single", np.array([0.2325], f32), {}, None
    yield "matrix_2x5", rng.standard_normal((2, 5)).astype(f32), {}, None
    yield "matrix_2x5_grad_fn", rng.standard_normal((2, 5)).astype(f32), {}, "mul"
    yield "large", np.array([1.5e9, 2.0, -3.25], f32), {}, None
    yield "small", np.array([1e-5, 0.5, -2e-6], f32), {}, None
    yield "ratio_over_1000", np.array([0.01, 20.0], f32), {}, None
    yield "int_valued_sci", np.array([1.0, 5000.0], f32), {}, None
    yield "int_valued_big", np.array([123456789.0, 1.0], f32), {}, None
    yield "nonfinite", np.array([np.nan, np.inf, -np.inf, 1.5, -0.0], f32), {}, None
    yield "nonfinite_only", np.array([np.nan, np.inf, 0.0], f32), {}, None
    yield "int_valued_nan", np.array([np.nan, 1.0, -2.0], f32), {}, None
    yield "ints", np.array([1, -20, 300, 4000], np.int64), {}, None
    yield "int32", np.array([[1, 2], [3, -4]], np.int32), {}, None
    yield "uint8", np.array([0, 255, 7], np.uint8), {}, None
    yield "bools", np.array([[True, False], [False, True]]), {}, None
    yield "float64_matrix", rng.standard_normal((3, 3)), {}, None
    yield "float16", np.array([0.1, 2.5, -1000.0], np.float16), {}, None
    yield "empty", np.zeros((0,), f32), {}, None
    yield "empty_2x0", np.zeros((2, 0), f32), {}, None
    yield "empty_int64", np.zeros((0,), np.int64), {}, None
    yield "empty_float64_0x3", np.zeros((0, 3), np.float64), {}, None
    yield "empty_requires_grad", np.zeros((0,), f32), {}, "leaf"
    yield "cube_2x3x4", rng.standard_normal((2, 3, 4)).astype(f32), {}, None
    yield "four_d", rng.integers(-5, 5, (2, 2, 2, 2)).astype(f32), {}, None
    # Default threshold (1000); values with short decimal forms keep the file small.
    yield "summarized_2000", (np.arange(2000, dtype=f32) % 97) / 8 - 6, {}, None
    yield "summarized_matrix", rng.standard_normal((12, 12)).astype(f32), {"threshold": 100}, None
    yield "summarized_int_3d", np.arange(320, dtype=np.int64).reshape(8, 8, 5) * 37, {"threshold": 100}, None
    yield "wide_row_wraps", (np.arange(30, dtype=f32) * 1.2345), {}, None
    yield "wide_row_grad_fn", (np.arange(30, dtype=f32) * 1.2345), {}, "mul"
    yield "wide_matrix", rng.standard_normal((3, 15)).astype(f32) * 100, {}, None
    yield "precision_2", np.array([1.12345, -2.5], f32), {"precision": 2}, None
    yield "precision_0_sci", np.array([1e-7, 3.0], f32), {"precision": 0}, None
    yield "sci_mode_true", np.array([1.0, 2.5], f32), {"sci_mode": True}, None
    yield "sci_mode_false", np.array([1e-7, 3e9], f32), {"sci_mode": False}, None
    yield "threshold_5", np.arange(10, dtype=np.int64), {"threshold": 5}, None
    yield "edgeitems_1", rng.standard_normal((5, 5)).astype(f32), {"threshold": 10, "edgeitems": 1}, None
    yield "linewidth_30", rng.standard_normal(12).astype(f32), {"linewidth": 30}, None
    yield "profile_short", rng.standard_normal((3, 3)).astype(f32), {"profile": "short"}, None


def encode(values):
    """Nested lists with non-finite floats as strings, so the file is strict JSON."""
    if isinstance(values, list):
        return [encode(v) for v in values]
    if isinstance(values, float) and not math.isfinite(values):
        return str(values)
    return values


def torch_repr(array, options, autograd):
    torch.set_printoptions(**options)
    try:
        t = torch.tensor(array)
        if autograd is not None:
            t.requires_grad_(True)
            if autograd == "mul":
                t = t * 1
        return repr(t)
    finally:
        torch.set_printoptions(profile="default")


def main():
    entries = []
    for name, array, options, autograd in cases():
        t = torch.tensor(array)
        entries.append(
            {
                "name": name,
                # float16/float32 widen to float64 exactly, so values round-trip.
                "data": encode(array.tolist()),
                "shape": list(array.shape),
                "dtype": str(t.dtype).replace("torch.", ""),
                "options": options,
                "suffixes": {None: [], "leaf": ["requires_grad=True"], "mul": ["grad_fn=<MulBackward0>"]}[autograd],
                "repr": torch_repr(array, options, autograd),
            }
        )
    # One case per line: diffable, and far smaller than indenting every number.
    body = ",\n".join(json.dumps(entry) for entry in entries)
    OUT.write_text(f'{{"torch_version": "{torch.__version__}", "cases": [\n{body}\n]}}\n')
    print(f"wrote {len(entries)} cases to {OUT}")


if __name__ == "__main__":
    main()
