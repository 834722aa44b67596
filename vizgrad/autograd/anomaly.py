"""Finding where NaN/inf starts: anomaly mode, and walks that name the first op to make one.

    with vizgrad.autograd.detect_anomaly():        # backward checks every node's output for NaN
        loss.backward()                            # RuntimeError: Function 'SqrtBackward0' returned nan ...

    find_nonfinite_forward(loss)    # ('LogBackward0', 'LogBackward0 produced inf from finite inputs ...')
    loss.backward(); find_nonfinite_backward(loss)   # the first backward node to send NaN/inf

Anomaly mode is torch's (NaN only, raised during backward). The two walks run after the fact
over the recorded graph: forward from each op's output value, backward from each node's
`edge_grads`, so they also catch inf, which anomaly mode does not look for.
"""
from __future__ import annotations

import re

import numpy as np

from vizgrad._grad_mode import STATE
from vizgrad.tensor import Tensor


# ============================================================================================
# Anomaly mode
# ============================================================================================
class set_detect_anomaly:
    """Check every backward output for NaN and name the op that produced it."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self.prev = STATE.anomaly
        STATE.anomaly = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        STATE.anomaly = self.prev
        return False


class detect_anomaly(set_detect_anomaly):
    def __init__(self, check_nan: bool = True):
        super().__init__(True)


def is_anomaly_enabled() -> bool:
    return STATE.anomaly


def _check_anomaly(fn, grads):
    for i, gi in enumerate(grads):
        if gi is None:
            continue
        v = gi._data if isinstance(gi, Tensor) else gi
        if np.isnan(v).any():
            raise RuntimeError(f"Function '{fn.name()}' returned nan values in its {i}th output.")


# ============================================================================================
# Finding the op that first produced a NaN/inf
# ============================================================================================
def _finite(a) -> bool:
    return bool(np.isfinite(a).all())


def _post_order(root: Tensor):
    """Graph nodes reachable from root, inputs before consumers; and node -> its output tensor."""
    outs = {root.grad_fn: root}
    order, seen = [], set()
    stack = [(root.grad_fn, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        for t in node.inputs:
            fn = t.grad_fn
            if fn is not None:
                outs.setdefault(fn, t)
                if fn not in seen:
                    stack.append((fn, False))
    return order, outs


def find_nonfinite_forward(root: Tensor, names: dict | None = None) -> tuple[str | None, str]:
    """(op name, description) of the first op (in execution order) whose output has NaN/inf while
    all its inputs are finite; if the non-finite values come from a leaf (a parameter or the
    data), (None, description naming it). names: id(tensor) -> display name for leaves."""
    if root.grad_fn is None:
        return None, "the loss is not attached to a graph"
    order, outs = _post_order(root)
    for node in order:
        out = outs[node]
        if not _finite(out._data):
            ins = node.inputs
            if all(_finite(t._data) for t in ins):
                kind = "NaN" if np.isnan(out._data).any() else "inf"
                return node.name(), f"{node.name()} produced {kind} from finite inputs in the forward pass"
            for t in ins:
                if t.grad_fn is None and not _finite(t._data):
                    label = (names or {}).get(id(t), "an input tensor")
                    return None, f"{label} already holds NaN/inf"
    return None, "no op output is non-finite"


def find_nonfinite_backward(root: Tensor) -> tuple[str | None, str]:
    """After root.backward(): the first node (in backward order) that received a finite gradient
    and sent a NaN/inf one along an input edge (uses each node's edge_grads)."""
    if root.grad_fn is None:
        return None, "the loss is not attached to a graph"
    order, outs = _post_order(root)
    bad_in: dict = {}
    for node in reversed(order):  # consumers before inputs: the order backward runs in
        edges = getattr(node, "edge_grads", None) or []
        if not bad_in.get(node, False):
            for g in edges:
                if g is not None and not _finite(g):
                    kind = "NaN" if np.isnan(g).any() else "inf"
                    return node.name(), f"{node.name()} produced {kind} gradients from a finite gradient in " \
                                        "the backward pass"
        for t, g in zip(node.inputs, edges):
            if t.grad_fn is not None and g is not None and not _finite(g):
                bad_in[t.grad_fn] = True
    return None, "no backward node produced a non-finite gradient"


def first_nonfinite_op(root: Tensor, leaves=(), names: dict | None = None) -> tuple[str | None, str]:
    """(op name, description) of the op that first produced NaN/inf in the forward pass that
    computed `root` (see find_nonfinite_forward); if root is finite, of the first backward node
    that did (root.backward() runs here, retaining the graph; the .grad of `leaves` are restored
    afterwards). names: id(leaf tensor) -> display name."""
    with np.errstate(all="ignore"):
        if not _finite(root._data):
            return find_nonfinite_forward(root, names)
        saved = [p._grad for p in leaves]
        try:
            for p in leaves:
                p._grad = None
            # every node records the gradient it sent along each edge: the first node that got a
            # finite gradient and sent NaN/inf is the culprit (catches inf, which anomaly mode
            # does not, and is not fooled by inf turning into NaN one node later)
            root.backward(retain_graph=True)
            op, why = find_nonfinite_backward(root)
            if op is None:
                for p in leaves:
                    p._grad = None
                try:
                    with detect_anomaly():
                        root.backward()
                except RuntimeError as e:
                    m = re.search(r"Function '([^']+)'", str(e))
                    if not m:
                        raise
                    op, why = m.group(1), f"{m.group(1)} produced NaN gradients in the backward pass ({e})"
            return op, why
        finally:
            for p, g in zip(leaves, saved):
                p._grad = g
