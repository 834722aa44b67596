"""Run the app's server in this process, let visitors come and go, print how many sessions' objects
are still alive: `python tests/_sessions_left.py <visitors>` (used by tests/test_server_memory.py).

Outside a test this has no use: a real server is `make run`. In-process so that the count is of
the server's own objects (gc), which no client can see."""
import gc
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

from streamlit import config  # noqa: E402
from streamlit.web import bootstrap  # noqa: E402

from tests.stclient import Session, free_port, health  # noqa: E402

PORT = free_port()
VISITORS = int(sys.argv[1]) if len(sys.argv) > 1 else 6


def visit(url: str, i: int) -> None:
    with Session(url) as s:
        s.run("playground", f"expr=x**{i % 4 + 2}%2By&v.x=1.5")
        s.run("network", "")
        s.click("Play")
        s.play(0.6)


def driver() -> None:
    from streamlit.runtime.app_session import AppSession
    url = f"http://127.0.0.1:{PORT}"
    while health(url) is None:
        time.sleep(0.2)
    threads = [threading.Thread(target=visit, args=(url, i)) for i in range(VISITORS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(1 + 2 * 5 + 1)  # the TTL, then two rounds of the janitor (every 5 s)
    gc.collect()
    print("sessions alive:", sum(1 for o in gc.get_objects() if type(o) is AppSession), flush=True)
    os._exit(0)


threading.Thread(target=driver, daemon=True).start()
for key, value in {"server.port": PORT, "server.address": "127.0.0.1", "server.headless": True,
                   "server.disconnectedSessionTTL": 1, "server.fileWatcherType": "none",
                   "browser.gatherUsageStats": False}.items():
    config.set_option(key, value)
bootstrap.run("app.py", False, [], {})
