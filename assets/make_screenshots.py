"""Regenerate the README screenshots: assets/graph_seed.png, assets/graph_mlp.png, and the desktop /
phone pair of a medium graph as the pages lay it out, assets/graph_neuron_desktop.png and _phone.png.

    .venv/bin/python assets/make_screenshots.py

Each figure is written to a self-contained HTML file (plotly.js bundled, no network) and shot
with headless Chromium (kaleido is not needed). Set CHROMIUM=/path/to/chromium if it is elsewhere.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import vizgrad  # noqa: E402
import vizgrad.graph as vg  # noqa: E402
import vizgrad.plot as vp  # noqa: E402


def chromium() -> str:
    for c in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
              shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if c and os.path.exists(c):
            return c
    raise SystemExit("Chromium not found (set CHROMIUM=...)")


def shoot(fig, png: str, width: int, height: int):
    """Screenshot fig at width x height CSS pixels into png."""
    fig.update_layout(width=width, height=height, margin=dict(l=10, r=10))
    with tempfile.TemporaryDirectory() as tmp:
        html = os.path.join(tmp, "fig.html")
        fig.write_html(html, include_plotlyjs=True, full_html=True,
                       config={"displayModeBar": False, "staticPlot": False})
        # no page margin, so the window is exactly the figure
        with open(html, encoding="utf-8") as f:
            text = f.read().replace("<body>", '<body style="margin:0">', 1)
        with open(html, "w", encoding="utf-8") as f:
            f.write(text)
        subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--hide-scrollbars", f"--user-data-dir={os.path.join(tmp, 'profile')}",
                        f"--screenshot={png}", f"--window-size={width},{height}", "file://" + html],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    print("wrote", os.path.relpath(png))


def seed_figure():
    x = vizgrad.tensor(2.0, requires_grad=True, name="x")
    y = vizgrad.tensor(3.0, requires_grad=True, name="y")
    z = x ** 2 + y ** 3
    z.name = "z"
    z.backward()
    return vp.figure(z, width=900, height=420, title="z = x**2 + y**3 after z.backward()")


def mlp_figure():
    import vizgrad.nn as nn
    vizgrad.manual_seed(3)
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1))
    x = vizgrad.tensor([[0.5, -1.0]])
    y = vizgrad.tensor([[1.0]])
    loss = nn.MSELoss()(model(x), y)
    loss.name = "loss"
    loss.backward()
    g = vg.trace(loss, params=dict(model.named_parameters()))
    for n, d in g.nodes(data=True):  # name the data tensors for the picture
        if d["kind"] == "tensor" and d["is_leaf"] and not d["requires_grad"]:
            d["label"] = "x" if d["shape"] == (1, 2) else "y"
    return vp.figure(g, width=1500, height=400, title="MLP 2-2-1 with MSELoss after loss.backward()")


def neuron_figures():
    """A tanh neuron (15 nodes) laid out as a page does it (vizgrad.plot.screen_graph) for a desktop
    and for a phone, at the numbers of micrograd's README example."""
    from vizgrad.app.expression import State, run
    q = {"expr": "tanh(w1*x1 + w2*x2 + b)", "v.w1": "-3", "v.x1": "2", "v.w2": "1", "v.x2": "0", "v.b": "6.88"}
    g = run(State.from_query(q), checks=False).graph
    ua = {"desktop": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36",
          "phone": "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/130.0 Mobile Safari/537.36"}
    return {k: vp.screen_graph(g, {"User-Agent": v})[1][0][0] for k, v in ua.items()}


if __name__ == "__main__":
    for k, fig in neuron_figures().items():
        shoot(fig, os.path.join(HERE, f"graph_neuron_{k}.png"), int(fig.layout.width), int(fig.layout.height))
    shoot(seed_figure(), os.path.join(HERE, "graph_seed.png"), 900, 420)
    shoot(mlp_figure(), os.path.join(HERE, "graph_mlp.png"), 1500, 400)
