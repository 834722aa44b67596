"""An expression as LaTeX (`to_latex`): fractions, powers, Greek and subscripted variable
names, matrices for list literals and each function's own notation. Every node is emitted once.
"""
from __future__ import annotations

from typing import Mapping

from vizgrad.expr.errors import ExprError, Limits, shielded
from vizgrad.expr.functions import FUNCTIONS
from vizgrad.expr.nodes import BIN_PREC, BinOp, Call, Index, ListLit, Name, Node, Num, Unary, key_text
from vizgrad.expr.parse import parse

_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "mu", "nu",
          "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "Gamma", "Delta",
          "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "varepsilon", "varphi"}
_LATEX_FUNCS = {"exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos", "tanh": r"\tanh",
                "max": r"\max", "min": r"\min", "maximum": r"\max", "minimum": r"\min"}


def _latex_word(w: str) -> str:
    if w in _GREEK:
        return "\\" + w
    if len(w) == 1 or w.isdigit():
        return w
    return r"\mathrm{" + w.replace("_", r"\_") + "}"


def _latex_name(name: str) -> str:
    if name == "pi":
        return r"\pi"
    base, sep, sub = name.partition("_")
    if not base:  # _x
        return r"\mathrm{" + name.replace("_", r"\_") + "}"
    if not sep and base.rstrip("0123456789") != base and base.rstrip("0123456789").isalpha():
        letters = base.rstrip("0123456789")  # x1 -> x_{1}, W12 -> W_{12}
        return _latex_word(letters) + "_{" + base[len(letters):] + "}"
    out = _latex_word(base)
    if sep and sub:
        out += "_{" + _latex_word(sub) + "}"
    return out


def _latex_num(v) -> str:
    if isinstance(v, int):
        return str(v)
    v = float(v)
    s = repr(v)
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
        s = f"{v:.8g}"
    if "e" in s:
        m, _, ex = s.partition("e")
        ex = str(int(ex))
        if m in ("1", "1.0"):
            return "10^{" + ex + "}"
        return m + r" \times 10^{" + ex + "}"
    if s.endswith(".0"):
        s = s[:-2]
    return s


class _Latex:
    """Each node is emitted exactly once and its string reused: emitting a child twice (as a
    shared link's exp(exp(...(x))) once did) doubles the work at every level."""

    def paren(self, s):
        return r"\left(" + s + r"\right)"

    def emit(self, node: Node) -> str:
        if isinstance(node, Num):
            return _latex_num(node.value)
        if isinstance(node, Name):
            return _latex_name(node.id)
        if isinstance(node, Unary):
            inner = self.emit(node.operand)
            if isinstance(node.operand, BinOp) and node.operand.op in "+-" or isinstance(node.operand, Unary):
                inner = self.paren(inner)
            return node.op + inner if node.op == "-" else inner
        if isinstance(node, BinOp):
            return self.binop(node)
        if isinstance(node, ListLit):
            return self.matrix(node)
        if isinstance(node, Index):
            base = self.emit(node.value)
            if not _latex_atomic(node.value):
                base = self.paren(base)
            return base + r"\left[" + ", ".join(key_text(k).replace(":", "{:}") for k in node.key) + r"\right]"
        if isinstance(node, Call):
            return self.call(node)
        return "?"  # pragma: no cover

    def binop(self, node: BinOp) -> str:
        op = node.op
        if op == "/":
            return r"\frac{" + self.emit(node.left) + "}{" + self.emit(node.right) + "}"
        if op == "**":
            base = self.emit(node.left)
            if not _latex_atomic(node.left) or (isinstance(node.left, Num) and "times" in base):
                base = self.paren(base)
            return "{" + base + "}^{" + self.emit(node.right) + "}"
        return self.infix(op, node.left, node.right, self.emit(node.left), self.emit(node.right))

    def infix(self, op, lnode, rnode, left: str, right: str) -> str:
        """`left op right` for + - * @, from the operands' already emitted strings."""
        p = BIN_PREC[op]
        if _latex_prec(lnode) < p:
            left = self.paren(left)
        rp = _latex_prec(rnode)
        if rp < p or (op == "-" and rp == p) or (isinstance(rnode, Unary) and rnode.op == "-"):
            right = self.paren(right)
        sym = {"+": " + ", "-": " - ", "*": r" \cdot ", "@": r"\,"}[op]
        return left + sym + right

    def matrix(self, node: ListLit) -> str:
        if all(not isinstance(it, ListLit) for it in node.items):
            body = r" \\ ".join(self.emit(it) for it in node.items)  # a vector: one column
        elif all(isinstance(it, ListLit) and all(not isinstance(x, ListLit) for x in it.items)
                 for it in node.items):
            body = r" \\ ".join(" & ".join(self.emit(x) for x in it.items) for it in node.items)
        else:
            body = " & ".join(self.emit(it) for it in node.items)
        return r"\begin{bmatrix} " + body + r" \end{bmatrix}"

    def call(self, node: Call) -> str:
        name, args = node.func, node.args
        spec = FUNCTIONS[name]
        # every tensor argument emitted once, in parameter order
        ts = {p: self.emit(args[p]) for p, kind, _ in spec.params if kind == "tensor" and args.get(p) is not None}
        x = args.get("x")
        xs = ts.get("x", "")
        extras = []
        for pname, kind, default in spec.params:
            if kind != "tensor" and args.get(pname) != default:
                extras.append(r"\mathrm{" + pname + "}=" + _latex_static(args[pname]))
        sub = ("_{" + ", ".join(extras) + "}") if extras else ""
        if name == "sqrt":
            return r"\sqrt{" + xs + "}"
        if name == "abs":
            return r"\left|" + xs + r"\right|"
        if name == "norm":
            return r"\left\lVert " + xs + r" \right\rVert" + sub
        if name == "square":
            return "{" + (xs if _latex_atomic(x) else self.paren(xs)) + "}^{2}"
        if name == "reciprocal":
            return r"\frac{1}{" + xs + "}"
        if name == "transpose" and not extras:
            return "{" + (xs if _latex_atomic(x) else self.paren(xs)) + r"}^{\top}"
        if name == "sum":
            inner = xs if _latex_atomic(x) or isinstance(x, BinOp) and x.op == "**" else self.paren(xs)
            return r"\sum" + sub + " " + inner
        if name == "sigmoid":
            return r"\sigma" + self.paren(xs)
        if name in ("dot",):
            return r"\left\langle " + ts["a"] + ", " + ts["b"] + r" \right\rangle"
        if name == "matmul":
            return self.infix("@", args["a"], args["b"], ts["a"], ts["b"])
        if name == "outer":
            return ts["a"] + r" \otimes " + ts["b"]
        if name == "clamp":
            parts = [xs] + [_latex_num(args[k]) if args[k] is not None else r"-\infty" if k == "min"
                            else r"\infty" for k in ("min", "max")]
            return r"\operatorname{clamp}" + self.paren(", ".join(parts))
        head = _LATEX_FUNCS.get(name, r"\operatorname{" + name.replace("_", r"\_") + "}")
        targs = list(ts.values())
        if name == "reshape":
            extras = [r"\mathrm{shape}=" + _latex_static(args["shape"])]
            sub = "_{" + ", ".join(extras) + "}"
        return head + sub + self.paren(", ".join(targs))


def _latex_static(v) -> str:
    if isinstance(v, tuple):
        return "(" + ", ".join(str(i) for i in v) + ")"
    if isinstance(v, bool):
        return r"\mathrm{" + str(v) + "}"
    if isinstance(v, (int, float)):
        return _latex_num(v)
    return str(v)


def _latex_atomic(node) -> bool:
    if isinstance(node, Num):
        return node.value >= 0
    return isinstance(node, (Name, ListLit, Index)) or (
        isinstance(node, Call) and node.func not in ("sum", "square", "reciprocal", "outer", "matmul",
                                                     "transpose"))


def _latex_prec(node) -> int:
    if isinstance(node, BinOp):
        return 50 if node.op in ("/", "**") else BIN_PREC[node.op]
    if isinstance(node, Unary):
        return 30
    if isinstance(node, Call) and node.func in ("outer", "matmul"):
        return 20
    if isinstance(node, Call) and node.func == "sum":
        return 5
    return 100


@shielded
def to_latex(source: str, variables: Mapping | None = None, limits: Limits | None = None) -> str:
    """The expression as LaTeX (fractions, powers, function names, matrix products)."""
    expr = parse(source, variables, limits)
    try:
        return _Latex().emit(expr.root)
    except RecursionError:
        raise ExprError("the expression is too deeply nested", 1, None, expr.text) from None
