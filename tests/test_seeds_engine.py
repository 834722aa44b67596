"""Every autograd-only code example of the seeds prints, under `import vizgrad as torch`, what the seed shows.

The examples live in tests/seeds/seed_*.py: the seed's code text with `import torch` replaced by
`import vizgrad as torch` (plus a comment line per notebook cell); seed_*.out holds the output the
seed shows. Cells run as in a notebook: a cell's last bare expression is displayed (its repr), so
`z` alone shows `tensor(31., grad_fn=<AddBackward0>)` as the seed does. Examples that need nn/optim
are tests/seeds/nn_*.py (tests/test_seeds_nn.py).
"""
from __future__ import annotations

import ast
import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

SEEDS = Path(__file__).parent / "seeds"
ENGINE_SEEDS = sorted(SEEDS.glob("seed_*.py"))
SHARED_SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"  # beside the repository, if present
CELL = re.compile(r"^# In \[\d+\]:\s*$", re.M)


def run_notebook(path: Path, src: str | None = None) -> str:
    """Run a snippet cell by cell (cells start at `# In [n]:`); return stdout, displays included."""
    src = path.read_text() if src is None else src
    ns = {"__name__": "__main__"}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        for cell in CELL.split(src):
            tree = ast.parse(cell)
            last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            body = tree.body[:-1] if last is not None else tree.body
            exec(compile(ast.Module(body, type_ignores=[]), str(path), "exec"), ns)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), str(path), "eval"), ns)
                if value is not None:
                    print(repr(value))
    return buf.getvalue()


def test_engine_seeds_present():
    assert [p.stem for p in ENGINE_SEEDS] == ["seed_basic_grad", "seed_detach", "seed_linear_grad", "seed_sum_grad"]


@pytest.mark.parametrize("path", ENGINE_SEEDS, ids=lambda p: p.stem)
def test_seed_prints_what_the_seed_shows(path):
    assert "import vizgrad as torch" in path.read_text() and "import torch" not in path.read_text()
    assert run_notebook(path) == path.with_suffix(".out").read_text()


@pytest.mark.parametrize("path", ENGINE_SEEDS, ids=lambda p: p.stem)
def test_seed_runs_as_a_script(path):
    """`python tests/seeds/seed_x.py` works too (a script shows no bare expressions)."""
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60, check=True).stdout
    expected = path.with_suffix(".out").read_text()
    assert out and out in expected and expected.endswith(out)


@pytest.mark.parametrize("path", ENGINE_SEEDS, ids=lambda p: p.stem)
def test_seed_same_under_torch(path, torch_ref):
    """The snippet with `import torch` restored prints the same under real torch."""
    src = path.read_text().replace("import vizgrad as torch", "import torch")
    assert run_notebook(path, src) == path.with_suffix(".out").read_text()


@pytest.mark.skipif(not SHARED_SEEDS.is_dir(), reason="shared/seeds is not beside the repository")
@pytest.mark.parametrize("path", ENGINE_SEEDS, ids=lambda p: p.stem)
def test_seed_text_is_the_seeds(path):
    """Guard against drift: the snippet's code lines and its expected output appear verbatim in its seed file."""
    seed_id = re.search(r"Seed (\d{3})", path.read_text()).group(1)
    seed = next(SHARED_SEEDS.glob(f"{seed_id}_*.txt")).read_text()
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("# Seed") and not CELL.match(line) and not line.startswith("# Cells"):
            line = line.replace("import vizgrad as torch", "import torch")
            assert line in seed, f"{path.name}: {line!r} is not in the seed"
    for line in path.with_suffix(".out").read_text().splitlines():
        assert line in seed, f"{path.name}: output {line!r} is not shown in the seed"
