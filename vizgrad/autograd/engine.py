"""The backward pass: reverse-mode accumulation over the recorded graph, without recursion.

    run_backward([loss], [1.0])        # what loss.backward() does

Algorithm (the same as torch's engine, single-threaded):
  1. walk the graph from the roots once, counting for every node how many edges feed it a
     gradient (its dependencies);
  2. start from the roots; a node runs when all its dependencies have delivered, so its
     buffer holds the full gradient of its output; its backward sends one contribution per
     input edge; contributions to the same tensor are summed, which is fan-out accumulation.
Leaves receive their summed gradient in `.grad` at the end (or are captured for autograd.grad).
Each node keeps `edge_grads`, the numpy gradient it sent along each input edge: the graph view
draws these on the edges.
"""
from __future__ import annotations

import gc

import numpy as np

from vizgrad._grad_mode import STATE
from vizgrad.autograd.anomaly import _check_anomaly
from vizgrad.tensor import INPLACE, Tensor
from vizgrad.ops import CopyBackwards, _sum_to_array, sum_to
from vizgrad.ops.base import FREED_MSG, PACKED, unpack_saved  # (FREED_MSG: autograd.function reads it here)


def _count_dependencies(roots) -> tuple[dict, dict]:
    """Per node: how many input edges will deliver it a gradient; and for ops whose backward
    reads their output (exp, tanh, ...), that output tensor (found here, so ops need not keep a
    reference to their output, which would be a cycle)."""
    deps = {}
    outs = {}
    for r in roots:
        fn = r.grad_fn
        if fn is not None:
            deps[fn] = 0
            if fn.needs_out:
                outs[fn] = r
    stack = list(deps)
    pop, push, seen = stack.pop, stack.append, deps.get
    while stack:
        for t in pop().inputs:
            child = t.grad_fn
            if child is not None:
                n = seen(child)
                if n is None:
                    deps[child] = 1
                    push(child)
                    if child.needs_out:
                        outs[child] = t
                else:
                    deps[child] = n + 1
    return deps, outs


def _call_hooks(hooks, g, create_graph):
    for hook in hooks:
        gt = g if isinstance(g, Tensor) else Tensor._make(g)
        r = hook(gt)
        if r is not None:
            g = r if create_graph else r._data
    return g


def backward_plain(roots, root_grads, retain_graph: bool) -> None:
    """`run_backward` specialised for the everyday `loss.backward()`: numpy gradients into leaves'
    .grad, no create_graph, no capture, no anomaly mode. Same algorithm and bookkeeping (edge_grads,
    out_grad, hooks, freeing, version checks) with the other branches taken out of the hot loop;
    a training step of a small MLP spends a third of its time in this loop."""
    if STATE.anomaly or PACKED[0]:  # (saved-tensor hooks were used: run_backward unpacks)
        return run_backward(roots, root_grads, retain_graph, False)
    deps, outs = _count_dependencies(roots)
    buf, leaf_buf = {}, {}
    for r, g in zip(roots, root_grads):
        fn = r.grad_fn
        if fn is None:
            leaf_buf[r] = leaf_buf[r] + g if r in leaf_buf else g
        else:
            buf[fn] = buf[fn] + g if fn in buf else g
    ready = [fn for fn in buf if deps[fn] == 0]
    inplace = INPLACE[0]
    pop, push, take, buf_get, leaf_get = ready.pop, ready.append, buf.pop, buf.get, leaf_buf.get
    ndarray = np.ndarray
    prev_mode, STATE.grad_enabled = STATE.grad_enabled, False
    gc_was_enabled = gc.isenabled()
    gc.disable()  # see run_backward
    try:
        while ready:
            fn = pop()
            g = take(fn)
            fn.out_grad = g
            if fn._hooks:
                g = _call_hooks(fn._hooks, g, False)
            if fn._freed:
                raise RuntimeError(FREED_MSG)
            inputs = fn.inputs
            saves = fn.saves
            if saves and fn.stamp != inplace:
                _check_versions(fn, inputs)
            out = outs[fn]._data if fn.needs_out else None
            n = len(inputs)
            if n == 1:
                grads = fn.backward(g, out, inputs[0]._data)
            elif n == 2:
                grads = fn.backward(g, out, inputs[0]._data, inputs[1]._data)
            elif n == 3:
                grads = fn.backward(g, out, inputs[0]._data, inputs[1]._data, inputs[2]._data)
            else:
                grads = fn.backward(g, out, *[t._data for t in inputs])
            if saves and not retain_graph:
                fn._freed = True  # after backward: a custom Function reads its saved tensors there
            edge = list(grads)  # what is sent along each input edge, kept for the graph view
            exact = fn.exact
            for k, t in enumerate(inputs):
                gi = edge[k]
                if gi is None:
                    continue
                if not t._requires_grad:
                    edge[k] = None
                    continue
                if not exact:
                    data = t._data
                    tg = type(gi)
                    if tg is not type(data) or tg is ndarray:
                        if gi.shape != data.shape:
                            gi = edge[k] = _sum_to_array(gi, data.shape)
                        if gi.dtype is not data.dtype and gi.dtype != data.dtype:
                            gi = edge[k] = np.asarray(gi).astype(data.dtype)
                child = t.grad_fn
                if child is None:
                    prev = leaf_get(t)
                    leaf_buf[t] = gi if prev is None else prev + gi
                else:
                    prev = buf_get(child)
                    buf[child] = gi if prev is None else prev + gi
                    n_left = deps[child] - 1
                    deps[child] = n_left
                    if n_left == 0:
                        push(child)
            fn.edge_grads = tuple(edge)  # a tuple of numpy values: the collector stops tracking it
        for t, g in leaf_buf.items():
            if t._hooks:
                g = _call_hooks(t._hooks, g, False)
            _accumulate(t, g, False)
            if t._post_hooks:
                _call_post_hooks(t)
    finally:
        STATE.grad_enabled = prev_mode
        if gc_was_enabled:
            gc.enable()


def run_backward(roots, root_grads, retain_graph: bool, create_graph: bool, capture=None):
    """Propagate `root_grads` (numpy arrays, or Tensors with create_graph) from `roots`.

    capture: None to accumulate into leaves' .grad; else a list of tensors whose gradients are
    returned (autograd.grad), in which case no .grad is touched. Returns the captured list.
    """
    fns = [r.grad_fn for r in roots if r.grad_fn is not None]
    deps, outs = _count_dependencies(roots)
    buf = {}          # node -> summed gradient of its output
    leaf_buf = {}     # leaf tensor -> summed gradient (Tensor hashes by identity)
    captured = {}     # id(tensor) -> gradient, for capture
    capture_fns = {}
    if capture is not None:
        for t in capture:
            if t.grad_fn is not None:
                capture_fns[t.grad_fn] = t

    for r, g in zip(roots, root_grads):
        if r.grad_fn is None:
            leaf_buf[r] = leaf_buf[r] + g if r in leaf_buf else g
        else:
            buf[r.grad_fn] = buf[r.grad_fn] + g if r.grad_fn in buf else g

    ready = [fn for fn in dict.fromkeys(fns) if deps[fn] == 0]
    prev_mode = STATE.grad_enabled
    STATE.grad_enabled = create_graph
    anomaly = STATE.anomaly
    # The pass creates no reference cycles, so the cyclic collector has nothing to find here;
    # pausing it saves its repeated scans of the (large, young) graph. It resumes afterwards.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        while ready:
            fn = ready.pop()
            g = buf.pop(fn)
            fn.out_grad = g if not create_graph else g._data  # what this node received (for the graph view)
            if fn._hooks:  # register_hook / retain_grad on the tensor this node produced
                g = _call_hooks(fn._hooks, g, create_graph)
            if capture_fns and fn in capture_fns:
                captured[id(capture_fns[fn])] = g
            if fn._freed:
                raise RuntimeError(FREED_MSG)
            inputs = fn.inputs
            if fn.saves and fn.stamp != INPLACE[0]:  # something was written in place since: check
                _check_versions(fn, inputs)
            if PACKED[0]:
                unpack_saved(fn)
            if create_graph:
                grads = fn.backward(g, outs[fn] if fn.needs_out else None, *inputs)
            elif len(inputs) == 1:
                grads = fn.backward(g, outs[fn]._data if fn.needs_out else None, inputs[0]._data)
            elif len(inputs) == 2:
                grads = fn.backward(g, outs[fn]._data if fn.needs_out else None, inputs[0]._data, inputs[1]._data)
            else:
                grads = fn.backward(g, outs[fn]._data if fn.needs_out else None, *[t._data for t in inputs])
            if not retain_graph and fn.saves:
                fn._freed = True
            if anomaly:
                _check_anomaly(fn, grads)
            edge = []
            for t, gi in zip(inputs, grads):
                if gi is None or not t._requires_grad:
                    edge.append(None)
                    continue
                data = t._data
                if create_graph:
                    if gi._data.shape != data.shape:
                        gi = sum_to(gi, data.shape)
                elif type(gi) is not type(data) or type(gi) is np.ndarray:  # same numpy scalar type: nothing to do
                    # reduce broadcasting and restore dtype here, once, rather than in every formula
                    if gi.shape != data.shape:
                        gi = _sum_to_array(gi, data.shape)
                    if gi.dtype is not data.dtype and gi.dtype != data.dtype:
                        gi = np.asarray(gi).astype(data.dtype)
                edge.append(gi)
                child = t.grad_fn
                if child is None:
                    if t in leaf_buf:
                        leaf_buf[t] = leaf_buf[t] + gi
                    else:
                        leaf_buf[t] = gi
                else:
                    if child in buf:
                        buf[child] = buf[child] + gi
                    else:
                        buf[child] = gi
                    n = deps[child] - 1
                    deps[child] = n
                    if n == 0:
                        ready.append(child)
            fn.edge_grads = edge if not create_graph else [None if e is None else e._data for e in edge]

        for t, g in leaf_buf.items():
            if t._hooks:
                g = _call_hooks(t._hooks, g, create_graph)
            if capture is not None:
                captured[id(t)] = g
            else:
                _accumulate(t, g, create_graph)
                if t._post_hooks:
                    _call_post_hooks(t)
    finally:
        STATE.grad_enabled = prev_mode
        if gc_was_enabled:
            gc.enable()
    if capture is None:
        return None
    return [captured.get(id(t)) for t in capture]


def _call_post_hooks(t: Tensor) -> None:
    """Tensor.register_post_accumulate_grad_hook: hook(t) once t.grad holds this backward's sum."""
    for hook in list(t._post_hooks):
        hook(t)


def _accumulate(t: Tensor, g, create_graph: bool):
    """Add g into t.grad: stored (as a copy) the first time, added in place afterwards, as torch does."""
    if create_graph:
        gt = g if isinstance(g, Tensor) else Tensor._make(g)
        if t._grad is None:  # a copy that stays in the graph (CopyBackwards), as torch stores it
            t._grad = CopyBackwards.apply(Tensor._make(np.zeros_like(gt._data)), gt)
        else:
            t._grad = t._grad + gt
        return
    if t._grad is None:
        # arrays are copied (a formula may hand the same array to two inputs); numpy scalars are immutable
        t._grad = Tensor._make(g.copy() if type(g) is np.ndarray else g)
    elif t._grad._requires_grad:  # a grad that carries a graph (from create_graph) is replaced, not mutated
        t._grad = Tensor._make(np.asarray(t._grad._data + g))
    elif type(t._grad._data) is np.ndarray:
        t._grad._data += g
    else:
        t._grad._data = t._grad._data + g


def _check_versions(fn, inputs):
    """Refuse to differentiate through a value an in-place op changed after it was saved (as torch)."""
    vs = fn.versions
    for k, t in enumerate(inputs):
        expected = vs[k] if vs is not None else 0
        if t._version != expected and fn.saved(k):
            shape = list(np.shape(t._data))
            kind = t.dtype.tensor_type
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an inplace operation: "
                f"[torch.{kind} {shape}] is at version {t._version}; expected version {expected} instead. Hint: "
                "enable anomaly detection to find the operation that failed to compute its gradient, with "
                "torch.autograd.set_detect_anomaly(True, check_nan=False).")
