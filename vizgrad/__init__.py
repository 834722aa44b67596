"""vizgrad: a PyTorch-compatible autograd engine on numpy, built to be seen.

    import vizgrad as torch          # PyTorch autograd code runs unchanged
    x = torch.tensor(2.0, requires_grad=True)
    y = torch.tensor(3.0, requires_grad=True)
    z = x**2 + y**3                  # tensor(31., grad_fn=<AddBackward0>)
    z.backward()
    x.grad, y.grad                   # (tensor(4.), tensor(27.))

The engine, numpy only: tensor.py (Tensor), creation.py (factories), random.py (generators),
ops/ (every op, one module per kind; each op's function registers itself as vizgrad.<name>
and Tensor.<name>), autograd/ (backward, grad, Function, gradcheck, anomaly), nn/, optim/.
Layers import one way: engine -> vizgrad.graph (networkx) -> vizgrad.plot (plotly) -> app and
pages (streamlit).
"""
from vizgrad._alloc import tune_malloc as _tune_malloc

_tune_malloc()  # see vizgrad/_alloc.py: keep freed array memory for the next step

from vizgrad._dtype import (bool_ as bool, dtype, float16, float32, float64, get_default_dtype, int8, int16,
                            int32, int64, promote_types, set_default_dtype, uint8)
from vizgrad._dtype import float16 as half, float32 as float, float64 as double, int32 as int, int64 as long
from vizgrad._grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from vizgrad._printing import get_printoptions, set_printoptions
from vizgrad.tensor import Size, Tensor, device
from vizgrad.creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, logspace, ones,
                              ones_like, tensor, zeros, zeros_like)
from vizgrad.creation import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor,
                              LongTensor, ShortTensor, set_default_tensor_type)
from vizgrad.random import (Generator, bernoulli, default_generator, get_rng_state, initial_seed, manual_seed,
                            multinomial, normal, rand, rand_like, randint, randint_like, randn, randn_like, randperm,
                            seed, set_rng_state)
from vizgrad.ops.base import PUBLIC as _PUBLIC

globals().update(_PUBLIC)  # every op's public function, registered beside it (vizgrad/ops/base.py: public)

from vizgrad import autograd  # noqa: E402
from vizgrad import linalg  # noqa: E402  (torch.linalg.inv, det, cross)

__version__ = "0.1.0"


def broadcast_shapes(*shapes) -> Size:
    """The shape tensors of these shapes broadcast to (torch.broadcast_shapes)."""
    import builtins  # here `int` is torch.int, the dtype
    import numpy as _np
    as_tuple = [(s,) if isinstance(s, builtins.int) else tuple(s) for s in shapes]
    try:
        return Size(_np.broadcast_shapes(*as_tuple))
    except ValueError:
        raise RuntimeError("Shape mismatch: objects cannot be broadcast to a single shape") from None


def is_floating_point(t: Tensor) -> bool:
    return t.dtype.is_floating_point


def set_num_threads(n: int) -> None:
    """Accepted for torch compatibility; numpy's BLAS threads are set by the environment."""


def get_num_threads() -> int:
    return 1


def cuda_is_available() -> bool:
    return False


class cuda:  # torch.cuda.is_available() is a common first line
    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0

from vizgrad import nn, optim, utils  # noqa: E402  (torch.nn / torch.optim / torch.utils.data)
from vizgrad.serialization import load, save  # noqa: E402


def show(*roots, **kw):
    """Draw the graph behind `roots` (tensors, or a graph from vizgrad.graph.trace) and display it
    (inline in a notebook); returns the plotly Figure. Options as vizgrad.plot.figure. Imports
    plotly only when called: the engine itself never does."""
    from vizgrad.plot import show as _show
    return _show(*roots, **kw)
