"""Does a server give back what 50 visitors took? (issue 17: RSS after 50 sessions have come and
gone returns to within 50 MB of what one session needs.)

    .venv/bin/python bench/memory.py                    # 3 rounds of 50 visitors, one replica
    .venv/bin/python bench/memory.py --rounds 5 --visitors 30
    .venv/bin/python bench/memory.py --env PYTHONMALLOC=malloc     # try another allocator setting

One replica of deploy/serve.py (so with the environment a deployed replica gets) with a short
disconnected-session TTL (--ttl, 2 s). One visitor comes and goes; then each round 50 visitors at
once each open the Expression Playground, step the Backprop Walkthrough once and train the Network
Playground for a second, then close their tab. Printed: the server's RSS with the one visitor and
once they have left (the reference), and per round its peak and its RSS once the round has
settled (the TTL, then the janitor's clean-up: pages/_common.py), with the difference to the
reference and the target, and where the settled RSS is (the brk heap, anonymous mappings, files).
Memory is not CPU-sensitive, so `nice` is fine; the figures are from /proc/<pid>/status. The
figures vary by some 15 MB from run to run (which of glibc's two heaps the first script run's
imports land in, and how a crowd's objects interleave): run it more than once.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "deploy"))

from serve import Deployment  # noqa: E402
from tests.stclient import Session, free_port  # noqa: E402

TARGET_MB = 50


def rss_mb(pid: int) -> float:
    """Resident set size of one process, MB (0 once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def where(pid: int) -> str:
    """The process's RSS by kind of mapping (/proc/<pid>/smaps): the brk heap, anonymous mappings
    (other malloc arenas, pymalloc's arenas, numpy's big arrays, thread stacks) and files."""
    kinds, kind = {"heap": 0, "anon": 0, "files": 0}, "files"
    try:
        for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
            head = line.split()
            if "-" in head[0] and not head[0].endswith(":"):  # a mapping's first line: range perms offset dev inode [name]
                kind = "heap" if head[5:6] == ["[heap]"] else "anon" if len(head) == 5 else "files"
            elif head[0] == "Rss:":
                kinds[kind] += int(head[1]) / 1024
    except OSError:
        pass
    return ", ".join(f"{k} {v:.0f}" for k, v in kinds.items())


def visit(url: str, i: int) -> None:
    """One visitor's journey: an expression, one walkthrough step, a second of live training."""
    with Session(url) as s:
        s.run("playground", f"expr=x**{i % 5 + 2}%2By**3&v.x=1.5")
        s.run("walkthrough", "expr=x**2%2By**3")
        s.click("Next")
        s.run("network", "")
        s.click("Play")
        s.play(1.0)


def crowd(url: str, pid: int, visitors: int) -> float:
    """`visitors` at once; returns the server's peak RSS while they were there."""
    threads = [threading.Thread(target=visit, args=(url, i), daemon=True) for i in range(visitors)]
    for t in threads:
        t.start()
    peak = rss_mb(pid)
    while any(t.is_alive() for t in threads):
        peak = max(peak, rss_mb(pid))
        time.sleep(0.2)
    return peak


def settle(pid: int, ttl: float, timeout: float = 30.0) -> float:
    """RSS once the visitors' sessions have expired and the janitor has trimmed: wait the TTL, then
    until RSS stops falling (two janitor rounds without a drop of 1 MB), at most `timeout` s."""
    time.sleep(ttl + 1)
    deadline, last = time.time() + timeout, rss_mb(pid)
    while time.time() < deadline:
        time.sleep(6)  # a little over the janitor's 5-s period
        now = rss_mb(pid)
        if now > last - 1:
            return min(now, last)
        last = now
    return last


def measure(rounds: int = 3, visitors: int = 50, ttl: int = 2, env: dict | None = None, out=print) -> list[float]:
    """Run the benchmark; returns [reference, settled after round 1, ...] in MB."""
    with Deployment(replicas=1, port=free_port(), env=env or {},
                    extra_args=("--server.disconnectedSessionTTL", str(ttl))) as d:
        pid = d.nodes[0].proc.pid
        out(f"bare server: {rss_mb(pid):.0f} MB")
        with_one = crowd(d.url, pid, 1)
        one = settle(pid, ttl)
        out(f"one visitor: peak {with_one:.0f} MB; after they came and went {one:.0f} MB (the reference; {where(pid)})")
        figures = [one]
        for k in range(rounds):
            peak = crowd(d.url, pid, visitors)
            after = settle(pid, ttl)
            figures.append(after)
            out(f"round {k + 1}: {visitors} visitors, peak {peak:.0f} MB, settled {after:.0f} MB "
                f"({after - one:+.0f} MB vs one visitor; target within {TARGET_MB}; {where(pid)})")
        worst = max(figures[1:], default=one) - one
        out(f"worst round: {worst:+.0f} MB vs one visitor: {'meets' if worst <= TARGET_MB else 'MISSES'} "
            f"the target ({TARGET_MB} MB)")
        return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--visitors", type=int, default=50)
    ap.add_argument("--ttl", type=int, default=2, help="the replica's server.disconnectedSessionTTL, s")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the replica (overrides deploy/serve.py's)")
    a = ap.parse_args()
    env = dict(kv.split("=", 1) for kv in a.env)
    if env:
        print("replica environment:", " ".join(f"{k}={v}" for k, v in env.items()))
    measure(a.rounds, a.visitors, a.ttl, env, out=lambda s: print(s, flush=True))


if __name__ == "__main__":
    main()
