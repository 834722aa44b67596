"""One server-wide limiter for heavy work: at most N runs at a time, the others queue in order.

    from vizgrad.app.limiter import HEAVY, QueueFull, queue_message
    box = st.empty()      # a page's placeholder: the queue notice while waiting, cleared at k = 0
    with HEAVY.slot(waiting=lambda k: box.info(queue_message(k)) if k else box.empty()) as waited:
        train_some_steps()                     # QueueFull when no slot came within WAIT_SECONDS

Who takes a slot: vizgrad.net.live.train_update (a live training update), vizgrad.app.sandbox.run
(a Code-page run: the child's CPU), vizgrad.app.walkthrough.prepare and backward_figure for a
graph of WALK_HEAVY_NODES nodes or more. Each passes `waiting` through from its page.

Heavy work is what one visitor can start that costs seconds of CPU: a training update, a
Code-page run, a walkthrough of a big graph. Streamlit runs every session's script in a thread of
one process, so two such runs at once share the interpreter (and numpy's small ops hold the GIL):
a third visitor's cheap rerun then waits behind both. The limiter keeps at most N heavy runs going
(N = VIZGRAD_HEAVY_SLOTS, default the number of cores) and queues the rest first come, first
served, telling each waiting visitor their place; a run that cannot start within `timeout` gives
up with QueueFull so the page can say so instead of hanging. A sandboxed Code run is a child
process, but it is the same kind of cost (a core for seconds), so it counts against the same N.
"""
from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections import deque
from typing import Callable, Iterator


WAIT_SECONDS = 30.0   # how long a run waits for a slot before it gives up (QueueFull)


class QueueFull(RuntimeError):
    """The wait for a slot ran out; the message is for the visitor."""


class Limiter:
    def __init__(self, slots: int, max_queue: int = 200):
        if slots < 1:
            raise ValueError(f"a limiter needs at least one slot, got {slots}")
        self.slots, self.max_queue = slots, max_queue
        self._cv = threading.Condition()
        self._queue: deque[int] = deque()      # tickets waiting, in arrival order
        self._running = 0
        self._tickets = itertools.count()
        self.most = 0                          # the most runs that were ever going at once (monitoring, tests)

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._queue)

    @contextlib.contextmanager
    def slot(self, waiting: Callable[[int], None] | None = None, timeout: float = WAIT_SECONDS,
             poll: float = 0.25) -> Iterator[bool]:
        """Hold one slot for the `with` body; yields whether this run had to wait. While queued,
        `waiting(k)` is called whenever k (the number of runs ahead, queued or running) changes, and
        once with k = 0 when the slot is got after a wait (the caller clears what it showed). A run
        that leaves the queue early (QueueFull, or an exception raised by `waiting`, as Streamlit
        stops a script) gives its place up. Slots are not reentrant: heavy work never nests (a
        thread that holds the only slot and asks for another would wait for itself).
        """
        waited = self._acquire(waiting, timeout, poll)
        try:
            if waited and waiting is not None:
                waiting(0)
            yield waited
        finally:
            with self._cv:
                self._running -= 1
                self._cv.notify_all()

    def _acquire(self, waiting, timeout: float, poll: float) -> bool:
        ticket = next(self._tickets)
        waited, shown = False, None
        with self._cv:
            free_now = not self._queue and self._running < self.slots
            if not free_now and len(self._queue) >= self.max_queue:
                raise QueueFull(f"the server is busy ({len(self._queue)} runs are waiting): try again in a minute")
            self._queue.append(ticket)
            try:
                deadline = time.monotonic() + timeout
                while not (self._queue[0] == ticket and self._running < self.slots):
                    waited = True
                    ahead = self._queue.index(ticket) + self._running
                    if waiting is not None and ahead != shown:
                        shown = ahead
                        self._cv.release()  # never call out (a page redraw) while holding the lock
                        try:
                            waiting(ahead)
                        finally:
                            self._cv.acquire()
                        continue
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise QueueFull(f"the server is busy: waited {timeout:.0f} s for a free slot; try again")
                    self._cv.wait(min(poll, left))
            except BaseException:
                self._queue.remove(ticket)  # its place goes to the next one (never left blocking the line)
                self._cv.notify_all()
                raise
            self._queue.popleft()
            self._running += 1
            self.most = max(self.most, self._running)
            self._cv.notify_all()
        return waited


def queue_message(ahead: int) -> str:
    """What a waiting visitor reads (the Code page, the walkthrough): their place in the server's queue."""
    runs = "1 run" if ahead == 1 else f"{ahead} runs"
    return f"Queued: {runs} ahead of you (the server does a few heavy runs at a time: training, code, big graphs)."


def _slots() -> int:
    from vizgrad.app import budgets  # VIZGRAD_HEAVY_SLOTS, default the number of cores
    return int(budgets.value("HEAVY_SLOTS"))


HEAVY = Limiter(_slots())  # the one the pages share (a module global: one per server process)
