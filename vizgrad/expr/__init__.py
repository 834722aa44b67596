"""A small, safe expression language over vizgrad tensors, for formulas typed into a web page.

    from vizgrad.expr import evaluate, to_latex, to_torch_code
    r = evaluate("tanh(w*x + b)", {"w": 0.5, "x": 2.0, "b": {"value": -1.0, "requires_grad": False}})
    r.output                  # tensor(0., grad_fn=<TanhBackward0>)
    r.backward()              # {'w': tensor(2.), 'x': tensor(0.5000), 'b': None}
    to_latex("sum((W @ v - t)**2)")          # \\sum \\left(W\\,v - t\\right)^{2}
    print(to_torch_code("x**2 + y**3", {"x": 2.0, "y": 3.0}))

The language: numbers (`2`, `1e-3`), the constants `pi` and `e`, declared variables, list
literals (`[[1, 2], [3, 4]]`; a list holding tensors stacks them), `+ - * / ** @`, unary `-`/`+`,
parentheses, integer indexing and slicing (`x[0]`, `W[:, 1]`) and the functions in `FUNCTIONS`
(with keyword arguments such as `sum(x, dim=0)` or `softmax(v, dim=0)`). Every tensor is float32,
as torch's default.

Safety: user text is never given to eval/exec/compile. It is checked character by character,
its bracket depth is measured, then `ast.parse(..., mode="eval")` builds a syntax tree that must
consist of whitelisted node types only; names must be declared variables, constants or
whitelisted functions. `ExprLimits` bounds the source length, node count, nesting depth, literal
magnitude, exponents, tensor sizes (of inputs, literals and every intermediate result, checked
*before* an op runs wherever the result could grow) and the total amount of arithmetic, so that
any input finishes (or fails) well within a second. Every failure is an `ExprError` (a ValueError)
carrying a plain message and the 1-based column it points at.

The rooms, in the order a formula passes through them:
    errors.py      ExprError, ExprLimits and the wording of messages
    nodes.py       the parsed tree, the constants and constant folding
    functions.py   the function table
    parse.py       text -> tree (the safety checks)
    evaluate.py    tree -> tensors (size and work checked before each op), Result
    latex.py       tree -> LaTeX
    torch_code.py  tree -> runnable PyTorch code
`parse` and `evaluate` name both a module and its function; the package exports the functions
(`vizgrad.expr.parse` is the function; `from vizgrad.expr.parse import _Converter` still reads the module).
"""
from vizgrad.expr import errors, nodes, functions  # noqa: F401  (the rooms, in reading order)
from vizgrad.expr import latex, torch_code  # noqa: F401
from vizgrad.expr.errors import DEFAULT_LIMITS, ExprError, ExprLimits
from vizgrad.expr.evaluate import Result, Variable, _Evaluator
from vizgrad.expr.functions import _REQ, FUNCTIONS, Func
from vizgrad.expr.latex import _Latex, to_latex
from vizgrad.expr.nodes import CONSTANTS, BinOp, Call, Expression, Subscript, ListLit, Name, Node, Num, Unary
from vizgrad.expr.parse import _Converter
from vizgrad.expr.torch_code import _Code, to_torch_code
# last: these names are also the modules' names, and the functions are what users import
from vizgrad.expr.evaluate import evaluate
from vizgrad.expr.parse import parse

__all__ = ["ExprError", "ExprLimits", "Variable", "Result", "Expression", "FUNCTIONS", "CONSTANTS",
           "evaluate", "parse", "to_latex", "to_torch_code"]
