"""In-place forms of the elementwise functions: x.sin_(), x.relu_(), x.clamp_(0, 1) ...

Each writes f(x) into x through Tensor._inplace, which keeps torch's rules: a leaf that requires
grad refuses ("a leaf Variable that requires grad is being used in an in-place operation."), the
version counter is bumped (so a backward that saved the old x refuses too), and a non-leaf is
rebased onto f's node, which is why `y.sin_()` prints grad_fn=<SinBackward0> as in torch.

    y = x * 1; y.exp_(); y.grad_fn          # <ExpBackward0>
"""
from __future__ import annotations

from vizgrad.ops import activation, arith, reduce, unary
from vizgrad.ops.base import bind
from vizgrad.tensor import Tensor


def _unary_inplace(fn, name: str):
    def method(self):
        return self._inplace(fn)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In place: x.{name}() writes {fn.__name__}(x) into x and returns x."
    return bind(name)(method)


for _name, _fn in {"sin_": unary.sin, "cos_": unary.cos, "tan_": unary.tan, "exp_": unary.exp, "log_": unary.log,
                   "sqrt_": unary.sqrt, "abs_": unary.abs, "absolute_": unary.abs, "tanh_": unary.tanh,
                   "neg_": unary.neg, "negative_": unary.neg, "reciprocal_": unary.reciprocal,
                   "sigmoid_": activation.sigmoid, "relu_": activation.relu, "square_": arith.square,
                   "log1p_": unary.log1p, "expm1_": unary.expm1, "log2_": unary.log2, "log10_": unary.log10,
                   "rsqrt_": unary.rsqrt, "sinh_": unary.sinh, "cosh_": unary.cosh, "asin_": unary.asin,
                   "acos_": unary.acos, "atan_": unary.atan, "erf_": unary.erf, "erfinv_": unary.erfinv,
                   "frac_": unary.frac, "sinc_": unary.sinc}.items():
    _unary_inplace(_fn, _name)


@bind("clamp_", "clip_")
def clamp_(self, min=None, max=None):
    return self._inplace(lambda a: unary.clamp(a, min, max))


@bind("clamp_min_")
def clamp_min_(self, min):
    return self._inplace(lambda a: unary.clamp_min(a, min))


@bind("clamp_max_")
def clamp_max_(self, max):
    return self._inplace(lambda a: unary.clamp_max(a, max))


# the optimizers' updates: exp_avg.lerp_(grad, 1 - beta1), p.addcdiv_(m, denom, value=-lr) ...
@bind("addcmul_")
def addcmul_(self, tensor1, tensor2, *, value=1):
    return self._inplace(lambda a, b, c: arith.addcmul(a, b, c, value=value), tensor1, tensor2)


@bind("addcdiv_")
def addcdiv_(self, tensor1, tensor2, *, value=1):
    return self._inplace(lambda a, b, c: arith.addcdiv(a, b, c, value=value), tensor1, tensor2)


@bind("lerp_")
def lerp_(self, end, weight):
    if isinstance(weight, Tensor):
        return self._inplace(lambda a, b, w: arith.lerp(a, b, w), end, weight)
    return self._inplace(lambda a, b: arith.lerp(a, b, weight), end)


@bind("nan_to_num_")
def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    return self._inplace(lambda a: unary.nan_to_num(a, nan, posinf, neginf))


@bind("renorm_")
def renorm_(self, p, dim, maxnorm):
    return self._inplace(lambda a: reduce.renorm(a, p, dim, maxnorm))
