"""vizgrad.expr does work linear in the expression's size (issue 11: shared links that freeze the
server). `to_latex` and `to_torch_code` once emitted a function's argument twice, so each nesting
level doubled the work: exp(exp(...32 levels...(x))) is 161 characters, passes every limit, and
would pin a core for over an hour (0.08 s at 16 levels, twice that per level more). Other
helpers (_is_const, _fold, _const_list) recursed over the whole subtree at every level: quadratic.

These tests count calls and measure output sizes, never wall time. Every counted function is
wrapped with a budget (a constant times the number of syntax-tree nodes) that raises as soon as
it is exceeded, so a regression fails at once instead of hanging the test run.
"""
from __future__ import annotations

import ast
import functools

import pytest

from vizgrad import expr as E
from vizgrad.expr import nodes as N
from vizgrad.expr import FUNCTIONS, evaluate, to_latex, to_torch_code
from vizgrad.app.expression import State, run

VALUES = {
    "x": 0.1,
    "v": [0.5, -1.25, 2.0],
    "M": [[0.9, -0.2, 0.4], [0.1, 1.3, -0.7], [-0.5, 0.6, 1.1]],
    "one": [1.0],
}

# How one level wraps `{}` where the generic form (below) would not keep a valid shape, so that
# the same call can be nested 32 times. A function not listed here gets the generic form.
SHAPE_FIXES = {
    "dot": ["dot({}, v) * v", "dot(v, {}) * v"],
    "matmul": ["matmul({}, v) * v", "matmul(M, {})"],
    "outer": ["outer({}, one)[:, 0]", "outer(one, {})[0]"],
    "logsumexp": ["logsumexp({}, dim=0, keepdim=True)"],
    "unsqueeze": ["unsqueeze({}, 0)[0]", "unsqueeze({}, dim=-1)[:, 0]"],
    "transpose": ["transpose({})", "transpose({}, 0, 1)"],
    "clamp": ["clamp({}, min=0)"],
}
# More forms, to reach every argument and option of the families that have them.
EXTRA_FORMS = {
    "sum": ["sum({}, dim=0, keepdim=True)"],
    "mean": ["mean({}, 0, True)"],
    "var": ["var({}, dim=[0], keepdim=True)"],
    "max": ["max({}, v)", "max(v, {})", "max({}, dim=0, keepdim=True)"],
    "min": ["min({}, other=v)", "min({}, dim=-1, keepdim=True)"],
    "softmax": ["softmax({}, dim=0)"],
    "log_softmax": ["log_softmax({}, 0)"],
    "maximum": ["maximum(v, {})"],
    "minimum": ["minimum(v, {})"],
    "pow": ["pow(v, {})"],
    "clamp": ["clamp({}, -1, 1)", "clamp({}, max=-(1 + 2 * 0.5))"],
    "squeeze": ["squeeze({}, 0)"],
    "reshape": ["reshape({}, [3])", "reshape({}, 1, 3)[0]"],
}
BASE = {"transpose": "M", "matmul": "v"}  # the innermost operand (default v)


def generic_form(name: str) -> str:
    """name(<inner>, v for other required tensors, 0 for required ints, 3 as a reshape's shape)."""
    spec = FUNCTIONS[name]
    pos, kw, first = [], [], True
    for pname, kind, default in spec.params:
        if kind == "tensor" and first:
            pos.append("{}")
            first = False
        elif default is E._REQ:
            (pos if kind == "tensor" else kw).append("v" if kind == "tensor" else f"{pname}=0")
    if spec.varargs:
        pos.append("3")
    return f"{name}({', '.join(pos + kw)})"


def forms(name: str) -> list[str]:
    return SHAPE_FIXES.get(name, [generic_form(name)]) + EXTRA_FORMS.get(name, [])


CASES = [(name, form) for name in FUNCTIONS for form in forms(name)]


def nest(form: str, depth: int, base: str) -> str:
    src = base
    for _ in range(depth):
        src = form.replace("{}", src, 1)
    return src


def bracket_depth(text: str) -> int:
    deepest = d = 0
    for ch in text:
        d += ch in "(["
        d -= ch in ")]"
        deepest = max(deepest, d)
    return deepest


def deepest(form: str) -> int:
    """The most levels the bracket limit (32) allows: 32, less one per bracket inside a level's
    own arguments (reshape(x, [3]) or clamp(x, max=-(1 + 1)) nest 31 deep)."""
    return E.DEFAULT_LIMITS.max_bracket_depth - (bracket_depth(form) - 1)


def case_src(name, form, depth):
    return nest(form, depth, BASE.get(name, "v"))


def used(src):
    return {n: VALUES[n] for n in E.parse(src).names}


# ------------------------------------------------------------------------------------------------
# counting
# ------------------------------------------------------------------------------------------------
class Overspent(BaseException):
    """Raised by a counted function past its budget. A BaseException, so that the public entry
    points' "internal error" wrapping (which catches Exception) lets it through."""


def tree_nodes(root) -> int:
    """Nodes of a parsed expression (iteratively), including Call arguments that are nodes."""
    n, stack = 0, [root]
    while stack:
        node = stack.pop()
        n += 1
        if isinstance(node, E.Unary):
            stack.append(node.operand)
        elif isinstance(node, E.BinOp):
            stack += [node.left, node.right]
        elif isinstance(node, E.ListLit):
            stack += node.items
        elif isinstance(node, E.Subscript):
            stack.append(node.value)
        elif isinstance(node, E.Call):
            stack += [a for a in node.args.values() if isinstance(a, E.Node)]
    return n


COUNTED = {  # name -> (owner, attribute)
    "latex.emit": (E._Latex, "emit"),
    "code.emit": (E._Code, "emit"),
    "code.emit_struct": (E._Code, "emit_struct"),
    "code.call": (E._Code, "call"),
    "eval.ev": (E._Evaluator, "ev"),
    "convert": (E._Converter, "convert"),
    "_is_const": (N, "is_const"),
    "_fold": (N, "fold"),
    "_const_list": (N, "const_list"),
}
PER_NODE = 6  # budget for each counted function: calls per source syntax node per public call


def syntax_nodes(src: str) -> int:
    """Nodes of Python's own syntax tree of the (test's own) source: also counts what the parser
    converts but does not keep, such as clamp's bounds, which tree_nodes does not see."""
    return sum(1 for _ in ast.walk(ast.parse(src, mode="eval")))


class Counter:
    def __init__(self, monkeypatch):
        self.counts = dict.fromkeys(COUNTED, 0)
        self.budget = None
        for key, (owner, attr) in COUNTED.items():
            monkeypatch.setattr(owner, attr, self.wrap(key, getattr(owner, attr)))

    def wrap(self, key, fn):
        @functools.wraps(fn)
        def counted(*args, **kwargs):
            self.counts[key] += 1
            if self.budget is not None and self.counts[key] > self.budget:
                raise Overspent(f"{key} called more than {self.budget} times")
            return fn(*args, **kwargs)
        return counted

    def measure(self, call, src, *args, calls=1):
        """Run call(src, *args) with every counted function limited to PER_NODE * nodes * calls
        (`calls`: how many times the public function runs the pipeline, e.g. to_torch_code
        evaluates and then generates); return (result, counts, nodes of the parsed tree)."""
        self.budget = None
        nodes = tree_nodes(E.parse(src).root)
        self.counts = dict.fromkeys(COUNTED, 0)
        self.budget = PER_NODE * syntax_nodes(src) * calls
        try:
            out = call(src, *args)
        finally:
            self.budget = None
        return out, dict(self.counts), nodes


@pytest.fixture
def counter(monkeypatch):
    return Counter(monkeypatch)


def body_line(code: str) -> str:
    """The `out = ...` line of generated code (the rest is imports, inputs and prints)."""
    lines = [ln for ln in code.splitlines() if ln.startswith("out = ")]
    assert len(lines) == 1, code
    return lines[0]


# ------------------------------------------------------------------------------------------------
# every function, nested 32 deep (what the bracket limit allows)
# ------------------------------------------------------------------------------------------------
def test_every_function_has_a_nesting_case():
    assert {name for name, _ in CASES} == set(FUNCTIONS)
    # 32 levels are allowed (the bracket limit) and 33 are not, for every form
    for name, form in CASES:
        assert deepest(form) >= 31, form
        E.parse(case_src(name, form, deepest(form)))
        with pytest.raises(E.ExprError, match="too deeply nested"):
            E.parse(case_src(name, form, deepest(form) + 1))


@pytest.mark.parametrize("name, form", CASES, ids=[f"{n}:{f}" for n, f in CASES])
def test_32_deep_emits_each_node_once(counter, name, form):
    src = case_src(name, form, deepest(form))
    vals = used(src)
    latex, c, nodes = counter.measure(to_latex, src, vals)
    assert c["latex.emit"] == nodes, (c, nodes)      # exactly once per node
    assert len(latex) <= 8 * len(src), (len(latex), len(src))
    code, c, _ = counter.measure(to_torch_code, src, vals, calls=2)  # evaluates, then generates
    assert c["code.emit"] <= nodes and c["code.emit_struct"] <= nodes, (c, nodes)
    assert c["eval.ev"] <= nodes, (c, nodes)
    assert len(body_line(code)) <= 8 * len(src), (len(body_line(code)), len(src))


@pytest.mark.parametrize("name, form", CASES, ids=[f"{n}:{f}" for n, f in CASES])
def test_output_and_work_grow_linearly_with_depth(counter, name, form):
    sizes = {}
    for depth in (8, 16, 32):
        src = case_src(name, form, min(depth, deepest(form)))
        vals = used(src)
        latex, cl, nodes = counter.measure(to_latex, src, vals)
        code, cc, _ = counter.measure(to_torch_code, src, vals, calls=2)
        sizes[depth] = (len(src), len(latex), len(body_line(code)), nodes,
                        sum(cl.values()), sum(cc.values()))
    for small, big in ((8, 16), (16, 32)):
        for i, what in enumerate(("source", "latex", "code", "nodes", "latex calls", "code calls")):
            ratio = sizes[big][i] / sizes[small][i]
            assert ratio <= 2.3, (what, small, big, sizes)   # twice the depth: about twice the size


@pytest.mark.parametrize("name, form", CASES, ids=[f"{n}:{f}" for n, f in CASES])
def test_parse_and_evaluate_32_deep_are_linear(counter, name, form):
    src = case_src(name, form, deepest(form))
    vals = used(src)
    _, c, nodes = counter.measure(E.parse, src, vals)
    assert c["convert"] <= syntax_nodes(src), (c, nodes)
    r, c, nodes = counter.measure(evaluate, src, vals)
    assert c["eval.ev"] <= nodes, (c, nodes)  # each node evaluated at most once
    r.backward()


def test_the_shared_link_from_issue_11(counter):
    """/playground?expr=exp(exp(...32 levels...(x)...))&v.x=0.1: the page's whole run."""
    src = "exp(" * 32 + "x" + ")" * 32
    state = State.from_query({"expr": src, "v.x": "0.1"})
    counter.budget = 10 * PER_NODE * syntax_nodes(src)  # the page also evaluates for a numeric check
    out = run(state)
    counter.budget = None
    assert out.latex.count(r"\exp") == 32 and body_line(out.code).count("torch.exp(") == 32
    assert counter.counts["latex.emit"] == 33


# ------------------------------------------------------------------------------------------------
# the helpers that used to recurse over the whole subtree at every level (quadratic)
# ------------------------------------------------------------------------------------------------
LONG_CHAINS = {
    # x + 1 + 1 + ...: left-deep, the variable at the bottom; _is_const walked down to it at each level
    "left-deep sum": lambda n: "x" + " + 1" * n,
    "left-deep product of functions": lambda n: "exp(x)" + " * sin(x)" * n,
    # a constant subtree: the code generator folded it again at every level
    "constant subtree": lambda n: "x * (" + " + ".join(["1"] * n) + ")",
    "constant divisions": lambda n: "x + 1" + " / 2" * n,
    # x ** 1 ** 1 ** ...: right-deep; the parser folded every exponent, each holding the ones above
    "power tower": lambda n: "x" + " ** 1" * n,
    "negations": lambda n: "-" * n + "x",
    "negated constant": lambda n: "x + " + "-" * n + "2",
    # a list whose last item is a tensor: _const_list walked the whole list at every level
    "wide nested list": lambda n: "[" * 7 + ", ".join(["1"] * n) + ", x" + "]" * 7,
    "list of tensors": lambda n: "[" + ", ".join(["x"] * n) + "]",
}


@pytest.mark.parametrize("kind", list(LONG_CHAINS))
def test_long_chains_are_linear(counter, kind):
    make = LONG_CHAINS[kind]
    totals = {}
    for n in (40, 80, 160):
        src = make(n)
        vals = used(src)
        _, cp, nodes = counter.measure(E.parse, src, vals)
        latex, cl, _ = counter.measure(to_latex, src, vals)
        code, cc, _ = counter.measure(to_torch_code, src, vals, calls=2)
        assert len(latex) <= 16 * len(src) and len(body_line(code)) <= 16 * len(src)
        totals[n] = (nodes, sum(cp.values()), sum(cl.values()), sum(cc.values()), len(latex), len(code))
    for small, big in ((40, 80), (80, 160)):
        for i in range(1, 6):
            # twice the length: about twice the work (quadratic would be 4x), relative to the nodes
            ratio = (totals[big][i] / totals[small][i]) / (totals[big][0] / totals[small][0])
            assert ratio <= 1.2, (kind, i, totals)


def test_constant_folding_is_memoised_per_tree(counter):
    """The parser checks every constant exponent of a power tower; each node is folded O(1) times."""
    src = "x" + " ** 1" * 150
    nodes = tree_nodes(E.parse(src).root)
    _, c, _ = counter.measure(E.parse, src)
    assert c["_fold"] <= 2 * nodes, (c, nodes)
    _, c, _ = counter.measure(to_torch_code, src, {"x": 0.5}, calls=2)
    assert c["_fold"] <= 6 * nodes, (c, nodes)  # parse, evaluate, generate: each linear
