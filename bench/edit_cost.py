"""CPU cost of Expression Playground edits, with and without the session's Memo (issue 17 (c)).

    .venv/bin/python bench/edit_cost.py          # prints CPU ms per rerun, both ways, and the ratio

A typical sequence of edits (EDITS: a new expression, values typed, display toggles switched and
switched back, a node clicked, Back and Forward, the backward animation played) runs through
AppTest twice in this process: once with VIZGRAD_PLAYGROUND_CACHE_ENTRIES=0 (every rerun computes
everything, as before the Memo) and once with the default budget. What is measured is the CPU
time of the thread that runs the page's script (time.thread_time around Streamlit's script run), so
AppTest's own work in the test thread is left out. AppTest compiles the page's script again on
every run, which a server does once (its ScriptCache is shared): one ScriptCache is shared here
too, so that the compile is not counted. AppTest sends no User-Agent, so each rerun draws one
layout; a desktop browser gets two (wide and narrow), which the Memo keeps alike.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.runtime.scriptrunner import script_runner  # noqa: E402
from streamlit.runtime.scriptrunner.script_cache import ScriptCache  # noqa: E402
from streamlit.testing.v1 import AppTest, app_test, local_script_runner  # noqa: E402

CPU: list[float] = []     # seconds of script-thread CPU, one per script run
_run_script = script_runner.ScriptRunner._run_script


def _timed_run_script(self, *a, **k):
    t0 = time.thread_time()
    try:
        return _run_script(self, *a, **k)
    finally:
        CPU.append(time.thread_time() - t0)


script_runner.ScriptRunner._run_script = _timed_run_script
_shared_cache = ScriptCache()
app_test.ScriptCache = local_script_runner.ScriptCache = lambda: _shared_cache   # compile once, as a server does

# (what the visitor does, how to do it to an AppTest)
EDITS = [
    ("new expression", lambda at: at.text_input(key="pg_expr").set_value("tanh(w*x + b) * x")),
    ("type a value", lambda at: at.text_input(key="pg_v_w").set_value("0.8")),
    ("values off", lambda at: at.toggle(key="pg_show_values").set_value(False)),
    ("values on", lambda at: at.toggle(key="pg_show_values").set_value(True)),
    ("gradients off", lambda at: at.toggle(key="pg_show_grads").set_value(False)),
    ("gradients on", lambda at: at.toggle(key="pg_show_grads").set_value(True)),
    ("click a node", lambda at: at.session_state.__setitem__("pg_sel", "t1")),
    ("click it off", lambda at: at.session_state.__setitem__("pg_sel", None)),
    ("type a value", lambda at: at.text_input(key="pg_v_x").set_value("3")),
    ("Back", lambda at: at.button[0].click()),
    ("Forward", lambda at: at.button[1].click()),
    ("play backward", lambda at: at.toggle(key="pg_backflow").set_value(True)),
    ("stop playing", lambda at: at.toggle(key="pg_backflow").set_value(False)),
    ("dark", lambda at: at.toggle(key="pg_dark").set_value(True)),
    ("light", lambda at: at.toggle(key="pg_dark").set_value(False)),
    ("another expression", lambda at: at.text_input(key="pg_expr").set_value("sum((W @ v - t)**2)")),
    ("first one again", lambda at: at.text_input(key="pg_expr").set_value("tanh(w*x + b) * x")),
]


def sequence(cache_entries: str | None) -> list[float]:
    """CPU seconds of each edit's rerun, with VIZGRAD_PLAYGROUND_CACHE_ENTRIES set as given."""
    if cache_entries is None:
        os.environ.pop("VIZGRAD_PLAYGROUND_CACHE_ENTRIES", None)
    else:
        os.environ["VIZGRAD_PLAYGROUND_CACHE_ENTRIES"] = cache_entries
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/expression.py").run()
    costs = []
    for what, act in EDITS:
        act(at)
        del CPU[:]
        at.run()
        assert not at.exception, (what, at.exception)
        costs.append(sum(CPU))
    return costs


def main(rounds: int = 5) -> None:
    sequence(None)  # warm: imports, first figures
    off, on = [], []
    for _ in range(rounds):  # interleaved, so that the host's drift hits both alike
        off.append(sequence("0"))
        on.append(sequence(None))
    os.environ.pop("VIZGRAD_PLAYGROUND_CACHE_ENTRIES", None)
    med_off = [statistics.median(r[i] for r in off) for i in range(len(EDITS))]
    med_on = [statistics.median(r[i] for r in on) for i in range(len(EDITS))]
    print(f"{'edit':20s} {'no memo':>9s} {'memo':>9s}   (script-thread CPU ms, median of {rounds})")
    for (what, _), a, b in zip(EDITS, med_off, med_on):
        print(f"{what:20s} {a * 1e3:9.1f} {b * 1e3:9.1f}")
    total_off, total_on = sum(med_off), sum(med_on)
    print(f"{'per edit':20s} {total_off / len(EDITS) * 1e3:9.1f} {total_on / len(EDITS) * 1e3:9.1f}")
    print(f"CPU per edit with the memo / without: {total_on / total_off:.2f} (target at most 0.5)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
