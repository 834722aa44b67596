"""One update of the Network Playground's live panel: a bounded chunk of training steps, taken in turn.

    from vizgrad.app.limiter import HEAVY            # the page passes the server's limiter in (layers:
    done = train_update(trainer, 25, HEAVY,          # vizgrad.net sits below vizgrad.app)
                        waiting=lambda k: box.caption(queue_message(k)) if k else box.empty())

While Play is on, the page's fragment reruns every 0.05 s and each rerun calls train_update once.
The update holds one of the limiter's slots only while it computes the steps (the figures drawn
after it are not counted), stops after UPDATE_BUDGET seconds whatever "steps per update" asks, and
then yields the interpreter (time.sleep(0)) so that another session's thread runs before this one
draws. A visitor whose update waits for a slot is told their place through `waiting(k)` (and k = 0 when
the slot is got); when the limiter gives up it raises its QueueFull (the page shows the message
and pauses). The same slots serve the Code page's runs and big walkthroughs (vizgrad.app.limiter).

LIVE holds (weakly) every trainer that has trained live in this process, for monitoring: the
logger "vizgrad.net.live" says at DEBUG what each update did and at INFO when a live trainer is
freed (its session closed and Streamlit let it go); tests/test_network_fairness.py reads these.
"""
from __future__ import annotations

import logging
import time
import weakref
from typing import Callable

__all__ = ["UPDATE_BUDGET", "LIVE", "train_update", "queue_message"]

LIVE: "weakref.WeakSet" = weakref.WeakSet()
_log = logging.getLogger(__name__)

UPDATE_BUDGET = 0.25   # seconds of training per live update, at most (one more step may finish past it)


def train_update(trainer, steps: int, limiter, waiting: Callable[[int], None] | None = None,
                 budget: float = UPDATE_BUDGET, timeout: float = 30.0) -> int:
    """Run up to `steps` training steps of `trainer` inside one slot of `limiter` (an object with
    vizgrad.app.limiter.Limiter's slot()), for at most `budget` seconds; the number of steps made."""
    if trainer not in LIVE:
        LIVE.add(trainer)
        weakref.finalize(trainer, _log.info, "live trainer %x freed", id(trainer))
    with limiter.slot(waiting=waiting, timeout=timeout):
        done = trainer.run(int(steps), budget=budget)
    _log.debug("live trainer %x: %d steps, at step %d", id(trainer), done, trainer.steps)
    time.sleep(0)  # let a waiting thread (another session's rerun) have the interpreter now
    return done


def queue_message(ahead: int) -> str:
    """What a waiting visitor reads: their place in the server's queue."""
    runs = "1 run" if ahead == 1 else f"{ahead} runs"
    return f"Queued: {runs} ahead of you (the server trains a few networks at a time)."
