"""Code page: the time from Run to the drawn graph of the seed chapter's `x * y -> 200` program.

    .venv/bin/python bench/code_run.py          # target: the warm sandboxed line under 1.5 s

Lines (medians of RUNS runs, measured in this same process run):
  plain subprocess   `python -m vizgrad.as_torch prog.py`: the program alone, no sandbox, no graph
  sandbox, cold      a fresh bubblewrap child started at Run (imports after Run), graph drawn
  sandbox, warm      the pool's child (started ahead, imports done), graph drawn: what the page does
"Graph drawn" is the page's work after the run: the JSON checked and read back (graph_view) and
the plotly figure built and serialised (what Streamlit sends to the browser).
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vizgrad.app import code as cp  # noqa: E402
from vizgrad.app import sandbox  # noqa: E402

RUNS = 5
TARGET = 1.5
CODE = cp.example("nn_xy_to_200").code


def draw(r) -> None:
    import plotly.io as pio
    from vizgrad.plot import figure
    assert r.ok, r.error
    pio.to_json(figure(cp.graph_view(r, cp.default_choice(r))), validate=False)


def plain() -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".py") as f:
        f.write(CODE)
        f.flush()
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vizgrad.as_torch", f.name], check=True, capture_output=True,
                       cwd=ROOT, env={"OPENBLAS_NUM_THREADS": "1"})
        return time.perf_counter() - t0


def sandboxed(pool) -> float:
    if pool is not None:
        pool.fill(True)      # ready before Run (on the server it was started after the previous run)
        time.sleep(0.5)      # and its imports done
    t0 = time.perf_counter()
    draw(sandbox.run(CODE, pool=pool))
    return time.perf_counter() - t0


def main() -> None:
    st = sandbox.status()
    print(f"mode: {st.mode} ({st.message})")
    draw(sandbox.run(CODE, pool=None))  # warm the server side (plotly, networkx) once
    pool = sandbox.Pool(1)
    rows = [("plain subprocess (no sandbox, no graph)", [plain() for _ in range(RUNS)]),
            ("sandbox, cold child, graph drawn", [sandboxed(None) for _ in range(RUNS)]),
            ("sandbox, warm child, graph drawn", [sandboxed(pool) for _ in range(RUNS)])]
    pool.close()
    base = statistics.median(rows[0][1])
    for name, ts in rows:
        m = statistics.median(ts)
        print(f"{name:42s} median {m:6.3f} s   x{m / base:5.2f} of plain   (min {min(ts):.3f}, max {max(ts):.3f})")
    warm = statistics.median(rows[2][1])
    print(f"Run -> drawn graph, warm: {warm:.3f} s; target {TARGET} s: {'met' if warm < TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
