"""torch.nn.functional: activations, linear, dropout, convolution, pooling, normalisation and
losses, composed from vizgrad.ops.

The losses live in vizgrad/ops/loss.py (ops like the others) and are exported here under their
torch names; `reduction` is 'mean' | 'sum' | 'none' throughout, as in torch.
"""
from __future__ import annotations

import numpy as np

from vizgrad import ops
from vizgrad.ops import activation as _act
from vizgrad.ops import LinearAddmm, gelu, leaky_relu as _leaky_relu, log_softmax as _log_softmax, relu as _relu
from vizgrad.ops import sigmoid, softmax as _softmax, tanh
from vizgrad import random as _random
from vizgrad.ops.conv import (adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d, avg_pool2d, conv1d, conv2d,
                              conv_transpose2d, embedding, max_pool1d, max_pool2d)
from vizgrad.ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss,
                              kl_div, l1_loss, mse_loss, nll_loss, smooth_l1_loss)
from vizgrad.ops.normalization import batch_norm, layer_norm
from vizgrad.tensor import Tensor

__all__ = ["relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "dropout",
           "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
           "nll_loss", "softplus", "flatten", "identity", "one_hot", "silu", "logsigmoid",
           "conv1d", "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "embedding", "batch_norm",
           "layer_norm", "smooth_l1_loss", "huber_loss", "kl_div"]


# -- activations ---------------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return _relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _leaky_relu(input, negative_slope)


def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    return _softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    return _log_softmax(input, dim, dtype)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta (x itself where beta x > threshold), one SoftplusBackward0 node."""
    return _act.softplus(input, beta, threshold)


def logsigmoid(input: Tensor) -> Tensor:
    """log sigmoid(x), one LogSigmoidBackward0 node."""
    return _act.logsigmoid(input)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _act.silu(input)


def identity(input: Tensor) -> Tensor:
    return input


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return ops.flatten(input, start_dim, end_dim)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    idx = np.asarray(tensor._data)
    n = int(idx.max()) + 1 if num_classes < 0 else num_classes
    return Tensor._make((np.arange(n) == idx[..., None]).astype(np.int64))


# -- linear ----------------------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b. A 2-D input with matching dtypes is one AddmmBackward0 node (shown over
    TBackward0(W), the graph torch records; see ops.LinearAddmm); the rest goes through ops.linear."""
    if bias is not None:
        xd, wd, bd = input._data, weight._data, bias._data
        if xd.ndim == 2 and wd.ndim == 2:
            dt = xd.dtype  # (numpy's dtypes are singletons: `is` is the quick test)
            if (wd.dtype is dt or wd.dtype == dt) and (bd.dtype is dt or bd.dtype == dt):
                return LinearAddmm.apply(bias, input, weight)
    return ops.linear(input, weight, bias)


# -- dropout ---------------------------------------------------------------------------------------
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """input * mask / (1 - p), the mask torch draws: bernoulli_(1 - p) on an empty tensor like input
    (one double uniform per element, in order, from the default generator), divided by 1 - p."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    dt = np.asarray(input._data).dtype
    if p == 1.0:
        mask = np.zeros(input.shape, dtype=dt)
    else:
        keep = _random._bernoulli_scalar(_random.default_generator, input.numel(), 1.0 - p)
        mask = keep.reshape(input.shape).astype(dt) / dt.type(1.0 - p)
    return input.mul_(Tensor._make(mask)) if inplace else input * Tensor._make(mask)
