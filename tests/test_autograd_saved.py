"""Autograd internals that tutorials print, against torch: grad_fn._saved_* of the common nodes,
torch.autograd.graph.saved_tensors_hooks / save_on_cpu / disable_saved_tensors_hooks / Node,
Tensor.register_post_accumulate_grad_hook, and the node names of multi-output custom Functions.

    nice -n 5 /work/main/.venv/bin/python -m pytest -q tests/test_autograd_saved.py
"""
from __future__ import annotations

import numpy as np
import pytest

import vizgrad

RNG = np.random.default_rng(5)
A, B = RNG.random((3, 4)) + 0.5, RNG.standard_normal((3, 4))
M, V = RNG.standard_normal((4, 2)), RNG.standard_normal(4)
X, W, BIAS = RNG.standard_normal((2, 3, 5, 5)), RNG.standard_normal((4, 3, 3, 3)), RNG.standard_normal(4)


def _cases(lib):
    """name -> output tensor, the same expressions in torch and vizgrad."""
    F = lib.nn.functional
    a, b, m, v, x, w, bias = [lib.tensor(t, requires_grad=True) for t in (A, B, M, V, X, W, BIAS)]
    return {
        "mul": a * b, "mul_scalar": a * 2, "div": a / b, "pow": a ** 2, "pow_tensor": a ** b, "exp": a.exp(),
        "log": a.log(), "tanh": a.tanh(), "sigmoid": a.sigmoid(), "relu": b.relu(), "sin": a.sin(), "cos": a.cos(),
        "sqrt": a.sqrt(), "reciprocal": a.reciprocal(), "tan": a.tan(), "abs": b.abs(), "mm": a @ m, "mv": a @ v,
        "dot": v.dot(v), "add": a + b, "sub": a - b, "sum": a.sum(), "sum_dim": a.sum(0), "mean": a.mean(),
        "mean_dim": a.mean(1, keepdim=True), "addmm": lib.addmm(bias[:2], a, m), "softmax": a.softmax(1),
        "log_softmax": a.log_softmax(1), "view": a.view(12), "transpose": a.transpose(0, 1), "clamp": a.clamp(0.6, 1),
        "max": a.max(), "max_dim": a.max(1)[0], "mse": F.mse_loss(a, b), "nll": F.nll_loss(a, lib.tensor([0, 1, 2])),
        "bce_logits": F.binary_cross_entropy_with_logits(a, b.detach().sigmoid()), "leaky_relu": F.leaky_relu(b),
        "gelu": F.gelu(b), "where": lib.where(b > 0, a, b), "cat": lib.cat([a, b]), "stack": lib.stack([a, b]),
        "expand": v.expand(3, 4), "unsqueeze": a.unsqueeze(0), "squeeze": a[None].squeeze(0),
        "permute": a.permute(1, 0), "maximum": lib.maximum(a, b), "norm": a.norm(), "norm_dim": a.norm(dim=1),
        "conv2d": F.conv2d(x, w, bias, stride=2, padding=1), "conv1d": F.conv1d(x[:, :, 0], w[:, :, 0], stride=2),
        "conv_transpose2d": F.conv_transpose2d(x, w.transpose(0, 1), bias[:4], stride=2, padding=1),
        "embedding": F.embedding(lib.tensor([1, 2]), w.view(4, -1)), "bce": F.binary_cross_entropy(a.sigmoid(), lib.tensor(A / 2)),
        "gather": x.gather(1, lib.zeros(2, 1, 5, 5, dtype=lib.long)), "sort": x.sort(1)[0], "cumsum": x.cumsum(1),
        "smooth_l1": F.smooth_l1_loss(a, b, beta=0.5), "huber": F.huber_loss(a, b, reduction="sum"),
        "batch_norm": F.batch_norm(x, None, None, bias[:3], bias[:3], True), "flip": a.flip(0), "repeat": a.repeat(2, 1),
        "batch_norm_running": F.batch_norm(x, lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64), bias[:3],
                                           None, True),
        "batch_norm_eval": F.batch_norm(x, lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)),
        "layer_norm_2d": F.layer_norm(x, (5, 5)),
        "layer_norm": F.layer_norm(a, (4,), v, v),
        "max_pool": F.max_pool2d(x, 2), "max_pool_module": lib.nn.MaxPool2d(3, 2, 1, ceil_mode=True)(x),
        "index_add": a.index_add(0, lib.tensor([0, 2]), b[:2]), "logsigmoid": F.logsigmoid(b),
    }


# torch keeps these where vizgrad does not (documented gaps): none left
NOT_KEPT: dict = {}


def _same(tv, vv, torch) -> bool:
    if isinstance(tv, torch.Tensor):
        return (isinstance(vv, vizgrad.Tensor) and tuple(vv.shape) == tuple(tv.shape)
                and np.allclose(vv.detach().numpy(), tv.detach().numpy().astype(float))
                and vv.requires_grad == tv.requires_grad
                and (None if vv.grad_fn is None else vv.grad_fn.name()) == (None if tv.grad_fn is None else tv.grad_fn.name()))
    if isinstance(tv, tuple):
        return isinstance(vv, (tuple, list)) and tuple(vv) == tv
    return vv == tv and type(vv) is type(tv) or (isinstance(tv, float) and vv == tv)


@pytest.mark.parametrize("name", list(_cases(vizgrad)))
def test_saved_attributes_as_torch(name, torch_ref):
    """The same _saved_* names as torch's node, with the same values (tensors: values, requires_grad,
    grad_fn name; numbers and tuples: equal)."""
    tf, vf = _cases(torch_ref)[name].grad_fn, _cases(vizgrad)[name].grad_fn
    assert vf.name() == tf.name()
    torch_names = {x[len("_saved_"):] for x in dir(tf) if x.startswith("_saved_")}
    assert set(vf.saved_fields) == torch_names - NOT_KEPT.get(name, set())
    assert [x for x in dir(vf) if x.startswith("_saved")] == [x for x in dir(tf) if x.startswith("_saved")]  # as tutorials list them
    for field in vf.saved_fields:
        tv, vv = getattr(tf, "_saved_" + field), getattr(vf, "_saved_" + field)
        if name == "mul_scalar" and field == "other":  # torch keeps the Python 2 as an int64 tensor
            assert vv.item() == tv.item()
            continue
        assert _same(tv, vv, torch_ref), (field, tv, vv)


def test_saved_tensor_identity_and_freeing_as_torch(torch_ref):
    """The saved-tensors tutorial's checks: a saved input is the input itself, a saved result an
    equal new tensor; after backward both are freed with torch's message."""
    for lib in (torch_ref, vizgrad):
        x = lib.tensor(V, requires_grad=True)
        y = x.pow(2)
        assert y.grad_fn._saved_self is x and x.equal(y.grad_fn._saved_self)
        z = x.exp()
        assert z.grad_fn._saved_result is not z and z.equal(z.grad_fn._saved_result)
        assert z.grad_fn._saved_result.grad_fn is z.grad_fn
        assert y.grad_fn._saved_exponent == 2
        (y.sum() + z.sum()).backward()
        for get in (lambda: y.grad_fn._saved_self, lambda: z.grad_fn._saved_result):
            with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
                get()
        assert y.grad_fn._saved_exponent == 2  # numbers stay readable
    with pytest.raises(AttributeError):
        (vizgrad.tensor(V, requires_grad=True) * 2).grad_fn._saved_nothing


def _hook_log(lib, make):
    """What pack/unpack hooks see (reprs) while `make(lib)` records and then backward runs."""
    log = []

    def pack(t):
        log.append("pack " + repr(t))
        return t

    def unpack(t):
        log.append("unpack " + repr(t))
        return t

    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        out, read = make(lib)
        if read:
            log.append("read " + repr(read(out)))
    out.sum().backward()
    return log


HOOK_CASES = {
    "mul": (lambda L: (L.ones(5, requires_grad=True) * (L.ones(5, requires_grad=True) * 2), None)),
    "pow_read_saved_self": (lambda L: (L.tensor(V, requires_grad=True).pow(2), lambda y: y.grad_fn._saved_self)),
    "exp_tanh_chain": (lambda L: (L.tensor(V, requires_grad=True).exp().tanh(), lambda y: y.grad_fn._saved_result)),
    "pow_tensor": (lambda L: (L.tensor(A, requires_grad=True) ** L.tensor(B, requires_grad=True), None)),
    "mm_softmax": (lambda L: ((L.tensor(A, requires_grad=True) @ L.tensor(M, requires_grad=True)).softmax(1), None)),
    "max_dim": (lambda L: (L.tensor(A, requires_grad=True).max(1)[0], None)),
    "mse": (lambda L: (L.nn.functional.mse_loss(L.tensor(A, requires_grad=True), L.tensor(B)), None)),
}


@pytest.mark.parametrize("name", list(HOOK_CASES))
def test_saved_tensors_hooks_see_what_torch_packs(name, torch_ref):
    assert _hook_log(vizgrad, HOOK_CASES[name]) == _hook_log(torch_ref, HOOK_CASES[name])


def test_raw_saved_tensor_hooks_as_torch(torch_ref):
    """The tutorial's per-tensor hooks: grad_fn._raw_saved_self.register_hooks(pack, unpack)."""
    logs = []
    for lib in (torch_ref, vizgrad):
        log = []
        x = lib.tensor(V, requires_grad=True)
        y = x.pow(2)
        raw = y.grad_fn._raw_saved_self
        assert repr(raw).startswith("<torch._C._autograd.SavedTensor object at 0x")
        raw.register_hooks(lambda t: (log.append("pack " + repr(t)), t * 10)[1],
                           lambda t: (log.append("unpack " + repr(t)), t / 10)[1])
        log.append("saved " + repr(y.grad_fn._saved_self))
        with pytest.raises(RuntimeError, match="hooks have already been set"):
            y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
        with pytest.raises(RuntimeError, match="with value None is forbidden"):
            (x * 2).grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
        y.sum().backward()
        log.append("grad " + repr(x.grad))
        logs.append(log)
    assert logs[1] == logs[0]


def test_save_on_cpu_and_disabled_hooks_as_torch(torch_ref):
    res = []
    for lib in (torch_ref, vizgrad):
        a = lib.tensor(A, requires_grad=True)
        with lib.autograd.graph.save_on_cpu(pin_memory=False):
            q = (a * lib.tensor(B, requires_grad=True)).tanh()
        saved = repr(q.grad_fn._saved_result)
        q.sum().backward()
        with lib.autograd.graph.disable_saved_tensors_hooks("no hooks in here"):
            with pytest.raises(RuntimeError, match="no hooks in here"):
                with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
        y = a * 2
        res.append((saved, a.grad.numpy(), isinstance(y.grad_fn, lib.autograd.graph.Node),
                    isinstance(y.grad_fn.next_functions[0][0], lib.autograd.graph.Node),
                    isinstance(a, lib.autograd.graph.Node)))
    (ts, tg, *tn), (vs, vg, *vn) = res
    assert vs == ts and vn == tn == [True, True, False]
    np.testing.assert_allclose(vg, tg, rtol=1e-6)


def test_post_accumulate_grad_hook_as_torch(torch_ref):
    """An optimizer step inside the hook (the tutorial's pattern), removal, and the two refusals."""
    out = []
    for lib in (torch_ref, vizgrad):
        lin = lib.nn.Linear(4, 2)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(M.T.astype(np.float32)))
            lin.bias.zero_()
        seen = []

        def step(p, seen=seen):
            seen.append(p.grad.clone())
            with lib.no_grad():
                p.sub_(0.1 * p.grad)
            p.grad = None

        handles = [p.register_post_accumulate_grad_hook(step) for p in lin.parameters()]
        x = lib.tensor(A.astype(np.float32))
        for _ in range(3):
            lin(x).pow(2).sum().backward()
        handles[0].remove()
        lin(x).sum().backward()
        msgs = []
        for t in (lin(x), lib.ones(2)):
            with pytest.raises(RuntimeError) as err:
                t.register_post_accumulate_grad_hook(step)
            msgs.append(str(err.value))
        out.append((lin.weight.detach().numpy().copy(), [s.numpy() for s in seen], lin.weight.grad is None, msgs))
    (tw, ts, tnone, tm), (vw, vs, vnone, vm) = out
    np.testing.assert_allclose(vw, tw, rtol=1e-5)
    assert len(vs) == len(ts) == 7 and vnone == tnone and vm == tm
    for a, b in zip(vs, ts):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def _two_outputs(lib):
    class Split(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2, x.sin()

        @staticmethod
        def backward(ctx, g1, g2):
            (x,) = ctx.saved_tensors
            return g1 * 2 + g2 * x.cos()
    return Split


def test_multi_output_function_named_as_torch(torch_ref):
    res = []
    for lib in (torch_ref, vizgrad):
        x = lib.tensor(V, requires_grad=True)
        u, s = _two_outputs(lib).apply(x)
        (u.sum() + (s * s).sum()).backward()
        res.append((repr(u), repr(s), u.grad_fn.name(), [f.name() for f, _ in u.grad_fn.next_functions],
                    x.grad.numpy()))
    (*t, tg), (*v, vg) = res
    assert v == t and t[2] == "SplitBackward"
    np.testing.assert_allclose(vg, tg, rtol=1e-12)
    x = vizgrad.tensor(V, requires_grad=True)
    assert vizgrad.autograd.gradcheck(lambda t: _two_outputs(vizgrad).apply(t), (x,))
