"""Every graph reads at a desktop size (1400x900) and a phone size (390x844): measured on the labels
the browser drew (the chart's `svg text` boxes, getBoundingClientRect), not on the figure's JSON.

For each graph: no two labels overlap, none is under 10 px tall, none is cut off (outside the
chart's drawing, or outside the window unless it sits in a box that scrolls), and every node is
labelled (the node-text points drawn vs the graph's node count, read off the figure's click
targets). A chart that is a window panning over a bigger drawing (the Walkthrough's step graph,
centred on the step's op under the step buttons) is read through its window: the labels it shows
whole; one its edge cuts is a drag away. Screenshots: tests/artifacts/legibility_<graph>_<size>.png.
"""
from urllib.parse import urlencode

import pytest

from browser_utils import ARTIFACTS, no_exception, wait_idle

SIZES = {"desktop": dict(viewport={"width": 1400, "height": 900}),
         # a narrow desktop window: a desktop's user agent, so only the window's width can tell
         "desktop_narrow": dict(viewport={"width": 700, "height": 900}),
         # a phone says so in its user agent (the page lays the graph out for a narrow screen)
         "phone": dict(viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True, has_touch=True,
                       user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                                  "Chrome/130.0.0.0 Mobile Safari/537.36")}

E45 = ("tanh(x*y + sin(x) - exp(-y/3)) * (x**2 + y**2) / (1 + x*x) + log(1 + y**2) - sqrt(x*x + 1) * cos(y) "
       "+ (x - y)**3 / 7 + sin(x*y)*cos(x-y) + exp(-x*x) * y + x/(1+y*y) + x")   # 45 ops, 98 nodes
GRAPHS = {
    "seed": ("/", "home_graph_box"),
    "tanh_matrix": ("/playground?" + urlencode({"expr": "sum(tanh(W @ v + b)**2)", "v.W": "[[0.5, -1.0], [0.3, 0.8], [-0.6, 0.2]]",
                                               "v.v": "[1.0, 2.0]", "v.b": "[0.1, -0.2, 0.3]"}), "pg_graph_box"),
    "expr45": ("/playground?" + urlencode({"expr": E45, "v.x": "0.5", "v.y": "1.5"}), "pg_graph_box"),
    "mlp_last_step": ("/walkthrough?net=mlp", "wt_graph_box"),
    "lesson1": ("/lessons", "lesson_graph_"),
    "network_step": ("/network", "nw_graph_box"),                   # the default 2-8-8-1 network's step
    "mlp_2_16_16_1": ("/network?hidden=16,16", "nw_graph_box"),     # opens collapsed at its layers
}
# the graphs whose narrow layout a 700 px desktop window shows (the chart's key: its box is <key>_box_narrow)
NARROW_TWIN = {"seed": "home_graph", "mlp_last_step": "wt_graph", "lesson1": "lesson_graph_graph"}

MEASURE = """(box) => {
  const host = [...document.querySelectorAll(`[class*="st-key-${box}"]`)].find(e => e.getBoundingClientRect().width > 0);
  const gd = host.querySelector('.js-plotly-plot');
  const svg = gd.querySelector('.main-svg').getBoundingClientRect();
  const sx = window.scrollX, sy = window.scrollY;
  const r = x => ({l: x.left + sx, t: x.top + sy, r: x.right + sx, b: x.bottom + sy, w: x.width, h: x.height});
  const labels = [...gd.querySelectorAll('svg text')].filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0)
    .map(t => ({text: t.textContent.trim(), ...r(t.getBoundingClientRect()),
                scroller: (() => { for (let e = t.parentElement; e; e = e.parentElement) {
                  const o = getComputedStyle(e).overflowX;
                  if ((o === 'auto' || o === 'scroll') && e.scrollWidth > e.clientWidth) return r(e.getBoundingClientRect());
                } return null; })()}));
  // the node labels: the text traces without a name (vizgrad's node text), and the graph's node count
  const traces = gd.querySelectorAll('.scatterlayer .trace');
  let nodeLabels = 0;
  gd.data.forEach((d, i) => { if (d.mode === 'text' && !d.name && traces[i])
    nodeLabels += [...traces[i].querySelectorAll('.textpoint text')].filter(t => t.textContent.trim()).length; });
  const nodes = gd.data.find(d => d.name === 'nodes');
  // a window on a bigger drawing (the Walkthrough's step graph: the rest is a pan away): the plot area,
  // and whether the nodes reach past it
  const sz = gd._fullLayout._size, xr = gd._fullLayout.xaxis.range, yr = gd._fullLayout.yaxis.range;
  const plot = {l: svg.left + sz.l + sx, t: svg.top + sz.t + sy, r: svg.left + sz.l + sz.w + sx, b: svg.top + sz.t + sz.h + sy};
  const nd = gd._fullData.find(d => d.name === 'nodes');   // decoded (gd.data may hold binary arrays)
  const out = (vs, rng) => { vs = Array.from(vs); return Math.min(...vs) < Math.min(...rng) || Math.max(...vs) > Math.max(...rng); };
  const windowed = !!nd && (out(nd.x, xr) || out(nd.y, yr));
  return {labels, svg: r(svg), plot, windowed, nodeLabels, nodeCount: nodes ? nodes.customdata.length : -1, host: host.className,
          boxes: nodes ? nodes.hovertext.filter(t => / nodes inside/.test(t)).length : 0,
          page: {w: document.documentElement.clientWidth, h: document.documentElement.scrollHeight},
          figWidth: gd.layout.width};
}"""


def open_graph(page, url, name):
    page.goto(page.app_url + url)
    wait_idle(page)
    if name == "mlp_last_step":  # the last step: n read off the page ("Step 1 of n")
        page.wait_for_function("() => /Step \\d+ of \\d+/.test(document.body.innerText)")
        n = int(page.inner_text("body").split("Step ", 1)[1].split(" of ", 1)[1].split()[0])
        page.goto(f"{page.app_url}{url}&step={n}")
        wait_idle(page)
        page.wait_for_function(f"() => document.body.innerText.includes('Step {n} of {n}')")
    # the graph's chart drawn in its box (of a wide and a narrow twin, the one the window shows)
    page.wait_for_function("""(box) => [...document.querySelectorAll(`[class*="st-key-${box}"]`)]
        .some(e => e.getBoundingClientRect().width > 0 && e.querySelector('.js-plotly-plot .scatterlayer'))""",
                           arg=GRAPHS[name][1])
    wait_idle(page)


def overlaps(a, b, tol=1.0):
    return min(a["r"], b["r"]) - max(a["l"], b["l"]) > tol and min(a["b"], b["b"]) - max(a["t"], b["t"]) > tol


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", GRAPHS)
def test_every_label_readable(browser, app_url, name, size):
    ctx = browser.new_context(**SIZES[size])
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.app_url = app_url
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        url, box = GRAPHS[name]
        open_graph(page, url, name)
        no_exception(page)
        page.evaluate("""(box) => [...document.querySelectorAll(`[class*="st-key-${box}"]`)]
            .find(e => e.getBoundingClientRect().width > 0).scrollIntoView()""", box)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"legibility_{name}_{size}.png"), full_page=True)
        m = page.evaluate(MEASURE, box)
        labels = m["labels"]
        if m["windowed"]:  # a window that pans over the drawing: what it shows is read; the rest is a drag away
            p = m["plot"]
            labels = [x for x in labels if x["r"] > p["l"] and x["l"] < p["r"] and x["b"] > p["t"] and x["t"] < p["b"]]
            # the window's edge cuts a label it shows part of (panning brings it whole): only those
            labels = [x for x in labels if x["l"] >= p["l"] - 1 and x["r"] <= p["r"] + 1
                      and x["t"] >= p["t"] - 1 and x["b"] <= p["b"] + 1]
        assert labels, "no text drawn"
        small = [(x["text"], round(x["h"], 1)) for x in labels if x["h"] < 10]
        assert not small, f"labels under 10 px: {small[:5]}"
        bad = [(a["text"], b["text"]) for i, a in enumerate(labels) for b in labels[i + 1:] if overlaps(a, b)]
        assert not bad, f"{len(bad)} overlapping labels, e.g. {bad[:4]}"
        s = m["svg"]
        out_of_chart = [x["text"] for x in labels if x["l"] < s["l"] - 1 or x["r"] > s["r"] + 1
                        or x["t"] < s["t"] - 1 or x["b"] > s["b"] + 1]
        assert not out_of_chart, f"labels cut off by the chart's edge: {out_of_chart[:5]}"
        # outside the window sideways only inside a box that scrolls (and within that box's reach)
        cut = [x["text"] for x in labels if (x["l"] < -1 or x["r"] > m["page"]["w"] + 1) and x["scroller"] is None]
        assert not cut, f"labels outside the window, not in a scrolling box: {cut[:5]}"
        # every node labelled (the issue asks it up to ~60 nodes; the 45-op graph has 98 and keeps them too)
        assert m["nodeCount"] > 0 and m["nodeLabels"] == m["nodeCount"], (m["nodeLabels"], m["nodeCount"])
        if name in NARROW_TWIN and size == "desktop_narrow":  # too narrow for left to right: the narrow layout
            assert f"{NARROW_TWIN[name]}_box_narrow" in m["host"] and m["figWidth"] <= 390, (m["host"], m["figWidth"])
        if name == "mlp_2_16_16_1":  # the step of a 2-16-16-1 MLP opens collapsed: its layers as boxes
            assert m["boxes"] >= 3 and m["nodeCount"] <= 60, (m["boxes"], m["nodeCount"])
        assert not errors, errors
    finally:
        ctx.close()
