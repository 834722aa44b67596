"""The op machinery every other ops module builds on: `Op` (a grad_fn node), `AccumulateGrad`,
the `OPS` table, operand promotion (`_pair`, `_cast`, the dtype cast `to`) and the helpers that
let one backward formula run on numpy arrays and on Tensors (`_dual`, `_arr`, `_sum_to_array`).

An `Op` instance is the `grad_fn` node of the tensor it produced (torch's `MulBackward0` ...).

    class Mul(Op):
        torch_name, symbol, latex = "MulBackward0", "×", (r"b", r"a")   # d out/d a, d out/d b
        def forward(ctx, a, b): return a * b                            # numpy in, numpy out
        def backward(ctx, g, out, a, b): return g * b, g * a           # one grad per input

`backward` receives the upstream gradient `g`, the output `out` (only for ops with
`needs_out`), and the inputs. During a plain backward these are numpy arrays; with
`create_graph=True` they are Tensors, so the same formula records a differentiable graph and
gives higher-order gradients for free. Formulas therefore use operators and the `_dual`
helpers (which work on both) rather than numpy functions. The engine sums gradients back over
broadcast dimensions, so formulas need not.
"""
from __future__ import annotations

import builtins
import warnings

import numpy as np

from vizgrad import _dtype
from vizgrad._grad_mode import STATE
from vizgrad.tensor import INPLACE, Tensor, _norm_dim

# x/0 -> inf, log(0) -> -inf, 0**-1 -> inf: torch computes these silently, so numpy's
# floating-point RuntimeWarnings are muted for lines in the ops modules only (not for user code).
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"vizgrad\.ops\.\w+$")

OPS: dict[str, type["Op"]] = {}  # torch backward name -> op class, for the graph, docs and tests
SAVED_HOOKS: list = []  # (pack, unpack) of the active torch.autograd.graph.saved_tensors_hooks, innermost last
PACKED = [0]            # nodes recorded under such hooks so far: while 0, backward need not unpack anything

# -- the registry: an op's public function says here what it is called ---------------------------
PUBLIC: dict = {}   # name -> function exported as vizgrad.<name> (vizgrad/__init__ reads this)
METHODS: dict = {}  # name -> what Tensor.<name> is bound to (a function, or a property)


def public(*aliases: str, method: bool = False):
    """Decorator: export the function as `vizgrad.<its name>` and `vizgrad.<alias>` for each alias;
    with method=True also bind it as `Tensor.<name>` under the same names, so `x.exp()` is
    `vizgrad.exp(x)`. The binding happens once, at import: a call costs no more than before."""
    def register(fn):
        names = (fn.__name__,) + aliases
        for name in names:
            PUBLIC[name] = fn
        if method:
            bind(*names)(fn)
        return fn
    return register


def bind(*names: str):
    """Decorator: bind a function or property as `Tensor.<name>` for each name (operators, and
    methods without a vizgrad.<name> such as `x.to(...)`)."""
    def register(obj):
        for name in names:
            METHODS[name] = obj
            setattr(Tensor, name, obj)
        return obj
    return register


_new = object.__new__


class Op:
    torch_name = "Backward"  # what grad_fn.name() prints
    symbol = "?"             # short label on the drawn op node
    latex: tuple = ()        # local derivative d out / d input_i, LaTeX, one per input (a, b, ... name them)
    saves = True             # keeps buffers for backward that a plain backward frees (torch then refuses a 2nd)
    needs_out = False        # backward reads the output
    exact = False            # a plain backward returns each gradient in its input's shape and dtype
                             # (so the engine need not sum it over broadcast dims or cast it)
    elementwise = False      # out[i] depends on input element i only (after broadcasting): the local
                             # derivative is a number per element, not a Jacobian (the walkthrough shows it)
    latex_name = None        # LaTeX of the forward function (r"\exp", r"\sigma" ...); None: no standard
                             # LaTeX function, write it as \operatorname{...}

    saved_fields: dict = {}  # torch's grad_fn._saved_<name> -> where that value lives (see _saved_value)
    result_params = ()       # forward's keyword parameters, by ctx attribute: to recompute _saved_result

    custom = False           # a torch.autograd.Function's node
    _hooks = None            # tensor hooks of this node's output (register_hook, retain_grad)
    _freed = False
    versions = None          # inputs' in-place versions when recorded (None: all were 0)
    stamp = -1               # tensor.INPLACE when recorded: if unchanged at backward, nothing was modified
    edge_grads = None        # after backward: the gradient sent to each input (numpy), for the graph
    out_grad = None          # after backward: the gradient this node received for its output

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "torch_name" in cls.__dict__:
            OPS[cls.torch_name] = cls
            # type(x.grad_fn).__name__ is torch's node name, as tutorials that walk the graph print
            # it (our class keeps its short name in its module: vizgrad.ops.Div)
            cls.__name__ = cls.torch_name

    @classmethod
    def apply(cls, *inputs: Tensor, **params) -> Tensor:
        """Run forward on the inputs' arrays; record this node when grad mode is on and an input requires grad."""
        ctx = _new(cls)
        try:
            if params:
                if len(inputs) == 2:
                    data = cls.forward(ctx, inputs[0]._data, inputs[1]._data, **params)
                else:
                    data = cls.forward(ctx, *[t._data for t in inputs], **params)
            elif len(inputs) == 2:  # unrolled for the common arities: this is the hottest line in vizgrad
                data = cls.forward(ctx, inputs[0]._data, inputs[1]._data)
            elif len(inputs) == 1:
                data = cls.forward(ctx, inputs[0]._data)
            elif len(inputs) == 3:
                data = cls.forward(ctx, inputs[0]._data, inputs[1]._data, inputs[2]._data)
            else:
                data = cls.forward(ctx, *[t._data for t in inputs])
        except ValueError as e:
            if "broadcast" not in str(e):
                raise
            raise RuntimeError(_broadcast_message([t._data.shape for t in inputs])) from None
        out = _new(Tensor)      # Tensor._make, inlined: this runs once per op
        out._data = data
        out._grad = out.grad_fn = None
        out._requires_grad = False
        for t in inputs:
            if t._requires_grad:
                st = STATE  # per thread: grad mode and the vizgrad.nn module calls running
                if st.grad_enabled:
                    ctx.inputs = inputs
                    out._requires_grad = True
                    out.grad_fn = ctx
                    stack = st.call_stack  # innermost module last: tag the node with its scope,
                    if stack:              # e.g. (":Net", "fc1:Linear"), so the graph can collapse it
                        ctx.scope = stack[-1][0]
                    if cls.saves:  # what backward must find unchanged (see record_versions)
                        ctx.stamp = INPLACE[0]
                        for u in inputs:
                            if u._version:
                                ctx.versions = tuple([v._version for v in inputs])
                                break
                    if SAVED_HOOKS:
                        _pack_saved(ctx, out)
                break
        return out

    def forward(ctx, *arrays, **params):
        raise NotImplementedError

    def backward(ctx, g, out, *inputs):
        raise NotImplementedError

    # -- the torch.autograd.graph.Node interface ------------------------------------------------
    def name(self) -> str:
        return self.torch_name

    @property
    def next_functions(self) -> tuple:
        return tuple((t.grad_fn if t.grad_fn is not None else (AccumulateGrad(t) if t._requires_grad else None), 0)
                     for t in self.view()[0])

    def saved(self, k: int) -> bool:
        """Whether backward reads input k's value (an in-place write to it is then refused)."""
        return True

    def view(self) -> tuple:
        """(inputs, edge_grads) as torch records this node: what the graph view and next_functions
        show. A fused node (LinearAddmm) shows the nodes it stands for."""
        return self.inputs, self.edge_grads

    def register_hook(self, fn):
        raise NotImplementedError("Node hooks are not supported; use Tensor.register_hook")

    def __getattr__(self, name):
        # reached only when ordinary lookup fails: torch's grad_fn._saved_self, _saved_result ...
        if name.startswith("_saved_"):
            fields = self.saved_fields
            if name[7:] in fields:
                return _saved_value(self, fields[name[7:]])
        elif name.startswith("_raw_saved_") and name[11:] in _tensor_fields(self):
            return SavedTensor(self, name[11:])
        raise AttributeError(f"'{self.torch_name}' object has no attribute '{name}'")

    def __dir__(self):
        # torch lists a node's saved values: tutorials find them with [a for a in dir(fn) if "saved" in a]
        # (our own saved/saved_fields stay off the list, which then reads as torch's)
        own = {a for a in super().__dir__() if "saved" not in a}
        return sorted(own | {"_saved_" + k for k in self.saved_fields} | {"_raw_saved_" + k for k in _tensor_fields(self)})

    def label(self) -> str:
        """The symbol drawn on this node (an instance may refine the class symbol, e.g. `**2`)."""
        return self.symbol

    def local_latex(self) -> tuple:
        """LaTeX of d out / d input_i for this instance (ops with parameters fill them in)."""
        return self.latex

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"


FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved tensors after they "
             "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
             "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
             "or if you need to access saved tensors after calling backward.")

_REDUCTION = {"none": 0, "mean": 1, "sum": 2}  # torch's at::Reduction enum, as _saved_reduction prints it


def _saved_value(node: Op, spec, raw: bool = False):
    """The value behind grad_fn._saved_<name>, from its spec in the node's `saved_fields`:

        "input:k"     input k, the tensor itself ("input:k?j": only when input j requires grad, else None)
        "result"      the output (recomputed from the inputs: the node keeps no reference to it)
        "const:attr"  a numpy array the node keeps, as a tensor (indices, a mask)
        "scalar:k"    input k as a Python number (a constant operand)
        "attr:name"   a number/tuple the node keeps;  "sizes:k", "strides:k", "numel:k" of input k
        "reduction"   the node's reduction as torch's enum (0 none, 1 mean, 2 sum)
        "view:k"      input k as torch records it (LinearAddmm's Wᵀ)
    a callable is called with the node; anything else is the value itself.
    Saved tensors are gone after a backward without retain_graph, as in torch."""
    if callable(spec):
        return spec(node)
    if not isinstance(spec, str):
        return spec
    kind, _, arg = spec.partition(":")
    if kind == "attr":
        return getattr(node, arg)
    if kind == "reduction":
        return _REDUCTION[node.reduction]
    if kind in ("sizes", "strides", "numel", "scalar"):
        data = node.inputs[int(arg)]._data
        if kind == "scalar":
            return data.item()
        shape = tuple(np.shape(data))
        if kind == "sizes":
            return shape
        if kind == "numel":
            return int(np.prod(shape))
        return tuple(int(np.prod(shape[i + 1:])) for i in range(len(shape)))  # contiguous, in elements
    if node._freed:
        raise RuntimeError(FREED_MSG)
    if not raw:  # under saved_tensors_hooks: what unpack gives back, with the saved tensor's history
        for name, p, unpack in node.__dict__.get("_packed", ()):
            if node.saved_fields.get(name) is spec:
                got, orig = unpack(p), _saved_value(node, spec, raw=True)
                if got is orig or not isinstance(got, Tensor):
                    return got
                t = Tensor._make(got._data, orig._requires_grad)
                t.grad_fn = orig.grad_fn
                return t
    if kind == "input":
        k, _, cond = arg.partition("?")
        if cond and not node.inputs[int(cond)]._requires_grad:
            return None
        return node.inputs[int(k)]
    if kind == "view":
        return node.view()[0][int(arg)]
    if kind == "const":
        v = getattr(node, arg)
        return None if v is None else Tensor._make(np.asarray(v))
    if kind == "result":
        probe = _new(type(node))
        data = type(node).forward(probe, *[t._data for t in node.inputs],
                                  **{p: getattr(node, p, None) for p in node.result_params})
        out = Tensor._make(data, True)
        out.grad_fn = node
        return out
    raise ValueError(f"unknown saved-field spec {spec!r}")


class HooksDisabled:
    """What torch.autograd.graph.disable_saved_tensors_hooks puts on SAVED_HOOKS."""

    def __init__(self, message: str):
        self.message = message


def _tensor_fields(node) -> list:
    """The names of the saved fields that hold tensors, in the order torch packs them (by name,
    the result last: MulBackward0 packs other then self; PowBackward1 exponent, self, result)."""
    names = [k for k, spec in node.saved_fields.items() if isinstance(spec, str)
             and spec.partition(":")[0] in ("input", "result", "const", "view")]
    return sorted(names, key=lambda k: (k == "result", k))


def _pack_saved(node, out) -> None:
    """Call the innermost pack hook on each tensor `node` saves; keep what it returns."""
    hooks = SAVED_HOOKS[-1]
    if isinstance(hooks, HooksDisabled):
        return
    pack, unpack = hooks
    packed = []
    for name in _tensor_fields(node):
        value = out if node.saved_fields[name] == "result" else _saved_value(node, node.saved_fields[name], raw=True)
        if value is not None and type(value) is not PythonNumber:
            packed.append((name, pack(value), unpack))
    if packed:
        node._packed = packed
        PACKED[0] += 1


def unpack_saved(node) -> None:
    """Backward is about to run `node`: unpack what it packed (torch unpacks each saved tensor)."""
    packed = node.__dict__.get("_packed")
    if packed:
        for _, p, unpack in packed:
            unpack(p)


class SavedTensor:
    """grad_fn._raw_saved_<name>: one saved tensor, on which register_hooks(pack, unpack) sets the
    hooks for it alone (pack runs now; unpack when backward or _saved_<name> needs the value)."""

    def __init__(self, node, name: str):
        self._node, self._name = node, name

    def register_hooks(self, pack_hook, unpack_hook) -> None:
        node, name = self._node, self._name
        if any(entry[0] == name for entry in node.__dict__.get("_packed", ())):
            raise RuntimeError("Calling register_hooks on a saved tensor whose hooks have already been set. Hint: "
                               "only one pair of hooks is allowed at a time.")
        value = _saved_value(node, node.saved_fields[name], raw=True)
        if value is None:
            raise RuntimeError("Calling register_hooks on a saved tensor with value None is forbidden")
        # (torch hands pack the saved data without its autograd history; _saved_<name> restores it)
        node.__dict__.setdefault("_packed", []).append((name, pack_hook(value.detach()), unpack_hook))
        PACKED[0] += 1

    def __repr__(self):
        return f"<torch._C._autograd.SavedTensor object at {hex(id(self))}>"


def _broadcast_message(shapes) -> str:
    """torch's wording for operands whose shapes do not broadcast."""
    n = builtins.max(len(s) for s in shapes)
    padded = [(1,) * (n - len(s)) + tuple(s) for s in shapes]
    for d in range(n - 1, -1, -1):
        sizes = {p[d] for p in padded} - {1}
        if len(sizes) > 1:
            a, b = padded[0][d], padded[1][d] if len(padded) > 1 else padded[0][d]
            return (f"The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton "
                    f"dimension {d}")
    return f"shapes {[list(s) for s in shapes]} cannot be broadcast together"


def record_versions(node, inputs) -> None:
    """Note what backward must find unchanged: the in-place counter now, and the inputs' versions
    when any was already written in place (None means all were at version 0)."""
    node.stamp = INPLACE[0]
    for u in inputs:
        if u._version:
            node.versions = tuple(v._version for v in inputs)
            return


class AccumulateGrad:
    """What next_functions shows for a leaf that requires grad."""

    def __init__(self, variable: Tensor):
        self.variable = variable
        self.next_functions = ()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


# -- helpers that work on numpy arrays and on Tensors (see module docstring) -------------------
def _dual(array_fn, tensor_fn):
    def f(x, *args, **kwargs):
        return tensor_fn(x, *args, **kwargs) if isinstance(x, Tensor) else array_fn(x, *args, **kwargs)
    return f


def _arr(x):
    """A constant's numpy value (masks in backward formulas are constants in both modes)."""
    return x._data if isinstance(x, Tensor) else x


def _sum_to_array(g, shape):
    """Sum a broadcast gradient back to `shape`: (2, 3) -> (3,) sums axis 0; (2, 3) -> (2, 1) keeps it."""
    g = np.asarray(g)
    lead = g.ndim - len(shape)
    if lead == 1 and g.shape[1:] == shape:  # the common case: a bias broadcast over a batch
        return _add_reduce(g, 0)             # = g.sum(axis=0), without ndarray.sum's Python wrapper
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    if axes:
        g = _add_reduce(g, axes, keepdims=True)
    return g.reshape(shape)


_add_reduce = np.add.reduce


def _wrap_scalar(v, like: Tensor) -> Tensor:
    """A Python number as a constant tensor, typed as torch would for `like <op> v`."""
    d = _dtype.result_type((like, v))
    return Tensor._make(d.np.type(v))


_FLOAT_SCALARS = {np.float16, np.float32, np.float64}


class PythonNumber(Tensor):
    """A constant operand made from a Python number in `x * 2` (torch's "wrapped number"): a
    Tensor in every way, except that saved-tensor hooks do not see it, as torch's do not."""
    __slots__ = ()


def _const(value) -> Tensor:
    """A constant operand from a Python number (Tensor._make, inlined for the `x * 2.0` path)."""
    t = _new(PythonNumber)
    t._data = value
    t._grad = t.grad_fn = None
    t._requires_grad = False
    return t


_SHARED: dict = {}  # (numpy scalar type, value) -> one constant tensor for every `h * 0.5` on 0-d tensors


def _shared_const(tp, value) -> Tensor:
    """The constant operand of a scalar op, made once and reused: a scalar chain then allocates
    (and the garbage collector scans) one object less per op. Constants are never written in
    place; vizgrad.graph.trace draws a shared constant once per use (`shared_constant`)."""
    c = _SHARED.get((tp, value))
    if c is None:
        if len(_SHARED) >= 4096:
            _SHARED.clear()
        c = _SHARED[(tp, value)] = _const(tp(value))
        c.shared_constant = True
    return c


def _pair(a, b):
    """Two operands as tensors of torch's promoted dtype (fast path: same dtype or number + float tensor)."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            da, db = a._data, b._data
            if type(da) is type(db) and (type(da) is not np.ndarray or da.dtype == db.dtype):
                return a, b  # same numpy scalar type, or arrays of one dtype
        elif type(b) is float or type(b) is int:
            da = a._data
            tp = type(da)
            if tp in _FLOAT_SCALARS:  # a 0-d float tensor: its numpy scalar type makes the constant
                return a, _const(tp(b))
            if da.dtype.kind == "f":
                return a, _const(da.dtype.type(b))
        elif isinstance(b, np.ndarray):
            b = Tensor._make(b)
    elif isinstance(b, Tensor):
        if type(a) is float or type(a) is int:
            db = b._data
            tp = type(db)
            if tp in _FLOAT_SCALARS:
                return _const(tp(a)), b
            if db.dtype.kind == "f":
                return _const(db.dtype.type(a)), b
        elif isinstance(a, np.ndarray):
            a = Tensor._make(a)
    else:
        raise TypeError(f"unsupported operand types: {type(a).__name__} and {type(b).__name__}")
    d = _dtype.result_type((a, b))
    return _cast(a, d), _cast(b, d)


def _cast(x, d: _dtype.dtype) -> Tensor:
    if not isinstance(x, Tensor):
        if isinstance(x, (bool, int, float, np.number, np.bool_)):
            return _const(d.np.type(x))
        return Tensor._make(np.asarray(x, dtype=d.np))
    if x._data.dtype == d.np:
        return x
    return to(x, d)

def _dims(dim, ndim):
    """A dim argument as a sorted tuple of non-negative axes (None = all)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    axes = tuple(sorted(_norm_dim(d, ndim) for d in dim))  # validates, even on 0-d (dim 0 / -1 allowed)
    return axes if ndim else ()


def _keepdim_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))

def _fmt_num(v) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"



class ToCopy(Op):
    torch_name, symbol, latex, saves = "ToCopyBackward0", "cast", ("1",), False
    elementwise = True

    def forward(ctx, a, dtype):
        ctx.src = np.result_type(a)
        return np.asarray(a).astype(dtype.np) if np.ndim(a) else dtype.np.type(a)

    def backward(ctx, g, out, a):
        return (to(g, _dtype.from_numpy_dtype(ctx.src)) if isinstance(g, Tensor) else np.asarray(g).astype(ctx.src),)


class CopyBackwards(Op):
    """What .grad holds after backward(create_graph=True) first fills it: the incoming gradient
    copied into a fresh tensor, as torch records it (inputs: the zero destination, the source)."""
    torch_name, symbol, latex, saves, exact = "CopyBackwards", "copy", ("0", "1"), False, True
    elementwise = True

    def name(self) -> str:
        return "torch::autograd::CopyBackwards"  # torch's name() (its repr shows CopyBackwards)

    def forward(ctx, dst, src):
        return np.array(src, dtype=np.result_type(dst))

    def backward(ctx, g, out, dst, src):
        return None, g


def _floating(input):
    """Integer/bool input of a floating function (exp, sin, ...) is cast to the default dtype, as torch."""
    return input if input._data.dtype.kind == "f" else to(input, _dtype.get_default_dtype())


def _floating_fn(cls, name: str):
    """The public function of a floating-point op (exp, sin, ...): integer input is cast to the
    default float first, as torch does; float scalars take the short path."""
    def fn(input):
        d = input._data
        return cls.apply(input if type(d) in _FLOAT_SCALARS or d.dtype.kind == "f" else _floating(input))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}: elementwise, recorded as {cls.torch_name}."
    return fn

@bind("to")
def to(input, dtype=None, *args, **kwargs):
    """Tensor.to(dtype) / .to('cpu') / .to(other_tensor): a copy only when the dtype changes."""
    if isinstance(dtype, Tensor):
        dtype = dtype.dtype
    if dtype is None or isinstance(dtype, str) or not isinstance(dtype, _dtype.dtype):
        dtype = kwargs.get("dtype", next((a for a in args if isinstance(a, _dtype.dtype)), None))
        if dtype is None:
            return input
    if input._data.dtype == dtype.np:
        return input
    if not dtype.is_floating_point:  # integer/bool results carry no gradient
        d = input._data
        return Tensor._make(np.asarray(d).astype(dtype.np) if np.ndim(d) else dtype.np.type(d))
    return ToCopy.apply(input, dtype=dtype)




# -- dtype conversions as Tensor methods ---------------------------------------------------------
bind("float")(lambda self: to(self, _dtype.float32))
bind("double")(lambda self: to(self, _dtype.float64))
bind("half")(lambda self: to(self, _dtype.float16))
bind("long")(lambda self: to(self, _dtype.int64))
bind("int")(lambda self: to(self, _dtype.int32))
bind("bool")(lambda self: to(self, _dtype.bool_))


@bind("type_as")
def _type_as(self, other):
    return to(self, other.dtype)
