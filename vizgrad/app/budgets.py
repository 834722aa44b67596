"""Every budget a visitor's work runs under, in one table, each overridable by an environment variable.

    VIZGRAD_EXPR_MAX_NODES=500 VIZGRAD_CODE_WALL_SECONDS=2 make run     # a tighter public server
    from vizgrad.app import budgets
    budgets.value("WALK_MAX_STEPS")      # 400, or int(os.environ["VIZGRAD_WALK_MAX_STEPS"])
    budgets.expr_limits()                # the Expression Playground's ExprLimits
    budgets.net_limits()                 # the Network Playground's NetLimits
    budgets.section("CODE_")             # {"wall_seconds": 5.0, ...}: the Code page's sandbox Limits

A visitor can start: an expression (evaluated, differentiated, drawn, checked by finite
differences), a walkthrough of a graph, a training run, a Code-page run, a CSV upload. Each has a
budget in size (checked before the work starts) and in time (checked while it runs); past it the
visitor gets a message saying which limit and what to change. The defaults keep one rerun under
about 2 s of server CPU on this project's 2-core machine (bench/expr_limits.py, bench/edit_cost.py,
bench/code_run.py measure it). README "Budgets" lists them all.

Overrides are read when asked for (`value`), so a server started with VIZGRAD_<NAME>=... uses them
from its first page; a value that is not a number of the right kind, or is out of range, raises
BudgetError naming the variable (a misconfigured server fails loudly, not with a silent default).
The lower layers (vizgrad/expr, vizgrad/net) keep their own dataclasses with library defaults and
never import this module: the app layer builds them from here and passes them in.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Mapping

__all__ = ["Budget", "BUDGETS", "BudgetError", "value", "section", "limits_for", "expr_limits", "net_limits", "env_name"]


class BudgetError(ValueError):
    """A VIZGRAD_<NAME> environment variable that is not a valid budget."""


@dataclass(frozen=True)
class Budget:
    name: str                 # the environment variable is VIZGRAD_<name>
    default: int | float | None   # None: computed (see `what`)
    what: str                 # one line: what it bounds, in which unit
    minimum: float = 1        # smallest accepted value (0 where 0 switches something off)


def _cores() -> int:
    return max(1, os.cpu_count() or 1)


_ROWS = [
    # ---- the Expression Playground (vizgrad.expr.ExprLimits, one row per field: EXPR_<FIELD>) ----
    Budget("EXPR_MAX_SOURCE_LENGTH", 5000, "characters of one expression or value"),
    Budget("EXPR_MAX_BRACKET_DEPTH", 32, "( [ nesting in the raw text"),
    Budget("EXPR_MAX_DEPTH", 200, "syntax-tree depth"),
    Budget("EXPR_MAX_NODES", 2000, "syntax-tree nodes of one expression"),
    Budget("EXPR_MAX_ABS_NUMBER", 1e30, "magnitude of any number literal or value"),
    Budget("EXPR_MAX_EXPONENT", 64, "|exponent| of ** when it is a number"),
    Budget("EXPR_MAX_ELEMENTS", 100_000, "elements of any input, literal or intermediate tensor"),
    Budget("EXPR_MAX_DIMS", 8, "dimensions of any tensor"),
    Budget("EXPR_MAX_WORK", 2e7, "weighted element operations of one forward pass"),
    Budget("EXPR_MAX_VARIABLES", 64, "variables of one expression"),
    Budget("EXPR_MAX_INPUT_ELEMENTS", 400_000, "elements of all variables together"),
    Budget("EXPR_MAX_NAME_LENGTH", 64, "characters of a variable name"),
    Budget("PLAYGROUND_FD_EVALS", 64, "evaluations of the expression by the gradcheck, per request", 0),
    Budget("PLAYGROUND_FD_SECONDS", 0.4, "seconds the gradcheck may take, per request", 0),
    Budget("PLAYGROUND_CACHE_ENTRIES", 32, "results, figures and formulas one session keeps for its reruns; 0: none", 0),
    Budget("PLAYGROUND_CACHE_ELEMENTS", 1_000_000, "numbers in all the results one session keeps", 0),
    # ---- the Backprop Walkthrough (vizgrad/app/walkthrough.py) ----
    Budget("WALK_MAX_STEPS", 400, "steps of one walk (two per op): longer graphs are refused"),
    Budget("WALK_MAX_STORED_ELEMENTS", 2_000_000, "numbers one walk keeps across its steps"),
    Budget("WALK_MAX_FD_EVALUATIONS", 512, "evaluations by the walk's finite-difference check", 0),
    Budget("WALK_MAX_FD_WORK", 20_000_000, "elements those evaluations compute together", 0),
    Budget("WALK_HEAVY_NODES", 40, "nodes (tensors + ops) from which a walk is heavy work (built, animated in a heavy slot)"),
    # ---- the Code page (vizgrad.app.sandbox.Limits: CODE_<FIELD>; runs in a child process) ----
    Budget("CODE_WALL_SECONDS", 5.0, "seconds of one run (the sandbox is killed after)", 0.1),
    Budget("CODE_CPU_SECONDS", 4, "CPU seconds of one run"),
    Budget("CODE_MEMORY_BYTES", 512 << 20, "bytes of address space of one run", 64 << 20),
    Budget("CODE_FILE_BYTES", 1 << 20, "bytes of the largest file a run may write (in its /tmp)", 0),
    Budget("CODE_TMP_BYTES", 4 << 20, "bytes of a run's private /tmp", 4096),
    Budget("CODE_OPEN_FILES", 64, "open files of one run", 16),
    Budget("CODE_OUTPUT_CHARS", 1_000_000, "printed characters kept (the run is stopped past it)"),
    Budget("CODE_RESULT_BYTES", 4_000_000, "bytes of JSON a run sends back", 1024),
    Budget("CODE_GRAPH_NODES", 2_000, "nodes of one graph a run sends back"),
    Budget("CODE_GRAPH_ELEMENTS", 200_000, "numbers in all of a run's graphs"),
    Budget("CODE_LIST_VALUES", 64, "values shown per tensor in the lists"),
    Budget("CODE_MAX_CHARS", 100_000, "characters of one program"),
    Budget("SANDBOX_POOL", 1, "sandboxes started ahead (warm)", 0),
    # ---- the Network Playground (vizgrad.net.NetLimits: NET_<FIELD>) ----
    Budget("NET_MAX_SAMPLES", 2000, "points of a dataset (generated or uploaded)"),
    Budget("NET_MAX_WIDTH", 16, "neurons of a hidden layer"),
    Budget("NET_MAX_DEPTH", 6, "hidden layers"),
    Budget("NET_MAX_STEPS_PER_RUN", 20000, "training steps of one run"),
    Budget("NET_MAX_BATCH_SIZE", 2000, "batch size"),
    Budget("NET_MAX_LR", 10.0, "learning rate", 0),
    Budget("NET_MAX_REG_RATE", 10.0, "regularisation rate", 0),
    Budget("NET_MAX_CLASSES", 10, "classes of an uploaded dataset", 2),
    Budget("NET_MAX_GRID", 200, "resolution of the decision-boundary grid", 2),
    # ---- uploads and heavy work, server-wide ----
    Budget("UPLOAD_MB", 1, "megabytes of one upload (Streamlit's server.maxUploadSize, see README)"),
    Budget("HEAVY_SLOTS", None, "heavy runs at once, server-wide: training updates, Code runs, big walks (default: cores)"),
]
BUDGETS: dict[str, Budget] = {b.name: b for b in _ROWS}
_COMPUTED = {"HEAVY_SLOTS": _cores}


def env_name(name: str) -> str:
    return f"VIZGRAD_{name}"


def value(name: str, environ: Mapping[str, str] | None = None):
    """The budget `name` (a key of BUDGETS): VIZGRAD_<name> if set, else its default, as the
    default's type (an int budget accepts 1e6 or 1_000_000 only if it is a whole number)."""
    b = BUDGETS[name]
    default = _COMPUTED[name]() if b.default is None else b.default
    raw = (os.environ if environ is None else environ).get(env_name(name), "").strip()
    if not raw:
        return default
    var = env_name(name)
    try:
        number = float(raw.replace("_", ""))
    except ValueError:
        raise BudgetError(f"{var}={raw!r} is not a number ({b.what}; default {default})") from None
    if not number == number or number in (float("inf"), float("-inf")):  # NaN or infinite
        raise BudgetError(f"{var}={raw!r} is not a finite number ({b.what})")
    if isinstance(default, int):
        if number != int(number):
            raise BudgetError(f"{var}={raw!r} must be a whole number ({b.what})")
        number = int(number)
    if number < b.minimum:
        raise BudgetError(f"{var}={raw!r} is below its minimum {b.minimum:g} ({b.what})")
    return number


def section(prefix: str, environ: Mapping[str, str] | None = None) -> dict:
    """{field: value} of every budget named prefix + FIELD, field in lower case: the keyword
    arguments of the dataclass that layer defines (ExprLimits, NetLimits, sandbox.Limits)."""
    return {n[len(prefix):].lower(): value(n, environ) for n in BUDGETS if n.startswith(prefix)}


def limits_for(cls, prefix: str, environ: Mapping[str, str] | None = None):
    """cls (a limits dataclass) with every field that has a budget prefix + FIELD set from it; the
    other fields keep the class's defaults."""
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in section(prefix, environ).items() if k in known})


def expr_limits(environ: Mapping[str, str] | None = None):
    """The Expression Playground's vizgrad.expr.ExprLimits (EXPR_* budgets)."""
    from vizgrad.expr import ExprLimits
    return limits_for(ExprLimits, "EXPR_", environ)


def net_limits(environ: Mapping[str, str] | None = None):
    """The Network Playground's vizgrad.net.NetLimits (NET_* budgets)."""
    from vizgrad.net.config import NetLimits
    return limits_for(NetLimits, "NET_", environ)
