"""Every op against PyTorch: forward values, dtype, shape, grad_fn name, repr and gradients.

Three layers, all driven by the op cases in tests/_helpers.py (one expression per case, the same
text evaluated with `torch` bound to real torch or to vizgrad):

* ``test_case_vs_torch``: live parity with torch (skips without torch);
* ``test_case_vs_reference``: the same against tests/data/ops_reference.json, torch's output
  stored by tests/data/make_ops_reference.py, so parity holds where torch is absent;
* ``TestOps``: tinygrad-style one-liners, ``helper_test_op(shapes, fn)``, one per op spelling,
  at other shapes than the cases.

Dtype promotion, creation functions and tensor attributes are compared with torch at the end.
"""
from __future__ import annotations

import json
import pathlib
import warnings

import numpy as np
import pytest

import vizgrad
from tests._helpers import (CASES, CASES_BY_NAME, assert_same, case_inputs, evaluate, helper_test_op, run_case,
                            upstream)

REFERENCE = pathlib.Path(__file__).parent / "data" / "ops_reference.json"
GRAD_CASES = [c for c in CASES if c.grad]
# vizgrad records these as one node where torch records a short chain (matmul folds batches into
# mm and views back; x[1, 2] is two selects): the final node's name matches, its inputs differ.
COMPOSITE = {"matmul_vm", "matmul_batched", "matmul_batched_bcast", "index_two_ints", "index_slice_int",
             "index_int_slice"}


@pytest.fixture(scope="module")
def reference():
    return json.loads(REFERENCE.read_text())["cases"]


def _ids(cases):
    return [c.name for c in cases]


# -- live parity with torch ---------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_case_vs_torch(case, torch_ref):
    arrays = case_inputs(case)
    ref = run_case(torch_ref, case, arrays)
    ours = run_case(vizgrad, case, arrays)
    assert_same(ours, ref, atol=case.atol, what=case.name)
    assert ours["repr"] == ref["repr"]


@pytest.mark.parametrize("case", GRAD_CASES, ids=_ids(GRAD_CASES))
def test_second_backward_vs_torch(case, torch_ref):
    """A second backward without retain_graph raises exactly when torch's does (saved buffers freed)."""

    def raises(lib):
        _, out = evaluate(lib, case, case_inputs(case))
        g = lib.tensor(upstream(tuple(out.shape)))
        out.backward(g)
        try:
            out.backward(g)
        except RuntimeError as e:
            assert "backward through the graph a second time" in str(e)
            return True
        return False

    assert raises(vizgrad) == raises(torch_ref)


@pytest.mark.parametrize("case", [c for c in GRAD_CASES if c.name not in COMPOSITE],
                         ids=_ids([c for c in GRAD_CASES if c.name not in COMPOSITE]))
def test_next_functions_vs_torch(case, torch_ref):
    def names(lib):
        _, out = evaluate(lib, case, case_inputs(case))
        return [None if fn is None else fn.name() for fn, _ in out.grad_fn.next_functions]

    assert names(vizgrad) == names(torch_ref)


# -- parity with the stored torch reference (no torch needed) ------------------------------------
def test_reference_covers_every_case(reference):
    """Adding or changing a case needs `make_ops_reference.py` re-run: the file must match the cases."""
    assert set(reference) == set(CASES_BY_NAME)
    for name, entry in reference.items():
        assert entry["expr"] == CASES_BY_NAME[name].expr, f"{name}: regenerate ops_reference.json"


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_case_vs_reference(case, reference):
    entry = reference[case.name]
    arrays = [np.array(x, dtype=np.float32).reshape(s) for x, s in zip(entry["inputs"], entry["shapes"])]
    ref_out = np.array(entry["out"])
    ref = {"out": ref_out, "dtype": entry["dtype"], "shape": entry["shape"], "grad_fn": entry["grad_fn"],
           "grads": None}
    g = None
    if entry["grads"] is not None:
        g = np.array(entry["upstream"], dtype=np.float32).reshape(entry["shape"])
        ref["grads"] = [None if gr is None else np.array(gr, dtype=np.float32).reshape(s)
                        for gr, s in zip(entry["grads"], entry["shapes"])]
    ours = run_case(vizgrad, case, arrays, g=g)
    assert_same(ours, ref, atol=case.atol, what=case.name)
    assert ours["repr"] == entry["repr"]
    if entry["grads"] is not None:
        _, out = evaluate(vizgrad, case, arrays)
        out.backward(vizgrad.tensor(g))
        if entry["second_backward_raises"]:
            with pytest.raises(RuntimeError, match="backward through the graph a second time"):
                out.backward(vizgrad.tensor(g))
        else:
            out.backward(vizgrad.tensor(g))


# -- tinygrad-style: one line per op spelling ----------------------------------------------------
def _vz(name):
    return getattr(vizgrad, name)


class TestOps:
    """`helper_test_op(shapes, torch_fn[, vizgrad_fn])` compares forward + backward with torch."""

    @pytest.fixture(autouse=True)
    def _torch(self, torch_ref):
        self.torch = torch_ref

    # arithmetic and broadcasting
    def test_add(self):
        helper_test_op([(45, 65), (45, 65)], lambda x, y: x + y)

    def test_add_broadcast(self):
        helper_test_op([(2, 1, 5), (3, 1)], lambda x, y: x + y)

    def test_add_fn(self):
        helper_test_op([(4, 5), (5,)], self.torch.add, vizgrad.add)

    def test_sub(self):
        helper_test_op([(4, 5), (1, 5)], lambda x, y: x - y)

    def test_sub_fn(self):
        helper_test_op([(4, 5), (4, 1)], self.torch.sub, vizgrad.sub)

    def test_rsub(self):
        helper_test_op([(4, 5)], lambda x: 3.0 - x)

    def test_mul(self):
        helper_test_op([(4, 1, 5), (3, 5)], lambda x, y: x * y)

    def test_mul_fn(self):
        helper_test_op([(4, 5), ()], self.torch.mul, vizgrad.mul)

    def test_div(self):
        helper_test_op([(4, 5), (5,)], lambda x, y: x / y, domain="pos")

    def test_div_fn(self):
        helper_test_op([(4, 5), (4, 1)], self.torch.div, vizgrad.div, domain="pos")

    def test_rdiv(self):
        helper_test_op([(4, 5)], lambda x: 1.5 / x, domain="pos")

    def test_pow_scalar(self):
        for e in (2, 3, 0.5, -1, 1.5, 0):
            helper_test_op([(4, 5)], lambda x: x ** e, domain="pos")

    def test_pow_tensor(self):
        helper_test_op([(4, 5), (4, 5)], lambda x, y: x ** y, domain="pos")

    def test_pow_tensor_broadcast(self):
        helper_test_op([(4, 5), ()], lambda x, y: x ** y, domain="pos")

    def test_pow_fn(self):
        helper_test_op([(4, 5), (5,)], self.torch.pow, vizgrad.pow, domain="pos")

    def test_rpow(self):
        helper_test_op([(4, 5)], lambda x: 3 ** x)

    def test_neg(self):
        helper_test_op([(4, 5)], lambda x: -x)
        helper_test_op([(4, 5)], self.torch.neg, vizgrad.neg)

    # matrix products
    def test_matmul(self):
        helper_test_op([(8, 16), (16, 4)], lambda x, y: x @ y)

    def test_matmul_fn(self):
        helper_test_op([(3, 4), (4, 2)], self.torch.matmul, vizgrad.matmul)

    def test_mm(self):
        helper_test_op([(3, 4), (4, 2)], self.torch.mm, vizgrad.mm)
        helper_test_op([(3, 4), (4, 2)], lambda x, y: x.mm(y))

    def test_matmul_vectors(self):
        helper_test_op([(7,), (7,)], lambda x, y: x @ y)
        helper_test_op([(3, 7), (7,)], lambda x, y: x @ y)
        helper_test_op([(7,), (7, 2)], lambda x, y: x @ y)

    def test_matmul_batched(self):
        helper_test_op([(2, 1, 3, 4), (5, 4, 2)], lambda x, y: x @ y)
        helper_test_op([(2, 3, 4), (4,)], lambda x, y: x @ y)

    # elementwise
    @pytest.mark.parametrize("name, domain", [("exp", "real"), ("log", "pos"), ("sqrt", "pos"), ("abs", "away"),
                                              ("sin", "real"), ("cos", "real"), ("tanh", "real"),
                                              ("sigmoid", "real"), ("relu", "away")])
    def test_unary(self, name, domain):
        helper_test_op([(4, 5)], getattr(self.torch, name), _vz(name), domain=domain)
        helper_test_op([(4, 5)], lambda x: getattr(x, name)(), domain=domain)
        helper_test_op([()], getattr(self.torch, name), _vz(name), domain=domain)

    def test_sigmoid_extreme(self):
        t = self.torch
        for v in ([-100.0, -30.0, 0.0, 30.0, 100.0],):
            x, xv = t.tensor(v, requires_grad=True), vizgrad.tensor(v, requires_grad=True)
            t.sigmoid(x).sum().backward()
            vizgrad.sigmoid(xv).sum().backward()
            np.testing.assert_allclose(vizgrad.sigmoid(xv).detach().numpy(), t.sigmoid(x).detach().numpy())
            np.testing.assert_allclose(xv.grad.numpy(), x.grad.numpy(), atol=1e-12)

    def test_clamp(self):
        helper_test_op([(4, 5)], lambda x: x.clamp(-0.5, 0.5), domain="away")
        helper_test_op([(4, 5)], lambda x: self.torch.clamp(x, min=0.3), lambda x: vizgrad.clamp(x, min=0.3),
                       domain="away")
        helper_test_op([(4, 5)], lambda x: x.clamp(max=-0.3), domain="away")

    def test_maximum_minimum(self):
        helper_test_op([(4, 5), (5,)], self.torch.maximum, vizgrad.maximum)
        helper_test_op([(4, 5), (4, 1)], self.torch.minimum, vizgrad.minimum)
        helper_test_op([(4, 5), (4, 5)], lambda x, y: x.maximum(y))

    def test_maximum_ties_split_gradient(self):
        t = self.torch
        for lib in (t, vizgrad):
            a, b = lib.tensor([1.0, 2.0, 3.0], requires_grad=True), lib.tensor([1.0, 0.0, 3.0], requires_grad=True)
            (lib.maximum(a, b) * lib.tensor([1.0, 2.0, 4.0])).sum().backward()
            assert a.grad.tolist() == [0.5, 2.0, 2.0] and b.grad.tolist() == [0.5, 0.0, 2.0]

    # reductions
    @pytest.mark.parametrize("name", ["sum", "mean"])
    def test_sum_mean(self, name):
        helper_test_op([(3, 4, 5)], lambda x: getattr(x, name)())
        helper_test_op([(3, 4, 5)], getattr(self.torch, name), _vz(name))
        for dim in (0, 1, -1, (0, 2)):
            for keepdim in (False, True):
                helper_test_op([(3, 4, 5)], lambda x: getattr(x, name)(dim, keepdim=keepdim))
                helper_test_op([(3, 4, 5)], lambda x: getattr(x, name)(dim=dim, keepdim=keepdim))

    @pytest.mark.parametrize("name", ["max", "min"])
    def test_max_min(self, name):
        helper_test_op([(3, 4, 5)], lambda x: getattr(x, name)())
        for dim in (0, 1, -1):
            for keepdim in (False, True):
                helper_test_op([(3, 4, 5)], lambda x: getattr(x, name)(dim, keepdim=keepdim).values)
                helper_test_op([(3, 4, 5)], lambda x: getattr(x, name)(dim=dim, keepdim=keepdim)[0])
                helper_test_op([(3, 4, 5)], lambda x: getattr(x, name)(dim, keepdim).indices, grad=False)

    def test_max_ties_share_gradient(self):
        t = self.torch
        for lib in (t, vizgrad):
            x = lib.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
            x.max().backward()
            assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]

    def test_max_dim_repr(self):
        t = self.torch
        a = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], np.float32)
        for name in ("max", "min"):
            r_t = getattr(t.tensor(a, requires_grad=True), name)(1)
            r_v = getattr(vizgrad.tensor(a, requires_grad=True), name)(1)
            assert repr(r_v) == repr(r_t)
            values, indices = r_v
            assert values.shape == (2,) and indices.dtype == vizgrad.int64

    # shape ops
    def test_reshape_view(self):
        helper_test_op([(3, 4)], lambda x: x.reshape(2, 6))
        helper_test_op([(3, 4)], lambda x: x.reshape((-1,)))
        helper_test_op([(3, 4)], lambda x: x.view(4, 3))
        helper_test_op([(3, 4)], lambda x: x.view(-1, 2))
        helper_test_op([(3, 4)], lambda x: self.torch.reshape(x, (6, 2)), lambda x: vizgrad.reshape(x, (6, 2)))

    def test_transpose(self):
        helper_test_op([(3, 4)], lambda x: x.t())
        helper_test_op([(3, 4)], lambda x: x.T)
        helper_test_op([(2, 3, 4)], lambda x: x.transpose(0, 2))
        helper_test_op([(2, 3, 4)], lambda x: x.transpose(-1, -2))
        helper_test_op([(3,)], lambda x: x.t())

    def test_permute(self):
        helper_test_op([(2, 3, 4)], lambda x: x.permute(1, 2, 0))
        helper_test_op([(2, 3, 4)], lambda x: x.permute((2, 1, 0)))
        helper_test_op([(2, 3, 4)], lambda x: x.permute(-1, 0, 1))

    def test_unsqueeze_squeeze(self):
        helper_test_op([(3, 4)], lambda x: x.unsqueeze(1))
        helper_test_op([(3, 4)], lambda x: x.unsqueeze(-1))
        helper_test_op([(1, 3, 1)], lambda x: x.squeeze())
        helper_test_op([(1, 3, 1)], lambda x: x.squeeze(-1))
        helper_test_op([(1, 3, 1)], lambda x: x.squeeze(1))  # not size 1: a no-op, still a node

    # indexing
    @pytest.mark.parametrize("key", [1, -2, (1, 2), slice(1, 3), slice(None, None, 2), (slice(None), 1),
                                     (Ellipsis, 1), (None, 0), (slice(1, None), None), [0, 2, 0],
                                     ([0, 1], [2, 2]), (slice(None), [1, 0])],
                             ids=lambda k: repr(k))
    def test_getitem(self, key):
        helper_test_op([(3, 4)], lambda x: x[key])

    def test_getitem_tensor_index(self):
        helper_test_op([(5, 2)], lambda x: x[self.torch.tensor([4, 0, 4])],
                       lambda x: x[vizgrad.tensor([4, 0, 4])])

    def test_getitem_mask(self):
        helper_test_op([(3, 4)], lambda x: x[x > 0])

    # joining and selecting
    def test_cat(self):
        helper_test_op([(2, 3), (4, 3)], lambda x, y: self.torch.cat([x, y]), lambda x, y: vizgrad.cat([x, y]))
        helper_test_op([(2, 3), (2, 1), (2, 2)], lambda *xs: self.torch.cat(xs, dim=1),
                       lambda *xs: vizgrad.cat(xs, dim=1))

    def test_stack(self):
        for dim in (0, 1, 2, -1):
            helper_test_op([(2, 3), (2, 3)], lambda x, y: self.torch.stack([x, y], dim),
                           lambda x, y: vizgrad.stack([x, y], dim))

    def test_where(self):
        helper_test_op([(3, 4), (3, 4)], lambda x, y: self.torch.where(x > y, x, y),
                       lambda x, y: vizgrad.where(x > y, x, y))
        helper_test_op([(3, 4), (4,)], lambda x, y: self.torch.where(x > 0, x * 2, y),
                       lambda x, y: vizgrad.where(x > 0, x * 2, y))

    @pytest.mark.parametrize("name", ["softmax", "log_softmax"])
    def test_softmax(self, name):
        for dim in (0, 1, -1):
            helper_test_op([(3, 4)], lambda x: getattr(self.torch, name)(x, dim), lambda x: getattr(vizgrad, name)(x, dim))
            helper_test_op([(2, 3, 4)], lambda x: getattr(x, name)(dim=dim))

    def test_softmax_large_inputs_stable(self):
        t = self.torch
        v = [[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]]
        for name in ("softmax", "log_softmax"):
            got = getattr(vizgrad, name)(vizgrad.tensor(v), 1).numpy()
            np.testing.assert_allclose(got, getattr(t, name)(t.tensor(v), 1).numpy(), rtol=1e-6)
            assert np.isfinite(got).all()

    def test_float64_ops(self):
        helper_test_op([(3, 4), (4, 2)], lambda x, y: (x @ y).tanh().sum(0), dtype=np.float64, atol=1e-12)
        helper_test_op([(3, 4)], lambda x: x.log_softmax(1), dtype=np.float64, atol=1e-12)


# -- dtype promotion, creation and attributes, compared with torch --------------------------------
PROMOTION = [
    "torch.tensor([1, 2, 3]) * 2.5", "torch.tensor([1, 2, 3]) * 2", "torch.tensor([1, 2]) + 1.5",
    "torch.tensor([1., 2.]) + torch.tensor([1., 2.], dtype=torch.float64)",
    "torch.tensor([1., 2.], dtype=torch.float64) * 3", "torch.tensor([1, 2, 3]) / torch.tensor([2, 2, 2])",
    "torch.tensor([7, 8]) / 2", "7 / torch.tensor([2, 4])", "torch.tensor([7, -8]) // 2",
    "torch.tensor([True, False]) + 1", "torch.tensor([True, False]) + torch.tensor([1, 2])",
    "torch.tensor([True, False]) * 1.5", "torch.tensor([True, False]) + True",
    "torch.tensor([1, 2]) + torch.tensor(1.5)", "torch.tensor([1., 2.]) + torch.tensor(1.5, dtype=torch.float64)",
    "torch.tensor(3) * 2.0", "torch.tensor(3) + torch.tensor(2.0, dtype=torch.float64)",
    "torch.tensor([1, 2], dtype=torch.int32) + torch.tensor([1, 2])", "torch.tensor([1, 2]) ** 2",
    "torch.tensor([1, 2]) ** 0.5", "2 ** torch.tensor([1, 2])", "2.0 ** torch.tensor([1, 2])",
    "1 - torch.tensor([1, 2])", "-torch.tensor([1, 2])", "torch.tensor([1, 2]).sum()",
    "torch.tensor([True, True]).sum()", "torch.tensor([[1, 2]]) @ torch.tensor([[1], [2]])",
    "torch.tensor([1.5, 2.]).double() * torch.tensor([1., 2.])", "torch.maximum(torch.tensor([1, 5]), torch.tensor([2., 3.]))",
    "torch.where(torch.tensor([True, False]), torch.tensor([1, 2]), 0.5)",
    "torch.cat([torch.tensor([1, 2]), torch.tensor([1.5])])", "torch.stack([torch.tensor([1, 2]), torch.tensor([1., 3.])])",
    "torch.tensor([[1, 2], [3, 0]]).max(1)", "torch.tensor([1, -2]).abs()", "torch.tensor([1, 2]).exp()",
    "torch.tensor([1, 4]).sqrt()", "torch.tensor([1, 4]).log()", "torch.tensor([1, 4]).sin()", "torch.tensor([1, 4]).cos()",
    "torch.tensor([1, 4]).tanh()", "torch.tensor([1, 4]).sigmoid()", "torch.tensor([1, -4]).relu()",
    "torch.tensor([1, -4]).clamp(min=0)", "torch.tensor([1, -4]).clamp(min=0.5)", "torch.tensor([1, 2]) > 1.5",
    "torch.tensor([1, 2]).float()", "torch.tensor([1.7, -2.]).long()", "torch.tensor([1, 2]).to(torch.float64)",
]
CREATION = [
    "torch.zeros(2, 3)", "torch.zeros((2,), dtype=torch.int64)", "torch.ones(2)", "torch.ones([2, 1], dtype=torch.float64)",
    "torch.zeros_like(torch.tensor([1, 2]))", "torch.ones_like(torch.tensor([1., 2.]))",
    "torch.ones_like(torch.tensor([1., 2.]), dtype=torch.bool)", "torch.full((2, 2), 3.0)", "torch.full((2,), 3)",
    "torch.full((2,), True)", "torch.eye(3)", "torch.eye(2, 3)", "torch.eye(2, dtype=torch.int64)", "torch.arange(5)",
    "torch.arange(1, 4)", "torch.arange(0, 1, 0.25)", "torch.arange(5.0)", "torch.arange(6, 0, -2)",
    "torch.arange(3, dtype=torch.float64)", "torch.linspace(0, 1, 5)", "torch.linspace(-1, 1, steps=3)",
    "torch.tensor([1, 2], dtype=torch.float64)", "torch.tensor(3)", "torch.tensor(3.5)", "torch.tensor(True)",
    "torch.tensor([])", "torch.tensor([[1, 2], [3, 4]], dtype=torch.float32)", "torch.tensor([1, 2.0])",
    "torch.tensor([True, 2])", "torch.tensor([[True, False]])", "torch.tensor([1.5, 2], dtype=torch.int64)",
    "torch.from_numpy(np.arange(3))", "torch.from_numpy(np.ones(2))", "torch.from_numpy(np.ones(2, 'float32'))",
    "torch.from_numpy(np.array([True]))", "torch.tensor(np.array([1.5, 2.5]))",
    "torch.tensor([1., 2.], requires_grad=True)", "torch.zeros(2, 2, requires_grad=True)",
    "torch.ones(2, dtype=torch.float64, requires_grad=True)", "torch.tensor([1., 2.]).requires_grad_()",
    "torch.tensor(2., requires_grad=True) * 2", "torch.tensor([0.1, 0.2], dtype=torch.float64, requires_grad=True) * 2",
    "torch.tensor([1., 2.], requires_grad=True).detach()", "torch.ones(2, requires_grad=True).sum()",
    "torch.float32", "torch.float64", "torch.int64", "torch.bool", "torch.tensor([[1., 2.]]).shape",
    "torch.tensor([[1., 2.]]).size()", "torch.tensor([[1., 2.]]).size(1)", "torch.tensor([[1., 2.]]).dim()",
    "torch.tensor([[1., 2.]]).dtype", "torch.tensor(2.5).item()", "torch.tensor([7]).item()", "torch.tensor(True).item()",
    "torch.tensor([[1, 2], [3, 4]]).tolist()", "torch.tensor([1.5, 2.]).tolist()", "torch.tensor([1., 2.]).numpy()",
    "torch.tensor(2.).numpy()", "torch.tensor([1., 2.], requires_grad=True).is_leaf",
    "(torch.tensor([1., 2.], requires_grad=True) * 2).is_leaf", "torch.tensor([1., 2.]).grad_fn",
    "torch.tensor([1., 2.]).requires_grad", "(torch.tensor([1., 2.], requires_grad=True) * 2).requires_grad",
    "torch.tensor([1, 2], requires_grad=True)", "torch.tensor([1, 2]).requires_grad_()",
    "torch.tensor([1., 2.], requires_grad=True).numpy()", "torch.tensor([1., 2.]).item()",
    "torch.tensor([1, 2]).mean()", "torch.tensor([[1., 2.]]) @ torch.tensor([1., 2., 3.])",
    "torch.ones(2, 3).view(4)", "torch.ones(3)[5]", "torch.cat([torch.ones(2, 3), torch.ones(2, 2)])",
]


def _show(lib, expr):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = eval(expr, {"torch": lib, "np": np})
        except Exception as e:  # errors must match too: type and message
            return f"{type(e).__name__}: {e}"
    text = repr(r)
    if hasattr(r, "dtype") and hasattr(r, "shape") and not isinstance(r, np.ndarray):
        text += f" {r.dtype} {tuple(r.shape)}"
    return text


@pytest.mark.parametrize("expr", PROMOTION)
def test_dtype_promotion_vs_torch(expr, torch_ref):
    assert _show(vizgrad, expr) == _show(torch_ref, expr)


@pytest.mark.parametrize("expr", CREATION)
def test_creation_and_attributes_vs_torch(expr, torch_ref):
    assert _show(vizgrad, expr) == _show(torch_ref, expr)


@pytest.mark.parametrize("expr, dtype", [
    ("torch.tensor([1, 2, 3]) * 2.5", "float32"), ("torch.tensor([1.]) + torch.tensor([1.], dtype=torch.float64)", "float64"),
    ("torch.tensor([3]) / torch.tensor([2])", "float32"), ("torch.tensor([True]) + 1", "int64"),
    ("torch.tensor([True]) + torch.tensor([True])", "bool"), ("torch.tensor([2]) + torch.tensor(1.5)", "float32"),
    ("torch.tensor([2.]) + torch.tensor(1.5, dtype=torch.float64)", "float32"), ("torch.tensor([1]) // 2", "int64"),
    ("torch.tensor(3) * 2.0", "float32"), ("torch.tensor([1.0]).double() * 2", "float64"),
])
def test_dtype_promotion_without_torch(expr, dtype):
    """The promotion rules torch documents, spelled out (these run where torch is absent)."""
    assert str(eval(expr, {"torch": vizgrad}).dtype) == f"torch.{dtype}"


def test_creation_without_torch():
    t = vizgrad
    assert repr(t.zeros(2, 3)) == "tensor([[0., 0., 0.],\n        [0., 0., 0.]])"
    assert repr(t.ones(3)) == "tensor([1., 1., 1.])"
    assert repr(t.arange(4)) == "tensor([0, 1, 2, 3])"
    assert repr(t.linspace(0, 1, 3)) == "tensor([0.0000, 0.5000, 1.0000])"
    assert repr(t.eye(2)) == "tensor([[1., 0.],\n        [0., 1.]])"
    assert repr(t.full((2,), 7)) == "tensor([7, 7])"
    assert repr(t.tensor(3.0, requires_grad=True)) == "tensor(3., requires_grad=True)"
    assert repr(t.tensor([1.0], dtype=t.float64)) == "tensor([1.], dtype=torch.float64)"
    assert t.tensor(2.5).dtype is t.float32 and t.tensor(2).dtype is t.int64 and t.tensor(True).dtype is t.bool
    assert t.zeros_like(t.tensor([1, 2])).dtype is t.int64 and t.ones_like(t.ones(2, 2)).shape == (2, 2)
    t.manual_seed(3)
    a = t.rand(2, 3)
    t.manual_seed(3)
    assert t.rand(2, 3).tolist() == a.tolist() and ((a >= 0) & (a < 1)).all()
    assert t.randn(4, 5).shape == (4, 5) and t.randn(2).dtype is t.float32
    arr = np.zeros(3)
    shared = t.from_numpy(arr)
    arr[0] = 5
    assert shared.tolist() == [5.0, 0.0, 0.0] and shared.dtype is t.float64
