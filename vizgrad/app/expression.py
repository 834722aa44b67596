"""The Expression Playground's model (pages/expression.py, at /playground): its state and its
computation, kept out of the page (no streamlit here).

    state = State.from_query({"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"})
    out = run(state)                 # evaluate, backward, graph, LaTeX, checks, PyTorch code
    out.grads["x"], out.checks["x"].ok
    state.to_query()                 # what goes back into the URL: a copied link reopens the graph

Variable values are typed as text (`2`, `-0.5`, `[1, 2, 3]`, `[[1, 2], [3, 4]]`, `pi/4`) and
parsed by the same safe expression language as the formula (`vizgrad.expr`), so a value can
never run code either. Every problem becomes a message for one field: the expression (with the
column it points at) or one variable; nothing raises out of `run`.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Hashable

import numpy as np

from vizgrad import graph as vgraph
from vizgrad.autograd.gradcheck import (INFINITE_NOTE, fd_agrees, fd_step_and_tolerance, magnitude,
                                        sampled_central_differences)
from vizgrad.expr import FUNCTIONS, CONSTANTS, ExprError, ExprLimits, Variable, evaluate, parse, to_latex, to_torch_code
from vizgrad.expr.latex import latex_name
from vizgrad.graph import format_value
from vizgrad.graph.steps import (chain_rule, differentiated, name_nodes, plain_name, simplify_rules,
                                 substitute_operands)
from vizgrad.plot.events import target_at
from vizgrad.plot.figure import local_number, plain_rule

RESERVED = {"expr", "ng", "step", "node"}   # query keys that are not variables
MAX_QUERY_VALUE = 4000                       # characters of one URL value we accept
# The finite-difference gradcheck costs two evaluations of the whole expression per element, so it
# gets a budget for the whole request, shared by all inputs: beyond it a deterministic sample of
# elements is checked (and its GradientCheck says so). With the largest expressions the limits allow
# (2,000 parts, 64 variables) one evaluation takes about 10 ms; a time cap covers expressions whose
# tensors are so large that even this many evaluations would be slow.
MAX_FD_EVALS = 64                            # function evaluations per request, all inputs together
MAX_FD_SECONDS = 0.4                         # and at most this long (checked between elements)

# (title, expression, {variable: value text}, variables that do not require grad)
EXAMPLES = [
    ("Seed: x² + y³", "x**2 + y**3", {"x": "2", "y": "3"}, ()),
    ("Seed: detach stops the gradient", "a**2 + detach(b)**3", {"a": "3", "b": "4"}, ()),
    ("Seed: w·x + b", "w*x + b", {"x": "[2.0]", "w": "[3.0]", "b": "[1.0]"}, ()),
    ("Seed: sum of a vector", "sum(x)", {"x": "[1.0, 2.0, 3.0]"}, ()),
    ("Fan-out: x·x + x", "x*x + x", {"x": "3"}, ()),
    ("A neuron: tanh(w·x + b)", "tanh(w*x + b)", {"w": "0.5", "x": "2", "b": "-1"}, ()),
    ("Least squares: Σ(Wv − t)²", "sum((W @ v - t)**2)",
     {"W": "[[1, 2], [3, 4]]", "v": "[0.5, -1]", "t": "[1, 0]"}, ("t",)),
    ("Logistic unit", "sigmoid(w1*x1 + w2*x2 + b)", {"w1": "0.8", "x1": "1", "w2": "-0.4", "x2": "2", "b": "0.1"},
     ("x1", "x2")),
    ("Softmax cross-entropy", "-log_softmax(z, dim=0)[1]", {"z": "[2.0, 1.0, 0.1]"}, ()),
    ("Broadcasting: row + column", "sum(a * b)", {"a": "[[1], [2]]", "b": "[10, 20, 30]"}, ()),
    # colah's "Calculus on Computational Graphs": c = a + b, d = b + 1, e = c·d; b reaches e by two paths
    ("colah: e = (a+b)·(b+1)", "(a + b)*(b + 1)", {"a": "2", "b": "1"}, ()),
]


def default_value(name: str) -> str:
    return "1.0"


@dataclass
class VarSpec:
    text: str = "1.0"            # the value as typed
    requires_grad: bool = True


@dataclass
class State:
    expr: str = "x**2 + y**3"
    vars: dict = field(default_factory=lambda: {"x": VarSpec("2"), "y": VarSpec("3")})

    @classmethod
    def from_example(cls, index: int) -> "State":
        _, expr, values, no_grad = EXAMPLES[index]
        return cls(expr, {n: VarSpec(v, n not in no_grad) for n, v in values.items()})

    @classmethod
    def from_query(cls, params) -> "State":
        """From st.query_params (a str -> str mapping). Missing keys give the default example;
        over-long values are cut (the expression check then reports them)."""
        get = lambda k: str(params.get(k, ""))[:MAX_QUERY_VALUE]  # noqa: E731
        if not get("expr"):
            return cls()
        no_grad = {n for n in get("ng").split(",") if n}
        vars_ = {k[2:]: VarSpec(get(k), k[2:] not in no_grad) for k in params if str(k).startswith("v.")}
        state = cls(get("expr"), vars_)
        state.sync()
        return state

    def to_query(self) -> dict:
        q = {"expr": self.expr}
        q.update({f"v.{n}": s.text for n, s in self.vars.items()})
        ng = ",".join(n for n, s in self.vars.items() if not s.requires_grad)
        if ng:
            q["ng"] = ng
        return q

    def sync(self, names: list | None = ...) -> None:
        """Make the variable list follow the expression: add new names (value 1.0), drop unused
        ones. If the expression does not parse, keep the list as it is. `names`: the expression's
        names if already known (expression_names, e.g. from a session's Memo)."""
        names = expression_names(self.expr) if names is ... else names
        if names is None:
            return
        self.vars = {n: self.vars.get(n) or VarSpec(default_value(n)) for n in names}


def expression_names(expr: str) -> list | None:
    """The variable names of `expr` in order of first use, or None if it does not parse."""
    try:
        return list(parse(expr).names)
    except ExprError:
        return None


@dataclass
class GradientCheck:
    """A numeric gradient check for one input: finite differences against the analytic gradient."""
    ok: bool
    max_error: float
    checked: int          # elements checked (a sample when the request's budget is too small for all)
    note: str = ""
    total: int = 0        # elements of the input (0: nothing to check, e.g. no gradient)
    infinite: bool = False  # the analytic gradient is infinite there (sqrt at 0): right, but not checkable

    @property
    def skipped(self) -> bool:
        """Not a single element checked: the budget went to the other inputs (or ran out of time)."""
        return self.checked == 0 and self.total > 0

    @property
    def coverage(self) -> str:
        """ "checked 8 of 4,096 elements" when only a sample was checked, else ""."""
        return "" if self.checked >= self.total else f"checked {self.checked:,} of {self.total:,} elements"


@dataclass
class Outcome:
    state: State
    result: object = None                 # vizgrad.expr.Result
    error: ExprError | None = None        # the expression's error (with .col)
    var_errors: dict = field(default_factory=dict)   # name -> message
    values: dict = field(default_factory=dict)       # name -> numpy value
    grads: dict = field(default_factory=dict)        # name -> numpy grad or None
    graph: object = None                  # networkx graph after backward
    latex: str | None = None
    checks: dict = field(default_factory=dict)       # name -> GradientCheck
    check_summary: str = ""               # "" if every element was checked, else what was sampled
    code: str = ""
    warnings: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.var_errors and self.result is not None

    @property
    def output(self):
        return None if self.result is None else self.result.output


def parse_value(name: str, text: str, limits: ExprLimits | None = None) -> np.ndarray:
    """A variable's typed value as a float array, through the safe expression language."""
    if not text.strip():
        raise ExprError(f"variable '{name}' has no value")
    try:
        r = evaluate(text, {}, limits)
    except ExprError as e:
        where = f" (column {e.col})" if e.col else ""
        raise ExprError(f"value of '{name}': {e.message}{where}") from None
    return np.asarray(r.output.detach().numpy(), dtype=np.float64)


def numeric_checks(expr: str, values: dict, grads: dict, names, limits=None, max_evals: int = MAX_FD_EVALS,
                   max_seconds: float | None = MAX_FD_SECONDS, scale: float = 1.0) -> tuple[dict, str]:
    """Central differences of sum(f) against the analytic gradient, for each input in `names`.

    The expression computes in float32: its rounding error grows with `scale`, the biggest sum of
    magnitudes among its tensors (gradcheck.magnitude), so the step and the tolerance grow with it
    (gradcheck.fd_step_and_tolerance) and an exact gradient is never judged wrong by rounding. An
    infinite analytic gradient (sqrt at 0) gets its own note: nothing finite can check it.

    At most `max_evals` evaluations of `expr` in all (two per element): when the inputs have more
    elements than that allows, a sample is checked, shared among the inputs; and checking stops
    once `max_seconds` have passed (after at least one element). The differences come from the one
    finite-difference helper, vizgrad.autograd.gradcheck.sampled_central_differences.
    -> ({name: GradientCheck}, a summary that is "" when every element was checked)."""
    checks = {n: GradientCheck(True, 0.0, 0, "no gradient (unused or detached)")
              for n in names if grads.get(n) is None}
    todo = [n for n in names if n not in checks]

    def f(vals: dict) -> float:
        out = evaluate(expr, {k: Variable(v, False) for k, v in vals.items()}, limits).output
        return float(np.sum(np.asarray(out.detach().numpy(), dtype=np.float64)))

    step, atol = fd_step_and_tolerance(scale, float(np.finfo(np.float32).eps))
    fd = sampled_central_differences(f, values, todo, max_evals, rel_step=1e-3, min_step=step,
                                     max_seconds=max_seconds, catch=(ExprError,))  # a perturbed value left the range
    for n in todo:
        idx, total = fd.indices[n], int(values[n].size)
        if n in fd.errors:
            checks[n] = GradientCheck(False, float("nan"), len(idx), fd.errors[n].message, total)
            continue
        if not len(idx):
            why = ("the check ran out of time" if fd.timed_out else
                   f"its budget of {max_evals} evaluations per request went to the other inputs")
            checks[n] = GradientCheck(True, 0.0, 0, f"not checked: {why}", total)
            continue
        num = fd.numeric[n].reshape(-1)[idx]
        ana = np.asarray(grads[n], dtype=np.float64).reshape(-1)[idx]
        with np.errstate(all="ignore"):  # inf - inf: NaN, judged not ok below, no warning
            err = np.abs(num - ana) / np.maximum(1.0, np.abs(ana))
        if np.any(np.isinf(ana)):
            checks[n] = GradientCheck(False, float("inf"), len(idx), INFINITE_NOTE, total, infinite=True)
            continue
        ok = bool(np.all(fd_agrees(num, ana, atol)))
        note = "" if ok else "finite differences disagree (a kink such as relu or abs at 0)"
        worst = float(np.max(err[~np.isnan(err)], initial=0.0))  # NaN: not finite, so not ok already
        checks[n] = GradientCheck(ok, worst, len(idx), note, total)
    checks = {n: checks[n] for n in names}
    done, total = sum(len(ix) for ix in fd.indices.values()), sum(int(values[n].size) for n in todo)
    summary = ""
    if done < total:
        summary = (f"Finite differences checked {done:,} of {total:,} elements (a sample: at most {max_evals} "
                   f"evaluations of the expression per request{', and it ran out of time' if fd.timed_out else ''}).")
    return checks, summary


def run(state: State, limits: ExprLimits | None = None, checks: bool = True, max_evals: int = MAX_FD_EVALS,
        max_seconds: float | None = MAX_FD_SECONDS) -> Outcome:
    """Evaluate the state's expression, backpropagate, and gather everything the page shows.
    `limits` bound the expression and its values; `max_evals` and `max_seconds` the gradcheck (the
    page passes the budgets of vizgrad/app/budgets.py)."""
    out = Outcome(state)
    values = {}
    for name, spec in state.vars.items():
        try:
            values[name] = parse_value(name, spec.text, limits)
        except ExprError as e:
            out.var_errors[name] = e.message
    if out.var_errors:
        try:  # still report expression errors (e.g. a typo) while a value is being edited
            parse(state.expr, state.vars, limits)
        except ExprError as e:
            out.error = e
        return out
    out.values = values
    variables = {n: Variable(values[n], state.vars[n].requires_grad) for n in state.vars}
    try:
        res = evaluate(state.expr, variables, limits)
        out.result = res
        out.warnings = list(res.warnings)
        if not res.output.requires_grad:
            out.warnings.append("nothing here requires grad, so there is no gradient to show")
            out.grads = {n: None for n in state.vars}
        else:
            out.grads = {n: (None if g is None else np.asarray(g.numpy())) for n, g in res.backward().items()}
        out.latex = to_latex(state.expr, variables, limits)
        out.code = to_torch_code(state.expr, variables, limits)
    except ExprError as e:
        out.error = e
        out.result = None
        return out
    if res.output.requires_grad:
        # one name per node on the page: the output is f (as in the LaTeX), intermediates t1, t2, ...
        out.graph = simplify_rules(name_nodes(vgraph.trace(res.output), "f"))
    if checks:
        names = [n for n in state.vars if state.vars[n].requires_grad]
        scale = magnitude(d.get("value") for _, d in out.graph.nodes(data=True)) if out.graph is not None else 1.0
        out.checks, out.check_summary = numeric_checks(state.expr, values, out.grads, names, limits, max_evals,
                                                       max_seconds, scale=scale)
    return out


def outcome_elements(out: Outcome) -> int:
    """About how many numbers an Outcome holds (values, grads, and each graph node's value and grad):
    the weight a session's Memo counts against its budget."""
    n = sum(np.size(v) for v in out.values.values()) + sum(np.size(g) for g in out.grads.values() if g is not None)
    if out.graph is not None:
        for _, d in out.graph.nodes(data=True):
            n += np.size(d.get("value")) + (0 if d.get("grad") is None else np.size(d["grad"]))
    return int(n)


class Memo:
    """What one session keeps of its own reruns, by key: the parsed names, the Outcome, the figures,
    the partial-derivative LaTeX. A rerun that asks again for something it computed before (a display
    toggle switched back, Back / Forward, a value typed again) reuses it instead of recomputing.

    One Memo per session (the page keeps it in st.session_state): nothing in it is seen by another
    visitor, so one visitor's input cannot change what another is shown. Bounded: at most
    `max_entries` entries and `max_elements` numbers in all (each entry's weight, given by the
    caller); the least recently used go first, and an entry heavier than the whole budget is
    computed but not kept. max_entries = 0 keeps nothing (every rerun recomputes)."""

    def __init__(self, max_entries: int = 8, max_elements: int = 1_000_000):
        self.max_entries, self.max_elements = max_entries, max_elements
        self._entries: OrderedDict = OrderedDict()   # key -> (value, weight)
        self.weight = 0
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key) -> bool:
        return key in self._entries

    def get(self, key: Hashable, make: Callable[[], object], weight: Callable[[object], int] = lambda v: 0):
        if key in self._entries:
            self.hits += 1
            self._entries.move_to_end(key)
            return self._entries[key][0]
        self.misses += 1
        value = make()
        w = int(weight(value))
        if self.max_entries > 0 and w <= self.max_elements:
            self._entries[key] = (value, w)
            self.weight += w
            while len(self._entries) > self.max_entries or self.weight > self.max_elements:
                _, (_, old) = self._entries.popitem(last=False)
                self.weight -= old
        return value


def results_table(out: Outcome) -> list[dict]:
    """Rows for the results table: the output, then each input with its value and .grad."""
    rows = [{"tensor": "f (output)", "value": format_value(out.output.detach().numpy(), sep=" "),
             "grad": "", "requires grad": "", "gradcheck": ""}]
    for n, v in out.values.items():
        g = out.grads.get(n)
        c = out.checks.get(n)
        rows.append({"tensor": n, "value": format_value(v.astype(np.float32), sep=" "),
                     "grad": "None" if g is None else format_value(g, sep=" "),
                     "requires grad": "yes" if out.state.vars[n].requires_grad else "no",
                     "gradcheck": _check_cell(c)})
    return rows


def _check_cell(c: GradientCheck | None) -> str:
    if c is None:
        return ""
    if c.skipped:
        return "not checked"
    if c.infinite:
        return "∞ slope: not checkable"
    verdict = "✓ matches" if c.ok else "✗ differs"
    return f"{verdict} ({c.checked:,} of {c.total:,})" if c.coverage else verdict


def differentiated_name(out: Outcome) -> str:
    """What the partial derivatives are of, in LaTeX: f for a scalar output; for a tensor output its
    sum, (Σf), which is what backward() of a non-scalar differentiates here (torch asks for a
    `gradient` argument there; the playground seeds it with ones)."""
    if out.graph is not None:
        return differentiated(out.graph)
    return "f" if out.output is None or out.output.numel() == 1 else r"\left(\textstyle\sum f\right)"


def partial_latex(out: Outcome) -> list[str]:
    r"""One LaTeX line per input: \partial f/\partial x, the derivative composed by the chain rule from
    the ops' local derivatives (summed over the paths when a node fans out) with the numbers put
    in, then its value: \frac{\partial f}{\partial x} = 2\,{x} = 2\cdot {2} = 4. For tensors (or
    rules that are matrix products) the value alone. A non-scalar output says it is differentiating
    its sum, ∂(Σf)/∂x."""
    lines = []
    R = differentiated_name(out)
    leaves = {}
    if out.graph is not None:
        leaves = {d["label"]: n for n, d in out.graph.nodes(data=True) if d["kind"] == "tensor" and d["is_leaf"]}
    for n, g in out.grads.items():
        if g is None:
            continue
        composed = chain_rule(out.graph, leaves[n]) if n in leaves else None
        middle = f"{composed[0]} = {composed[1]} = " if composed is not None else ""
        lines.append(rf"\frac{{\partial {R}}}{{\partial {latex_name(n)}}} = {middle}{_tex_value(g)}")
    if R != "f":
        lines.append(r"\text{the output is a tensor: backward differentiates its sum } \textstyle\sum f"
                     r"\text{ (a seed of ones)}")
    return lines


def _tex_value(a) -> str:
    a = np.asarray(a)
    if a.ndim == 0:
        return format_value(a)
    if a.ndim == 1 and a.size <= 8:
        return r"\begin{bmatrix}" + r" & ".join(format_value(v) for v in a) + r"\end{bmatrix}"
    if a.ndim == 2 and a.shape[0] <= 6 and a.shape[1] <= 6:
        rows = [" & ".join(format_value(v) for v in row) for row in a]
        return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"
    return rf"\text{{shape {list(a.shape)}, norm {float(np.linalg.norm(a)):.4g}}}"


def known_functions() -> list[str]:
    return sorted(FUNCTIONS) + sorted(CONSTANTS)


@dataclass
class NodeDetails:
    """What the inspector shows for a clicked node."""
    title: str
    rows: list                 # (field, text) pairs
    latex: list                # LaTeX lines (an op's local derivatives)


def node_details(g, node: str) -> NodeDetails | None:
    """The inspector's view of one graph node: a tensor's value and grad, or an op's rule."""
    if g is None or node not in g:
        return None
    d = g.nodes[node]
    if d["kind"] == "tensor":
        rows = [("shape", str(list(d["shape"]))), ("dtype", d["dtype"]),
                ("requires grad", "yes" if d["requires_grad"] else "no"),
                ("leaf", "yes" if d["is_leaf"] else "no (computed)"),
                ("value", format_value(d["value"], max_elems=16)),
                ("grad", "None" if d["grad"] is None else format_value(d["grad"], max_elems=16))]
        return NodeDetails(f"tensor {d['label']}", rows, [])
    if d["kind"] == "op":
        labels = [g.nodes[i]["label"] for i in d["inputs"]]
        out_label = g.nodes[d["output"]]["label"] if d.get("output") else "out"
        rows = [("op", d["op"]), ("inputs", ", ".join(labels)), ("output", out_label)]
        for u, _, e in g.in_edges(node, data=True):
            if e.get("grad") is not None:
                rows.append((f"gradient sent to {g.nodes[u]['label']}", format_value(e["grad"], max_elems=16)))
        latex = []
        for i, rule in enumerate(d["latex"]):
            if i < len(labels) and rule:
                num = local_number(g, node, i)  # a scalar op: the number too
                tail = "" if num is None or format_value(np.float64(num)) == rule else f" = {format_value(np.float64(num))}"
                latex.append(rf"\frac{{\partial\,{latex_name(out_label)}}}{{\partial\,{latex_name(labels[i])}}} = "
                             + substitute_operands(rule, labels) + tail)
        return NodeDetails(f"op {op_text(g, node)}  ({d['op']})", rows, latex)
    return NodeDetails(f"module {d.get('label', node)}", [(k, str(v)) for k, v in d.items()
                                                         if k in ("symbol", "members")], [])


# ---- what is selected on the graph, and the history of committed changes ------------------------
# A selection is a node id ("t3", "op0"), an edge (source, target), or None.

def clicked(event, g, current=None):
    """The selection after a click on the graph: the node or edge the click's point carries (its
    customdata), else the current selection (a click that deselects in plotly, e.g. on an already
    selected point, sends no point: keep what is shown rather than blank the inspector)."""
    target = target_at(event, g) if g is not None else None
    return target if target is not None else current


def selection_in(g, sel):
    """sel if it still names a node or edge of g, else None."""
    if g is None or sel is None:
        return None
    if isinstance(sel, (tuple, list)):
        return tuple(sel) if len(sel) == 2 and g.has_edge(sel[0], sel[1]) else None
    return sel if sel in g else None


def keeps_selection(old: State | None, new: State) -> bool:
    """Whether a selection survives a change of state: a new value keeps the same graph (the same
    ids mean the same nodes, with new numbers); a new expression or requires_grad flag is a new
    graph, whose ids would describe unrelated nodes."""
    if old is None:
        return False
    return old.expr == new.expr and {n: s.requires_grad for n, s in old.vars.items()} == \
        {n: s.requires_grad for n, s in new.vars.items()}


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def op_text(g, op: str) -> str:
    """An op as its forward formula in plain text, for titles: 't1 = x²', 'f = t1 + t2', 't3 = tanh(t2)'
    (the op symbol alone, **2, reads as markdown bold where titles are shown)."""
    d = g.nodes[op]
    args = [g.nodes[i]["label"] for i in d.get("inputs") or ()]
    sym = d["symbol"]
    if sym.startswith("**") and len(args) == 1:
        e = sym[2:]
        expr = args[0] + (e.translate(_SUPERSCRIPT) if re.fullmatch(r"-?\d+", e) else f"^{e}")
    elif sym == "**" and len(args) == 2:
        expr = f"{args[0]}^{args[1]}"
    elif sym in ("+", "−", "×", "÷", "@") and len(args) == 2:
        expr = f"{args[0]} {sym} {args[1]}"
    elif sym == "−" and len(args) == 1:
        expr = f"−{args[0]}"
    elif sym == "ᵀ" and len(args) == 1:
        expr = f"{args[0]}ᵀ"
    else:
        expr = f"{sym}({', '.join(args)})"
    out = d.get("output")
    return f"{g.nodes[out]['label']} = {expr}" if out in g else expr


def _upstream(g, op):
    out = g.nodes[op].get("output")
    return out, (g.nodes[out].get("grad") if out in g else None)


def _val(a, max_elems=16) -> str:
    if a is None:
        return "None"
    a = np.asarray(a)
    return format_value(a, max_elems=max_elems) if a.ndim == 0 else f"shape {list(a.shape)}: " + format_value(
        a, max_elems=max_elems, shape=False, sep=" ")


def edge_details(g, edge) -> NodeDetails | None:
    """The inspector's view of one edge: the gradient it carries back and where it comes from.
    An input edge (tensor -> op) carries upstream × local derivative, the op's share of the tensor's
    grad: the numbers for scalars, the shapes and (small) values for tensors, and the rule."""
    edge = selection_in(g, edge)
    if not isinstance(edge, tuple):
        return None
    u, v = edge
    e, du, dv = g.edges[u, v], g.nodes[u], g.nodes[v]
    R, Rp = differentiated(g), plain_name(g)     # f, or (Σf) for a tensor output
    if e.get("kind") != "input" or dv.get("kind") != "op":
        # op -> its output: the output's gradient arrives here and is the op's upstream
        src = du.get("symbol", du.get("label", u))
        rows = [("from", f"op {src} ({du.get('op', '')})"), ("to", dv.get("label", v)),
                ("gradient carried back", _val(e.get("grad")))]
        return NodeDetails(f"edge {src} → {dv.get('label', v)}", rows,
                           [rf"\text{{upstream of }} {_tex_label(src)}:\ \frac{{\partial {R}}}{{\partial\,{latex_name(dv.get('label', v))}}} = "
                            + _tex_value(e.get("grad"))] if e.get("grad") is not None else [])
    labels = [g.nodes[i]["label"] for i in dv["inputs"]]
    out, up = _upstream(g, v)
    out_label = g.nodes[out]["label"] if out in g else "out"
    rows = [("from", f"tensor {du['label']}"), ("to", f"op {dv['symbol']} ({dv['op']})"),
            (f"upstream ∂{Rp}/∂{out_label}", _val(up))]
    latex = []
    idx = list(e.get("indices") or (e.get("index", 0),))
    gs = list(e.get("grads") or (e.get("grad"),))
    x, o = latex_name(du["label"]), latex_name(out_label)
    for k, i in enumerate(idx):
        rule = dv["latex"][i] if i < len(dv["latex"]) else ""
        sent = gs[k] if k < len(gs) else None
        local_tex = substitute_operands(rule, labels) if rule else r"\,?"
        num = local_number(g, v, i)
        where = f" (operand {i})" if len(idx) > 1 else ""
        local = plain_rule(rule, labels)
        if num is not None and format_value(np.float64(num)) != local:
            local += f" = {format_value(np.float64(num))}"
        rows.append((f"local ∂{out_label}/∂{du['label']}{where}", local))
        rows.append((f"sent to {du['label']}{where}", _val(sent)))
        head = rf"\frac{{\partial {R}}}{{\partial {o}}}\cdot\frac{{\partial {o}}}{{\partial {x}}}"
        # short lines: the inspector is a narrow column
        if num is not None and up is not None and sent is not None:
            latex += [head, rf"= {format_value(up)} \cdot ({local_tex})",
                      rf"= {format_value(up)} \cdot {format_value(np.float64(num))} = {format_value(sent)}"]
        else:  # tensors: the rule in LaTeX; the shapes and values are in the rows above
            vjp = "g" in re.findall(r"(?<![\\A-Za-z])g(?![A-Za-z])", rule)  # the rule is already g times the Jacobian
            latex += [head + (rf" = {local_tex}" if vjp else rf" = g \odot ({local_tex})"),
                      rf"g = \frac{{\partial {R}}}{{\partial {o}}}\ \text{{(upstream)}}"]
            if not vjp and up is not None and sent is not None and np.shape(up) != np.shape(sent):
                su, ss = list(np.shape(up)), list(np.shape(sent))
                rows.append(("note", f"broadcast: g ⊙ local has shape {su}, summed back to {du['label']}'s "
                                     f"shape {ss}" if np.size(up) > np.size(sent) else
                                     f"g (shape {su}) is spread over {du['label']}'s shape {ss}"))
    if len(idx) > 1:
        rows.append(("total along this edge", _val(e.get("grad"))))
    return NodeDetails(f"edge {du['label']} → {op_text(g, v)}", rows, latex)


def _tex_label(s: str) -> str:
    return r"\text{" + re.sub(r"[\\{}$^_&%#~]", "", s) + "}"


def selection_details(g, sel) -> NodeDetails | None:
    """node_details or edge_details, whichever sel is."""
    sel = selection_in(g, sel)
    if sel is None:
        return None
    return edge_details(g, sel) if isinstance(sel, tuple) else node_details(g, sel)


@dataclass
class History:
    """The user's committed changes (expression and variable edits) as URL states, for Back /
    Forward: commit() after each change, back()/forward() move along and return the state to load."""
    states: list = field(default_factory=list)   # State.to_query() dicts
    at: int = -1
    limit: int = 100

    def commit(self, state: State) -> None:
        q = state.to_query()
        if 0 <= self.at < len(self.states) and self.states[self.at] == q:
            return  # a rerun without a change (a toggle, a click, Back landing here)
        del self.states[self.at + 1:]   # a new change after going back drops the old future
        self.states.append(q)
        if len(self.states) > self.limit:
            del self.states[0]
        self.at = len(self.states) - 1

    @property
    def can_back(self) -> bool:
        return self.at > 0

    @property
    def can_forward(self) -> bool:
        return self.at < len(self.states) - 1

    def back(self) -> State | None:
        if not self.can_back:
            return None
        self.at -= 1
        return State.from_query(self.states[self.at])

    def forward(self) -> State | None:
        if not self.can_forward:
            return None
        self.at += 1
        return State.from_query(self.states[self.at])
