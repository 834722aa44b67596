"""A class of visitors on the hosted demo: a protocol-level load generator (no browsers).

    .venv/bin/python bench/load.py                         # 50 sessions, 5 training, 5 coding, 2 replicas, 60 s
    .venv/bin/python bench/load.py --replicas 1 --sessions 20 --think 4 --seconds 30
    .venv/bin/python bench/load.py --coders 0              # no Code-page runs (edits, steps, training only)
    .venv/bin/python bench/load.py --sweep                 # highest rate held at p95 < 1 s, R = 1 and 2
    .venv/bin/python bench/load.py --env PYTHONMALLOC=pymalloc --env LD_PRELOAD=   # another allocator
    memory: bench/memory.py                                # RSS after rounds of 50 sessions come and go

Each session is a thread speaking Streamlit's websocket protocol (tests/stclient.py) through the
nginx balancer of deploy/serve.py (R replicas; R = 1 is still behind nginx, so the two compare).
A session acts every `--think` seconds on average (exponential gaps, like independent people),
doing its journey's next action:
  edit   the Expression Playground with a new expression (a rerun with a new URL, as typing does)
  step   the Backprop Walkthrough's Next button
  code   the Code page: a short PyTorch program typed into the editor and committed (Ctrl+Enter),
         a new one each time (a small model, its loss and backward): a sandboxed run in a slot of the server's heavy-work limiter (shared
         with training), then its output, tables and graph drawn; a run the server was too busy for
         (its "server is busy" warning) or that failed counts as an error
  train  the Network Playground on Play: the page's own fragment reruns, back to back as a tab
         does (these sessions count separately: their updates are the load, not actions)
Printed per journey: actions, errors, p50/p95/max seconds from the action to its finished rerun;
the action rate achieved (edits, steps and code runs); server RSS (all replicas) before, at the
peak and after the sessions closed; and how many sessions' requests ever reached a replica other
than their websocket's.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "deploy"))

from serve import Deployment  # noqa: E402
from tests.stclient import Session, free_port  # noqa: E402

EXPRESSIONS = ["x**2 + y**3", "sin(x) * exp(-y)", "tanh(x*y + 1)", "log(1 + x**2) / (1 + y**2)",
               "relu(x - y) * sigmoid(x)", "(x + y) * (y + 1)", "sqrt(x**2 + y**2)", "x**3 - 3*x*y"]
WALKS = ["expr=x**2%2By**3", "expr=(x%2By)*(y%2B1)", "expr=sin(x)*x"]
# what a visitor of the Code page runs: a small model, one backward (a new input each time: the page
# reruns a program only when its text changed)
PROGRAM = """import torch
torch.manual_seed({seed})
model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
x = torch.tensor([[{a}, {b}], [1.0, -1.0]])
loss = ((model(x) - 1) ** 2).mean()
loss.backward()
print("loss", loss.item())
"""


def rss_mb(pids) -> float:
    total = 0.0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


class Visitor(threading.Thread):
    def __init__(self, d: Deployment, journey: str, think: float, until: float, seed: int):
        super().__init__(daemon=True)
        self.d, self.journey, self.think, self.until = d, journey, think, until
        self.rng = random.Random(seed)
        self.times: list[float] = []
        self.started: list[float] = []  # when each timed action began (the achieved rate counts these)
        self.errors: list[str] = []
        self.moved = False

    def record(self, r, problem: str | None = None) -> None:
        if r.ok and problem is None:
            self.times.append(r.seconds)
            self.started.append(time.time() - r.seconds)
        else:
            self.errors.append(f"{self.journey}: " + (problem or f"finished={r.finished} {r.exceptions[:1]}"))

    def run(self) -> None:
        try:
            with Session(self.d.url) as s:
                mine = s.ws.response.headers.get("X-Vizgrad-Replica")
                getattr(self, self.journey)(s)
                req = urllib.request.Request(self.d.url + "/_stcore/health", headers={"Cookie": s.cookie})
                with urllib.request.urlopen(req, timeout=10) as resp:
                    self.moved = resp.headers.get("X-Vizgrad-Replica") != mine
        except Exception as e:  # a refused or dropped connection is an error of the run, not a crash
            self.errors.append(f"{self.journey}: {type(e).__name__}: {e}")

    def wait(self) -> bool:
        time.sleep(min(self.rng.expovariate(1 / self.think), max(0.0, self.until - time.time())))
        return time.time() < self.until

    def edit(self, s: Session) -> None:
        s.run("playground", "expr=x**2")
        while self.wait():
            expr = self.rng.choice(EXPRESSIONS).replace("+", "%2B")
            self.record(s.run("playground", f"expr={expr}&v.x={self.rng.randint(1, 9) / 4}", timeout=30))

    def step(self, s: Session) -> None:
        s.run("walkthrough", self.rng.choice(WALKS))
        while self.wait():
            r = s.click("Next", timeout=30)
            self.record(r)
            if "Next" not in s.last.widgets:  # the last step: start the walk again
                s.run("walkthrough", self.rng.choice(WALKS))

    def program(self) -> str:
        return PROGRAM.format(seed=self.rng.randint(0, 999), a=self.rng.randint(-9, 9) / 4,
                              b=self.rng.randint(-9, 9) / 4)

    def code(self, s: Session) -> None:
        # opened without a code link (its first example runs): this client keeps the query string it
        # opened with, where a browser takes the page's new ?code= after each run, so a link would rerun
        s.run("code", "")
        while self.wait():
            r = s.set_text("Your PyTorch code", self.program(), timeout=60)  # typed, then Ctrl+Enter
            self.record(r, code_problem(r))

    def train(self, s: Session) -> None:
        s.run("network", "")
        s.click("Play")
        while time.time() < self.until:
            for r in s.play(min(2.0, self.until - time.time())):
                self.record(r)


def code_problem(r) -> str | None:
    """Why a finished Code-page run is not a success: the server was too busy to run it (its warning),
    the run failed or was stopped (an error), or its output is missing; None when it printed its loss."""
    problems = r.texts("error") + [t for t in r.texts("warning") if "busy" in t]
    if problems:
        return problems[0][:120]
    if not any(t.strip().startswith("loss") for t in r.texts("code")):
        return "no output"
    return None


def pct(xs, q) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def one_run(replicas: int, sessions: int, trainers: int, think: float, seconds: float, quiet=False,
            coders: int = 0, env: dict | None = None) -> dict:
    with Deployment(replicas=replicas, port=free_port(), env=env or {}) as d:
        pids = [n.proc.pid for n in d.nodes]
        before = rss_mb(pids)
        until = time.time() + seconds
        journeys = (["train"] * trainers + ["code"] * coders
                    + [("edit", "step")[i % 2] for i in range(sessions - trainers - coders)])
        visitors = [Visitor(d, j, think, until, seed=i) for i, j in enumerate(journeys)]
        t0 = time.time()
        window = (t0 + min(5.0, seconds / 4), until)  # the rate over the run, past the class's arrival
        for v in visitors:
            v.start()
            time.sleep(0.02)  # a class arriving over a second, not in one packet
        peak = before
        while any(v.is_alive() for v in visitors):
            peak = max(peak, rss_mb(pids))
            time.sleep(0.5)
        elapsed = time.time() - t0
        time.sleep(4)  # past the disconnected-session TTL the app's janitor trims
        after = rss_mb(pids)
    out = {"replicas": replicas, "sessions": sessions, "trainers": trainers, "coders": coders, "think": think,
           "rss": (before, peak, after), "moved": sum(v.moved for v in visitors), "journeys": {}}
    for j in ("edit", "step", "code", "train"):
        vs = [v for v in visitors if v.journey == j]
        times = [t for v in vs for t in v.times]
        errors = [e for v in vs for e in v.errors]
        out["journeys"][j] = {"n": len(times), "errors": errors, "p50": pct(times, 0.5), "p95": pct(times, 0.95),
                              "max": max(times, default=float("nan"))}
    acts = [t for v in visitors if v.journey in ("edit", "step", "code") for t in v.started
            if window[0] <= t < window[1]]
    out["rate"] = len(acts) / (window[1] - window[0])
    out["elapsed"] = elapsed
    if not quiet:
        report(out)
    return out


def report(o: dict) -> None:
    print(f"\n{o['replicas']} replica(s), {o['sessions']} sessions ({o['trainers']} training, {o['coders']} "
          f"running code), one action per "
          f"{o['think']:.1f} s each: {o['rate']:.1f} actions/s")
    print(f"  {'journey':8} {'actions':>8} {'errors':>7} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for j, r in o["journeys"].items():
        print(f"  {j:8} {r['n']:8d} {len(r['errors']):7d} {r['p50']:7.3f} {r['p95']:7.3f} {r['max']:7.3f}")
        for e in r["errors"][:3]:
            print(f"      {e[:160]}")
    b, p, a = o["rss"]
    print(f"  server RSS (all replicas): {b:.0f} MB before, {p:.0f} MB peak, {a:.0f} MB after; "
          f"sessions moved between replicas: {o['moved']}")


RATES = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20)  # offered actions per second, tried in turn


def sweep(seconds: float, env: dict | None = None) -> None:
    """(b): the highest action rate whose edit and step p95 both stay under 1 s, for R = 1 and 2.
    Each offered rate is one run of its own (a fresh deployment), half the sessions editing and half
    stepping; at least 20 sessions and no one acting more often than every 2 s on average. The rate
    printed is the achieved one (actions begun per second once the class has arrived)."""
    held = {}
    for replicas in (1, 2):
        best = None
        for rate in RATES:
            sessions = max(20, 2 * rate)
            o = one_run(replicas, sessions, 0, think=sessions / rate, seconds=seconds, quiet=True, env=env)
            p95 = max(o["journeys"]["edit"]["p95"], o["journeys"]["step"]["p95"])
            errs = sum(len(r["errors"]) for r in o["journeys"].values())
            print(f"  R={replicas} offered {rate:>2}/s ({sessions} sessions): achieved {o['rate']:.1f}/s, "
                  f"edit p95 {o['journeys']['edit']['p95']:.3f} s, step p95 {o['journeys']['step']['p95']:.3f} s, "
                  f"errors {errs}, moved {o['moved']}", flush=True)
            if p95 >= 1.0 or errs:
                break
            best = o["rate"]
        held[replicas] = best or 0.0
        print(f"R={replicas}: highest rate held at p95 < 1 s: {held[replicas]:.1f} actions/s", flush=True)
    print(f"2 replicas / 1 replica: {held[2] / held[1]:.2f}x" if held[1] else "", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--trainers", type=int, default=5)
    ap.add_argument("--coders", type=int, default=5, help="sessions running code on the Code page")
    ap.add_argument("--think", type=float, default=10.0, help="mean seconds between one session's actions")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the replicas (overrides deploy/serve.py's SERVER_ENV)")
    a = ap.parse_args()
    env = dict(kv.split("=", 1) for kv in a.env)
    if a.trainers + a.coders > a.sessions:
        ap.error(f"--trainers {a.trainers} and --coders {a.coders} are more than --sessions {a.sessions}")
    if a.sweep:
        sweep(min(a.seconds, 30.0), env)
    else:
        one_run(a.replicas, a.sessions, a.trainers, a.think, a.seconds, coders=a.coders, env=env)


if __name__ == "__main__":
    main()
