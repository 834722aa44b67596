"""One update of the Network Playground's live panel: a bounded chunk of training steps, taken in turn.

    from vizgrad.app.limiter import HEAVY            # the page passes the server's limiter in (layers:
    done = train_update(trainer, 25, HEAVY,          # vizgrad.net sits below vizgrad.app)
                        waiting=lambda k: box.caption(queue_message(k)))

While Play is on, the page's fragment reruns every 0.05 s and each rerun calls train_update once.
The update holds one of the limiter's slots only while it computes the steps (the figures drawn
after it are not counted), stops after UPDATE_BUDGET seconds whatever "steps per update" asks, and
then yields the interpreter (time.sleep(0)) so that another session's thread runs before this one
draws. A visitor whose update waits for a slot is told their place through `waiting(k)`; when the
limiter gives up it raises its QueueFull (the page shows the message and pauses).
"""
from __future__ import annotations

import time
from typing import Callable

__all__ = ["UPDATE_BUDGET", "train_update", "queue_message"]

UPDATE_BUDGET = 0.25   # seconds of training per live update, at most (one more step may finish past it)


def train_update(trainer, steps: int, limiter, waiting: Callable[[int], None] | None = None,
                 budget: float = UPDATE_BUDGET, timeout: float = 30.0) -> int:
    """Run up to `steps` training steps of `trainer` inside one slot of `limiter` (an object with
    vizgrad.app.limiter.Limiter's slot()), for at most `budget` seconds; the number of steps made."""
    with limiter.slot(waiting=waiting, timeout=timeout):
        done = trainer.run(int(steps), budget=budget)
    time.sleep(0)  # let a waiting thread (another session's rerun) have the interpreter now
    return done


def queue_message(ahead: int) -> str:
    """What a waiting visitor reads: their place in the server's queue."""
    runs = "1 run" if ahead == 1 else f"{ahead} runs"
    return f"Queued: {runs} ahead of you (the server trains a few networks at a time)."
