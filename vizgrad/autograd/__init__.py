"""vizgrad.autograd: backward, grad, Function (custom ops), functional (jacobian, hessian ...), gradcheck,
anomaly (detect_anomaly, and the walks that name the first op to make a NaN/inf)."""
from __future__ import annotations

import warnings

import numpy as np

from vizgrad.autograd.anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from vizgrad.autograd.engine import _accumulate, backward_plain, run_backward
from vizgrad.tensor import Tensor


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def _root_grads(outputs, grad_outputs, create_graph):
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            d = out._data
            g = d.dtype.type(1) if d.ndim == 0 else np.ones(d.shape, d.dtype)
            g = Tensor._make(g) if create_graph else g
        else:
            if not isinstance(g, Tensor):
                g = Tensor._make(np.asarray(g, dtype=out._data.dtype))
            if g.shape != out.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                                   f"has a shape of {out.shape}.")
            g = g if create_graph else g._data
        grads.append(g)
    return grads


_WARNED_CYCLE = [False]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's .grad (or only into `inputs`, if given)."""
    outputs = _as_list(tensors)
    grad_outputs = _as_list(grad_tensors) or [None] * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _root_grads(outputs, grad_outputs, create_graph)
    if create_graph and not _WARNED_CYCLE[0]:  # once per process, as torch's TORCH_WARN_ONCE
        _WARNED_CYCLE[0] = True
        warnings.warn("Using backward() with create_graph=True will create a reference cycle between the parameter "
                      "and its gradient which can cause a memory leak. We recommend using autograd.grad when creating "
                      "the graph to avoid this. If you have to use this function, make sure to reset the .grad fields "
                      "of your parameters to None after use to break the cycle and avoid the leak.", UserWarning,
                      stacklevel=3)
    if inputs is None:
        if create_graph:
            run_backward(outputs, grads, retain_graph, True)
        else:
            backward_plain(outputs, grads, retain_graph)
        return
    inputs = _as_list(inputs)
    got = run_backward(outputs, grads, retain_graph, create_graph, capture=inputs)
    for t, g in zip(inputs, got):
        if g is not None:
            _accumulate(t, g, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching any .grad (torch.autograd.grad)."""
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    grad_outputs = _as_list(grad_outputs) or [None] * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _root_grads(outputs, grad_outputs, create_graph)
    got = run_backward(outputs, grads, retain_graph, create_graph, capture=inputs)
    result = []
    for i, (t, g) in enumerate(zip(inputs, got)):
        if g is None:
            if materialize_grads:
                result.append(Tensor._make(np.zeros_like(t._data)))
                continue
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
                                   "Set allow_unused=True if this is the desired behavior.")
            result.append(None)
        else:
            result.append(g if isinstance(g, Tensor) else Tensor._make(np.array(g)))
    return tuple(result)


class _VariableType(type):
    def __instancecheck__(cls, obj) -> bool:  # isinstance(t, Variable) holds for every tensor, as in torch
        return isinstance(obj, Tensor)

    def __repr__(cls):
        return "<class 'torch.autograd.variable.Variable'>"


class Variable(metaclass=_VariableType):
    """torch.autograd.Variable, the legacy wrapper: Variable(t, requires_grad=True) returns t's data
    as a new leaf tensor (sharing its memory) with that flag; `volatile` is ignored with torch's warning."""

    def __new__(cls, data, requires_grad: bool = False, volatile: bool = False):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if requires_grad and not data.dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        return Tensor._make(data._ensure_array(), bool(requires_grad))


from vizgrad.autograd.function import Function, FunctionCtx, once_differentiable  # noqa: E402
from vizgrad.autograd import functional  # noqa: E402
from vizgrad.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402

__all__ = ["Variable", "backward", "grad", "set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled",
           "Function", "FunctionCtx", "once_differentiable", "functional", "gradcheck", "gradgradcheck",
           "GradcheckError"]
