"""Expression Playground clicks in a real browser: every click selects exactly the clicked node or
edge, a new expression clears the selection, Back / Forward restore committed changes.

Points are located through the figure plotly drew (the div's data): the invisible "nodes" and
"edges" traces carry customdata = ids and hovertext, and their i-th `path.point` is point i. A
click is a mouse move onto the marker, then a click (plotly needs the hover first)."""
import re
import time

from browser_utils import no_exception, shot, wait_idle

EXPR = "tanh(x*y + z) * x + y**2"   # 12 nodes: six tensors, six ops
# the graph's chart the window shows (a desktop gets a wide and a narrow layout; CSS shows one)
CHART = '[data-testid="stPlotlyChart"] .js-plotly-plot >> visible=true'


def open_page(page, query: str = ""):
    page.goto(f"{page.app_url}/playground{query}")
    wait_idle(page)
    page.wait_for_selector(CHART)


def set_text(page, label: str, value: str):
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_idle(page)


POINTS_JS = """(name) => {
  const gd = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
      .find(e => e.getBoundingClientRect().width > 0);
  const k = gd.data.findIndex(t => t.name === name);
  if (k < 0) return [];
  const tr = gd.querySelectorAll('.scatterlayer .trace')[k];
  const pts = tr ? tr.querySelectorAll('path.point') : [];
  const d = gd._fullData[k];
  return Array.from(pts).map((p, i) => {
    const b = p.getBoundingClientRect();
    return {i, id: d.customdata[i], hover: d.hovertext[i], x: b.x + b.width / 2, y: b.y + b.height / 2};
  });
}"""


def points(page, name):
    return page.evaluate(POINTS_JS, name)


def expected_title(page, pt) -> str:
    """The inspector's title for the node the point draws, from the page's model of the same URL:
    'tensor x' for a tensor, 'op t1 = x² (PowBackward0)' for an op."""
    from urllib.parse import parse_qsl, urlsplit
    from vizgrad.app.expression import State, op_text, run
    g = run(State.from_query(dict(parse_qsl(urlsplit(page.url).query)))).graph
    d = g.nodes[pt["id"]]
    if d["kind"] == "op":
        return f"op {op_text(g, pt['id'])} ({d['op']})"
    return f"tensor {d['label']}"


def inspector_title(page) -> str | None:
    loc = page.locator('[data-testid="stMarkdownContainer"] strong').filter(has_text=re.compile(r"^(tensor|op|edge) "))
    return " ".join(loc.first.inner_text().split()) if loc.count() else None  # HTML collapses spaces


def show_inspector(page):
    """Scroll so the graph's bottom and the inspector are in view (for the screenshot)."""
    page.locator('[data-testid="stMarkdownContainer"] strong').filter(
        has_text=re.compile(r"^(tensor|op|edge) ")).first.evaluate("e => e.scrollIntoView({block: 'center'})")
    time.sleep(0.3)


def click(page, pt):
    page.mouse.move(pt["x"], pt["y"])
    time.sleep(0.15)
    page.mouse.click(pt["x"], pt["y"])
    wait_idle(page, 0.4)
    page.wait_for_selector(CHART)


def highlighted_ids(page):
    """The ids whose box the highlight ring surrounds (the 'highlighted' trace in the drawn figure)."""
    return page.evaluate("""() => {
      const gd = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
      .find(e => e.getBoundingClientRect().width > 0);
      const h = gd._fullData.find(t => t.name === 'highlighted' && t.mode === 'lines');
      const n = gd._fullData.find(t => t.name === 'nodes');
      if (!h || !n) return [];
      const xs = Array.from(h.x).filter(Number.isFinite), ys = Array.from(h.y).filter(Number.isFinite);
      const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
      return Array.from(n.customdata).filter((id, i) => n.x[i] > x0 && n.x[i] < x1 && n.y[i] > y0 && n.y[i] < y1);
    }""")


def test_ten_clicks_in_a_row_each_select_the_clicked_node(page):
    page.set_viewport_size({"width": 1400, "height": 900})
    open_page(page, "?expr=" + EXPR.replace("+", "%2B").replace(" ", "+") + "&v.x=0.5&v.y=2&v.z=-1")
    nodes = points(page, "nodes")
    assert len(nodes) >= 10, nodes
    order = [nodes[i] for i in (0, 5, 1, 7, 2, 9, 3, 11, 4, 6, 8, 10)[:max(10, len(nodes))] if i < len(nodes)]
    for n, pt in enumerate(order[:10]):
        pt = next(p for p in points(page, "nodes") if p["id"] == pt["id"])  # fresh position after a rerun
        want = expected_title(page, pt)
        click(page, pt)
        got = inspector_title(page)
        assert got == want, f"click {n + 1} on {pt['id']}: inspector shows {got!r}, expected {want!r}"
        assert highlighted_ids(page) == [pt["id"]], (n, pt["id"], highlighted_ids(page))
        if n == 0:
            show_inspector(page)
            shot(page, "playground_click_desktop")
    # the same node twice (plotly toggles its own selection off), then another: still exact
    for pt in (order[9], order[9], order[0]):
        pt = next(p for p in points(page, "nodes") if p["id"] == pt["id"])
        click(page, pt)
        assert inspector_title(page) == expected_title(page, pt), pt["id"]
        assert highlighted_ids(page) == [pt["id"]]
    no_exception(page)
    assert not page.js_errors, page.js_errors


def test_clicking_an_edge_shows_its_contribution(page):
    open_page(page, "?expr=x**2+%2B+y**3&v.x=2&v.y=3")
    edge = next(p for p in points(page, "edges") if p["hover"].startswith("x → **2"))
    click(page, edge)
    assert inspector_title(page) == "edge x → t1 = x²"
    body = page.inner_text("body")
    assert "upstream ∂f/∂t1" in body and "2x = 4" in body and "sent to x" in body
    show_inspector(page)
    shot(page, "playground_edge_clicked")
    # a tensor edge: shapes and small values, the rule, no made-up number
    open_page(page, "?expr=sum(tanh(W+%40+v+%2B+b)**2)&v.W=[[1,2],[3,4],[5,6]]&v.v=[1,-1]&v.b=[0,1,0]")
    edge = next(p for p in points(page, "edges") if p["hover"].startswith("W → @"))
    click(page, edge)
    assert inspector_title(page) == "edge W → t1 = W @ v"
    body = page.inner_text("body")
    assert "sent to W" in body and "shape [3, 2]" in body and "g·vᵀ" in body
    show_inspector(page)
    shot(page, "playground_edge_clicked_tensor")
    no_exception(page)


def test_a_new_expression_clears_the_selection(page):
    open_page(page, "?expr=x**2+%2B+y**3&v.x=2&v.y=3")
    x = next(p for p in points(page, "nodes") if p["hover"].startswith("<b>x</b>"))
    click(page, x)
    assert inspector_title(page) == "tensor x"
    set_text(page, "Expression", "a*b + a")
    page.wait_for_selector(CHART)
    assert inspector_title(page) is None
    assert highlighted_ids(page) == []


def test_back_and_forward_step_through_the_edits(page):
    open_page(page, "?expr=x*2&v.x=1")
    edits = ["x*3", "x*y", "tanh(x)"]
    for e in edits:
        set_text(page, "Expression", e)
    set_text(page, "x =", "0.5")
    history_entries = page.evaluate("() => history.length")
    back = page.get_by_role("button", name="Back", exact=True)
    fwd = page.get_by_role("button", name="Forward", exact=True)
    for want_expr, want_x in [("tanh(x)", "1"), ("x*y", None), ("x*3", None), ("x*2", "1")]:
        back.click()
        wait_idle(page, 0.4)
        assert page.get_by_label("Expression", exact=True).input_value() == want_expr
        if want_x is not None:
            assert page.get_by_label("x =", exact=True).input_value() == want_x
        q = page.url.split("?", 1)[1].replace("%2A", "*").replace("%28", "(").replace("%29", ")")
        assert "expr=" + want_expr in q, page.url
    assert back.is_disabled()
    fwd.click()
    wait_idle(page, 0.4)
    assert page.get_by_label("Expression", exact=True).input_value() == "x*3"
    fwd.click()
    wait_idle(page, 0.4)
    assert page.get_by_label("Expression", exact=True).input_value() == "x*y"
    no_exception(page)
    print("browser history entries after 4 edits:", history_entries)


def wait_value(locator, want: str, timeout: float = 30.0) -> None:
    """Wait until an input shows `want` (the page reruns after a history navigation)."""
    end = time.time() + timeout
    while locator.input_value() != want and time.time() < end:
        time.sleep(0.2)
    assert locator.input_value() == want


def test_the_browsers_back_and_forward_restore_the_previous_expression(page):
    open_page(page, "?expr=x*2&v.x=1")
    for e in ["x*3", "tanh(x)"]:
        set_text(page, "Expression", e)
    set_text(page, "x =", "0.5")
    expr, x = page.get_by_label("Expression", exact=True), page.get_by_label("x =", exact=True)
    for want_expr, want_x in [("tanh(x)", "1"), ("x*3", "1"), ("x*2", "1")]:
        page.go_back()
        wait_value(expr, want_expr)
        wait_idle(page, 0.4)
        assert expr.input_value() == want_expr and x.input_value() == want_x
        page.wait_for_selector(CHART)
    page.go_forward()
    wait_value(expr, "x*3")
    wait_idle(page, 0.4)
    assert "x*3" in page.url.replace("%2A", "*")
    no_exception(page)


def test_phone_inspector_after_a_click(browser, app_url):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    page.app_url = app_url
    open_page(page, "?expr=x**2+%2B+y**3&v.x=2&v.y=3")
    op = next(p for p in points(page, "nodes") if p["hover"].startswith("<b>**3</b>"))
    page.locator(CHART).first.scroll_into_view_if_needed()  # below the inputs on a phone
    op = next(p for p in points(page, "nodes") if p["id"] == op["id"])
    click(page, op)
    assert inspector_title(page) == expected_title(page, op)
    show_inspector(page)
    shot(page, "playground_click_phone")
    ctx.close()


def test_hover_on_an_op_shows_its_local_derivative_with_numbers(page):
    open_page(page, "?expr=x**2+%2B+y**3&v.x=2&v.y=3")
    op = next(p for p in points(page, "nodes") if p["hover"].startswith("<b>**3</b>"))
    page.mouse.move(op["x"], op["y"])
    label = page.locator(".hoverlayer .hovertext")
    label.first.wait_for()
    text = " ".join(label.first.text_content().split())  # SVG text: no innerText
    assert "∂out/∂y = 3y^2 = 27 (at y = 3)" in text, text


E45 = ("tanh(x*y + sin(x) - exp(-y/3)) * (x**2 + y**2) / (1 + x*x) + log(1 + y**2) - sqrt(x*x + 1) * cos(y) "
       "+ (x - y)**3 / 7 + sin(x*y)*cos(x-y) + exp(-x*x) * y + x/(1+y*y) + x")   # 98 nodes: opens collapsed


def test_a_big_expression_opens_collapsed_and_a_click_opens_its_box(page):
    from urllib.parse import urlencode
    open_page(page, "?" + urlencode({"expr": E45, "v.x": "0.5", "v.y": "1.5"}))
    before = points(page, "nodes")
    boxes = [p for p in before if " nodes inside" in p["hover"]]
    assert boxes, [p["hover"][:40] for p in before[:5]]
    box = boxes[0]
    page.evaluate("""(i) => {  // a tall graph: bring the box's click target onto the screen
      const gd = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
        .find(e => e.getBoundingClientRect().width > 0);
      const k = gd.data.findIndex(t => t.name === 'nodes');
      gd.querySelectorAll('.scatterlayer .trace')[k].querySelectorAll('path.point')[i]
        .scrollIntoView({block: 'center', inline: 'center'});
    }""", box["i"])
    box = next(p for p in points(page, "nodes") if p["id"] == box["id"])
    click(page, box)
    end = time.time() + 30
    while any(p["id"] == box["id"] for p in points(page, "nodes")) and time.time() < end:
        time.sleep(0.3)
    after = points(page, "nodes")
    assert box["id"] not in {p["id"] for p in after} and len(after) > len(before)
    assert inspector_title(page) is None           # opening a box selects nothing
    page.get_by_role("button", name="Close box").click()
    wait_idle(page, 0.4)
    page.wait_for_selector(CHART)
    assert sorted(p["id"] for p in points(page, "nodes")) == sorted(p["id"] for p in before)
    no_exception(page)
