"""Shared by the engine tests and tests/data/make_ops_reference.py: the op cases and `helper_test_op`.

An op case is an expression over inputs `a, b, c` written once and evaluated with `torch` bound
to real torch or to vizgrad (`import vizgrad as torch` is the promise, so one text serves both):

    OpCase("mul_bcast", "a * b", [(3, 4), (4,)])
    OpCase("log", "torch.log(a)", [(3, 4)], domain="pos")

`helper_test_op(shapes, torch_fn, vizgrad_fn)` (tinygrad style) checks one op forward and
backward against torch: values, dtype, shape, grad_fn name, repr, and every input's gradient.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

import vizgrad


@dataclass
class OpCase:
    name: str
    expr: str                       # over a, b, c; `torch` is the library under test
    shapes: list                    # one shape per differentiable input
    domain: str = "real"            # "real" | "pos" (inputs in [0.5, 2]) | "away" (|x| in [0.2, 2], no kinks)
    grad: bool = True               # False: compare forward only (result needs no grad)
    atol: float = 1e-5
    fd: bool = True                 # include in the finite-difference check
    extra: dict = field(default_factory=dict)


def _c(name, expr, shapes, **kw):
    return OpCase(name, expr, [tuple(s) for s in shapes], **kw)


S = (3, 4)
CASES: list[OpCase] = [
    # -- arithmetic, with broadcasting and Python scalars ------------------------------------
    _c("add", "a + b", [S, S]),
    _c("add_bcast_row", "a + b", [S, (4,)]),
    _c("add_bcast_col", "a + b", [S, (3, 1)]),
    _c("add_bcast_both", "a + b", [(2, 1, 4), (3, 1)]),
    _c("add_scalar_tensor", "a + b", [(), (3,)]),
    _c("add_fn", "torch.add(a, b)", [S, (4,)]),
    _c("add_method", "a.add(b)", [S, S]),
    _c("add_alpha", "torch.add(a, b, alpha=2)", [S, S]),
    _c("add_py_scalar", "a + 2.5", [S]),
    _c("radd_py_scalar", "2.5 + a", [S]),
    _c("sub", "a - b", [S, (4,)]),
    _c("sub_fn", "torch.sub(a, b)", [S, S]),
    _c("sub_method", "a.sub(b)", [(3, 1), (4,)]),
    _c("sub_py_scalar", "a - 1.5", [S]),
    _c("rsub_py_scalar", "1.5 - a", [S]),
    _c("mul", "a * b", [S, S]),
    _c("mul_bcast", "a * b", [(2, 3, 1), (4,)]),
    _c("mul_fn", "torch.mul(a, b)", [S, (3, 1)]),
    _c("mul_method", "a.mul(b)", [S, S]),
    _c("mul_py_scalar", "a * 3", [S]),
    _c("rmul_py_scalar", "3 * a", [S]),
    _c("div", "a / b", [S, S], domain="pos"),
    _c("div_bcast", "a / b", [S, (4,)], domain="pos"),
    _c("div_fn", "torch.div(a, b)", [S, S], domain="pos"),
    _c("div_method", "a.div(b)", [(3, 1), S], domain="pos"),
    _c("div_py_scalar", "a / 2", [S]),
    _c("rdiv_py_scalar", "2 / a", [S], domain="pos"),
    _c("pow2", "a ** 2", [S]),
    _c("pow3", "a ** 3", [S]),
    _c("pow_half", "a ** 0.5", [S], domain="pos"),
    _c("pow_neg", "a ** -1.5", [S], domain="pos"),
    _c("pow0", "a ** 0", [S]),
    _c("pow_fn_scalar", "torch.pow(a, 2)", [S]),
    _c("pow_method_scalar", "a.pow(3)", [S]),
    _c("pow_tensor", "a ** b", [S, S], domain="pos"),
    _c("pow_tensor_bcast", "a ** b", [S, (4,)], domain="pos"),
    _c("pow_fn_tensor", "torch.pow(a, b)", [S, (3, 1)], domain="pos"),
    _c("rpow", "2 ** a", [S]),
    _c("neg", "-a", [S]),
    _c("neg_fn", "torch.neg(a)", [S]),
    _c("neg_method", "a.neg()", [S]),
    # -- matrix products ----------------------------------------------------------------------
    _c("matmul_mm", "a @ b", [(3, 4), (4, 5)]),
    _c("matmul_fn", "torch.matmul(a, b)", [(3, 4), (4, 2)]),
    _c("matmul_method", "a.matmul(b)", [(2, 4), (4, 3)]),
    _c("matmul_dot", "a @ b", [(4,), (4,)]),
    _c("matmul_mv", "a @ b", [(3, 4), (4,)]),
    _c("mm_fn", "torch.mm(a, b)", [(3, 4), (4, 5)]),
    _c("mm_method", "a.mm(b)", [(2, 3), (3, 3)]),
    _c("matmul_vm", "a @ b", [(4,), (4, 3)]),
    _c("matmul_batched", "a @ b", [(2, 3, 4), (2, 4, 5)]),
    _c("matmul_batched_bcast", "a @ b", [(2, 3, 4), (4, 5)]),
    # -- elementwise functions ------------------------------------------------------------------
    _c("exp", "torch.exp(a)", [S]),
    _c("exp_method", "a.exp()", [(5,)]),
    _c("log", "torch.log(a)", [S], domain="pos"),
    _c("log_method", "a.log()", [(5,)], domain="pos"),
    _c("sqrt", "torch.sqrt(a)", [S], domain="pos"),
    _c("sqrt_method", "a.sqrt()", [(5,)], domain="pos"),
    _c("abs", "torch.abs(a)", [S], domain="away"),
    _c("abs_method", "a.abs()", [(5,)], domain="away"),
    _c("abs_builtin", "abs(a)", [(5,)], domain="away"),
    _c("sin", "torch.sin(a)", [S]),
    _c("sin_method", "a.sin()", [(5,)]),
    _c("cos", "torch.cos(a)", [S]),
    _c("cos_method", "a.cos()", [(5,)]),
    _c("tan", "torch.tan(a)", [S]),
    _c("tan_method", "a.tan()", [(5,)]),
    _c("tanh", "torch.tanh(a)", [S]),
    _c("tanh_method", "a.tanh()", [(5,)]),
    _c("sigmoid", "torch.sigmoid(a)", [S]),
    _c("sigmoid_method", "a.sigmoid()", [(5,)]),
    _c("relu", "torch.relu(a)", [S], domain="away"),
    _c("relu_method", "a.relu()", [(5,)], domain="away"),
    _c("clamp", "torch.clamp(a, -0.5, 0.5)", [S], domain="away", extra={"kinks": (-0.5, 0.5)}),
    _c("clamp_min", "a.clamp(min=0.1)", [S], domain="away", extra={"kinks": (0.1,)}),
    _c("clamp_max", "a.clamp(max=-0.1)", [S], domain="away", extra={"kinks": (-0.1,)}),
    _c("maximum", "torch.maximum(a, b)", [S, S]),
    _c("maximum_bcast", "torch.maximum(a, b)", [S, (4,)]),
    _c("minimum", "torch.minimum(a, b)", [S, S]),
    _c("minimum_method", "a.minimum(b)", [S, (3, 1)]),
    # -- reductions -------------------------------------------------------------------------------
    _c("sum", "a.sum()", [S]),
    _c("sum_fn", "torch.sum(a)", [(2, 3, 4)]),
    _c("sum_dim0", "a.sum(0)", [S]),
    _c("sum_dim_neg", "a.sum(dim=-1)", [(2, 3, 4)]),
    _c("sum_keepdim", "a.sum(1, keepdim=True)", [S]),
    _c("sum_dims", "torch.sum(a, (0, 2))", [(2, 3, 4)]),
    _c("mean", "a.mean()", [S]),
    _c("mean_fn", "torch.mean(a)", [(2, 3, 4)]),
    _c("mean_dim", "a.mean(1)", [S]),
    _c("mean_keepdim", "a.mean(dim=0, keepdim=True)", [S]),
    _c("mean_dims", "torch.mean(a, (-1, 0))", [(2, 3, 4)]),
    _c("max", "a.max()", [S]),
    _c("max_fn", "torch.max(a)", [S]),
    _c("max_dim", "a.max(1).values", [S]),
    _c("max_dim_index", "a.max(dim=0)[0]", [S]),
    _c("max_dim_keepdim", "torch.max(a, 1, keepdim=True).values", [S]),
    _c("max_binary", "torch.max(a, b)", [S, S]),
    _c("min", "a.min()", [S]),
    _c("min_fn", "torch.min(a)", [S]),
    _c("min_dim", "a.min(0).values", [S]),
    _c("min_dim_keepdim", "a.min(dim=-1, keepdim=True)[0]", [(2, 3, 4)]),
    _c("max_indices", "a.max(1).indices", [S], grad=False),
    _c("min_indices", "torch.min(a, 0).indices", [S], grad=False),
    # -- shape ops ----------------------------------------------------------------------------------
    _c("reshape", "a.reshape(4, 3)", [S]),
    _c("reshape_tuple", "a.reshape((2, -1))", [S]),
    _c("reshape_fn", "torch.reshape(a, (12,))", [S]),
    _c("view", "a.view(2, 6)", [S]),
    _c("view_infer", "a.view(-1)", [S]),
    _c("transpose", "a.transpose(0, 1)", [S]),
    _c("transpose_fn", "torch.transpose(a, 0, 2)", [(2, 3, 4)]),
    _c("t", "a.t()", [S]),
    _c("t_fn", "torch.t(a)", [S]),
    _c("T", "a.T", [S]),
    _c("permute", "a.permute(2, 0, 1)", [(2, 3, 4)]),
    _c("permute_tuple", "a.permute((1, 0))", [S]),
    _c("permute_fn", "torch.permute(a, (1, 2, 0))", [(2, 3, 4)]),
    _c("unsqueeze", "a.unsqueeze(0)", [S]),
    _c("unsqueeze_neg", "torch.unsqueeze(a, -1)", [S]),
    _c("squeeze", "a.squeeze()", [(3, 1, 4, 1)]),
    _c("squeeze_dim", "a.squeeze(1)", [(3, 1, 4)]),
    _c("squeeze_fn", "torch.squeeze(a, 0)", [(1, 4)]),
    # -- indexing ----------------------------------------------------------------------------------
    _c("index_int", "a[1]", [S]),
    _c("index_neg_int", "a[-1]", [S]),
    _c("index_two_ints", "a[1, 2]", [S]),
    _c("index_slice", "a[1:3]", [(5, 2)]),
    _c("index_step", "a[::2]", [(5, 2)]),
    _c("index_col_slice", "a[:, 1:3]", [S]),
    _c("index_slice_int", "a[:2, 1]", [S]),
    _c("index_int_slice", "a[0, 1:3]", [S]),
    _c("index_ellipsis", "a[..., 0]", [(2, 3, 4)]),
    _c("index_none", "a[None]", [S]),
    _c("index_col_none", "a[:, None]", [S]),
    _c("index_list", "a[[0, 2, 2]]", [S]),
    _c("index_tensor", "a[torch.tensor([2, 0])]", [S]),
    _c("index_two_arrays", "a[[0, 1, 1], [1, 2, 2]]", [S]),
    _c("index_col_list", "a[:, [0, 3]]", [S]),
    _c("index_mask", "a[a > 0]", [S]),
    # -- joining, selecting -----------------------------------------------------------------------
    _c("cat", "torch.cat([a, b])", [S, (2, 4)]),
    _c("cat_dim1", "torch.cat([a, b, c], dim=1)", [S, (3, 1), (3, 2)]),
    _c("cat_neg_dim", "torch.cat((a, b), -1)", [(2, 3), (2, 2)]),
    _c("stack", "torch.stack([a, b])", [S, S]),
    _c("stack_dim1", "torch.stack([a, b, c], dim=1)", [S, S, S]),
    _c("stack_neg_dim", "torch.stack((a, b), -1)", [(3,), (3,)]),
    _c("where", "torch.where(a > 0, a, b)", [S, S], domain="away"),
    _c("where_bcast", "torch.where(a > 0, a, b)", [S, (4,)], domain="away"),
    _c("where_scalar", "torch.where(a > 0, a, 0.0)", [S], domain="away"),
    _c("softmax", "torch.softmax(a, dim=1)", [S]),
    _c("softmax_dim0", "torch.softmax(a, 0)", [S]),
    _c("softmax_method", "a.softmax(-1)", [(2, 3, 4)]),
    _c("log_softmax", "torch.log_softmax(a, dim=1)", [S]),
    _c("log_softmax_method", "a.log_softmax(0)", [(5,)]),
    # -- compositions (gradient accumulation through fan-out) -----------------------------------------
    _c("fanout", "(a * a + a.exp()).sum() * b", [(3,), ()]),
    _c("chain", "torch.tanh(a @ b + c).sum(1)", [(3, 4), (4, 2), (2,)]),
]
CASES_BY_NAME = {c.name: c for c in CASES}
assert len(CASES_BY_NAME) == len(CASES), "duplicate case names"


def case_inputs(case: OpCase, seed: int = 0, dtype=np.float32) -> list[np.ndarray]:
    """Deterministic inputs for a case: well inside each op's domain, away from kinks and ties."""
    rng = np.random.default_rng(seed)
    out = []
    for shape in case.shapes:
        if case.domain == "pos":
            x = rng.uniform(0.5, 2.0, shape)
        elif case.domain == "away":
            x = rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
            for k in case.extra.get("kinks", ()):
                x = np.where(np.abs(x - k) < 0.1, x + 0.25, x)
        else:
            x = rng.standard_normal(shape)
        out.append(np.asarray(x, dtype=dtype))
    return out


def evaluate(lib, case: OpCase, arrays, requires_grad=True):
    """(inputs, output) of a case's expression under `lib` (torch or vizgrad)."""
    inputs = [lib.tensor(x, requires_grad=requires_grad and case.grad) for x in arrays]
    env = dict(zip("abc", inputs))
    env["torch"] = lib
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = eval(case.expr, {"abs": abs}, env)
    return inputs, out


def upstream(shape, seed=1, dtype=np.float32):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def run_case(lib, case: OpCase, arrays, g=None):
    """Forward + backward of a case: a dict of what parity compares (all plain Python / numpy)."""
    inputs, out = evaluate(lib, case, arrays)
    res = {
        "out": np.array(out.detach().numpy() if hasattr(out, "detach") else out),
        "dtype": str(out.dtype),
        "shape": list(out.shape),
        "repr": repr(out),
        "grad_fn": out.grad_fn.name() if out.grad_fn is not None else None,
        "grads": None,
    }
    if case.grad and out.requires_grad:
        if g is None:
            g = upstream(tuple(out.shape), dtype=res["out"].dtype)
        out.backward(lib.tensor(g))
        res["grads"] = [None if t.grad is None else np.array(t.grad.numpy()) for t in inputs]
    return res


def assert_same(ours: dict, ref: dict, atol=1e-5, rtol=1e-4, what=""):
    """Compare two run_case results (vizgrad vs torch or the stored reference)."""
    assert ours["dtype"] == ref["dtype"], f"{what}: dtype {ours['dtype']} != torch {ref['dtype']}"
    assert ours["shape"] == ref["shape"], f"{what}: shape {ours['shape']} != torch {ref['shape']}"
    np.testing.assert_allclose(ours["out"], ref["out"], atol=atol, rtol=rtol, err_msg=f"{what}: forward")
    assert ours["grad_fn"] == ref["grad_fn"], f"{what}: grad_fn {ours['grad_fn']} != torch {ref['grad_fn']}"
    if ref["grads"] is None:
        assert ours["grads"] is None, f"{what}: vizgrad made gradients, torch did not"
        return
    assert ours["grads"] is not None, f"{what}: no gradients"
    for i, (gv, gt) in enumerate(zip(ours["grads"], ref["grads"])):
        if gt is None:
            assert gv is None, f"{what}: input {i} got a grad, torch's is None"
            continue
        assert gv is not None, f"{what}: input {i} has no grad"
        assert gv.shape == gt.shape, f"{what}: grad {i} shape {gv.shape} != torch {gt.shape}"
        assert gv.dtype == gt.dtype, f"{what}: grad {i} dtype {gv.dtype} != torch {gt.dtype}"
        np.testing.assert_allclose(gv, gt, atol=atol, rtol=rtol, err_msg=f"{what}: gradient of input {i}")


def _torch_dtype_str(s: str) -> str:
    return s  # both print "torch.float32"


def helper_test_op(shapes, torch_fn, vizgrad_fn=None, *, domain="real", atol=1e-5, rtol=1e-4, grad=True,
                   seed=0, check_repr=True, dtype=np.float32):
    """One line per op: same inputs through torch_fn (real torch) and vizgrad_fn; compare it all.

    vizgrad_fn defaults to torch_fn (methods and operators are spelled the same in both).
    Checks forward values, dtype, shape, grad_fn name, repr (values equal to 4 digits are printed
    the same, so repr is compared on torch's own output values), and the gradient of every input
    for a random upstream gradient.
    """
    from tests.conftest import need_torch
    torch = need_torch()
    vizgrad_fn = vizgrad_fn or torch_fn
    case = OpCase("helper", "", [tuple(s) for s in shapes], domain=domain, grad=grad)
    arrays = case_inputs(case, seed, dtype)
    results = []
    for lib, fn in ((torch, torch_fn), (vizgrad, vizgrad_fn)):
        inputs = [lib.tensor(x, requires_grad=grad) for x in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(*inputs)
        res = {"out": np.array(out.detach().numpy()), "dtype": str(out.dtype), "shape": list(out.shape),
               "grad_fn": out.grad_fn.name() if out.grad_fn is not None else None, "grads": None,
               "repr": repr(out)}
        if grad and out.requires_grad:
            g = upstream(tuple(out.shape), dtype=res["out"].dtype)
            out.backward(lib.tensor(g))
            res["grads"] = [None if t.grad is None else np.array(t.grad.numpy()) for t in inputs]
        results.append(res)
    ref, ours = results
    assert_same(ours, ref, atol=atol, rtol=rtol, what=f"{torch_fn}")
    if check_repr and np.array_equal(ours["out"], ref["out"]):
        assert ours["repr"] == ref["repr"]
    return ours, ref
