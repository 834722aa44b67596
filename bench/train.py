"""Training-step throughput: vizgrad's playground Trainer beside the same model in torch, one run.

    .venv/bin/python bench/train.py            # batch 10 (TF Playground's default) and full batch (250)
    .venv/bin/python bench/train.py --quick    # shorter timings

Model: TF Playground's 2-8-8-1 (features x1, x2; tanh; BCE-with-logits; plain SGD, lr 0.03) on the
'circles' set, 500 points, train ratio 0.5, so 250 training points; full batch = 250.
A step = sample a minibatch, forward, loss, backward, optimizer update (no evaluation: the
trainer's periodic full train/test evaluation is switched off, eval_every = 10**9).

  vizgrad           the playground's Trainer.step(): model(x), loss, loss.backward(),
                    optimizer.step() through vizgrad's graph, plus its per-step bookkeeping
                    (loss, per-layer gradient norms, finiteness check)
  torch             the same loop in torch 2.x, torch.set_num_threads(1): opt.zero_grad(),
                    loss_fn(model(xb), yb).backward(), opt.step(), minibatches by index as above
Figures are steps per second, the median of 9 interleaved timing windows; ratio = vizgrad / torch.
Target: vizgrad >= 2x torch's steps per second.

Then Trainer.run(400) as the page's default network runs it, with its evaluation of the full
train and test sets once per epoch: steps per second, the median of 5 runs (--quick: 3).
Target: > 200 steps per second.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

from vizgrad.net import NetConfig, Trainer  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:
    torch = None


def window(step, seconds: float) -> float:
    n, t0 = 0, time.perf_counter()
    while True:
        for _ in range(50):
            step()
        n += 50
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n / dt


def rates(steps: dict, seconds: float, repeat: int) -> dict:
    """Median steps/s of each candidate; timing windows are interleaved (a, b, c, a, b, c, ...) so
    that load from other processes on a shared machine hits all candidates alike."""
    for step in steps.values():
        for _ in range(50):
            step()
    got = {k: [] for k in steps}
    for _ in range(repeat):
        for k, step in steps.items():
            got[k].append(window(step, seconds))
    return {k: statistics.median(v) for k, v in got.items()}


def vizgrad_step(cfg):
    tr = Trainer(cfg, eval_every=10**9)

    def step():
        if tr.step() is None or tr.steps > 10**6:
            tr.reset()
    return step


def torch_step(cfg, tr_data):
    torch.manual_seed(0)
    X = torch.from_numpy(tr_data.X_train.copy())
    Y = torch.from_numpy(tr_data.T_train.copy())
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8), torch.nn.Tanh(),
                                torch.nn.Linear(8, 1))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    n, bs = len(X), min(cfg.batch_size, len(X))
    rng = np.random.default_rng(1)
    state = {"perm": torch.from_numpy(rng.permutation(n)), "pos": 0}

    def step():
        if bs >= n:
            xb, yb = X, Y
        else:
            if state["pos"] >= n:
                state["perm"] = torch.from_numpy(rng.permutation(n))
                state["pos"] = 0
            idx = state["perm"][state["pos"]:state["pos"] + bs]
            state["pos"] += bs
            xb, yb = X[idx], Y[idx]
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()  # the trainer records each step's loss, so torch's loop reads it too
    return step


def run_rate(repeat: int) -> float:
    """Steps per second of Trainer.run(400) on the default network, evaluation included (median)."""
    got = []
    for _ in range(repeat):
        tr = Trainer(NetConfig(dataset="circles", hidden=(8, 8), batch_size=10))
        t0 = time.perf_counter()
        tr.run(400)
        got.append(400 / (time.perf_counter() - t0))
    return statistics.median(got)


def main():
    quick = "--quick" in sys.argv
    seconds, repeat = (0.2, 3) if quick else (0.5, 9)
    print(__doc__.split("\n\n")[2])
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}\n")
    print(f"{'batch':>6} {'vizgrad':>12} {'torch':>10} {'vizgrad/torch':>14}")
    for bs in (10, 250):
        cfg = NetConfig(dataset="circles", n_samples=500, train_ratio=0.5, features=("x1", "x2"), hidden=(8, 8),
                        activation="tanh", loss="bce_logits", optimizer="sgd", lr=0.03, batch_size=bs, seed=0)
        cands = {"vizgrad": vizgrad_step(cfg)}
        if torch is not None:
            cands["torch"] = torch_step(cfg, Trainer(cfg))
        r = rates(cands, seconds, repeat)
        if torch is not None:
            print(f"{bs:>6} {r['vizgrad']:>10.0f}/s {r['torch']:>8.0f}/s {r['vizgrad'] / r['torch']:>13.2f}x")
        else:
            print(f"{bs:>6} {r['vizgrad']:>10.0f}/s {'-':>10}")
    print("\nTarget: vizgrad >= 2.00x torch's steps per second at batch 10 (TF Playground's default).")
    print(f"\nTrainer.run(400), default network, evaluated once per epoch: {run_rate(3 if quick else 5):.0f} steps/s"
          " (target > 200/s)")


if __name__ == "__main__":
    main()
