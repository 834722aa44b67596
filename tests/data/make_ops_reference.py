"""Regenerate ``ops_reference.json``: torch's forward, gradients, grad_fn name and repr for every op case.

The cases (``CASES`` in ``tests/_helpers.py``) are expressions written once and evaluated with
``torch`` bound to real torch here and to vizgrad in ``tests/test_engine_ops.py``, which replays
this file so op parity is still checked on machines without torch. Run from the repository root
with the reference torch (2.13.0) installed, after adding or changing a case:

    .venv/bin/python tests/data/make_ops_reference.py

Each entry holds the inputs, the upstream gradient passed to ``backward``, torch's output
(values, dtype, shape, repr, ``grad_fn.name()``), each input's ``.grad`` and whether a second
backward through the graph raises. Arrays are nested lists of float32 values.
"""

import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))  # the repository root, for tests._helpers
from tests._helpers import CASES, case_inputs, evaluate, run_case, upstream  # noqa: E402

OUT = pathlib.Path(__file__).with_name("ops_reference.json")


def _list(a):
    """Nested lists; float32 values in their shortest round-trip spelling (keeps the file small)."""
    if a is None:
        return None
    a = np.asarray(a)
    if a.dtype == np.float32:
        short = np.array([float(str(v)) for v in a.ravel()], dtype=object).reshape(a.shape)
        return short.tolist() if a.ndim else short[()]
    return a.tolist()


def second_backward_raises(case, arrays) -> bool:
    inputs, out = evaluate(torch, case, arrays)
    g = torch.tensor(upstream(tuple(out.shape)))
    out.backward(g)
    try:
        out.backward(g)
    except RuntimeError:
        return True
    return False


def main():
    torch.set_num_threads(1)
    entries = {}
    for case in CASES:
        arrays = case_inputs(case)
        res = run_case(torch, case, arrays)
        entry = {
            "expr": case.expr,
            "inputs": [_list(a) for a in arrays],
            "shapes": [list(a.shape) for a in arrays],
            "out": _list(res["out"]),
            "dtype": res["dtype"],
            "shape": res["shape"],
            "repr": res["repr"],
            "grad_fn": res["grad_fn"],
            "grads": None if res["grads"] is None else [_list(g) for g in res["grads"]],
        }
        if res["grads"] is not None:
            entry["upstream"] = _list(upstream(tuple(res["shape"]), dtype=res["out"].dtype))
            entry["second_backward_raises"] = second_backward_raises(case, arrays)
        entries[case.name] = entry
    doc = {"torch_version": torch.__version__, "cases": entries}
    lines = [f"{json.dumps(name)}: {json.dumps(entry)}" for name, entry in entries.items()]
    OUT.write_text('{"torch_version": %s, "cases": {\n%s\n}}\n' % (json.dumps(doc["torch_version"]), ",\n".join(lines)))
    print(f"wrote {len(entries)} cases to {OUT}")


if __name__ == "__main__":
    main()
