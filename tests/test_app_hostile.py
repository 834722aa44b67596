"""Untrusted input through the URL: every page shows a message, never a traceback."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages._common import HOME
from pages._common import PAGES as REGISTRY

ROOT = Path(__file__).resolve().parents[1]

HOSTILE = [
    {"expr": "__import__('os').system('id')"},
    {"expr": "x" * 100_000},
    {"expr": "(" * 5000 + "x" + ")" * 5000, "v.x": "1"},
    {"expr": "9**9**9**9"},
    {"expr": "x @ x @ x", "v.x": "[[1]*100000]"},
    {"expr": "x", "v.x": "[" * 3000},
    {"expr": "ｘ＋１"},
    {"expr": "x", "v.x": "nan", "ng": "x,,,"},
    {"step": "-5", "expr": "x**2", "v.x": "2"},
    {"step": "999999999999999999999", "expr": "x**2", "v.x": "2"},
    {"lesson": "../../etc/passwd"},
    {"net": "nope"},
    {"dataset": "spiral' OR 1=1", "hidden": "99,99,99,99,99,99,99,99", "lr": "1e309", "seed": "-1"},
    {"features": "x1,rm -rf", "batch": "0", "act": "evil"},
]
PAGES = [p.path for p in REGISTRY if p is not HOME]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("query", HOSTILE, ids=lambda q: ",".join(f"{k}={str(v)[:12]}" for k, v in q.items()))
def test_hostile_url_never_raises(page, query):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(query)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, (page, query, at.exception)
