"""Expression Playground in a real browser, as a person uses it."""
import re
import time

from browser_utils import no_exception, shot, wait_idle


def open_page(page, query: str = ""):
    page.goto(f"{page.app_url}/playground{query}")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot')


def results(page) -> str:
    return page.locator('[data-testid="stTable"]').first.inner_text()


def set_text(page, label: str, value: str):
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_idle(page)


def test_type_expression_and_change_variable(page):
    open_page(page)
    set_text(page, "Expression", "x*y + x")
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot')
    set_text(page, "x =", "2")
    set_text(page, "y =", "5")
    body = page.inner_text("body")
    # d/dx (x*y + x) = y + 1 = 6, d/dy = x = 2
    assert re.search(r"∂f\s*∂x\s*=\s*6", body) or "6" in results(page)
    shot(page, "playground_typed")
    set_text(page, "y =", "10")
    page.wait_for_function("() => document.body.innerText.includes('11')")
    no_exception(page)
    assert "x*y" in page.url.replace("%2A", "*") and "v.y=10" in page.url


def test_click_a_node_shows_its_details(page):
    open_page(page, "?expr=x**2+%2B+y**3&v.x=2&v.y=3")
    points = page.locator('.js-plotly-plot .scatterlayer .trace path.point')
    assert points.count() >= 5
    clicked = False
    for i in range(points.count()):
        p = points.nth(i)
        box = p.bounding_box()
        if not box:
            continue
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        wait_idle(page, 0.5)
        if page.get_by_text(re.compile(r"^(tensor|op) ")).count():
            clicked = True
            break
    assert clicked, "no node click produced an inspector"
    shot(page, "playground_node_clicked")
    no_exception(page)


def test_shared_url_reopens_the_same_graph(page, browser):
    open_page(page)
    set_text(page, "Expression", "a*b + b")
    set_text(page, "a =", "3")
    set_text(page, "b =", "4")
    url = page.url
    first = results(page)
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(url)
    wait_idle(other)
    other.wait_for_selector('[data-testid="stTable"]')
    assert other.locator('[data-testid="stTable"]').first.inner_text() == first
    assert "16" in first
    shot(other, "playground_shared_url")
    other.context.close()


def test_bad_expression_shows_a_message_and_the_page_stays_usable(page):
    open_page(page)
    set_text(page, "Expression", "x ** (2 +")
    err = page.locator('[data-testid="stAlert"]').first
    err.wait_for()
    assert "column" in err.inner_text() or page.locator("code").filter(has_text="^").count()
    shot(page, "playground_error")
    no_exception(page)
    set_text(page, "Expression", "x * 3")
    page.wait_for_selector('[data-testid="stTable"]')
    assert page.locator('[data-testid="stAlert"]').count() == 0 or "column" not in page.locator(
        '[data-testid="stAlert"]').first.inner_text()
    assert not page.js_errors, page.js_errors
