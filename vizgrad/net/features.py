"""The network's input features: columns computed from a point (x1, x2), TensorFlow Playground's seven.

    X = featurize(ds.x_train, ["x1", "x2", "x1x2", "sinx1"])     # (n, 4) float32
    check_features(["x2"], input_dim=1)                          # DataError: 1-D data has no x2
    FEATURES["x1x2"].label, FEATURES["x1x2"].torch               # 'x₁x₂', 'x1 * x2'

One row of FEATURES per feature carries all the page, the diagram and the export need of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from vizgrad.net.datasets import DataError

__all__ = ["Feature", "FEATURES", "check_features", "featurize"]


@dataclass(frozen=True)
class Feature:
    """One input feature: a column computed from the points, and how the page and the export show it."""
    name: str
    label: str                   # shown on the page and beside the diagram's input nodes
    fn: Callable[[np.ndarray], np.ndarray]   # points (n, 2) -> column (n,)
    torch: str                   # the same column in the exported PyTorch code, over columns x1, x2
    needs_x2: bool = False       # reads the second coordinate (not offered for 1-D data)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.fn(x)


FEATURES: dict[str, Feature] = {f.name: f for f in (
    Feature("x1", "x₁", lambda x: x[:, 0], "x1"),
    Feature("x2", "x₂", lambda x: x[:, 1], "x2", needs_x2=True),
    Feature("x1sq", "x₁²", lambda x: x[:, 0] * x[:, 0], "x1 * x1"),
    Feature("x2sq", "x₂²", lambda x: x[:, 1] * x[:, 1], "x2 * x2", needs_x2=True),
    Feature("x1x2", "x₁x₂", lambda x: x[:, 0] * x[:, 1], "x1 * x2", needs_x2=True),
    Feature("sinx1", "sin(x₁)", lambda x: np.sin(x[:, 0]), "torch.sin(x1)"),
    Feature("sinx2", "sin(x₂)", lambda x: np.sin(x[:, 1]), "torch.sin(x2)", needs_x2=True),
)}


def check_features(names, input_dim: int = 2) -> tuple[str, ...]:
    names = tuple(names)
    if not names:
        raise DataError("choose at least one input feature")
    for n in names:
        if n not in FEATURES:
            raise DataError(f"unknown feature {n!r}; choose from {', '.join(FEATURES)}")
        if input_dim < 2 and FEATURES[n].needs_x2:
            raise DataError(f"feature {n!r} needs a second input column x2, but the data is 1-D")
    if len(set(names)) != len(names):
        raise DataError(f"feature listed twice in {list(names)}")
    return names


def featurize(x: np.ndarray, names) -> np.ndarray:
    """(n, 2) points (or (n, 1) for 1-D data) -> (n, len(names)) float32 columns, in the order given."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] not in (1, 2):
        raise DataError(f"expected points of shape (n, 2) or (n, 1), got {x.shape}")
    names = check_features(names, x.shape[1])
    out = np.empty((x.shape[0], len(names)), dtype=np.float32)
    for j, n in enumerate(names):
        out[:, j] = FEATURES[n].fn(x)
    return out
