"""`python -m vizgrad.as_torch` and as_torch.install(): PyTorch imports resolve to vizgrad modules."""
import subprocess
import sys

PROGRAM = """
import torch, torch.nn as nn, torch.nn.functional as F
from torch import optim
from torch.autograd import grad
import vizgrad
print(torch is vizgrad, nn is vizgrad.nn, F is vizgrad.nn.functional, optim is vizgrad.optim)
print(vizgrad.__spec__.name, torch.nn.__name__)
try:
    import torch.not_a_submodule
except ModuleNotFoundError as e:
    print(e)
"""


def run(*args):
    return subprocess.run([sys.executable, "-m", "vizgrad.as_torch", *args], capture_output=True, text=True,
                          timeout=120)


def test_program_file_sees_vizgrad_as_torch(tmp_path):
    path = tmp_path / "prog.py"
    path.write_text(PROGRAM)
    r = run(str(path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["True True True True", "vizgrad vizgrad.nn",
                                     "No module named 'torch.not_a_submodule'"]


def test_dash_c_and_exit_status():
    assert run("-c", "import torch; print(torch.ones(2).sum().item())").stdout == "2.0\n"
    r = run("-c", "import torch; raise SystemExit(3)")
    assert r.returncode == 3


def test_install_replaces_an_earlier_real_torch_module():
    code = ("import sys, types; sys.modules['torch'] = types.ModuleType('torch');"
            "from vizgrad import as_torch; as_torch.install(); as_torch.install();"
            "import torch, vizgrad; print(torch is vizgrad)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout == "True\n", r.stderr
