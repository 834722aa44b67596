"""vizgrad.app.limiter: at most N heavy runs at once, the rest first come first served, told their place."""
import threading

import pytest

from vizgrad.app.limiter import Limiter, QueueFull


def hold(lim, release: threading.Event, entered: list, name, waits=None):
    def body():
        with lim.slot(waiting=(waits.append if waits is not None else None), poll=0.01) as waited:
            entered.append((name, waited))
            release.wait(10)
    t = threading.Thread(target=body)
    t.start()
    return t


def wait_until(cond, tries=2000):
    ev = threading.Event()
    for _ in range(tries):
        if cond():
            return True
        ev.wait(0.005)
    return False


def test_at_most_n_run_and_the_next_one_starts_when_a_slot_frees():
    lim = Limiter(2)
    gates = [threading.Event() for _ in range(3)]
    entered, waits = [], []
    threads = [hold(lim, gates[0], entered, "a"), hold(lim, gates[1], entered, "b")]
    assert wait_until(lambda: lim.running == 2)
    threads.append(hold(lim, gates[2], entered, "c", waits))
    assert wait_until(lambda: waits == [2])          # told: two runs ahead of it
    assert lim.running == 2 and lim.waiting == 1 and [n for n, _ in entered] == ["a", "b"]
    gates[0].set()
    assert wait_until(lambda: len(entered) == 3)
    assert entered[2] == ("c", True) and lim.running == 2
    for g in gates:
        g.set()
    for t in threads:
        t.join(10)
    assert lim.running == 0 and lim.waiting == 0


def test_waiting_runs_start_in_arrival_order():
    lim = Limiter(1)
    first = threading.Event()
    entered = []
    threads = [hold(lim, first, entered, 0)]
    assert wait_until(lambda: lim.running == 1)
    go = threading.Event()
    for i in range(1, 6):
        threads.append(hold(lim, go, entered, i))
        assert wait_until(lambda: lim.waiting == i)  # queued one after another
    go.set()
    first.set()
    for t in threads:
        t.join(10)
    assert [n for n, _ in entered] == [0, 1, 2, 3, 4, 5]


def test_a_run_that_waits_too_long_gives_up_and_leaves_the_queue():
    lim = Limiter(1)
    gate = threading.Event()
    t = hold(lim, gate, [], "busy")
    assert wait_until(lambda: lim.running == 1)
    with pytest.raises(QueueFull, match="server is busy"):
        with lim.slot(timeout=0.05, poll=0.01):
            pass
    assert lim.waiting == 0
    gate.set()
    t.join(10)
    with lim.slot() as waited:          # free again, at once
        assert waited is False


def test_a_full_queue_refuses_at_once_and_an_error_in_the_body_frees_the_slot():
    lim = Limiter(1, max_queue=0)
    with lim.slot():                    # a free slot is taken even with no room to queue
        with pytest.raises(QueueFull, match="runs are waiting"):
            with lim.slot():
                pass
    lim = Limiter(1)
    with pytest.raises(ZeroDivisionError):
        with lim.slot():
            1 / 0
    assert lim.running == 0
    with pytest.raises(ValueError):
        Limiter(0)


def test_the_waiter_hears_zero_when_its_slot_comes_and_nothing_when_it_did_not_wait():
    lim = Limiter(1)
    gate = threading.Event()
    t = hold(lim, gate, [], "first")
    assert wait_until(lambda: lim.running == 1)
    waits, entered, done = [], [], threading.Event()
    second = hold(lim, done, entered, "second", waits)
    assert wait_until(lambda: waits == [1])
    gate.set()
    assert wait_until(lambda: entered == [("second", True)])
    assert waits == [1, 0]                 # 0 once it holds the slot (the page clears its notice)
    lim2, told = Limiter(1), []
    with lim2.slot(waiting=told.append) as waited:
        assert waited is False
    assert told == []                      # a free slot: no notice, nothing to clear
    done.set()
    for th in (t, second):
        th.join(10)


def test_a_waiter_stopped_while_it_is_told_its_place_leaves_the_line():
    """Streamlit stops a script by raising inside it (in the page's `waiting`, a redraw): that run's
    ticket must leave the queue, or every later run would wait behind it until QueueFull."""
    lim = Limiter(1)
    gate = threading.Event()
    t = hold(lim, gate, [], "busy")
    assert wait_until(lambda: lim.running == 1)

    def stopped(k):
        raise KeyboardInterrupt("the script was stopped")
    with pytest.raises(KeyboardInterrupt):
        with lim.slot(waiting=stopped, poll=0.01):
            pass
    assert lim.waiting == 0 and lim.running == 1
    entered, done = [], threading.Event()
    later = hold(lim, done, entered, "later")
    assert wait_until(lambda: lim.waiting == 1)
    gate.set()
    assert wait_until(lambda: [n for n, _ in entered] == ["later"])   # the line moved on
    done.set()
    for th in (t, later):
        th.join(10)


def test_most_counts_the_runs_that_were_going_at_once():
    lim = Limiter(3)
    gates = [threading.Event() for _ in range(2)]
    threads = [hold(lim, g, [], i) for i, g in enumerate(gates)]
    assert wait_until(lambda: lim.running == 2)
    for g in gates:
        g.set()
    for t in threads:
        t.join(10)
    assert lim.most == 2 and lim.running == 0
