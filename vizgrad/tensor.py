"""The Tensor: a numpy array plus the autograd bookkeeping PyTorch users know.

    import vizgrad as torch
    x = torch.tensor(2.0, requires_grad=True)
    z = x ** 2 + 1          # tensor(5., grad_fn=<AddBackward0>)
    z.backward(); x.grad    # tensor(4.)

Storage: `_data` holds a numpy ndarray, or a numpy scalar (np.float32 ...) for 0-d results,
because numpy scalar arithmetic is about 5x cheaper than 0-d array arithmetic and scalar graphs
are what learners build. Anything that must alias the storage (`.data`, `.detach()`, in-place
ops, `.numpy()`) first turns a scalar into a 0-d array with `_ensure_array`.

Every differentiable operation lives in the `vizgrad/ops/` package, which also binds the methods
that forward to it (x.exp(), x + y ...).
"""
from __future__ import annotations

import math
import warnings
import weakref

import numpy as np

from vizgrad import _dtype
from vizgrad._dtype import dtype, from_numpy_dtype, get_default_dtype
from vizgrad._grad_mode import STATE
from vizgrad._printing import format_tensor


INPLACE = [0]  # in-place writes so far (process-wide): lets backward skip version checks when 0 changed


class _TensorType(type):
    """type(t) prints torch's name, as code written for torch shows it: <class 'torch.Tensor'>, and a
    subclass under its torch path (vizgrad.nn.parameter.Parameter: torch.nn.parameter.Parameter)."""

    def __repr__(cls):
        mod = cls.__module__
        mod = "torch" if cls is Tensor else "torch" + mod[len("vizgrad"):] if mod.startswith("vizgrad.") else mod
        return f"<class '{mod}.{cls.__qualname__}'>"


class Tensor(metaclass=_TensorType):
    # The four attributes every op output sets live in slots; the rarely set ones are class
    # defaults that an instance overrides in its (lazily created) __dict__. Keeps _make cheap.
    __slots__ = ("_data", "_grad", "grad_fn", "_requires_grad", "__dict__", "__weakref__")
    _retains_grad = False
    _hooks = None
    _post_hooks = None  # register_post_accumulate_grad_hook (leaves)
    name = None        # optional label for drawn graphs: vizgrad.tensor(2., name="x")
    _version = 0       # bumped by in-place ops

    # numpy must not try to broadcast a Tensor as an object: `ndarray * Tensor` calls Tensor.__rmul__.
    __array_ufunc__ = None

    def __init__(self, *data):
        # torch.Tensor(...) legacy constructor: a float tensor from data, or uninitialised of a size.
        if len(data) == 1 and not isinstance(data[0], int):
            arr = np.array(data[0], dtype=get_default_dtype().np)
        else:
            arr = np.zeros(_size(data), dtype=get_default_dtype().np)
        _init(self, arr, False)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def _make(cls, data, requires_grad=False):
        """Wrap a numpy array or numpy scalar without copying (the engine's fast constructor)."""
        t = object.__new__(cls)
        t._data = data
        t._grad = None
        t.grad_fn = None
        t._requires_grad = requires_grad
        return t

    def _ensure_array(self) -> np.ndarray:
        d = self._data
        if type(d) is not np.ndarray:
            d = self._data = np.array(d)
        return d

    # -- autograd attributes -------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool):
        if self.grad_fn is not None and not value:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        if value and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self):
        if self._grad is None and self.grad_fn is not None and not self._retains_grad:
            warnings.warn("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                          "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
                          "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
                          "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
                          "instead. See github.com/pytorch/pytorch/pull/30531 for more information.",
                          UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
        if value is not None and tuple(value.shape) != self.shape:
            raise RuntimeError("assigned grad has data of a different size")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep `.grad` of a non-leaf after backward (a no-op on leaves, as in torch)."""
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        self._retains_grad = True
        ref = weakref.ref(self)

        def store(grad):
            t = ref()
            if t is not None:
                t._grad = grad.detach().clone() if t._grad is None else t._grad + grad.detach()
            return None

        fn = self.grad_fn
        fn._hooks = [store] + (fn._hooks or [])

    def register_hook(self, hook):
        """`hook(grad) -> Tensor or None` runs when this tensor's gradient is computed; a return replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        target = self if self.grad_fn is None else self.grad_fn
        if target._hooks is None:
            target._hooks = []
        target._hooks.append(hook)
        return _RemovableHandle(target._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """`hook(tensor)` runs after backward has accumulated this leaf's .grad (e.g. to step an
        optimizer per parameter); returns a handle whose remove() unregisters it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        return _RemovableHandle(self._post_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into each leaf's .grad; `gradient` is required unless self has one element."""
        if gradient is None and not create_graph and inputs is None and self.grad_fn is not None:
            d = self._data
            if d.ndim == 0:  # the common `loss.backward()`: skip the general argument handling
                _backward_plain((self,), (d.dtype.type(1),), bool(retain_graph))
                return
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> "Tensor":
        return Tensor._make(self._ensure_array())

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> "Tensor":
        return Tensor._make(self._ensure_array())

    @data.setter
    def data(self, value: "Tensor"):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    # -- shape and dtype -----------------------------------------------------------------------
    @property
    def shape(self) -> "Size":
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_norm_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    ndim = property(dim)

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    @property
    def dtype(self) -> dtype:
        return from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return device("cpu")

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def element_size(self) -> int:
        return self._data.dtype.itemsize

    def ndimension(self) -> int:
        return self.dim()

    def data_ptr(self) -> int:
        """The address of the first element (the same for every call, and for views that start there)."""
        return self._ensure_array().__array_interface__["data"][0]

    def storage_offset(self) -> int:
        """How many elements into its storage (the numpy array it views) this tensor starts."""
        a = self._ensure_array()
        base = a
        while isinstance(base.base, np.ndarray):
            base = base.base
        return (a.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // a.itemsize

    def byte(self) -> "Tensor":
        return ops.to(self, _dtype.uint8)

    def char(self) -> "Tensor":
        return ops.to(self, _dtype.int8)

    def short(self) -> "Tensor":
        return ops.to(self, _dtype.int16)

    def stride(self, dim=None):
        st = tuple(s // self._data.dtype.itemsize for s in np.asarray(self._data).strides)
        return st if dim is None else st[dim]

    def is_contiguous(self, memory_format=None) -> bool:
        # numpy's flag follows torch's rule: row-major strides, dims of size 1 ignored
        return bool(np.asarray(self._data).flags.c_contiguous)

    # -- conversion to Python / numpy ----------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.item() if self._data.ndim == 0 else self._data.reshape(()).item()

    def tolist(self):
        return np.asarray(self._data).tolist()

    def numpy(self, force: bool = False) -> np.ndarray:
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._ensure_array()

    def __array__(self, dtype=None, copy=None):
        # numpy 2's protocol, as torch: np.array(t) copies, np.asarray(t) shares the tensor's memory
        a = np.asarray(self._data)
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    __hash__ = object.__hash__  # identity, as torch (== is elementwise)

    def __repr__(self):
        suffixes = []
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name().rpartition('::')[2]}>")  # torch prints the class name
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        return format_tensor(np.asarray(self._data), self.dtype.name, get_default_dtype().name, suffixes)

    __str__ = __repr__

    def __format__(self, spec):
        if self._data.ndim == 0 and type(self) is Tensor:  # f"{loss}" prints 0.25, as torch
            return format(self.item(), spec)
        return repr(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (np.array(self._data), self._requires_grad))

    def __deepcopy__(self, memo):
        t = Tensor._make(np.array(self._data), self._requires_grad)
        if self._grad is not None:
            t._grad = Tensor._make(np.array(self._grad._data))
        memo[id(self)] = t
        return t

    # -- in-place operations -------------------------------------------------------------------
    def _inplace(self, fn, *args) -> "Tensor":
        """Run out-of-place `fn(self, *args)` and write the result into self, as torch's in-place ops.

        A leaf that requires grad refuses (its .grad would lose meaning); a non-leaf, or a tensor
        mixed with one that requires grad, is rebased onto the new op, like torch's rebase_history.
        """
        others_need = STATE.grad_enabled and any(isinstance(a, Tensor) and a._requires_grad for a in args)
        if STATE.grad_enabled and (self._requires_grad or others_need):
            if self._requires_grad and self.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
            old = Tensor._make(self._data, self._requires_grad)
            old.grad_fn, old.name = self.grad_fn, self.name
            # `y.mul_(y)`: the operand is the old value too (else the new node would feed itself)
            res = fn(old, *[old if a is self else a for a in args])
            if res._data.shape != self._data.shape:
                raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast "
                                   f"shape {list(res._data.shape)}")
            self._data = res._data.astype(self._data.dtype, copy=False)
            self.grad_fn, self._requires_grad = res.grad_fn, res._requires_grad
        else:
            res = np.asarray(fn(Tensor._make(self._data), *args)._data)
            arr = self._ensure_array()
            if not np.can_cast(res.dtype, arr.dtype, "same_kind"):
                raise RuntimeError(f"result type {_dtype.from_numpy_dtype(res.dtype).name.capitalize()} can't be "
                                   f"cast to the desired output type {self.dtype.name.capitalize()}")
            try:
                np.copyto(arr, res, casting="unsafe")
            except ValueError:
                raise RuntimeError(f"output with shape {list(arr.shape)} doesn't match the broadcast shape "
                                   f"{list(res.shape)}") from None
        self._version += 1
        INPLACE[0] += 1
        return self

    def add_(self, other, alpha=1):
        return self._inplace(lambda a, b: ops.add(a, b, alpha=alpha), other)

    def sub_(self, other, alpha=1):
        return self._inplace(lambda a, b: ops.sub(a, b, alpha=alpha), other)

    def mul_(self, other):
        return self._inplace(ops.mul, other)

    def div_(self, other):
        return self._inplace(ops.div, other)

    def pow_(self, other):
        return self._inplace(ops.pow, other)

    def clamp_(self, min=None, max=None):
        return self._inplace(lambda a: ops.clamp(a, min, max))

    def neg_(self):
        return self._inplace(ops.neg)

    def exp_(self):
        return self._inplace(ops.exp)

    def copy_(self, src):
        return self._inplace(lambda a, b: ops.expand(ops.to(b, a.dtype), a.shape) if isinstance(b, Tensor)
                             else Tensor._make(np.broadcast_to(np.asarray(b, a._data.dtype), a.shape)), src)

    def zero_(self):
        return self._fill(0)

    def fill_(self, value):
        return self._fill(value)

    def _fill(self, value):
        if STATE.grad_enabled and self._requires_grad and self.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        arr = self._ensure_array()
        arr[...] = value
        self.grad_fn = None if not self._requires_grad else self.grad_fn
        self._version += 1
        INPLACE[0] += 1
        return self

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    # -- conveniences torch code calls ---------------------------------------------------------
    def __pos__(self):
        return self

    def cpu(self, *args, **kwargs):
        return self

    cuda = cpu

    def new_zeros(self, *size, dtype=None):
        return Tensor._make(np.zeros(_size(size), (dtype or self.dtype).np))

    def new_ones(self, *size, dtype=None):
        return Tensor._make(np.ones(_size(size), (dtype or self.dtype).np))

    def new_full(self, size, value, dtype=None):
        return Tensor._make(np.full(_size((size,)), value, (dtype or self.dtype).np))


class Size(tuple):
    """torch.Size: a tuple that prints as `torch.Size([2, 3])`."""

    def __repr__(self):
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)


class device:
    """Only the CPU exists here; `device('cpu')` and `.to('cpu')` are accepted so torch code runs."""

    def __init__(self, type="cpu", index=None):
        type = str(type)
        if type != "cpu":
            raise RuntimeError(f"vizgrad runs on the CPU only; got device {type!r}")
        self.type = type

    def __repr__(self):
        return "device(type='cpu')"

    def __str__(self):
        return "cpu"

    def __eq__(self, other):
        return str(other) == "cpu"

    def __hash__(self):
        return hash("cpu")


class _RemovableHandle:
    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _init(t: Tensor, data, requires_grad):
    t._data, t._grad, t.grad_fn, t._requires_grad = data, None, None, requires_grad


def _rebuild(arr, requires_grad):
    return Tensor._make(arr, requires_grad)


def _norm_dim(dim: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _size(args) -> tuple:
    """Accept torch's size spellings: f(2, 3), f((2, 3)), f([2, 3]), f(torch.Size([2, 3]))."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(int(a) for a in args)



from vizgrad import ops  # noqa: E402  (ops attaches the operator methods to Tensor; it imports this module)
from vizgrad import autograd  # noqa: E402  (autograd imports this module)
from vizgrad.autograd.engine import backward_plain as _backward_plain  # noqa: E402  (after ops: the engine imports it)
