r"""The functions of the language: one row (`Func`) per function in `FUNCTIONS`.

A row holds everything about one function: its parameters, its cost per element (relative to an
add), its help text and its three forms, which the visitors in evaluate.py, latex.py and
torch_code.py call without knowing which function they hold:

    evaluate(ev, call, t) -> Tensor   t: {parameter: Tensor}; checks the result's size and charges
                                      its work on `ev` (the evaluator) *before* running the engine op
    latex(lx, call, t) -> str         t: {parameter: LaTeX text}; `lx` is the LaTeX emitter
    code(cg, call, t) -> str          t: {parameter: (PyTorch code, precedence)}; `cg` the code emitter

(`t` holds the tensor parameters that were given, in parameter order; `call.args` every
parameter's value.) Families of similar functions share a constructor (`unary`, `reduction`,
`pairwise`, ...), which fills in the forms from one description of the engine call: the same
description gives `vg.name(x, dim=...)` for evaluation and `torch.name(x, dim=...)` for the code,
since the engine mirrors torch. A row overrides what differs, most often its LaTeX:

    fn("tan", unary(vg.tan), cost=3, latex=r"\tan", doc="tangent")

`latex` is a LaTeX command written before the parenthesised arguments (`\tan(x)`), or a form of
its own (`bracket(r"\sqrt{", "}")`); without it the function is written `\operatorname{name}(x)`.
"""
from __future__ import annotations

import ast
import functools
import math
from dataclasses import dataclass
from typing import Callable

import vizgrad as vg
from vizgrad.tensor import Tensor

_REQ = object()  # the default of a required parameter


@dataclass(frozen=True)
class Func:
    """One function of the language, a row of FUNCTIONS (build it with `fn`; the forms are
    described at the top of this module)."""
    name: str
    params: tuple          # (name, kind, default); kind: tensor | int | ints | bool | number
    evaluate: Callable | None
    latex: Callable | None
    code: Callable | None
    cost: float = 1.0      # work per element, relative to an add
    doc: str = ""
    varargs: bool = False  # reshape(x, 2, 3): extra positional ints form the shape
    check: Callable | None = None    # (name, bound args, their ast nodes) -> error message or None
    rewrite: Callable | None = None  # (parser, bound args, col, end) -> the node to use instead of a call
    latex_atomic: bool = True  # False: its LaTeX needs parentheses as a power's base or an index's
    latex_prec: int = 100      # how tightly its LaTeX binds, as an operand of + - * @ (see latex.py)

    @functools.cached_property
    def tensor_params(self) -> tuple:
        """The names of the tensor parameters, in order (the visitors emit these, once each)."""
        return tuple(n for n, kind, _ in self.params if kind == "tensor")

    def signature(self) -> str:
        parts = []
        for n, kind, d in self.params:
            parts.append(n if d is _REQ else f"{n}={d!r}")
        if self.varargs:
            parts.append("*shape")
        return f"{self.name}({', '.join(parts)})"


def fn(name, form: dict, *, doc: str, cost: float = 1.0, latex=None, code=None, **more) -> Func:
    """One row: the family's `form` (from a constructor below), with this row's overrides."""
    form = dict(form)
    if code is not None:
        form["code"] = code
    if not form.get("rewrite"):
        form["latex"] = latex if callable(latex) else head(latex)
    form.setdefault("evaluate", None)
    form.setdefault("latex", None)
    form.setdefault("code", None)
    return Func(name, cost=cost, doc=doc, **form, **more)


_X = ("x", "tensor", _REQ)
_A, _B = ("a", "tensor", _REQ), ("b", "tensor", _REQ)
_DIMS = ("dim", "ints", None)
_KEEP = ("keepdim", "bool", False)


# --------------------------------------------------------------------------------------------
# Evaluation: a plan checks the result's size and charges the work, then the engine op runs
# --------------------------------------------------------------------------------------------
def _per_element(ev, call, t):
    """The result is no larger than x: charge x's elements times the row's cost."""
    ev.charge(t["x"].numel() * call.spec.cost, *call.name_span)
    return f"{call.func}() failed"


def _broadcast(ev, call, t):
    """Two tensors broadcast together: the result's size is known before the op runs."""
    col, end = call.name_span
    what = f"{call.func}()"
    a, b = t.values()
    shape = ev.predict_broadcast(a, b, what, col, end)
    ev.charge(math.prod(shape) * call.spec.cost, col, end)
    return f"{what} failed"


def _two_vectors(ev, call, t):
    a, b = t.values()
    if a.dim() != 1 or b.dim() != 1:
        raise ev.err(f"shape mismatch in {call.func}(): it takes two vectors, got shapes {list(a.shape)} "
                     f"and {list(b.shape)}", *call.name_span)
    return a.shape[0], b.shape[0]


def _matrix_product(vectors_only: bool):
    def plan(ev, call, t):
        col, end = call.name_span
        if vectors_only:
            _two_vectors(ev, call, t)
        a, b = t.values()
        shape, flops = ev.predict_matmul(tuple(a.shape), tuple(b.shape), col, end, call.func)
        ev.charge(flops + math.prod(shape), col, end)
        return f"shape mismatch in {call.func}()"
    return plan


def _outer_product(ev, call, t):
    shape = _two_vectors(ev, call, t)
    ev.check_size(shape, *call.name_span)
    ev.charge(math.prod(shape), *call.name_span)
    return f"{call.func}() failed"


def _adds_a_dim(ev, call, t):
    failed = _per_element(ev, call, t)
    if t["x"].dim() + 1 > ev.limits.max_dims:
        raise ev.err(f"{call.func}(): too many dims (the limit is {ev.limits.max_dims})", *call.name_span)
    return failed


def _given(v) -> bool:
    """An option is passed on (to the engine, into the code) unless it is None or False."""
    return v is not None and v is not False


def _engine(op, pos=(), kw=(), plan=_per_element):
    """op(tensors..., the `pos` options..., k=v for the `kw` options), each option only if given."""
    def evaluate(ev, call, t):
        failed = plan(ev, call, t)
        a = call.args
        with ev.guard(failed, *call.name_span):
            return op(*t.values(), *[a[p] for p in pos if a[p] is not None],
                      **{k: a[k] for k in kw if _given(a[k])})

    def evaluate_plain(ev, call, t):  # the same without options: most rows, so worth the shortcut
        failed = plan(ev, call, t)
        with ev.guard(failed, *call.name_span):
            return op(*t.values())
    return evaluate if pos or kw else evaluate_plain


# --------------------------------------------------------------------------------------------
# PyTorch code and LaTeX
# --------------------------------------------------------------------------------------------
def _torch(name=None, pos=(), kw=()):
    """torch.<name>(...), with the options passed as _engine passes them."""
    def code(cg, call, t):
        a = call.args
        parts = [c for c, _ in t.values()] + [repr(a[p]) for p in pos if a[p] is not None] + [
            f"{k}={a[k]!r}" for k in kw if _given(a[k])]
        return f"torch.{name or call.func}({', '.join(parts)})"
    return code


def _method(name):
    """x.<name>(), x in parentheses unless it is an atom."""
    def code(cg, call, t):
        x, prec = t["x"]
        return (x if prec == 100 else f"({x})") + f".{name}()"
    return code


def _switch(test, yes, no):
    """One of two forms, by the call's arguments (test(args) true: `yes`)."""
    return lambda emitter, call, t: (yes if test(call.args) else no)(emitter, call, t)


def head(command: str | None):
    r"""`command` (\operatorname{name} if None), the options as a subscript, the arguments in parentheses."""
    def latex(lx, call, t):
        return (command or lx.operator_name(call.func)) + lx.subscript(call) + lx.paren(", ".join(t.values()))
    return latex


def bracket(left: str, right: str):
    r"""The arguments between `left` and `right` (\sqrt{x}, \left|x\right|), then the options."""
    return lambda lx, call, t: left + ", ".join(t.values()) + right + lx.subscript(call)


def superscript(sup: str):
    """{x}^{sup}, x in parentheses unless it is atomic."""
    return lambda lx, call, t: "{" + lx.operand(call.args["x"], t["x"]) + "}^{" + sup + "}"


def _sum_latex(lx, call, t):
    x = call.args["x"]
    inner = t["x"] if lx.atomic(x) or lx.is_power(x) else lx.paren(t["x"])
    return r"\sum" + lx.subscript(call) + " " + inner


def _clamp_latex(lx, call, t):
    a = call.args
    low = r"-\infty" if a["min"] is None else lx.number(a["min"])
    high = r"\infty" if a["max"] is None else lx.number(a["max"])
    return r"\operatorname{clamp}" + lx.paren(", ".join([t["x"], low, high]))


# --------------------------------------------------------------------------------------------
# The families
# --------------------------------------------------------------------------------------------
def unary(op):
    """One tensor x and no options: op(x); torch.<name>(x)."""
    return dict(params=(_X,), evaluate=_engine(op), code=_torch())


def reduction(op, dim_required=False):
    """op(x) over all elements, or along `dim` (one or several), keeping it with keepdim=True."""
    dims = ("dim", "ints", _REQ) if dim_required else _DIMS
    return dict(params=(_X, dims, _KEEP), evaluate=_engine(op, kw=("dim", "keepdim")),
                code=_torch(kw=("dim", "keepdim")))


def along_dim(op):
    """op(x, dim=d), d = -1 unless given."""
    return dict(params=(_X, ("dim", "int", -1)), evaluate=_engine(op, kw=("dim",)), code=_torch(kw=("dim",)))


def pairwise(op):
    """Two tensors, broadcast together: op(a, b)."""
    return dict(params=(_A, _B), evaluate=_engine(op, plan=_broadcast), code=_torch())


def product(op, plan):
    """Two tensors multiplied as vectors or matrices: op(a, b), its size and work from `plan`."""
    return dict(params=(_A, _B), evaluate=_engine(op, plan=plan), code=_torch())


def extremum(reduce_op, pair_op, pair_name):
    """max/min: of all elements, along dim (torch returns values and indices: the values), or
    elementwise against a second tensor `other` (as `pair_name`, e.g. maximum(x, other))."""
    def pair(args):
        return args["other"] is not None

    def whole(args):
        return args["dim"] is None

    def check(name, bound, raw):
        if bound["other"] is None:
            return None
        if bound["dim"] is not None:
            return f"{name}(a, b) compares two tensors; {name}(x, dim=...) reduces one: not both at once"
        if bound["keepdim"]:
            return "keepdim needs dim"
        if isinstance(raw.get("other"), ast.Constant):
            lit = ast.unparse(raw["other"])
            return (f"{name}(x, {lit}) is ambiguous: write {name}(x, dim={lit}) for the {name} along a "
                    f"dimension, or {pair_name}(x, {lit}) for the elementwise {name}")
        return None

    along = _torch(kw=("dim", "keepdim"))
    return dict(
        params=(_X, ("other", "tensor", None), ("dim", "int", None), _KEEP), check=check,
        evaluate=_switch(pair, _engine(pair_op, plan=_broadcast),
                         _switch(whole, _engine(reduce_op), _engine(reduce_op, kw=("dim", "keepdim")))),
        code=_switch(pair, _torch(pair_name),
                     _switch(whole, _torch(), lambda cg, call, t: along(cg, call, t) + ".values")))


def power():
    """pow(a, b) is a ** b: the parser builds that node instead of a call."""
    return dict(params=(_A, _B), rewrite=lambda parser, b, col, end: parser.power(b["a"], b["b"], col, col, end))


def _clamp_check(name, bound, raw):
    if bound["min"] is None and bound["max"] is None:
        return "clamp() needs min or max, as in clamp(x, min=0)"
    return None


def _transpose_check(name, bound, raw):
    if (bound["dim0"] is None) != (bound["dim1"] is None):
        return "transpose() takes both dim0 and dim1, or neither"
    return None


def _no_dims(args):
    return args["dim0"] is None


def _reshape():
    return dict(params=(_X,), varargs=True, evaluate=_engine(vg.reshape, pos=("shape",)), code=_torch(pos=("shape",)))


def _optional_dim(op, required=False, plan=_per_element):
    dim = ("dim", "int", _REQ if required else None)
    return dict(params=(_X, dim), evaluate=_engine(op, pos=("dim",), plan=plan), code=_torch(pos=("dim",)))


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------
_ROWS = [
    # elementwise
    fn("exp", unary(vg.exp), cost=3, latex=r"\exp", doc="e to the x"),
    fn("log", unary(vg.log), cost=3, latex=r"\log", doc="natural logarithm"),
    fn("sqrt", unary(vg.sqrt), cost=3, latex=bracket(r"\sqrt{", "}"), doc="square root"),
    fn("abs", unary(vg.abs), latex=bracket(r"\left|", r"\right|"), doc="absolute value"),
    fn("sin", unary(vg.sin), cost=3, latex=r"\sin", doc="sine"),
    fn("cos", unary(vg.cos), cost=3, latex=r"\cos", doc="cosine"),
    fn("tan", unary(vg.tan), cost=3, latex=r"\tan", doc="tangent"),
    fn("tanh", unary(vg.tanh), cost=3, latex=r"\tanh", doc="hyperbolic tangent"),
    fn("sigmoid", unary(vg.sigmoid), cost=3, latex=r"\sigma", doc="1 / (1 + exp(-x))"),
    fn("relu", unary(vg.relu), doc="max(x, 0)"),
    fn("square", unary(vg.square), latex=superscript("2"), latex_atomic=False, doc="x ** 2"),
    fn("reciprocal", unary(vg.reciprocal), latex=bracket(r"\frac{1}{", "}"), latex_atomic=False, doc="1 / x"),
    fn("detach", unary(Tensor.detach), code=_method("detach"),
       doc="x as a constant: no gradient flows through it"),
    # reductions
    fn("sum", reduction(vg.sum), latex=_sum_latex, latex_atomic=False, latex_prec=5,
       doc="sum of all elements, or along dim"),
    fn("mean", reduction(vg.mean), doc="mean of all elements, or along dim"),
    fn("var", reduction(vg.var), cost=6, doc="variance (unbiased), of all elements or along dim"),
    fn("std", reduction(vg.std), cost=7, doc="standard deviation (unbiased)"),
    fn("norm", reduction(vg.norm), cost=3, latex=bracket(r"\left\lVert ", r" \right\rVert"), doc="Euclidean norm"),
    fn("logsumexp", reduction(vg.logsumexp, dim_required=True), cost=6, doc="log(sum(exp(x), dim))"),
    fn("max", extremum(vg.max, vg.maximum, "maximum"), cost=3, latex=r"\max",
       doc="largest element, along dim, or elementwise max(a, b)"),
    fn("min", extremum(vg.min, vg.minimum, "minimum"), cost=3, latex=r"\min",
       doc="smallest element, along dim, or elementwise min(a, b)"),
    fn("softmax", along_dim(vg.softmax), cost=8, doc="exp(x) / sum(exp(x)) along dim"),
    fn("log_softmax", along_dim(vg.log_softmax), cost=8, doc="log(softmax(x, dim))"),
    # two tensors
    fn("dot", product(vg.dot, _matrix_product(vectors_only=True)),
       latex=bracket(r"\left\langle ", r" \right\rangle"), doc="dot product of two vectors"),
    fn("matmul", product(vg.matmul, _matrix_product(vectors_only=False)), latex_atomic=False, latex_prec=20,
       latex=lambda lx, call, t: lx.infix("@", call.args["a"], call.args["b"], t["a"], t["b"]),
       doc="matrix product, same as a @ b"),
    fn("outer", product(vg.outer, _outer_product), latex_atomic=False, latex_prec=20,
       latex=lambda lx, call, t: t["a"] + r" \otimes " + t["b"], doc="outer product of two vectors"),
    fn("maximum", pairwise(vg.maximum), latex=r"\max", doc="elementwise maximum"),
    fn("minimum", pairwise(vg.minimum), latex=r"\min", doc="elementwise minimum"),
    fn("pow", power(), doc="a ** b"),
    # options and shapes
    fn("clamp", dict(params=(_X, ("min", "number", None), ("max", "number", None)), check=_clamp_check,
                     evaluate=_engine(vg.clamp, kw=("min", "max")), code=_torch(kw=("min", "max"))),
       latex=_clamp_latex, doc="x limited to [min, max]"),
    fn("transpose", dict(params=(_X, ("dim0", "int", None), ("dim1", "int", None)), check=_transpose_check,
                         evaluate=_switch(_no_dims, _engine(vg.t), _engine(vg.transpose, pos=("dim0", "dim1"))),
                         code=_switch(_no_dims, _torch("t"), _torch(pos=("dim0", "dim1")))),
       latex=_switch(_no_dims, superscript(r"\top"), head(None)), latex_atomic=False,
       doc="swap two dims (a matrix's rows and columns by default)"),
    fn("reshape", _reshape(), doc="the same elements in a new shape, e.g. reshape(x, 2, 3)"),
    fn("flatten", unary(vg.flatten), doc="all elements as a vector"),
    fn("squeeze", _optional_dim(vg.squeeze), doc="drop dims of size 1"),
    fn("unsqueeze", _optional_dim(vg.unsqueeze, required=True, plan=_adds_a_dim), doc="insert a dim of size 1"),
]
FUNCTIONS: dict[str, Func] = {f.name: f for f in _ROWS}
