"""Rendering benchmark: trace + layout + figure for graphs of 100, 1,000 and 5,000 op nodes.

    .venv/bin/python bench/render.py            # the table; add --quick to skip 5,000

The graphs are scalar (micrograd-style) MLPs on a few samples - the wide, crossing-heavy kind of
graph learners draw - built with vizgrad ops and backpropagated. For each size it times
vizgrad.graph.trace, vizgrad.plot.layout and vizgrad.plot.figure (which lays out again, so
"total" is trace + figure), and Graphviz `dot -Tplain` on vizgrad.graph.to_dot of the same graph
when `dot` is installed, waiting at most DOT_CAP (60 s) for it: a run cut off there is printed as
"> 60" (a lower bound). Targets: total(1,000) <= 0.25 x dot(1,000), and cost growing no faster
than about N log N: time(5,000) / time(1,000) compared with 5 * log(5,000) / log(1,000).

--browser also draws the full 5,000-op figure (markers in WebGL, edges as SVG paths) in Debian's
Chromium (Playwright) and prints the time from Plotly.newPlot to the second frame after it, beside
the 2 s target; and the level of
detail's default view of the same graph (vizgrad.graph.lod), the size and time of what the pages draw.
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
from vizgrad.graph import lod  # noqa: E402

DOT_CAP = 60.0       # seconds: the longest we wait for Graphviz dot
DRAW_TARGET = 2.0    # seconds: a 5,000-op WebGL figure drawn in the browser


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


def dot_time(g):
    """(seconds, capped): dot -Tplain on to_dot(g), waiting at most DOT_CAP; None without dot."""
    if not shutil.which("dot"):
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".dot", delete=False) as f:
        f.write(vg.to_dot(g))
        path = f.name
    try:
        t = time.perf_counter()
        try:
            subprocess.run(["dot", "-Tplain", path, "-o", os.devnull], check=True, timeout=DOT_CAP)
        except subprocess.TimeoutExpired:
            return DOT_CAP, True
        return time.perf_counter() - t, False
    finally:
        os.unlink(path)


DRAW = """async () => {
  const t0 = performance.now();
  await Plotly.newPlot("g", window.FIG.data, window.FIG.layout);
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return [(performance.now() - t0) / 1000, document.querySelectorAll("#g canvas.gl-canvas").length > 0];
}"""


def browser_draw(fig, repeat=3):
    """Best of `repeat` draws of fig in Chromium (seconds from Plotly.newPlot to the second frame after
    it; the figure's JSON loaded beforehand), and whether WebGL drew it; None without Playwright or
    Chromium. Chromium here has no GPU: WebGL runs on its software renderer (SwiftShader)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        return None
    import plotly
    js = os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")
    tmp = tempfile.mkdtemp()
    try:
        with open(os.path.join(tmp, "fig.js"), "w") as f:
            f.write("window.FIG = " + fig.to_json() + ";")
        with open(os.path.join(tmp, "page.html"), "w") as f:
            f.write(f'<!doctype html><html><head><meta charset="utf-8"><script src="file://{js}"></script>'
                    '<script src="fig.js"></script></head><body style="margin:0"><div id="g"></div></body></html>')
        best, gl = float("inf"), False
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=chromium, headless=True,
                                  args=["--headless", "--no-sandbox", "--disable-quic", "--no-first-run",
                                        "--disable-background-networking", "--disable-component-update",
                                        "--disable-sync", "--disable-dev-shm-usage", "--enable-unsafe-swiftshader"])
            for _ in range(repeat):
                page = b.new_page(viewport={"width": 1400, "height": 900})
                page.goto("file://" + os.path.join(tmp, "page.html"), timeout=120_000)
                t, gl = page.evaluate(DRAW)
                best = min(best, t)
                page.close()
            b.close()
        return best, gl
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="sizes 100 and 1,000 only")
    ap.add_argument("--no-dot", action="store_true")
    ap.add_argument("--dot-max", type=int, default=5000, help="run dot on graphs up to this size (default 5000)")
    ap.add_argument("--browser", action="store_true", help="time the 5,000-op WebGL figure's draw in Chromium")
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
        t_lod, v = timed(lambda: lod.default_view(vg.trace(loss)))
        t_lodfig, _ = timed(lambda: vp.figure(v))
        rows.append(dict(n=n, ops=ops, nodes=g.number_of_nodes(), edges=g.number_of_edges(), trace=t_trace,
                         layout=t_layout, figure=t_fig, total=t_trace + t_fig, dot=td and td[0],
                         capped=bool(td and td[1]), gl=any(type(t).__name__ == "Scattergl" for t in fig.data),
                         lod_nodes=v.number_of_nodes(), lod=t_lod + t_lodfig, fig_obj=fig))
    print(f"{'ops':>6} {'nodes':>6} {'edges':>6} | {'trace':>7} {'layout':>7} {'figure':>7} {'total':>7} | "
          f"{'dot':>7} {'total/dot':>9}  webgl | {'lod view':>8} {'lod s':>6}")
    for r in rows:
        cap = ">" if r["capped"] else " "
        dot = f"{cap}{r['dot']:6.3f}" if r["dot"] is not None else "      -"
        ratio = f"{'<' if r['capped'] else ' '}{r['total'] / r['dot']:8.3f}" if r["dot"] else "        -"
        print(f"{r['ops']:>6} {r['nodes']:>6} {r['edges']:>6} | {r['trace']:7.3f} {r['layout']:7.3f} "
              f"{r['figure']:7.3f} {r['total']:7.3f} | {dot} {ratio}  {'yes' if r['gl'] else 'no ':>5} | "
              f"{r['lod_nodes']:>8} {r['lod']:6.3f}")
    print(f"(seconds; figure includes its own layout; total = trace + figure; dot = `dot -Tplain` on to_dot, "
          f"waiting at most {DOT_CAP:.0f} s: '>' marks a run cut off there; lod view = nodes of the default "
          f"level-of-detail view, lod s = trace + default_view + its figure)")
    by = {r["n"]: r for r in rows}
    if 1000 in by and by[1000]["dot"]:
        ok = by[1000]["total"] <= 0.25 * by[1000]["dot"]
        print(f"target total(1000) <= 0.25 x dot(1000): {by[1000]['total']:.3f} s vs {0.25 * by[1000]['dot']:.3f} s "
              f"-> {'OK' if ok else 'MISSED'}" + (" (dot cut off at the cap: its time is a lower bound)"
                                                   if by[1000]["capped"] else ""))
    if 5000 in by and 1000 in by:
        a, b = by[1000], by[5000]
        nlogn = (b["ops"] * math.log(b["ops"])) / (a["ops"] * math.log(a["ops"]))
        for k in ("layout", "total"):
            r = b[k] / a[k]
            print(f"growth {k:>6}: time(5000)/time(1000) = {r:5.2f}   N log N ratio = {nlogn:5.2f}   "
                  f"-> {'OK' if r <= nlogn * 1.25 else 'faster than N log N'}")

    if args.browser and 5000 in by:
        r = by[5000]
        d = browser_draw(r["fig_obj"])
        if d is None:
            print("browser draw: skipped (needs playwright and Debian's chromium)")
            return
        print(f"browser draw of the full {r['ops']}-op figure ({r['nodes']} nodes, {'WebGL' if d[1] else 'SVG'}, "
              f"Chromium without GPU): {d[0]:.3f} s   target <= {DRAW_TARGET:.0f} s -> "
              f"{'OK' if d[0] <= DRAW_TARGET else 'MISSED'}")
        v = lod.default_view(vg.trace(scalar_mlp(5000)))
        d3 = browser_draw(vp.figure(v))
        print(f"  its default level-of-detail view ({v.number_of_nodes()} nodes, {'WebGL' if d3[1] else 'SVG'}): "
              f"{d3[0]:.3f} s")

if __name__ == "__main__":
    main()
