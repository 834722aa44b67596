"""The Walkthrough steps through the graph of a tensor made by the user's own code (the Code page's
link: code=<compressed program>&var=<name>), run in the sandbox and returned as data."""

from vizgrad.app import code as cp
from vizgrad.app import walkthrough as ws
from tests.test_walkthrough_page import open_walkthrough

PROGRAM = """import torch
x = torch.tensor(3.0, requires_grad=True)
y = torch.tensor(2.0, requires_grad=True)
loss = (x * y - 4) ** 2
loss.backward()
"""


def test_the_walkthrough_of_a_code_link_steps_through_its_graph_with_torchs_numbers():
    src = ws.from_query(cp.walkthrough_query(PROGRAM, "loss"))
    assert src.ok and src.kind == "code", src.error
    w = ws.prepare(src)
    assert w.ok, w.error
    # forward: mul, sub, pow; backward in reverse
    assert [s.op for s in w.steps] == ["MulBackward0", "SubBackward0", "PowBackward0",
                                       "PowBackward0", "SubBackward0", "MulBackward0"]
    # d/dx (xy-4)^2 = 2(xy-4) y = 8, d/dy = 2(xy-4) x = 12 (what torch prints for this program)
    rows = ws.running_grads(w, w.n - 1)
    text = " ".join(str(v) for r in rows for v in r.values())
    assert "8" in text and "12" in text, rows
    assert ws.query_key(src.query) == ws.query_key(cp.walkthrough_query(PROGRAM, "loss"))


def test_a_code_link_naming_a_missing_tensor_or_a_broken_program_is_a_message():
    src = ws.from_query(cp.walkthrough_query(PROGRAM, "nope"))
    assert not src.ok and "no tensor called 'nope'" in src.error
    src = ws.from_query({"code": "!!not-a-program", "var": "loss"})
    assert not src.ok and src.error


def test_the_page_opens_a_code_link():
    at = open_walkthrough(cp.walkthrough_query(PROGRAM, "loss"))
    assert at.slider(key="wt_slider").max == 6  # six steps, as the model walks it
    at.button(key="wt_next").click().run()
    assert not at.exception and at.slider(key="wt_slider").value == 2
    # a code graph has no expression to edit: the page offers to type one instead (no x =, y = boxes)
    assert not [t for t in at.text_input if t.key in ("wt_expr", "wt_v_x", "wt_v_y")]
    assert any("Type your own expression" in b.label for b in at.button)
    assert not at.error, [e.value for e in at.error]
    shown = [m.value or "" for kind in (at.markdown, at.caption, at.title, at.header, at.subheader) for m in kind]
    assert any("your code" in t for t in shown), shown
