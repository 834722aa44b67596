"""Random numbers, as torch's API and torch's numbers: after `manual_seed(s)` every draw here equals
torch 2.13's on the CPU (integer and uniform draws bit for bit; float32 normal draws too, as
torch's AVX2 kernel computes them on x86-64; float64 normal draws too up to 4096 values, beyond
that within a few float64 ulps: see _libm), because we run its generator and its transforms:

    import vizgrad as torch
    torch.manual_seed(0)
    torch.randn(3)                  # tensor([ 1.5410, -0.2934, -2.1788]), as torch prints
    g = torch.Generator().manual_seed(1); torch.rand(2, generator=g)

The engine is a Mersenne Twister (vizgrad/_mt19937.py). From its 32-bit words torch makes:
  uniform   float32/float16: 24 bits of one word * 2^-24; float64: 53 bits of a 64-bit word * 2^-53
            (random64 = two words, first high); then x * (to - from) + from.
  normal    tensors of 16+ elements: all uniforms first, Box-Muller over blocks of 16 (8 pairs:
            u1 = 1 - u[j], u2 = u[j + 8]; r = sqrt(-2 log u1), out[j] = r cos 2 pi u2,
            out[j + 8] = r sin 2 pi u2); a ragged tail redoes the last 16 with 16 fresh uniforms.
            Smaller (or non-contiguous) tensors: one double pair per two values (log1p form),
            the second value cached in the generator for the next scalar-path draw.
  integers  (word % range) + from, with a 64-bit word once range >= 2^28.
  bernoulli, exponential, multinomial: double uniforms (see each function).
Tests: tests/test_random_parity.py (against real torch).

The default generator keeps one state per thread, so that in the app one session's manual_seed(...)
and draws never interleave with another's (a shared link must reproduce the same run); each thread
starts from the seed a new torch.Generator() has.
"""
from __future__ import annotations

import contextlib
import math
import operator
import secrets
import threading

import numpy as np

from vizgrad import _dtype
from vizgrad._cephes32 import fma as _fma32, log as _log32, sincos as _sincos32
from vizgrad._dtype import get_default_dtype
from vizgrad._mt19937 import MT19937
from vizgrad.ops.base import bind
from vizgrad.tensor import Tensor, _size, device as _device

FRESH_SEED = 67280421310721  # torch.Generator().initial_seed()
_U64 = 1 << 64
_M53 = np.uint64((1 << 53) - 1)

# torch.get_rng_state()'s 5056 bytes (CPUGeneratorImplState, x86-64): the legacy TH layout with a
# 64-bit slot per key word, then the float normal cache. normal_x/normal_rho are unused (zero).
_STATE = np.dtype({
    "names": ["seed", "left", "seeded", "next", "key", "normal_x", "normal_y", "normal_rho", "normal_valid",
              "float_normal", "float_valid"],
    "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", 624), "<f8", "<f8", "<f8", "<i4", "<f4", "u1"],
    "offsets": [0, 8, 12, 16, 24, 5016, 5024, 5032, 5040, 5048, 5052],
    "itemsize": 5056})


def _seed_value(seed) -> int:
    """torch's seed argument: an integer in [-2^63, 2^64); a negative one is taken modulo 2^64."""
    try:
        s = operator.index(seed)
    except TypeError:
        raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}") from None
    if not -(1 << 63) <= s < _U64:
        raise ValueError("Overflow when unpacking long long")
    return s % _U64


class Generator:
    """torch.Generator (CPU): an mt19937 engine and the cached second sample of a Box-Muller pair."""

    def __init__(self, device="cpu"):
        self.device = _device(device)
        self._mt = MT19937(FRESH_SEED)
        self._normal = None    # torch's next_double_normal_sample
        self._normal_f = None  # torch's next_float_normal_sample: no CPU kernel uses it; kept in the state

    def manual_seed(self, seed) -> "Generator":
        self._mt.reseed(_seed_value(seed))
        self._normal = self._normal_f = None
        return self

    def seed(self) -> int:
        s = secrets.randbits(64)  # torch reads /dev/urandom too
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._mt.seed

    def get_state(self) -> Tensor:
        """The state as a uint8 tensor in torch's byte layout (torch.set_rng_state accepts it)."""
        st = np.zeros((), _STATE)
        key, left, nxt = self._mt.torch_position()
        st["seed"], st["left"], st["seeded"], st["next"], st["key"] = self._mt.seed, left, 1, nxt, key
        if self._normal is not None:
            st["normal_valid"], st["normal_y"] = 1, self._normal
        if self._normal_f is not None:
            st["float_valid"], st["float_normal"] = 1, self._normal_f
        return Tensor._make(np.frombuffer(st.tobytes(), np.uint8).copy())

    def set_state(self, new_state) -> "Generator":
        """Accepts get_state()'s tensor, torch's own torch.get_rng_state() tensor, or their bytes."""
        arr = _state_bytes(new_state)
        if arr.size != _STATE.itemsize:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE.itemsize} but found the input "
                               f"RNG state size to be {arr.size}")
        st = np.frombuffer(arr.tobytes(), _STATE)[0]
        left, nxt = int(st["left"]), int(st["next"])
        if not (st["seeded"] and 0 < left <= 624 and nxt <= 624):
            raise RuntimeError("Invalid mt19937 state")
        self._mt.set_torch_position(st["key"].astype(np.uint32), left, nxt)
        self._mt.seed = int(st["seed"])
        self._normal = float(st["normal_y"]) if st["normal_valid"] else None
        self._normal_f = float(st["float_normal"]) if st["float_valid"] else None
        return self


def _state_bytes(state) -> np.ndarray:
    if isinstance(state, (bytes, bytearray)):
        return np.frombuffer(bytes(state), np.uint8)
    if isinstance(state, Tensor):
        arr = np.asarray(state._data)
    elif hasattr(state, "numpy") and hasattr(state, "dtype"):  # a real torch tensor
        arr = np.asarray(state.detach().cpu().numpy() if hasattr(state, "detach") else state.numpy())
    else:
        raise TypeError(f"RNG state must be a torch.ByteTensor, got {type(state).__name__}")
    if arr.dtype != np.uint8:
        raise TypeError("RNG state must be a torch.ByteTensor")
    return arr.reshape(-1)


class _ThreadDefaultGenerator(Generator, threading.local):
    """Generator whose state is per thread (threading.local calls __init__ once per thread)."""


default_generator = _ThreadDefaultGenerator()


def _gen(generator) -> Generator:
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    return generator


def manual_seed(seed) -> Generator:
    return default_generator.manual_seed(_seed_value(int(seed)))  # torch.manual_seed(1.5) seeds 1


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, **_):
    """torch.random.fork_rng: draws inside the block leave the default generator's state unchanged."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


# ============================================================================================
# From words to distributions (numpy arrays; the public functions below wrap them in tensors)
# ============================================================================================
def _opmath(np_dtype):
    """The type torch computes a float draw in: float64 for float64, else float32."""
    return np.float64 if np_dtype == np.float64 else np.float32


def _unit(g: Generator, n: int, op) -> np.ndarray:
    """n uniforms in [0, 1) as torch's uniform_real_distribution of type op (float32 or float64)."""
    if op is np.float64:
        return (g._mt.words64(n) & _M53).astype(np.float64) * 2.0 ** -53
    return (g._mt.words(n) & np.uint64(0xFFFFFF)).astype(np.float32) * np.float32(2.0 ** -24)


def _libm(np_fn, math_fn, x: np.ndarray) -> np.ndarray:
    """np_fn(x) for float64 x, through the C library's function (math_fn, which torch's kernels call)
    when x is small: numpy's own float64 log and log1p differ from it in the last bit for about 0.3%
    and 8% of arguments. Large arrays keep numpy's speed (a last-bit difference, within tolerance)."""
    if x.size > 4096:
        return np_fn(x)
    return np.fromiter(map(math_fn, x.reshape(-1).tolist()), np.float64, x.size).reshape(x.shape)


def _fma64(a: np.ndarray, b: float, c: float) -> np.ndarray:
    """float64 a*b + c rounded once (torch's compiler fuses it), from error-free transformations:
    a*b = p + e exactly (Dekker's split), p + c = s + t exactly (Knuth's two-sum), then s + (t + e)."""
    split = 134217729.0  # 2^27 + 1
    p = a * b
    ca, cb = split * a, split * b
    ah, bh = ca - (ca - a), cb - (cb - b)
    al, bl = a - ah, b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    z = s - p
    t = (p - (s - z)) + (c - z)
    return s + (t + e)


def _uniform(g: Generator, n: int, np_dtype, low: float, high: float) -> np.ndarray:
    op = _opmath(np_dtype)
    lo, hi = op(low), op(high)
    x = _unit(g, n, op)
    if lo != 0 or hi != 1:  # x * 1 + 0 is x
        x = _fma64(x, hi - lo, lo) if op is np.float64 else _fma32(x, hi - lo, lo)
    v = x.astype(np_dtype, copy=False)
    # a value that rounded up to `high` (in the computation or the cast) becomes `low`, as in torch's kernel
    return np.where(v == np_dtype.type(high), np_dtype.type(low), v)


def _box_muller16(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """torch's normal_fill_16 over consecutive blocks of 16 uniforms: (16 k,) -> (16 k,)."""
    b = u.reshape(-1, 2, 8)
    if u.dtype == np.float32:
        f = np.float32
        radius = np.sqrt(f(-2) * _log32(f(1) - b[:, 0]))
        s, c = _sincos32(f(2 * math.pi) * b[:, 1])
        z = (radius * c, radius * s)
        fused = _fma32
    else:
        radius = np.sqrt(-2.0 * _libm(np.log, math.log, 1.0 - b[:, 0]))
        theta = 2 * math.pi * b[:, 1]
        z = (radius * np.cos(theta), radius * np.sin(theta))
        fused = _fma64
    if std != 1.0 or mean != 0.0:  # fma(z, 1, 0) is z
        z = tuple(fused(v, u.dtype.type(std), u.dtype.type(mean)) for v in z)
    return np.stack(z, 1).reshape(-1)


_CHUNK = 1 << 16  # uniforms per Box-Muller pass: the temporaries then stay in the CPU cache


def _normal_fill(g: Generator, n: int, np_dtype, mean: float, std: float) -> np.ndarray:
    """torch's vectorised path (n >= 16, contiguous)."""
    op, blocks, ragged = _opmath(np_dtype), n // 16, n % 16 != 0
    # float/double draw all n uniforms up front (the ragged ones are then discarded); float16 draws
    # 16 per block into a float32 buffer
    u = _unit(g, n if np_dtype != np.float16 else 16 * blocks, op)
    out = np.empty(n, np_dtype)
    for i in range(0, 16 * blocks, _CHUNK):
        j = min(i + _CHUNK, 16 * blocks)
        out[i:j] = _box_muller16(u[i:j], mean, std)
    if ragged:
        out[n - 16:] = _box_muller16(_unit(g, 16, op), mean, std)
    return out


def _normal_scalar(g: Generator, n: int, mean: float, std: float) -> np.ndarray:
    """torch's normal_distribution<double>, one value at a time: (n,) float64.
    A pair (u1, u2) gives r cos(2 pi u1) now and caches r sin(2 pi u1), r = sqrt(-2 log1p(-u2))."""
    out = np.empty(n)
    i = 0
    if n and g._normal is not None:
        out[0], g._normal, i = g._normal, None, 1
    pairs = (n - i + 1) // 2
    if pairs:
        u = _unit(g, 2 * pairs, np.float64).reshape(pairs, 2)
        r = np.sqrt(-2.0 * _libm(np.log1p, math.log1p, -u[:, 1]))
        theta = 2 * math.pi * u[:, 0]
        z = np.stack([r * np.cos(theta), r * np.sin(theta)], 1).reshape(-1)
        out[i:] = z[:n - i]
        if (n - i) % 2:
            g._normal = float(z[-1])
    return out if std == 1.0 and mean == 0.0 else _fma64(out, std, mean)


def _normal(g: Generator, n: int, np_dtype, mean: float, std: float, contiguous: bool = True) -> np.ndarray:
    if n >= 16 and contiguous:
        return _normal_fill(g, n, np_dtype, mean, std)
    return _normal_scalar(g, n, mean, std).astype(np_dtype)


def _unit64(g: Generator, n: int) -> np.ndarray:
    return _unit(g, n, np.float64)


def _random_from_to(g: Generator, n: int, span: int, base: int) -> np.ndarray:
    """(word % span) + base as int64 (uint64 arithmetic, wrapping), a 64-bit word once span >= 2^28."""
    w = g._mt.words64(n) if span >= 1 << 28 else g._mt.words(n)
    return (w % np.uint64(span) + np.uint64(base % _U64)).view(np.int64)


# random_() without bounds: [0, 2^digits] for floats, [0, max] for integers; (64-bit word?, modulus)
_RANDOM_RANGE = {np.dtype(np.float16): (False, (1 << 11) + 1), np.dtype(np.float32): (False, (1 << 24) + 1),
                 np.dtype(np.float64): (True, (1 << 53) + 1), np.dtype(np.int64): (True, 1 << 63),
                 np.dtype(np.int32): (False, 1 << 31), np.dtype(np.int16): (False, 1 << 15),
                 np.dtype(np.int8): (False, 1 << 7), np.dtype(np.uint8): (False, 1 << 8),
                 np.dtype(np.bool_): (False, 2)}


def _random_values(g: Generator, n: int, np_dtype, frm=None, to=None) -> np.ndarray:
    """Tensor.random_(), random_(to), random_(from, to), random_(from, None), as torch."""
    if frm is None:
        wide, mod = _RANDOM_RANGE[np.dtype(np_dtype)]
        w = g._mt.words64(n) if wide else g._mt.words(n)
        return (w % np.uint64(mod)).astype(np_dtype)
    frm = int(frm)
    info = _bounds(np_dtype)
    if to is not None:
        to = int(to)
        if frm >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={frm} >= to={to}")
        if np.issubdtype(np_dtype, np.floating):
            frm, to = _update_from(frm, np_dtype), _update_to(to, np_dtype)
            if frm >= to:
                raise RuntimeError("random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, "
                                   f"but got from={frm} >= to={to}")
        _check_in_range(frm, to - 1, np_dtype, info)
        return _random_from_to(g, n, to - frm, frm).astype(np_dtype)
    if frm == -(1 << 63):  # the full 64-bit range
        return g._mt.words64(n).view(np.int64).astype(np_dtype)
    if np.issubdtype(np_dtype, np.floating):
        to_inc = min(1 << np.finfo(np_dtype).nmant + 1, (1 << 63) - 1)
        frm = _update_from(frm, np_dtype)
        if frm >= to_inc:
            raise RuntimeError("random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' casted "
                               f"to dtype, but got from={frm} > to_inc={to_inc}")
    else:
        to_inc = 1 if np_dtype == np.bool_ else int(np.iinfo(np_dtype).max)
    _check_in_range(frm, to_inc, np_dtype, info)
    return _random_from_to(g, n, to_inc - frm + 1, frm).astype(np_dtype)


_C_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int",
            "int32": "int", "int64": "long int", "float16": "c10::Half", "float32": "float", "float64": "double"}


def _bounds(np_dtype):
    if np_dtype == np.bool_:
        return 0, 1
    if np.issubdtype(np_dtype, np.floating):
        m = float(np.finfo(np_dtype).max)
        return -m, m
    i = np.iinfo(np_dtype)
    return int(i.min), int(i.max)


def _check_in_range(frm, to_inc, np_dtype, info) -> None:
    lo, hi = info
    name = _C_NAMES[np.dtype(np_dtype).name]
    if not lo <= frm <= hi:
        raise RuntimeError(f"from is out of bounds for {name}")
    if not lo <= to_inc <= hi:
        raise RuntimeError(f"to - 1 is out of bounds for {name}")


def _update_from(frm: int, np_dtype) -> int:
    # move `from` right until from + 1 survives the cast to the float type (torch's update_from)
    plus1 = int(np_dtype.type(frm + 1)) if abs(frm) < 2 ** 63 - 1 else frm + 1
    if plus1 < frm:
        n = max(abs(frm + 1).bit_length() - 1, 0)
        frm = plus1 + (1 << (n - np.finfo(np_dtype).nmant))
    return frm


def _update_to(to: int, np_dtype) -> int:
    minus1 = int(np_dtype.type(to - 1)) if abs(to) < 2 ** 63 - 1 else to - 1
    if minus1 >= to:
        n = max(abs(to - 1).bit_length() - 1, 0)
        to = minus1 - (1 << (n - np.finfo(np_dtype).nmant))
    return to


def _bernoulli_scalar(g: Generator, n: int, p: float) -> np.ndarray:
    """(n,) bool: a double uniform < p per element (torch's bernoulli_(float p) kernel)."""
    return _unit64(g, n) < p


def _exponential(g: Generator, n: int, lambd: float) -> np.ndarray:
    """(n,) float64: -1/lambda * log1p(-u), u a double uniform."""
    return (-1.0 / lambd) * _libm(np.log1p, math.log1p, -_unit64(g, n))


# ============================================================================================
# Tensors: factories, in-place fills and the sampling functions
# ============================================================================================
_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
                "float16": "Half", "float32": "Float", "float64": "Double"}


def _need_float(np_dtype, kernel: str) -> None:
    if not np.issubdtype(np_dtype, np.floating):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_TORCH_NAMES[np.dtype(np_dtype).name]}\'')


def _new(arr: np.ndarray, requires_grad: bool) -> Tensor:
    if requires_grad and not np.issubdtype(arr.dtype, np.floating):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    return Tensor._make(arr if arr.ndim else arr[()], requires_grad)


def _factory_size(name: str, size, kwargs) -> tuple:
    if "size" in kwargs:
        if size:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        size = (kwargs.pop("size"),)
    for k in ("layout", "pin_memory", "memory_format"):  # accepted, meaningless on numpy
        kwargs.pop(k, None)
    if kwargs.pop("out", None) is not None:
        raise TypeError(f"{name}(): out= is not supported by vizgrad; assign the result instead")
    if kwargs:
        raise TypeError(f"{name}() got an unexpected keyword argument '{next(iter(kwargs))}'")
    shape = _size(size)
    if any(d < 0 for d in shape):
        bad = next(d for d in shape if d < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: {list(shape)}")
    return shape


def _write(t: Tensor, flat: np.ndarray) -> Tensor:
    """Fill t in place with flat (its values in the order torch's kernel writes them: memory order)."""
    arr = t._ensure_array()
    if arr.flags.c_contiguous or arr.size <= 1:
        return t._fill(flat.reshape(arr.shape))
    idx = np.indices(arr.shape).reshape(arr.ndim, -1)
    order = np.argsort((np.asarray(arr.strides)[:, None] * idx).sum(0), kind="stable")
    vals = np.empty(arr.size, flat.dtype)
    vals[order] = flat
    return t._fill(vals.reshape(arr.shape))


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    shape = _factory_size("rand", size, kwargs)
    np_dtype = (dtype or get_default_dtype()).np
    _need_float(np_dtype, "check_uniform_bounds")
    return _new(_uniform(_gen(generator), math.prod(shape), np_dtype, 0.0, 1.0).reshape(shape), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    shape = _factory_size("randn", size, kwargs)
    np_dtype = (dtype or get_default_dtype()).np
    _need_float(np_dtype, "normal_kernel_cpu")
    return _new(_normal(_gen(generator), math.prod(shape), np_dtype, 0.0, 1.0).reshape(shape), requires_grad)


def randint(*args, generator=None, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    """randint(high, size), randint(low, high, size); low, high and size also as keywords (low=0)."""
    low, high, size = kwargs.pop("low", None), kwargs.pop("high", None), kwargs.pop("size", None)
    pos = list(args)
    if size is None and pos:
        size = pos.pop()  # size is the last positional argument
    if len(pos) > 2 or (len(pos) == 2 and (low is not None or high is not None)):
        raise TypeError("randint() takes (high, size) or (low, high, size)")
    if len(pos) == 2:
        low, high = pos
    elif len(pos) == 1:
        if high is None:
            high = pos[0]
        else:
            low = pos[0]
    if high is None or size is None:
        raise TypeError("randint() missing required arguments: randint(low=0, high, size)")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' must be tuple of ints, not {type(size).__name__}")
    shape = _factory_size("randint", (size,), kwargs)
    np_dtype = (dtype or _dtype.int64).np
    vals = _random_values(_gen(generator), math.prod(shape), np_dtype, 0 if low is None else low, high)
    return _new(vals.reshape(shape), requires_grad)


def randperm(n: int, generator=None, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    """Fisher-Yates as torch: for i < n - 1 swap a[i] with a[i + word % (n - i)] (32-bit words);
    from n >= 2^32 / 20 the inside-out form with 64-bit words (a[i] = i, then swap with a[word % (i+1)])."""
    _factory_size("randperm", (), kwargs)
    n = operator.index(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    g = _gen(generator)
    if n < 0xFFFFFFFF // 20:
        swap = (g._mt.words(max(n - 1, 0)) % np.arange(n, 1, -1, dtype=np.uint64)).tolist()
        a = list(range(n))
        for i, z in enumerate(swap):
            j = i + z
            a[i], a[j] = a[j], a[i]
    else:
        picks = (g._mt.words64(n) % np.arange(1, n + 1, dtype=np.uint64)).tolist()
        a = list(range(n))
        for i, z in enumerate(picks):
            a[i], a[z] = a[z], i
    return _new(np.array(a, dtype=(dtype or _dtype.int64).np), requires_grad)


def _like_dtype(t: Tensor, dtype):
    return (dtype or t.dtype).np


def rand_like(input: Tensor, *, generator=None, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    _factory_size("rand_like", (), kwargs)
    return rand(tuple(input.shape), generator=generator, dtype=_dtype.from_numpy_dtype(_like_dtype(input, dtype)),
                requires_grad=requires_grad)


def randn_like(input: Tensor, *, generator=None, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    _factory_size("randn_like", (), kwargs)
    return randn(tuple(input.shape), generator=generator, dtype=_dtype.from_numpy_dtype(_like_dtype(input, dtype)),
                 requires_grad=requires_grad)


def randint_like(input: Tensor, low=0, high=None, *, generator=None, dtype=None, device=None, requires_grad=False,
                 **kwargs) -> Tensor:
    """randint_like(input, high) or randint_like(input, low, high): input's shape and dtype."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), generator=generator,
                   dtype=_dtype.from_numpy_dtype(_like_dtype(input, dtype)), requires_grad=requires_grad, **kwargs)


def _check_std(std) -> None:
    if isinstance(std, Tensor):
        s = np.asarray(std._data)
        if s.size and not (s >= 0).all():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_num(std)}")


def _num(x) -> str:
    """A number as torch's C++ prints it in messages (1.0 -> 1, 0.5 -> 0.5)."""
    return f"{float(x):g}"


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False,
           **kwargs) -> Tensor:
    """torch.normal's overloads: (Tensor mean, Tensor std), (Tensor mean, float std=1),
    (float mean, Tensor std), (float mean, float std, size). Tensor forms draw N(0, 1) (or
    N(0, std)) in the output's shape and dtype, then multiply by std and add mean, as torch does."""
    g = _gen(generator)
    _check_std(std)
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: with float mean and std, "
                            "size is required: normal(mean, std, size)")
        shape = _factory_size("normal", (size,), kwargs)
        np_dtype = (dtype or get_default_dtype()).np
        _need_float(np_dtype, "normal_kernel_cpu")
        return _new(_normal(g, math.prod(shape), np_dtype, float(mean), float(std)).reshape(shape), requires_grad)
    if size is not None:
        raise TypeError("normal() received an invalid combination of arguments: size goes with float mean and std")
    if mt and not st:
        m = np.asarray(mean._data)
        _need_float(m.dtype, "normal_kernel_cpu")
        return _new((_normal(g, m.size, m.dtype, 0.0, float(std)).reshape(m.shape) + m).astype(m.dtype), False)
    if st and not mt:
        np_dtype = np.asarray(std._data).dtype
        _need_float(np_dtype, "normal_kernel_cpu")
        shape = tuple(std.shape)
        z = _normal(g, math.prod(shape), np_dtype, 0.0, 1.0).reshape(shape)
        return _new((z * np.asarray(std._data)).astype(np_dtype) + np_dtype.type(mean), False)
    m, s = np.asarray(mean._data), np.asarray(std._data)
    _need_float(m.dtype, "normal_kernel_cpu")
    shape = np.broadcast_shapes(m.shape, s.shape)
    z = _normal(g, math.prod(shape), m.dtype, 0.0, 1.0).reshape(shape)
    return _new(((z * s).astype(m.dtype) + m).astype(m.dtype), False)


def bernoulli(input: Tensor, p=None, *, generator=None, **kwargs) -> Tensor:
    """bernoulli(input): each element 1 with probability input[i]; bernoulli(input, p): with probability p.
    Output: input's shape and dtype."""
    out = Tensor._make(np.empty(input.shape, np.asarray(input._data).dtype))
    return _bernoulli_(out, input if p is None else p, generator=generator)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Indices drawn from each row's categories (weights, not necessarily normalised), int64.
    Without replacement (or one sample): argmax / top-k of p / q with q ~ Exp(1) per category.
    With replacement: a double uniform per sample looked up in the row's normalised cumulative sum."""
    probs = np.asarray(input._data)
    if probs.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not np.issubdtype(probs.dtype, np.floating):
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{_TORCH_NAMES[probs.dtype.name]}")
    n_sample = operator.index(num_samples)
    if n_sample <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    n_cat = probs.shape[-1]
    if not replacement and n_sample > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if n_cat > 1 << 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    rows = probs.reshape(-1, n_cat)
    g = _gen(generator)
    if not replacement or n_sample == 1:
        if not (np.isfinite(rows).all() and (rows >= 0).all()):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if (rows.sum(1) == 0).any():
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        q = _exponential(g, rows.size, 1.0).astype(rows.dtype).reshape(rows.shape)
        ratio = rows / q
        idx = np.argsort(-ratio, axis=1, kind="stable")[:, :n_sample]
    else:
        if (rows < 0).any():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        if not np.isfinite(rows).all():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or NaN)")
        u = _unit64(g, rows.shape[0] * n_sample).reshape(rows.shape[0], n_sample)
        idx = np.empty((rows.shape[0], n_sample), np.int64)
        for r, row in enumerate(rows):
            cum = np.cumsum(row, dtype=row.dtype)  # sequential, in the input's dtype, as torch
            total = cum[-1]
            if not total > 0:
                raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
            cum = cum / total
            cum[-1] = 1
            idx[r] = np.searchsorted(cum.astype(np.float64), u[r], side="left")
    return _new(idx.reshape(probs.shape[:-1] + (n_sample,)).astype(np.int64), False)


bind("multinomial")(multinomial)


# -- in-place fills (Tensor methods) -----------------------------------------------------------
@bind("uniform_")
def _uniform_(self, a=0.0, b=1.0, *, generator=None):
    np_dtype = np.asarray(self._data).dtype
    _need_float(np_dtype, "check_uniform_bounds")
    lo, hi = _bounds(np_dtype)
    if not lo <= a <= hi:
        raise RuntimeError(f"from is out of bounds for {_C_NAMES[np_dtype.name]}")
    if not lo <= b <= hi:
        raise RuntimeError(f"to is out of bounds for {_C_NAMES[np_dtype.name]}")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={_num(a)} > to={_num(b)}")
    return _write(self, _uniform(_gen(generator), self.numel(), np_dtype, float(a), float(b)))


@bind("normal_")
def _normal_(self, mean=0.0, std=1.0, *, generator=None):
    np_dtype = np.asarray(self._data).dtype
    _check_std(std)
    _need_float(np_dtype, "normal_kernel_cpu")
    arr = self._ensure_array()
    return _write(self, _normal(_gen(generator), arr.size, np_dtype, float(mean), float(std),
                                arr.flags.c_contiguous))


@bind("random_")
def _random_(self, *bounds, generator=None, **kw):
    """random_(): [0, 2^mantissa] or [0, max]; random_(to): [0, to); random_(from, to): [from, to),
    to=None meaning up to the dtype's max."""
    if "to" in kw or "from" in kw:
        bounds = (kw.pop("from", 0), kw.pop("to", None))
    if kw or len(bounds) > 2:
        raise TypeError("random_() takes (from, to) or (to), and generator=")
    if len(bounds) == 1:
        frm, to = 0, bounds[0]
    elif len(bounds) == 2:
        frm, to = bounds
    else:
        frm = to = None
    np_dtype = np.asarray(self._data).dtype
    return _write(self, _random_values(_gen(generator), self.numel(), np_dtype, frm, to))


@bind("bernoulli_")
def _bernoulli_(self, p=0.5, *, generator=None):
    """p a float: a double uniform < p per element. p a tensor (expanded to self's shape): a double
    uniform when p is float64, else a float32 one (24 bits of a word), compared with p."""
    g = _gen(generator)
    n = self.numel()
    if isinstance(p, Tensor):
        pa = np.asarray(p._data)
        pv = np.broadcast_to(pa, self.shape).reshape(-1)
        u = _unit64(g, n) if pa.dtype == np.float64 else _unit(g, n, np.float32)
        hit = u < pv
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_num(p)}")
        hit = _bernoulli_scalar(g, n, float(p))
    return _write(self, hit.astype(np.asarray(self._data).dtype))


@bind("bernoulli")
def _bernoulli_method(self, p=None, *, generator=None):
    return bernoulli(self, p, generator=generator)


@bind("exponential_")
def _exponential_(self, lambd=1.0, *, generator=None):
    np_dtype = np.asarray(self._data).dtype
    if not np.issubdtype(np_dtype, np.floating):
        raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_TORCH_NAMES[np_dtype.name]}")
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_num(lambd)}")
    return _write(self, _exponential(_gen(generator), self.numel(), float(lambd)).astype(np_dtype))


@bind("cauchy_")
def _cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """median + sigma tan(pi (u - 1/2)), u a double uniform."""
    np_dtype = np.asarray(self._data).dtype
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_num(sigma)}")
    if not np.issubdtype(np_dtype, np.floating):
        raise RuntimeError("Cauchy distribution is a continuous probability distribution. dtype must be a floating "
                           f"point but you specified {_TORCH_NAMES[np_dtype.name]}")
    u = _unit64(_gen(generator), self.numel())
    return _write(self, (median + sigma * _libm(np.tan, math.tan, math.pi * (u - 0.5))).astype(np_dtype))


@bind("log_normal_")
def _log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """exp of the scalar-path normal draw (one value at a time, with its cached second sample)."""
    np_dtype = np.asarray(self._data).dtype
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_num(std)}")
    _need_float(np_dtype, "log_normal_cpu")
    z = _normal_scalar(_gen(generator), self.numel(), float(mean), float(std))
    return _write(self, _libm(np.exp, math.exp, z).astype(np_dtype))


@bind("geometric_")
def _geometric_(self, p, *, generator=None):
    """ceil(log u / log(1 - p)), u a double uniform: the number of trials to the first success."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_num(p)}")
    u = _unit64(_gen(generator), self.numel())
    return _write(self, np.ceil(_libm(np.log, math.log, u) / math.log1p(-p)).astype(np.asarray(self._data).dtype))
