"""Backprop Walkthrough in a real browser: step through x**2 + y**3 to the end and check it."""
from browser_utils import no_exception, shot, wait_idle


def test_step_to_the_end_and_compare(page):
    page.goto(f"{page.app_url}/walkthrough?expr=x**2+%2B+y**3&v.x=2&v.y=3")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot >> visible=true')
    page.wait_for_function("() => document.body.innerText.includes('Step 1 of 6')")
    shot(page, "walkthrough_step1")
    for k in range(2, 7):
        page.get_by_role("button", name="Next").click()
        wait_idle(page)
        page.wait_for_function(f"() => document.body.innerText.includes('Step {k} of 6')")
        assert f"step={k}" in page.url
    no_exception(page)
    check = page.get_by_text("Check: the walkthrough against").first
    check.scroll_into_view_if_needed()
    rows = {}
    trs = page.locator('[data-testid="stTable"]', has_text="vs .backward()").first.locator("tbody tr")
    for i in range(trs.count()):
        cells = [c.strip() for c in trs.nth(i).locator("td, th").all_inner_texts()]
        rows[cells[0]] = cells
    assert rows["x"][1] == "4" and rows["y"][1] == "27"
    assert rows["x"][-2:] == ["✓", "✓"] and rows["y"][-2:] == ["✓", "✓"]
    assert page.get_by_text("✓ Every gradient the walkthrough accumulated").count() == 1
    assert page.get_by_role("button", name="Next").is_disabled()
    shot(page, "walkthrough_end")
    assert not page.js_errors, page.js_errors


def test_previous_and_shared_step_url(page, browser):
    page.goto(f"{page.app_url}/walkthrough?net=mlp&step=14")
    wait_idle(page)
    page.wait_for_function("() => document.body.innerText.includes('Step 14 of 20')")
    page.get_by_role("button", name="Previous").click()
    wait_idle(page)
    page.wait_for_function("() => document.body.innerText.includes('Step 13 of 20')")
    assert "step=13" in page.url
    shot(page, "walkthrough_mlp")
    no_exception(page)


def test_bad_expression_shows_a_message(page):
    page.goto(f"{page.app_url}/walkthrough?expr=x**&v.x=2")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stAlert"]')
    assert "can't be evaluated" in page.locator('[data-testid="stAlert"]').first.inner_text()
    no_exception(page)


def _press_until(page, key: str, now: str, want: str) -> None:
    """Press `key` until the page shows step `want`; a press the page missed (it was still
    rerunning) leaves it at `now`, so it is pressed again, never past `want`."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    for _ in range(4):
        page.keyboard.press(key)
        try:
            page.wait_for_function(f"() => document.body.innerText.includes('Step {want} of 6')", timeout=10_000)
            wait_idle(page)
            return
        except PlaywrightTimeout:
            assert f"Step {now} of 6" in page.inner_text("body")
    raise AssertionError(f"{key} never moved the walkthrough from step {now} to {want}")


def test_arrow_keys_step_but_not_while_typing(page):
    page.goto(f"{page.app_url}/walkthrough?expr=x**2+%2B+y**3&v.x=2&v.y=3&step=3")
    wait_idle(page)
    page.wait_for_function("() => document.body.innerText.includes('Step 3 of 6')")
    page.get_by_role("button", name="Next").wait_for()
    page.mouse.click(700, 20)     # an empty spot: the focus is on no text box
    _press_until(page, "ArrowRight", 3, 4)
    _press_until(page, "ArrowLeft", 4, 3)
    _press_until(page, "ArrowLeft", 3, 2)
    assert "step=2" in page.url
    box = page.get_by_role("textbox", name="… or type an expression")
    box.click()
    box.press("ArrowLeft")        # moves the caret in the text box: no step
    box.press("ArrowLeft")
    wait_idle(page)
    assert "Step 2 of 6" in page.inner_text("body")
    no_exception(page)
