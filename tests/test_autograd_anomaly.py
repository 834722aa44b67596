"""vizgrad.autograd.anomaly: the walks that name the first op to produce NaN/inf (forward: from
op outputs; backward: from each node's edge gradients)."""
from __future__ import annotations

import numpy as np

import vizgrad
from vizgrad.autograd.anomaly import find_nonfinite_backward, find_nonfinite_forward


def test_forward_walk_names_first_op():
    x = vizgrad.tensor([1.0, 0.0, 2.0], requires_grad=True)
    y = (vizgrad.log(x * 1.0) * 2).sum()        # log(0) = -inf: LogBackward0 is where it starts
    op, why = find_nonfinite_forward(y)
    assert op == "LogBackward0" and "from finite inputs" in why
    w = vizgrad.tensor([float("nan"), 1.0], requires_grad=True)
    op, why = find_nonfinite_forward((w * 2).sum(), {id(w): "0.weight"})
    assert op is None and "0.weight" in why
    assert find_nonfinite_forward(vizgrad.tensor(1.0)) == (None, "the loss is not attached to a graph")
    assert find_nonfinite_forward((x * 2).sum())[0] is None


def test_backward_walk_names_op():
    x = vizgrad.tensor([0.0, 1.0], requires_grad=True)
    y = vizgrad.sqrt(x).sum()                   # d sqrt/dx at 0 = inf, from a finite incoming gradient
    with np.errstate(divide="ignore"):
        y.backward()
    op, why = find_nonfinite_backward(y)
    assert op == "SqrtBackward0" and "inf" in why
    z = (x * 3).sum()
    z.backward()
    assert find_nonfinite_backward(z)[0] is None
