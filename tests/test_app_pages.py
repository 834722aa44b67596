"""Every page runs under Streamlit's AppTest, reached through the app's navigation, without an
exception (per-page behaviour lives in each page's own test file)."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages._common import PAGES as REGISTRY

ROOT = Path(__file__).resolve().parents[1]
PAGES = [p.path for p in REGISTRY]


def open_page(path: str) -> AppTest:
    """The app as a user reaches `path`: run the entry script, then switch to the page."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    if path != REGISTRY[0].path:
        at.switch_page(path).run()
    return at


def test_entry_script_opens_home():
    at = open_page("pages/home.py")
    assert not at.exception
    assert any("vizgrad" in t.value for t in at.title)


@pytest.mark.parametrize("path", PAGES)
def test_page_runs_without_exception(path):
    at = open_page(path)
    assert not at.exception, at.exception


def test_home_graph_carries_gradients():
    at = open_page("pages/home.py")
    spec = at.get("plotly_chart")[0].proto.spec
    assert "27" in spec and "31" in spec


def test_home_links_every_other_page():
    at = open_page("pages/home.py")
    linked = [(el.proto.page, el.proto.label) for el in at.get("page_link")]
    assert linked == [(p.url_path, p.title) for p in REGISTRY[1:]]
