"""Heavy work shares one server-wide limiter (issue 17): live training, Code-page runs and big
walkthroughs take slots of vizgrad.app.limiter.HEAVY (at most N at once); a visitor who waits is
told their place ("Queued: k ahead of you"), the notice goes when the slot is got, and a run that
gets no slot says the server is busy while the page stays usable.

    nice -n 5 .venv/bin/python -m pytest -q tests/test_heavy_work.py

The model-level tests inject a Limiter; the page tests hold the server's own HEAVY from the test's
thread (AppTest runs the page in this process) while the page runs in another thread. Code runs go
through the real sandbox (local mode, limits only, where bubblewrap is missing).
"""
import threading

import pytest

import vizgrad.app.limiter
from vizgrad.app import code as cp
from vizgrad.app import walkthrough as ws
from vizgrad.app.limiter import HEAVY, Limiter, QueueFull, queue_message
from vizgrad.net import train_update

from tests.test_code_page import open_code, output
from tests.test_network_fairness import all_slots_taken, wait_until
from tests.test_walkthrough_page import open_walkthrough

# eleven sin terms: 76 nodes (tensors and ops), 64 steps; above WALK_HEAVY_NODES' default (40)
BIG = {"expr": " + ".join(f"sin({i}*x)" for i in range(1, 12)), "v.x": "0.5"}
SMALL = {"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"}


def in_thread(fn, *args, **kw):
    """Start fn in a thread; the returned dict gets "value" (or "error") when it ends."""
    out: dict = {}

    def body():
        try:
            out["value"] = fn(*args, **kw)
        except BaseException as e:  # noqa: BLE001 (the test asserts on it in its own thread)
            out["error"] = e
    t = threading.Thread(target=body)
    t.start()
    out["thread"] = t
    return out


def finished(job, timeout: float = 60):
    job["thread"].join(timeout)
    assert not job["thread"].is_alive(), "still running"
    assert "error" not in job, job.get("error")
    return job["value"]


class HeldTrainer:
    """A stand-in for vizgrad.net.Trainer whose steps go on until the test lets them finish: a live
    training update that holds its slot for as long as the test wants."""

    def __init__(self):
        self.go, self.started, self.steps = threading.Event(), threading.Event(), 0

    def run(self, steps: int, budget: float) -> int:
        self.started.set()
        assert self.go.wait(30)
        self.steps += steps
        return steps


def test_the_visitors_place_is_said_in_words():
    assert queue_message(1).startswith("Queued: 1 run ahead of you")
    assert queue_message(4).startswith("Queued: 4 runs ahead of you")


# ---- the Code page's runs ------------------------------------------------------------------------------------
def test_a_code_run_waits_for_a_held_slot_tells_its_place_then_runs():
    lim = Limiter(1)
    seen: list[int] = []
    with all_slots_taken(lim):
        job = in_thread(cp.run_code, "print(6 * 7)", waiting=seen.append, limiter=lim)
        wait_until(lambda: lim.waiting == 1 and seen)
        assert seen == [1] and "value" not in job         # one run (the held slot) ahead; nothing ran
    r = finished(job)
    assert r.ok and r.output == "42\n"
    assert seen == [1, 0]                                 # 0: the slot is got (the page clears its notice)
    assert lim.running == 0 and lim.waiting == 0


def test_a_code_run_that_gets_no_slot_runs_nothing_and_says_the_server_is_busy():
    lim = Limiter(1, max_queue=0)
    with all_slots_taken(lim):
        r = cp.run_code("print('never')", limiter=lim)
    assert not r.ok and r.stopped == "busy" and r.output == "" and not r.tensors
    assert "server is busy" in r.error and r.error.startswith("Not run")
    assert cp.run_code("print('now')", limiter=lim).output == "now\n"   # a free slot: it runs


def test_training_and_code_runs_share_the_same_slots():
    """Two slots, both held by live training updates: a Code run waits behind them (told: 2 ahead),
    runs when one update ends, and the limiter never had more than 2 runs going."""
    lim = Limiter(2)
    trainers = [HeldTrainer(), HeldTrainer()]
    updates = [in_thread(train_update, tr, 5, lim) for tr in trainers]
    wait_until(lambda: all(tr.started.is_set() for tr in trainers))
    seen: list[int] = []
    run = in_thread(cp.run_code, "print('code')", waiting=seen.append, limiter=lim)
    wait_until(lambda: lim.waiting == 1 and seen)
    assert seen == [2] and lim.running == 2 and "value" not in run
    trainers[0].go.set()                                  # one update ends: the code run takes its slot
    assert finished(run).output == "code\n" and seen == [2, 0]
    assert finished(updates[0]) == 5 and "value" not in updates[1]   # the other still trains
    trainers[1].go.set()
    assert finished(updates[1]) == 5
    assert lim.most == 2 and lim.running == 0


def test_a_training_update_waits_while_code_runs_hold_the_slots():
    lim = Limiter(1)
    program = "import time\ntime.sleep(1.0)\nprint('slept')"
    run = in_thread(cp.run_code, program, limiter=lim)
    wait_until(lambda: lim.running == 1)
    tr = HeldTrainer()
    tr.go.set()
    seen: list[int] = []
    update = in_thread(train_update, tr, 3, lim, waiting=seen.append)
    wait_until(lambda: lim.waiting == 1 and seen)
    assert seen == [1] and tr.steps == 0                 # the code run is the one run ahead of it
    assert finished(run).output == "slept\n"
    assert finished(update) == 3 and tr.steps == 3 and seen == [1, 0]
    assert lim.most == 1


# ---- big walkthroughs ------------------------------------------------------------------------------------------
def test_a_big_walk_waits_for_a_held_slot_tells_its_place_then_is_built():
    src = ws.from_query(BIG)
    lim = Limiter(1)
    seen: list[int] = []
    with all_slots_taken(lim):
        job = in_thread(ws.prepare, src, waiting=seen.append, limiter=lim)
        wait_until(lambda: lim.waiting == 1 and seen)
        assert seen == [1] and "value" not in job
    w = finished(job)
    assert w.ok and not w.busy and w.size.ops + w.size.tensors >= ws.HEAVY_NODES
    assert seen == [1, 0] and lim.running == 0
    assert w.all_match                                   # the walk checked out as an unqueued one does


def test_a_small_walk_takes_no_slot():
    lim = Limiter(1, max_queue=0)
    with all_slots_taken(lim):                           # every slot taken and no room to queue
        w = ws.prepare(ws.from_query(SMALL), limiter=lim)
    assert w.ok and w.size.ops + w.size.tensors < ws.HEAVY_NODES


def test_a_big_walk_that_gets_no_slot_is_a_busy_message_then_builds_when_free():
    src = ws.from_query(BIG)
    lim = Limiter(1, max_queue=0)
    with all_slots_taken(lim):
        w = ws.prepare(src, limiter=lim)
    assert w.busy and not w.ok and not w.steps and "server is busy" in w.error
    w = ws.prepare(src, limiter=lim)
    assert w.ok and not w.busy


def test_a_big_walks_backward_animation_is_drawn_in_a_slot():
    w = ws.prepare(ws.from_query(BIG))
    lim = Limiter(1, max_queue=0)
    with all_slots_taken(lim), pytest.raises(QueueFull, match="busy"):
        ws.backward_figure(w, limiter=lim)
    seen: list[int] = []
    lim = Limiter(1)
    with all_slots_taken(lim):
        job = in_thread(ws.backward_figure, w, waiting=seen.append, limiter=lim)
        wait_until(lambda: lim.waiting == 1 and seen)
        assert "value" not in job
    assert finished(job) and seen == [1, 0]


def test_a_code_links_walk_is_a_busy_message_when_its_sandbox_run_gets_no_slot(monkeypatch):
    q = cp.walkthrough_query("import torch\nx = torch.tensor(2.0, requires_grad=True)\nloss = x * x\n", "loss")
    monkeypatch.setattr(HEAVY, "max_queue", 0)
    with all_slots_taken(HEAVY):  # the run takes a slot of the server's HEAVY (graph_from_query passes none)
        src = ws.from_query(q)
    assert src.busy and not src.ok and src.error.startswith("Not run: the server is busy")
    assert src.error.count("Not run") == 1
    w = ws.prepare(src)
    assert w.busy and not w.ok
    monkeypatch.undo()
    assert ws.prepare(ws.from_query(q)).ok and HEAVY.running == 0


# ---- the pages -------------------------------------------------------------------------------------------------
@pytest.fixture
def spied(monkeypatch):
    """What the pages said while queued: they import queue_message from vizgrad.app.limiter on every run."""
    shown: list[str] = []

    def spy(ahead):
        shown.append(queue_message(ahead))
        return shown[-1]
    monkeypatch.setattr(vizgrad.app.limiter, "queue_message", spy)
    return shown


def infos(at) -> list[str]:
    return [i.value for i in at.info]


def test_the_code_page_shows_its_place_while_queued_then_runs(spied):
    with all_slots_taken(HEAVY):
        job = in_thread(open_code, {"code": cp.encode_code("print('queued, then ran')\n")})
        wait_until(lambda: HEAVY.waiting == 1 and spied)
        assert spied == [queue_message(HEAVY.slots)] and "value" not in job   # every slot is a run ahead
    at = finished(job)
    assert output(at) == "queued, then ran\n"
    assert not any(i.startswith("Queued") for i in infos(at))   # the notice went when the slot was got
    assert HEAVY.running == 0 and HEAVY.waiting == 0


def test_the_code_page_keeps_its_result_when_the_server_is_busy(monkeypatch):
    at = open_code({"code": cp.encode_code("print('first')\n")})
    assert output(at) == "first\n"
    at.text_area(key="cd_code").set_value("print('second')\n")
    monkeypatch.setattr(HEAVY, "max_queue", 0)
    with all_slots_taken(HEAVY):
        at.button(key="cd_run").click().run()
    assert not at.exception
    assert any("server is busy" in w.value and "try again" in w.value and "last result stays" in w.value
               for w in at.warning), [w.value for w in at.warning]
    assert output(at) == "first\n"                        # nothing ran: the last result stays
    monkeypatch.undo()
    at.button(key="cd_run").click().run()                 # the page stays usable: with a free slot it runs
    assert output(at) == "second\n" and not at.warning


def test_the_walkthrough_of_a_big_graph_shows_its_place_while_queued_then_steps(spied):
    big = {**BIG, "v.x": "0.75"}  # a graph no other test's session built (AppTest sessions may share the store)
    with all_slots_taken(HEAVY):
        job = in_thread(open_walkthrough, big)
        wait_until(lambda: HEAVY.waiting == 1 and spied)
        assert spied == [queue_message(HEAVY.slots)] and "value" not in job
    at = finished(job)
    assert at.slider(key="wt_slider").max == ws.prepare(ws.from_query(big)).n == 64
    assert not any(i.startswith("Queued") for i in infos(at)) and not at.error
    at.button(key="wt_next").click().run()                # the walk was kept: a step needs no slot
    assert at.slider(key="wt_slider").value == 2 and HEAVY.running == 0


def test_the_walkthrough_of_a_big_graph_says_the_server_is_busy_and_tries_again(monkeypatch):
    monkeypatch.setattr(HEAVY, "max_queue", 0)
    with all_slots_taken(HEAVY):
        at = open_walkthrough({**BIG, "v.x": "0.25"})
    assert at.error and "server is busy" in at.error[0].value
    assert at.button(key="wt_retry").label == "Try again"
    monkeypatch.undo()
    at.button(key="wt_retry").click().run()               # the page stays usable: with a free slot it builds
    assert not at.error and at.slider(key="wt_slider").max == 64


# ---- a real server, two visitors (the protocol level: what a browser is sent) -----------------------------------
def test_on_a_one_slot_server_the_second_visitor_is_told_they_are_queued_then_runs():
    """VIZGRAD_HEAVY_SLOTS=1: while one visitor's program runs (it sleeps 4 s in the sandbox), a
    second visitor's Run is sent the queue notice, then its own output; the first one's run is
    unaffected. The notice is an element the server streams while the script waits."""
    from tests.stclient import Session, serve
    first = "import time\ntime.sleep(4)\nprint('first done')\n"
    second = "print('second done')\n"
    with serve(env={"VIZGRAD_HEAVY_SLOTS": "1"}) as (url, _):
        with Session(url) as a, Session(url) as b:
            assert a.run("code").ok and b.run("code").ok      # each opens on the first example (run)
            job = in_thread(a.set_text, "Your PyTorch code", first)
            threading.Event().wait(1.5)                       # a's run holds the one slot by now
            r = b.set_text("Your PyTorch code", second)
            ra = finished(job)
    assert ra.ok and any("first done" in t for t in ra.texts("code"))
    assert r.ok and any("second done" in t for t in r.texts("code")), r.elements
    assert "Queued: 1 run ahead of you" in " ".join(r.texts("info")), r.elements
    assert not any("busy" in t for t in r.texts("warning"))
