"""A Streamlit client at the protocol level, for tests and bench/ (no browser).

Streamlit's page talks to the server over one websocket per session (`/_stcore/stream`, binary
protobufs from `streamlit.proto`): the client sends a BackMsg asking for a script run with the
page's URL path and query string, the server answers with ForwardMsgs (the elements as deltas)
until `script_finished`. Twenty browsers on two cores would measure Chromium, not the server; this
opens as many sessions as a test needs.

    with Session("http://127.0.0.1:8501") as s:
        r = s.run("playground", "expr=x**2&v.x=3")
        r.ok, r.exceptions, r.texts("error"), r.navigation
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from websockets.sync.client import connect


ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(url: str, timeout: float = 2) -> float | None:
    """Seconds /_stcore/health took to answer ok, or None if it did not."""
    t0 = time.perf_counter()
    try:
        if urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout).read() == b"ok":
            return time.perf_counter() - t0
    except OSError:
        pass
    return None


@contextlib.contextmanager
def serve(log_path: Path | None = None, args: tuple = (), env: dict | None = None, start_timeout: float = 60):
    """`streamlit run app.py` on a free loopback port; yields (url, process); stops it by PID."""
    port = free_port()
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + start_timeout
        while health(url) is None:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"streamlit did not start (see {log_path or 'its output'})")
            time.sleep(0.2)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log_path:
            log.close()


@dataclass
class Run:
    page: str
    seconds: float = 0.0
    finished: bool = False
    navigation: bool = False          # the app's st.navigation reached this session
    page_not_found: bool = False
    exceptions: list = field(default_factory=list)   # (type, message) of every exception element
    elements: list = field(default_factory=list)     # (element type, its main text)
    messages: int = 0

    @property
    def ok(self) -> bool:
        return self.finished and not self.exceptions and not self.page_not_found

    def texts(self, kind: str) -> list[str]:
        return [t for k, t in self.elements if k == kind]


_TEXT_FIELDS = {"markdown": "body", "alert": "body", "heading": "body", "code": "code_text", "text": "body"}


def _element(el) -> tuple[str, str]:
    kind = el.WhichOneof("type")
    sub = getattr(el, kind) if kind else None
    attr = _TEXT_FIELDS.get(kind)
    text = getattr(sub, attr, "") if attr else ""
    if kind == "alert":  # st.error / warning / info / success share one proto: tell them apart
        kind = {1: "error", 2: "warning", 3: "info", 4: "success"}.get(sub.format, "alert")
    return kind or "", text


class Session:
    """One browser tab's worth of server session."""

    def __init__(self, base_url: str, open_timeout: float = 30):
        ws_url = base_url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.ws = connect(ws_url, subprotocols=["streamlit"], open_timeout=open_timeout,
                          max_size=64 * 2**20, compression=None)
        self.ws.__enter__()  # websockets >= 17.1 wants a context manager; close() ends it

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.ws.close()

    def run(self, page: str = "", query: str = "", timeout: float = 60) -> Run:
        """Ask for a script run of `page` (its URL path, "" for home) with `query`; collect its
        output until the run finishes (or `timeout` passes: then finished is False)."""
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        t0 = time.perf_counter()
        self.ws.send(msg.SerializeToString())
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        r = Run(page)
        deadline = t0 + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            try:
                data = self.ws.recv(timeout=left)
            except TimeoutError:
                break
            fm = ForwardMsg()
            fm.ParseFromString(data)
            r.messages += 1
            kind = fm.WhichOneof("type")
            if kind == "navigation":
                r.navigation = True
            elif kind == "page_not_found":
                r.page_not_found = True
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                if el.WhichOneof("type") == "exception":
                    r.exceptions.append((el.exception.type, el.exception.message))
                r.elements.append(_element(el))
            elif kind == "script_finished":
                # 0 finished ok, 1 with an error, 2 stopped for a rerun; a fragment run is 3
                if fm.script_finished in (0, 1):
                    r.finished = True
                    break
        r.seconds = time.perf_counter() - t0
        return r
