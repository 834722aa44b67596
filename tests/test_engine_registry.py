"""The op registry (vizgrad/ops/base.py: public, bind): what an op's decorator registers is what
`vizgrad.<name>` and `Tensor.<name>` are, so no hand-kept list can fall behind."""
from __future__ import annotations

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
