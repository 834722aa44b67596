"""Network Playground live-update rate: UI updates per second while Play trains, in a real Chromium.

    .venv/bin/python bench/ui_rate.py            # five 3-s windows
    .venv/bin/python bench/ui_rate.py --quick    # two 2-s windows

Starts `streamlit run app.py` on a free loopback port (tests/stclient.serve), opens /network in
Debian's Chromium through Playwright (the executable and arguments of tests/browser/conftest.py;
never `playwright install`), presses Play and counts how often the displayed step counter changes
(one change = one redraw of the live panel: stats, network, output, curves) and how far it
advances (training steps per second). The figures are the medians over the windows, printed with
each window beside the targets. Needs chromium and
playwright (pip install -e '.[dev]'); the functional checks of the page stay in
tests/browser/test_network_browser.py.
Targets, at the page's defaults: >= 5 UI updates per second (the page asks for one every 0.05 s;
the browser's redraw and the fragment's round trip are what limit it) and >= 200 training steps
per second, so that circles is solved within a few seconds of pressing Play: printed too, the
seconds from the click on Play until the page shows a test accuracy of at least 95%.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tests.browser.browser_utils import wait_idle  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.stclient import serve  # noqa: E402

TARGET = 5.0          # UI updates per second
SOLVED = 0.95         # test accuracy that counts as "circles solved"
STEPS_TARGET = 200.0  # training steps per second, at the page's defaults

# counts the changes of the step counter during `ms` milliseconds (polled every 10 ms), and how far it went
COUNT_CHANGES = """(ms) => new Promise(done => {
    const el = () => document.querySelector('[data-stat="Step"]');
    const num = v => parseInt((v || '0').replace(/,/g, ''));
    let last = el() && el().innerText, n = 0;
    const first = num(last);
    const t = setInterval(() => { const v = el() && el().innerText; if (v !== last) { n++; last = v; } }, 10);
    setTimeout(() => { clearInterval(t); done([n, num(last) - first]); }, ms);
})"""


# the test accuracy the page shows, as a fraction (0 before the first evaluation is drawn)
TEST_ACC = """() => { const el = document.querySelector('[data-stat="Test accuracy"]');
    return el ? parseFloat(el.innerText) / 100 : 0; }"""


def measure(url: str, windows: int, seconds: float) -> tuple[float, list[tuple[float, float]]]:
    """Seconds from Play to a shown test accuracy >= SOLVED, then (UI updates per second, training
    steps per second) in each of `windows` consecutive windows while playing."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
            page.goto(f"{url}/network")
            page.wait_for_selector('[data-stat="Step"]', timeout=60_000)
            page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot', timeout=60_000)
            wait_idle(page)
            t0 = time.perf_counter()
            page.get_by_role("button", name="Play").click()
            page.wait_for_function(f"() => ({TEST_ACC})() >= {SOLVED}", timeout=60_000, polling=20)
            solved = time.perf_counter() - t0
            return solved, [tuple(v / seconds for v in page.evaluate(COUNT_CHANGES, seconds * 1000))
                            for _ in range(windows)]
        finally:
            browser.close()


def main():
    quick = "--quick" in sys.argv
    windows, seconds = (2, 2.0) if quick else (5, 3.0)
    if not os.path.exists(CHROMIUM):
        sys.exit(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium chromium-driver)")
    with serve() as (url, _proc):
        solved, windows_seen = measure(url, windows, seconds)
    rates, steps = [w[0] for w in windows_seen], [w[1] for w in windows_seen]
    print(f"UI updates per second while playing ({windows} windows of {seconds:g} s): "
          + ", ".join(f"{r:.1f}" for r in rates))
    print(f"median {statistics.median(rates):.1f}/s, best {max(rates):.1f}/s   (target >= {TARGET:g}/s)")
    print("training steps per second shown: " + ", ".join(f"{r:.0f}" for r in steps))
    print(f"median {statistics.median(steps):.0f}/s, best {max(steps):.0f}/s   (target >= {STEPS_TARGET:g}/s)")
    print(f"circles solved (test accuracy >= {SOLVED:.0%} shown) {solved:.1f} s after pressing Play")


if __name__ == "__main__":
    main()
