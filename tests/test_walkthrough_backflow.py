"""The Walkthrough's "Play the whole backward pass": the model's animated figure, and the page's toggle."""
import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from vizgrad.app import walkthrough as ws

ROOT = Path(__file__).resolve().parents[1]
SEED = {"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"}


def test_backward_figure_animates_the_whole_pass_and_keeps_no_graph():
    w = ws.prepare(ws.from_query({"expr": "a*a + a", "v.a": "3"}))
    (fig, _), = ws.backward_figure(w)
    assert fig._vizgrad["graph"] is None
    assert fig.layout.updatemenus[0].buttons[0].method == "animate"
    assert len(fig.frames) == len(fig.layout.sliders[0].steps) >= 6
    last = [t for t in fig.frames[-1].data if t.name == "node grads"][0]
    assert "grad 7" in last.text  # d(a*a + a)/da at a=3: 2a + 1


def test_the_toggle_shows_the_animated_figure():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    for k, v in SEED.items():
        at.query_params[k] = v
    at.switch_page("pages/walkthrough.py").run()
    assert not at.exception, at.exception
    at.toggle(key="wt_backflow").set_value(True).run()
    assert not at.exception, at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    assert spec["frames"] and spec["layout"]["updatemenus"][0]["buttons"][0]["method"] == "animate"
    at.toggle(key="wt_backflow").set_value(False).run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert not spec.get("frames")


def test_the_animation_is_drawn_once_per_walk_and_setting(monkeypatch):
    """Stepping with the animation open shows the same figure without drawing it again; a new
    setting (dark) or closing and reopening draws it anew, and what is shown is what a fresh draw
    gives."""
    calls = []
    draw = ws.backward_figure
    monkeypatch.setattr(ws, "backward_figure", lambda *a, **k: calls.append(k.get("theme")) or draw(*a, **k))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    for k, v in SEED.items():
        at.query_params[k] = v
    at.switch_page("pages/walkthrough.py").run()
    at.toggle(key="wt_backflow").set_value(True).run()
    first = at.get("plotly_chart")[0].proto.spec
    for _ in range(3):
        at.button(key=[b.key for b in at.button if b.label == "Next"][0]).click().run()
        assert not at.exception, at.exception
        assert at.get("plotly_chart")[0].proto.spec == first
    assert calls == ["light"]
    at.toggle(key="wt_dark").set_value(True).run()
    assert calls == ["light", "dark"]
    dark = json.loads(at.get("plotly_chart")[0].proto.spec)
    (fresh, _), = draw(ws.prepare(ws.from_query(SEED)), theme="dark")
    assert dark["layout"]["paper_bgcolor"] == fresh.layout.paper_bgcolor and len(dark["frames"]) == len(fresh.frames)
    at.toggle(key="wt_backflow").set_value(False).run()
    at.toggle(key="wt_backflow").set_value(True).run()
    assert calls == ["light", "dark", "dark"]
