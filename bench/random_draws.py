"""Random-number benchmarks (not bench/random.py: a script there would shadow the standard library's
random module): vizgrad's torch-identical draws beside torch's own (single-threaded),
batches alternating so both see the same load on a shared machine.

    .venv/bin/python bench/random_draws.py          # every workload
    .venv/bin/python bench/random_draws.py randn    # the ones whose name contains "randn"

Prints, per workload, the median time of each and the median of the per-pair ratios vizgrad/torch.
Target: randn(1e6) in tens of milliseconds.
"""
from __future__ import annotations

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
except ImportError:  # vizgrad's own times are still printed
    torch = None

WORKLOADS = {
    "randn(1e6) float32": lambda t: t.randn(1_000_000),
    "randn(1e6) float64": lambda t: t.randn(1_000_000, dtype=t.float64),
    "rand(1e6)": lambda t: t.rand(1_000_000),
    "randint(0, 10, 1e6)": lambda t: t.randint(0, 10, (1_000_000,)),
    "randperm(60000)": lambda t: t.randperm(60_000),
    "dropout(1e6)": lambda t: t.nn.functional.dropout(t.ones(1_000_000)),
    "nn.Linear(1000, 1000)": lambda t: t.nn.Linear(1000, 1000),
}


def paired(fn, repeat: int = 9):
    """(median vizgrad seconds, median torch seconds or None, median ratio or None)."""
    ours, ref, ratios = [], [], []
    fn(vizgrad)
    if torch is not None:
        fn(torch)
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(vizgrad)
        ours.append(time.perf_counter() - t0)
        if torch is not None:
            t0 = time.perf_counter()
            fn(torch)
            ref.append(time.perf_counter() - t0)
            ratios.append(ours[-1] / ref[-1])
    med = statistics.median
    return med(ours), med(ref) if ref else None, med(ratios) if ratios else None


def main(names) -> None:
    for name, fn in WORKLOADS.items():
        if names and not any(n in name for n in names):
            continue
        ours, ref, ratio = paired(fn)
        line = f"{name:24s} vizgrad {ours * 1e3:8.1f} ms"
        if ref is not None:
            line += f"   torch {ref * 1e3:8.1f} ms   ratio {ratio:6.1f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
