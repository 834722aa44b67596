"""The engine as the graph wing reads it: a tensor's value and grad, an op node's inputs and edge gradients.

    from vizgrad.graph import view
    view.value(t)            # a copy of t's array (later in-place updates do not change the picture)
    view.grad(t)             # a copy of t.grad's array, or None
    view.edges(t.grad_fn)    # (input tensors in operand order, the gradient sent to each, or None)
    view.elementwise(fn)     # may d out / d input be shown elementwise? (the op's `elementwise`)
    view.latex_function(fn, "σ")   # '\\sigma': the op's LaTeX function name

Everything vizgrad.graph (trace, steps) knows about the engine goes through here, on the engine's
public API: `Tensor.numpy(force=True)`, `.grad`, `.retains_grad`, `grad_fn.view()` (the node as
torch records it: a fused node shows the nodes it stands for; `next_functions` is built from it)
and the attributes an op class carries (`elementwise`, `latex_name`; a custom Function's node
carries neither).
"""
from __future__ import annotations

import numpy as np

__all__ = ["value", "grad", "edges", "numel", "add_grads", "elementwise", "latex_function"]


def value(t) -> np.ndarray:
    """A copy of the tensor's array."""
    return np.array(t.numpy(force=True))


def grad(t) -> np.ndarray | None:
    """A copy of the tensor's stored gradient, or None. A leaf's or a retaining tensor's `.grad`;
    for any other non-leaf the gradient `backward(inputs=[t])` stored, if it did (its `.grad`
    would warn when there is none, as torch's does, so the stored value is read directly)."""
    if t.grad_fn is None or t.retains_grad:
        gt = t.grad
    else:
        gt = t._grad
    return None if gt is None else np.array(gt.numpy(force=True))


def edges(fn) -> tuple:
    """(inputs, edge_grads) of an op node: its input tensors in operand order (repeats kept) and,
    after backward, the gradient it sent along each (numpy; None where an input needs none), else None."""
    return fn.view()


def numel(t) -> int:
    return t.numel()


def add_grads(a, b):
    """Two gradients summed as the engine sums them into one tensor; None stands for no gradient."""
    if a is None:
        return b
    if b is None:
        return a
    return np.asarray(a + b)


def elementwise(fn) -> bool:
    """Whether the op's d out / d input may be computed and shown elementwise (when the output has
    the broadcast shape of the inputs): its class's `elementwise` attribute. Custom Functions: never."""
    if fn is None or getattr(fn, "custom", False):
        return False
    return bool(getattr(fn, "elementwise", False))


def latex_function(fn, symbol: str) -> str:
    """The LaTeX function name of an op drawn as `symbol`: its class's `latex_name`, else the symbol
    itself (the caller wraps a name without a backslash in \\operatorname)."""
    return getattr(fn, "latex_name", None) or symbol
