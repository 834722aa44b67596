"""The network's input features: columns computed from a point (x1, x2), TensorFlow Playground's seven.

    X = featurize(ds.x_train, ["x1", "x2", "x1x2", "sinx1"])     # (n, 4) float32
    check_features(["x2"], input_dim=1)                          # DataError: 1-D data has no x2
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from vizgrad.net.datasets import DataError

__all__ = ["FEATURES", "FEATURE_LABELS", "FEATURE_TORCH", "check_features", "featurize"]


FEATURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": lambda x: x[:, 0],
    "x2": lambda x: x[:, 1],
    "x1sq": lambda x: x[:, 0] * x[:, 0],
    "x2sq": lambda x: x[:, 1] * x[:, 1],
    "x1x2": lambda x: x[:, 0] * x[:, 1],
    "sinx1": lambda x: np.sin(x[:, 0]),
    "sinx2": lambda x: np.sin(x[:, 1]),
}
FEATURE_LABELS = {"x1": "x₁", "x2": "x₂", "x1sq": "x₁²", "x2sq": "x₂²", "x1x2": "x₁x₂", "sinx1": "sin(x₁)",
                  "sinx2": "sin(x₂)"}
# the PyTorch expression of each feature over columns x1, x2 (used by the code export)
FEATURE_TORCH = {"x1": "x1", "x2": "x2", "x1sq": "x1 * x1", "x2sq": "x2 * x2", "x1x2": "x1 * x2",
                 "sinx1": "torch.sin(x1)", "sinx2": "torch.sin(x2)"}
_USES_X2 = {"x2", "x2sq", "x1x2", "sinx2"}


def check_features(names, input_dim: int = 2) -> tuple[str, ...]:
    names = tuple(names)
    if not names:
        raise DataError("choose at least one input feature")
    for n in names:
        if n not in FEATURES:
            raise DataError(f"unknown feature {n!r}; choose from {', '.join(FEATURES)}")
        if input_dim < 2 and n in _USES_X2:
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
        out[:, j] = FEATURES[n](x)
    return out
