"""A server gives back what its visitors took: once they have left (past disconnectedSessionTTL),
none of their sessions is still alive in the server process (issue 17: memory per session)."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def test_sessions_of_visitors_who_left_are_freed():
    r = subprocess.run([sys.executable, str(HERE / "_sessions_left.py"), "8"], capture_output=True, text=True,
                       timeout=240, env={"MALLOC_ARENA_MAX": "2", **__import__("os").environ})
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("sessions alive:")]
    assert line, r.stdout[-2000:] + r.stderr[-3000:]
    # none: not even the last one the server's runtime loop served, which its loop variables kept
    # until the janitor cleared them (pages/_common.py _forget_last_served_session)
    assert int(line[0].split(":")[1]) == 0, line
