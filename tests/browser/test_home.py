"""A new user opens the app: the home page explains vizgrad, draws a live graph, links every page."""
from browser_utils import no_exception, shot, wait_idle


def test_home_page_shows_graph_and_links(page):
    page.goto(page.app_url)
    wait_idle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot')
    body = page.inner_text("body")
    assert "vizgrad" in body
    for title in ("Expression Playground", "Backprop Walkthrough", "Network Playground", "Lessons"):
        assert page.get_by_role("link", name=title).count() >= 1, title
    # the live example carries its gradients on the drawn edges
    chart_text = page.locator('[data-testid="stPlotlyChart"]').first.inner_text()
    assert "27" in chart_text and "4" in chart_text
    no_exception(page)
    shot(page, "home")
    assert not page.js_errors, page.js_errors
