"""The Network Playground's live training shares the server (issue 17): every live update takes a slot
of the one server-wide limiter (vizgrad.app.limiter.HEAVY) while it computes, waits in line when
the slots are taken (telling the visitor their place), is bounded in time, and pauses with a
message when the limiter gives up.

    .venv/bin/python -m pytest -q tests/test_network_fairness.py

The slots are held from the test's own thread; the page (or train_update) runs in another one.
"""
import contextlib
import threading
import time

import pytest

import vizgrad.net
from vizgrad.app.limiter import HEAVY, Limiter, QueueFull
from vizgrad.net import NetConfig, Trainer, queue_message, train_update

from tests.test_network_page import open_page, stats


def wait_until(cond, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


@contextlib.contextmanager
def all_slots_taken(limiter: Limiter):
    with contextlib.ExitStack() as held:
        for _ in range(limiter.slots):
            held.enter_context(limiter.slot())
        yield


def test_an_update_waits_for_a_slot_shows_its_place_and_then_trains():
    lim = Limiter(1)
    trainers = [Trainer(NetConfig(), eval_every=10**6) for _ in range(2)]
    seen: list[list[int]] = [[], []]
    done = [None, None]

    def update(i):
        done[i] = train_update(trainers[i], 7, lim, waiting=seen[i].append)

    with all_slots_taken(lim):
        first = threading.Thread(target=update, args=(0,))
        first.start()
        wait_until(lambda: lim.waiting == 1)
        second = threading.Thread(target=update, args=(1,))
        second.start()
        wait_until(lambda: lim.waiting == 2 and seen[1])
        time.sleep(0.1)
        assert [tr.steps for tr in trainers] == [0, 0]     # nobody trains while the slot is held
        assert seen == [[1], [2]]                           # one run ahead of the first, two of the second
    first.join(30), second.join(30)
    assert done == [7, 7] and [tr.steps for tr in trainers] == [7, 7]
    assert seen[0] == [1, 0]                               # 0: the slot is got (the page clears its notice)
    assert seen[1] in ([2, 0], [2, 1, 0])                  # it may have been told when it moved up
    assert lim.running == 0 and lim.waiting == 0


def test_an_update_is_bounded_in_time_and_gives_the_slot_back():
    lim = Limiter(1)
    tr = Trainer(NetConfig(), eval_every=10**6)
    n = train_update(tr, 20000, lim, budget=0.05)   # 20000 steps take far longer than 0.05 s
    assert 1 <= n < 20000 and tr.steps == n
    assert lim.running == 0


def test_a_full_queue_raises_and_trains_nothing():
    lim = Limiter(1, max_queue=0)
    tr = Trainer(NetConfig(), eval_every=10**6)
    with all_slots_taken(lim), pytest.raises(QueueFull, match="busy"):
        train_update(tr, 10, lim)
    assert tr.steps == 0 and lim.running == 0


def test_queue_message_says_the_place():
    assert queue_message(1) == "Queued: 1 run ahead of you (the server trains a few networks at a time)."
    assert queue_message(3).startswith("Queued: 3 runs ahead of you")


# ---- the page -----------------------------------------------------------------------------------------------
def test_the_page_waits_for_a_slot_while_playing_and_shows_its_place(monkeypatch):
    at = open_page()
    tr = at.session_state["nw_trainer"]
    shown: list[str] = []

    def spy(ahead):  # the page imports queue_message from vizgrad.net on every run
        shown.append(queue_message(ahead))
        return shown[-1]

    monkeypatch.setattr(vizgrad.net, "queue_message", spy)
    errors = []

    def play():
        try:
            at.button(key="nw_play").click().run()
        except Exception as e:  # noqa: BLE001 (reported below, in the test's thread)
            errors.append(e)

    with all_slots_taken(HEAVY):
        t = threading.Thread(target=play)
        t.start()
        wait_until(lambda: HEAVY.waiting == 1)
        time.sleep(0.2)
        assert tr.steps == 0
        assert shown == [queue_message(HEAVY.slots)]     # every slot is someone else's run ahead of it
    t.join(60)
    assert not errors and not at.exception, (errors, at.exception)
    assert at.session_state["nw_playing"] is True and stats(at)["Step"] > 0 and tr.steps > 0
    assert HEAVY.running == 0


def test_the_page_pauses_with_a_message_when_the_queue_is_full(monkeypatch):
    at = open_page()
    monkeypatch.setattr(HEAVY, "max_queue", 0)
    with all_slots_taken(HEAVY):
        at.button(key="nw_play").click().run()
    assert not at.exception
    assert at.session_state["nw_playing"] is False and at.session_state["nw_trainer"].steps == 0
    assert any("busy" in w.value and "Play" in w.value for w in at.warning)
    assert at.button(key="nw_play").label == "Play"
    at.button(key="nw_step").click().run()       # the page stays usable
    assert stats(at)["Step"] == 1 and not at.exception
    monkeypatch.undo()
    at.button(key="nw_play").click().run()       # with a free slot, Play trains again
    assert at.session_state["nw_playing"] is True and stats(at)["Step"] > 1
    assert not any("busy" in w.value for w in at.warning)


# ---- a browser closed mid-training (a real server, driven at the protocol level) ------------------------------
SITECUSTOMIZE = '''import logging, sys
handler = logging.StreamHandler(sys.stderr)
handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
log = logging.getLogger("vizgrad.net.live")
log.setLevel(logging.DEBUG)
log.addHandler(handler)
'''


def _train_then_close(url: str, log_path) -> tuple[str, int]:
    """Open the page, press Play, let the fragment rerun for 1.5 s, close the websocket; the
    session's trainer (its id in the log) and how many updates the log had shown."""
    from tests.stclient import Session
    with Session(url) as s:
        assert s.run("network").ok
        assert s.click("Play").ok
        runs = s.play(1.5)
        assert runs and all(r.ok for r in runs)
        wait_until(lambda: len(_updates(log_path)) >= 3)
    (trainer,) = {u[0] for u in _updates(log_path)}   # one session, one trainer
    return trainer, len(_updates(log_path))


def _updates(log_path) -> list[tuple[str, str, str]]:
    """(trainer id, steps, at step) of every live update the server logged."""
    import re
    return re.findall(r"live trainer (\w+): (\d+) steps, at step (\d+)", log_path.read_text())


@contextlib.contextmanager
def _logged_server(tmp_path):
    from tests.stclient import serve
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log_path = tmp_path / "server.log"
    with serve(log_path, args=("--server.disconnectedSessionTTL", "2"), env={"PYTHONPATH": str(tmp_path)}) as (url, _):
        yield url, log_path


def test_a_tab_closed_mid_training_stops_training(tmp_path):
    """Play, let the fragment rerun a few times, close the websocket: the server makes no more
    updates (the server's log says what each update did: the vizgrad.net.live logger, switched on
    by a sitecustomize on the server's PYTHONPATH)."""
    with _logged_server(tmp_path) as (url, log_path):
        _train_then_close(url, log_path)
        time.sleep(1.0)                                   # an update in flight may finish
        n = len(_updates(log_path))
        time.sleep(3.0)
        assert len(_updates(log_path)) == n, "the server kept training after the tab closed"


def test_a_tab_closed_mid_training_frees_its_trainer_within_the_ttl(tmp_path):
    """After the disconnected-session TTL (2 s here) and a janitor tick (pages/_common.py, every
    5 s), the closed session's trainer is garbage: the server logs its finalizer. Nobody else
    visits: the session is the last one Streamlit's runtime loop served, which its variables keep
    until the janitor clears them (pages/_common.py _forget_last_served_session)."""
    with _logged_server(tmp_path) as (url, log_path):
        trainer, _ = _train_then_close(url, log_path)
        end = time.monotonic() + 20
        while f"live trainer {trainer} freed" not in log_path.read_text():
            assert time.monotonic() < end, "the closed tab's trainer is still alive"
            time.sleep(0.5)
