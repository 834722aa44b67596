"""One server-wide limiter for heavy work: at most N runs at a time, the others queue in order.

    from vizgrad.app.limiter import HEAVY
    with HEAVY.slot(waiting=lambda pos: box.info(f"queued: {pos} ahead of you")) as waited:
        train_some_steps()

Heavy work is what one visitor can start that costs seconds of CPU: a training update, a
Code-page run, a walkthrough of a big graph. Streamlit runs every session's script in a thread of
one process, so two such runs at once share the interpreter (and numpy's small ops hold the GIL):
a third visitor's cheap rerun then waits behind both. The limiter keeps at most N heavy runs going
(N = VIZGRAD_HEAVY_SLOTS, default the number of cores) and queues the rest first come, first
served, telling each waiting visitor their place; a run that cannot start within `timeout` gives
up with QueueFull so the page can say so instead of hanging.
"""
from __future__ import annotations

import contextlib
import itertools
import threading
from collections import deque
from typing import Callable, Iterator


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

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._queue)

    @contextlib.contextmanager
    def slot(self, waiting: Callable[[int], None] | None = None, timeout: float = 30.0,
             poll: float = 0.25) -> Iterator[bool]:
        """Hold one slot for the `with` body; yields whether this run had to wait. While queued,
        `waiting(k)` is called whenever k (the number of runs ahead, queued or running) changes."""
        ticket = next(self._tickets)
        waited, shown = False, None
        with self._cv:
            free_now = not self._queue and self._running < self.slots
            if not free_now and len(self._queue) >= self.max_queue:
                raise QueueFull(f"the server is busy ({len(self._queue)} runs are waiting): try again in a minute")
            self._queue.append(ticket)
            remaining = timeout
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
                if remaining <= 0:
                    self._queue.remove(ticket)
                    self._cv.notify_all()
                    raise QueueFull(f"the server is busy: waited {timeout:.0f} s for a free slot; try again")
                self._cv.wait(min(poll, remaining))
                remaining -= poll
            self._queue.popleft()
            self._running += 1
            self._cv.notify_all()
        try:
            yield waited
        finally:
            with self._cv:
                self._running -= 1
                self._cv.notify_all()


def _slots() -> int:
    from vizgrad.app import budgets  # VIZGRAD_HEAVY_SLOTS, default the number of cores
    return int(budgets.value("HEAVY_SLOTS"))


HEAVY = Limiter(_slots())  # the one the pages share (a module global: one per server process)
