"""Training-step benchmarks W3 and W4 (issue 3): vizgrad beside torch and beside a numpy floor.

    python bench/train_step.py          # prints one line per workload

W3: MLP 2-16-16-1 (tanh), 200 points, BCEWithLogitsLoss, Adam(lr=0.01): one full step
    (zero_grad, forward, loss, backward, step). Targets: <= 0.35x torch, <= 1.3x the numpy floor.
W4: the same with 64 hidden units on 1,000 points. Targets: <= 1.3x the numpy floor, and
    backward <= 3x forward.
The numpy floor is the same step written by hand: forward, hand-derived gradients, and the
same Adam update (per-parameter numpy ops), with no autograd at all. For reference the script
also prints the ratio to a floor whose Adam is fused over one flat buffer (as vizgrad's Adam is)
and forward+backward alone against the hand-derived gradients.
The three run in alternating short batches (41 rounds, the order rotating), so all see the same
machine load; a ratio is the median over rounds of the two times in the same round. Times are
medians.
"""
from __future__ import annotations

import gc
import math
import os
import sys
import time

# one BLAS thread, like torch.set_num_threads(1): the comparison is single-core, and a spinning
# BLAS thread pool on a shared machine only adds noise
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def _data(n_points: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_points, 2)).astype(np.float32)
    y = ((x[:, :1] * x[:, 1:2]) > 0).astype(np.float32)   # XOR-like labels
    return x, y


def _init(hidden: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    shapes = [(hidden, 2), (hidden,), (hidden, hidden), (hidden,), (1, hidden), (1,)]
    out = []
    for s in shapes:
        fan_in = s[1] if len(s) == 2 else (2 if s[0] == hidden and len(out) == 1 else hidden)
        b = 1 / math.sqrt(fan_in)
        out.append(rng.uniform(-b, b, s).astype(np.float32))
    return out


def _interleaved(fns: dict, n_inner: int, repeats: int = 41) -> dict:
    """Per-call seconds of each function, timed in alternating short batches (so all of them see
    the same machine load): {name: [seconds per call, one per round]}, after a warm-up."""
    for fn in fns.values():
        for _ in range(max(3, n_inner // 5)):
            fn()
    out = {name: [] for name in fns}
    names = list(fns)
    for r in range(repeats):
        # rotate who goes first: each one follows each other one equally often (torch's large
        # footprint evicts the caches of whoever runs next)
        for name in names[r % len(names):] + names[:r % len(names)]:
            fn = fns[name]
            t0 = time.perf_counter()
            for _ in range(n_inner):
                fn()
            out[name].append((time.perf_counter() - t0) / n_inner)
    return out


def _ratio(times: dict, a: str, b: str) -> float:
    """Median over batches of time(a) / time(b) in the same round: robust to load drifting."""
    return float(np.median([x / y for x, y in zip(times[a], times[b])]))


# -- vizgrad / torch (same code, different module) ------------------------------------------------
def _make_lib_step(lib, x_np, y_np, weights):
    nn = lib.nn
    hidden = weights[0].shape[0]
    model = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(lib.tensor(w))
    crit = nn.BCEWithLogitsLoss()
    opt = lib.optim.Adam(model.parameters(), lr=0.01)
    x, y = lib.tensor(x_np), lib.tensor(y_np)

    def step():
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def forward():
        opt.zero_grad()
        return crit(model(x), y)

    return step, forward, model


# -- the numpy floor ------------------------------------------------------------------------------
class NumpyMLP:
    """The same step with hand-derived gradients and torch's Adam update, in plain numpy."""

    def __init__(self, x, y, weights, lr=0.01, betas=(0.9, 0.999), eps=1e-8):
        self.x, self.y = x, y
        self.p = [w.copy() for w in weights]
        self.m = [np.zeros_like(w) for w in weights]
        self.v = [np.zeros_like(w) for w in weights]
        self.t = 0
        self.lr, self.b1, self.b2, self.eps = lr, betas[0], betas[1], eps

    def grads(self):
        """Forward, loss and the hand-derived gradients: (loss, [dW1, db1, dW2, db2, dW3, db3])."""
        W1, b1, W2, b2, W3, b3 = self.p
        x, y = self.x, self.y
        n = x.shape[0]
        h1 = np.tanh(x @ W1.T + b1)
        h2 = np.tanh(h1 @ W2.T + b2)
        z = h2 @ W3.T + b3
        loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
        dz = (1 / (1 + np.exp(-z)) - y) / n
        dh2 = (dz @ W3) * (1 - h2 * h2)
        dh1 = (dh2 @ W2) * (1 - h1 * h1)
        return loss, [dh1.T @ x, dh1.sum(0), dh2.T @ h1, dh2.sum(0), dz.T @ h2, dz.sum(0)]

    def step(self):
        loss, grads = self.grads()
        self.t += 1
        bc1 = 1 - self.b1 ** self.t
        bc2s = (1 - self.b2 ** self.t) ** 0.5
        for p, g, m, v in zip(self.p, grads, self.m, self.v):
            m += (1 - self.b1) * (g - m)
            v *= self.b2
            v += ((1 - self.b2) * g) * g
            denom = np.sqrt(v)
            denom /= bc2s
            denom += self.eps
            p -= (self.lr / bc1) * m / denom
        return loss


class NumpyMLPFlat(NumpyMLP):
    """The floor with a fused Adam, for reference: all parameters live in one flat buffer (each
    weight a view into it), so the update is ~12 numpy calls however many parameters there are."""

    def __init__(self, x, y, weights, **kw):
        super().__init__(x, y, weights, **kw)
        n = sum(w.size for w in weights)
        self.flat = np.concatenate([w.ravel() for w in weights]).astype(weights[0].dtype)
        self.p, a = [], 0
        for w in weights:
            self.p.append(self.flat[a:a + w.size].reshape(w.shape))
            a += w.size
        self.fm, self.fv = np.zeros(n, self.flat.dtype), np.zeros(n, self.flat.dtype)
        self.g, self.tmp = np.empty(n, self.flat.dtype), np.empty(n, self.flat.dtype)

    def step(self):
        loss, grads = self.grads()
        g, tmp, m, v = self.g, self.tmp, self.fm, self.fv
        np.concatenate(grads, axis=None, out=g)
        self.t += 1
        bc1 = 1 - self.b1 ** self.t
        bc2s = (1 - self.b2 ** self.t) ** 0.5
        np.subtract(g, m, out=tmp)
        tmp *= 1 - self.b1
        m += tmp
        v *= self.b2
        np.multiply(g, 1 - self.b2, out=tmp)
        tmp *= g
        v += tmp
        np.sqrt(v, out=tmp)
        tmp /= bc2s
        tmp += self.eps
        np.multiply(m, self.lr / bc1, out=g)
        g /= tmp
        self.flat -= g
        return loss


def _workload(hidden: int, n_points: int, n_inner: int):
    import vizgrad
    x, y = _data(n_points)
    w = _init(hidden)
    vg_step, vg_fwd, _ = _make_lib_step(vizgrad, x, y, w)
    floor = NumpyMLP(x, y, w)

    def vg_grads():  # zero_grad, forward, loss, backward: what floor.grads() does by hand
        vg_fwd().backward()

    fns = {"vizgrad": vg_step, "numpy": floor.step, "numpy_flat": NumpyMLPFlat(x, y, w).step,
           "vizgrad_grads": vg_grads, "numpy_grads": floor.grads}
    try:
        import torch
        torch.set_num_threads(1)
        fns["torch"] = _make_lib_step(torch, x, y, w)[0]
    except ImportError:
        pass
    gc.collect()
    gc.freeze()  # torch's import leaves ~10^5 long-lived objects: keep full collections off them
    times = _interleaved(fns, n_inner)
    out = {name: float(np.median(t)) for name, t in times.items()}
    out["vs_numpy"] = _ratio(times, "vizgrad", "numpy")
    out["vs_numpy_flat"] = _ratio(times, "vizgrad", "numpy_flat")
    out["grads_vs_numpy"] = _ratio(times, "vizgrad_grads", "numpy_grads")
    out["vs_torch"] = _ratio(times, "vizgrad", "torch") if "torch" in times else float("nan")
    out.setdefault("torch", float("nan"))
    # forward (zero_grad + model + loss) and backward timed separately inside the same iterations
    fwd_times, bwd_times = [], []
    for _ in range(n_inner * 20):
        t0 = time.perf_counter()
        loss = vg_fwd()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        fwd_times.append(t1 - t0)
        bwd_times.append(t2 - t1)
    out["vizgrad_forward"] = float(np.median(fwd_times))
    out["vizgrad_backward"] = float(np.median(bwd_times))
    return out


def _reference(r):
    print(f"   for reference: vizgrad/floor with a fused (flat-buffer) Adam {r['vs_numpy_flat']:.2f}x "
          f"[{r['numpy_flat'] * 1e6:.0f} us]; forward+backward alone (no optimizer) "
          f"{r['grads_vs_numpy']:.2f}x the hand-derived gradients "
          f"[{r['vizgrad_grads'] * 1e6:.0f} vs {r['numpy_grads'] * 1e6:.0f} us]")


def w3():
    r = _workload(16, 200, 40)
    print(f"W3 MLP 2-16-16-1, 200 pts, BCEWithLogits+Adam step: vizgrad {r['vizgrad'] * 1e6:.0f} us, "
          f"torch {r['torch'] * 1e6:.0f} us, numpy floor {r['numpy'] * 1e6:.0f} us | "
          f"vizgrad/torch {r['vs_torch']:.2f}x (target <= 0.35), "
          f"vizgrad/floor {r['vs_numpy']:.2f}x (target <= 1.3)")
    _reference(r)
    return r


def w4():
    r = _workload(64, 1000, 15)
    print(f"W4 MLP 2-64-64-1, 1000 pts, BCEWithLogits+Adam step: vizgrad {r['vizgrad'] * 1e6:.0f} us, "
          f"torch {r['torch'] * 1e6:.0f} us, numpy floor {r['numpy'] * 1e6:.0f} us | "
          f"vizgrad/floor {r['vs_numpy']:.2f}x (target <= 1.3), "
          f"backward/forward {r['vizgrad_backward'] / r['vizgrad_forward']:.2f}x (target <= 3) "
          f"[fwd {r['vizgrad_forward'] * 1e6:.0f} us, bwd {r['vizgrad_backward'] * 1e6:.0f} us]")
    _reference(r)
    return r


if __name__ == "__main__":
    w3()
    w4()
