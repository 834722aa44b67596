"""The program corpus: every tests/programs/*.py, written the way PyTorch tutorials and docs examples
are written, runs twice, with real torch (`python prog.py`) and with vizgrad as torch (`python -m
vizgrad.as_torch prog.py`), and the two must print the same thing and exit the same way.

    nice -n 5 python -m pytest -q tests/test_programs.py              # the whole corpus (~1 min)
    python -m vizgrad.as_torch tests/programs/autograd_scalar_chain.py  # one program, on vizgrad

Agreement, line by line: the words, punctuation and layout of each stdout line are compared exactly;
the numbers in it within TOLERANCE (relative 1e-4, absolute 1e-6, or one unit in the last digit
printed, so that 0.1235 and 0.1234 from values 1 ulp apart agree); integers exactly. The exit status must be the
same and, when a program fails, the exception's type (the last stderr line up to ':').

Programs known not to agree are listed in WAITING with the reason (strict xfail: once one passes,
its entry must go).
Each program runs in its own process, forked from one that imported the library once (see
tests/programs/_runner.py), in a fresh temporary directory (some programs save files); the torch
and the vizgrad runs go side by side.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import need_torch

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = sorted(p for p in (ROOT / "tests" / "programs").glob("*.py") if not p.name.startswith("_"))
RUNNER = ROOT / "tests" / "programs" / "_runner.py"
RTOL, ATOL = 1e-4, 1e-6
TOLERANCE = f"relative {RTOL}, absolute {ATOL}, or one unit in the last printed digit"
TIMEOUT = 120  # seconds per run (a shared 2-core machine)

# Programs known not to agree yet, by stem, each with its reason (a strict xfail: one that starts to
# agree fails until it is taken off). All 78 agree today.
WAITING: dict[str, str] = {}

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:inf|nan)\b")


def _split(line: str):
    """A line as (its text with every number replaced by #, the numbers as strings)."""
    return _NUMBER.sub("#", line), _NUMBER.findall(line)


def _last_digit(s: str) -> float:
    """The value of one unit in the last digit printed: '0.1235' -> 1e-4, '3e-05' -> 1e-5, '12' -> 1."""
    mant, _, exp = s.lower().partition("e")
    decimals = len(mant.partition(".")[2])
    return 10.0 ** (-decimals + (int(exp) if exp else 0))


def _numbers_agree(a: str, b: str) -> bool:
    x, y = float(a), float(b)
    if x == y or (x != x and y != y):
        return True
    if not any(c in a + b for c in ".eEin"):  # integers (sizes, counts, indices, int tensors): exact
        return False
    unit = max(_last_digit(a), _last_digit(b))
    return abs(x - y) <= max(ATOL, RTOL * max(abs(x), abs(y)), 1.01 * unit)


def compare(want: str, got: str) -> list[str]:
    """The differences between two stdouts, as messages naming the line (empty: they agree)."""
    wl, gl = want.splitlines(), got.splitlines()
    problems = []
    for i, (w, g) in enumerate(zip(wl, gl), 1):
        (wt, wn), (gt, gn) = _split(w), _split(g)
        if wt != gt or len(wn) != len(gn):
            problems.append(f"line {i}: text differs\n  torch:   {w}\n  vizgrad: {g}")
        else:
            bad = [(a, b) for a, b in zip(wn, gn) if not _numbers_agree(a, b)]
            if bad:
                problems.append(f"line {i}: numbers differ beyond {TOLERANCE}: {bad[:3]}\n  torch:   {w}\n"
                                f"  vizgrad: {g}")
        if len(problems) >= 5:
            break
    if len(wl) != len(gl):
        problems.append(f"torch printed {len(wl)} lines, vizgrad {len(gl)}"
                        + (f"; first extra: {(wl + gl)[min(len(wl), len(gl))]!r}"))
    return problems


def _error_type(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln and not ln.startswith(" ")]
    return lines[-1].partition(":")[0] if lines else ""


def _run_all(lib: str, progs: list[Path], outdir: Path) -> dict:
    """Run `progs` on `lib` through tests/programs/_runner.py: one process imports the library once
    and forks a fresh child per program (importing torch per program would cost seconds each)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT),
               PYTHONHASHSEED="0", PYTHONWARNINGS="ignore")
    out = outdir / lib
    out.mkdir()
    subprocess.run([sys.executable, str(RUNNER), lib, str(out), *map(str, progs)], env=env, check=True,
                   timeout=TIMEOUT * len(progs))
    runs = {}
    for p in progs:
        base = out / p.stem
        runs[p.stem] = subprocess.CompletedProcess(
            [lib, p.name], int((base.with_suffix(".rc")).read_text()),
            base.with_suffix(".out").read_text(errors="replace"), base.with_suffix(".err").read_text(errors="replace"))
    return runs


@pytest.fixture(scope="module")
def results():
    """Every program run both ways: the torch runs and the vizgrad runs side by side (2 cores)."""
    need_torch()
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=2) as pool:
        ref = pool.submit(_run_all, "torch", PROGRAMS, Path(tmp))
        ours = pool.submit(_run_all, "vizgrad", PROGRAMS, Path(tmp))
        ref, ours = ref.result(), ours.result()
    return {name: (ref[name], ours[name]) for name in ref}


def test_corpus_is_big_enough_and_waiting_names_real_programs():
    stems = {p.stem for p in PROGRAMS}
    assert len(stems) >= 60
    assert set(WAITING) <= stems, set(WAITING) - stems


@pytest.mark.parametrize("name", [p.stem for p in PROGRAMS])
def test_program_agrees_with_torch(name, results, request):
    if name in WAITING:
        request.applymarker(pytest.mark.xfail(reason=WAITING[name], strict=True))
    ref, ours = results[name]
    assert ref.returncode == 0 or _error_type(ref.stderr), f"torch itself failed oddly:\n{ref.stderr[-2000:]}"
    problems = compare(ref.stdout, ours.stdout)
    if ref.returncode != ours.returncode:
        problems.append(f"exit status: torch {ref.returncode}, vizgrad {ours.returncode}\n"
                        f"vizgrad stderr:\n{ours.stderr[-1500:]}")
    elif ref.returncode and _error_type(ref.stderr) != _error_type(ours.stderr):
        problems.append(f"error: torch {_error_type(ref.stderr)!r}, vizgrad {_error_type(ours.stderr)!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("want,got,ok", [
    ("loss 0.1235", "loss 0.1234", True),          # one unit in the last digit
    ("loss 0.1235", "loss 0.1233", False),
    ("tensor([1.0000, 2.5000])", "tensor([1.0000, 2.5001])", True),
    ("x 1e-08", "x 1.00001e-08", True),
    ("x 100.00", "x 100.02", False),
    ("x 100.0", "x 100.02", True),                  # 100.0 is what 100.02 prints at one decimal
    ("epoch 12345", "epoch 12346", False),
    ("Linear(in_features=2)", "Linear(in_features=3)", False),  # numbers in names: exact for integers
    ("grad_fn=<AddBackward0>", "grad_fn=<MulBackward0>", False),
    ("a\nb", "a", False),
    ("nan inf -inf", "nan inf -inf", True),
])
def test_compare_rules(want, got, ok):
    assert (compare(want, got) == []) is ok
