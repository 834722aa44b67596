"""Network Playground in a real browser: Play trains live, the loss falls, Pause stops; click a neuron."""
import time

from browser_utils import no_exception, shot, wait_idle

STAT = "() => {{ const e = document.querySelector('[data-stat=\"{}\"]'); return e ? e.innerText : null }}"


def stat(page, name: str) -> str:
    return page.evaluate(STAT.format(name))


def open_network(page, query: str = ""):
    page.goto(f"{page.app_url}/network{query}")
    page.wait_for_selector('[data-stat="Step"]', timeout=60_000)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot', timeout=60_000)
    wait_idle(page)


def test_play_trains_live_then_pause(page):
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_network(page)
    assert stat(page, "Step") == "0"
    loss_before = float(stat(page, "Test loss"))

    page.get_by_role("button", name="Play").click()
    # the step counter runs past 50 while playing (how fast: bench/ui_rate.py)
    page.wait_for_function("() => parseInt(document.querySelector('[data-stat=\"Step\"]').innerText"
                           ".replace(/,/g, '')) > 50", timeout=60_000)
    shot(page, "network_playing")

    deadline = time.time() + 30
    while float(stat(page, "Test loss")) >= loss_before - 0.01 and time.time() < deadline:
        time.sleep(0.5)
    loss_after = float(stat(page, "Test loss"))
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=20_000)   # paused: the button turns back to Play
    wait_idle(page, 0.5)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot')
    steps = stat(page, "Step")
    time.sleep(1.0)
    assert stat(page, "Step") == steps, "still training after Pause"
    assert int(steps.replace(",", "")) > 50
    assert loss_after < loss_before - 0.01, (loss_before, loss_after)
    shot(page, "network_training")
    no_exception(page)
    assert not page.js_errors, page.js_errors


def test_click_a_neuron_shows_its_output(page):
    page.set_viewport_size({"width": 1400, "height": 1300})
    open_network(page, "?data=xor&hidden=3&act=relu")
    assert "hidden layer 1, neuron 1" in page.inner_text("body")
    net = page.locator('[data-testid="stPlotlyChart"]').first
    points = net.locator(".scatterlayer .trace path.point")
    target = None
    for i in range(points.count()):          # the third hidden neuron: the 6th node (2 inputs first)
        box = points.nth(i).bounding_box()
        if box and box["width"] > 15:
            target = target or []
            target.append(box)
    assert target and len(target) >= 6, "no neuron markers found"
    box = target[4]
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => document.body.innerText.includes('hidden layer 1, neuron 3')", timeout=20_000)
    wait_idle(page)
    shot(page, "network_neuron_clicked")
    no_exception(page)


def _csv_points(n: int = 120) -> bytes:
    """Two blobs labelled 0/1, as a person would export them: a header, then x1,x2,label rows."""
    import numpy as np
    rng = np.random.default_rng(5)
    rows = ["x1,x2,label"]
    for i in range(n):
        c = i % 2
        x1, x2 = rng.normal(2.0 if c else -2.0, 0.7, 2)
        rows.append(f"{x1:.4f},{x2:.4f},{c}")
    return ("\n".join(rows) + "\n").encode()


def test_upload_a_csv_then_a_broken_one(page):
    """The CSV journey AppTest cannot drive: pick "Upload CSV…", upload a file, train on it; then
    upload a broken file and get a message naming the line, with the app still running."""
    page.set_viewport_size({"width": 1400, "height": 1300})
    page.goto(f"{page.app_url}/network?data=csv")  # no data yet: no network, an uploader instead
    uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    uploader.wait_for(state="attached", timeout=60_000)
    wait_idle(page)
    assert "Upload a CSV file" in page.inner_text("body")
    uploader.set_input_files(files=[{"name": "blobs.csv", "mimeType": "text/csv", "buffer": _csv_points()}])
    page.wait_for_function("() => !document.body.innerText.includes('Upload a CSV file')", timeout=30_000)
    wait_idle(page)
    page.wait_for_selector('[data-stat="Step"]', timeout=30_000)
    assert stat(page, "Step") == "0"
    page.get_by_role("button", name="Step").click()   # one update
    page.wait_for_function("() => document.querySelector('[data-stat=\"Step\"]').innerText === '1'",
                           timeout=30_000)
    page.get_by_role("button", name="Play").click()   # then train until the blobs are separated
    page.wait_for_function("() => document.querySelector('[data-stat=\"Test accuracy\"]').innerText === '100.0%'",
                           timeout=60_000)
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=20_000)
    wait_idle(page)
    assert int(stat(page, "Step").replace(",", "")) > 1
    shot(page, "network_csv_uploaded")
    no_exception(page)

    bad = b"x1,x2,label\n1.0,2.0,1\n3.0,oops,0\n"
    uploader.set_input_files(files=[{"name": "broken.csv", "mimeType": "text/csv", "buffer": bad}])
    page.wait_for_function("() => document.body.innerText.includes('cannot be used')", timeout=30_000)
    wait_idle(page)
    body = page.inner_text("body")
    assert "line 3" in body and "cannot be used" in body, body[:2000]
    shot(page, "network_csv_broken")
    no_exception(page)
    assert not page.js_errors, page.js_errors


SPEED = ("() => { const s = [...document.querySelectorAll('[data-testid=\"stSlider\"]')]"
         ".find(e => e.innerText.includes('Steps per update'));"
         " const t = s && s.querySelector('input[type=\"range\"]'); return t ? t.getAttribute('aria-valuetext') : null }")


def test_steps_per_update_survives_choosing_the_csv_upload(page):
    """'Steps per update' is drawn below the data controls; picking "Upload CSV…" hides it until a
    file arrives. Its value (50 by default, here set to 25 by the keyboard) must come back unchanged."""
    page.set_viewport_size({"width": 1400, "height": 1300})
    open_network(page)
    assert page.evaluate(SPEED) == "50"
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text="Steps per update").locator('input[type="range"]')
    thumb.focus()
    page.keyboard.press("ArrowLeft")    # 50 -> 25
    page.wait_for_function(f"() => ({SPEED})() === '25'", timeout=10_000)
    wait_idle(page)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Dataset").click()
    page.get_by_role("option", name="Upload CSV…").click()
    uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    uploader.wait_for(state="attached", timeout=60_000)
    wait_idle(page)
    uploader.set_input_files(files=[{"name": "blobs.csv", "mimeType": "text/csv", "buffer": _csv_points()}])
    page.wait_for_selector('[data-stat="Step"]', timeout=30_000)
    wait_idle(page)
    assert page.evaluate(SPEED) == "25"
    page.get_by_role("button", name="Play").click()     # training keeps it too
    page.wait_for_function("() => parseInt(document.querySelector('[data-stat=\"Step\"]').innerText"
                           ".replace(/,/g, '')) >= 50", timeout=30_000)
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=20_000)
    wait_idle(page)
    assert page.evaluate(SPEED) == "25"
    no_exception(page)
