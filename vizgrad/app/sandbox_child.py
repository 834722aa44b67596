"""The Code page's child process: runs one untrusted program and writes back what it made, as JSON.

Started by vizgrad.app.sandbox (inside bubblewrap when available), never imported by the server:

    python -I -S -B -c "import sys; sys.path[:0] = [LIB]; from vizgrad.app.sandbox_child import main; main()" UID

One child serves one run, in this order:
  1. drop privileges: when started as root (bubblewrap run by root keeps CAP_SETUID/CAP_SETGID
     for this step only), become the unprivileged UID given on the command line, so that
     RLIMIT_NPROC applies (the kernel exempts root from it) and no capability is left;
  2. import the engine and the graph wing and install the `torch` alias (vizgrad.as_torch): this
     is the warm start, done before the program arrives;
  3. read the request from stdin: {"code": str, "limits": {...}} (JSON, up to EOF) and say so (ACK:
     a child that dies before that is the sandbox's failure, retried, never the program's);
  4. set the resource limits (CPU seconds on top of what the imports used, address space,
     processes, file size, open files, no core files) and run the code with its prints captured
     (capped), as `__main__`, in a fresh namespace;
     (also mirrored to stderr as it comes, so a run killed at the wall-clock limit still shows
     what it printed last);
  5. list its top-level tensors and nn.Modules and trace each tensor's graph (vizgrad.graph), then
     write one JSON object to the result channel (the original stdout; fd 1 itself is pointed at
     stderr first, so the program's own writes to fd 1 cannot mix with the result) and exit.

The result is data only (never a pickle): see `_result`. Errors are reported as a traceback of
the program's own lines (filename "<your code>"), never this module's or vizgrad's frames.
"""
from __future__ import annotations

import builtins
import json
import math
import os
import re
import resource
import signal
import sys
import traceback

FILENAME = "<your code>"
ACK = b"\x01"  # the first byte on the result channel: the request arrived (vizgrad.app.sandbox reads it)


class LimitReached(BaseException):
    """Raised inside the program when it reaches a limit (a BaseException: `except Exception` in
    the program cannot swallow it)."""


# ---- 1. privileges --------------------------------------------------------------------------------
def drop_privileges(uid: int) -> None:
    if uid < 0 or os.getuid() != 0:
        return
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # from root to another uid: the kernel clears every capability
    caps = [line for line in open("/proc/self/status") if line.startswith("CapEff:")]
    if os.getuid() != uid or (caps and int(caps[0].split()[1], 16) != 0):
        raise SystemExit("sandbox: could not drop privileges")


# ---- 4. limits and captured output ------------------------------------------------------------------
def set_limits(limits: dict) -> None:
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(used.ru_utime + used.ru_stime + limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # soft: SIGXCPU (reported); hard: killed
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"],) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class CappedText:
    """A text stream (the program's sys.stdout and sys.stderr, interleaved as in a terminal) that
    keeps at most `cap` characters and stops the program when it would write more."""

    def __init__(self, cap: int, mirror_fd: int | None = None):
        self.cap, self.parts, self.size, self.full = cap, [], 0, False
        self.encoding, self.errors = "utf-8", "replace"
        self.mirror_fd = mirror_fd  # also written there as it comes: what the parent shows if it must kill us

    def _keep(self, s: str) -> None:
        self.parts.append(s)
        if self.mirror_fd is not None:
            try:
                os.write(self.mirror_fd, s.encode("utf-8", "replace"))
            except OSError:
                self.mirror_fd = None

    def write(self, s) -> int:
        s = str(s)
        if self.full:
            raise LimitReached("output")
        room = self.cap - self.size
        if len(s) > room:
            self._keep(s[:room])
            self.size, self.full = self.cap, True
            raise LimitReached("output")
        self._keep(s)
        self.size += len(s)
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def text(self) -> str:
        return "".join(self.parts)


def _on_cpu_limit(signum, frame):
    raise LimitReached("cpu")


# ---- errors: the program's own lines only ------------------------------------------------------------
def _scrub(text: str) -> str:
    """A message with the sandbox's library paths taken out (they say nothing about the user's code)."""
    for prefix in sorted({p for p in sys.path if p and len(p) > 1}, key=len, reverse=True):
        text = text.replace(prefix + os.sep, "").replace(prefix, "<python>")
    return text


def _as_torch(message: str) -> str:
    """The message as the user's code names things: here `torch` is vizgrad (module 'vizgrad.nn' ...)."""
    return re.sub(r"\bvizgrad(?=[.'\s]|$)", "torch", message)


def user_traceback(exc: BaseException, lines: list[str]) -> dict:
    """{"type", "message", "lineno", "line", "text"}: the exception as a Python traceback showing
    only frames of the user's code."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == FILENAME]
    name = type(exc).__name__
    message = _as_torch(_scrub(str(exc)))
    out = ["Traceback (most recent call last):"]
    lineno = None
    if isinstance(exc, SyntaxError) and exc.filename == FILENAME:
        lineno = exc.lineno
        message = exc.msg
        out = [f'  File "{FILENAME}", line {exc.lineno}']
        if exc.lineno and 0 < exc.lineno <= len(lines):
            src = lines[exc.lineno - 1]
            out.append("    " + src.strip())
            if exc.offset:
                out.append("    " + " " * max(0, exc.offset - 1 - (len(src) - len(src.lstrip()))) + "^")
    repeats = 0
    for i, f in enumerate(frames):
        lineno = f.lineno
        if i and (f.lineno, f.name) == (frames[i - 1].lineno, frames[i - 1].name):
            repeats += 1
            if repeats >= 3:  # as Python prints deep recursion: the same frame once, then a count
                continue
        elif repeats >= 3:
            out.append(f"  [Previous line repeated {repeats - 2} more times]")
            repeats = 0
        else:
            repeats = 0
        out.append(f'  File "{FILENAME}", line {f.lineno}, in {f.name}')
        if f.lineno and 0 < f.lineno <= len(lines) and lines[f.lineno - 1].strip():
            out.append("    " + lines[f.lineno - 1].strip())
    if repeats >= 3:
        out.append(f"  [Previous line repeated {repeats - 2} more times]")
    out.append(f"{name}: {message}" if message else name)
    missing = re.fullmatch(r"module '(torch[\w.]*)' has no attribute '(\w+)'", message)
    if isinstance(exc, AttributeError) and missing:
        out.append(f"({missing[1]}.{missing[2]} is not supported here yet: `import torch` runs on vizgrad, "
                   f"a PyTorch-compatible engine that does not have it.)")
    line = lines[lineno - 1] if lineno and 0 < lineno <= len(lines) else ""
    return {"type": name, "message": message, "lineno": lineno, "line": line.strip(), "text": "\n".join(out)}


# ---- 5. what the program made -------------------------------------------------------------------------
def _summary(a, limit: int) -> dict:
    """An array as data: its shape, dtype and up to `limit` values (row-major), and whether cut."""
    import numpy as np
    a = np.asarray(a)
    flat = a.reshape(-1)[:limit]
    if a.dtype.kind == "c":
        flat = flat.real
    return {"shape": list(a.shape), "dtype": str(a.dtype), "values": flat.tolist(), "cut": bool(a.size > limit)}


def _collect(ns: dict, limits: dict) -> tuple[list, list, dict, list]:
    """(tensors, modules, graphs, notes) of the program's top-level variables."""
    import vizgrad
    import vizgrad.graph as vg
    from vizgrad.graph import view

    tensors, modules, graphs, notes = [], [], {}, []
    named = {}
    for name, v in list(ns.items()):
        if name.startswith("__"):
            continue
        if isinstance(v, vizgrad.nn.Module):
            params = []
            for pname, p in v.named_parameters():
                if getattr(p, "name", None) is None:
                    p.name = f"{name}.{pname}"
                named[f"{name}.{pname}"] = p
                g = view.grad(p)
                params.append({"name": pname, "shape": list(p.shape), "dtype": str(p.dtype),
                               "requires_grad": bool(p.requires_grad),
                               "value": _summary(view.value(p), limits["list_values"]),
                               "grad": None if g is None else _summary(g, limits["list_values"])})
            modules.append({"name": name, "type": type(v).__name__, "repr": str(v)[:4000], "parameters": params})
        elif isinstance(v, vizgrad.Tensor):
            if getattr(v, "name", None) is None:
                v.name = name
            fn = v.grad_fn
            tensors.append({"name": name, "shape": list(v.shape), "dtype": str(v.dtype),
                            "grad_fn": None if fn is None else fn.name(), "requires_grad": bool(v.requires_grad),
                            "is_leaf": fn is None, "has_grad": view.grad(v) is not None,
                            "value": _summary(view.value(v), limits["list_values"])})
    budget = limits["graph_elements"]
    for t in tensors:
        name = t["name"]
        try:
            g = vg.trace(ns[name], params=named)
        except Exception as e:  # one graph that cannot be traced must not lose the others
            notes.append(f"the graph of {name} could not be recorded: {type(e).__name__}: {_scrub(str(e))}")
            continue
        size = sum(int(d["value"].size) + (0 if d.get("grad") is None else int(d["grad"].size))
                   for _, d in g.nodes(data=True) if d["kind"] == "tensor")
        if g.number_of_nodes() > limits["graph_nodes"] or size > budget:
            notes.append(f"the graph of {name} is too large to send ({g.number_of_nodes()} nodes, "
                         f"{size} numbers; the limit is {limits['graph_nodes']} nodes, {budget} numbers in all)")
            continue
        budget -= size
        graphs[name] = json.loads(vg.to_json(g))
    return tensors, modules, graphs, notes


def _result(fd: int, data: dict, cap: int) -> None:
    text = json.dumps(data, allow_nan=True)
    if len(text) > cap:  # the graphs are what can be big: drop them, keep the rest
        data["notes"] = data.get("notes", []) + [f"the graphs were too large to send ({len(text)} bytes; limit {cap})"]
        data["graphs"] = {}
        text = json.dumps(data, allow_nan=True)
    if len(text) > cap:
        text = json.dumps({"ok": False, "output": data.get("output", "")[: cap // 2], "stopped": "result",
                           "error": None, "tensors": [], "modules": [], "graphs": {},
                           "notes": ["what the program left behind was too large to send"]})
    b = text.encode("utf-8", "replace")
    view = memoryview(b)
    while view:
        view = view[os.write(fd, view):]


def _finish(ns: dict, data: dict, limits: dict) -> None:
    try:
        data["tensors"], data["modules"], data["graphs"], notes = _collect(ns, limits)
        data["notes"] += notes
    except LimitReached as e:
        data["notes"].append(f"listing the variables stopped at the {e.args[0]} limit")
    except MemoryError:
        data["notes"].append("listing the variables ran out of memory")
    except Exception as e:  # e.g. a variable whose class breaks isinstance: keep the output
        data["notes"].append(f"the variables could not be listed: {type(e).__name__}")


def main() -> None:
    uid = int(sys.argv[1]) if len(sys.argv) > 1 else -1
    drop_privileges(uid)
    result_fd = os.dup(1)
    os.dup2(2, 1)  # the program's raw writes to fd 1 go where stderr goes, never into the result

    import vizgrad  # noqa: F401  (2. the warm start)
    import vizgrad.graph  # noqa: F401
    from vizgrad import as_torch
    as_torch.install()

    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    code, limits = request["code"], request["limits"]
    os.write(result_fd, ACK)  # the program is ours now: whatever happens next is its doing
    lines = code.splitlines()
    out = CappedText(limits["output_chars"], mirror_fd=2)
    data = {"ok": True, "output": "", "error": None, "stopped": None, "tensors": [], "modules": [],
            "graphs": {}, "notes": []}
    ns = {"__name__": "__main__", "__builtins__": builtins}
    signal.signal(signal.SIGXCPU, _on_cpu_limit)
    set_limits(limits)
    sys.stdout = sys.stderr = out
    try:
        try:
            exec(compile(code, FILENAME, "exec"), ns)  # this child exists to run it (in its sandbox)
        except LimitReached as e:
            data["ok"], data["stopped"] = False, str(e.args[0]) if e.args else "limit"
        except MemoryError:
            data["ok"], data["stopped"] = False, "memory"
        except SystemExit as e:
            if e.code not in (None, 0):
                data["ok"], data["error"] = False, user_traceback(e, lines)
        except BaseException as e:  # the program's own error: reported as its traceback
            data["ok"], data["error"] = False, user_traceback(e, lines)
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        data["output"] = out.text()
        _finish(ns, data, limits)
        _result(result_fd, data, limits["result_bytes"])
    except BaseException as e:  # out of memory (or time) while reporting: say so in a few bytes
        kind = "memory" if isinstance(e, MemoryError) else e.args[0] if isinstance(e, LimitReached) else "crash"
        os.write(result_fd, json.dumps({"ok": False, "stopped": kind, "output": ""}).encode())
    os._exit(0)  # no interpreter teardown: the program's objects (and their __del__) die with the process


if __name__ == "__main__":
    main()
