"""The Walkthrough in a real browser, step by step: every number adds up and none is from the future.

    nice -n 5 .venv/bin/python -m pytest -q tests/browser/test_walkthrough_steps_browser.py

For x**2 + y**3, a fan-out graph (b = a + a, then a*b + a) and the 2-3-1 MLP, the test presses Next
through every step and reads what the browser shows: on a forward step, the graph's boxes of the
tensors not computed yet hold no number (data ?); on a backward step, each chain-rule line's numbers (read
from the rendered KaTeX's TeX source) multiply out: upstream × local = contribution, (A)(B) = the
matrix product, Mᵀ the transpose, Σ the broadcasting sum, and a += line before + this = after.
At 1400x900 the step buttons and the graph fit in the screen together.
"""
import re

import numpy as np
import pytest
from browser_utils import no_exception, shot, wait_idle

from vizgrad.app import walkthrough as ws

SOURCES = {
    "seed": ("expr=x**2+%2B+y**3&v.x=2&v.y=3", {"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"}),
    "fan-out": ("expr=a*(a+%2B+a)+%2B+a&v.a=3", {"expr": "a*(a + a) + a", "v.a": "3"}),
    "mlp": ("net=mlp", {"net": "mlp"}),
}


# ---- reading the TeX the page rendered ------------------------------------------------------------
def split_top(s: str, sep: str) -> list[str]:
    """s split at `sep` where it is outside every {...} and \\left( ... \\right)."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(s):
        if s.startswith(r"\left", i):
            depth += 1
            i += 5
            continue
        if s.startswith(r"\right", i):
            depth -= 1
            i += 6
            continue
        ch = s[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0 and s.startswith(sep, i):
            out.append(s[start:i])
            start = i + len(sep)
            i = start
            continue
        i += 1
    out.append(s[start:])
    return [x.strip() for x in out]


NUMBER = r"\(?-?(?:\d+\.?\d*(?:e-?\d+)?|\\infty)\)?"
MATRIX = r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}"


def number(t: str) -> float:
    return float(t.strip("() ").replace(r"\infty", "inf"))


def value(t: str):
    """A number or a bmatrix (one row: a vector) as an array; None when t is neither."""
    t = t.strip()
    m = re.fullmatch(MATRIX, t)
    if m:
        rows = [[number(x) for x in r.split("&")] for r in m[1].split(r"\\")]
        return np.array(rows[0]) if len(rows) == 1 else np.array(rows)
    if re.fullmatch(NUMBER, t):
        return np.array(number(t))
    return None


def close(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size != b.size:
        return False
    a, b = a.reshape(-1), b.reshape(-1)
    # the page writes 4 significant digits: each number is within 5e-4 of its size
    return bool(np.allclose(a, b, rtol=3e-3, atol=3e-3 * max(1.0, float(np.max(np.abs(b), initial=0)))))


def product(t: str):
    """What a product segment multiplies out to (None: not a product of written-out numbers)."""
    m = re.fullmatch(r"\\Sigma_\{\\to \\mathbb\{R\}\^\{([\d\\times ]+)\}\}\\left\((.*)\\right\)", t)
    if m:
        shape = tuple(int(x) for x in m[1].split(r"\times"))
        inner = product(m[2])
        if inner is None:
            return None
        inner = np.asarray(inner)
        while inner.ndim > len(shape):
            inner = inner.sum(axis=0)
        return inner.reshape(shape) if inner.size == int(np.prod(shape)) else inner.sum(axis=0, keepdims=True)
    for op in (r"\odot", r"\cdot"):
        parts = split_top(t, op)
        if len(parts) == 2:
            a, b = value(parts[0]), value(parts[1])
            if a is not None and b is not None:
                if a.ndim == 1 and b.ndim == 2 and b.shape[1] == 1:   # a vector written as a row, times a column
                    a = a.reshape(-1, 1)
                if b.ndim == 1 and a.ndim == 2 and a.shape[1] == 1:
                    b = b.reshape(-1, 1)
                return a * b
    m = re.fullmatch(rf"({MATRIX})\s*({MATRIX})", t)
    if m:
        a, b = np.atleast_2d(value(m[1])), np.atleast_2d(value(m[3]))
        if a.shape[1] != b.shape[0] and a.shape[0] == 1:
            a = a.T
        return a @ b
    m = re.fullmatch(rf"({MATRIX})\^\{{\\top\}}", t)
    if m:
        return np.atleast_2d(value(m[1])).T
    return None


def check_line(line: str) -> str:
    """Check one backward line's arithmetic; -> which kind of line it was."""
    if "every path" in line:
        return "path sum"
    line = re.sub(r"\\quad.*$", "", line)
    segs = split_top(line, " = ")
    if "accumulated" in line or (len(segs) == 3 and " + " in segs[1] and value(segs[-1]) is not None):
        before, add = split_top(segs[1], " + ")
        assert close(value(before) + value(add), value(segs[2])), line
        return "+="
    result = value(segs[-1])
    if result is None:              # a big tensor: the formula with shapes, no numbers to multiply
        assert r"\mathbb{R}" in line and "‖" not in line, line
        return "formula"
    got = product(segs[-2])
    assert got is not None, ("no product of written-out numbers before the result", line)
    assert close(got, result), (line, got, result)
    return "product"


def test_the_checker_reads_what_it_should():
    assert check_line(r"\frac{a}{b} \mathrel{=} x = 1 \cdot (-0.25) = -0.25") == "product"
    assert check_line(r"h = \begin{bmatrix}1 \\ 2\end{bmatrix} \begin{bmatrix}3 & 4\end{bmatrix} = "
                      r"\begin{bmatrix}3 & 4 \\ 6 & 8\end{bmatrix}") == "product"
    assert check_line(r"h = \Sigma_{\to \mathbb{R}^{1}}\left(\begin{bmatrix}1 \\ 2\end{bmatrix} \odot "
                      r"\begin{bmatrix}1 \\ 1\end{bmatrix}\right) = \begin{bmatrix}3\end{bmatrix}") == "product"
    assert check_line(r"h = 7 + 3 = 10\quad\text{(accumulated: }\mathrel{+}=\text{)}") == "+="
    with pytest.raises(AssertionError):
        check_line(r"h = 1 \cdot 4 = 5")
    with pytest.raises(AssertionError):
        check_line(r"h = 7 + 3 = 11\quad\text{(accumulated)}")


# ---- the browser ----------------------------------------------------------------------------------
def step_shown(page) -> int:
    m = re.search(r"Step (\d+) of \d+", page.inner_text("body"))
    return int(m[1])


def box_texts(page) -> list[str]:
    return [t.replace("\u00a0", " ") for t in
            page.locator('[data-testid="stPlotlyChart"] >> visible=true').locator('svg text').all_text_contents()]


def tex_lines(page) -> list[str]:
    return page.locator('.st-key-wt_equation annotation[encoding="application/x-tex"]').all_text_contents()


@pytest.mark.parametrize("name", list(SOURCES))
def test_every_step_adds_up_and_shows_no_future_value(page, name):
    url_q, query = SOURCES[name]
    walk = ws.prepare(ws.from_query(query))       # the same walk, to know which tensors each step has computed
    labels = {n: d["label"] for n, d in walk.graph.nodes(data=True) if d["kind"] == "tensor"}
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{page.app_url}/walkthrough?{url_q}&step=1")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot >> visible=true')
    kinds = set()
    for k in range(walk.n):
        page.wait_for_function(f"() => document.body.innerText.includes('Step {k + 1} of {walk.n}')")
        wait_idle(page, 0.2)
        s = walk.steps[k]
        if s.phase == "forward":
            texts = box_texts(page)
            for n, label in labels.items():
                box = next((t for t in texts if t.startswith(label + "data ")), None)
                if box is None:
                    continue
                data = box[len(label) + 5:]
                if n in s.done_nodes:
                    assert "nan" not in data, (name, k + 1, label, box)
                else:   # not computed yet: a question mark, no number (and never its NaN placeholder)
                    assert data == "?", (name, k + 1, label, box)
        else:
            lines = tex_lines(page)
            assert lines, (name, k + 1)
            for line in lines:
                kinds.add(check_line(line))
        if k == 0:
            shot(page, f"walkthrough_steps_{name}_first")
        if k < walk.n - 1:
            page.locator(".st-key-wt_next button").click()
    shot(page, f"walkthrough_steps_{name}_last")
    assert "product" in kinds
    if name == "fan-out":
        assert "+=" in kinds and "path sum" in kinds
    no_exception(page)
    assert not page.js_errors, page.js_errors


@pytest.mark.parametrize("name,step", [("mlp", 20), ("mlp", 5), ("seed", 6), ("fan-out", 3)])
def test_buttons_and_graph_fit_one_desktop_screen(page, name, step):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{page.app_url}/walkthrough?{SOURCES[name][0]}&step={step}")
    wait_idle(page)
    chart = page.locator('[data-testid="stPlotlyChart"] >> visible=true').first
    chart.wait_for()
    page.wait_for_function(f"() => document.body.innerText.includes('Step {step} of')")
    boxes = [page.locator(f".st-key-{key} button").bounding_box() for key in ("wt_prev", "wt_next", "wt_play")]
    graph = chart.bounding_box()
    assert page.evaluate("window.scrollY") == 0
    for b in boxes + [graph]:
        assert b["y"] >= 0 and b["y"] + b["height"] <= 900, (name, step, b)
        assert b["x"] >= 0 and b["x"] + b["width"] <= 1400, (name, step, b)
    # every equation line is either within the page's column or scrolls sideways: never clipped
    lines = page.evaluate("""() => [...document.querySelectorAll('.st-key-wt_equation .katex-display')].map(d => ({
        overflow: getComputedStyle(d).overflowX, scroll: d.scrollWidth, client: d.clientWidth,
        right: d.getBoundingClientRect().right}))""")
    assert lines, (name, step)
    for ln in lines:
        assert ln["right"] <= 1400 and (ln["scroll"] <= ln["client"] + 1 or ln["overflow"] == "auto"), ln
    shot(page, f"walkthrough_fit_{name}_{step}")
    no_exception(page)
