"""The op registry (vizgrad/ops/base.py: public, bind): what an op's decorator registers is what
`vizgrad.<name>` and `Tensor.<name>` are, so no hand-kept list can fall behind."""
from __future__ import annotations

import numpy as np

import vizgrad
from vizgrad.ops import METHODS, OPS, PUBLIC, Op
from vizgrad.tensor import Tensor


def test_every_registered_function_is_exported():
    assert PUBLIC, "no op registered itself"
    missing = sorted(name for name, fn in PUBLIC.items() if getattr(vizgrad, name, None) is not fn)
    assert not missing, f"registered but not vizgrad.<name>: {missing}"


def test_every_registered_method_is_bound():
    assert METHODS
    unbound = sorted(name for name, obj in METHODS.items() if Tensor.__dict__.get(name) is not obj)
    assert not unbound, f"registered but not Tensor.<name>: {unbound}"


def test_method_and_function_are_one_object():
    """x.exp() calls vizgrad.exp itself (bound at import, no wrapper per call)."""
    for name in ("exp", "sum", "reshape", "matmul", "clamp", "eq", "relu"):
        assert Tensor.__dict__[name] is PUBLIC[name]
    assert Tensor.__dict__["view"] is PUBLIC["reshape"] and Tensor.__dict__["__sub__"] is PUBLIC["sub"]
    x = vizgrad.tensor([0.5, 2.0], requires_grad=True)
    assert repr(x.exp()) == repr(vizgrad.exp(x))


def test_ops_table_holds_op_classes_by_torch_name():
    for name, cls in OPS.items():
        assert issubclass(cls, Op) and cls.torch_name == name


def test_elementwise_ops_keep_the_broadcast_shape():
    """Op.elementwise (what the walkthrough reads instead of a list of names): every op case whose
    output node is elementwise has the broadcast shape of its inputs; reductions, products and
    transposes are not elementwise."""
    from tests._helpers import CASES, case_inputs, evaluate
    seen = set()
    for case in CASES:
        inputs, out = evaluate(vizgrad, case, case_inputs(case))
        fn = out.grad_fn
        if fn is not None and fn.elementwise:
            seen.add(type(fn).torch_name)
            assert tuple(out.shape) == np.broadcast_shapes(*[tuple(t.shape) for t in fn.inputs]), case.name
    assert {"AddBackward0", "MulBackward0", "ExpBackward0", "TanhBackward0", "SigmoidBackward0", "ReluBackward0",
            "ClampBackward1", "MaximumBackward0"} <= seen
    for name in ("SumBackward0", "MeanBackward0", "SoftmaxBackward0", "MaxBackward1", "MmBackward0", "AddmmBackward0",
                 "TBackward0", "TransposeBackward0", "PermuteBackward0", "ViewBackward0"):
        assert not OPS[name].elementwise, name
    assert OPS["ExpBackward0"].latex_name == r"\exp" and OPS["SigmoidBackward0"].latex_name == r"\sigma"
    x = vizgrad.tensor([1.0, 3.0], requires_grad=True)
    assert x.max().grad_fn.latex_name == r"\max" and x.min().grad_fn.latex_name == r"\min"
