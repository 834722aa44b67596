"""Real-browser test fixtures: a `streamlit run app.py` server on a loopback port, and Debian's
Chromium driven by Playwright (never `playwright install`: it downloads a browser).

Without Chromium or Playwright these tests skip and say why; under VIZGRAD_REQUIRE_BROWSER=1
(set by .ci/run) a missing browser fails them instead. Screenshots go to tests/artifacts/.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.stclient import serve

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def _missing(reason: str):
    if os.environ.get("VIZGRAD_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (required: VIZGRAD_REQUIRE_BROWSER=1)")
    pytest.skip(f"{reason}: browser test skipped")


@pytest.fixture(scope="session")
def app_url():
    """Start the app once per session; yield its base URL; stop it by PID."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        with serve(ARTIFACTS / "streamlit-server.log") as (url, _proc):
            yield url
    except RuntimeError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[dev]')")
    if not os.path.exists(CHROMIUM):
        _missing("Chromium is not installed (apt-get install chromium chromium-driver)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.app_url = app_url
    pg.js_errors = errors
    yield pg
    ctx.close()
