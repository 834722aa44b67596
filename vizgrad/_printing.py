"""Tensor formatting that prints exactly what PyTorch prints.

This is a port of ``torch/_tensor_str.py`` (as shipped with torch 2.13) to
plain numpy arrays, so that ``repr(vizgrad.Tensor)`` is character-for-character
identical to ``repr(torch.Tensor)`` for the same data, dtype and autograd
state.  The structure deliberately mirrors the torch source (``_Formatter``,
``_vector_str``, ``_tensor_str_with_formatter``, ``get_summarized_data``,
``_add_suffixes``) so that the two can be compared side by side; only the
tensor operations were swapped for their numpy equivalents.

Public API:

* :func:`format_tensor` - the full ``repr``, e.g. ``tensor(31., grad_fn=<AddBackward0>)``.
* :func:`format_str` - ``str()`` of a tensor; identical to the repr for plain tensors.
* :func:`set_printoptions`, :func:`get_printoptions`, :func:`printoptions` -
  module-global options, same names, defaults and semantics as torch's.

Only numpy is imported: vizgrad must not depend on torch at runtime.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any, Iterable, Optional

import numpy as np

__all__ = [
    "format_tensor",
    "format_str",
    "set_printoptions",
    "get_printoptions",
    "printoptions",
    "torch_dtype_name",
]


# --------------------------------------------------------------------------
# Print options (module-global, like torch's PRINT_OPTS)
# --------------------------------------------------------------------------


@dataclasses.dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: Optional[bool] = None


PRINT_OPTS = _PrinterOptions()


def set_printoptions(
    precision=None,
    threshold=None,
    edgeitems=None,
    linewidth=None,
    profile=None,
    sci_mode=None,
):
    """Set options for printing; same semantics as ``torch.set_printoptions``.

    Args:
        precision: digits after the decimal point for floats (default 4).
        threshold: total number of elements above which the output is
            summarized with ``...`` (default 1000).
        edgeitems: items kept at the start and end of each summarized
            dimension (default 3).
        linewidth: characters per line before wrapping (default 80).
        profile: ``"default"``, ``"short"`` or ``"full"`` presets, applied
            before the other arguments.
        sci_mode: force (True) or forbid (False) scientific notation; None
            lets the formatter decide.  Note that, as in torch, *every* call
            resets ``sci_mode`` (to None when the argument is omitted).
    """
    if profile is not None:
        if profile == "default":
            PRINT_OPTS.precision = 4
            PRINT_OPTS.threshold = 1000
            PRINT_OPTS.edgeitems = 3
            PRINT_OPTS.linewidth = 80
        elif profile == "short":
            PRINT_OPTS.precision = 2
            PRINT_OPTS.threshold = 1000
            PRINT_OPTS.edgeitems = 2
            PRINT_OPTS.linewidth = 80
        elif profile == "full":
            PRINT_OPTS.precision = 4
            PRINT_OPTS.threshold = math.inf
            PRINT_OPTS.edgeitems = 3
            PRINT_OPTS.linewidth = 80

    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    # Unconditional on purpose: torch does the same.
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Return the current options as a dict usable as ``set_printoptions(**d)``."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that temporarily changes the print options."""
    old_kwargs = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old_kwargs)


# --------------------------------------------------------------------------
# dtype names
# --------------------------------------------------------------------------

# Aliases accepted for ``dtype_name``; torch's own short names map to the
# canonical ones that ``str(torch.dtype)`` prints.
_DTYPE_ALIASES = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "cfloat": "complex64",
    "cdouble": "complex128",
    "long": "int64",
    "int": "int32",
    "short": "int16",
    "bool_": "bool",
}

# dtypes that numpy cannot hold; their values are expected in a wider numpy
# float array (e.g. bfloat16 data kept as float32).
_FLOAT_ONLY_IN_TORCH = {
    "bfloat16",
    "float8_e4m3fn",
    "float8_e4m3fnuz",
    "float8_e5m2",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
}


def torch_dtype_name(dtype_name) -> str:
    """Canonical torch dtype name (no ``torch.`` prefix) for a name or numpy dtype."""
    if isinstance(dtype_name, str):
        name = dtype_name
        if name.startswith("torch."):
            name = name[len("torch.") :]
        name = _DTYPE_ALIASES.get(name, name)
        if name in _FLOAT_ONLY_IN_TORCH:
            return name
    else:
        name = None
    return np.dtype(name if name is not None else dtype_name).name


def _is_floating(dtype_name: str) -> bool:
    return dtype_name.startswith("float") or dtype_name == "bfloat16"


def _is_complex(dtype_name: str) -> bool:
    return dtype_name.startswith("complex")


# --------------------------------------------------------------------------
# The formatter: decides int_mode / sci_mode / column width for one tensor
# --------------------------------------------------------------------------


class _Formatter:
    """Port of ``torch._tensor_str._Formatter``.

    ``array`` is the (possibly summarized) data that decides the format;
    ``floating`` says whether the tensor dtype is a floating point one (for
    complex tensors torch builds one formatter for ``.real`` and one for
    ``.imag``, both floating).
    """

    def __init__(self, array: np.ndarray, floating: bool):
        self.floating_dtype = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1

        tensor_view = array.reshape(-1)

        if not self.floating_dtype:
            # Ints and bools: "{}".format(python scalar), e.g. "True", "-12".
            for value in tensor_view.tolist():
                value_str = f"{value}"
                self.max_width = max(self.max_width, len(value_str))
            return

        # Only nonzero finite values decide the format; zeros, nan and inf
        # just get padded to whatever width the others need.
        nonzero_finite_vals = tensor_view[np.isfinite(tensor_view) & (tensor_view != 0)]

        if nonzero_finite_vals.size == 0:
            # no valid number, do nothing (and sci_mode stays False even if
            # PRINT_OPTS.sci_mode is set, exactly like torch)
            return

        # torch converts to double for the min/max/ratio tests (half would
        # overflow at 1e8).  Widening float16/float32 to float64 is exact.
        nonzero_finite_abs = np.abs(nonzero_finite_vals).astype(np.float64)
        nonzero_finite_min = nonzero_finite_abs.min()
        nonzero_finite_max = nonzero_finite_abs.max()

        # `value != torch.ceil(value)` in the tensor's own dtype; ceil of a
        # float is exact in any binary format, so numpy gives the same answer.
        if np.any(nonzero_finite_vals != np.ceil(nonzero_finite_vals)):
            self.int_mode = False

        if PRINT_OPTS.sci_mode is None:
            # The ratio may overflow to inf (e.g. 1e300 / 1e-300): torch
            # silently gets inf > 1000 -> sci mode, and so do we.
            with np.errstate(over="ignore"):
                ratio = nonzero_finite_max / nonzero_finite_min
            self.sci_mode = bool(
                ratio > 1000.0 or nonzero_finite_max > 1.0e8 or nonzero_finite_min < 1.0e-4
            )
        else:
            self.sci_mode = PRINT_OPTS.sci_mode

        # Python's float formatting of the exact double value is what torch
        # uses too (Tensor.__format__ -> item().__format__), so formatting
        # float(x) reproduces its rounding digit for digit.
        values = nonzero_finite_vals.astype(np.float64).tolist()
        precision = PRINT_OPTS.precision
        if self.int_mode:
            # in int_mode for floats, all numbers are integers, and we append
            # a decimal point, so add 1 to the length to account for it.
            if self.sci_mode:
                for value in values:
                    value_str = f"{{:.{precision}e}}".format(value)
                    self.max_width = max(self.max_width, len(value_str))
            else:
                for value in values:
                    value_str = f"{value:.0f}"
                    self.max_width = max(self.max_width, len(value_str) + 1)
        else:
            if self.sci_mode:
                for value in values:
                    value_str = f"{{:.{precision}e}}".format(value)
                    self.max_width = max(self.max_width, len(value_str))
            else:
                for value in values:
                    value_str = f"{{:.{precision}f}}".format(value)
                    self.max_width = max(self.max_width, len(value_str))

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        """Format one python scalar, right-aligned to the common width."""
        if self.floating_dtype:
            if self.sci_mode:
                ret = f"{{:{self.max_width}.{PRINT_OPTS.precision}e}}".format(value)
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{{:.{PRINT_OPTS.precision}f}}".format(value)
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


# --------------------------------------------------------------------------
# Layout: scalars, rows, nested brackets, summarization
# --------------------------------------------------------------------------


def _to_python(array: np.ndarray) -> list:
    """``tensor.tolist()``: python floats for any float dtype (exactly widened)."""
    if array.dtype.kind == "f" and array.dtype != np.float64:
        array = array.astype(np.float64)
    elif array.dtype.kind == "c" and array.dtype != np.complex128:
        array = array.astype(np.complex128)
    return array.tolist()


def _complex_join(real_str: str, imag_str: str) -> str:
    # handles negative numbers, +0.0, -0.0
    if imag_str[0] == "+" or imag_str[0] == "-":
        return real_str + imag_str
    return real_str + "+" + imag_str


def _scalar_str(array, formatter1, formatter2=None) -> str:
    value = _to_python(array)
    if formatter2 is not None:
        real_str = formatter1.format(value.real)
        imag_str = (formatter2.format(value.imag) + "j").lstrip()
        return _complex_join(real_str, imag_str)
    return formatter1.format(value)


def _vector_str(array, indent, summarize, formatter1, formatter2=None) -> str:
    # length includes spaces and comma between elements
    element_length = formatter1.width() + 2
    if formatter2 is not None:
        # width for imag_formatter + an extra j for complex
        element_length += formatter2.width() + 1

    elements_per_line = max(
        1, math.floor((PRINT_OPTS.linewidth - indent) / element_length)
    )

    def _val_formatter(val):
        if formatter2 is not None:
            real_str = formatter1.format(val.real)
            imag_str = (formatter2.format(val.imag) + "j").lstrip()
            return _complex_join(real_str, imag_str)
        return formatter1.format(val)

    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        data = ["..."]
    elif summarize and array.shape[0] > 2 * edge:
        data = (
            [_val_formatter(v) for v in _to_python(array[:edge])]
            + [" ..."]
            + [_val_formatter(v) for v in _to_python(array[-edge:])]
        )
    else:
        data = [_val_formatter(v) for v in _to_python(array)]

    data_lines = [
        data[i : i + elements_per_line] for i in range(0, len(data), elements_per_line)
    ]
    lines = [", ".join(line) for line in data_lines]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(array, indent, summarize, formatter1, formatter2=None):
    dim = array.ndim

    if dim == 0:
        return _scalar_str(array, formatter1, formatter2)

    if dim == 1:
        return _vector_str(array, indent, summarize, formatter1, formatter2)

    edge = PRINT_OPTS.edgeitems
    n = array.shape[0]
    if summarize and n > 2 * edge:
        slices = (
            [
                _tensor_str_with_formatter(array[i], indent + 1, summarize, formatter1, formatter2)
                for i in range(edge)
            ]
            + ["..."]
            + [
                _tensor_str_with_formatter(array[i], indent + 1, summarize, formatter1, formatter2)
                for i in range(n - edge, n)
            ]
        )
    else:
        slices = [
            _tensor_str_with_formatter(array[i], indent + 1, summarize, formatter1, formatter2)
            for i in range(n)
        ]

    # Sub-blocks of a k-d tensor are separated by k-1 newlines (blank lines
    # between matrices of a 3-d tensor, etc.).
    tensor_str = ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices)
    return "[" + tensor_str + "]"


def get_summarized_data(array: np.ndarray) -> np.ndarray:
    """The edge items that remain visible when summarizing; they alone decide the format."""
    dim = array.ndim
    edge = PRINT_OPTS.edgeitems
    if dim == 0:
        return array
    if dim == 1:
        if array.shape[0] > 2 * edge:
            # With edgeitems == 0, `array[-0:]` is the whole array: torch has
            # the same quirk, so keep it.
            return np.concatenate((array[:edge], array[-edge:]))
        return array
    if not edge:
        return np.empty([0] * dim, dtype=array.dtype)
    n = array.shape[0]
    if n > 2 * edge:
        rows = [array[i] for i in range(edge)] + [array[i] for i in range(n - edge, n)]
    else:
        rows = [array[i] for i in range(n)]
    return np.stack([get_summarized_data(x) for x in rows])


def _tensor_str(array: np.ndarray, indent: int, dtype_name: str) -> str:
    if array.size == 0:
        return "[]"

    summarize = array.size > PRINT_OPTS.threshold

    if _is_complex(dtype_name):
        source = get_summarized_data(array) if summarize else array
        real_formatter = _Formatter(np.ascontiguousarray(source.real), floating=True)
        imag_formatter = _Formatter(np.ascontiguousarray(source.imag), floating=True)
        return _tensor_str_with_formatter(array, indent, summarize, real_formatter, imag_formatter)

    formatter = _Formatter(
        get_summarized_data(array) if summarize else array,
        floating=_is_floating(dtype_name),
    )
    return _tensor_str_with_formatter(array, indent, summarize, formatter)


def _add_suffixes(tensor_str, suffixes, indent, force_newline=False) -> str:
    tensor_strs = [tensor_str]
    # NB: off by one or two versus the real last-line length (rfind returns
    # -1 when there is no newline); kept as-is because torch wraps on it.
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        suffix_len = len(suffix)
        if force_newline or last_line_len + suffix_len + 2 > PRINT_OPTS.linewidth:
            tensor_strs.append(",\n" + " " * indent + suffix)
            last_line_len = indent + suffix_len
            force_newline = False
        else:
            tensor_strs.append(", " + suffix)
            last_line_len += suffix_len + 2
    tensor_strs.append(")")
    return "".join(tensor_strs)


# --------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------


def format_tensor(
    data,
    dtype_name: Optional[str] = None,
    default_dtype_name: str = "float32",
    suffixes: Iterable[str] = (),
    prefix: str = "tensor(",
) -> str:
    """Return exactly what ``repr(torch_tensor)`` prints for the same tensor.

    Args:
        data: the tensor's values as a numpy array (anything ``np.asarray``
            accepts).  It is cast to ``dtype_name`` when numpy has that
            dtype; for torch-only dtypes (bfloat16, float8) pass the values
            already rounded, in a wider float array.
        dtype_name: torch dtype name, e.g. ``"float32"``, ``"int64"``,
            ``"bool"``, ``"torch.float64"``; defaults to ``data``'s dtype.
        default_dtype_name: ``torch.get_default_dtype()``; its dtype (and
            int64, bool and the matching complex dtype) is not printed.
        suffixes: autograd extras in torch's order, such as
            ``"requires_grad=True"`` or ``"grad_fn=<AddBackward0>"``.  They
            are appended after ``dtype=``/``size=``, wrapping like torch.
        prefix: ``"tensor("`` for plain tensors; torch uses
            ``"<SubclassName>("`` for subclasses.
    """
    dtype = torch_dtype_name(dtype_name if dtype_name is not None else np.asarray(data).dtype)
    default = torch_dtype_name(default_dtype_name)

    array = np.asarray(data)
    if dtype not in _FLOAT_ONLY_IN_TORCH and array.dtype != np.dtype(dtype):
        array = array.astype(dtype)

    indent = len(prefix)
    all_suffixes: list[str] = []

    default_complex = "complex128" if default == "float64" else "complex64"
    has_default_dtype = dtype in (default, default_complex, "int64", "bool")

    if array.size == 0:
        # Explicitly print the shape if it is not (0,), to match NumPy behavior
        if array.ndim != 1:
            all_suffixes.append("size=" + str(tuple(array.shape)))
        # In an empty tensor, there are no elements to infer if the dtype
        # should be int64, so it must be shown explicitly (only the default
        # float dtype is implied by "[]").
        if dtype != default:
            all_suffixes.append("dtype=torch." + dtype)
        tensor_str = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            all_suffixes.append("size=" + str(tuple(array.shape)))
        if not has_default_dtype:
            all_suffixes.append("dtype=torch." + dtype)
        tensor_str = _tensor_str(array, indent, dtype)

    all_suffixes.extend(suffixes)
    return _add_suffixes(prefix + tensor_str, all_suffixes, indent, force_newline=False)


def format_str(
    data,
    dtype_name: Optional[str] = None,
    default_dtype_name: str = "float32",
    suffixes: Iterable[str] = (),
    prefix: str = "tensor(",
) -> str:
    """``str(tensor)``: torch's ``Tensor.__str__`` and ``__repr__`` share one implementation."""
    return format_tensor(data, dtype_name, default_dtype_name, suffixes, prefix)
