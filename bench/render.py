"""Rendering benchmark: trace + layout + figure for graphs of 100, 1,000 and 5,000 op nodes.

    .venv/bin/python bench/render.py            # the table; add --quick to skip 5,000

The graphs are scalar (micrograd-style) MLPs on a few samples - the wide, crossing-heavy kind of
graph learners draw - built with vizgrad ops and backpropagated. For each size it times
vizgrad.graph.trace, vizgrad.plot.layout and vizgrad.plot.figure (which lays out again, so
"total" is trace + figure), and Graphviz `dot -Tplain` on vizgrad.graph.to_dot of the same graph
when `dot` is installed. Targets: total(1,000) <= 0.25 x dot(1,000), and cost growing no faster
than about N log N: time(5,000) / time(1,000) compared with 5 * log(5,000) / log(1,000).
"""
from __future__ import annotations

import argparse
import gc
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

import vizgrad  # noqa: E402
import vizgrad.graph as vg  # noqa: E402
from vizgrad.graph import view  # noqa: E402
import vizgrad.plot as vp  # noqa: E402


def scalar_mlp(n_ops: int, seed: int = 0):
    """A micrograd-style scalar MLP (2 inputs, a hidden layer of 3, tanh; squared error summed over
    samples: 25 ops a sample), with enough samples for about n_ops op nodes; returns the
    backpropagated loss. Every parameter is used by every sample: many long edges."""
    rng = np.random.default_rng(seed)
    sizes = [2, 3, 1]
    params = [[([vizgrad.tensor(float(rng.uniform(-1, 1)), requires_grad=True) for _ in range(nin)],
                vizgrad.tensor(float(rng.uniform(-1, 1)), requires_grad=True)) for _ in range(nout)]
              for nin, nout in zip(sizes[:-1], sizes[1:])]

    def sample():
        x = [vizgrad.tensor(float(v)) for v in rng.uniform(-1, 1, sizes[0])]
        for layer in params:
            out = []
            for ws, b in layer:
                act = b
                for w, xi in zip(ws, x):
                    act = act + w * xi
                out.append(act.tanh())
            x = out
        return (x[0] - float(rng.uniform(-1, 1))) ** 2

    loss = sample()
    per = count_ops(loss) + 1  # each further sample adds its ops and one add
    for _ in range(max(0, round((n_ops - per + 1) / per))):
        loss = loss + sample()
    loss.backward()
    return loss


def count_ops(t) -> int:
    seen, stack = set(), [t.grad_fn]
    while stack:
        f = stack.pop()
        if f is None or id(f) in seen:
            continue
        seen.add(id(f))
        stack.extend(x.grad_fn for x in view.edges(f)[0])
    return len(seen)


def timed(fn, repeat=3):
    """Best of `repeat` wall-clock runs (the machine may be shared), after a gc.collect()."""
    best, out = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def dot_time(g) -> float | None:
    if not shutil.which("dot"):
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".dot", delete=False) as f:
        f.write(vg.to_dot(g))
        path = f.name
    try:
        t = time.perf_counter()
        subprocess.run(["dot", "-Tplain", path, "-o", os.devnull], check=True, timeout=600)
        return time.perf_counter() - t
    finally:
        os.unlink(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="sizes 100 and 1,000 only")
    ap.add_argument("--no-dot", action="store_true")
    ap.add_argument("--dot-max", type=int, default=1000, help="run dot on graphs up to this size (default 1000)")
    args = ap.parse_args()
    sizes = [100, 1000] if args.quick else [100, 1000, 5000]
    rows = []
    for n in sizes:
        loss = scalar_mlp(n)
        t_trace, g = timed(lambda: vg.trace(loss))
        t_layout, _ = timed(lambda: vp.layout(g))
        t_fig, fig = timed(lambda: vp.figure(g))
        ops = sum(1 for _, k in g.nodes(data="kind") if k == "op")
        td = None if args.no_dot or n > args.dot_max else dot_time(g)
        rows.append(dict(n=n, ops=ops, nodes=g.number_of_nodes(), edges=g.number_of_edges(), trace=t_trace,
                         layout=t_layout, figure=t_fig, total=t_trace + t_fig, dot=td,
                         gl=type(fig.data[0]).__name__ == "Scattergl"))
    print(f"{'ops':>6} {'nodes':>6} {'edges':>6} | {'trace':>7} {'layout':>7} {'figure':>7} {'total':>7} | "
          f"{'dot':>7} {'total/dot':>9}  webgl")
    for r in rows:
        dot = f"{r['dot']:7.3f}" if r["dot"] is not None else "      -"
        ratio = f"{r['total'] / r['dot']:9.3f}" if r["dot"] else "        -"
        print(f"{r['ops']:>6} {r['nodes']:>6} {r['edges']:>6} | {r['trace']:7.3f} {r['layout']:7.3f} "
              f"{r['figure']:7.3f} {r['total']:7.3f} | {dot} {ratio}  {'yes' if r['gl'] else 'no'}")
    print("(seconds; figure includes its own layout; total = trace + figure; dot = `dot -Tplain` on to_dot)")
    by = {r["n"]: r for r in rows}
    if 1000 in by and by[1000]["dot"]:
        ok = by[1000]["total"] <= 0.25 * by[1000]["dot"]
        print(f"target total(1000) <= 0.25 x dot(1000): {by[1000]['total']:.3f} s vs {0.25 * by[1000]['dot']:.3f} s "
              f"-> {'OK' if ok else 'MISSED'}")
    if 5000 in by and 1000 in by:
        a, b = by[1000], by[5000]
        nlogn = (b["ops"] * math.log(b["ops"])) / (a["ops"] * math.log(a["ops"]))
        for k in ("layout", "total"):
            r = b[k] / a[k]
            print(f"growth {k:>6}: time(5000)/time(1000) = {r:5.2f}   N log N ratio = {nlogn:5.2f}   "
                  f"-> {'OK' if r <= nlogn * 1.25 else 'faster than N log N'}")


if __name__ == "__main__":
    main()
