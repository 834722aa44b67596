"""Hostile text in shared links, as a visitor's browser renders it: the app's own message boxes
show it as literal text, with no link or image inside (markdown, HTML, LaTeX and GFM's bare-URL
autolinks included)."""
from urllib.parse import quote

import pytest

from browser_utils import no_exception, shot, wait_idle

# under 200 characters (longer URL values are refused before anything quotes them)
PAYLOAD = (":red[**SECURITY ALERT**] [verify](https://evil.example/phish) ![x](https://evil.example/i.png) "
           "<img src=x onerror=alert(1)> $x^2$ www.evil.example admin@evil.example")
LINKS = [("network", "data"), ("network", "act"), ("network", "loss"), ("network", "features"),
         ("walkthrough", "lesson"), ("walkthrough", "net"), ("playground", "expr")]


@pytest.mark.parametrize("page_path, key", LINKS)
def test_hostile_url_text_is_shown_literally(page, page_path, key):
    page.goto(f"{page.app_url}/{page_path}?{key}={quote(PAYLOAD)}")
    page.wait_for_selector('[data-testid="stAlert"]', timeout=60_000)
    wait_idle(page)
    no_exception(page)
    alerts = page.locator('[data-testid="stAlert"]')
    shown = " ".join(alerts.all_inner_texts()).replace("\u2060", "")  # the invisible joiner plain() puts in URLs
    if key != "expr":  # the expression language names the bad character instead of quoting the text
        assert "SECURITY ALERT" in shown and "https://evil.example/phish" in shown, shown
    assert page.locator('[data-testid="stAlert"] a, [data-testid="stAlert"] img').count() == 0
    assert page.locator('[data-testid="stAlert"] .katex, [data-testid="stAlert"] [class*="Colored"]').count() == 0
    assert page.locator('a[href*="evil.example"], img[src*="evil.example"]').count() == 0
    if key in ("data", "lesson"):
        shot(page, f"hostile_{page_path}_{key}")
