"""torch.nn.init: in-place initialisers, as torch's: the random ones call the tensor's uniform_ /
normal_ under no_grad (so they draw torch's numbers, see vizgrad/random.py), the others write the
array directly; all return the tensor. Tests: tests/test_random_parity.py."""
from __future__ import annotations

import math
import warnings

import numpy as np

from vizgrad._grad_mode import no_grad
from vizgrad.tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_"]


def calculate_gain(nonlinearity: str, param=None) -> float:
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _write(tensor: Tensor, values) -> Tensor:
    arr = tensor._ensure_array()
    arr[...] = values
    tensor._version += 1
    return tensor


def _calculate_fan_in_and_fan_out(tensor: Tensor):
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.size(1) * receptive, tensor.size(0) * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None) -> Tensor:
    """N(mean, std) restricted to [a, b] by rejection, as torch 2.13: when [a, b] holds more than 30% of
    the mass, redraw N(mean, std) over the whole tensor and keep the new value where the old one fell
    outside, until none does; else propose U(a, b) and accept where log U(0, 1) <= the log density
    relative to its peak in [a, b], redrawing both for the pending elements."""
    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    arr = tensor._ensure_array()
    dt = arr.dtype.type
    scratch = Tensor._make(np.empty(arr.shape, arr.dtype))  # torch's empty_like buffers

    def draw(fill, *args):
        with no_grad():
            getattr(scratch, fill)(*args, generator=generator)
        return scratch._data.copy()

    if norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std) > 0.3:
        lo, hi = dt(a), dt(b)
        result = draw("normal_", mean, std)
        while True:
            outside = (result < lo) | (result > hi)
            if not outside.any():
                return _write(tensor, result)
            result = np.where(outside, draw("normal_", mean, std), result)

    log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2

    def log_density(x):  # in the tensor's dtype, one rounding per step as torch's in-place chain
        return ((x - dt(mean)) / dt(std)) ** 2 * dt(-0.5) - dt(log_peak)

    result = draw("uniform_", a, b)
    pending = np.log(draw("uniform_", 0.0, 1.0)) > log_density(result)
    while pending.any():
        candidates = draw("uniform_", a, b)
        result = np.where(pending, candidates, result)
        pending = np.where(pending, np.log(draw("uniform_", 0.0, 1.0)) > log_density(candidates), pending)
    return _write(tensor, result)


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _write(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    return _write(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    return _write(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None) -> Tensor:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std  # torch's order of operations: the bound must round the same
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None) -> Tensor:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix from the QR factorisation of N(0, 1) draws of shape
    (rows, numel / rows), signs fixed by diag(R), as torch (the draw is transposed when rows < cols)."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    flat = Tensor._make(np.empty((rows, cols), np.asarray(tensor._data).dtype))
    normal_(flat, 0.0, 1.0, generator)
    m = flat._data.T if rows < cols else flat._data
    q, r = np.linalg.qr(m)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (q.reshape(tensor.shape) * gain).astype(q.dtype))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """N(0, std) with ceil(sparsity * rows) entries of each column zeroed, the rows from randperm on the
    default generator (torch passes `generator` to the normal draw only)."""
    from vizgrad.random import randperm

    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    normal_(tensor, 0.0, std, generator)
    arr = tensor._ensure_array()
    for col in range(cols):
        arr[np.asarray(randperm(rows)._data)[:num_zeros], col] = 0
    return tensor
