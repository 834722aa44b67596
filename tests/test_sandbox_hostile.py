"""Hostile programs on the Code page's runner: each is contained, with a clear message, and the test
checks what the child could not do and how long it took to be stopped.

    nice -n 5 .venv/bin/python -m pytest -q tests/test_sandbox_hostile.py

Needs bubblewrap (`bwrap`, Debian package bubblewrap); without it the tests are skipped (CI
installs it). The limits here are short (`SHORT`), so the whole file runs in well under a minute;
"stopped within" bounds are the configured limit plus a margin for a loaded machine, never a speed.
Sockets are only ever opened to what the test itself listens on (a loopback port, a UNIX socket).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

from vizgrad.app import sandbox
from tests.test_sandbox import need_sandbox
from vizgrad.app.sandbox import ENV, UIDS, Child, Limits, run

ROOT = Path(__file__).resolve().parents[1]
SHORT = Limits(wall_seconds=3.0, cpu_seconds=1)
MARGIN = 4.0  # seconds beyond a limit a loaded machine may take to stop and reap the sandbox



@pytest.fixture(autouse=True)
def _sandboxed():
    need_sandbox()  # skips without bubblewrap (fails under VIZGRAD_REQUIRE_SANDBOX=1)


def go(code: str, limits: Limits = SHORT) -> sandbox.RunResult:
    r = run(code, limits)
    assert r.mode == "bubblewrap"
    assert r.seconds < limits.wall_seconds + MARGIN, f"stopped after {r.seconds:.1f} s"
    return r


def error_line(r) -> str:
    """The last line of the user traceback (the exception and its message)."""
    assert r.error, r
    return r.error.strip().splitlines()[-1]


# ---- files ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/etc/passwd", "/etc/shadow", "/etc/hostname", "/root/.ssh/id_rsa",
                                  "~/.ssh/id_rsa", "/home", "/work", "/proc/1/root/etc/passwd"])
def test_files_outside_the_sandbox_are_not_there(path):
    r = go(f"import os\nprint(open(os.path.expanduser({path!r})).read())")
    assert not r.ok and "root:" not in r.output and r.output == ""
    assert error_line(r).startswith(("FileNotFoundError", "PermissionError", "IsADirectoryError")), r.error


def test_the_apps_own_source_is_not_there():
    for f in [ROOT / "app.py", ROOT / "pages" / "_common.py", ROOT / "tests" / "conftest.py", ROOT / "pyproject.toml"]:
        assert f.exists()
        r = go(f"print(open({str(f)!r}).read())")
        assert error_line(r).startswith("FileNotFoundError"), r.error
        assert r.output == ""


def test_the_root_holds_only_what_python_needs():
    r = go("import os\nprint(sorted(os.listdir('/')))\nprint(sorted(os.listdir('/sandbox/lib')))")
    top, lib = (eval(line) for line in r.output.splitlines())  # list literals it printed
    assert set(top) <= {"dev", "lib", "lib64", "proc", "root", "sandbox", "tmp", "usr"}, top
    assert lib == ["networkx", "numpy", "numpy.libs", "vizgrad"] or lib == ["networkx", "numpy", "vizgrad"], lib


def test_the_packages_are_read_only():
    r = go("open('/sandbox/lib/vizgrad/evil.py', 'w').write('x')")
    assert error_line(r).startswith("OSError: [Errno 30] Read-only file system"), r.error
    assert not (ROOT / "vizgrad" / "evil.py").exists()


@pytest.mark.parametrize("path", ["/evil", "/usr/lib/evil", "/dev/evil", "/proc/evil"])
def test_nothing_outside_tmp_is_writable(path):
    r = go(f"open({path!r}, 'w').write('x')")
    assert not r.ok and error_line(r).split(":")[0] in ("OSError", "PermissionError", "FileNotFoundError"), r.error


def test_tmp_is_private_and_empty():
    name = f"vizgrad-hostile-{os.getpid()}-{time.time_ns()}"
    host_marker = Path(tempfile.gettempdir()) / (name + "-host")
    host_marker.write_text("secret")
    try:
        r = go(f"import os\nprint(os.listdir('/tmp'))\nopen('/tmp/{name}', 'w').write('x')\n"
               f"print(os.path.exists('/tmp/{name}-host'))")
        assert r.ok, r.error
        assert r.output == "[]\nFalse\n"
        assert not (Path(tempfile.gettempdir()) / name).exists()  # its /tmp is not the host's
    finally:
        host_marker.unlink()


def test_a_big_file_in_tmp_is_refused():
    r = go("open('/tmp/big', 'wb').write(b'x' * (8 << 20))")
    assert not r.ok and ("File too large" in r.error or "No space left" in r.error), r.error


def test_many_files_cannot_fill_memory():
    r = go("import os\nn = 0\ntry:\n    for i in range(100):\n        open(f'/tmp/f{i}', 'wb').write(b'x' * 1_000_000)\n"
           "        n += 1\nexcept OSError as e:\n    print(n, e.strerror)\ntry:\n    open('/dev/shm/x', 'wb')\n"
           "except OSError as e:\n    print(e.strerror)")
    lines = r.output.splitlines()
    n, why = lines[0].split(" ", 1)
    assert int(n) <= SHORT.tmp_bytes // 1_000_000 and why == "No space left on device", r.output
    assert lines[1] == "Permission denied"  # /dev/shm: not its to write


# ---- environment and other processes -------------------------------------------------------------------
def test_the_environment_is_empty_but_a_few_fixed_variables(monkeypatch):
    monkeypatch.setenv("VIZGRAD_TEST_SECRET", "hunter2")
    r = go("import os\nprint(sorted(os.environ))\nprint(dict(os.environ))")
    assert r.ok, r.error
    names = eval(r.output.splitlines()[0])
    assert set(names) <= set(ENV) | {"PWD"}, names
    assert "hunter2" not in r.output and "VIZGRAD_TEST_SECRET" not in r.output


def test_no_other_process_is_visible():
    r = go("import os\nprint([p for p in os.listdir('/proc') if p.isdigit()])")
    pids = eval(r.output)
    assert len(pids) <= 2, pids  # bubblewrap's init and the program itself


def test_it_runs_as_an_unprivileged_user_with_no_capabilities():
    r = go("import os\nprint(os.getuid(), os.geteuid(), os.getgid())\n"
           "print(dict(l.split() for l in open('/proc/self/status') if l.startswith(('Cap', 'NoNewPrivs'))))\n"
           "os.setuid(0)")
    uid, euid, gid = map(int, r.output.splitlines()[0].split())
    assert uid == euid and uid in UIDS and gid == uid
    status = eval(r.output.splitlines()[1])
    assert status["CapPrm:"] == status["CapEff:"] == status["CapAmb:"] == "0000000000000000", status
    assert status["NoNewPrivs:"] == "1"  # and no exec (a setuid binary) can give any back
    assert error_line(r).startswith("PermissionError"), r.error


# ---- network -----------------------------------------------------------------------------------------------
def test_tcp_to_a_loopback_port_the_test_listens_on_is_refused():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(0.5)
    port = srv.getsockname()[1]
    try:
        r = go(f"import socket\ns = socket.socket()\ns.settimeout(1)\ns.connect(('127.0.0.1', {port}))\nprint('connected')")
        assert "connected" not in r.output
        assert error_line(r).startswith(("ConnectionRefusedError", "OSError")), r.error
        with pytest.raises(socket.timeout):
            srv.accept()  # nobody came
    finally:
        srv.close()


def test_udp_to_a_loopback_port_the_test_listens_on_arrives_nowhere():
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(0.5)
    port = srv.getsockname()[1]
    try:
        go(f"import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.sendto(b'hi', ('127.0.0.1', {port}))")
        with pytest.raises(socket.timeout):
            srv.recvfrom(16)
    finally:
        srv.close()


def test_a_unix_socket_the_test_made_is_out_of_reach():
    path = Path(tempfile.mkdtemp()) / "s.sock"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(path))
    srv.listen(1)
    srv.settimeout(0.5)
    try:
        r = go(f"import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect({str(path)!r})\nprint('connected')")
        assert "connected" not in r.output
        assert error_line(r).startswith(("FileNotFoundError", "ConnectionRefusedError", "PermissionError")), r.error
        with pytest.raises(socket.timeout):
            srv.accept()
    finally:
        srv.close()
        path.unlink()


def test_an_abstract_unix_socket_the_test_made_is_out_of_reach():
    name = f"\0vizgrad-hostile-{os.getpid()}"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(name)
    srv.listen(1)
    srv.settimeout(0.5)
    try:
        r = go(f"import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect({name!r})\nprint('connected')")
        assert "connected" not in r.output
        assert error_line(r).startswith("ConnectionRefusedError"), r.error  # another network namespace
        with pytest.raises(socket.timeout):
            srv.accept()
    finally:
        srv.close()


def test_only_loopback_exists_and_it_is_down():
    r = go("import socket\nprint(socket.if_nameindex())")
    assert r.ok and eval(r.output) == [(1, "lo")]


# ---- processes -----------------------------------------------------------------------------------------------
def test_os_system_has_no_shell():
    r = go("import os\nprint(os.system('echo pwned'))")
    assert "pwned" not in r.output
    assert r.output.strip() != "0"  # the shell is not there (exit 127) or it could not be started


def test_subprocess_cannot_start_anything():
    r = go("import subprocess\nprint(subprocess.run(['/bin/sh', '-c', 'echo pwned'], capture_output=True))")
    assert "pwned" not in r.output
    assert error_line(r).startswith(("FileNotFoundError", "BlockingIOError", "PermissionError")), r.error


def test_a_fork_loop_gets_no_child():
    r = go("import os\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n            while True: pass\n"
           "        n += 1\nexcept OSError as e:\n    print(n, e.errno)")
    assert r.ok and r.output == "0 11\n", r.output  # EAGAIN at once: RLIMIT_NPROC = 1


def test_threads_cannot_start():
    r = go("import threading\nt = threading.Thread(target=lambda: None)\nt.start()")
    assert error_line(r).startswith("RuntimeError: can't start new thread"), r.error


def test_multiprocessing_cannot_start():
    r = go("import multiprocessing as mp\np = mp.Process(target=print, args=('pwned',))\np.start()\np.join()")
    assert not r.ok and "pwned" not in r.output


def test_exec_of_the_interpreter_loses_the_result_channel():
    r = go("import os, sys\nos.execv(sys.executable, [sys.executable, '-c', 'print(\"pwned\")'])")
    assert not r.ok and "pwned" not in r.output and r.stopped == "crash", r


def test_a_child_that_dies_before_its_program_arrives_is_replaced():
    pool = sandbox.Pool(1)
    pool.fill(True)
    os.killpg(pool.ready[0].proc.pid, signal.SIGKILL)  # as if something outside killed the warm child
    time.sleep(0.1)
    real_alive = Child.alive
    try:
        Child.alive = lambda self: True  # take() hands it out anyway: the run must notice and start afresh
        r = run("print('ran')", SHORT, pool=pool)
    finally:
        Child.alive = real_alive
        pool.close()
    assert r.ok and r.output == "ran\n", r


def test_no_process_is_left_behind():
    child = Child(True)
    child.run("import os\nos.write(2, str(os.getuid()).encode())\nwhile True: pass", Limits(wall_seconds=1.0))
    assert child.proc.poll() is not None
    t0 = time.monotonic()
    while child.uid in _running_uids() and time.monotonic() - t0 < MARGIN:
        time.sleep(0.05)  # the kernel kills the rest of its pid namespace right after bwrap
    assert child.uid not in _running_uids()


def _running_uids() -> set:
    """The uids of the host's processes that are not zombies."""
    out = set()
    for p in Path("/proc").iterdir():
        lines = _status(p) if p.name.isdigit() else []
        state = next((x for x in lines if x.startswith("State:")), "State: Z")
        if " Z" not in state:
            out |= {int(x.split()[1]) for x in lines if x.startswith("Uid:")}
    return out


def _status(p: Path) -> list[str]:
    try:
        return (p / "status").read_text().splitlines()
    except OSError:
        return []


# ---- signals -------------------------------------------------------------------------------------------------
def test_signals_to_the_parent_cannot_reach_it():
    got = []
    old = signal.signal(signal.SIGUSR1, lambda *a: got.append(a))
    try:
        r = go(f"import os, signal\nfor pid in (os.getppid(), 1, {os.getpid()}):\n    try:\n"
               f"        os.kill(pid, signal.SIGUSR1)\n        print(pid, 'sent')\n    except OSError as e:\n"
               f"        print(pid, type(e).__name__)")
        time.sleep(0.2)
        assert got == []
        assert "sent" not in r.output, r.output
    finally:
        signal.signal(signal.SIGUSR1, old)


def test_kill_everything_kills_only_itself():
    r = go("import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\nos.kill(os.getpid(), signal.SIGKILL)")
    assert r.stopped == "crash" and "SIGKILL" in r.error, r
    assert run("print('still serving')", SHORT).output == "still serving\n"


# ---- ctypes ---------------------------------------------------------------------------------------------------
def test_ctypes_segfault_is_a_crash_message():
    r = go("import ctypes\nctypes.string_at(0)")
    assert r.stopped == "crash" and "SIGSEGV" in r.error, r


def test_ctypes_system_calls_are_refused():
    r = go("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
           "print(libc.setuid(0), libc.kill(1, 9), libc.mount(b'none', b'/tmp', b'tmpfs', 0, None))\nprint(os.getuid())")
    assert r.ok, r.error
    assert r.output.splitlines()[0] == "-1 -1 -1"
    assert int(r.output.splitlines()[1]) in UIDS


# ---- time, memory, output --------------------------------------------------------------------------------------
def test_an_infinite_loop_is_stopped_at_the_cpu_limit():
    r = go("while True:\n    pass")
    assert r.stopped in ("cpu", "wall") and "stopped" in r.error
    assert r.seconds >= SHORT.cpu_seconds * 0.5


def test_a_loop_that_swallows_the_cpu_signal_is_killed():
    r = go("import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    try:\n"
           "        while True: pass\n    except BaseException:\n        pass")
    assert r.stopped in ("cpu", "wall", "crash"), r
    assert not r.ok


def test_sleeping_forever_is_stopped_at_the_wall_clock_limit_and_shows_what_it_printed():
    r = go("import time\nprint('epoch 1')\nprint('epoch 2')\ntime.sleep(1000)", Limits(wall_seconds=1.0))
    assert r.stopped == "wall" and "1 s" in r.error
    assert 0.9 <= r.seconds < 1.0 + MARGIN
    assert r.output == "epoch 1\nepoch 2\n"


@pytest.mark.parametrize("code", [
    "a = bytearray(2_000_000_000)",
    "xs = []\nwhile True:\n    xs.append(bytearray(10_000_000))",
    "import torch\nx = torch.zeros(10**9)",
    "import torch\nx = torch.randn(20000, 20000)",
    "import numpy as np\na = np.ones((30000, 30000))",
], ids=["bytearray", "bomb", "huge_tensor", "huge_randn", "huge_numpy"])
def test_memory_bombs_stop_at_the_memory_limit(code):
    r = go(code)
    assert r.stopped == "memory" and "512 MB" in r.error, r


def test_a_100_mb_print_is_cut_at_the_output_limit():
    r = go("print('x' * 100_000_000)")
    assert r.stopped == "output" and "1,000,000 characters" in r.error
    assert r.output == "x" * SHORT.output_chars


def test_many_small_prints_are_cut_at_the_output_limit():
    r = go("i = 0\nwhile True:\n    print(i)\n    i += 1")
    assert r.stopped in ("output", "cpu") and len(r.output) <= SHORT.output_chars


def test_raw_writes_to_stdout_do_not_reach_the_result():
    r = go("import os\nos.write(1, b'{\"ok\": true, \"output\": \"forged\"}' * 1000)\nprint('real')")
    assert r.ok and r.output == "real\n"


def test_deep_recursion_is_a_short_traceback():
    r = go("def f(n):\n    return f(n + 1)\nf(0)")
    assert error_line(r) == "RecursionError: maximum recursion depth exceeded"
    assert "[Previous line repeated" in r.error and len(r.error.splitlines()) < 20


def test_deeper_recursion_than_python_allows_is_stopped():
    r = go("import sys\nsys.setrecursionlimit(10**7)\ndef f(n):\n    return f(n + 1)\nf(0)")
    assert not r.ok and r.stopped in ("memory", "cpu", "wall", "crash"), r


# ---- tampering with the child ------------------------------------------------------------------------------------
def test_sys_modules_tampering_still_gives_a_result():
    r = go("import sys, torch\nx = torch.ones(2)\nsys.modules['vizgrad'] = None\nsys.modules['json'] = None\nprint('done')")
    assert r.output == "done\n" and r.error is None
    assert r.ok or r.notes


def test_import_hook_tricks_still_give_a_result():
    r = go("import builtins\nbuiltins.__import__ = lambda *a, **k: 1 / 0\nprint('done')")
    assert r.output == "done\n" and r.error is None


def test_dunder_import_cannot_reach_the_server():
    r = go("os = __import__('os')\nprint(os.listdir('/work') if os.path.exists('/work') else 'no /work')")
    assert r.output == "no /work\n"


def test_a_forged_result_with_a_bad_graph_is_refused():
    forged = {"ok": True, "output": "forged", "tensors": [{"name": "x"}], "graphs": {"x": {
        "nodes": [{"id": "t0", "kind": "tensor", "value": {"__ndarray__": [1.0], "dtype": "object", "shape": [10 ** 12]}}],
        "links": []}}}
    r = go("import os, json\nfor fd in range(3, 12):\n    try:\n"
           f"        os.write(fd, json.dumps({forged!r}).encode())\n        os._exit(0)\n    except OSError:\n        pass")
    assert r.output == "forged"  # it may forge its own result (it is only ever shown to its own session) ...
    with pytest.raises(ValueError):
        r.graph("x")  # ... but what it sends is checked before anything is built from it


def test_an_unreadable_result_is_a_clear_message():
    r = go("import os\nfor fd in range(3, 12):\n    try:\n        os.write(fd, b'\\x80garbage')\n    except OSError:\n        pass")
    assert not r.ok and "unreadable" in r.error, r


def test_a_giant_tensor_left_behind_is_summarised_not_sent():
    r = go("import torch\nx = torch.ones(4_000_000, requires_grad=True)\ny = (x * 2).sum()\ny.backward()")
    assert r.ok, r.error
    x = next(t for t in r.tensors if t["name"] == "x")
    assert x["shape"] == [4_000_000] and x["value"]["cut"] and len(x["value"]["values"]) == SHORT.list_values
    assert "y" not in r.graphs and any("too large" in n for n in r.notes)


def test_a_module_that_breaks_listing_still_gives_the_output():
    r = go("import torch.nn as nn\nclass Evil(nn.Module):\n    def named_parameters(self, *a, **k):\n"
           "        raise RuntimeError('no')\nm = Evil()\nprint('done')")
    assert r.output == "done\n" and any("could not be listed" in n for n in r.notes)


def test_values_that_cannot_be_serialised_are_skipped():
    r = go("import socket, torch\ngen = (i for i in range(3))\nf = lambda: 0\nlock = __import__('threading').Lock()\n"
           "x = torch.tensor([1.0, float('nan'), float('inf')])\nprint('done')")
    assert r.ok and [t["name"] for t in r.tensors] == ["x"]
    assert json.dumps(r.tensors)  # plain data


def test_other_sessions_are_served_while_one_loops():
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("loop", run("while True: pass", SHORT)))
    t.start()
    time.sleep(0.3)
    r = run("print(6 * 7)", SHORT)
    assert r.ok and r.output == "42\n"
    t.join()
    assert out["loop"].stopped in ("cpu", "wall")


def test_more_programs_than_the_server_runs_at_once_wait_then_hear_it_is_busy(monkeypatch):
    """Runs take slots of the heavy-work limiter (one slot here); one that gets none in time says so."""
    from vizgrad.app.limiter import Limiter
    lim = Limiter(1)
    monkeypatch.setattr(sandbox, "QUEUE_SECONDS", 0.5)
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("sleeper", run("import time\ntime.sleep(10)",
                                                                      Limits(wall_seconds=2.0), limiter=lim)))
    t.start()
    end = time.monotonic() + 30
    while lim.running == 0 and time.monotonic() < end:
        time.sleep(0.01)
    r = run("print('me too')", SHORT, limiter=lim)
    assert r.stopped == "busy" and "busy" in r.error and r.output == ""
    t.join()
    assert out["sleeper"].stopped == "wall"
    assert run("print('my turn')", SHORT, limiter=lim).output == "my turn\n"
    assert lim.running == 0 and lim.waiting == 0
