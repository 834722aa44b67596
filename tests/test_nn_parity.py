"""nn modules and losses against torch: the same weights (copied from torch) give the same outputs,
gradients, and, over 20 optimizer steps, the same losses and weights (relative 1e-5, float32)."""
from __future__ import annotations

import numpy as np
import pytest

import vizgrad

from tests.conftest import need_torch

RTOL = 1e-5


def _copy_weights(src, dst):
    """torch module -> vizgrad module, by state_dict key (keys must match torch's)."""
    sd = {k: vizgrad.tensor(v.detach().numpy().copy()) for k, v in src.state_dict().items()}
    assert list(sd) == list(dst.state_dict().keys())
    dst.load_state_dict(sd)


def _build(lib, name):
    nn = lib.nn
    if name == "mlp_sigmoid":
        return nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 1))
    if name == "mlp_relu":
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.LeakyReLU(0.1), nn.Linear(8, 1))
    if name == "mlp_tanh_gelu":
        return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.GELU(), nn.Identity(), nn.Linear(8, 1))
    if name == "mlp_gelu_tanh_approx":
        return nn.Sequential(nn.Flatten(), nn.Linear(4, 6), nn.GELU(approximate="tanh"), nn.Linear(6, 1))
    if name == "modulelist":
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
                self.head = nn.Linear(4, 1, bias=False)

            def forward(self, x):
                for layer in self.layers:
                    x = lib.tanh(layer(x))
                return self.head(x)
        return Net()
    raise ValueError(name)


MODELS = ["mlp_sigmoid", "mlp_relu", "mlp_tanh_gelu", "mlp_gelu_tanh_approx", "modulelist"]

LOSSES = {
    "mse": lambda nn: nn.MSELoss(),
    "mse_sum": lambda nn: nn.MSELoss(reduction="sum"),
    "l1": lambda nn: nn.L1Loss(),
    "bce_logits": lambda nn: nn.BCEWithLogitsLoss(),
    "bce_logits_posw": lambda nn: nn.BCEWithLogitsLoss(pos_weight=_lib_of(nn).tensor([2.0])),
    "bce": lambda nn: _Sig(nn, nn.BCELoss()),
}


def _lib_of(nn):
    import torch
    return torch if nn is torch.nn else vizgrad


def _Sig(nn, loss):
    lib = _lib_of(nn)
    return lambda out, y: loss(lib.sigmoid(out), y)


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (rng.random((n, 1)) > 0.5).astype(np.float32)
    return x, y


def _train(lib, model, loss_fn, opt, x, y, steps=20):
    xs, ys = lib.tensor(x), lib.tensor(y)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(xs), ys)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), [p.detach().numpy().copy() for p in model.parameters()]


def _check(a, b, rtol=RTOL, atol=1e-6):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("model_name", MODELS)
def test_module_forward_backward(model_name):
    torch = need_torch()
    torch.manual_seed(0)
    mt = _build(torch, model_name)
    mv = _build(vizgrad, model_name)
    _copy_weights(mt, mv)
    x, _ = _data()
    ot, ov = mt(torch.tensor(x)), mv(vizgrad.tensor(x))
    _check(ov.detach().numpy(), ot.detach().numpy())
    ot.sum().backward()
    ov.sum().backward()
    for (nt, pt), (nv, pv) in zip(mt.named_parameters(), mv.named_parameters()):
        assert nt == nv
        _check(pv.grad.numpy(), pt.grad.numpy(), atol=1e-5)


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
def test_loss_training_parity(loss_name):
    torch = need_torch()
    torch.manual_seed(0)
    mt, mv = _build(torch, "mlp_relu"), _build(vizgrad, "mlp_relu")
    _copy_weights(mt, mv)
    x, y = _data()
    lt, wt = _train(torch, mt, LOSSES[loss_name](torch.nn), torch.optim.SGD(mt.parameters(), lr=0.05), x, y)
    lv, wv = _train(vizgrad, mv, LOSSES[loss_name](vizgrad.nn), vizgrad.optim.SGD(mv.parameters(), lr=0.05), x, y)
    _check(lv, lt)
    for a, b in zip(wv, wt):
        _check(a, b)


@pytest.mark.parametrize("model_name", MODELS)
def test_model_training_parity_adam(model_name):
    torch = need_torch()
    torch.manual_seed(0)
    mt, mv = _build(torch, model_name), _build(vizgrad, model_name)
    _copy_weights(mt, mv)
    x, y = _data()
    lt, wt = _train(torch, mt, torch.nn.BCEWithLogitsLoss(), torch.optim.Adam(mt.parameters(), lr=0.01), x, y)
    lv, wv = _train(vizgrad, mv, vizgrad.nn.BCEWithLogitsLoss(), vizgrad.optim.Adam(mv.parameters(), lr=0.01), x, y)
    _check(lv, lt)
    for a, b in zip(wv, wt):
        _check(a, b)


REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn", ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                                "bce_logits_weighted", "cross_entropy", "cross_entropy_weighted", "nll_loss",
                                "cross_entropy_smooth", "cross_entropy_probs", "nll_ignore"])
def test_functional_losses(fn, reduction):
    torch = need_torch()
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    yb = rng.random((6, 4)).astype(np.float32)
    cls = np.array([0, 3, 1, 1, 2, 0])
    w = np.array([0.5, 1.0, 2.0, 1.5], dtype=np.float32)

    def run(L):
        F = L.nn.functional
        xt = L.tensor(x, requires_grad=True)
        args = {
            "mse_loss": lambda: F.mse_loss(xt, L.tensor(yb), reduction=reduction),
            "l1_loss": lambda: F.l1_loss(xt, L.tensor(yb), reduction=reduction),
            "binary_cross_entropy": lambda: F.binary_cross_entropy(L.sigmoid(xt), L.tensor(yb), reduction=reduction),
            "binary_cross_entropy_with_logits": lambda: F.binary_cross_entropy_with_logits(
                xt, L.tensor(yb), reduction=reduction),
            "bce_logits_weighted": lambda: F.binary_cross_entropy_with_logits(
                xt, L.tensor(yb), weight=L.tensor(w), pos_weight=L.tensor(w[::-1].copy()), reduction=reduction),
            "cross_entropy": lambda: F.cross_entropy(xt, L.tensor(cls), reduction=reduction),
            "cross_entropy_weighted": lambda: F.cross_entropy(xt, L.tensor(cls), weight=L.tensor(w),
                                                              reduction=reduction),
            "cross_entropy_smooth": lambda: F.cross_entropy(xt, L.tensor(cls), label_smoothing=0.1,
                                                            reduction=reduction),
            "cross_entropy_probs": lambda: F.cross_entropy(xt, L.softmax(L.tensor(yb), 1), reduction=reduction),
            "nll_loss": lambda: F.nll_loss(L.log_softmax(xt, 1), L.tensor(cls), reduction=reduction),
            "nll_ignore": lambda: F.nll_loss(L.log_softmax(xt, 1), L.tensor(np.array([0, -100, 1, 1, 2, -100])),
                                             weight=L.tensor(w), reduction=reduction),
        }
        out = args[fn]()
        out.backward(L.ones_like(out))
        return out.detach().numpy(), xt.grad.numpy()

    ov, gv = run(vizgrad)
    ot, gt = run(torch)
    _check(ov, ot)
    _check(gv, gt)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax",
                                  "linear", "dropout_eval"])
def test_functional_activations(name):
    torch = need_torch()
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    w = rng.standard_normal((2, 5)).astype(np.float32)
    b = rng.standard_normal((2,)).astype(np.float32)

    def run(L):
        F = L.nn.functional
        xt = L.tensor(x, requires_grad=True)
        out = {"relu": lambda: F.relu(xt), "leaky_relu": lambda: F.leaky_relu(xt, 0.2), "gelu": lambda: F.gelu(xt),
               "sigmoid": lambda: F.sigmoid(xt), "tanh": lambda: F.tanh(xt), "softmax": lambda: F.softmax(xt, dim=1),
               "log_softmax": lambda: F.log_softmax(xt, dim=-1),
               "linear": lambda: F.linear(xt, L.tensor(w), L.tensor(b)),
               "dropout_eval": lambda: F.dropout(xt, 0.5, training=False)}[name]()
        (out * L.tensor(np.arange(out.numel(), dtype=np.float32).reshape(tuple(out.shape)))).sum().backward()
        return out.detach().numpy(), xt.grad.numpy(), out.grad_fn.name() if out.grad_fn else None

    ov, gv, nv = run(vizgrad)
    ot, gt, nt = run(torch)
    _check(ov, ot)
    _check(gv, gt)
    if name in ("relu", "sigmoid", "tanh", "linear", "softmax", "log_softmax", "gelu", "leaky_relu"):
        assert nv == nt


def test_loss_node_names_match_torch():
    torch = need_torch()
    for L_fn in [lambda L: L.nn.functional.mse_loss(L.ones(3, requires_grad=True), L.zeros(3)),
                 lambda L: L.nn.functional.binary_cross_entropy_with_logits(L.ones(3, requires_grad=True),
                                                                            L.zeros(3))]:
        assert L_fn(vizgrad).grad_fn.name() == L_fn(torch).grad_fn.name()


@pytest.mark.parametrize("shape", [(5,), (4, 5), (4, 5, 3, 2)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_classification_losses_record_torchs_nodes(shape, reduction):
    """cross_entropy = NllLossBackward0 (NllLoss2DBackward0 for images) over LogSoftmaxBackward0,
    as torch records it; values and gradients as torch, with weights and an ignored class."""
    torch = need_torch()
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape).astype(np.float32)
    t_shape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    tgt = rng.integers(0, 5, t_shape)
    if tgt.ndim:
        tgt.flat[0] = 2  # the ignored class below, at least once
    w = np.array([0.5, 1.0, 0.0, 2.0, 1.5], dtype=np.float32)
    res = []
    for L in (torch, vizgrad):
        F = L.nn.functional
        xt = L.tensor(x, requires_grad=True)
        ce = F.cross_entropy(xt, L.tensor(tgt), reduction=reduction)
        nll = F.nll_loss(F.log_softmax(xt, 0 if len(shape) == 1 else 1), L.tensor(tgt), weight=L.tensor(w),
                         ignore_index=3, reduction=reduction)
        names = [ce.grad_fn.name(), ce.grad_fn.next_functions[0][0].name(), nll.grad_fn.name()]
        (ce.sum() + 2 * nll.sum()).backward()
        res.append((names, ce.detach().numpy(), nll.detach().numpy(), xt.grad.numpy()))
    (nt, *vals_t), (nv, *vals_v) = res
    assert nv == nt
    for a, b in zip(vals_v, vals_t):
        _check(a, b)
    assert repr(F.cross_entropy(vizgrad.tensor(x, requires_grad=True), vizgrad.tensor(tgt))).endswith(
        f"grad_fn=<{nt[0]}>)")


def test_nll_loss_node_passes_gradcheck():
    from vizgrad.autograd import gradcheck, gradgradcheck
    rng = np.random.default_rng(12)
    x = vizgrad.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = vizgrad.tensor(np.array([0.3, 1.0, 2.0]))
    for reduction in REDUCTIONS:
        def f(a):
            return vizgrad.nn.functional.cross_entropy(a * a, vizgrad.tensor([0, 2, 1, 2]), weight=w,
                                                       reduction=reduction, ignore_index=1)
        assert gradcheck(f, (x,)) and gradgradcheck(f, (x,))


@pytest.mark.parametrize("needs", [(True, False, True), (True, True, False), (False, False, True), (True, False, False)])
def test_linear_with_frozen_parts_matches_torch(needs):
    """F.linear when only some of input, weight and bias need gradients (a frozen layer, a
    fine-tuned bias): the same nodes and gradients as torch."""
    torch = need_torch()
    rng = np.random.default_rng(13)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((5, 3), (4, 3), (4,))]
    res = []
    for L in (torch, vizgrad):
        x, w, b = (L.tensor(a, requires_grad=r) for a, r in zip(arrays, needs))
        out = L.nn.functional.linear(x, w, b)
        names = [out.grad_fn.name()] + [None if f is None else f.name() for f, _ in out.grad_fn.next_functions]
        out.tanh().sum().backward()
        res.append((names, [None if t.grad is None else t.grad.numpy() for t in (x, w, b)]))
    (nt, gt), (nv, gv) = res
    assert nv == nt
    for a, b in zip(gv, gt):
        assert (a is None) == (b is None)
        if a is not None:
            _check(a, b)
