"""The Walkthrough page under links meant to harm (issue 11): markdown/HTML/LaTeX injection through
lesson=, net= and expr=, work repeated on every rerun, and a session's walk outliving the session."""
import gc
import weakref
from pathlib import Path

import pytest
from streamlit.runtime import caching
from streamlit.testing.v1 import AppTest

from vizgrad.app.markdown import plain
from vizgrad.graph.format import tex_name
from vizgrad.app import walkthrough as ws

ROOT = Path(__file__).resolve().parents[1]
SEED = {"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"}
APPTEST_SESSION = "test session id"      # what AppTest's script runner calls its session


def open_walkthrough(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page("pages/walkthrough.py").run()
    assert not at.exception, at.exception
    return at


def bodies(at) -> list[str]:
    """Every text the page hands to Streamlit's markdown renderer: markdown, alerts, captions, widget
    labels, table cells."""
    out = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        out += [e.value for e in getattr(at, kind)]
    out += [w.label for w in at.text_input] + [w.label for w in at.selectbox] + [w.label for w in at.slider]
    for t in at.table:
        out += [str(v) for v in t.value.to_numpy().ravel()]
    return out


# ---- injection -------------------------------------------------------------------------------------
PAYLOADS = [
    ":red[**SECURITY ALERT**] [verify your account](https://evil.example/phish)",
    "[a](https://evil.example)",
    "![i](https://evil.example/i.png)",
    "<img src=x onerror=alert(1)>",
    "<b>x</b>",
    "$\\href{https://evil.example}{x}$",
    "`code` *em* _u_ &amp; \\",
]
# what must never reach a renderer unescaped
DANGEROUS = [":red[", "](", "![", "[a]", "[verify", "<img", "<b>", "</b>", "$\\href", "$", "**SECURITY", "&amp;",
             "`code`"]


def unescaped(body: str, frag: str) -> bool:
    """Whether `frag` occurs in `body` with its first character not backslash-escaped."""
    i = body.find(frag)
    while i >= 0:
        slashes = len(body[:i]) - len(body[:i].rstrip("\\"))
        if slashes % 2 == 0:
            return True
        i = body.find(frag, i + 1)
    return False


def test_unescaped():
    assert unescaped("a [b", "[b") and not unescaped("a \\[b", "[b") and unescaped("a \\\\[b", "[b")
    assert not unescaped(plain(PAYLOADS[0]), ":red[") and not unescaped(plain("<img"), "<img")


def assert_only_escaped(at, payload: str, shown: bool):
    assert not at.exception, at.exception
    found = bodies(at)
    for body in found:
        for frag in DANGEROUS:
            if frag in payload:
                assert not unescaped(body, frag), (frag, body)
    if shown:  # the payload is displayed, as typed: the escaped text is in some element
        assert any(plain(payload) in body for body in found), found


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("param", ["lesson", "net"])
def test_lesson_and_net_names_are_shown_as_typed(param, payload):
    at = open_walkthrough({param: payload})
    assert_only_escaped(at, payload, shown=True)
    # the error box's markdown is exactly the message, escaped
    assert [e.value for e in at.error] == [plain(ws.prepare(ws.from_query({param: payload})).error)]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_expression_text_values_and_variable_names_are_shown_as_typed(payload):
    for query in ({"expr": payload}, {"expr": "x + 1", "v.x": payload}, {"expr": f"x + {payload}", "v.x": "1"},
                  {"expr": "x**", "v.x": "1", f"v.{payload}": "2"}):   # an unparsed expression keeps v.* names
        at = open_walkthrough(query)
        assert_only_escaped(at, payload, shown=False)


def test_a_variable_name_from_the_url_is_an_escaped_widget_label():
    payload = ":red[**SECURITY ALERT**]"
    at = open_walkthrough({"expr": "x**", "v.x": "1", f"v.{payload}": "2"})
    assert f"{plain(payload)} =" in [w.label for w in at.text_input]


def test_a_valid_expression_and_its_steps_are_shown_as_typed():
    expr = "sum(a_b[:2]*c*d) + 1"            # * and _ and [ ] would be emphasis/links in markdown
    at = open_walkthrough({"expr": expr, "v.a_b": "[1,2,3]", "v.c": "2", "v.d": "3"})
    assert not at.exception and not at.error
    assert any(plain(f"f = {expr}") in b for b in bodies(at))
    for k in range(1, int(at.slider(key="wt_slider").max) + 1):
        at.slider(key="wt_slider").set_value(k).run()
        assert not at.exception
        for body in bodies(at):
            assert "a_b" not in body and "c*d" not in body and "[:2]" not in body, body  # only a\_b, c\*d, \[\:2\]
        assert all("a_b" not in x.value for x in at.latex)           # LaTeX: a\_b
    assert any(r"a\_b" in x.value for x in at.latex)


@pytest.mark.parametrize("label", ["$\\href{https://evil.example}{x}$", "a_b", "x^2", "{x}", "100%", "#1 & ~"])
def test_latex_labels_are_escaped(label):
    # labels reach st.latex through vizgrad.graph.format.tex_name (expression variables are ASCII identifiers,
    # so only _ occurs there today; anything else must not become LaTeX either)
    tex = tex_name(label)
    for macro in (r"\backslash{}", r"\text{\textasciicircum}", r"\text{\textasciitilde}"):
        tex = tex.replace(macro, "")
    assert not [ch for i, ch in enumerate(tex) if ch in "${}%#&_^~\\" and not (
        (i > 0 and tex[i - 1] == "\\") or (ch == "\\" and i + 1 < len(tex) and tex[i + 1] in "${}%#&_"))], tex
    assert "\\href" not in tex


# ---- reruns reuse the walk ---------------------------------------------------------------------------
def counting(monkeypatch, name, made=None):
    calls = []
    real = getattr(ws, name)

    def wrapper(*a, **k):
        calls.append(1)
        out = real(*a, **k)
        if made is not None:
            made.append(weakref.ref(out))
        return out
    monkeypatch.setattr(ws, name, wrapper)
    return calls


def test_reruns_do_not_rebuild_the_source_or_the_walk(monkeypatch):
    built, walked = counting(monkeypatch, "from_query"), counting(monkeypatch, "prepare")
    at = open_walkthrough(SEED)
    at.button(key="wt_next").click().run()
    at.button(key="wt_next").click().run()
    at.button(key="wt_prev").click().run()
    at.slider(key="wt_slider").set_value(6).run()
    at.toggle(key="wt_focus").set_value(True).run()
    assert not at.exception
    assert (len(built), len(walked)) == (1, 1)
    at.text_input(key="wt_expr").set_value("a*b").run()      # a new source: built once more
    assert not at.exception and (len(built), len(walked)) == (2, 2)


def test_a_sessions_walk_is_freed_when_the_session_disconnects(monkeypatch):
    made = []
    counting(monkeypatch, "prepare", made)
    at = open_walkthrough({"expr": "sum(x*x + x)", "v.x": "[1,2,3,4]"})
    at.button(key="wt_next").click().run()
    at.slider(key="wt_slider").set_value(at.slider(key="wt_slider").max).run()
    assert not at.exception and made and made[-1]() is not None
    gc.collect()
    gc.disable()
    try:
        caching.clear_session_resource_cache(APPTEST_SESSION)   # what Streamlit does on disconnect
        alive = [r for r in made if r() is not None]
    finally:
        gc.enable()
    assert not alive          # freed by reference counting, while the session's state still exists
    assert at.session_state["wt_query"]
