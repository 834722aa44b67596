"""How fast the expression language refuses hostile input, and how long the largest accepted
expressions take (the timings the tests in tests/test_expr.py do not assert: speed lives here).

    .venv/bin/python bench/expr_limits.py     # target: every line under 1 s

Uses the test suite's own hostile cases and values (tests/test_expr.py).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_expr import HOSTILE  # noqa: E402
from vizgrad.expr import ExprError, evaluate  # noqa: E402

TARGET = 1.0


def big_values():
    rng = np.random.default_rng(0)
    return {"x": 1.5, "M": rng.random((300, 300)), "V": rng.random(100_000)}


def timed(fn) -> float:
    t0 = time.perf_counter()
    try:
        fn()
    except ExprError:
        pass
    return time.perf_counter() - t0


def main():
    vals = big_values()
    worst = []
    for src, _needle in HOSTILE:
        worst.append((timed(lambda: evaluate(src, vals)), "refuse " + src[:50]))
    vals = dict(vals, S=vals["M"][:150, :150])
    for template in ["exp(V) * sin(V)", "V / (V + 1)", "V ** V", "std(V)", "max(M, dim=0)", "softmax(M, dim=1)",
                     "logsumexp(M, dim=0)", "M[1:, :]", "clamp(V, 0.2, 0.5)", "S @ S", "transpose(S) @ S @ S"]:
        n, last_ok = 1, None
        while n < 400:  # the largest sum of this term the work limit accepts
            src = "+".join([f"sum({template})"] * n)
            try:
                evaluate(src, vals)
                last_ok = src
            except ExprError:
                break
            n *= 2
        if last_ok:
            worst.append((timed(lambda: evaluate(last_ok, vals).backward()), f"largest accepted: {template} x{n // 2}"))
    worst.sort(reverse=True)
    for t, what in worst[:12]:
        print(f"{t:7.3f} s  {'ok  ' if t < TARGET else 'SLOW'}  {what}")
    print(f"slowest {worst[0][0]:.3f} s over {len(worst)} cases (target under {TARGET:.0f} s)")


if __name__ == "__main__":
    main()
