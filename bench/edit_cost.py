"""CPU cost of Expression Playground edits, before issue 17 (c)'s work and now (issue 17 (c): halve it).

    .venv/bin/python bench/edit_cost.py            # script-thread CPU ms per rerun (AppTest): before, now, ratio
    .venv/bin/python bench/edit_cost.py 5 --server # the same at the protocol level: a real server's CPU per edit

"Before" is the code of BASELINE (the commit before this work: each trace built twice through
plotly's validating graph objects, every figure serialised again on every rerun; its session Memo
kept the figures of states seen before) with VIZGRAD_PLAYGROUND_CACHE_ENTRIES=0, so that every
rerun recomputes everything, as the issue measured it (an edit: about 0.15 s of server CPU); git
archive exports that tree to a temporary folder and a child process runs the same edits there
(each round in its own process, the three interleaved).
"Now" is this tree, with the Memo off (every rerun recomputes, but cheaper) and on (the page as
served). The ratio is now-with-the-Memo / before.

A typical sequence of edits (EDITS: an example picked, values typed, display toggles switched and
switched back, a node clicked, Back and Forward, the backward animation played, the theme, another
example, the first expression typed again) runs through AppTest. What is measured is the CPU time
of the thread that runs the page's script (time.thread_time around Streamlit's script run), so
AppTest's own work in the test thread is left out. AppTest compiles the page's script again on
every run, which a server does once (its ScriptCache is shared): one ScriptCache is shared here
too, so that the compile is not counted. AppTest sends no User-Agent, so each rerun draws one
layout; a desktop browser gets two (wide and narrow).

--server: `streamlit run` of each tree (tests/stclient.serve), one protocol-level session
(tests/stclient.Session, whose websocket client says it is not a phone: two layouts per figure, as
a desktop browser gets) doing SERVER_EDITS; the server process's CPU (user + system, all its
threads: the script, Streamlit's serialisation and websocket) over the whole sequence, per edit.
Clicks on the graph are left out there (the protocol client cannot click a chart). A server's
CPU per rerun is mostly Streamlit's garbage collection after each script run (runner.postScriptGC:
a full collection of the whole process, libraries included), which this bench leaves as served.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
BASELINE = "d1dda2f"   # main before issue 17 (c)'s figure work

# (what the visitor does, how to do it to an AppTest)
EDITS = [
    ("pick an example", lambda at: at.selectbox(key="pg_example").set_value(5)),     # tanh(w*x + b)
    ("edit the formula", lambda at: at.text_input(key="pg_expr").set_value("tanh(w*x + b) * x")),
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
    ("another example", lambda at: at.selectbox(key="pg_example").set_value(6)),   # least squares, matrices
    ("a value of it", lambda at: at.text_input(key="pg_v_v").set_value("[0.5, -2]")),
    ("first one again", lambda at: at.text_input(key="pg_expr").set_value("tanh(w*x + b) * x")),
]

# (what the visitor does, (widget label, value)) for --server: text typed, an option picked, a toggle, a click
SERVER_EDITS = [
    ("pick an example", ("Examples", "A neuron: tanh(w·x + b)")),
    ("edit the formula", ("Expression", "tanh(w*x + b) * x")),
    ("type a value", ("w =", "0.8")),
    ("values off", ("values", False)),
    ("values on", ("values", True)),
    ("gradients off", ("gradients", False)),
    ("gradients on", ("gradients", True)),
    ("type a value", ("x =", "3")),
    ("Back", ("Back", None)),
    ("Forward", ("Forward", None)),
    ("play backward", ("Play the whole backward pass", True)),
    ("stop playing", ("Play the whole backward pass", False)),
    ("dark", ("dark", True)),
    ("light", ("dark", False)),
    ("another example", ("Examples", "Least squares: Σ(Wv − t)²")),
    ("a value of it", ("v =", "[0.5, -2]")),
    ("first one again", ("Expression", "tanh(w*x + b) * x")),
]


def app_costs(root: Path, cache_entries: str | None, rounds: int) -> list[list[float]]:
    """Script-thread CPU seconds of each edit's rerun, `rounds` times (after one warm-up), of the
    app in `root` with VIZGRAD_PLAYGROUND_CACHE_ENTRIES set as given. Runs in a process whose
    sys.path starts with root (main --child)."""
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import AppTest, app_test, local_script_runner

    cpu: list[float] = []
    run_script = script_runner.ScriptRunner._run_script

    def timed_run_script(self, *a, **k):
        t0 = time.thread_time()
        try:
            return run_script(self, *a, **k)
        finally:
            cpu.append(time.thread_time() - t0)

    script_runner.ScriptRunner._run_script = timed_run_script
    shared = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared   # compile once, as a server does
    if cache_entries is None:
        os.environ.pop("VIZGRAD_PLAYGROUND_CACHE_ENTRIES", None)
    else:
        os.environ["VIZGRAD_PLAYGROUND_CACHE_ENTRIES"] = cache_entries

    def sequence():
        at = AppTest.from_file(str(root / "app.py"), default_timeout=60)
        at.run()
        at.switch_page("pages/expression.py").run()
        costs = []
        for what, act in EDITS:
            act(at)
            del cpu[:]
            at.run()
            assert not at.exception, (what, at.exception)
            assert not at.error, (what, [e.value for e in at.error])   # every edit draws a graph
            costs.append(sum(cpu))
        return costs

    sequence()  # warm: imports, first figures
    return [sequence() for _ in range(rounds)]


def server_costs(root: Path, cache_entries: str | None, rounds: int) -> list[float]:
    """CPU seconds of the server process (root's app.py under `streamlit run`) per edit of
    SERVER_EDITS, one figure per round (the sequence's total / its length)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    from tests.stclient import Session, serve

    env = {} if cache_entries is None else {"VIZGRAD_PLAYGROUND_CACHE_ENTRIES": cache_entries}
    tick = os.sysconf("SC_CLK_TCK")

    def cpu(pid):  # user + system seconds of every thread of the process
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    def follow_url(s):
        """As a browser's address bar does: the query the page writes (st.query_params) is the one the
        next rerun sends (else the page takes the old query for the browser's Back and reloads it)."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        recv = s.ws.recv

        def recv_and_follow(*a, **k):
            data = recv(*a, **k)
            fm = ForwardMsg()
            fm.ParseFromString(data)
            if fm.WhichOneof("type") == "page_info_changed":
                s.query = fm.page_info_changed.query_string
            return data
        s.ws.recv = recv_and_follow

    out = []
    with serve(env=env) as (url, proc):
        for r in range(rounds + 1):  # the first warms: imports, first figures
            with Session(url) as s:
                follow_url(s)
                first = s.run("playground", "")
                assert first.ok, first.exceptions
                t0 = cpu(proc.pid)
                for what, (label, value) in SERVER_EDITS:
                    kind, wid = s.widget(label)
                    if kind == "button":
                        run = s.click(label)
                    elif kind == "checkbox":  # st.toggle too
                        run = s.run(s.page, s.query, widgets=[WidgetState(id=wid, bool_value=value)])
                    else:
                        run = s.set_text(label, value)
                    assert run.ok and not run.texts("error"), (what, run.exceptions, run.texts("error"))
                if r:
                    out.append((cpu(proc.pid) - t0) / len(SERVER_EDITS))
    return out


def baseline_tree(rev: str) -> Path:
    """rev's files (git archive) in a fresh temporary folder."""
    dest = Path(tempfile.mkdtemp(prefix="vizgrad-baseline-"))
    tar = subprocess.run(["git", "-C", str(HERE), "archive", rev], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(dest, filter="data")
    return dest


def child(root: Path, cache: str | None, rounds: int, server: bool) -> list:
    """Run this file in a fresh process over the app in root; its measurement."""
    args = [sys.executable, __file__, "--child", str(root), cache or "-", str(rounds)] + (["--server"] if server else [])
    res = subprocess.run(args, capture_output=True, text=True, cwd=root)
    if res.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(rounds: int, server: bool) -> None:
    base = baseline_tree(BASELINE)
    try:
        measure(base, rounds, server)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def measure(base: Path, rounds: int, server: bool) -> None:
    before, now_off, now = [], [], []
    for _ in range(rounds):  # interleaved, one round per process, so that the host's drift hits all alike
        before += child(base, "0", 1, server)
        now_off += child(HERE, "0", 1, server)
        now += child(HERE, None, 1, server)
    if server:
        b, o, n = (statistics.median(x) for x in (before, now_off, now))
        print(f"server CPU ms per edit (protocol level, {len(SERVER_EDITS)} edits, median of {rounds} rounds):")
        print(f"  before {b * 1e3:.1f}   now without the memo {o * 1e3:.1f}   now {n * 1e3:.1f}")
        print(f"server CPU per edit now / before: {n / b:.2f} (target at most 0.5)")
        return
    med = [[statistics.median(r[i] for r in runs) for i in range(len(EDITS))] for runs in (before, now_off, now)]
    print(f"{'edit':18s} {'before':>8s} {'no memo':>8s} {'now':>8s}   (script-thread CPU ms, median of {rounds})")
    for (what, _), a, b, c in zip(EDITS, *med):
        print(f"{what:18s} {a * 1e3:8.1f} {b * 1e3:8.1f} {c * 1e3:8.1f}")
    tot = [sum(m) / len(EDITS) for m in med]
    print(f"{'per edit':18s} {tot[0] * 1e3:8.1f} {tot[1] * 1e3:8.1f} {tot[2] * 1e3:8.1f}")
    print(f"CPU per edit now / before: {tot[2] / tot[0]:.2f} (target at most 0.5)")


if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv and argv[0] == "--child":   # --child ROOT CACHE|- ROUNDS [--server]
        root = Path(argv[1]).resolve()
        sys.path.insert(0, str(root))
        cache = None if argv[2] == "-" else argv[2]
        fn = server_costs if "--server" in argv else app_costs
        print(json.dumps(fn(root, cache, int(argv[3]))))
    else:
        nums = [a for a in argv if not a.startswith("--")]
        main(int(nums[0]) if nums else 5, "--server" in argv)
