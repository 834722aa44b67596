"""Every nn/optim code example of /work/shared/seeds runs unchanged under `import vizgrad as torch`.

The examples live in tests/seeds/nn_*.py exactly as the seeds print them (with `import torch`);
`run_seed` rewrites only the import lines to their vizgrad equivalents and executes the file.
"""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import need_torch

SEEDS = Path(__file__).parent / "seeds"
NN_SEEDS = sorted(SEEDS.glob("nn_*.py"))


def rewrite_imports(src: str) -> str:
    """`import torch` -> `import vizgrad as torch`; `import torch.nn as nn` -> `import vizgrad.nn as nn` ..."""
    src = re.sub(r"^(\s*)import torch\.([\w.]+) as (\w+)\s*$", r"\1import vizgrad.\2 as \3", src, flags=re.M)
    src = re.sub(r"^(\s*)import torch\s*$", r"\1import vizgrad as torch", src, flags=re.M)
    src = re.sub(r"^(\s*)from torch(\.[\w.]+)? import", r"\1from vizgrad\2 import", src, flags=re.M)
    return src


def run_seed(path: Path, use_torch: bool = False):
    """Execute a seed file (rewritten for vizgrad unless use_torch); return (namespace, stdout)."""
    src = path.read_text()
    if not use_torch:
        src = rewrite_imports(src)
        assert "import torch" not in src.replace("import vizgrad as torch", "")
    ns = {"__name__": "__main__"}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(src, str(path), "exec"), ns)
    return ns, buf.getvalue()


def test_rewrite_imports():
    src = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom torch import optim\n"
    assert rewrite_imports(src) == ("import vizgrad as torch\nimport vizgrad.nn as nn\n"
                                    "import vizgrad.nn.functional as F\nfrom vizgrad import optim\n")


def test_all_nn_seeds_are_here():
    assert {p.name for p in NN_SEEDS} >= {"nn_xy_to_200.py", "nn_wizard_net.py", "nn_single_linear.py",
                                          "nn_knights_bce_adam.py", "nn_mynet_relu.py"}


@pytest.mark.parametrize("path", NN_SEEDS, ids=[p.stem for p in NN_SEEDS])
def test_seed_runs(path):
    ns, out = run_seed(path)
    import vizgrad
    assert isinstance(ns["torch"], type(vizgrad))


def test_xy_to_200_matches_torch():
    ns, out = run_seed(SEEDS / "nn_xy_to_200.py")
    final = (ns["x"] * ns["y"]).item()
    assert abs(final - 200) < 2.0, final
    need_torch()
    _, ref = run_seed(SEEDS / "nn_xy_to_200.py", use_torch=True)
    assert out == ref  # the same float32 numbers, printed the same way


def test_wizard_net_updates_weights():
    ns, out = run_seed(SEEDS / "nn_wizard_net.py")
    assert out.splitlines()[0] == "tensor([1., 1., 1.])"
    net = ns["net"]
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert all(p.grad is not None for p in net.parameters())
    assert ns["output"].grad_fn.name() == "SigmoidBackward0"
    # SGD moved the weights along -grad: the loss at the same input went down
    new_loss = ns["criterion"](net(ns["inputs"]), ns["target"]).item()
    assert new_loss < ns["loss"].item()


def test_single_linear_step():
    ns, _ = run_seed(SEEDS / "nn_single_linear.py")
    net = ns["net"]
    assert repr(net) == "Net(\n  (fc): Linear(in_features=1, out_features=1, bias=True)\n)"
    assert ns["criterion"](net(ns["input_data"]), ns["target_data"]).item() < ns["loss"].item()


def test_knights_bce_adam_learns():
    ns, _ = run_seed(SEEDS / "nn_knights_bce_adam.py")
    model, crit = ns["model"], ns["criterion"]
    first = None
    import vizgrad as torch
    torch.manual_seed(0)
    final = crit(model(ns["inputs"]), ns["labels"]).item()
    assert final < 0.6931 * 0.8  # well below chance level after 50 Adam steps
    assert repr(model).startswith("Sequential(\n  (0): Linear(in_features=2, out_features=5, bias=True)")


def test_mynet_prints_like_torch():
    ns, out = run_seed(SEEDS / "nn_mynet_relu.py")
    lines = out.splitlines()
    assert lines[0].startswith("Gradient for fc1.weight: tensor([[")
    assert "Updated Parameters:" in lines
    assert lines[-1].startswith("Model Output: tensor([[") and lines[-1].endswith("grad_fn=<AddmmBackward0>)")
    names = [l.split(":")[0] for l in lines if l.startswith(("fc1.", "fc2."))]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
