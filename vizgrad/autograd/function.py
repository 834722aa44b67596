"""torch.autograd.Function: user-defined ops with a hand-written backward.

    class MyExp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y
        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * y

    y = MyExp.apply(x)      # y.grad_fn.name() == "MyExpBackward"

`apply` runs `forward` under no_grad, then records one `CustomBackward` node (an `ops.Op`, so
the engine treats it like any built-in op). During backward the node wraps the engine's numpy
arrays in Tensors, calls the user's `backward`, and unwraps; with create_graph=True the engine
passes Tensors, grad mode is on, and the user's formula records a graph like any other.
Several outputs are packed into one flat output of the node, each returned tensor being a slice
of it (a FunctionOutput node, which prints as the Function's node), because the engine's nodes
have a single output.
"""
from __future__ import annotations

import weakref

import numpy as np

from vizgrad.ops import record_versions
from vizgrad._grad_mode import STATE
from vizgrad.autograd.engine import FREED_MSG
from vizgrad.ops import IndexPut, Op
from vizgrad.tensor import Tensor
from vizgrad.autograd import graph  # noqa: F401,E402  (torch.autograd.graph, an attribute once imported)


class FunctionCtx:
    """The `ctx` passed to forward/backward."""

    def __init__(self):
        self.to_save = ()
        self.needs_input_grad = ()
        self.non_differentiable = ()
        self.materialize_grads = True
        self._node = None

    def save_for_backward(self, *tensors) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        self.to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        node = self._node() if self._node is not None else None
        if node is not None and node._freed:
            raise RuntimeError(FREED_MSG)
        return tuple(self.to_save)

    saved_variables = saved_tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self.non_differentiable = tensors

    def mark_dirty(self, *tensors) -> None:
        pass

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


BackwardCFunction = FunctionCtx


class CustomBackward(Op):
    """The node recorded by Function.apply; its name() is `<UserClass>Backward`."""

    symbol = "custom"
    custom = True
    saves = True

    def forward(ctx, *arrays, **params):  # never used: apply() runs the user's forward itself
        raise NotImplementedError

    def backward(node, g, out, *inputs):
        create_graph = isinstance(g, Tensor)
        ctx = node.ctx
        if node.packed is None:
            grads_out = (g if create_graph else Tensor._make(g),)
        else:  # several outputs: split the flat gradient back into one per output
            grads_out = []
            for (start, stop, shape, dt, kind) in node.packed:
                if kind == "diff":
                    piece = g[start:stop].reshape(shape) if create_graph else \
                        Tensor._make(np.asarray(g[start:stop]).reshape(shape))
                elif kind == "tensor":  # non-differentiable output: a zero gradient, as torch materializes
                    piece = Tensor._make(np.zeros(shape, dt))
                else:
                    piece = None
                grads_out.append(piece)
            grads_out = tuple(grads_out)
        res = node.fn_cls.backward(ctx, *grads_out)
        if not isinstance(res, tuple):
            res = (res,)
        n_args = len(node.arg_is_tensor)
        if len(res) < n_args:
            if len(res) == 1 and n_args == 1:
                pass
            else:
                raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                                   f"(expected {n_args}, got {len(res)})")
        grads = []
        for r, is_t in zip(res, node.arg_is_tensor):
            if not is_t:
                continue
            if r is None:
                grads.append(None)
            elif create_graph:
                grads.append(r if isinstance(r, Tensor) else Tensor._make(np.asarray(r)))
            else:
                grads.append(r._data if isinstance(r, Tensor) else np.asarray(r))
        return tuple(grads)

    def local_latex(self):
        return (r"\text{custom backward}",) * len(self.inputs)


class FunctionOutput(Op):
    """One output of a multi-output Function: its slice of the node's flat output. Named as the
    Function's node (torch records one `<Name>Backward` node that every output points to), and its
    next_functions are that node's, so `u.grad_fn` prints and walks as in torch."""
    torch_name, symbol, latex, saves, exact = "FunctionOutputBackward", "output", ("1",), False, True

    def forward(ctx, flat, start, stop, shape):
        ctx.start, ctx.stop, ctx.n = start, stop, flat.shape[0]
        return flat[start:stop].reshape(shape)

    def backward(ctx, g, out, flat):
        if isinstance(g, Tensor):  # create_graph: the scatter into the flat gradient, recorded
            return (IndexPut.apply(g.reshape(-1), shape=(ctx.n,), key=slice(ctx.start, ctx.stop)),)
        z = np.zeros(ctx.n, dtype=np.result_type(g))
        z[ctx.start:ctx.stop] = np.ravel(g)
        return (z,)

    def name(self) -> str:
        return self.inputs[0].grad_fn.name()

    @property
    def next_functions(self) -> tuple:
        return self.inputs[0].grad_fn.next_functions


class FunctionMeta(type):
    pass


class Function(metaclass=FunctionMeta):
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`; call `.apply(*args)`."""

    def __init__(self, *args, **kwargs):
        pass

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                  "with forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
        tensor_args = tuple(a for a in args if isinstance(a, Tensor))
        track = STATE.grad_enabled and any(t._requires_grad for t in tensor_args)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad and STATE.grad_enabled for a in args)
        uses_setup = cls.setup_context is not Function.setup_context
        prev = STATE.grad_enabled
        STATE.grad_enabled = False
        try:
            if uses_setup:
                raw = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, raw)
            else:
                raw = cls.forward(ctx, *args, **kwargs)
        finally:
            STATE.grad_enabled = prev
        single = not isinstance(raw, tuple)
        outs = (raw,) if single else raw
        if not track:
            return raw
        nondiff = {id(t) for t in ctx.non_differentiable}
        diff_idx = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and id(o) not in nondiff
                    and o._data.dtype.kind == "f"]
        if not diff_idx:
            return raw
        node = object.__new__(CustomBackward)
        node.ctx, node.fn_cls, node.arg_is_tensor = ctx, cls, arg_is_tensor
        node.inputs = tensor_args
        record_versions(node, tensor_args)
        node.torch_name = f"{cls.__name__}Backward"
        node.symbol = cls.__name__
        node.latex = (r"\text{custom backward}",) * len(tensor_args)
        if STATE.call_stack:  # inside a module call: tag like any other node (see Op.apply)
            node.scope = STATE.call_stack[-1][0]
        ctx._node = weakref.ref(node)
        new_outs = list(outs)
        if len(diff_idx) == 1 and len(outs) == 1:
            node.packed = None
            o = outs[0]
            t = Tensor._make(o._data, True)
            t.grad_fn = node
            new_outs[0] = t
        else:
            # one node output: all differentiable outputs flattened and concatenated; each returned
            # tensor is a slice of it, so the engine sums their gradients into the node's buffer
            dt = np.result_type(*[outs[i]._data for i in diff_idx])
            spans, start, pieces = [], 0, []
            for i in range(len(outs)):
                o = outs[i]
                if i in diff_idx:
                    a = np.asarray(o._data)
                    spans.append((start, start + a.size, a.shape, a.dtype, "diff"))
                    pieces.append(a.astype(dt).ravel())
                    start += a.size
                elif isinstance(o, Tensor):
                    a = np.asarray(o._data)
                    spans.append((start, start, a.shape, a.dtype if a.dtype.kind == "f" else dt, "tensor"))
                else:
                    spans.append((start, start, (), dt, "other"))
            node.packed = spans
            flat = Tensor._make(np.concatenate(pieces) if pieces else np.zeros(0, dt), True)
            flat.grad_fn = node
            for i in diff_idx:
                s, e, shape, odt, _ = spans[i]
                piece = FunctionOutput.apply(flat, start=s, stop=e, shape=shape)
                if odt != dt:
                    piece = piece.to(Tensor._make(np.zeros((), odt)).dtype)
                new_outs[i] = piece
        # saved tensors that were outputs now refer to the recorded outputs (their grad_fn is this node)
        swap = {id(o): n for o, n in zip(outs, new_outs) if isinstance(o, Tensor)}
        ctx.to_save = tuple(swap.get(id(t), t) if t is not None else None for t in ctx.to_save)
        return new_outs[0] if single else tuple(new_outs)


class once_differentiable:  # decorator accepted for compatibility
    def __new__(cls, fn):
        return fn


class InplaceFunction(Function):
    pass
