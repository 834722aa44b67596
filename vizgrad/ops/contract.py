"""torch.einsum, composed from primitives (no node of its own, as in torch, whose graph shows the
views, permutes, sums and bmm it lowers to).

    einsum("ij,jk->ik", a, b)    # a @ b            einsum("bij,bjk->bik", x, y)  # bmm
    einsum("ii->i", a)           # the diagonal     einsum("i,j->ij", u, v)       # outer product

Plan, per operand then left to right over pairs (torch's plan too):
  1. a label repeated in one operand takes that operand's diagonal (x[ar, ar] on those axes);
  2. a label no other operand and not the output uses is summed out at once;
  3. two operands combine as one batched matmul: batch labels (in both, still needed later),
     contracted labels (in both, not needed later) and each side's own labels; with nothing to
     contract it is a broadcast multiply;
  4. the result is permuted into the output's label order.
"""
from __future__ import annotations

import math

import numpy as np

from vizgrad.ops.arith import mul
from vizgrad.ops.base import public
from vizgrad.ops.linalg import matmul
from vizgrad.ops.reduce import sum
from vizgrad.ops.shape import permute, reshape
from vizgrad.tensor import Tensor

_ELLIPSIS = [chr(0x2460 + i) for i in range(20)]  # private labels for the dims "..." stands for


def _parse(equation: str, operands) -> tuple[list, list]:
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        more = "more" if len(operands) > len(terms) else "fewer"
        raise RuntimeError(f"einsum(): {more} operands were provided than specified in the equation")
    subs, ell_n = [], 0
    for k, (term, t) in enumerate(zip(terms, operands)):
        if "..." in term:
            head, _, tail = term.partition("...")
            n = t.dim() - len(head) - len(tail)
            if n < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(head) + len(tail)}) is "
                                   f"more than the number of dimensions ({t.dim()}) for operand {k}")
            ell_n = max(ell_n, n)
            labels = list(head) + (_ELLIPSIS[len(_ELLIPSIS) - n:] if n else []) + list(tail)
        else:
            labels = list(term)
            if len(labels) != t.dim():
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(labels)}) does not "
                                   f"match the number of dimensions ({t.dim()}) for operand {k} and no ellipsis "
                                   "was given")
        for c in labels:
            if c not in _ELLIPSIS and not c.isalpha():
                raise RuntimeError(f"einsum(): invalid subscript given at index {eq.index(c)} in the equation string, "
                                   "subscripts must be in [a-zA-Z]")
        subs.append(labels)
    ell = _ELLIPSIS[len(_ELLIPSIS) - ell_n:] if ell_n else []
    if arrow:
        head, dots, tail = rhs.partition("...")
        out = list(head) + (ell if dots else []) + list(tail)
        seen = {c for s in subs for c in s}
        for c in out:
            if c not in seen:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   "operand")
    else:  # implicit output: the ellipsis dims, then every label used once, alphabetically
        counts = {}
        for s in subs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + sorted(c for c, n in counts.items() if n == 1 and c not in _ELLIPSIS)
    return subs, out


def _diagonal(t: Tensor, labels: list) -> tuple[Tensor, list]:
    """Take the diagonal over every label repeated in `labels` (step 1)."""
    while len(set(labels)) < len(labels):
        c = next(c for c in labels if labels.count(c) > 1)
        pos = [i for i, x in enumerate(labels) if x == c]
        rest = [i for i in range(len(labels)) if i not in pos]
        t = permute(t, *(pos + rest))
        n = t.shape[0]
        ar = np.arange(n)
        t = t[(ar,) * len(pos)]
        labels = [c] + [labels[i] for i in rest]
    return t, labels


def _sum_out(t: Tensor, labels: list, keep: set) -> tuple[Tensor, list]:
    drop = [i for i, c in enumerate(labels) if c not in keep]
    if not drop:
        return t, labels
    return sum(t, tuple(drop)), [c for c in labels if c in keep]


def _aligned(t: Tensor, labels: list, order: list) -> Tensor:
    """t with its labels permuted into `order` (a sub-sequence) and size-1 dims for the others."""
    perm = [labels.index(c) for c in order if c in labels]
    if perm != list(range(len(perm))):
        t = permute(t, *perm)
    shape, it = [], iter(t.shape)
    for c in order:
        shape.append(next(it) if c in labels else 1)
    return reshape(t, tuple(shape)) if tuple(shape) != tuple(t.shape) else t


def _pair(a: Tensor, la: list, b: Tensor, lb: list, later: set) -> tuple[Tensor, list]:
    """Combine two operands (step 3)."""
    batch = [c for c in la if c in lb and c in later]
    contract = [c for c in la if c in lb and c not in later]
    a_own = [c for c in la if c not in lb]
    b_own = [c for c in lb if c not in la]
    if not contract:  # nothing summed: a broadcast product over batch + a's + b's labels
        order = batch + a_own + b_own
        return mul(_aligned(a, la, order), _aligned(b, lb, order)), order
    size = {}
    for t, ls in ((a, la), (b, lb)):
        for c, n in zip(ls, t.shape):
            size[c] = max(size.get(c, 1), n)
    bshape_a = [a.shape[la.index(c)] for c in batch]
    bshape_b = [b.shape[lb.index(c)] for c in batch]
    pa = [la.index(c) for c in batch + a_own + contract]
    pb = [lb.index(c) for c in batch + contract + b_own]
    a2 = permute(a, *pa) if pa != list(range(len(pa))) else a
    b2 = permute(b, *pb) if pb != list(range(len(pb))) else b
    m = math.prod(size[c] for c in a_own)
    k = math.prod(size[c] for c in contract)
    n = math.prod(size[c] for c in b_own)
    a2 = reshape(a2, tuple(bshape_a) + (m, k))
    b2 = reshape(b2, tuple(bshape_b) + (k, n))
    out = matmul(a2, b2)
    order = batch + a_own + b_own
    return reshape(out, tuple(out.shape[:len(batch)]) + tuple(size[c] for c in a_own + b_own)), order


@public()
def einsum(equation: str, *operands) -> Tensor:
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    subs, out = _parse(equation, operands)
    ts = []
    for t, labels in zip(operands, subs):
        ts.append(_diagonal(t, list(labels)))
    for i, (t, labels) in enumerate(ts):  # step 2: labels used by this operand only
        others = set(out).union(*[set(l) for j, (_, l) in enumerate(ts) if j != i])
        ts[i] = _sum_out(t, labels, others)
    cur, labels = ts[0]
    for i in range(1, len(ts)):
        later = set(out).union(*[set(l) for _, l in ts[i + 1:]])
        nxt, lb = ts[i]
        cur, labels = _sum_out(cur, labels, later | set(lb))
        cur, labels = _pair(cur, labels, nxt, lb, later)
    cur, labels = _sum_out(cur, labels, set(out))
    perm = [labels.index(c) for c in out]
    return permute(cur, *perm) if perm != list(range(len(perm))) else cur
