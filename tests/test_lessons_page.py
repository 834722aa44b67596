"""Lessons page under AppTest: every lesson, its code, its output and its walkthrough link."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from vizgrad.app.lessons import LESSONS

ROOT = Path(__file__).resolve().parents[1]


def open_lessons() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/lessons.py").run()
    assert not at.exception, at.exception
    return at


def test_every_lesson_with_its_code_output_and_graph():
    at = open_lessons()
    assert [s.value for s in at.subheader] == [lesson.title for lesson in LESSONS]
    codes = [c.value.strip() for c in at.code]
    for lesson in LESSONS:
        assert lesson.source.strip() in codes, lesson.id
        outputs = [c for c in codes if all(e in c for e in lesson.expect)]
        assert outputs, f"{lesson.id}: output with {lesson.expect} not shown"
    assert not at.error
    charts = at.get("plotly_chart")
    assert len(charts) == len(LESSONS) + 1          # one graph each, plus the x*y -> 200 loss curve


def test_seed_lines_are_on_the_page():
    text = "\n".join(c.value for c in open_lessons().code)
    for line in ("Gradient of x:  tensor(4.)", "tensor([1., 1., 1.])", "Gradient of b: None", "x.grad = tensor(12.)"):
        assert line in text


def test_each_graph_says_which_moment_it_shows():
    at = open_lessons()
    texts = [m.value for m in at.markdown]
    for lesson in LESSONS:
        assert f"**The graph it built**, {lesson.moment}" in texts, lesson.id
    # the retain_grad lesson reads h2.grad on purpose: the warning PyTorch prints is shown too
    assert any("Warned: UserWarning" in c.value and "not a leaf" in c.value for c in at.caption)


def test_every_lesson_links_its_code_to_the_code_page():
    from streamlit.testing.v1 import AppTest
    from vizgrad.app.code import decode_code
    from vizgrad.app.lessons import LESSONS
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/lessons.py").run()
    assert not at.exception
    links = [el for el in at.get("page_link") if "Edit and run" in el.proto.label]
    assert len(links) == len(LESSONS)
    from urllib.parse import parse_qs
    assert {el.proto.page for el in links} == {"code"}
    codes = [decode_code(parse_qs(el.proto.query_string)["code"][0]) for el in links]
    assert codes == [lesson.source for lesson in LESSONS]



def test_each_graph_is_the_screen_view_with_the_lessons_nodes_highlighted():
    import json
    from vizgrad.app.lessons import drawn_graph, highlighted, run
    at = open_lessons()
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    graphs = {}
    for s in specs:
        nodes = next((t for t in s["data"] if t.get("name") == "nodes"), None)
        if nodes is not None:
            graphs[frozenset(nodes["customdata"])] = s
    for lesson in (x for x in LESSONS if x.highlight):
        g = drawn_graph(run(lesson))
        assert highlighted(lesson, g), lesson.id
        spec = graphs[frozenset(g)]           # the lesson's own graph, whole (small: screen_graph opens it so)
        assert any(t.get("name") == "highlighted" for t in spec["data"]), lesson.id
        assert spec["layout"]["width"] >= 320  # natural size (screen_figures), not squeezed to the column
