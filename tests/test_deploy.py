"""deploy/: R replicas behind Debian's nginx with session affinity, and what happens when one dies.

Each test starts the real thing (deploy/serve.py's Deployment: `streamlit run app.py` replicas +
nginx on loopback) and talks to it at the protocol level (tests/stclient.py), as a browser tab does.
nginx names the replica that answered in an X-Vizgrad-Replica header; that is how the tests see
where a session's websocket and its HTTP requests went. Needs nginx (.ci/run installs it).
"""
from __future__ import annotations

import os
import shutil
import signal
import sys
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.stclient import Session, at_once, free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))
from serve import Deployment  # noqa: E402

HAVE_NGINX = shutil.which("nginx") is not None or Path("/usr/sbin/nginx").exists()


@pytest.fixture(scope="module", autouse=True)
def _nginx():  # module scope: before the deployment fixture starts anything
    if not HAVE_NGINX:
        why = "nginx is not installed (apt-get install nginx; .ci/run does)"
        if os.environ.get("VIZGRAD_REQUIRE_NGINX") == "1":
            pytest.fail(f"{why} (required: VIZGRAD_REQUIRE_NGINX=1)")
        pytest.skip(why)


@pytest.fixture(scope="module")
def deployment():
    with Deployment(replicas=2, port=free_port(), extra_args=("--server.disconnectedSessionTTL", "2")) as d:
        yield d


def replica(d: Deployment, s: Session) -> int:
    """The replica that took this session's websocket."""
    return d.replica_of(s.ws.response.headers["X-Vizgrad-Replica"])


def replica_of_request(d: Deployment, s: Session, path: str = "/_stcore/health") -> int:
    req = urllib.request.Request(d.url + path, headers={"Cookie": s.cookie})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return d.replica_of(resp.headers["X-Vizgrad-Replica"])


def test_sessions_are_spread_and_every_request_of_a_session_reaches_its_replica(deployment):
    d = deployment
    where = []
    for _ in range(12):
        with Session(d.url) as s:
            r = s.run("playground", "expr=x**2%2By**3")
            assert r.ok and r.navigation, r.exceptions
            assert {replica_of_request(d, s) for _ in range(3)} == {replica(d, s)}  # never moved
            where.append(replica(d, s))
    assert set(where) == {0, 1}, where  # 12 random cookies on 2 replicas: both get sessions


def test_an_upload_goes_through_the_balancer_to_the_sessions_replica(deployment):
    good = b"x1,x2,label\n" + b"".join(f"{i / 10},{-i / 10},{i % 2}\n".encode() for i in range(40))
    with Session(deployment.url) as s:
        s.run("network", "data=csv")
        r = s.upload("CSV with rows", "points.csv", good)
    assert r.ok, r.exceptions
    assert not r.texts("error") and not any("cannot be used" in t for t in r.texts("info"))


def test_a_replica_killed_mid_session_the_others_keep_serving_and_the_url_restores_the_page(deployment):
    d = deployment
    query = "expr=" + quote("sin(x)*x") + "&v.x=0.5"
    sessions = {}
    while len(sessions) < 2:  # one open session on each replica
        s = Session(d.url)
        if replica(d, s) in sessions:
            s.close()
            continue
        assert s.run("playground", query).ok
        sessions[replica(d, s)] = s
    victim = d.nodes[0].proc
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)
    try:
        # the other replica's visitor goes on as if nothing happened
        assert sessions[1].run("playground", "expr=x**3").ok
        # the killed replica's visitor: the page reconnects (a new websocket, same affinity cookie)
        # and reruns its URL; nginx sends it to the live replica, and the URL alone restores the page
        with Session(d.url, cookie=sessions[0].cookie) as again:
            assert again.cookie.split("vizgrad_replica=")[1] == sessions[0].cookie.split("vizgrad_replica=")[1]
            r = again.run("playground", query)
            assert r.ok and r.navigation, r.exceptions
            assert replica(d, again) == 1
            assert any("sin" in t for t in r.texts("markdown") + r.texts("code")), r.elements[:10]
    finally:
        for s in sessions.values():
            s.close()
        # the health loop restarts the dead replica
        assert d.check() == [f"replica on port {d.nodes[0].port} had exited (-9); restarted"]
        d.wait_healthy()


def test_thirty_visitors_opening_one_deep_link_at_once_all_get_the_app(deployment):
    runs = at_once(deployment.url, [("walkthrough", "expr=x**2%2By**3&step=2")] * 30)
    assert all(r.ok for r in runs), [r.exceptions for r in runs if not r.ok][:3]
    assert all(r.navigation for r in runs)


def test_after_a_restart_of_every_replica_each_shared_url_reopens_its_page(deployment):
    d = deployment
    links = [("playground", "expr=" + quote("tanh(x*y)") + "&v.x=0.5"), ("walkthrough", "expr=x**2%2By**3&step=3"),
             ("network", "hidden=2&depth=2")]
    before = []
    for page, query in links:
        with Session(d.url) as s:
            r = s.run(page, query)
            assert r.ok, r.exceptions
            before.append(sorted(t for t in r.texts("markdown") + r.texts("heading") if t))
    for node in d.nodes:
        os.kill(node.proc.pid, signal.SIGKILL)
        node.proc.wait(10)
    assert len(d.check()) == 2
    d.wait_healthy()
    for (page, query), seen in zip(links, before):
        with Session(d.url) as s:
            r = s.run(page, query)
            assert r.ok and r.navigation, r.exceptions
            assert sorted(t for t in r.texts("markdown") + r.texts("heading") if t) == seen  # the same page


def test_replicas_share_the_hosts_heavy_slots_and_run_in_the_server_role(deployment):
    """The limiter is per process: 2 replicas on this host get cores // 2 heavy slots each (at least
    one), so heavy work at once stays about the cores; each runs with SERVER_ENV's allocator."""
    from serve import SERVER_ENV
    want = str(max(1, (os.cpu_count() or 1) // 2))
    for node in deployment.nodes:
        env = dict(kv.split("=", 1) for kv in Path(f"/proc/{node.proc.pid}/environ").read_text().split("\0") if "=" in kv)
        assert env["VIZGRAD_HEAVY_SLOTS"] == want
        assert all(env[k] == v for k, v in SERVER_ENV.items())
    given = Deployment(replicas=3, env={"VIZGRAD_HEAVY_SLOTS": "5"})
    given.nodes, given.secret = [None] * 3, "s"
    assert given.replica_env()["VIZGRAD_HEAVY_SLOTS"] == "5"
