"""The Code page's runner and model: every seed chapter's and lesson's code runs in the sandbox and
prints what real PyTorch prints; errors are the user's own traceback; the code round-trips the URL;
hosted mode refuses without bubblewrap; local mode runs with limits only.

    nice -n 5 .venv/bin/python -m pytest -q tests/test_sandbox.py

The torch references run the same text as a plain `python -c` with real torch (tests.conftest
need_torch skips them when torch is missing). Hostile programs: tests/test_sandbox_hostile.py.
"""
from __future__ import annotations

import re
import subprocess
import sys

import networkx as nx
import pytest

from tests.conftest import need_torch
from vizgrad.app import code as cp
from vizgrad.app import sandbox
from vizgrad.app.sandbox import Limits

SANDBOXED = sandbox.status().mode == "bubblewrap"  # (the examples also run in local mode; bubblewrap is the claim)


def need_sandbox() -> None:
    """Skip when bubblewrap cannot make a sandbox here (fail under VIZGRAD_REQUIRE_SANDBOX=1, as .ci/run sets)."""
    if sandbox.status().mode != "bubblewrap":
        import os
        why = f"bubblewrap is not available: {sandbox._bwrap_problem()}"
        if os.environ.get("VIZGRAD_REQUIRE_SANDBOX") == "1":
            pytest.fail(why + " (required: VIZGRAD_REQUIRE_SANDBOX=1)")
        pytest.skip(why)


@pytest.fixture
def sandboxed():
    need_sandbox()
EXAMPLES = [e for e in cp.EXAMPLES if e.key != "blank"]
# programs that draw random numbers without torch.manual_seed: torch itself prints other numbers on
# every run (its default generator is seeded at random), so only their words and layout compare
RANDOM = {"nn_mynet_relu"}
NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d*(?:e[+-]?\d+)?|-?\bnan\b|-?\binf\b")  # 0.1234, 0. (all-integer tensors), 1e-05


WARNING = re.compile(r"^(?:<your code>|\S+):\d+: (\w*Warning): (.*?)(?: \(Triggered internally at .*\))?$")


def torch_output(code: str, with_warnings: bool = False):
    """What real torch prints (stdout); with_warnings: also the (category, message) of its warnings."""
    need_torch()
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    if not with_warnings:
        return p.stdout
    return p.stdout, [m.groups() for m in map(WARNING.match, p.stderr.splitlines()) if m]


def split_warnings(output: str):
    """The sandbox's output (stdout and stderr interleaved, as a terminal shows them) as
    (the printed lines, the (category, message) of each warning)."""
    lines, warned = [], []
    for line in output.splitlines(keepends=True):
        m = WARNING.match(line.rstrip("\n"))
        (warned.append(m.groups()) if m else lines.append(line))
    return "".join(lines), warned


def test_the_examples_are_every_seed_and_every_lesson():
    from vizgrad.app.lessons import LESSONS
    keys = [e.key for e in cp.EXAMPLES]
    assert keys[0] == "blank" and cp.EXAMPLES[0].code == "import torch\n\n"
    seeds = sorted(p.stem for p in cp.SEEDS.glob("*.py"))
    assert len(seeds) >= 9 and keys[1:1 + len(seeds)] == seeds
    assert keys[1 + len(seeds):] == [f"lesson:{lesson.id}" for lesson in LESSONS]
    for e in cp.EXAMPLES:
        assert "vizgrad" not in e.code, e.key  # PyTorch code, as a user would paste it
    seed = cp.example("nn_xy_to_200").code
    assert seed == (cp.SEEDS / "nn_xy_to_200.py").read_text()  # verbatim


@pytest.mark.parametrize("key", [e.key for e in EXAMPLES if e.key not in RANDOM])
def test_example_prints_what_pytorch_prints(key, sandboxed):
    code = cp.example(key).code
    r = cp.run_code(code)
    assert r.ok, r.error
    printed, warned = split_warnings(r.output)
    assert (printed, warned) == torch_output(code, with_warnings=True)


@pytest.mark.parametrize("key", sorted(RANDOM))
def test_random_example_prints_the_same_lines_but_its_numbers(key, sandboxed):
    code = cp.example(key).code
    r = cp.run_code(code)
    assert r.ok, r.error
    mask = lambda s: [re.sub(r"\s+", "", NUMBER.sub("#", line)) for line in s.splitlines()]  # widths follow the signs
    assert mask(r.output) == mask(torch_output(code))


def test_xy_seed_lists_its_tensors_and_draws_loss():
    r = cp.run_code(cp.example("nn_xy_to_200").code)
    assert r.ok, r.error
    rows = {row["name"]: row for row in cp.tensor_rows(r)}
    assert list(rows) == ["x", "y", "z", "output", "loss"]
    # the loop ends with optimizer.zero_grad(), which sets .grad to None (as torch does)
    assert rows["x"]["shape"] == "(1,)" and rows["x"][".grad"] == "None" and rows["x"]["grad_fn"] == ""
    assert rows["loss"]["grad_fn"] == "AbsBackward0" and rows["z"]["grad_fn"] == "MulBackward0"
    assert cp.default_choice(r) == "loss"
    g = cp.graph_view(r, "loss")
    assert isinstance(g, nx.DiGraph)
    ops = [d["op"] for _, d in g.nodes(data=True) if d["kind"] == "op"]
    assert ops == ["MulBackward0", "SubBackward0", "AbsBackward0"]
    labels = {d["label"] for _, d in g.nodes(data=True) if d["kind"] == "tensor"}
    assert {"x", "y", "loss"} <= labels
    # the last loss.backward() sent gradients back along every edge into the product
    mul = next(n for n, d in g.nodes(data=True) if d.get("op") == "MulBackward0")
    assert all(e["grad"] is not None for _, _, e in g.in_edges(mul, data=True))


def test_net_seed_lists_its_module_parameters_and_grads():
    r = cp.run_code(cp.example("nn_wizard_net").code)
    assert r.ok, r.error
    assert [m["name"] for m in cp.module_rows(r)] == ["net", "criterion"]
    params = cp.parameter_rows(r, "net")
    assert [p["name"] for p in params] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert params[0]["shape"] == "(2, 3)" and all(p["grad"] != "None" for p in params)
    assert "Linear(in_features=3, out_features=2" in cp.module_repr(r, "net")
    v = cp.graph_view(r, "loss")
    boxes = [d for _, d in v.nodes(data=True) if d["kind"] == "module"]
    full = v.graph.get("full") or v
    assert boxes or full.number_of_nodes() == v.number_of_nodes()  # modules collapse when the graph is big


def test_errors_show_only_the_users_lines():
    code = "import torch\n\nx = torch.ones(2, 3)\nw = torch.ones(2, 2)\ny = x @ w\n"
    r = cp.run_code(code)
    assert not r.ok and r.error_line == 5
    lines = r.error.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1:3] == ['  File "<your code>", line 5, in <module>', "    y = x @ w"]
    assert lines[-1].startswith("RuntimeError: mat1 and mat2 shapes cannot be multiplied")
    for leak in ("vizgrad", "/work", "/root", "site-packages", "sandbox", ".py\""):
        assert leak not in r.error, leak


def test_an_error_inside_a_function_lists_each_user_frame():
    code = "import torch\ndef f(t):\n    return t.view(7)\nf(torch.ones(4))\n"
    r = cp.run_code(code)
    assert [line for line in r.error.splitlines() if line.startswith("  File")] == [
        '  File "<your code>", line 4, in <module>', '  File "<your code>", line 3, in f']
    assert r.error.splitlines()[-1].startswith("RuntimeError: shape '[7]' is invalid for input of size 4")


def test_a_syntax_error_points_at_its_line():
    r = cp.run_code("import torch\nx = torch.ones(2\nprint(x)\n")
    assert not r.ok and r.error.splitlines()[-1].startswith("SyntaxError:")
    assert r.error_line in (2, 3)


def test_an_unsupported_torch_module_is_a_clear_message():
    r = cp.run_code("import torch.distributed\n")
    assert r.error.splitlines()[-1] == "ModuleNotFoundError: No module named 'torch.distributed'"


def test_an_unsupported_torch_function_is_named_as_torch_and_explained():
    r = cp.run_code("import torch.nn as nn\nrnn = nn.GRU(1, 1)\n")
    lines = r.error.splitlines()
    assert lines[-2] == "AttributeError: module 'torch.nn' has no attribute 'GRU'"
    assert lines[-1].startswith("(torch.nn.GRU is not supported here yet")
    assert "vizgrad'" not in r.error and "'vizgrad" not in r.error


def test_the_code_round_trips_the_url():
    for e in cp.EXAMPLES:
        s = cp.encode_code(e.code)
        assert re.fullmatch(r"[A-Za-z0-9_-]+", s) and len(s) < len(e.code) + 20
        assert cp.decode_code(s) == e.code
    assert cp.decode_code(cp.encode_code("print('é ✓')")) == "print('é ✓')"


@pytest.mark.parametrize("bad, says", [
    ("", "no code"), ("!!!", "damaged"), ("abc", "damaged"), ("A" * (cp.MAX_URL_CHARS + 1), "too long"),
])
def test_a_bad_link_says_what_is_wrong(bad, says):
    with pytest.raises(ValueError, match=says):
        cp.decode_code(bad)


def test_a_zip_bomb_link_is_refused():
    import base64
    import zlib
    bomb = base64.urlsafe_b64encode(zlib.compress(b"#" * 5_000_000, 9)).decode().rstrip("=")
    assert len(bomb) < cp.MAX_URL_CHARS
    with pytest.raises(ValueError, match="too long"):
        cp.decode_code(bomb)
    with pytest.raises(ValueError, match="too long to put in a link"):
        cp.encode_code("".join(chr(0x4e00 + (i * 7919) % 20000) for i in range(20000)))


def test_hosted_mode_refuses_without_bubblewrap(monkeypatch):
    monkeypatch.setenv("VIZGRAD_HOSTED", "1")
    monkeypatch.setattr(sandbox, "_bwrap_problem", lambda: "bubblewrap is not installed (test)")
    st = sandbox.status()
    assert st.mode == "refused" and not st.can_run
    assert "VIZGRAD_HOSTED=1" in st.message and "bubblewrap is not installed" in st.message
    r = sandbox.run("print('should not run')")
    assert not r.ok and r.output == "" and r.stopped == "refused" and "switched off" in r.error


def test_local_mode_without_bubblewrap_runs_with_limits_only(monkeypatch):
    monkeypatch.delenv("VIZGRAD_HOSTED", raising=False)
    monkeypatch.setattr(sandbox, "_bwrap_problem", lambda: "bubblewrap is not installed (test)")
    st = sandbox.status()
    assert st.mode == "limits only" and "without a sandbox" in st.message
    r = sandbox.run("import torch\nx = torch.tensor(2.0, requires_grad=True)\ny = x * x\ny.backward()\nprint(x.grad)",
                    pool=None)
    assert r.ok and r.output == "tensor(4.)\n" and r.mode == "limits only"
    r = sandbox.run("while True: pass", Limits(wall_seconds=2, cpu_seconds=1), pool=None)
    assert r.stopped in ("cpu", "wall")


def test_the_bwrap_command_binds_only_what_the_child_needs():
    if sandbox.shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    argv = sandbox.command(61000, Limits())
    binds = [argv[i + 1] for i, a in enumerate(argv) if a == "--ro-bind"]
    assert not any(b == "/" or b.startswith(("/etc", "/home")) or b == "/work" for b in binds), binds
    assert sum(b.endswith("/vizgrad") for b in binds) == 1
    assert not any(b.endswith(("/site-packages", "/pages", "/tests")) for b in binds)
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in argv


def test_a_checked_graph_refuses_bad_data():
    good = {"directed": True, "multigraph": False, "graph": {}, "links": [], "nodes": [
        {"id": "t0", "kind": "tensor", "label": "x", "value": {"__ndarray__": [1.0, 2.0], "dtype": "float32", "shape": [2]}}]}
    g = sandbox._checked_graph(good)
    assert g.nodes["t0"]["value"].tolist() == [1.0, 2.0]
    bad_dtype = {**good, "nodes": [{**good["nodes"][0], "value": {"__ndarray__": [1], "dtype": "object", "shape": [1]}}]}
    bad_shape = {**good, "nodes": [{**good["nodes"][0], "value": {"__ndarray__": [1.0], "dtype": "float32", "shape": [10 ** 9]}}]}
    bad_edge = {**good, "links": [{"source": "t0", "target": "nowhere"}]}
    for bad in (bad_dtype, bad_shape, bad_edge, {"nodes": "x"}, [], {**good, "nodes": [{"id": 3}]}):
        with pytest.raises(ValueError):
            sandbox._checked_graph(bad)


def test_the_walkthrough_can_walk_a_code_graph():
    from vizgrad.graph.steps import walk_graph
    q = cp.walkthrough_query(cp.example("nn_xy_to_200").code, "loss")
    g, title, error = cp.graph_from_query(q)
    assert error is None and title == "your code: loss"
    steps = walk_graph(g)
    assert [s.op for s in steps] == ["MulBackward0", "SubBackward0", "AbsBackward0", "AbsBackward0", "SubBackward0",
                                    "MulBackward0"]  # forward, then backward in reverse
    assert steps[0].title.startswith("output = x × y = ")
    g, _, error = cp.graph_from_query({**q, "var": "nope"})
    assert g is None and "no tensor called 'nope'" in error and "loss" in error
    g, _, error = cp.graph_from_query({"code": "!!", "var": "loss"})
    assert g is None and "damaged" in error
