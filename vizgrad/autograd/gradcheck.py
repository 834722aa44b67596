"""gradcheck / gradgradcheck: analytical Jacobians (from backward) against central finite differences;
and the central difference of a scalar function, which the app's gradient checks use.

    gradcheck(fn, (x,))       # x float64 with requires_grad=True; True, or raises GradcheckError
    central_differences(f, x, rel=1e-4)   # d f / d x for f: ndarray -> float, float64, x's shape

The numerical Jacobian perturbs each input element by ±eps in place; the analytical one runs one
backward per output element (autograd.grad with a one-hot grad_output). They must agree within
`atol + rtol * |numerical|` everywhere.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from vizgrad._grad_mode import no_grad
from vizgrad._printing import format_tensor
from vizgrad.autograd import grad  # defined before vizgrad.autograd imports this module
from vizgrad.tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "central_difference", "central_differences",
           "magnitude", "fd_step_and_tolerance", "fd_agrees", "INFINITE_NOTE", "sampled_central_differences"]


def central_difference(f, flat: np.ndarray, i: int, rel: float = 1e-4) -> float:
    """d f / d flat[i] as (f(flat + h e_i) - f(flat - h e_i)) / 2h, with a step relative to the
    value, h = rel * max(1, |flat[i]|). f gets a perturbed copy of the 1-d array `flat` (of its
    dtype; flat itself is not changed) and returns a number."""
    flat = np.asarray(flat)
    h = rel * max(1.0, abs(float(flat[i])))
    fs = []
    for sign in (1, -1):
        pert = flat.copy()
        pert[i] += sign * h
        fs.append(float(f(pert)))
    return (fs[0] - fs[1]) / (2 * h)


def central_differences(f, x, rel: float = 1e-4) -> np.ndarray:
    """The gradient of f (an array of x's shape -> a number) at x, element by element with
    central_difference: float64, x's shape; 2 x.size evaluations of f."""
    base = np.asarray(x, dtype=np.float64)
    flat = base.reshape(-1)

    def f_flat(v):
        return f(v.reshape(base.shape))

    return np.array([central_difference(f_flat, flat, i, rel) for i in range(flat.size)]).reshape(base.shape)


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _differentiable_outputs(out):
    return tuple(o for o in _as_tuple(out) if isinstance(o, Tensor) and o._requires_grad)


def _flat_outputs(func, inputs):
    out = func(*inputs)  # grad mode stays on: gradgradcheck's func differentiates inside
    return [np.array(np.asarray(o._data), dtype=np.float64).ravel()
            for o in _as_tuple(out) if isinstance(o, Tensor) and o._data.dtype.kind == "f"]


def _numerical_jacobian(func, inputs, i, eps):
    """d out_j / d input_i for every output j, as (numel_in, numel_out) float64 arrays."""
    t = inputs[i]
    arr = t._ensure_array()
    flat = arr.reshape(-1)  # a view: perturbing it perturbs the input
    base = _flat_outputs(func, inputs)
    jacs = [np.zeros((arr.size, o.size)) for o in base]
    for k in range(arr.size):
        orig = flat[k].copy()
        flat[k] = orig - eps
        lo = _flat_outputs(func, inputs)
        flat[k] = orig + eps
        hi = _flat_outputs(func, inputs)
        flat[k] = orig
        for j, (a, b) in enumerate(zip(lo, hi)):
            jacs[j][k] = (b - a) / (2 * eps)
    return jacs


def _analytical_jacobian(func, inputs, i, create_graph=False):
    out = func(*inputs)
    outs = [o for o in _as_tuple(out) if isinstance(o, Tensor) and o._data.dtype.kind == "f"]
    t = inputs[i]
    jacs = []
    for o in outs:
        jac = np.zeros((t.numel(), o.numel()))
        if o._requires_grad:
            for j in range(o.numel()):
                go = np.zeros(o.numel(), dtype=o._data.dtype)
                go[j] = 1
                g, = grad([o], [t], [Tensor._make(go.reshape(o.shape))], retain_graph=True, allow_unused=True)
                if g is not None:
                    jac[:, j] = np.asarray(g._data, dtype=np.float64).ravel()
        jacs.append(jac)
    return jacs


def _fmt(a: np.ndarray) -> str:
    return format_tensor(a, "float64", "float32", [])


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked=None) -> bool:
    """True if every input's analytical Jacobian matches the finite-difference one; else raise (or False)."""
    inputs = _as_tuple(inputs)
    if not any(isinstance(t, Tensor) and t._requires_grad for t in inputs):
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them "
                         "have requires_grad=True.")
    for idx, t in enumerate(inputs):
        if isinstance(t, Tensor) and t._requires_grad and t._data.dtype != np.float64:
            warnings.warn(f"Input #{idx} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating "
                          "point or complex. ")

    def fail(msg):
        if raise_exception:
            raise GradcheckError(msg)
        return False

    for i, t in enumerate(inputs):
        if not (isinstance(t, Tensor) and t._requires_grad):
            continue
        numerical = _numerical_jacobian(func, inputs, i, eps)
        analytical = _analytical_jacobian(func, inputs, i)
        for j, (n, a) in enumerate(zip(numerical, analytical)):
            if n.shape != a.shape:
                return fail(f"Jacobian mismatch for output {j} with respect to input {i}: shapes differ")
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                return fail(f"Jacobian mismatch for output {j} with respect to input {i},\n"
                            f"numerical:{_fmt(n)}\nanalytical:{_fmt(a)}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False, masked: bool = False) -> bool:
    """gradcheck of the gradient: checks the second derivatives (double backward) of `func`."""
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        with no_grad():
            outs = _as_tuple(func(*inputs))
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor._make(rng.standard_normal(o.shape).astype(o._data.dtype), True)
                             for o in outs if isinstance(o, Tensor) and o._data.dtype.kind == "f")
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._requires_grad]

    def new_func(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = [o for o in _as_tuple(func(*ins)) if isinstance(o, Tensor) and o._data.dtype.kind == "f"]
        pairs = [(o, g) for o, g in zip(outs, gos) if o._requires_grad]
        if not pairs:
            return tuple(Tensor._make(np.zeros(ins[i].shape, ins[i]._data.dtype)) for i in diff_idx)
        gs = grad([o for o, _ in pairs], [ins[i] for i in diff_idx], [g for _, g in pairs], create_graph=True,
                  allow_unused=True)
        return tuple(g if g is not None else Tensor._make(np.zeros(ins[i].shape, ins[i]._data.dtype))
                     for g, i in zip(gs, diff_idx))

    return gradcheck(new_func, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)


# =================================================================================================
# Finite differences on a budget, for the app's gradient checks (the Expression Playground's
# gradcheck column, the Backprop Walkthrough's comparison): f is a scalar function of named arrays,
# and every element checked costs two evaluations of all of f. So a check gets one budget of
# evaluations for all its inputs together and, beyond it, checks a deterministic sample of elements.
#
#     d = sampled_central_differences(f, values, ["x", "w"], max_evaluations=64)
#     d.numeric["x"]      # float64, x's shape, NaN where not computed; d.indices["x"]: where computed
# =================================================================================================


def fd_shares(sizes, elements: int) -> list[int]:
    """How many elements of each input to check when `elements` can be checked in all: equal shares,
    all of an input smaller than its share (its unused share goes to the others), and what an
    equal split leaves over one each to the first inputs, in their order, that have more."""
    shares = [0] * len(sizes)
    left = max(0, int(elements))
    open_ = [i for i, n in enumerate(sizes) if n > 0]
    while left and open_:
        each = left // len(open_)
        if each == 0:
            for i in open_[:left]:
                shares[i] += 1
            break
        for i in open_:
            add = min(each, sizes[i] - shares[i])
            shares[i] += add
            left -= add
        open_ = [i for i in open_ if shares[i] < sizes[i]]
    return shares


def fd_sample(n: int, k: int) -> np.ndarray:
    """Which k of n flat element indices to check: all of them, or a fixed pseudo-random sample
    (sorted), the same on every run."""
    if k >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=k, replace=False))


def fd_plan(sizes: dict, elements: int) -> dict:
    """{name: the flat indices to check} for inputs of these sizes, `elements` in all (fd_shares, fd_sample)."""
    return {name: fd_sample(n, k) for (name, n), k in zip(sizes.items(), fd_shares(list(sizes.values()), elements))}


def magnitude(arrays) -> float:
    """The biggest sum of magnitudes among these arrays (a function's tensors): about what its
    largest sum() adds up, and so the scale of its rounding error (at least 1)."""
    scale = 1.0
    for v in arrays:
        if v is not None and np.size(v):
            with np.errstate(all="ignore"):
                m = float(np.sum(np.abs(np.asarray(v, dtype=np.float64))))
            if np.isfinite(m):
                scale = max(scale, m)
    return scale


def fd_step_and_tolerance(scale: float, eps: float) -> tuple[float, float]:
    """(step, atol) for central differences of a function computed with relative precision `eps`
    whose intermediate sums reach `scale` (magnitude()): each evaluation is off by about
    eps * scale, so a difference quotient with step h is off by about that / h. The step balances
    this against the truncation error (h ~ its cube root), and atol, the quotient's error, covers
    both: rounding (noise / h) and truncation of a cubic term (h^2; a central difference is exact
    for quadratics). For float64 on small values the step is about 1e-5 and atol negligible; a float32
    sum over 500 elements of size 10 gets a step of about 0.1 and atol about 0.03, so that an exact
    gradient is never judged wrong by the check's own rounding."""
    noise = 4 * eps * max(1.0, float(scale))
    step = float(np.cbrt(noise))
    return step, noise / step + step * step


def fd_agrees(numeric, analytic, atol: float = 0.0, rtol: float = 2e-2) -> np.ndarray:
    """Elementwise: a finite difference agrees with the analytic gradient (both finite, within
    rtol * max(1, |analytic|) + atol)."""
    num, ana = np.asarray(numeric, dtype=np.float64), np.asarray(analytic, dtype=np.float64)
    with np.errstate(all="ignore"):
        return np.isfinite(num) & np.isfinite(ana) & (np.abs(num - ana) <= rtol * np.maximum(1.0, np.abs(ana)) + atol)


INFINITE_NOTE = ("the derivative is infinite here (as √x or log x at 0, whose slope grows without bound): "
                 "the gradient inf is right, and finite differences cannot check an infinite slope")


@dataclass
class SampledDifferences:
    """What sampled_central_differences computed, per input name."""
    numeric: dict          # name -> float64 array in the input's shape, NaN where not computed
    indices: dict          # name -> the flat indices computed (np.ndarray, in plan order)
    errors: dict           # name -> the exception (one of `catch`) that stopped its elements
    evaluations: int = 0   # calls of f made, failed ones included
    timed_out: bool = False  # max_seconds ran out before the plan was done


def sampled_central_differences(f, values: dict, names, max_evaluations: int, *, rel_step: float = 1e-4,
                                min_step: float = 0.0, max_seconds: float | None = None,
                                catch: tuple = (Exception,)) -> SampledDifferences:
    """Central differences (central_difference) of f({name: array, ...}) -> a number for the inputs
    `names` (keys of `values`), in float64, each step rel_step * max(1, |x|) and at least min_step,
    within `max_evaluations` calls of f in all: fd_plan shares the elements out, and they are
    computed in turns (one element of each input, then the next), so a time cap still leaves every
    input a fair part. With `max_seconds`, no element is started that would end past it (judged by
    the last one's time), but at least one is computed. An exception in `catch` stops that input's
    elements only (a perturbed value left f's domain); the others go on."""
    start = time.perf_counter()
    plan = fd_plan({n: int(np.size(values[n])) for n in names}, max(0, int(max_evaluations)) // 2)
    out = SampledDifferences({n: np.full(np.shape(values[n]), np.nan) for n in plan}, {n: [] for n in plan}, {})

    def counted(args):
        out.evaluations += 1
        return f(args)

    flats = {n: np.asarray(values[n], dtype=np.float64).reshape(-1) for n in plan}
    last = 0.0  # how long the last element took
    for r in range(max((len(ix) for ix in plan.values()), default=0)):
        for n, idx in plan.items():
            if r >= len(idx) or n in out.errors:
                continue
            now = time.perf_counter()
            if max_seconds is not None and any(out.indices.values()) and now - start + last > max_seconds:
                out.timed_out = True
                break
            i = int(idx[r])
            flat, shape = flats[n], np.shape(values[n])
            scale = max(1.0, abs(float(flat[i])))  # central_difference's step is rel * scale: at least min_step
            try:
                q = central_difference(lambda v, n=n, shape=shape: counted({**values, n: v.reshape(shape)}), flat, i,
                                       rel=max(rel_step, min_step / scale))
            except catch as e:
                out.errors[n] = e
                continue
            finally:
                last = time.perf_counter() - now
            out.numeric[n].reshape(-1)[i] = q
            out.indices[n].append(i)
        if out.timed_out:
            break
    out.indices = {n: np.asarray(ix, dtype=np.int64) for n, ix in out.indices.items()}
    return out
