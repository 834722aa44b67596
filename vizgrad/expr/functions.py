"""The functions of the language (`FUNCTIONS`): each one's parameters, its cost per element
relative to an add and its one-line help text.
"""
from __future__ import annotations

from dataclasses import dataclass

_REQ = object()


@dataclass(frozen=True)
class Func:
    name: str
    params: tuple        # (name, kind, default); kind: tensor | int | ints | bool | number
    family: str
    cost: float = 1.0    # work per element, relative to an add
    doc: str = ""
    varargs: bool = False  # reshape(x, 2, 3): extra positional ints form the shape

    def signature(self) -> str:
        parts = []
        for n, kind, d in self.params:
            parts.append(n if d is _REQ else f"{n}={d!r}")
        if self.varargs:
            parts.append("*shape")
        return f"{self.name}({', '.join(parts)})"


def _fn(name, params, family, cost=1.0, doc="", varargs=False):
    return name, Func(name, tuple(params), family, cost, doc, varargs)


_X = ("x", "tensor", _REQ)
_A, _B = ("a", "tensor", _REQ), ("b", "tensor", _REQ)
_DIMS = ("dim", "ints", None)
_KEEP = ("keepdim", "bool", False)

_UNARY_DOCS = {
    "exp": "e to the x", "log": "natural logarithm", "sqrt": "square root", "abs": "absolute value",
    "sin": "sine", "cos": "cosine", "tanh": "hyperbolic tangent", "sigmoid": "1 / (1 + exp(-x))",
    "relu": "max(x, 0)", "square": "x ** 2", "reciprocal": "1 / x",
}
_TRANSCENDENTAL = {"exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid"}

FUNCTIONS: dict[str, Func] = dict([
    *[_fn(n, [_X], "unary", 3.0 if n in _TRANSCENDENTAL else 1.0, d) for n, d in _UNARY_DOCS.items()],
    _fn("detach", [_X], "detach", 1.0, "x as a constant: no gradient flows through it"),
    _fn("sum", [_X, _DIMS, _KEEP], "reduce", 1.0, "sum of all elements, or along dim"),
    _fn("mean", [_X, _DIMS, _KEEP], "reduce", 1.0, "mean of all elements, or along dim"),
    _fn("var", [_X, _DIMS, _KEEP], "reduce", 6.0, "variance (unbiased), of all elements or along dim"),
    _fn("std", [_X, _DIMS, _KEEP], "reduce", 7.0, "standard deviation (unbiased)"),
    _fn("norm", [_X, _DIMS, _KEEP], "reduce", 3.0, "Euclidean norm"),
    _fn("logsumexp", [_X, ("dim", "ints", _REQ), _KEEP], "reduce", 6.0, "log(sum(exp(x), dim))"),
    _fn("max", [_X, ("other", "tensor", None), ("dim", "int", None), _KEEP], "maxmin", 3.0,
        "largest element, along dim, or elementwise max(a, b)"),
    _fn("min", [_X, ("other", "tensor", None), ("dim", "int", None), _KEEP], "maxmin", 3.0,
        "smallest element, along dim, or elementwise min(a, b)"),
    _fn("softmax", [_X, ("dim", "int", -1)], "softmax", 8.0, "exp(x) / sum(exp(x)) along dim"),
    _fn("log_softmax", [_X, ("dim", "int", -1)], "softmax", 8.0, "log(softmax(x, dim))"),
    _fn("dot", [_A, _B], "matmul", 1.0, "dot product of two vectors"),
    _fn("matmul", [_A, _B], "matmul", 1.0, "matrix product, same as a @ b"),
    _fn("outer", [_A, _B], "outer", 1.0, "outer product of two vectors"),
    _fn("maximum", [_A, _B], "binary", 1.0, "elementwise maximum"),
    _fn("minimum", [_A, _B], "binary", 1.0, "elementwise minimum"),
    _fn("pow", [_A, _B], "pow", 3.0, "a ** b"),
    _fn("clamp", [_X, ("min", "number", None), ("max", "number", None)], "clamp", 1.0,
        "x limited to [min, max]"),
    _fn("transpose", [_X, ("dim0", "int", None), ("dim1", "int", None)], "transpose", 1.0,
        "swap two dims (a matrix's rows and columns by default)"),
    _fn("reshape", [_X], "reshape", 1.0, "the same elements in a new shape, e.g. reshape(x, 2, 3)",
        varargs=True),
    _fn("flatten", [_X], "reshape", 1.0, "all elements as a vector"),
    _fn("squeeze", [_X, ("dim", "int", None)], "reshape", 1.0, "drop dims of size 1"),
    _fn("unsqueeze", [_X, ("dim", "int", _REQ)], "reshape", 1.0, "insert a dim of size 1"),
])
