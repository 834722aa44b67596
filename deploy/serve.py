"""R vizgrad replicas behind nginx on loopback, with session affinity and health checks.

    .venv/bin/python deploy/serve.py --replicas 2 --port 8500      # or: make deploy R=2
    # -> http://127.0.0.1:8500  (replicas on 8501.., each a `streamlit run app.py`)

What it does, and how it maps to a real host (README "Deploying"):
- starts R Streamlit processes (the replicas) on loopback ports, all with one shared cookie
  secret, so that a page served by one replica passes the XSRF check of another;
- writes deploy/nginx.conf.template into a run directory and starts Debian's nginx on it: the
  load balancer, hashing every request on an affinity cookie so that a session's websocket and its
  uploads all reach one replica (see the template for why a cookie, not the client address);
- health: nginx marks a replica that refuses connections as down for a few seconds and sends the
  request to the next one (passive checks: open-source nginx has no active ones); this script
  polls every replica's /_stcore/health each second and restarts a replica whose process died.
- the replicas' environment is the server's process role (SERVER_ENV below): the allocator
  settings, chosen by what a crowd of visitors costs in latency and in memory kept once they have
  gone (bench/load.py, bench/memory.py). They are read when the interpreter starts, so they belong
  in the environment of whatever starts the process (here; `make run`; a real host's unit or
  container).
On a real host the same split holds: a process manager or container platform runs R replicas
(`streamlit run app.py --server.port ...`, one STREAMLIT_SERVER_COOKIE_SECRET for all, SERVER_ENV),
nginx in front with this template, and the platform's health check on /_stcore/health.
"""
from __future__ import annotations

import argparse
import ctypes.util
import glob
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
UPLOAD_MB = 2  # nginx's body limit: the app's own maxUploadSize (1 MB) plus the multipart envelope
# A server's allocator. Streamlit runs every script run in a thread of its own and a crowd's
# sessions interleave their objects, so once they have gone the freed memory is scattered between
# the few objects that stay (an lru_cache's entries, a dict's grown table, the last session
# Streamlit's runtime loop flushed). Python's own small-object allocator (pymalloc) returns a 1 MiB
# arena only when all of it is free, which after a crowd almost none is: sys._debugmallocstats()
# after 50 visitors had gone showed the same 75 MB of live blocks as after one visitor, spread over
# 130 arenas instead of 76. jemalloc (Debian's libjemalloc2) hands back any free page: with
# PYTHONMALLOC=malloc every object lives in it, and MALLOC_CONF makes it purge pages unused for a
# second from a background thread (the janitor, pages/_common.py, also purges at once when the
# visitors have gone: vizgrad/_alloc.py trim()). bench/memory.py, rounds of 50 visitors at once,
# RSS once they have gone minus one visitor's: +58..+62 MB with pymalloc, +24..+33 with jemalloc.
# It is faster too: bench/load.py (50 sessions, 5 training, R = 2, 60 s) edit p95 0.65-0.85 s and
# 702-711 training updates against 1.07 s and 590 with pymalloc (glibc's malloc instead was slower
# than both: 1.45 s, 417). Without libjemalloc2 the server keeps pymalloc (serve.py says so).
# MALLOC_ARENA_MAX=2 is for glibc's malloc (numpy's arrays when jemalloc is absent): its default of
# up to 8 heaps per core spreads them over more heaps.
JEMALLOC_CONF = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0,narenas:4"


def find_jemalloc() -> str | None:
    """The path of jemalloc's shared library (Debian: libjemalloc2), or None."""
    for pattern in ("/usr/lib/*-linux-gnu/libjemalloc.so.2", "/usr/lib64/libjemalloc.so.2",
                    "/usr/lib/libjemalloc.so.2", "/usr/local/lib/libjemalloc.so.2"):
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return ctypes.util.find_library("jemalloc")  # a bare name: LD_PRELOAD searches the library path


def server_env(jemalloc: str | None = None) -> dict:
    """The server's process role: its allocator settings (why: the comment above)."""
    env = {"MALLOC_ARENA_MAX": "2"}
    jemalloc = jemalloc or find_jemalloc()
    if jemalloc:
        # joined with ":", which ld.so reads as " ", because make run word-splits the KEY=VALUE lines
        preload = ":".join(p for p in (os.environ.get("LD_PRELOAD", ""), jemalloc) if p)
        env.update(PYTHONMALLOC="malloc", LD_PRELOAD=preload, MALLOC_CONF=JEMALLOC_CONF)
    return env


SERVER_ENV = server_env()


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout).read() == b"ok"
    except OSError:
        return False


@dataclass
class Replica:
    port: int
    log: Path
    proc: subprocess.Popen | None = None
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Deployment:
    """A context manager: the replicas and the balancer, up (and healthy) inside the `with`."""
    replicas: int = 2
    port: int = 8500
    hosted: bool = False
    run_dir: Path | None = None
    extra_args: tuple = ()
    env: dict = field(default_factory=dict)
    nodes: list = field(default_factory=list)
    nginx: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Deployment":
        if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx)")
        self.run_dir = Path(self.run_dir or tempfile.mkdtemp(prefix="vizgrad-deploy-"))
        self.secret = secrets.token_hex(16)
        self.nodes = [Replica(self.port + 1 + i, self.run_dir / f"replica-{i}.log") for i in range(self.replicas)]
        try:
            for node in self.nodes:
                self._start(node)
            self._write_nginx_conf()
            self.nginx = subprocess.Popen(
                [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(self.run_dir), "-c", "nginx.conf",
                 "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=open(self.run_dir / "nginx.out", "w"))
            self.wait_healthy()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        procs = [n.proc for n in self.nodes if n.proc] + ([self.nginx] if self.nginx else [])
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

    def replica_env(self) -> dict:
        """A replica's environment: the server role (SERVER_ENV), the shared cookie secret, and its
        share of the host's heavy-work slots: the limiter (vizgrad/app/limiter.py) is per process,
        so R replicas on C cores get max(1, C // R) each (VIZGRAD_HEAVY_SLOTS set by the caller wins)."""
        env = {**os.environ, **SERVER_ENV, "STREAMLIT_SERVER_COOKIE_SECRET": self.secret, **self.env}
        env.setdefault("VIZGRAD_HEAVY_SLOTS", str(max(1, (os.cpu_count() or 1) // len(self.nodes))))
        if self.hosted:
            env["VIZGRAD_HOSTED"] = "1"
        return env

    def _start(self, node: Replica) -> None:
        # the secret goes in the environment: Streamlit refuses it on the command line (it would
        # show in `ps`)
        env = self.replica_env()
        node.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(node.port),
             "--browser.gatherUsageStats", "false", *self.extra_args],
            cwd=ROOT, env=env, stdout=open(node.log, "a"), stderr=subprocess.STDOUT)

    def _write_nginx_conf(self) -> None:
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.run_dir / sub).mkdir(exist_ok=True)
        servers = "\n".join(f"        server 127.0.0.1:{n.port} max_fails=1 fail_timeout=3s;" for n in self.nodes)
        text = (TEMPLATE.read_text().replace("@RUN@", str(self.run_dir)).replace("@PORT@", str(self.port))
                .replace("@UPLOAD_MB@", str(UPLOAD_MB)).replace("@SERVERS@", servers))
        (self.run_dir / "nginx.conf").write_text(text)

    def wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.time() + timeout
        while not (all(healthy(n.url) for n in self.nodes) and healthy(self.url)):
            dead = [n for n in self.nodes if n.proc.poll() is not None]
            if dead or (self.nginx and self.nginx.poll() is not None) or time.time() > deadline:
                what = f"replica on port {dead[0].port} (log {dead[0].log})" if dead else \
                    f"nginx (log {self.run_dir / 'error.log'})"
                raise RuntimeError(f"deploy did not come up: {what}")
            time.sleep(0.2)

    def check(self) -> list[str]:
        """One round of the health loop: restart replicas whose process ended. Returns what it did."""
        done = []
        for node in self.nodes:
            code = node.proc.poll()
            if code is not None:
                node.restarts += 1
                self._start(node)
                done.append(f"replica on port {node.port} had exited ({code}); restarted")
        return done

    def replica_of(self, upstream_addr: str) -> int:
        """Index of the replica nginx named in an X-Vizgrad-Replica header ('127.0.0.1:8502')."""
        port = int(upstream_addr.rsplit(":", 1)[1].split(",")[0])
        return [n.port for n in self.nodes].index(port)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", "-r", type=int, default=2)
    ap.add_argument("--port", type=int, default=8500, help="the balancer's port; replicas take the next R")
    ap.add_argument("--hosted", action="store_true", help="hosted mode (VIZGRAD_HOSTED=1) on every replica")
    ap.add_argument("--print-env", action="store_true",
                    help="print the server role's environment (SERVER_ENV) as KEY=VALUE lines and exit (make run uses it)")
    args = ap.parse_args()
    if args.print_env:
        print("\n".join(f"{k}={v}" for k, v in SERVER_ENV.items()))
        return
    if "LD_PRELOAD" not in SERVER_ENV:
        print("vizgrad: jemalloc not found (Debian: apt-get install libjemalloc2): the replicas keep "
              "Python's own allocator, which keeps much of a crowd's memory after it has gone", file=sys.stderr)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    with Deployment(replicas=args.replicas, port=args.port, hosted=args.hosted) as d:
        print(f"vizgrad: {d.url}  ({args.replicas} replicas on ports "
              f"{d.nodes[0].port}-{d.nodes[-1].port}; logs in {d.run_dir})", flush=True)
        try:
            while not stop:
                for line in d.check():
                    print(line, flush=True)
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
