"""The Network Playground's step graph in a real browser: it opens collapsed at its layers, readable
(labels at least 10 px, none overlapping), and a click on a layer's box opens it one level; Back closes it.
Screenshots: tests/artifacts/lod_*.png (desktop 1400x900 and phone 390x844)."""
import pytest
from browser_utils import no_exception, shot, wait_idle

# the step graph's chart the window shows (a desktop gets a wide and a narrow layout; CSS shows one)
CHART = ".st-key-nw_graph .js-plotly-plot, .st-key-nw_graph_narrow .js-plotly-plot"
SHOWN = CHART + " >> visible=true"   # the same as a Playwright selector
VISIBLE = "[...document.querySelectorAll(sel)].find(e => e.getBoundingClientRect().width > 0)"

# every visible text in the chart's SVG: its box and font size, in CSS pixels (skip: a trace name to leave out)
TEXTS = """([sel, skip]) => {
  const gd = """ + VISIBLE + """;
  const traces = Array.from(gd.querySelectorAll('.scatterlayer .trace'));
  const skipped = new Set(gd.data.map((t, i) => t.name === skip ? traces[i] : null).filter(Boolean));
  return Array.from(gd.querySelectorAll('svg text')).filter(t => t.textContent.trim())
      .filter(t => !skipped.has(t.closest('.trace'))).map(t => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent, x: r.x, y: r.y, w: r.width, h: r.height,
            size: parseFloat(getComputedStyle(t).fontSize)};
  }).filter(r => r.w > 0 && r.h > 0);
}"""
# the ids drawn (the trace "nodes" carries them as customdata)
NODE_IDS = """(sel) => {
  const gd = """ + VISIBLE + """;
  const tr = gd.data.find(t => t.name === 'nodes');
  return tr ? Array.from(tr.customdata) : [];
}"""


def open_step_graph(page, width: int, height: int, query: str = ""):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{page.app_url}/network{query}")
    page.wait_for_selector(SHOWN, timeout=60_000)
    wait_idle(page)
    page.locator(SHOWN).first.scroll_into_view_if_needed()


def node_ids(page) -> list:
    return page.evaluate(NODE_IDS, CHART)


def check_labels(page):
    texts = page.evaluate(TEXTS, [CHART, None])
    assert texts, "no text in the step graph"
    small = [t for t in texts if t["size"] < 10]
    assert not small, f"labels under 10 px: {small[:5]}"
    overlaps = []
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            dx = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
            dy = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
            if dx > 1 and dy > 1:
                overlaps.append((a["text"], b["text"]))
    assert not overlaps, f"overlapping labels: {overlaps[:5]}"
    return texts


def click_node(page, node_id: str):
    """Move onto the node's (invisible) click target, then click it."""
    ids = node_ids(page)
    k = ids.index(node_id)
    traces = page.locator(SHOWN).first.locator(".scatterlayer .trace")
    target = traces.nth(traces.count() - 1).locator("path.point").nth(k)
    target.scroll_into_view_if_needed()  # a tall (top to bottom) graph: the node may be off the screen
    box = target.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.click(x, y)


DEEP = "?hidden=8,8,8,8,8,8&act=tanh,tanh,tanh,tanh,tanh,tanh"


@pytest.mark.parametrize("size, query", [((1400, 900), ""), ((390, 844), ""), ((1400, 900), DEEP)],
                         ids=["desktop", "phone", "deep"])
def test_step_graph_opens_collapsed_and_a_click_opens_a_layer(page, size, query):
    open_step_graph(page, *size, query)
    name = ("desktop" if size[0] > 1000 else "phone") + ("_deep" if query else "")
    before = node_ids(page)
    assert {"m:0", "m:2", "m:4"} <= set(before), before      # the Linear layers are boxes
    shot(page, f"lod_{name}_collapsed")
    texts = check_labels(page)
    assert any(t["text"].startswith("0") and "Linear" in t["text"] for t in texts), texts

    click_node(page, "m:0")
    page.wait_for_function("(sel) => { const gd = " + VISIBLE + ";"
                           " const t = gd && gd.data.find(t => t.name === 'nodes');"
                           " return t && !Array.from(t.customdata).includes('m:0'); }", arg=CHART, timeout=30_000)
    wait_idle(page)
    after = node_ids(page)
    assert len(after) > len(before) and "m:2" in after
    shot(page, f"lod_{name}_opened")
    check_labels(page)

    page.get_by_role("button", name="Back").click()
    page.wait_for_function("(sel) => { const gd = " + VISIBLE + ";"
                           " const t = gd && gd.data.find(t => t.name === 'nodes');"
                           " return t && Array.from(t.customdata).includes('m:0'); }", arg=CHART, timeout=30_000)
    wait_idle(page)
    assert sorted(node_ids(page)) == sorted(before)
    no_exception(page)
    assert not page.js_errors, page.js_errors


def test_a_2000_node_graph_opens_collapsed_and_readable(browser):
    """bench/render.py's scalar MLP (about 2,100 nodes) as its default view, drawn by plotly.js in
    Chromium: a few labelled boxes, labels at least 10 px, none overlapping; then its repeat box opened."""
    import json
    import os
    import sys
    from pathlib import Path

    import plotly

    import vizgrad.graph as vg
    import vizgrad.plot as vp
    from vizgrad.graph import lod
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from render import scalar_mlp

    g = vg.trace(scalar_mlp(1000))
    v = lod.default_view(g)
    js = Path(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js").read_text()
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        pg = ctx.new_page()
        for name, view in (("scalar2000_collapsed", v), ("scalar2000_repeat_opened", lod.expand_group(v, "g:repeat0"))):
            fig = vp.figure(view, font_size=13, max_width=4000, max_height=4000)  # natural size, as the page
            pg.set_content(f'<html><head><script>{js}</script></head><body style="margin:0">'
                           f'<div id="g" class="js-plotly-plot"></div></body></html>')
            pg.evaluate("f => Plotly.newPlot('g', f.data, f.layout)", json.loads(fig.to_json()))
            pg.wait_for_selector("#g svg text")
            shot(pg, f"lod_{name}")
            # the opened level: 39 edges meet at three boxes, and their gradient labels (vizgrad.plot's
            # placement) crowd there; the box and node labels must not
            texts = pg.evaluate(TEXTS, ["#g", None if name.endswith("collapsed") else "edge grads"])
            labels = " ".join(t["text"] for t in texts)
            assert "repeat ×40" in labels or "×20" in labels, labels[:300]
            small = [t for t in texts if t["size"] < 10]
            assert not small, f"labels under 10 px: {small[:5]}"
            overlaps = [(a["text"], b["text"]) for i, a in enumerate(texts) for b in texts[i + 1:]
                        if min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"]) > 1
                        and min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"]) > 1]
            assert not overlaps, f"{name}: overlapping labels: {overlaps[:6]}"
    finally:
        ctx.close()
