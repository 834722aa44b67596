"""Helpers for browser tests: wait for Streamlit to settle, take screenshots, check for errors."""
from __future__ import annotations

import time
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def wait_idle(page, settle: float = 0.3) -> None:
    """Wait until Streamlit has finished rerunning the script (its status widget disappears)."""
    page.wait_for_selector('[data-testid="stApp"]')
    time.sleep(settle)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=30_000)
    time.sleep(settle)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_exception(page) -> None:
    """Fail if the page shows a Streamlit exception box or a traceback."""
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]').first.inner_text()
    assert "Traceback" not in page.inner_text("body")
