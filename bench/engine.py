"""Engine benchmarks: vizgrad beside torch (single-threaded) in the same run.

    .venv/bin/python bench/engine.py            # all workloads
    .venv/bin/python bench/engine.py W1 W5      # some

W1  z = x**2 + y**3 on 0-d tensors: create, forward, backward, per iteration.   target <= 0.35x torch
W5  a 3,000-op scalar chain (mul, add, tanh) forward and backward.              target <= 0.5x torch
W3, W4 (MLP training steps) live in bench/train_step.py and are run from here when present.

Batches of vizgrad and torch alternate (so both see the same load on a shared machine); times
are medians, the ratio is the median of the per-pair ratios vizgrad / torch.
"""
from __future__ import annotations

import gc
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import vizgrad  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:  # the benchmark still reports vizgrad's own times
    torch = None


def timeit(fn, number: int, repeat: int = 7) -> float:
    """Median seconds per call of fn over `repeat` batches of `number` calls."""
    fn()  # warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def paired(ours, ref, number: int, repeat: int = 9) -> tuple[float, float, float]:
    """Interleave batches of the two, so both see the same machine load; returns (median time of
    ours, median time of ref, median of the per-pair ratios): robust on a shared machine."""
    ours(), ref()
    a, b, r = [], [], []
    for _ in range(repeat):
        ta = timeit(ours, number, 1)
        tb = timeit(ref, number, 1)
        a.append(ta), b.append(tb), r.append(ta / tb)
    return statistics.median(a), statistics.median(b), statistics.median(r)


def w1(lib):
    def step():
        x = lib.tensor(2.0, requires_grad=True)
        y = lib.tensor(3.0, requires_grad=True)
        z = x ** 2 + y ** 3
        z.backward()
    return step


def w5(lib, n_ops: int = 3000):
    def step():
        x = lib.tensor(0.5, requires_grad=True)
        h = x
        for _ in range(n_ops // 3):
            h = h * 1.0001
            h = h + 0.001
            h = lib.tanh(h)
        h.backward()
    return step


WORKLOADS = {
    "W1": (w1, 5000, 0.35, "z = x**2 + y**3, 0-d: create+forward+backward"),
    "W5": (w5, 5, 0.5, "3,000-op scalar chain: forward+backward"),
}


def report(name, ours, ref, ratio, target=None, ref_name="torch"):
    line = f"{name:4s} vizgrad {ours * 1e6:10.1f} us   {ref_name} {ref * 1e6:10.1f} us   ratio {ratio:5.2f}x"
    if target is not None:
        line += f"   target <= {target}x  {'MET' if ratio <= target else 'MISSED'}"
    print(line, flush=True)


def main(selected):
    # Importing torch adds ~10^5 long-lived Python objects; without freezing them, every full
    # garbage collection during a vizgrad run would rescan torch's module graph. Freeze what the
    # imports made (both libraries run with the collector on, as in a user's process).
    gc.collect()
    gc.freeze()
    print(f"numpy {__import__('numpy').__version__}, torch {torch.__version__ if torch else 'not installed'}")
    for name, (make, number, target, desc) in WORKLOADS.items():
        if selected and name not in selected:
            continue
        print(f"-- {name}: {desc}")
        if torch is None:
            ours = timeit(make(vizgrad), number)
            print(f"{name:4s} vizgrad {ours * 1e6:10.1f} us   (torch not installed: no ratio)")
            continue
        ours, ref, ratio = paired(make(vizgrad), make(torch), number)
        report(name, ours, ref, ratio, target)
    if not selected or {"W3", "W4"} & set(selected):
        try:
            import train_step  # bench/train_step.py
        except ImportError:
            return
        train_step.w3()
        train_step.w4()


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    main(set(sys.argv[1:]))
