"""Run corpus programs on one library, each in its own forked process (tests/test_programs.py uses it).

    python tests/programs/_runner.py torch   OUTDIR prog.py ...   # as `python prog.py`
    python tests/programs/_runner.py vizgrad OUTDIR prog.py ...   # as `python -m vizgrad.as_torch prog.py`

Importing torch costs seconds on a busy machine, so the library is imported once here and every
program runs in a child forked from this process (a fresh process state for the program: its
seeds, print options and default dtype never leak into the next one), in an empty temporary
working directory, with stdout/stderr written to OUTDIR/<stem>.out/.err and the exit status to
OUTDIR/<stem>.rc (-9: killed after the timeout).
"""
from __future__ import annotations

import os
import runpy
import sys
import tempfile
import time
import traceback

TIMEOUT = 120.0  # seconds per program


def _child(prog: str, out: str, err: str) -> None:
    with open(out, "wb") as fo, open(err, "wb") as fe:
        os.dup2(fo.fileno(), 1)
        os.dup2(fe.fileno(), 2)
    code = 0
    try:
        sys.argv = [prog]
        runpy.run_path(prog, run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if not isinstance(e.code, (int, type(None))):
            print(e.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - the program's own failure, reported as Python would
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _wait(pid: int) -> int:
    deadline = time.monotonic() + TIMEOUT
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            return -9
        time.sleep(0.01)


def main(lib: str, outdir: str, progs: list[str]) -> None:
    if lib == "vizgrad":
        from vizgrad import as_torch
        as_torch.install()
    import torch  # noqa: F401  (the real one, or vizgrad through the alias)
    import torch.nn  # noqa: F401
    import torch.optim  # noqa: F401
    import torch.utils.data  # noqa: F401
    for prog in progs:
        prog = os.path.abspath(prog)
        stem = os.path.splitext(os.path.basename(prog))[0]
        base = os.path.join(outdir, stem)
        with tempfile.TemporaryDirectory() as cwd:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                os.chdir(cwd)
                _child(prog, base + ".out", base + ".err")
            code = _wait(pid)
        with open(base + ".rc", "w") as f:
            f.write(str(code))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
