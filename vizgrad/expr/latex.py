r"""An expression as LaTeX (`to_latex`): fractions, powers, Greek and subscripted variable
names, matrices for list literals; a call is written by its row's LaTeX form (functions.py), which
uses the helpers of `_Latex` (paren, subscript, operand, ...). Every node is emitted once.
Names inside \mathrm{} and \operatorname{} are escaped by the project's one LaTeX-name escaper,
vizgrad.graph.format.tex_name; `latex_name` typesets a variable's name (what the pages use
wherever they name one).
"""
from __future__ import annotations

from typing import Mapping

from vizgrad.expr.errors import ExprLimits, pointing_into, shielded
from vizgrad.expr.nodes import BIN_PREC, BinOp, Call, Subscript, ListLit, Name, Node, Num, Unary, key_text
from vizgrad.expr.parse import parse
from vizgrad.graph.format import tex_name

_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "mu", "nu",
          "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "Gamma", "Delta",
          "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "varepsilon", "varphi"}


def _latex_word(w: str) -> str:
    if w in _GREEK:
        return "\\" + w
    if len(w) == 1 or w.isdigit():
        return w
    return r"\mathrm{" + tex_name(w) + "}"


def latex_name(name: str) -> str:
    r"""How a variable is typeset: Greek names as letters (alpha -> \alpha), trailing digits and
    a part after _ as a subscript (x1 -> x_{1}, w_out -> w_{\mathrm{out}}), other words upright."""
    if name == "pi":
        return r"\pi"
    base, sep, sub = name.partition("_")
    if not base:  # _x
        return r"\mathrm{" + tex_name(name) + "}"
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
            return latex_name(node.id)
        if isinstance(node, Unary):
            inner = self.emit(node.operand)
            if isinstance(node.operand, BinOp) and node.operand.op in "+-" or isinstance(node.operand, Unary):
                inner = self.paren(inner)
            return node.op + inner if node.op == "-" else inner
        if isinstance(node, BinOp):
            return self.binop(node)
        if isinstance(node, ListLit):
            return self.matrix(node)
        if isinstance(node, Subscript):
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
        spec, args = node.spec, node.args
        # every tensor argument emitted once, in parameter order
        ts = {p: self.emit(args[p]) for p in spec.tensor_params if args[p] is not None}
        return spec.latex(self, node, ts)

    # -- what the rows' LaTeX forms use (functions.py) -------------------------------------------
    def operator_name(self, name: str) -> str:
        return r"\operatorname{" + tex_name(name) + "}"

    def subscript(self, node: Call) -> str:
        """The options that differ from their defaults (and a reshape's shape), as _{dim=0, ...}."""
        extras = [r"\mathrm{" + tex_name(p) + "}=" + _latex_static(node.args[p])
                  for p, kind, default in node.spec.params if kind != "tensor" and node.args[p] != default]
        if node.spec.varargs:
            extras.append(r"\mathrm{shape}=" + _latex_static(node.args["shape"]))
        return ("_{" + ", ".join(extras) + "}") if extras else ""

    def operand(self, node: Node, text: str) -> str:
        """`text` (node's LaTeX) in parentheses unless it is atomic (as a power's base)."""
        return text if _latex_atomic(node) else self.paren(text)

    def atomic(self, node: Node) -> bool:
        return _latex_atomic(node)

    def is_power(self, node: Node) -> bool:
        return isinstance(node, BinOp) and node.op == "**"

    def number(self, v) -> str:
        return _latex_num(v)


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
    return isinstance(node, (Name, ListLit, Subscript)) or (isinstance(node, Call) and node.spec.latex_atomic)


def _latex_prec(node) -> int:
    if isinstance(node, BinOp):
        return 50 if node.op in ("/", "**") else BIN_PREC[node.op]
    if isinstance(node, Unary):
        return 30
    if isinstance(node, Call):
        return node.spec.latex_prec
    return 100


@shielded
def to_latex(source: str, variables: Mapping | None = None, limits: ExprLimits | None = None) -> str:
    """The expression as LaTeX (fractions, powers, function names, matrix products)."""
    expr = parse(source, variables, limits)
    with pointing_into(expr.text):
        return _Latex().emit(expr.root)
