"""Run untrusted PyTorch code: a fresh child process per run, inside bubblewrap, results as JSON data.

    from vizgrad.app.sandbox import Limits, run, status
    r = run("import torch\\nx = torch.ones(2, requires_grad=True)\\ny = (x * 3).sum()\\ny.backward()\\nprint(y)")
    r.ok, r.output            # True, 'tensor(6., grad_fn=<SumBackward0>)\\n'
    r.tensors                 # [{'name': 'x', 'shape': [2], 'grad_fn': None, 'has_grad': True, ...}, ...]
    r.graph("y")              # the recorded graph of y: an nx.DiGraph (vizgrad.graph's node-link, checked)
    run(code, Limits(wall_seconds=1))     # per-run limits; status() says how code runs here

How a run is contained (`command()` builds it; vizgrad/app/sandbox_child.py is the child):
- bubblewrap (`bwrap`, Debian package `bubblewrap`): new network, pid, ipc and uts namespaces (no
  network at all; no other process visible), a root made only of read-only binds of what the
  interpreter, numpy, networkx and vizgrad need (the interpreter binary, its stdlib and shared
  libraries; those three packages under /sandbox/lib; never /etc, /home, /root's other files, the
  app's source or other sessions' data), a private empty size-capped /tmp, an empty environment
  but a few fixed variables, its own session (no terminal to inject into), --die-with-parent.
  Privileges: run by root, bwrap keeps only CAP_SETUID/CAP_SETGID, with which the child becomes
  an unprivileged uid of its own (one per run, so one run's process limit is its own) and so
  holds no capability at all; run by another user, bwrap's user namespace does the same.
- resource limits, set by the child on itself before the program runs (`Limits`): CPU seconds,
  address space, processes, file size, open files; the parent kills the whole sandbox at the
  wall-clock limit and stops reading (and kills it) past the output and result caps.
- what comes back is JSON only, size-capped, checked here before use (`_checked_graph`); nothing
  from the child is ever unpickled or evaluated.

Modes (`status()`): with bubblewrap working, every run is sandboxed. Without it, hosted mode
(environment variable VIZGRAD_HOSTED=1: a public server) refuses to run code and says why; local
mode (one's own machine) runs the child with the resource limits only, and says so.

Warm start: a few children are started ahead (`Pool`): each has already dropped its privileges,
imported vizgrad and installed the `torch` alias, and waits for its one program; a run takes one
and a new one is started behind it. Each child still serves exactly one run.
"""
from __future__ import annotations

import functools
import importlib.util
import itertools
import json
import math
import os
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from vizgrad.app import budgets
from vizgrad.app import hosted as hosted_mode
from vizgrad.app import limiter as heavy
from vizgrad.app.sandbox_child import ACK

__all__ = ["Limits", "RunResult", "Status", "status", "run", "command", "Pool", "DEFAULT_LIMITS"]

PACKAGES = ("numpy", "networkx", "vizgrad")   # what the child imports (vizgrad.graph needs networkx)
LIB = "/sandbox/lib"                          # where those packages appear inside the sandbox
UIDS = range(61000, 62000)                    # the unprivileged uids runs get, in turn
MAX_CODE_CHARS = budgets.value("CODE_MAX_CHARS")   # README "Budgets": VIZGRAD_CODE_MAX_CHARS
RAW_TAIL = 32_000                             # characters of the child's stderr kept (the output a killed run shows)


@dataclass(frozen=True)
class Limits:
    """Per-run limits; the defaults keep a run under about 5 s and 512 MB. The app's are
    DEFAULT_LIMITS, from vizgrad/app/budgets.py (CODE_<FIELD>, overridable by VIZGRAD_CODE_<FIELD>)."""
    wall_seconds: float = 5.0           # the parent kills the sandbox after this long
    cpu_seconds: int = 4                # RLIMIT_CPU (SIGXCPU is reported; a second later it is killed)
    memory_bytes: int = 512 << 20       # RLIMIT_AS: the whole address space, interpreter included
    processes: int = 1                  # RLIMIT_NPROC: 1 = the program itself, no fork, no thread
    file_bytes: int = 1 << 20           # RLIMIT_FSIZE: the largest file it may write (in its /tmp)
    tmp_bytes: int = 4 << 20            # the size of its private /tmp
    open_files: int = 64                # RLIMIT_NOFILE
    output_chars: int = 1_000_000       # printed text kept; the program is stopped past it
    result_bytes: int = 4_000_000       # the JSON it may send back
    graph_nodes: int = 2_000            # per graph
    graph_elements: int = 200_000       # numbers (values and grads) in all the graphs together
    list_values: int = 64               # values shown per tensor or parameter in the lists

    def child(self) -> dict:
        """The part the child applies to itself."""
        return {k: v for k, v in asdict(self).items() if k not in ("wall_seconds", "tmp_bytes")}


DEFAULT_LIMITS = budgets.limits_for(Limits, "CODE_")   # read when the server starts


# ---- the result -----------------------------------------------------------------------------------
@dataclass
class RunResult:
    ok: bool
    output: str = ""                 # what the program printed (stdout and stderr, as a terminal shows them)
    error: str | None = None         # a traceback of the user's own lines, or what stopped the run
    error_line: int | None = None    # the line of the user's code the error points at
    stopped: str | None = None       # None, or the limit that stopped it: wall | cpu | memory | output | result | crash
    tensors: list = field(default_factory=list)   # top-level tensor variables (dicts: name, shape, dtype, grad_fn, ...)
    modules: list = field(default_factory=list)   # top-level nn.Modules (dicts: name, type, repr, parameters)
    notes: list = field(default_factory=list)     # what was left out and why
    seconds: float = 0.0             # from the start of the run to the result read back
    mode: str = ""                   # "bubblewrap" | "limits only" | "refused"
    graphs: dict = field(default_factory=dict, repr=False)   # name -> node-link data (unchecked)

    def graph(self, name: str):
        """The recorded graph of the tensor variable `name`, as an nx.DiGraph; None if there is none.
        The node-link data came from the untrusted child: it is checked first (ValueError if bad)."""
        data = self.graphs.get(name)
        return None if data is None else _checked_graph(data)


STOP_MESSAGES = {
    "wall": "stopped: it ran longer than {wall_seconds:g} s (the time limit per run)",
    "cpu": "stopped: it used more than {cpu_seconds} s of CPU time (the limit per run)",
    "memory": "stopped: it ran out of memory (the limit is {memory_mb} MB per run)",
    "output": "stopped: it printed more than {output_chars:,} characters (the output limit)",
    "result": "stopped: what it left behind was more than {result_bytes:,} bytes (the limit)",
    "crash": "the program crashed ({detail})",
    "bad": "the sandbox sent back something unreadable ({detail})",
}


def _stop_message(kind: str, limits: Limits, detail: str = "") -> str:
    return STOP_MESSAGES[kind].format(memory_mb=limits.memory_bytes >> 20, detail=detail, **asdict(limits))


# ---- how code runs here ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Status:
    mode: str        # "bubblewrap" | "limits only" | "refused"
    message: str     # one sentence for the page

    @property
    def can_run(self) -> bool:
        return self.mode != "refused"


def hosted() -> bool:
    """Hosted mode (a public server): environment variable VIZGRAD_HOSTED=1 (read in vizgrad/app/hosted.py)."""
    return hosted_mode.on()


@functools.lru_cache(maxsize=1)
def _bwrap_problem() -> str | None:
    """None when bubblewrap runs a sandboxed interpreter here, else why not (checked once per process)."""
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (the `bwrap` command; Debian/Ubuntu: apt-get install bubblewrap)"
    argv = command(0, Limits(), sandboxed=True, probe=True)
    try:
        p = subprocess.run(argv, capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"bubblewrap could not be started ({type(e).__name__})"
    if p.returncode != 0 or p.stdout.strip() != b"ok":
        return "bubblewrap is installed but cannot make a sandbox here: " + (p.stderr.decode(errors="replace").strip()[-300:] or f"exit status {p.returncode}")
    return None


def status() -> Status:
    problem = _bwrap_problem()
    if problem is None:
        return Status("bubblewrap", "Your code runs in a bubblewrap sandbox: no network, no files but its own "
                                    "/tmp, limited time and memory.")
    if hosted():
        return Status("refused", f"Running code is switched off on this server: it is a hosted server "
                                 f"(VIZGRAD_HOSTED=1) and {problem}.")
    return Status("limits only", f"Running without a sandbox ({problem}): your code runs as a separate process "
                                 f"with time and memory limits only, and can read your files. Fine on your own "
                                 f"machine; never on a shared server.")


# ---- the child's command line -------------------------------------------------------------------------
def _package_dirs() -> list[tuple[str, str]]:
    """(host dir, name under LIB) of each package the child imports, and its wheel's bundled
    libraries (numpy.libs: found by relative rpath, so it goes beside numpy)."""
    out = []
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        pkg = os.path.dirname(os.path.realpath(spec.origin))
        out.append((pkg, name))
        libs = os.path.join(os.path.dirname(pkg), name + ".libs")
        if os.path.isdir(libs):
            out.append((libs, name + ".libs"))
    return out


def _interpreter() -> tuple[str, list[str]]:
    """(the interpreter binary, the host directories it needs read-only: stdlib, extension
    modules, libpython, the system's shared libraries)."""
    exe = os.path.realpath(sys.executable)
    dirs = {_stdlib(), sysconfig.get_config_var("DESTSHARED")}  # the base interpreter's, never a venv's
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir and any(f.startswith("libpython") for f in os.listdir(libdir) if os.path.isfile(os.path.join(libdir, f))):
        dirs.add(libdir)  # a shared libpython (pyenv, python.org builds); the binds below keep it narrow
    for d in ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/lib32"):
        if os.path.isdir(d) and not os.path.islink(d):
            dirs.add(d)
    dirs = sorted(d for d in dirs if d and os.path.isdir(d))
    return exe, [d for d in dirs if not any(_under(d, o) for o in dirs if o != d)]  # nested: the outer bind has it


def _stdlib() -> str:
    return os.path.dirname(os.path.realpath(os.__file__))


def _under(path: str, d: str) -> bool:
    return path.startswith(d.rstrip("/") + "/")


def _dirs_for(path: str, made: set) -> list[str]:
    """--dir arguments creating every parent of `path` traversable (bwrap would copy the host's
    modes, and /root is 0700, so an unprivileged child could not reach a bind below it)."""
    args = []
    parts = path.strip("/").split("/")[:-1]
    for i in range(1, len(parts) + 1):
        d = "/" + "/".join(parts[:i])
        if d not in made:
            made.add(d)
            args += ["--perms", "0755", "--dir", d]
    return args


ENV = {"PATH": "/nonexistent", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8",
       "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


def _child_code(lib_dirs: list[str], probe: bool) -> str:
    if probe:
        return "print('ok')"
    return (f"import sys; sys.path[:0] = {lib_dirs!r}; "
            "from vizgrad.app.sandbox_child import main; main()")


def command(uid: int, limits: Limits, sandboxed: bool = True, probe: bool = False) -> list[str]:
    """The child's argv: bubblewrap around the interpreter (sandboxed), or the interpreter alone."""
    exe, system = _interpreter()
    packages = _package_dirs()
    py = [exe, "-I", "-S", "-B", "-c"]
    if not sandboxed:
        # limits only: the packages where they are (no bind mounts without a sandbox)
        roots = sorted({os.path.dirname(host) for host, _ in packages})
        return py + [_child_code(roots, probe), "-1"]
    root = os.geteuid() == 0
    argv = [shutil.which("bwrap") or "bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--clearenv"]
    if root:  # keep only what the child needs to become `uid` (then it holds nothing)
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        argv += ["--unshare-user", "--uid", "65534", "--gid", "65534"]
    for k, v in ENV.items():
        argv += ["--setenv", k, v]
    made: set = set()
    for d in system:
        argv += _dirs_for(d, made) + ["--ro-bind", d, d]
        made.add(d)
    site = os.path.join(_stdlib(), "site-packages")
    if os.path.isdir(site):
        argv += ["--tmpfs", site]  # the interpreter's own installed packages stay out of reach
    for d in ("/lib", "/lib64"):
        if os.path.islink(d):
            argv += ["--symlink", os.readlink(d), d]
    if not any(_under(exe, d) for d in system):
        argv += _dirs_for(exe, made) + ["--ro-bind", exe, exe]
    argv += _dirs_for(LIB + "/x", made)
    for host, name in packages:
        argv += ["--ro-bind", host, f"{LIB}/{name}"]
    argv += ["--dev", "/dev", "--proc", "/proc", "--size", str(limits.tmp_bytes), "--perms", "1777",
             "--tmpfs", "/tmp", "--chdir", "/tmp", "--"]
    return argv + py + [_child_code([LIB], probe), str(uid if root else -1)]


# ---- one child -------------------------------------------------------------------------------------------
_uids = itertools.cycle(UIDS)
_uid_lock = threading.Lock()


class Child:
    """One started child, waiting for its program (the warm start: it imports while it waits)."""

    def __init__(self, sandboxed: bool):
        with _uid_lock:
            uid = next(_uids)
        self.sandboxed, self.uid = sandboxed, uid
        self.cwd = None if sandboxed else tempfile.mkdtemp(prefix="vizgrad-run-")
        env = dict(ENV) if sandboxed else {**ENV, "HOME": self.cwd}
        self.proc = subprocess.Popen(command(uid, DEFAULT_LIMITS, sandboxed), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=self.cwd,
                                     start_new_session=True, close_fds=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.returncode is None:  # not reaped yet, so its pid (a zombie at worst) is not reused
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # bwrap and everything in its pid namespace
            except (ProcessLookupError, PermissionError):
                pass
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass
        if self.cwd:
            shutil.rmtree(self.cwd, ignore_errors=True)

    def run(self, code: str, limits: Limits) -> tuple[bytes, str | None, str, bool]:
        """(result bytes, why it was stopped or None, the tail of its raw stderr, whether the child
        acknowledged the request). Always kills the child."""
        request = json.dumps({"code": code, "limits": limits.child()}).encode()
        deadline = time.monotonic() + limits.wall_seconds
        stopped = None
        try:
            self.proc.stdin.write(request)
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # it died already: what it said is read below
        result, raw = bytearray(), bytearray()
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ, result)
        sel.register(self.proc.stderr, selectors.EVENT_READ, raw)
        caps = {id(result): limits.result_bytes + 1024, id(raw): 2 * RAW_TAIL}
        try:
            while sel.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    stopped = "wall"
                    break
                for key, _ in sel.select(timeout=left):
                    chunk = os.read(key.fileobj.fileno(), 1 << 16)
                    if not chunk:
                        sel.unregister(key.fileobj)
                        continue
                    buf = key.data
                    if buf is result and len(buf) + len(chunk) > caps[id(buf)]:
                        stopped = "result"
                        break
                    if buf is raw and len(buf) >= caps[id(buf)]:
                        raw[:] = raw[-RAW_TAIL:]  # keep the tail only
                    buf.extend(chunk)
                if stopped:
                    break
            if stopped is None:
                try:
                    self.proc.wait(timeout=max(0.05, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass  # it wrote its result: the kill below ends it
        finally:
            sel.close()
            code_ = self.proc.poll()
            self.kill()
        started = result[:1] == ACK
        body = bytes(result[1:] if started else result)
        crash = None
        if stopped is None and code_ is not None and code_ != 0 and not body:
            crash = _exit_detail(code_, raw)
        return body, stopped or crash, raw[-RAW_TAIL:].decode("utf-8", "replace"), started


def _exit_detail(code: int, raw: bytes) -> str:
    if code < 0 or code > 128:
        sig = -code if code < 0 else code - 128
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"crash:killed by {name}"
    text = raw.decode("utf-8", "replace")
    if "MemoryError" in text or "Cannot allocate memory" in text:
        return "memory"
    return f"crash:exit status {code}"


# ---- the pool of warm children --------------------------------------------------------------------------
class Pool:
    """Keeps `size` children started ahead; `take()` hands one out (or starts one cold when none is
    ready) and starts its replacement in the background. Shared by every session of the server:
    it holds no user data, only processes that have not seen any program yet."""

    def __init__(self, size: int = 1):
        self.size = size
        self.ready: list[Child] = []
        self.lock = threading.Lock()

    def take(self, sandboxed: bool) -> Child:
        child = None
        with self.lock:
            while self.ready:
                c = self.ready.pop(0)
                if c.sandboxed == sandboxed and c.alive():
                    child = c
                    break
                c.kill()
        if child is None:
            child = Child(sandboxed)
        threading.Thread(target=self.fill, args=(sandboxed,), daemon=True).start()
        return child

    def fill(self, sandboxed: bool) -> None:
        with self.lock:
            while len(self.ready) < self.size:
                self.ready.append(Child(sandboxed))

    def close(self) -> None:
        with self.lock:
            for c in self.ready:
                c.kill()
            self.ready = []


POOL = Pool(budgets.value("SANDBOX_POOL"))

# a run takes a slot of the server's one limiter for heavy work (vizgrad.app.limiter.HEAVY: at most
# VIZGRAD_HEAVY_SLOTS runs at once, default the number of cores, shared with live training and big
# walkthroughs): the child's CPU is what the cores limit is for, and each child may take its memory
# limit. A run waits up to QUEUE_SECONDS for its turn (told its place), then says the server is busy.
QUEUE_SECONDS = heavy.WAIT_SECONDS


# ---- a run ------------------------------------------------------------------------------------------------
def run(code: str, limits: Limits = DEFAULT_LIMITS, pool: Pool | None = POOL, limiter: heavy.Limiter | None = None,
        waiting: Callable[[int], None] | None = None) -> RunResult:
    """Run `code` in a fresh child (sandboxed when bubblewrap works) and read back what it made.
    It runs in a slot of `limiter` (default the server's HEAVY); while it waits for one, `waiting(k)`
    hears its place (see Limiter.slot); when none comes, the result says so (stopped="busy")."""
    st = status()
    if not st.can_run:
        return RunResult(False, error=st.message, mode=st.mode, stopped="refused")
    if not isinstance(code, str) or len(code) > MAX_CODE_CHARS:
        return RunResult(False, error=f"The code is too long: at most {MAX_CODE_CHARS:,} characters.", mode=st.mode)
    sandboxed = st.mode == "bubblewrap"
    try:
        with (limiter or heavy.HEAVY).slot(waiting=waiting, timeout=QUEUE_SECONDS):
            t0 = time.monotonic()
            child = pool.take(sandboxed) if pool is not None else Child(sandboxed)
            raw_result, stopped, raw, started = child.run(code, limits)
            if not started:  # it died (or hung) before the program arrived: the sandbox's failure; once more, fresh
                t0 = time.monotonic()
                raw_result, stopped, raw, started = Child(sandboxed).run(code, limits)
            seconds = time.monotonic() - t0
    except heavy.QueueFull as e:
        return RunResult(False, error=f"Not run: {e}.", mode=st.mode, stopped="busy")
    if not started:
        return RunResult(False, error="The sandbox could not start a run (twice): try again in a moment.",
                         stopped="crash", seconds=seconds, mode=st.mode)
    r = _read(raw_result, stopped, limits, seconds, st.mode)
    if stopped == "wall" and not r.output and raw:
        # killed before it could report: its output as it went to stderr (the mirror; the last part only)
        r.output = raw
        if len(raw) >= RAW_TAIL:
            r.notes.append(f"the output above is its last {RAW_TAIL:,} characters before it was stopped")
    return r


def _read(raw_result: bytes, stopped: str | None, limits: Limits, seconds: float, mode: str) -> RunResult:
    data = None
    detail = ""
    if raw_result:
        try:
            data = json.loads(raw_result.decode("utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except (ValueError, RecursionError) as e:
            data, detail = None, type(e).__name__
    if data is None:
        kind = stopped or "bad"
        if kind.startswith("crash:"):
            kind, detail = "crash", kind[6:]
        if stopped is None and not raw_result:
            kind, detail = "crash", "it ended without a result"
        return RunResult(False, error=_stop_message(kind, limits, detail), stopped=kind, seconds=seconds, mode=mode)
    r = RunResult(ok=bool(data.get("ok")), seconds=seconds, mode=mode)
    r.output = _text(data.get("output"), limits.output_chars)
    err = data.get("error")
    if isinstance(err, dict):
        r.error = _text(err.get("text"), 20_000)
        r.error_line = err.get("lineno") if isinstance(err.get("lineno"), int) else None
    kind = stopped or data.get("stopped")
    if kind:
        kind = str(kind)
        r.ok, r.stopped = False, kind if kind in STOP_MESSAGES else "crash"
        r.error = _stop_message(r.stopped, limits, "")
    r.tensors = [t for t in _list(data.get("tensors")) if isinstance(t, dict) and isinstance(t.get("name"), str)]
    r.modules = [m for m in _list(data.get("modules")) if isinstance(m, dict) and isinstance(m.get("name"), str)]
    r.notes = [_text(n, 500) for n in _list(data.get("notes"))]
    graphs = data.get("graphs")
    r.graphs = {k: v for k, v in graphs.items() if isinstance(k, str)} if isinstance(graphs, dict) else {}
    return r


def _text(v, cap: int) -> str:
    return v[:cap] if isinstance(v, str) else ""


def _list(v) -> list:
    return v if isinstance(v, list) else []


# ---- checking a graph that came from the child -------------------------------------------------------------
DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool", "complex64",
          "complex128"}


def _check_arrays(v, budget: list) -> None:
    """Every {"__ndarray__"} inside v has a plain dtype and a shape its numbers fill exactly."""
    if isinstance(v, dict):
        if "__ndarray__" in v:
            shape = v.get("shape")
            if v.get("dtype") not in DTYPES or not isinstance(shape, list) or len(shape) > 32 or \
                    not all(isinstance(s, int) and 0 <= s for s in shape):
                raise ValueError("an array with a bad dtype or shape")
            n = math.prod(shape)
            budget[0] -= n
            if budget[0] < 0:
                raise ValueError("too many numbers")
            a = np.array(v["__ndarray__"], dtype=object if v["dtype"].startswith("complex") else float)
            if a.size != n or a.dtype == object and any(not isinstance(x, (int, float, bool, complex)) for x in a.flat):
                raise ValueError("an array whose numbers do not fill its shape")
            return
        for x in v.values():
            _check_arrays(x, budget)
    elif isinstance(v, list):
        for x in v:
            _check_arrays(x, budget)


def _checked_graph(data, limits: Limits = DEFAULT_LIMITS):
    from vizgrad.graph import from_json
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) or not isinstance(data.get("links"), list):
        raise ValueError("not a node-link graph")
    if len(data["nodes"]) > limits.graph_nodes or len(data["links"]) > 4 * limits.graph_nodes:
        raise ValueError("too many nodes")
    ids = set()
    for nd in data["nodes"]:
        if not isinstance(nd, dict) or not isinstance(nd.get("id"), str) or nd.get("kind") not in ("tensor", "op", "module"):
            raise ValueError("a node without an id or kind")
        ids.add(nd["id"])
    for ed in data["links"]:
        if not isinstance(ed, dict) or ed.get("source") not in ids or ed.get("target") not in ids:
            raise ValueError("an edge between unknown nodes")
    if data.get("full") is not None:
        raise ValueError("a collapsed graph")  # the child sends full graphs; views are made here
    _check_arrays(data, [limits.graph_elements])
    return from_json(data)
