"""A public page asks no third-party host for anything: every request a visit makes (fonts, icons,
scripts, telemetry, the figures' libraries) goes to the app's own server.

Records every request Chromium makes while each page loads and is used a little, and fails on any
whose host is not the app's. (Chromium runs with background networking off, so what is left is
what the page itself asks for.)
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.browser_utils import wait_idle

VISITS = ["", "playground?expr=sum(tanh(W%40v%2Bb)**2)", "walkthrough?expr=x**2%2By**3&step=3",
          "network", "lessons", "code"]


@pytest.mark.parametrize("path", VISITS, ids=["home", "playground", "walkthrough", "network", "lessons", "code"])
def test_a_visit_requests_only_the_apps_own_host(page, path):
    own = urlsplit(page.app_url).netloc
    asked: list[str] = []
    page.on("request", lambda req: asked.append(req.url))
    page.goto(f"{page.app_url}/{path}")
    wait_idle(page)
    if path == "code":  # run the seed program: its output, tensors and graph are drawn too
        page.get_by_role("button", name="Run").click()
        wait_idle(page)
    page.mouse.wheel(0, 2000)  # lazily loaded parts of the page
    wait_idle(page)
    foreign = sorted({u for u in asked if urlsplit(u).scheme in ("http", "https", "ws", "wss")
                      and urlsplit(u).netloc != own})
    assert asked, "the page made no request at all: the recorder is not working"
    assert foreign == [], f"third-party requests: {foreign[:10]}"
