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
    """`streamlit run app.py` on a free loopback port, with the environment `make run` gives it;
    yields (url, process); stops it by PID."""
    port = free_port()
    from deploy.serve import SERVER_ENV  # the server's process role: its allocator settings
    env = {**SERVER_ENV, **(env or {})}
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env})
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
    widgets: dict = field(default_factory=dict)      # label -> (widget type, widget id)
    auto_rerun: tuple | None = None                  # (interval s, fragment id) of a st.fragment(run_every)
    messages: int = 0

    @property
    def ok(self) -> bool:
        return self.finished and not self.exceptions and not self.page_not_found

    def texts(self, kind: str) -> list[str]:
        return [t for k, t in self.elements if k == kind]


_TEXT_FIELDS = {"markdown": "body", "alert": "body", "heading": "body", "code": "code_text", "text": "body"}


_WIDGETS = ("button", "text_input", "text_area", "checkbox", "selectbox", "slider", "number_input",
            "file_uploader", "radio", "toggle", "segmented_control", "button_group")


def _element(el) -> tuple[str, str]:
    kind = el.WhichOneof("type")
    sub = getattr(el, kind) if kind else None
    attr = _TEXT_FIELDS.get(kind)
    text = getattr(sub, attr, "") if attr else ""
    if kind == "alert":  # st.error / warning / info / success share one proto: tell them apart
        kind = {1: "error", 2: "warning", 3: "info", 4: "success"}.get(sub.format, "alert")
    return kind or "", text


def _held_value(kind: str, w):
    """The WidgetState a browser holds for a widget it has just drawn (the value the server set,
    else the widget's default), or None for widgets that hold nothing (buttons) or are unknown.
    A browser sends every widget's value on every rerun, fragment reruns included: a client that
    did not would lose keyed widgets outside a fragment (Streamlit drops what the page omits)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    st_ = WidgetState(id=w.id)
    if kind == "checkbox":  # st.checkbox and st.toggle
        st_.bool_value = w.value if w.set_value else w.default
    elif kind == "slider":  # st.slider (numbers) and st.select_slider (options, sent as their text)
        if w.options and w.set_value and len(w.raw_value):  # a select_slider the server set: its options' text
            st_.string_array_value.data.extend(w.raw_value)
            return st_
        picked = list(w.value) if w.set_value else list(w.default)
        if w.options:
            st_.string_array_value.data.extend(w.options[int(i)] for i in picked)
        else:
            st_.double_array_value.data.extend(picked)
    elif kind in ("selectbox", "radio"):
        if w.set_value and w.HasField("raw_value"):
            st_.string_value = w.raw_value
        elif w.HasField("default"):
            st_.string_value = w.options[w.default]
        else:
            return None
    elif kind == "button_group":  # st.segmented_control / st.pills
        st_.string_array_value.data.extend(list(w.raw_values) if w.set_value else
                                           [w.options[i].content for i in w.default])
    elif kind in ("text_input", "text_area"):
        if w.set_value or w.HasField("default"):
            st_.string_value = w.value if w.set_value else w.default
        else:
            return None
    elif kind == "number_input":
        st_.double_value = w.value if w.set_value else w.default
    else:
        return None
    return st_


class Session:
    """One browser tab's worth of server session."""

    def __init__(self, base_url: str, open_timeout: float = 30, cookie: str = ""):
        """cookie: the browser's cookies from before ("a=1; b=2"), e.g. a balancer's affinity cookie
        when a tab reconnects; the server's Set-Cookie answers replace same-named ones."""
        self.base_url = base_url.rstrip("/")
        # the XSRF cookie (set by the health endpoint, which the page polls); uploads echo it in a header
        jar = dict(c.strip().split("=", 1) for c in cookie.split(";") if "=" in c)
        req = urllib.request.Request(self.base_url + "/_stcore/health", headers={"Cookie": cookie} if cookie else {})
        with urllib.request.urlopen(req, timeout=open_timeout) as resp:
            jar.update(c.split(";", 1)[0].split("=", 1) for c in resp.headers.get_all("Set-Cookie") or [])
        cookies = [f"{k}={v}" for k, v in jar.items()]
        self.cookie = "; ".join(cookies)
        self.xsrf = next((c.split("=", 1)[1] for c in cookies if c.startswith("_streamlit_xsrf=")), "")
        ws_url = self.base_url.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = connect(ws_url, subprotocols=["streamlit", self.xsrf] if self.xsrf else ["streamlit"],
                          open_timeout=open_timeout, max_size=64 * 2**20, compression=None,
                          additional_headers={"Cookie": self.cookie, "Origin": self.base_url})
        self.ws.__enter__()  # websockets >= 17.1 wants a context manager; close() ends it
        self.session_id = ""
        self.values: dict = {}   # widget id -> its last WidgetState: a browser sends them all on every rerun
        self.page, self.query = "", ""
        self.last: Run | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.ws.close()

    def run(self, page: str = "", query: str = "", timeout: float = 60, widgets=(), fragment: str = "") -> Run:
        """Ask for a script run of `page` (its URL path, "" for home) with `query`; collect its
        output until the run finishes (or `timeout` passes: then finished is False).
        widgets: WidgetState protos to send (a click, a typed value); fragment: rerun only it."""
        self.page, self.query = page, query
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        if fragment:
            msg.rerun_script.fragment_id = fragment
            msg.rerun_script.is_auto_rerun = True
        for w in widgets:
            if w.WhichOneof("value") != "trigger_value":
                self.values[w.id] = w
        triggers = [w for w in widgets if w.WhichOneof("value") == "trigger_value"]
        for w in [*self.values.values(), *triggers]:
            msg.rerun_script.widget_states.widgets.append(w)
        t0 = time.perf_counter()
        self.ws.send(msg.SerializeToString())
        r = self._collect(Run(page), t0, timeout)
        if not fragment:
            self.last = r
        return r

    def widget(self, label: str) -> tuple[str, str]:
        """(type, id) of the widget with this label in the last full run."""
        for lab, w in self.last.widgets.items():
            if lab == label or lab.startswith(label):
                return w
        raise KeyError(f"no widget {label!r} in {sorted(self.last.widgets)}")

    def click(self, label: str, timeout: float = 60) -> Run:
        from streamlit.proto.WidgetStates_pb2 import WidgetState
        w = WidgetState(id=self.widget(label)[1], trigger_value=True)
        return self.run(self.page, self.query, timeout, widgets=[w])

    def set_text(self, label: str, value: str, timeout: float = 60) -> Run:
        from streamlit.proto.WidgetStates_pb2 import WidgetState
        w = WidgetState(id=self.widget(label)[1], string_value=value)
        return self.run(self.page, self.query, timeout, widgets=[w])

    def play(self, seconds: float, timeout: float = 60) -> list[Run]:
        """Act as the browser does for a st.fragment(run_every=...): rerun the fragment at its
        interval for `seconds` (after the run that started it)."""
        runs = []
        end = time.perf_counter() + seconds
        auto = self.last.auto_rerun if self.last else None
        while auto and time.perf_counter() < end:
            time.sleep(auto[0])
            r = self.run(self.page, self.query, timeout, fragment=auto[1])
            runs.append(r)
            auto = r.auto_rerun or auto
        return runs

    def upload(self, label: str, name: str, data: bytes, timeout: float = 60) -> Run:
        """Upload a file into the st.file_uploader labelled `label`, as the page's JavaScript does:
        ask for an upload URL, PUT the file (multipart, with the XSRF token), rerun with its info."""
        import uuid
        from streamlit.proto.Common_pb2 import FileURLs, UploadedFileInfo
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState
        req = BackMsg()
        req.file_urls_request.request_id = rid = uuid.uuid4().hex
        req.file_urls_request.file_names.append(name)
        req.file_urls_request.session_id = self.session_id
        self.ws.send(req.SerializeToString())
        urls = None
        while urls is None:
            fm = ForwardMsg()
            fm.ParseFromString(self.ws.recv(timeout=timeout))
            if fm.WhichOneof("type") == "file_urls_response" and fm.file_urls_response.response_id == rid:
                if fm.file_urls_response.error_msg:
                    raise RuntimeError(fm.file_urls_response.error_msg)
                urls = fm.file_urls_response.file_urls[0]
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\n"
                f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        put = urllib.request.Request(self.base_url + urls.upload_url if urls.upload_url.startswith("/") else
                                     urls.upload_url, data=body, method="PUT",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                              "X-Xsrftoken": self.xsrf, "Cookie": self.cookie})
        urllib.request.urlopen(put, timeout=timeout).read()
        w = WidgetState(id=self.widget(label)[1])
        w.file_uploader_state_value.uploaded_file_info.append(UploadedFileInfo(
            name=name, size=len(data), file_id=urls.file_id,
            file_urls=FileURLs(file_id=urls.file_id, upload_url=urls.upload_url, delete_url=urls.delete_url)))
        return self.run(self.page, self.query, timeout, widgets=[w])

    def _collect(self, r: Run, t0: float, timeout: float) -> Run:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
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
            if kind == "new_session":
                self.session_id = fm.new_session.initialize.session_id or self.session_id
            elif kind == "auto_rerun":
                r.auto_rerun = (fm.auto_rerun.interval, fm.auto_rerun.fragment_id)
            elif kind == "navigation":
                r.navigation = True
            elif kind == "page_not_found":
                r.page_not_found = True
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                t = el.WhichOneof("type")
                if t == "exception":
                    r.exceptions.append((el.exception.type, el.exception.message))
                elif t in _WIDGETS and getattr(el, t).id:
                    w = getattr(el, t)
                    r.widgets[w.label] = (t, w.id)
                    held = _held_value(t, w)
                    if held is not None and (getattr(w, "set_value", False) or w.id not in self.values):
                        self.values[w.id] = held
                r.elements.append(_element(el))
            elif kind == "script_finished":
                # 0 finished ok, 1 with an error, 2 stopped for a rerun; a fragment run is 3
                if fm.script_finished in (0, 1, 3):
                    r.finished = True
                    break
        r.seconds = time.perf_counter() - t0
        return r


def at_once(url: str, links, timeout: float = 120) -> list[Run]:
    """Open one session per (page, query) link, all at the same moment (a barrier), run each page
    once; the runs in the links' order."""
    import threading
    results: list = [None] * len(links)
    barrier = threading.Barrier(len(links))

    def visit(i, page, query):
        with Session(url) as s:
            barrier.wait()
            results[i] = s.run(page, query, timeout=timeout)

    threads = [threading.Thread(target=visit, args=(i, *link)) for i, link in enumerate(links)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
