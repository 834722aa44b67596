"""torch.autograd.graph: hooks on the tensors a graph saves for backward, and the Node type.

    def pack(x):   print("Packing", x); return x
    def unpack(x): print("Unpacking", x); return x
    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = a * b                  # Packing b, Packing a (what MulBackward0 saves, in torch's order)
    y.sum().backward()             # Unpacking ..., Unpacking ...

While hooks are set, every recorded node calls `pack` on each tensor it saves (its `saved_fields`
that are tensors: inputs, the result, kept indices) and keeps what pack returns; `unpack` gets
that back when backward runs the node (once per saved tensor) and when `grad_fn._saved_<name>`
is read, which then returns what unpack returned. The node's own formula reads its inputs as
recorded (vizgrad's saved values are its inputs' arrays), so hooks observe and may store the
values elsewhere (save_on_cpu, a file), but a hook that changes a value does not change the
gradient. `grad_fn._raw_saved_<name>.register_hooks(pack, unpack)` (ops/base.py: SavedTensor)
sets such a pair on one saved tensor of one node.
"""
from __future__ import annotations

from vizgrad.ops import base as _base


class saved_tensors_hooks:
    """Context manager: pack_hook(tensor) -> anything when a tensor is saved, unpack_hook(that) ->
    tensor when it is needed. Nested managers: the innermost applies."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        top = _base.SAVED_HOOKS[-1] if _base.SAVED_HOOKS else None
        if isinstance(top, _base.HooksDisabled):
            raise RuntimeError(top.message)
        _base.SAVED_HOOKS.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        _base.SAVED_HOOKS.pop()
        return False


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors go to the CPU and come back on the device they were on. vizgrad has only the
    CPU, so the round trip keeps the values as they are (a copy, as torch makes one)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        def pack(tensor):
            return tensor.device, tensor.detach().clone()

        def unpack(packed):
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Within it, setting saved_tensors_hooks raises RuntimeError(error_message)."""

    def __init__(self, error_message: str):
        self.error_message = error_message

    def __enter__(self):
        _base.SAVED_HOOKS.append(_base.HooksDisabled(self.error_message))
        return self

    def __exit__(self, *exc):
        _base.SAVED_HOOKS.pop()
        return False


class _NodeMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, (_base.Op, _base.AccumulateGrad))

    def __subclasscheck__(cls, sub):
        return issubclass(sub, (_base.Op, _base.AccumulateGrad))


class Node(metaclass=_NodeMeta):
    """torch.autograd.graph.Node: `isinstance(y.grad_fn, Node)` holds for every grad_fn and for
    the AccumulateGrad nodes in next_functions."""


__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "Node"]
