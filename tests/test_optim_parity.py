"""Optimizers against torch: 20 steps from the same weights give the same losses and weights
(relative 1e-5, float32), for every option; plus the Optimizer API (state_dict, zero_grad, groups)."""
from __future__ import annotations

import numpy as np
import pytest

import vizgrad

from tests.conftest import need_torch

CONFIGS = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd_momentum": ("SGD", dict(lr=0.05, momentum=0.9)),
    "sgd_dampening": ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    "sgd_nesterov": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "sgd_maximize": ("SGD", dict(lr=0.005, momentum=0.5, maximize=True)),  # ascent: keep it from blowing up
    "adam": ("Adam", dict(lr=0.01)),
    "adam_wd_amsgrad": ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    "adam_maximize": ("Adam", dict(lr=0.01, maximize=True)),
    "adamw": ("AdamW", dict(lr=0.01)),
    "adamw_amsgrad": ("AdamW", dict(lr=0.02, weight_decay=0.05, amsgrad=True, eps=1e-6)),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "rmsprop_momentum_centered": ("RMSprop", dict(lr=0.01, alpha=0.99, momentum=0.5, centered=True,
                                                  weight_decay=0.01)),
    "rmsprop_centered": ("RMSprop", dict(lr=0.005, centered=True)),
}


def _model(lib, seed_weights=None):
    nn = lib.nn
    return nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1))


def _run(lib, weights, opt_name, kwargs, steps=20):
    m = _model(lib)
    with lib.no_grad():
        for p, w in zip(m.parameters(), weights):
            p.copy_(lib.tensor(w))
    opt = getattr(lib.optim, opt_name)(m.parameters(), **kwargs)
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((12, 3)).astype(np.float32))
    y = lib.tensor(rng.standard_normal((12, 1)).astype(np.float32))
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = lib.nn.functional.mse_loss(m(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), [p.detach().numpy().copy() for p in m.parameters()], opt


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_optimizer_matches_torch(name):
    torch = need_torch()
    opt_name, kwargs = CONFIGS[name]
    torch.manual_seed(0)  # deterministic starting weights (RMSprop amplifies 1-ulp differences from torch's FMAs)
    weights = [p.detach().numpy().copy() for p in _model(torch).parameters()]
    lt, wt, ot = _run(torch, weights, opt_name, kwargs)
    lv, wv, ov = _run(vizgrad, weights, opt_name, kwargs)
    np.testing.assert_allclose(lv, lt, rtol=1e-5, atol=1e-7)
    for a, b in zip(wv, wt):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # the same state entries, with the same values
    st, sv = ot.state_dict(), ov.state_dict()
    assert sv["state"].keys() == st["state"].keys()
    for k in st["state"]:
        assert sv["state"][k].keys() == st["state"][k].keys()
        for key, val in st["state"][k].items():
            np.testing.assert_allclose(np.asarray(sv["state"][k][key]._data), val.numpy(), rtol=1e-4, atol=1e-6)
    assert sv["param_groups"] == st["param_groups"]


def test_optimizer_repr_matches_torch():
    torch = need_torch()
    for opt_name, kwargs in [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01)), ("AdamW", {}),
                             ("RMSprop", dict(centered=True))]:
        pt = [torch.zeros(2, requires_grad=True)]
        pv = [vizgrad.zeros(2, requires_grad=True)]
        assert repr(getattr(vizgrad.optim, opt_name)(pv, **kwargs)) == repr(getattr(torch.optim, opt_name)(pt, **kwargs))


def test_state_dict_roundtrip_continues_identically():
    torch = need_torch()
    weights = [p.detach().numpy().copy() for p in _model(torch).parameters()]
    _, _, opt = _run(vizgrad, weights, "Adam", dict(lr=0.01), steps=5)
    sd = opt.state_dict()
    m2 = _model(vizgrad)
    opt2 = vizgrad.optim.Adam(m2.parameters(), lr=0.5)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.01
    p0 = list(m2.parameters())[0]
    np.testing.assert_array_equal(opt2.state[p0]["exp_avg"].numpy(), sd["state"][0]["exp_avg"].numpy())
    assert float(opt2.state[p0]["step"]) == 5.0
    # deep copy: stepping the new one leaves the saved dict alone
    assert opt2.state[p0]["exp_avg"] is not sd["state"][0]["exp_avg"]


def test_zero_grad_and_groups():
    a = vizgrad.ones(2, requires_grad=True)
    b = vizgrad.ones(3, requires_grad=True)
    opt = vizgrad.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    (a.sum() + (b * b).sum()).backward()
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 0.9])
    np.testing.assert_allclose(b.detach().numpy(), [0.0, 0.0, 0.0])
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and float(a.grad.sum()) == 0
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    c = vizgrad.ones(1, requires_grad=True)
    opt.add_param_group({"params": c, "momentum": 0.9})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        vizgrad.optim.Adam([])
    with pytest.raises(ValueError, match="Nesterov"):
        vizgrad.optim.SGD([a], lr=0.1, nesterov=True)


def test_step_skips_params_without_grad_and_accepts_closure():
    a = vizgrad.tensor([1.0, 2.0], requires_grad=True)
    b = vizgrad.tensor([3.0], requires_grad=True)
    opt = vizgrad.optim.Adam([a, b], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss) == 5.0
    assert b.tolist() == [3.0] and len(opt.state[b]) == 0
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 1.9], rtol=1e-6)


def test_zero_dim_parameter():
    x = vizgrad.tensor(2.0, requires_grad=True)
    opt = vizgrad.optim.SGD([x], lr=0.25)
    (x * x).backward()
    opt.step()
    assert x.item() == 1.0 and x.shape == ()


@pytest.mark.parametrize("opt_name,kwargs", [("Adam", dict(lr=0.01)), ("AdamW", dict(lr=0.01, weight_decay=0.1)),
                                             ("Adam", dict(lr=0.01, weight_decay=0.05, maximize=True))])
def test_adam_disturbed_mid_run_matches_torch(opt_name, kwargs):
    """Adam's one-buffer fast path must notice everything that changes its layout: a state dict
    loaded into the running optimizer, a parameter's data replaced, a step where one parameter
    has no gradient (its step count falls behind), a new parameter group."""
    torch = need_torch()
    torch.manual_seed(0)
    weights = [p.detach().numpy().copy() for p in _model(torch).parameters()]
    extra = np.linspace(-1, 1, 4).astype(np.float32)
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((12, 3)).astype(np.float32)
    y_np = rng.standard_normal((12, 1)).astype(np.float32)
    results = []
    for lib in (torch, vizgrad):
        m = _model(lib)
        with lib.no_grad():
            for p, w in zip(m.parameters(), weights):
                p.copy_(lib.tensor(w))
        params = list(m.parameters())
        opt = getattr(lib.optim, opt_name)(params, **kwargs)
        x, y = lib.tensor(x_np), lib.tensor(y_np)
        z = lib.tensor(extra, requires_grad=True)
        losses = []

        def step(skip=None, with_z=False):
            opt.zero_grad()
            loss = lib.nn.functional.mse_loss(m(x), y)
            if with_z:
                loss = loss + (z * z).sum()
            loss.backward()
            if skip is not None:
                skip.grad = None
            opt.step()
            losses.append(loss.item())

        for _ in range(3):
            step()
        saved = opt.state_dict()
        for _ in range(2):
            step()
        opt.load_state_dict(saved)          # back to the state after step 3 (weights are not restored)
        step()
        with lib.no_grad():
            params[0].data = params[0].data * 0.5  # a new array behind the parameter
        step()
        step(skip=params[1])                # params[1] has no gradient: its step count falls behind
        step()
        opt.add_param_group({"params": [z], "lr": 0.05})
        step(with_z=True)
        step(with_z=True)
        results.append((np.array(losses), [p.detach().numpy().copy() for p in params + [z]],
                        [float(opt.state[p]["step"]) for p in params]))
    (lt, wt, st), (lv, wv, sv) = results
    np.testing.assert_allclose(lv, lt, rtol=1e-5, atol=1e-7)
    for a, b in zip(wv, wt):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert sv == st


def _printed_state(lib, name, kwargs):
    """What a program prints about an optimizer: its state_dict after two steps with an added param
    group, its repr, and the state_dict of a fresh optimizer that loaded it."""
    lib.set_printoptions(precision=4)
    w = lib.nn.Parameter(lib.tensor([1., 2.]))
    b = lib.nn.Parameter(lib.tensor([0.5]))
    opt = getattr(lib.optim, name)([w], **kwargs)
    opt.add_param_group({"params": [b], "lr": 0.5})
    for _ in range(2):
        opt.zero_grad()
        ((w ** 2).sum() + (b ** 3).sum()).backward()
        opt.step()
    sd = opt.state_dict()
    opt2 = getattr(lib.optim, name)([lib.nn.Parameter(lib.zeros(2))], **kwargs)
    opt2.add_param_group({"params": [lib.nn.Parameter(lib.zeros(1))]})
    opt2.load_state_dict(sd)
    out = [repr(sd), repr(opt), repr(opt2.state_dict())]
    lib.set_printoptions(profile="default")
    return out


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01)),
                                         ("AdamW", dict(lr=0.01, amsgrad=True)),
                                         ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True))])
def test_state_dict_and_add_param_group_print_as_torch(name, kwargs):
    torch = need_torch()
    assert _printed_state(vizgrad, name, kwargs) == _printed_state(torch, name, kwargs)


_OPT_ERRORS = {
    "duplicate": lambda lib, w, b: lib.optim.SGD([w], lr=0.1).add_param_group({"params": [w]}),
    "not_dict": lambda lib, w, b: lib.optim.SGD([w], lr=0.1).add_param_group([b]),
    "set": lambda lib, w, b: lib.optim.SGD([w]).add_param_group({"params": {b}}),
    "groups_mismatch": lambda lib, w, b: lib.optim.SGD([w], lr=0.1).load_state_dict({"state": {}, "param_groups": []}),
    "negative_lr": lambda lib, w, b: lib.optim.SGD([w], lr=-1),
    "empty": lambda lib, w, b: lib.optim.SGD([], lr=0.1),
    "a_tensor": lambda lib, w, b: lib.optim.SGD(w, lr=0.1),
    "group_sizes": lambda lib, w, b: lib.optim.SGD([{"params": [w]}, {"params": [b]}], lr=0.1).load_state_dict(
        lib.optim.SGD([w], lr=0.1).state_dict()),
}


@pytest.mark.parametrize("case", _OPT_ERRORS)
def test_optimizer_errors_as_torch(case):
    torch = need_torch()
    got = []
    for lib in (vizgrad, torch):
        w, b = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(1))
        with pytest.raises(Exception) as e:
            _OPT_ERRORS[case](lib, w, b)
        got.append((type(e.value).__name__, str(e.value)))
    assert got[0] == got[1]
