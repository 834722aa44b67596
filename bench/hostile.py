"""Issue 11's seven reproductions against a real local server: does it stay responsive, and does
it give its memory back once the hostile sessions end?

    .venv/bin/python bench/hostile.py            # all seven (about 2 minutes)
    .venv/bin/python bench/hostile.py --only 2,3 # some of them

A fresh `streamlit run app.py` is started on a loopback port; the visitors are protocol-level
sessions (tests/stclient.py: Streamlit's websocket, no browser), except the live-training tab of
reproduction 7, which is a real Chromium tab when Chromium and Playwright are installed. While each
reproduction runs, a thread polls /_stcore/health every 0.1 s: the table prints the slowest
answer (target: under 0.5 s) and the server's RSS before, at the peak, and after the sessions
ended (target: within 100 MB of the start). Timing lives here, not in the tests.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.stclient import Session, at_once, health, serve  # noqa: E402

TTL = 2  # --server.disconnectedSessionTTL: a closed tab's session is dropped after this many seconds


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Watch:
    """Polls health (and RSS) in the background while a reproduction runs."""

    def __init__(self, url: str, pid: int):
        self.url, self.pid = url, pid
        self.worst, self.peak, self.failures = 0.0, 0.0, 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self._stop.is_set():
            t0 = time.perf_counter()
            ok = health(self.url, timeout=10)
            took = time.perf_counter() - t0
            self.worst = max(self.worst, took)
            self.failures += ok is None
            self.peak = max(self.peak, rss_mb(self.pid))
            self._stop.wait(0.1)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def q(d: dict) -> str:
    return "&".join(f"{k}={quote(str(v), safe='')}" for k, v in d.items())


# ---- the reproductions: each gets the server's URL and returns a one-line outcome ------------------
def r1_csv(url):
    bad = ("1" * 16000 + "x 1 0\n1 1 1\n1 1 0\n2 2 1").encode()
    huge = ("1" * 1_000_000 + "x 1 0\n1 1 1\n1 1 0\n2 2 1").encode()
    with Session(url) as s:
        s.run("network", "data=csv")
        a = s.upload("CSV with rows", "bad.csv", bad)
        b = s.upload("CSV with rows", "huge.csv", huge)
    return f"16 KB: {a.texts('error')[:1]}; 1 MB: {'refused' if b.texts('error') else b.elements[:2]}"


def r2_nested_exp(url):
    expr = "exp(" * 32 + "x" + ")" * 32
    with Session(url) as s:
        r = s.run("playground", q({"expr": expr, "v.x": "0.1"}), timeout=120)
    return f"finished={r.finished} errors={r.texts('error')[:1]} exceptions={len(r.exceptions)}"


def r3_walkthrough_memory(url):
    expr = "sum(" + "*".join(["x"] * 190) + ")"
    ones = "[" + ",".join(["1"] * 316) + "]"
    out = []
    for _ in range(3):
        with Session(url) as s:
            r = s.run("walkthrough", q({"expr": expr, "v.x": f"outer({ones},{ones})"}), timeout=120)
            out.append(r.texts("error")[:1] or ["walked"])
    return f"{out[0]}"


def _many_vars(n_vars=64, n_elems=64):
    terms = [f"sum(exp(sin(a{i})*cos(a{(i + 1) % n_vars}))*a{i})" for i in range(n_vars)]
    vals = {f"v.a{i}": "[" + ",".join(f"{(i * n_elems + k) % 17 / 10:.1f}" for k in range(n_elems)) + "]"
            for i in range(n_vars)}
    return {"expr": " + ".join(terms), **vals}


def r4_finite_differences(url):
    link = q(_many_vars())
    with Session(url) as s:
        w = s.run("walkthrough", link, timeout=180)
    with Session(url) as s:
        p = s.run("playground", link, timeout=180)
        toggles = [lab for lab, (kind, _id) in p.widgets.items() if kind == "checkbox"]
        t = None
        if toggles:
            from streamlit.proto.WidgetStates_pb2 import WidgetState
            t = s.run("playground", link, timeout=180,
                      widgets=[WidgetState(id=p.widgets[toggles[0]][1], bool_value=True)])
    return (f"link {len(link) / 1000:.0f} KB; walkthrough {w.seconds:.1f} s, playground {p.seconds:.1f} s, "
            f"toggle '{toggles[0] if toggles else '-'}' {t.seconds if t else float('nan'):.1f} s")


def r5_cold_start(url):
    res = at_once(url, [("playground", "")] * 8)
    return f"{sum(r.ok and r.navigation for r in res)} of {len(res)} first visitors got the app"


PAYLOAD = ":red[**SECURITY ALERT**] [verify your account](https://evil.example/phish) ![x](https://evil.example/i.png)"


def r6_injection(url):
    shown = []
    with Session(url) as s:
        for page, key in (("network", "data"), ("network", "act"), ("network", "loss"), ("network", "features"),
                          ("walkthrough", "lesson"), ("walkthrough", "net")):
            r = s.run(page, q({key: PAYLOAD}))
            bodies = [t for _k, t in r.elements if "SECURITY" in t]
            raw = [b for b in bodies if "](https" in b or ":red[" in b]
            shown.append(f"{page}?{key}: {'RAW' if raw else 'escaped' if bodies else 'not shown'}")
    return "; ".join(shown)


def r7_training_history(url, seconds=60):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "skipped (playwright not installed)"
    chromium = "/usr/bin/chromium"
    if not os.path.exists(chromium):
        return "skipped (no Chromium)"
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from conftest import CHROMIUM_ARGS
    stat = "() => { const e = document.querySelector('[data-stat=\"Step\"]'); return e ? e.innerText : null }"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = b.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(f"{url}/network")
        page.wait_for_selector('[data-stat="Step"]', timeout=60_000)
        slider = page.locator('[data-testid="stSlider"]', has_text="Steps per update").get_by_role("slider")
        slider.focus()
        slider.press("End")  # the largest choice: 100 steps per update
        time.sleep(2)
        speed = slider.get_attribute("aria-valuenow") or slider.get_attribute("aria-valuetext")
        page.get_by_role("button", name="Play").click()
        marks = []
        for _ in range(int(seconds / 10)):
            time.sleep(10)
            marks.append((time.perf_counter(), int((page.evaluate(stat) or "0").replace(",", ""))))
        b.close()
    rates = [(s1 - s0) / (t1 - t0) for (t0, s0), (t1, s1) in zip(marks, marks[1:])]
    return (f"steps per update {speed}; steps/s over {seconds} s: first 10 s {rates[0]:.0f}, "
            f"last 10 s {rates[-1]:.0f}" if rates else "-")


REPROS = {1: ("CSV upload, 16 KB and 1 MB digit runs", r1_csv),
          2: ("32 nested exp() in a Playground link", r2_nested_exp),
          3: ("Walkthrough of sum(x*...190 factors) over a 316x316 x, 3 sessions", r3_walkthrough_memory),
          4: ("64 variables of 64 elements: Walkthrough and Playground (+ a toggle)", r4_finite_differences),
          5: ("8 first visitors at once", r5_cold_start),
          6: ("markdown injection through URL parameters", r6_injection),
          7: ("a Network Playground tab left on Play (100 steps per update)", r7_training_history)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="", help="comma-separated reproduction numbers (default: all)")
    ap.add_argument("--play-seconds", type=int, default=60)
    args = ap.parse_args()
    only = [int(x) for x in args.only.split(",") if x] or sorted(REPROS)
    # the cold start is measured first, on the fresh server
    order = sorted(only, key=lambda k: (k != 5, k))
    log = ROOT / "tests" / "artifacts" / "bench-hostile-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with serve(log, args=("--server.disconnectedSessionTTL", str(TTL))) as (url, proc):
        start = rss_mb(proc.pid)
        rows = []
        for k in order:
            title, fn = REPROS[k]
            before = rss_mb(proc.pid)
            with Watch(url, proc.pid) as w:
                outcome = fn(url, args.play_seconds) if k == 7 else fn(url)
            # the sessions have closed: wait past the TTL, then open one session so that the
            # server's cleanup runs, and measure what is still held
            time.sleep(TTL + 3)
            with Session(url) as s:
                s.run("", "")
            time.sleep(1)
            after = rss_mb(proc.pid)
            rows.append((k, title, w.worst, w.failures, before, w.peak, after, outcome))
            print(f"[{k}] {title}: health worst {w.worst:.2f} s, RSS {before:.0f} -> peak {w.peak:.0f} -> "
                  f"{after:.0f} MB after\n    {outcome}", flush=True)
        end = rss_mb(proc.pid)
    print()
    print("| # | reproduction | slowest health answer | RSS before / peak / after (MB) |")
    print("| --- | --- | --- | --- |")
    for k, title, worst, fails, before, peak, after, _o in rows:
        print(f"| {k} | {title} | {worst:.2f} s{' (%d failed)' % fails if fails else ''} | "
              f"{before:.0f} / {peak:.0f} / {after:.0f} |")
    print(f"\nserver RSS at start {start:.0f} MB, at the end {end:.0f} MB ({end - start:+.0f} MB; target within 100)")
    worst = max(r[2] for r in rows)
    print(f"slowest health answer {worst:.2f} s (target under 0.5 s)")


if __name__ == "__main__":
    main()
