"""Lessons in a real browser: the page loads, and a lesson's graph opens in the walkthrough."""
from browser_utils import no_exception, shot, wait_idle


def test_lessons_load_and_open_in_walkthrough(page):
    page.goto(f"{page.app_url}/lessons")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot')
    body = page.inner_text("body")
    assert "1. requires_grad and the dynamic graph" in body and "tensor(31., grad_fn=<AddBackward0>)" in body
    shot(page, "lessons_first")
    page.get_by_role("tab", name="2 · backward()").click()
    page.wait_for_function("() => document.body.innerText.includes('Gradient of x:  tensor(4.)')")
    no_exception(page)
    page.locator('[data-testid="stPageLink"] a:visible', has_text="Open this graph in the walkthrough").first.click()
    wait_idle(page)
    page.wait_for_url("**/walkthrough?lesson=backward*")
    page.wait_for_function("() => document.body.innerText.includes('Step 1 of 6')")
    assert "backward() and .grad" in page.inner_text("body")
    shot(page, "lessons_to_walkthrough")
    no_exception(page)


def test_loss_curve_lesson(page):
    page.goto(f"{page.app_url}/lessons")
    wait_idle(page)
    page.get_by_role("tab", name="6 · x·y → 200").click()
    page.wait_for_function("() => document.body.innerText.includes('loss after 1000 steps')")
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')]"
                           ".filter(e => e.offsetParent !== null).length >= 2")
    shot(page, "lessons_xy200")
    no_exception(page)
    # "▶ train" replays the run live: mid-way the curve has fewer points than at the end
    rect = page.locator(".updatemenu-item-rect").first
    box = rect.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    count = ("() => [...document.querySelectorAll('.js-plotly-plot')]"
             ".find(e => e.querySelector('.updatemenu-item-rect'))._fullData[0].x.length")
    import time
    time.sleep(0.6)
    mid = page.evaluate(count)
    page.wait_for_function(f"() => ({count})() >= 1000", timeout=15_000)
    assert 0 < mid < 1000, mid
    shot(page, "lessons_xy200_replay")
    assert not page.js_errors, page.js_errors
