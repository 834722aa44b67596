"""The Code page's model: examples, the code in the URL, one run's results as tables and graphs (no UI).

    from vizgrad.app import code as cp
    cp.EXAMPLES[0].code                     # 'import torch\\n\\n' (the blank template); then the seeds, the lessons
    r = cp.run_code(cp.example("nn_xy_to_200").code)   # vizgrad.app.sandbox.run: a sandboxed child, in a
                                            # slot of the server's limiter (waiting=: the visitor's place)
    cp.tensor_rows(r)                       # [{'name': 'x', 'shape': '(1,)', 'grad_fn': '', '.grad': 'set', ...}]
    cp.graph_choices(r)                     # ['x', 'y', 'z', 'output', 'loss']: what can be drawn
    cp.default_choice(r)                    # 'loss'
    v = cp.graph_view(r, "loss")            # the graph of `loss` (vizgrad.graph.lod view: modules as boxes)
    cp.encode_code(text) / cp.decode_code(s)   # the code in the shareable URL (?code=...)
    q = cp.walkthrough_query(text, "loss")  # {"code": ..., "var": "loss"}: a Walkthrough link's params
    g, title, error = cp.graph_from_query(q)   # what the Walkthrough builds its walk from (runs the code)

Examples: the blank template, every seed chapter's code verbatim (tests/seeds/*.py: the nn_*
examples are the seeds' own text; the seed_* ones are shown with their `import torch`, as the
seed printed it) and every lesson's code (vizgrad.app.lessons). All run unchanged in the sandbox,
where `import torch` is vizgrad.

The server never executes the code: vizgrad.app.sandbox runs it in a child process and sends back
JSON, which `graph_view` checks (vizgrad.app.sandbox._checked_graph) before building anything.
"""
from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from vizgrad.app import sandbox
from vizgrad.app.limiter import QueueFull
from vizgrad.app.sandbox import Limits, RunResult

__all__ = ["Example", "EXAMPLES", "example", "run_code", "encode_code", "decode_code", "tensor_rows", "module_rows",
           "parameter_rows", "graph_choices", "default_choice", "graph_view", "walkthrough_query", "graph_from_query",
           "TEMPLATE", "MAX_URL_CHARS"]

TEMPLATE = "import torch\n\n"
SEEDS = Path(__file__).resolve().parents[2] / "tests" / "seeds"   # the seed chapters' code (the project's corpus)
MAX_URL_CHARS = 8_000            # the encoded code in a link, at most (browsers keep URLs of 32 k and more)
MAX_CODE_CHARS = sandbox.MAX_CODE_CHARS


# ---- examples ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Example:
    key: str       # "blank", a seed's file stem, "lesson:<id>"
    title: str     # what the menu shows
    code: str


def _seed_title(path: Path, text: str) -> str:
    first = text.splitlines()[0] if text else ""
    m = re.match(r"#\s*Seed [^(]*\(([^)]*)\)[:\s]*(.*)", first)
    if m:
        return f"Seed: {m.group(1)}" + (f" — {m.group(2).rstrip('.')}" if m.group(2) else "")
    return f"Seed: {path.stem}"


def _seeds() -> list[Example]:
    out = []
    for path in sorted(SEEDS.glob("*.py")) if SEEDS.is_dir() else []:
        text = path.read_text()
        # the seed_* files say `import vizgrad as torch` where the seed said `import torch`
        text = re.sub(r"^import vizgrad as torch$", "import torch", text, flags=re.M)
        out.append(Example(path.stem, _seed_title(path, text), text))
    return out


def _lessons() -> list[Example]:
    from vizgrad.app.lessons import LESSONS
    return [Example(f"lesson:{lesson.id}", f"Lesson {lesson.title}", lesson.source) for lesson in LESSONS]


EXAMPLES: list[Example] = [Example("blank", "Blank: import torch", TEMPLATE), *_seeds(), *_lessons()]
_BY_KEY = {e.key: e for e in EXAMPLES}


def example(key: str) -> Example | None:
    return _BY_KEY.get(key)


# ---- a run ----------------------------------------------------------------------------------------------------
def run_code(code: str, limits: Limits = sandbox.DEFAULT_LIMITS, waiting: Callable[[int], None] | None = None,
             limiter=None) -> RunResult:
    """Run the code in the sandbox (see vizgrad.app.sandbox) and return what came back. It waits for
    a slot of the server's limiter for heavy work first (`limiter`, default vizgrad.app.limiter.HEAVY):
    `waiting(k)` hears the visitor's place (k runs ahead; 0 once it runs). If no slot comes, the
    result has stopped="busy" and says so (the page keeps the previous result)."""
    return sandbox.run(code, limits, limiter=limiter, waiting=waiting)


# ---- the code in the URL -----------------------------------------------------------------------------------------
def encode_code(code: str) -> str:
    """zlib, then URL-safe base64 without padding; ValueError when the result would exceed MAX_URL_CHARS."""
    s = base64.urlsafe_b64encode(zlib.compress(code.encode("utf-8"), 9)).decode("ascii").rstrip("=")
    if len(s) > MAX_URL_CHARS:
        raise ValueError(f"The code is too long to put in a link ({len(s):,} characters encoded; "
                         f"at most {MAX_URL_CHARS:,}).")
    return s


def decode_code(s: str) -> str:
    """The code back from encode_code; ValueError with what is wrong for anything else."""
    if not isinstance(s, str) or not s:
        raise ValueError("The link holds no code.")
    if len(s) > MAX_URL_CHARS:
        raise ValueError(f"The code in the link is too long ({len(s):,} characters; at most {MAX_URL_CHARS:,}).")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", s):
        raise ValueError("The code in the link is damaged (it has characters a shared link never has).")
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
        d = zlib.decompressobj()
        data = d.decompress(raw, MAX_CODE_CHARS * 4 + 1)   # never more than this, however it was packed
        if d.unconsumed_tail or len(data) > MAX_CODE_CHARS * 4 or not d.eof:
            raise ValueError("The code in the link is too long or cut off.")
        text = data.decode("utf-8")
    except ValueError:
        raise
    except (zlib.error, UnicodeDecodeError, base64.binascii.Error) as e:
        raise ValueError("The code in the link is damaged (it does not unpack).") from e
    if len(text) > MAX_CODE_CHARS:
        raise ValueError(f"The code in the link is too long ({len(text):,} characters; at most {MAX_CODE_CHARS:,}).")
    return text


# ---- what a run left: tables ------------------------------------------------------------------------------------
def _shape(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")" if isinstance(shape, list) else "?"


def _values(summary, n: int = 6) -> str:
    if not isinstance(summary, dict) or not isinstance(summary.get("values"), list):
        return ""
    vals = summary["values"][:n]
    text = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in vals)
    more = summary.get("cut") or len(summary["values"]) > n
    return ("[" + text + (", …" if more else "") + "]") if summary.get("shape") else text


def tensor_rows(r: RunResult) -> list[dict]:
    """One row per top-level tensor variable: name, shape, dtype, grad_fn, whether .grad is set, values."""
    return [{"name": t["name"], "shape": _shape(t.get("shape")), "dtype": str(t.get("dtype", "")),
             "grad_fn": str(t.get("grad_fn") or ""), "requires_grad": bool(t.get("requires_grad")),
             ".grad": "set" if t.get("has_grad") else "None", "value": _values(t.get("value"))}
            for t in r.tensors]


def module_rows(r: RunResult) -> list[dict]:
    return [{"name": m["name"], "type": str(m.get("type", "")),
             "parameters": len(m.get("parameters") or []),
             "grads set": sum(1 for p in m.get("parameters") or [] if isinstance(p, dict) and p.get("grad"))}
            for m in r.modules]


def parameter_rows(r: RunResult, module: str) -> list[dict]:
    """The parameters of one top-level module: name, shape, values and gradients (the first few)."""
    m = next((m for m in r.modules if m["name"] == module), None)
    if m is None:
        return []
    return [{"name": str(p.get("name")), "shape": _shape(p.get("shape")), "value": _values(p.get("value")),
             "grad": _values(p.get("grad")) if p.get("grad") else "None"}
            for p in m.get("parameters") or [] if isinstance(p, dict)]


def module_repr(r: RunResult, module: str) -> str:
    m = next((m for m in r.modules if m["name"] == module), None)
    return str(m.get("repr", "")) if m else ""


# ---- graphs ---------------------------------------------------------------------------------------------------
def graph_choices(r: RunResult) -> list[str]:
    """The tensor variables whose graph came back, in the program's order."""
    return [t["name"] for t in r.tensors if t["name"] in r.graphs]


def default_choice(r: RunResult) -> str | None:
    """`loss` when there is one, else the last variable with a recorded graph, else the last one."""
    names = graph_choices(r)
    if not names:
        return None
    if "loss" in names:
        return "loss"
    with_fn = [t["name"] for t in r.tensors if t["name"] in names and t.get("grad_fn")]
    return (with_fn or names)[-1]


def graph_view(r: RunResult, name: str, open_groups=None):
    """The graph of `name` for drawing: vizgrad.graph.lod's default view (modules and repeats as
    boxes) or the view with `open_groups` open. ValueError when the child's graph is not valid."""
    from vizgrad.graph.lod import default_view, view_of
    g = r.graph(name)
    if g is None:
        raise ValueError(f"No graph was recorded for {name!r}.")
    return default_view(g) if open_groups is None else view_of(g, open_groups)


# ---- the Backprop Walkthrough's way in ------------------------------------------------------------------------
def walkthrough_query(code: str, name: str) -> dict:
    """The URL params of a Walkthrough link to the graph of variable `name` of this code."""
    return {"code": encode_code(code), "var": str(name)}


def graph_from_query(params, waiting: Callable[[int], None] | None = None) -> tuple:
    """(graph, title, error) for the Walkthrough: the code in params["code"] run in the sandbox, and
    the checked graph of its variable params["var"] (vizgrad.graph.steps.walk_graph walks it; the
    engine objects stay in the sandbox, so there is no finite-difference check). error is a message.
    The run waits for its slot as run_code's does (`waiting`); vizgrad.app.limiter.QueueFull when
    none came (the server is busy: the caller says so and lets the visitor try again)."""
    name = str(params.get("var", "") or "")[:100]
    try:
        text = decode_code(str(params.get("code", "") or ""))
    except ValueError as e:
        return None, "your code", str(e)
    r = run_code(text, waiting=waiting)
    if r.stopped == "busy":
        raise QueueFull(r.error)
    title = f"your code: {name}"
    if name not in r.graphs:
        if r.error and not r.graphs:
            return None, title, r.error
        known = ", ".join(graph_choices(r)) or "none"
        return None, title, f"Your code left no tensor called '{name}' (tensors with a graph: {known})."
    try:
        return r.graph(name), title, None
    except ValueError as e:
        return None, title, f"The graph of {name} could not be read: {e}"
