"""Lessons in a real browser: the page loads, its code stays inside its box, and every lesson's
walkthrough link opens the very graph the lesson drew.

    cd <worktree> && python -m pytest -q tests/browser/test_lessons_browser.py
"""
import re
import time

from browser_utils import no_exception, shot, wait_idle

from vizgrad.app.lessons import LESSONS, drawn_graph, run

# the node and edge texts a chart shows (its text traces), once plotly has drawn it; of a wide and a
# narrow twin (vizgrad.plot.screen_figures), the one the window shows
CHART_TEXTS = """(sel) => { const el = [...document.querySelectorAll(sel)].find(e => e.getBoundingClientRect().width > 0);
    if (!el || !el._fullData) return null;
    return el._fullData.filter(t => (t.mode || '').includes('text') && t.text)
                       .flatMap(t => [].concat(t.text).map(String)).filter(s => s.length).sort(); }"""


# the walkthrough numbers the ops in backward order (① +, ② **3, ...): an annotation of the step, not
# part of the graph, so it is left out of the comparison
ORDER_MARK = re.compile(r"^[\u2460-\u24ff\u2776-\u2793\u3251-\u325f\u32b1-\u32bf]+\s*")


def _texts(page, selector: str) -> list:
    page.wait_for_function(f"() => ({CHART_TEXTS})({selector!r}) !== null")
    return sorted(ORDER_MARK.sub("", t) for t in page.evaluate(CHART_TEXTS, selector))


def _open_tab(page, lesson) -> None:
    page.get_by_role("tab", name=lesson.short).click()
    page.get_by_role("heading", name=lesson.title).wait_for(state="visible")
    wait_idle(page, 0.1)


def test_lessons_load_and_open_in_walkthrough(page):
    page.goto(f"{page.app_url}/lessons")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot')
    body = page.inner_text("body")
    assert "1. requires_grad and the dynamic graph" in body and "tensor(31., grad_fn=<AddBackward0>)" in body
    assert "The graph it built, after the forward pass (no backward yet" in body
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


def test_code_stays_inside_its_box_at_1400px(page):
    """Long lines wrap inside the code box: nothing runs off its right edge (issue 14)."""
    page.goto(f"{page.app_url}/lessons")
    wait_idle(page)
    for lesson in LESSONS:
        _open_tab(page, lesson)
        boxes = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stCode"]')]
            .filter(e => e.offsetParent !== null).map(e => { const pre = e.querySelector('pre');
                const r = e.getBoundingClientRect();
                return {right: r.right, scroll: pre.scrollWidth, client: pre.clientWidth,
                        page: document.documentElement.clientWidth}; })""")
        assert len(boxes) >= 2, lesson.id  # the code and its output
        for b in boxes:
            assert b["scroll"] <= b["client"] + 1 and b["right"] <= b["page"], (lesson.id, b)
    shot(page, "lessons_code_wrapped")
    no_exception(page)


def test_every_walkthrough_link_opens_the_drawn_graph(page):
    """For each lesson: the texts of its drawn graph (node labels, values, gradients, edge
    gradients) are those the walkthrough shows at the lesson's moment: the end of the forward pass
    for a lesson drawn before any backward, else the last step of the backward pass."""
    for lesson in LESSONS:
        page.goto(f"{page.app_url}/lessons")
        wait_idle(page)
        _open_tab(page, lesson)
        drawn = _texts(page, f'[class*="st-key-lesson_graph_{lesson.id}_box"] .js-plotly-plot')
        assert drawn, lesson.id
        link = page.locator('[data-testid="stPageLink"] a:visible', has_text="Open this graph in the walkthrough")
        link.first.click()
        page.wait_for_url(f"**/walkthrough?lesson={lesson.id}*")
        wait_idle(page)
        page.wait_for_function("() => /Step 1 of \\d+/.test(document.body.innerText)")
        n = int(re.search(r"Step 1 of (\d+)", page.inner_text("body")).group(1))
        assert lesson.title in page.inner_text("body"), lesson.id
        after_backward = drawn_graph(run(lesson)).graph["backward"]
        k = n if after_backward else n // 2   # n // 2 forward steps (one per op), then as many backward
        page.goto(f"{page.app_url}/walkthrough?lesson={lesson.id}&step={k}")
        wait_idle(page)
        page.wait_for_function(f"() => document.body.innerText.includes('Step {k} of {n}')")
        shown = _texts(page, '[class*="st-key-wt_graph_box"] .js-plotly-plot')
        assert shown == drawn, (lesson.id, k, drawn, shown)
        no_exception(page)
    shot(page, "lessons_last_walkthrough")
    assert not page.js_errors, page.js_errors


def test_loss_curve_lesson(page):
    page.goto(f"{page.app_url}/lessons")
    wait_idle(page)
    page.get_by_role("tab", name="6 · x·y → 200").click()
    page.wait_for_function("() => document.body.innerText.includes('loss at step 1000')")
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
    time.sleep(0.6)
    mid = page.evaluate(count)
    page.wait_for_function(f"() => ({count})() >= 1000", timeout=15_000)
    assert 0 < mid < 1000, mid
    shot(page, "lessons_xy200_replay")
    assert not page.js_errors, page.js_errors
