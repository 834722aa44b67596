"""The Code page in a real browser: paste the seed chapter's `Net` example, run it with Ctrl+Enter,
see its output, its tensors and modules, and the graph of `loss`; the URL then reopens it. A lesson's
code is edited, rerun and restored with one click; an error shows the user's own traceback."""
from browser_utils import no_exception, shot, wait_idle

from vizgrad.app import code as cp

NET = cp.example("nn_single_linear").code   # the seed's `class Net(nn.Module)` with one Linear(1, 1)


def graph_text(page) -> str:
    return page.evaluate("() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"] svg text')]"
                         ".map(t => t.textContent).join(' ')")


def test_paste_net_run_and_draw_loss(page):
    page.goto(f"{page.app_url}/code")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot')  # the first example, run on open
    editor = page.get_by_role("textbox", name="Your PyTorch code")
    editor.fill(NET)
    editor.press("Control+Enter")  # commits the text area: the page runs it
    # the module inspector shows the new run's `net`
    page.wait_for_function("() => document.body.innerText.includes('Linear(in_features=1, out_features=1')",
                           timeout=30_000)
    wait_idle(page)
    body = page.inner_text("body")
    assert "Traceback" not in body and "(it printed nothing)" in body
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"] svg text')]"
                           ".some(t => t.textContent.trim().startsWith('loss'))")
    text = graph_text(page)
    assert "loss" in text
    shot(page, "code_net_loss")
    no_exception(page)
    assert "code=" in page.url
    # the link reopens the same code and runs it again, in a new tab
    tab = page.context.new_page()
    tab.goto(page.url)
    wait_idle(tab)
    tab.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"] svg text')]"
                          ".some(t => t.textContent.trim().startsWith('loss'))", timeout=30_000)
    assert tab.get_by_role("textbox", name="Your PyTorch code").input_value() == NET
    no_exception(tab)
    # step into the Backprop Walkthrough of `loss`: the same graph, one chain-rule step at a time
    page.get_by_role("link", name="Open loss in the Backprop Walkthrough").click()
    page.wait_for_url("**/walkthrough?*", timeout=30_000)
    wait_idle(page)
    page.wait_for_function("() => document.body.innerText.includes('your code: loss')", timeout=60_000)
    assert "code=" in page.url and "var=loss" in page.url
    first = page.inner_text("body")
    page.get_by_role("button", name="Next").click()
    wait_idle(page)
    assert "step=2" in page.url and page.inner_text("body") != first
    shot(page, "code_net_loss_walkthrough")
    no_exception(page)
    assert not page.js_errors, page.js_errors


def test_an_error_shows_the_users_traceback(page):
    page.goto(f"{page.app_url}/code")
    wait_idle(page)
    editor = page.get_by_role("textbox", name="Your PyTorch code")
    editor.fill("import torch\nx = torch.ones(2, 3)\ny = x @ torch.ones(2, 2)\n")
    page.get_by_role("button", name="Run").click()
    page.wait_for_function("() => document.body.innerText.includes('mat1 and mat2 shapes cannot be multiplied')")
    body = page.inner_text("body")
    assert 'File "<your code>", line 3, in <module>' in body and "/work" not in body
    shot(page, "code_error")
    # the user's traceback is on the page by design; no Streamlit exception box is
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_role("textbox", name="Your PyTorch code").is_editable()


def test_edit_a_lesson_rerun_it_and_restore_it(page):
    page.goto(f"{page.app_url}/code")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot')
    lesson = cp.example("lesson:backward")
    page.get_by_role("combobox", name="Load an example").click()
    page.get_by_role("option", name=lesson.title).click()
    page.wait_for_function("() => document.body.innerText.includes('Gradient of x:  tensor(4.)')")
    editor = page.get_by_role("textbox", name="Your PyTorch code")
    assert editor.input_value() == lesson.code
    editor.fill(lesson.code.replace("torch.tensor(2.0", "torch.tensor(5.0", 1))
    editor.press("Control+Enter")
    page.wait_for_function("() => document.body.innerText.includes('Gradient of x:  tensor(10.)')")
    shot(page, "code_lesson_edited")
    page.get_by_role("button", name="Restore the example").click()
    page.wait_for_function("() => document.body.innerText.includes('Gradient of x:  tensor(4.)')")
    wait_idle(page)
    assert page.get_by_role("textbox", name="Your PyTorch code").input_value() == lesson.code
    no_exception(page)
