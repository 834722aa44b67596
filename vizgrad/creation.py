"""Tensor factories, as torch's: tensor, as_tensor, from_numpy, zeros/ones/full/empty (and their
_like forms), eye, arange, linspace; and Tensor.new_tensor.

    import vizgrad as torch
    torch.tensor([[1, 2], [3, 4]])           # int64, as torch infers it
    torch.zeros(2, 3), torch.arange(5), torch.linspace(0, 1, 5)

Random tensors (rand, randn ...) live in vizgrad/random.py.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from vizgrad import _dtype
from vizgrad._dtype import dtype, from_numpy_dtype, get_default_dtype
from vizgrad.ops.base import bind
from vizgrad.tensor import Size, Tensor, _size


def _infer_np_dtype(data) -> np.dtype:
    """The dtype torch.tensor gives to Python data: bool, int64, or the default float."""
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        return from_numpy_dtype(data.dtype).np
    kinds = set()
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, Tensor):
            kinds.add(x.dtype.np)
        elif isinstance(x, (bool, np.bool_)):
            kinds.add(np.dtype(np.bool_))
        elif isinstance(x, (int, np.integer)):
            kinds.add(np.dtype(np.int64))
        elif isinstance(x, (float, np.floating)):
            kinds.add(get_default_dtype().np)
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")
    if not kinds:
        return get_default_dtype().np
    out = None
    for k in kinds:
        d = from_numpy_dtype(k)
        out = d if out is None else _dtype.promote_types(out, d)
    return out.np


def _to_array(data, dtype_: dtype | None) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data._data
    elif isinstance(data, (list, tuple)):
        data = [_to_array(x, None) if isinstance(x, Tensor) else x for x in data] if any(
            isinstance(x, Tensor) for x in data) else data
    np_dtype = dtype_.np if dtype_ is not None else _infer_np_dtype(data)
    arr = np.array(data, dtype=np_dtype)
    if arr.dtype == object:
        raise ValueError("expected a sequence of equal-length sequences of numbers")
    return arr


def tensor(data: Any, dtype: dtype | None = None, device=None, requires_grad: bool = False,
           name: str | None = None) -> Tensor:
    """torch.tensor: always copies. `name` (vizgrad only) labels the tensor in drawn graphs."""
    if type(data) is float and dtype is None:  # the common scalar case, kept cheap
        arr = get_default_dtype().np.type(data)
    else:
        arr = _to_array(data, dtype)
        if arr.ndim == 0:
            arr = arr[()]  # numpy scalar storage for 0-d, see vizgrad/tensor.py's docstring
    if requires_grad and not from_numpy_dtype(arr.dtype).is_floating_point:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    t = Tensor._make(arr, requires_grad)
    if name is not None:
        t.name = name
    return t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    if isinstance(data, Tensor) and (dtype is None or data.dtype is dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or dtype.np == data.dtype):
        return Tensor._make(data)
    return tensor(data, dtype=dtype)


def from_numpy(arr: np.ndarray) -> Tensor:
    from_numpy_dtype(arr.dtype)  # raises torch's TypeError for unsupported dtypes
    return Tensor._make(arr)


def _filled(size, value, dtype_, requires_grad):
    d = dtype_ if dtype_ is not None else (_dtype.scalar_dtype(value) if value is not None else get_default_dtype())
    arr = np.full(_size(size), value if value is not None else 0, dtype=d.np)
    return Tensor._make(arr, requires_grad)


def _size_arg(name: str, size: tuple, kw_size) -> tuple:
    """The size of zeros/ones/empty: positional (`zeros(2, 3)`, `zeros((2, 3))`) or `size=`, not both."""
    if kw_size is None:
        return size
    if size:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    return (kw_size,)


def zeros(*size, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    size = _size_arg("zeros", size, _kw_size("zeros", kw))
    return _filled(size, 0.0 if dtype is None else 0, dtype or get_default_dtype(), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    size = _size_arg("ones", size, _kw_size("ones", kw))
    return _filled(size, 1, dtype or get_default_dtype(), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    size = _size_arg("empty", size, _kw_size("empty", kw))
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def _kw_size(name: str, kw: dict):
    """The `size=` keyword; torch's layout= and pin_memory= are accepted (one layout, no pinning here)."""
    size = kw.pop("size", None)
    kw.pop("layout", None), kw.pop("pin_memory", None)
    if kw:
        raise TypeError(f"{name}() got an unexpected keyword argument '{next(iter(kw))}'")
    return size


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled((size,), fill_value, dtype, requires_grad)


def zeros_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def empty_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return zeros_like(t, dtype=dtype, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return Tensor._make(np.eye(n, m, dtype=(dtype or get_default_dtype()).np), requires_grad)


# -- arange / linspace, element for element as torch's CPU kernels -------------------------------
# aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp. arange computes in the accumulate type (double
# for float32 and float64, float32 for float16) and is vectorised: blocks of 2 vectors (torch's AVX2
# kernel: 8 float32, 4 float64 or 16 float16 lanes) each start from base = start + step*i (compiled
# to one fused multiply-add), rounded to the dtype, then lane k is base + k*step; the tail past the
# last whole block is start + step*i per element. That is why element 80 of arange(-8.0, 8.0, 0.1)
# is fma(0.1, 80, -8.0) = 4.44e-16, not 0. Integer dtypes truncate start/end/step to integers
# first. linspace is scalar, in the dtype itself (double for integer dtypes): start + step*i for the
# first half, end - step*(n-1-i) after. Single-threaded layout: torch splits tensors above 32768
# elements between threads, each chunk restarting the block pattern, so very long float aranges
# may differ there in the last bit.
_LANES = {np.dtype(np.float32): 8, np.dtype(np.float64): 4, np.dtype(np.float16): 16}


def _two_prod(a: np.ndarray, b: np.ndarray):
    """a*b = p + e exactly (Dekker's split), float64 arrays."""
    p = a * b
    split = 134217729.0  # 2**27 + 1
    ca, cb = split * a, split * b
    ah, bh = ca - (ca - a), cb - (cb - b)
    al, bl = a - ah, b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _two_sum(a: np.ndarray, b: np.ndarray):
    """a + b = s + t exactly (Knuth)."""
    s = a + b
    bp = s - a
    return s, (a - (s - bp)) + (b - bp)


def _fma(a, b, c) -> np.ndarray:
    """round(a*b + c) in float64, as the C fma, by error-free transforms: a*b + c = s + u + r exactly,
    and the one case where rounding s + u is not the rounding of the whole sum (s + u exactly halfway
    between two doubles, with the remainder r deciding the side) is corrected."""
    a, b, c = (np.asarray(x, dtype=np.float64) for x in (a, b, c))
    p, e = _two_prod(a, b)
    s, t = _two_sum(p, c)
    u, r = _two_sum(t, e)
    res, err = _two_sum(s, u)                    # res + err = s + u exactly
    tie = (r != 0) & (2 * np.abs(err) == np.spacing(np.abs(res))) & (np.sign(r) == np.sign(err))
    if tie.any():  # the true value lies past the midpoint, on err's side: the other neighbour
        res = np.where(tie, np.nextafter(res, np.where(err > 0, np.inf, -np.inf)), res)
    return res


def _fma32(a, b, c) -> np.ndarray:
    """fmaf: round(a*b + c) to float32 for float32 a, b, c. a*b is exact in double and p + c = s + t
    exactly; rounding s to float32 is right unless s sits exactly halfway between two floats and t
    says on which side the true sum lies (the double-rounding case), which is corrected."""
    p = np.asarray(a, np.float32).astype(np.float64) * np.asarray(b, np.float32).astype(np.float64)
    s, t = _two_sum(p, np.asarray(c, np.float32).astype(np.float64))
    f = s.astype(np.float32)
    off = s - f.astype(np.float64)               # exact: s is within a float32 ulp of f
    tie = (t != 0) & (2 * np.abs(off) == np.spacing(np.abs(f)).astype(np.float64)) & (np.sign(t) == np.sign(off))
    if tie.any():
        f = np.where(tie, np.nextafter(f, np.where(off > 0, np.float32(np.inf), np.float32(-np.inf))), f)
    return f


def _arange_values(start: float, step: float, n: int, np_dtype: np.dtype) -> np.ndarray:
    fma = _fma32 if np_dtype == np.float16 else _fma  # the accumulate type's fused multiply-add
    lanes = _LANES[np_dtype]
    whole = n - n % (2 * lanes)
    out = fma(step, np.arange(n, dtype=np.float64), start).astype(np_dtype)  # tail values and block bases
    if whole:
        base = out[:whole:lanes].astype(np.float64)                              # (blocks,)
        k = np.arange(lanes, dtype=np.float64)
        out[:whole] = fma(k[None, :], step, base[:, None]).astype(np_dtype).reshape(-1)
    return out


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False, out=None,
           layout=None, pin_memory=False) -> Tensor:
    """torch.arange: [start, end) by step; int64 when every bound is an integer, else the default
    float; values computed as torch's CPU kernel (see above)."""
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if dtype is None:
        dtype = _dtype.int64 if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                    for v in (start, end, step)) else get_default_dtype()
    if not all(math.isfinite(float(v)) for v in (start, end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    floating = dtype.is_floating_point
    xs, xe, xst = (float(v) for v in (start, end, step)) if floating else (int(v) for v in (start, end, step))
    if float(step) == 0:
        raise RuntimeError("step must be nonzero")
    if xst == 0 and dtype is _dtype.int64:  # a fractional step truncated to 0 (smaller int dtypes allow it)
        raise ValueError("step must be nonzero")
    if (xst > 0 and xe < xs) or (xst < 0 and xe > xs):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is _dtype.int64:  # the size in integers: (end - start + step - sign) / step, truncated
        span = xe - xs + xst - (1 if xst > 0 else -1)
        n = abs(span) // abs(xst) * (1 if (span >= 0) == (xst > 0) else -1)
    else:
        n = math.ceil((float(end) - float(start)) / float(step))
    if floating:
        arr = _arange_values(xs, xst, n, dtype.np)
    else:  # integer dtypes accumulate in int64, exactly
        arr = (xs + xst * np.arange(n, dtype=np.int64)).astype(dtype.np)
    return Tensor._make(arr, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False, out=None,
             layout=None, pin_memory=False) -> Tensor:
    """torch.linspace: `steps` points from start to end inclusive, computed as torch's CPU kernel."""
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    if isinstance(steps, Tensor):
        steps = steps.item()
    if not isinstance(steps, (int, np.integer)):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtype or get_default_dtype()
    np_dtype = dtype.np
    i = np.arange(steps, dtype=np.float64)
    back = steps - 1 - i
    half = i < max(steps // 2, 1)  # one step is `start` (torch fills it so)
    if dtype.is_floating_point:
        s, e = np_dtype.type(start), np_dtype.type(end)
        step = (e - s) / np_dtype.type(steps - 1) if steps > 1 else np_dtype.type(0)
        if np_dtype == np.float64:
            vals = np.where(half, _fma(step, i, s), _fma(-step, back, e))
        elif np_dtype == np.float32:  # one fmaf per element
            vals = np.where(half, _fma32(step, i, s), _fma32(-step, back, e))
        else:  # float16 (c10::Half): each operation rounds to half, no fma
            prod = (np.float32(step) * np.where(half, i, back).astype(np.float32)).astype(np.float16)
            vals = np.where(half, np.float32(s) + prod.astype(np.float32), np.float32(e) - prod.astype(np.float32))
        arr = vals.astype(np_dtype)
    else:  # integer dtypes: start and end in the dtype (C casts: truncate, wrap), the step in double
        s, e = (int(np.array(int(v)).astype(np_dtype)) for v in (start, end))
        step = (float(e) - float(s)) / (steps - 1) if steps > 1 else 0.0
        arr = np.trunc(np.where(half, _fma(step, i, s), _fma(-step, back, e))).astype(np_dtype)
    return Tensor._make(arr, requires_grad)


def _c_pow(b: float, v: float) -> float:
    try:
        return math.pow(b, v)
    except OverflowError:
        return math.inf
    except ValueError:  # a negative base to a fractional power
        return math.nan


def logspace(start, end, steps: int, base: float = 10.0, dtype=None, device=None, requires_grad=False, out=None,
             layout=None, pin_memory=False) -> Tensor:
    """torch.logspace as its CPU kernel: start and end in the dtype, the step and the power in double
    (base ** (start + step i) for the first half, base ** (end - step (steps - 1 - i)) for the rest)."""
    if isinstance(steps, Tensor):
        steps = steps.item()
    if not isinstance(steps, (int, np.integer)):
        raise TypeError(f"logspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    d = dtype or get_default_dtype()
    s, e = (float(np.array(v.item() if isinstance(v, Tensor) else v).astype(d.np)) for v in (start, end))
    i = np.arange(steps, dtype=np.float64)
    # end - start in the dtype (torch's scalar_t), then the step in double
    diff = float(np.array(e).astype(d.np) - np.array(s).astype(d.np)) if d.is_floating_point else e - s
    step = diff / (steps - 1) if steps > 1 else 0.0
    x = np.where(i < max(steps // 2, 1), s + step * i, e - step * (steps - 1 - i))  # one step is `start`
    b = float(base)
    # C's pow (math.pow), not numpy's vectorised power: they differ in the last bit
    arr = np.array([_c_pow(b, v) for v in x.tolist()], dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        arr = arr.astype(d.np) if d.is_floating_point else np.trunc(arr).astype(d.np)
    return Tensor._make(arr, requires_grad)


@bind("new_tensor")
def _new_tensor(self, data, dtype=None, requires_grad=False):
    """x.new_tensor(data): a tensor of x's dtype (unless given)."""
    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


# -- legacy tensor types: torch.FloatTensor, LongTensor ... ------------------------------------
# In torch these are classes of metaclass torch.tensortype: calling one builds a tensor of its dtype
# (FloatTensor(2, 3) by size, FloatTensor([1, 2]) from data), isinstance(x, torch.FloatTensor) is
# True for float32 tensors, and x.type(torch.LongTensor) casts. Every real tensor stays a Tensor:
# type(x) is torch.Tensor, and the legacy classes are no subclasses of it.
class _LegacyType(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __call__(cls, *args, device=None):
        dt = cls.dtype
        if len(args) == 1 and not _is_int(args[0]) and not isinstance(args[0], Size):
            data = args[0]
            if isinstance(data, Tensor):
                if data.dtype is not dt:
                    raise TypeError(f"expected {dt} tensor (got {data.dtype} tensor): use x.to({dt}) to convert")
                return Tensor._make(data._ensure_array())  # shares the data, as torch's legacy constructor
            if isinstance(data, (str, bytes)):
                raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
            if not isinstance(data, (list, tuple, np.ndarray)):
                raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
            return tensor(data, dtype=dt)
        size = _size(args) if args else (0,)  # FloatTensor(2, 3), FloatTensor(torch.Size([2, 3])); () is empty
        for a in size if len(args) == 1 else args:
            if not _is_int(a):
                raise TypeError(f"new(): argument 'size' must be tuple of ints, but found element of type "
                                f"{type(a).__name__}")
        return zeros(size, dtype=dt)  # torch leaves it uninitialised; zeros are one such content

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


_LegacyType.__module__, _LegacyType.__qualname__ = "torch", "tensortype"  # type(torch.FloatTensor), as torch


def _is_int(a) -> bool:
    return isinstance(a, (int, np.integer)) and not isinstance(a, bool)


def _legacy(d: dtype) -> type:
    return _LegacyType(d.tensor_type, (), {"dtype": d, "is_cuda": False, "__module__": "torch",
                                           "__doc__": f"torch.{d.tensor_type}: the legacy type of {d} tensors."})


LEGACY_TYPES = {d.tensor_type: _legacy(d) for d in _dtype.ALL}  # 'FloatTensor' -> the class
FloatTensor, DoubleTensor, HalfTensor = (LEGACY_TYPES[n] for n in ("FloatTensor", "DoubleTensor", "HalfTensor"))
LongTensor, IntTensor, ShortTensor = (LEGACY_TYPES[n] for n in ("LongTensor", "IntTensor", "ShortTensor"))
CharTensor, ByteTensor, BoolTensor = (LEGACY_TYPES[n] for n in ("CharTensor", "ByteTensor", "BoolTensor"))


def _type_dtype(t) -> dtype:
    """The dtype named by a legacy type, its name ('torch.LongTensor') or a dtype."""
    if isinstance(t, dtype):
        return t
    if isinstance(t, _LegacyType):
        return t.dtype
    if isinstance(t, str):
        name = t[len("torch."):] if t.startswith("torch.") else None
        if name in LEGACY_TYPES:
            return LEGACY_TYPES[name].dtype
        if t.startswith("torch.cuda."):
            raise RuntimeError(f"vizgrad runs on the CPU only; got type {t!r}")
        raise ValueError(f"invalid type: {t!r}")
    raise TypeError("dtype must be a type, str, or dtype object")


def set_default_tensor_type(t) -> None:
    """torch.set_default_tensor_type(torch.DoubleTensor) (deprecated in torch 2.1, still in older
    tutorials): the default float dtype, from a floating legacy type or its name."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.", UserWarning,
                  stacklevel=2)
    if isinstance(t, str):
        if not t.startswith("torch.") or t[len("torch."):] not in LEGACY_TYPES:
            raise TypeError(f"invalid type: {t!r}")
        t = LEGACY_TYPES[t[len("torch."):]]
    if not isinstance(t, _LegacyType):
        raise TypeError("invalid type object: only floating-point types are supported as the default type")
    _dtype.set_default_dtype(t.dtype)


@bind("type")
def _type(self, dtype=None, non_blocking=False, **kwargs):
    """x.type(): torch's type name ('torch.FloatTensor'); x.type(t) for a legacy type, its name or a
    dtype: x cast to it (x itself when it already is of that type)."""
    if dtype is None:
        return f"torch.{self.dtype.tensor_type}"
    d = _type_dtype(dtype)
    return self if d is self.dtype else self.to(d)
