"""The server's allocator (deploy/serve.py SERVER_ENV, vizgrad/_alloc.py): a replica runs on
jemalloc where Debian's libjemalloc2 is installed, and the janitor's trim() makes jemalloc hand back
its unused pages at once.

Why it matters is shown here on a small scale, in a child process (the allocator is chosen when
an interpreter starts): a crowd's objects are freed but for a few scattered survivors, as they
are when a crowd of visitors has gone. Python's own allocator (pymalloc) keeps nearly all of that
memory, since a 1 MiB arena goes back only when all of it is free; jemalloc, with its own timed
hand-back switched off (so that only trim() can give memory back), returns most of it on trim().
bench/memory.py measures the real thing (rounds of 50 visitors on a replica).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))
import serve  # noqa: E402

JEMALLOC = serve.find_jemalloc()
needs_jemalloc = pytest.mark.skipif(
    JEMALLOC is None and os.environ.get("VIZGRAD_REQUIRE_JEMALLOC") != "1",
    reason="jemalloc is not installed (apt-get install libjemalloc2; .ci/run does)")

# a crowd: 2 million small objects (about 150 MB), then all freed but every 1000th; prints the
# process's RSS (MB) before the crowd, with it, once it has gone and after trim(), and the allocator
CROWD = """
import json, vizgrad._alloc as alloc
base = alloc.rss_mb()
crowd = [("visitor %d " % i) * 2 for i in range(2_000_000)]
peak = alloc.rss_mb()
survivors = crowd[::1000]
del crowd
gone = alloc.rss_mb()
alloc.trim()
print(json.dumps({"base": base, "peak": peak, "gone": gone, "trimmed": alloc.rss_mb(),
                  "allocator": alloc.allocator(), "survivors": len(survivors)}))
"""


def _crowd(env: dict) -> dict:
    full = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "PYTHONMALLOC", "MALLOC_CONF")}
    out = subprocess.run([sys.executable, "-c", CROWD], env={**full, **env}, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_server_role_preloads_jemalloc_where_it_is_installed(monkeypatch):
    env = serve.server_env("/opt/lib/libjemalloc.so.2")
    assert env["PYTHONMALLOC"] == "malloc"  # every Python object in jemalloc, not in pymalloc's arenas
    assert env["LD_PRELOAD"] == "/opt/lib/libjemalloc.so.2"
    assert env["MALLOC_CONF"] == serve.JEMALLOC_CONF and "background_thread:true" in env["MALLOC_CONF"]
    monkeypatch.setenv("LD_PRELOAD", "/opt/lib/libother.so")  # a preload already there stays
    assert serve.server_env("/opt/lib/libjemalloc.so.2")["LD_PRELOAD"] == "/opt/lib/libother.so:/opt/lib/libjemalloc.so.2"
    monkeypatch.setattr(serve, "find_jemalloc", lambda: None)
    assert serve.server_env() == {"MALLOC_ARENA_MAX": "2"}  # without it: pymalloc, glibc with 2 heaps


def test_make_run_starts_the_server_in_the_same_role():
    """`make run` takes its environment from `deploy/serve.py --print-env` (one place for it)."""
    printed = subprocess.run([sys.executable, str(ROOT / "deploy" / "serve.py"), "--print-env"],
                             capture_output=True, text=True, timeout=60, check=True).stdout
    assert dict(line.split("=", 1) for line in printed.splitlines()) == serve.SERVER_ENV
    assert "deploy/serve.py --print-env" in (ROOT / "Makefile").read_text()


@needs_jemalloc
def test_jemalloc_is_found():
    assert JEMALLOC, "VIZGRAD_REQUIRE_JEMALLOC=1 but no libjemalloc.so.2 (apt-get install libjemalloc2)"


@needs_jemalloc
def test_trim_makes_jemalloc_hand_back_what_a_crowd_left_and_pymalloc_cannot():
    pymalloc = _crowd({"PYTHONMALLOC": "pymalloc"})
    jemalloc = _crowd({"PYTHONMALLOC": "malloc", "LD_PRELOAD": JEMALLOC,
                       # no timed hand-back: what comes back is trim()'s doing
                       "MALLOC_CONF": "dirty_decay_ms:-1,muzzy_decay_ms:-1"})
    assert pymalloc["allocator"] == "libc" and jemalloc["allocator"] == "jemalloc"
    for r in (pymalloc, jemalloc):
        assert r["peak"] - r["base"] > 100, r  # the crowd did take memory
    took = {name: r["peak"] - r["base"] for name, r in (("py", pymalloc), ("je", jemalloc))}
    # pymalloc: one survivor in a thousand keeps (nearly) every arena
    assert pymalloc["trimmed"] - pymalloc["base"] > 0.8 * took["py"], pymalloc
    # jemalloc keeps it until trim() (its decay is off here), then hands most of it back
    assert jemalloc["gone"] - jemalloc["base"] > 0.8 * took["je"], jemalloc
    assert jemalloc["trimmed"] - jemalloc["base"] < 0.25 * took["je"], jemalloc


@needs_jemalloc
def test_a_preloaded_process_says_it_runs_on_jemalloc_and_tune_malloc_leaves_glibc_alone():
    code = ("import json, vizgrad._alloc as a; "
            "print(json.dumps([a.allocator(), a.tune_malloc(), 'libjemalloc' in open('/proc/self/maps').read()]))")
    env = {**os.environ, **serve.server_env(JEMALLOC)}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True)
    assert json.loads(out.stdout) == ["jemalloc", False, True]
