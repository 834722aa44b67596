"""Learning-rate schedulers against torch: the same lr (exactly, as floats) at every step for 40
steps, the same get_last_lr(), state_dict() and, after load_state_dict into a fresh scheduler, the
same continuation; and the same errors.

    nice -n 5 python -m pytest -q tests/test_lr_scheduler.py
"""
from __future__ import annotations

import warnings

import pytest

import vizgrad
from tests.conftest import need_torch


def _opt(lib, kind="SGD", **kw):
    w = lib.nn.Parameter(lib.ones(2))
    b = lib.nn.Parameter(lib.zeros(1))
    opts = {"SGD": lambda: lib.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.05}], lr=0.1, momentum=0.9),
            "Adam": lambda: lib.optim.Adam([w, b], lr=0.01)}
    return opts[kind](), (w, b)


def _half(epoch):
    return 0.5 ** epoch


SCHEDULES = {
    "step": lambda S, o: S.StepLR(o, step_size=7, gamma=0.3),
    "multistep": lambda S, o: S.MultiStepLR(o, milestones=[3, 10, 10, 25], gamma=0.5),
    "exponential": lambda S, o: S.ExponentialLR(o, gamma=0.93),
    "cosine": lambda S, o: S.CosineAnnealingLR(o, T_max=9),
    "cosine_eta_min": lambda S, o: S.CosineAnnealingLR(o, T_max=13, eta_min=0.001),
    "lambda": lambda S, o: S.LambdaLR(o, lr_lambda=lambda e: 1 / (1 + 0.3 * e)),
    "lambda_per_group": lambda S, o: S.LambdaLR(o, lr_lambda=[_half, lambda e: 0.9 ** e]),
    "multiplicative": lambda S, o: S.MultiplicativeLR(o, lr_lambda=lambda e: 0.95),
    "linear": lambda S, o: S.LinearLR(o, start_factor=0.2, total_iters=12),
    "linear_down": lambda S, o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=30),
    "constant": lambda S, o: S.ConstantLR(o, factor=0.25, total_iters=6),
    "polynomial": lambda S, o: S.PolynomialLR(o, total_iters=20, power=2.0),
    "onecycle": lambda S, o: S.OneCycleLR(o, max_lr=0.5, total_steps=41),
    "onecycle_linear_3phase": lambda S, o: S.OneCycleLR(o, max_lr=[0.4, 0.2], epochs=5, steps_per_epoch=9,
                                                        anneal_strategy="linear", three_phase=True, pct_start=0.25),
    "warm_restarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=5),
    "warm_restarts_mult": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01),
    "cyclic": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=6),
    "cyclic_triangular2": lambda S, o: S.CyclicLR(o, 0.001, [0.05, 0.02], step_size_up=3, mode="triangular2"),
    "cyclic_exp_range": lambda S, o: S.CyclicLR(o, 0.001, 0.05, step_size_up=5, mode="exp_range", gamma=0.97,
                                                cycle_momentum=False),
    "cyclic_scale_fn": lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=2, scale_fn=_half, scale_mode="iterations"),
    "sequential": lambda S, o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5),
                                                  S.ExponentialLR(o, gamma=0.9)], milestones=[5]),
    "chained": lambda S, o: S.ChainedScheduler([S.StepLR(o, 4, 0.5), S.ExponentialLR(o, 0.98)]),
}


def _trace(lib, name, kind="SGD", steps=40):
    opt, params = _opt(lib, kind)
    S = lib.optim.lr_scheduler
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = SCHEDULES[name](S, opt)
        out = [list(sched.get_last_lr())]
        for i in range(steps):
            opt.step()
            sched.step()
            out.append(list(sched.get_last_lr()) + [g.get("momentum", g.get("betas")) for g in opt.param_groups])
    return out, sched, opt


@pytest.mark.parametrize("name", SCHEDULES)
def test_lrs_equal_torchs(name):
    torch = need_torch()
    got, sched, _ = _trace(vizgrad, name)
    want, tsched, _ = _trace(torch, name)
    assert got == want
    if name not in ("sequential", "chained"):
        sd, tsd = sched.state_dict(), tsched.state_dict()
        assert sorted(sd) == sorted(tsd)
        for k in tsd:
            if k != "lr_lambdas":
                assert sd[k] == tsd[k], k


@pytest.mark.parametrize("name", ["onecycle", "cosine", "step", "cyclic"])
def test_onecycle_with_adam_betas(name):
    torch = need_torch()
    assert _trace(vizgrad, name, "Adam")[0] == _trace(torch, name, "Adam")[0]


@pytest.mark.parametrize("name", ["step", "cosine", "linear", "onecycle", "multistep"])
def test_state_dict_resumes(name):
    # 10 steps, save; a fresh optimizer+scheduler loading both continues exactly like the original
    torch = need_torch()
    runs = []
    for lib in (vizgrad, torch):
        S = lib.optim.lr_scheduler
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt, _ = _opt(lib)
            sched = SCHEDULES[name](S, opt)
            for _ in range(10):
                opt.step()
                sched.step()
            saved_opt, saved = opt.state_dict(), sched.state_dict()
            opt2, _ = _opt(lib)
            sched2 = SCHEDULES[name](S, opt2)
            opt2.load_state_dict(saved_opt)
            sched2.load_state_dict(saved)
            lrs = []
            for _ in range(10):
                opt2.step()
                sched2.step()
                lrs.append(sched2.get_last_lr())
        runs.append(lrs)
    assert runs[0] == runs[1]


def _plateau(lib, **kw):
    opt, _ = _opt(lib)
    sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.6, 0.7, 0.7, 0.7, 0.7]
    out = []
    for m in metrics * 2:
        opt.step()
        sched.step(lib.tensor(m) if kw.get("mode") == "max" else m)
        out.append(sched.get_last_lr())
    return out, {k: v for k, v in sched.state_dict().items()}


@pytest.mark.parametrize("kw", [dict(patience=2), dict(patience=1, factor=0.5, cooldown=2, min_lr=0.02),
                                dict(mode="max", patience=0, threshold=0.1, threshold_mode="abs"),
                                dict(patience=1, min_lr=[0.01, 0.03], threshold_mode="abs")])
def test_reduce_on_plateau(kw):
    torch = need_torch()
    got, sd = _plateau(vizgrad, **kw)
    want, tsd = _plateau(torch, **kw)
    assert got == want
    assert sd == tsd


def test_warm_restarts_fractional_epochs():
    # the documented per-batch use: step(epoch + i / iters)
    torch = need_torch()
    runs = []
    for lib in (vizgrad, torch):
        opt, _ = _opt(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=3)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in range(9):
                for i in range(4):
                    opt.step()
                    sched.step(epoch + i / 4)
                    lrs.append(sched.get_last_lr())
        runs.append((lrs, sched.state_dict()))
    assert runs[0] == runs[1]


def _overrun(sched):
    for _ in range(3):
        sched.step()


ERRORS = {
    "not_optimizer": lambda S, o: S.StepLR("sgd", 3),
    "lambda_count": lambda S, o: S.LambdaLR(o, [_half]),
    "linear_factor": lambda S, o: S.LinearLR(o, start_factor=0),
    "onecycle_steps": lambda S, o: S.OneCycleLR(o, max_lr=0.1),
    "onecycle_pct": lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1),
    "plateau_factor": lambda S, o: S.ReduceLROnPlateau(o, factor=1.0),
    "plateau_mode": lambda S, o: S.ReduceLROnPlateau(o, mode="up"),
    "resume_without_initial_lr": lambda S, o: S.StepLR(o, 3, last_epoch=4),
    "onecycle_overrun": lambda S, o: _overrun(S.OneCycleLR(o, max_lr=0.1, total_steps=2)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_same_error_as_torch(name):
    torch = need_torch()
    got = []
    for lib in (vizgrad, torch):
        opt, _ = _opt(lib)
        with warnings.catch_warnings(), pytest.raises(Exception) as e:
            warnings.simplefilter("ignore")
            ERRORS[name](lib.optim.lr_scheduler, opt)
        got.append(type(e.value).__name__)
        if name != "resume_without_initial_lr":  # our message says how to fix it, in other words
            got.append(str(e.value))
    assert got[:len(got) // 2] == got[len(got) // 2:]


def test_scheduler_before_optimizer_warns_as_torch():
    torch = need_torch()
    msgs = []
    for lib in (vizgrad, torch):
        opt, _ = _opt(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 3)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            sched.step()
        msgs.append([str(x.message) for x in w])
    assert msgs[0] == msgs[1] and len(msgs[0]) == 1
