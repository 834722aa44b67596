"""The Code page under AppTest: examples, Run, output, tensors and modules, the graph, errors, links.

    nice -n 5 .venv/bin/python -m pytest -q tests/test_code_page.py

Runs go through the real sandbox (vizgrad.app.sandbox); without bubblewrap they run in local
mode (limits only), which the page says.
"""
import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from vizgrad.app import code as cp
from vizgrad.app import sandbox

ROOT = Path(__file__).resolve().parents[1]


def open_code(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/code.py").run()
    assert not at.exception, at.exception
    return at


def codes(at) -> list[str]:
    return [c.value for c in at.code]


def output(at) -> str:
    """The printed output as the page shows it (st.code drops the final newline, as a terminal would)."""
    return at.code[0].value + "\n"


def chart_labels(at) -> str:
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    return json.dumps(spec["data"])


def test_the_page_is_in_the_registry():
    from pages._common import page
    assert page("code").path == "pages/code.py"


def test_it_opens_with_the_xy_seed_run_and_its_loss_drawn():
    at = open_code()
    assert at.text_area[0].value == cp.example("nn_xy_to_200").code
    out = output(at)
    assert out.startswith("x: tensor([13.0318], requires_grad=True)\ny: tensor([15.4174], requires_grad=True)\n")
    table = at.dataframe[0].value
    assert list(table["name"]) == ["x", "y", "z", "output", "loss"]
    assert list(table["grad_fn"])[-1] == "AbsBackward0"
    assert at.selectbox(key="cd_pick").value == "loss"
    assert len(at.get("plotly_chart")) == 1 and "loss" in chart_labels(at)
    assert at.query_params["code"] and cp.decode_code(at.query_params["code"]) == at.text_area[0].value


def test_an_example_loads_and_runs_and_its_module_is_inspected():
    at = open_code()
    at.selectbox(key="cd_example").set_value("nn_wizard_net").run()
    assert not at.exception, at.exception
    assert at.text_area[0].value == cp.example("nn_wizard_net").code
    assert output(at).startswith("tensor([1., 1., 1.])\n")
    mods = at.dataframe[1].value
    assert list(mods["name"]) == ["net", "criterion"]
    assert at.selectbox(key="cd_module").value == "net"
    params = at.dataframe[2].value
    assert list(params["name"]) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert all(g != "None" for g in params["grad"])
    assert any("Linear(in_features=3, out_features=2" in c for c in codes(at))


def test_a_lesson_is_edited_rerun_and_restored_with_one_click():
    at = open_code()
    at.selectbox(key="cd_example").set_value("lesson:backward").run()
    original = cp.example("lesson:backward").code
    assert at.text_area[0].value == original and "Gradient of x:  tensor(4.)" in output(at)
    assert at.button(key="cd_restore").disabled  # nothing edited yet
    at.text_area[0].input(original.replace("torch.tensor(2.0", "torch.tensor(5.0"))
    at.button(key="cd_run").click().run()
    assert "Gradient of x:  tensor(10.)" in output(at)
    assert not at.button(key="cd_restore").disabled
    at.button(key="cd_restore").click().run()
    assert at.text_area[0].value == original and "Gradient of x:  tensor(4.)" in output(at)


def test_your_own_code_runs_and_another_tensor_is_drawn():
    at = open_code()
    at.text_area[0].input("import torch\na = torch.tensor(2.0, requires_grad=True)\nb = a * a + 1\nb.backward()\n"
                          "print(a.grad)\n")
    at.button(key="cd_run").click().run()
    assert not at.exception, at.exception
    assert output(at) == "tensor(4.)\n"
    assert list(at.dataframe[0].value["name"]) == ["a", "b"]
    assert at.selectbox(key="cd_pick").value == "b"
    at.selectbox(key="cd_pick").set_value("a").run()
    assert not at.exception and len(at.get("plotly_chart")) == 1


def test_committing_the_editor_runs_it_as_ctrl_enter_does():
    at = open_code()
    at.text_area[0].input("print(sum(range(10)))\n").run()  # Ctrl+Enter commits the text area: no Run click
    assert not at.exception and output(at) == "45\n"


def test_an_error_is_the_users_traceback_and_the_page_stays_usable():
    at = open_code()
    at.text_area[0].input("import torch\nx = torch.ones(2, 3)\ny = x @ torch.ones(2, 2)\n")
    at.button(key="cd_run").click().run()
    assert not at.exception, at.exception
    assert "line 3" in at.error[0].value
    tb = codes(at)[-1]
    assert tb.splitlines()[1:3] == ['  File "<your code>", line 3, in <module>', "    y = x @ torch.ones(2, 2)"]
    assert "vizgrad" not in tb and "/work" not in tb
    assert list(at.dataframe[0].value["name"]) == ["x"]  # what it made before the error
    at.text_area[0].input("print('fine again')\n")
    at.button(key="cd_run").click().run()
    assert output(at) == "fine again\n" and not at.error


def test_the_output_is_shown_exactly_blank_lines_and_indents_kept():
    at = open_code()
    at.text_area[0].input("print()\nprint('  indented')\nprint('    more')\n")
    at.button(key="cd_run").click().run()
    assert output(at) == "\n  indented\n    more\n"


def test_a_link_reopens_and_reruns_its_code():
    src = "import torch\nw = torch.tensor([1.0, 2.0], requires_grad=True)\nloss = (w ** 2).sum()\nloss.backward()\nprint(w.grad)\n"
    at = open_code({"code": cp.encode_code(src)})
    assert at.text_area[0].value == src
    assert output(at) == "tensor([2., 4.])\n"
    assert at.selectbox(key="cd_pick").value == "loss"


def test_a_hostile_link_is_contained_and_says_why():
    at = open_code({"code": cp.encode_code("print(open('/etc/passwd').read())\n")})
    assert not at.exception
    assert "root:" not in "\n".join(codes(at))
    assert codes(at)[-1].splitlines()[-1].startswith("FileNotFoundError")


def test_a_damaged_link_says_so():
    at = open_code({"code": "not*valid"})
    assert any("damaged" in e.value for e in at.error)
    assert at.text_area[0].value == cp.example("nn_xy_to_200").code  # the page still works


def test_hosted_without_bubblewrap_refuses_and_says_why(monkeypatch):
    monkeypatch.setenv("VIZGRAD_HOSTED", "1")
    monkeypatch.setattr(sandbox, "_bwrap_problem", lambda: "bubblewrap is not installed (test)")
    at = open_code()
    assert any("VIZGRAD_HOSTED=1" in e.value and "bubblewrap is not installed" in e.value for e in at.error)
    assert at.button(key="cd_run").disabled
    assert not at.dataframe and not at.get("plotly_chart")


def test_local_mode_says_it_runs_without_a_sandbox(monkeypatch):
    monkeypatch.delenv("VIZGRAD_HOSTED", raising=False)
    monkeypatch.setattr(sandbox, "_bwrap_problem", lambda: "bubblewrap is not installed (test)")
    at = open_code()
    assert any("without a sandbox" in w.value for w in at.warning)
    assert output(at).startswith("x: tensor([13.0318]")
