"""Hosted mode (issue 17): VIZGRAD_HOSTED=1, read in one place (vizgrad/app/hosted.py), and what a
public server needs: no error details to visitors, XSRF protection, an upload limit that fits the
CSV feature, the Code page's sandbox required (tests/test_sandbox.py, tests/test_code_page.py) and
no third-party request (tests/browser/test_no_third_party_browser.py).

The server tests start real `streamlit run` servers on loopback (tests/stclient.py) and speak to
them as a browser does: an upload is a PUT of a multipart body to the URL the session was given,
with the XSRF token from the session's cookie in a header.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.stclient import Session, free_port, health, serve
from vizgrad.app import budgets, hosted, sandbox

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


# ---- the setting and the check of the server's options -------------------------------------------
def test_hosted_mode_is_one_variable_read_in_one_place(monkeypatch):
    assert hosted.on({"VIZGRAD_HOSTED": "1"}) and not hosted.on({}) and not hosted.on({"VIZGRAD_HOSTED": "0"})
    monkeypatch.setenv("VIZGRAD_HOSTED", "1")
    assert sandbox.hosted()  # the sandbox asks hosted.py
    monkeypatch.setenv("VIZGRAD_HOSTED", "")
    assert not sandbox.hosted()


def config_option(name: str):
    """An option as .streamlit/config.toml sets it, else Streamlit's default."""
    section, key = name.split(".")
    if key in CONFIG.get(section, {}):
        return CONFIG[section][key]
    from streamlit import config
    return config.get_option_default(name) if hasattr(config, "get_option_default") else \
        config._config_options_template[name].default_val


def test_the_projects_config_is_what_a_hosted_server_needs():
    assert CONFIG["client"]["showErrorDetails"] == "none"
    assert CONFIG["server"]["maxUploadSize"] == budgets.value("UPLOAD_MB", {})
    assert CONFIG["server"].get("enableXsrfProtection", True) is True
    assert hosted.server_problems(config_option, {"VIZGRAD_HOSTED": "1"}) == []


@pytest.mark.parametrize("option, bad", [("client.showErrorDetails", "full"),
                                         ("server.enableXsrfProtection", False),
                                         ("server.enableCORS", False),
                                         ("server.maxUploadSize", 200)])
def test_a_weaker_option_is_a_problem_named_for_the_operator(option, bad):
    opts = lambda name: bad if name == option else config_option(name)  # noqa: E731
    problems = hosted.server_problems(opts, {"VIZGRAD_HOSTED": "1"})
    assert len(problems) == 1 and option in problems[0]


def test_outside_hosted_mode_only_the_upload_budget_is_checked():
    opts = lambda name: "full" if name == "client.showErrorDetails" else config_option(name)  # noqa: E731
    assert hosted.server_problems(opts, {}) == []
    assert hosted.server_problems(config_option, {"VIZGRAD_UPLOAD_MB": "1"}) == []
    big = lambda name: 5 if name == "server.maxUploadSize" else config_option(name)  # noqa: E731
    assert "VIZGRAD_UPLOAD_MB" in hosted.server_problems(big, {})[0]


# ---- a real hosted server ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hosted_server(tmp_path_factory):
    log = tmp_path_factory.mktemp("hosted") / "server.log"
    with serve(log, env={"VIZGRAD_HOSTED": "1"}) as (url, _proc):
        yield url


def upload_url(s: Session, name: str) -> str:
    """Ask the server for an upload URL for `name` (what the page's uploader does first)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    req = BackMsg()
    req.file_urls_request.request_id = rid = uuid.uuid4().hex
    req.file_urls_request.file_names.append(name)
    req.file_urls_request.session_id = s.session_id
    s.ws.send(req.SerializeToString())
    while True:
        fm = ForwardMsg()
        fm.ParseFromString(s.ws.recv(timeout=30))
        if fm.WhichOneof("type") == "file_urls_response" and fm.file_urls_response.response_id == rid:
            assert not fm.file_urls_response.error_msg, fm.file_urls_response.error_msg
            u = fm.file_urls_response.file_urls[0].upload_url
            return s.base_url + u if u.startswith("/") else u


def put(s: Session, url: str, data: bytes, token: bool) -> int | str:
    """PUT a file as the browser's uploader does; the HTTP status, or "closed" when the server
    closed the connection before the body was sent (how it refuses a body past its size limit)."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"f.csv\"; filename=\"f.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Cookie": s.cookie}
    if token:
        headers["X-Xsrftoken"] = s.xsrf
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, method="PUT", headers=headers),
                                    timeout=60) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code
    except urllib.error.URLError as e:
        if isinstance(e.reason, ConnectionError):
            return "closed"
        raise


CSV = b"x1,x2,label\n" + b"".join(b"%d,%d,%d\n" % (i % 7, i % 5, i % 2) for i in range(200))


def test_a_hosted_server_refuses_an_upload_without_the_xsrf_token(hosted_server):
    with Session(hosted_server) as s:
        assert s.run("network").ok and s.xsrf, "the session has an XSRF cookie"
        assert put(s, upload_url(s, "f.csv"), CSV, token=False) == 403
        assert put(s, upload_url(s, "f.csv"), CSV, token=True) in (200, 204)  # the same file with it


def test_a_hosted_server_refuses_a_2_mb_upload(hosted_server):
    with Session(hosted_server) as s:
        assert s.run("network").ok
        status = put(s, upload_url(s, "f.csv"), CSV * (2 * 2**20 // len(CSV) + 1), token=True)
        assert status in (400, 413, "closed"), status
        assert put(s, upload_url(s, "f.csv"), CSV * (2**19 // len(CSV)), token=True) in (200, 204)  # half a MB: fine


def test_a_visitor_never_sees_an_exceptions_details(tmp_path):
    """A script that raises, served with this project's .streamlit/config.toml: the visitor's
    exception element carries no message and no stack (client.showErrorDetails = "none")."""
    (tmp_path / ".streamlit").mkdir()
    shutil.copy(ROOT / ".streamlit" / "config.toml", tmp_path / ".streamlit" / "config.toml")
    (tmp_path / "boom.py").write_text("import streamlit as st\nst.write('hi')\n"
                                      "raise RuntimeError('secret-detail-42 at /srv/private/path')\n")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "boom.py", "--server.address", "127.0.0.1",
                             "--server.port", str(port)], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while health(url) is None:
            assert proc.poll() is None and time.time() < deadline, "streamlit did not start"
            time.sleep(0.2)
        with Session(url) as s:
            r = s.run("")
        assert r.exceptions, "the script's exception reached the page as an element"
        shown = " ".join(f"{t} {m}" for t, m in r.exceptions) + " ".join(t for _, t in r.elements)
        assert "secret-detail-42" not in shown and "/srv/private" not in shown
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_the_xsrf_check_is_what_refuses_it(tmp_path):
    """The same token-less upload to a server started with XSRF protection off goes through: the
    403 above comes from the protection, not from the way this test uploads."""
    with serve(tmp_path / "server.log", args=("--server.enableXsrfProtection", "false")) as (url, _proc):
        with Session(url) as s:
            assert s.run("network").ok
            assert put(s, upload_url(s, "f.csv"), CSV, token=False) in (200, 204)


def test_a_hosted_server_serves_the_app(hosted_server):
    with Session(hosted_server) as s:
        r = s.run("playground", "expr=x**2")
    assert r.ok and r.navigation and not any("not configured" in t for t in r.texts("error"))


def test_a_hosted_server_with_a_weaker_option_serves_nothing_and_says_why(tmp_path):
    log = tmp_path / "server.log"
    with serve(log, args=("--server.enableXsrfProtection", "false"), env={"VIZGRAD_HOSTED": "1"}) as (url, _proc):
        with Session(url) as s:
            r = s.run("playground", "expr=x**2")
    assert any("not configured for public use" in t for t in r.texts("error")), r.elements[:5]
    assert not r.texts("latex") and not any(k == "plotly_chart" for k, _ in r.elements)
    assert "enableXsrfProtection" in log.read_text() or "XSRF" in log.read_text()
