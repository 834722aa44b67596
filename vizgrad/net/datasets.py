"""The Network Playground's toy datasets: TensorFlow Playground's 2-D sets and a few more.

    ds = make_dataset("spiral", n_samples=500, noise=0.1, train_ratio=0.5, seed=0)
    ds.x_train.shape, ds.y_train[:3], ds.kind, ds.n_classes    # (250, 2), [1. 0. 1.], 'classification', 2

The 2-D sets follow TensorFlow Playground's generators (points in about [-6, 6], its noise
parameter a fraction in [0, 0.5], its -1/+1 labels mapped to 0/1). Binary labels are float32
0/1, multi-class labels int64 0..k-1, regression targets float32; x arrays are float32 (n, 2),
or (n, 1) for the 1-D regression set `sine`. Numpy only. A dataset is a generator function and
its row in DATASETS (what the config, the page and the trainer ask of it). A user's own data
comes through vizgrad.net.upload; the input features computed from the points are in
vizgrad.net.features.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["Dataset", "DataError", "DatasetSpec", "DATASETS", "find_dataset", "make_dataset", "split",
           "dataset_names"]



class DataError(ValueError):
    """Bad dataset parameters or an uploaded file that cannot be used; the message says what and where."""


@dataclass
class Dataset:
    name: str
    kind: str                 # "classification" | "regression"
    n_classes: int            # 2 for binary, k for multi-class, 0 for regression
    x_train: np.ndarray       # float32 (n, d), d = 2 (or 1 for 1-D regression)
    y_train: np.ndarray       # float32 0/1 (binary), int64 (multi-class), float32 (regression); shape (n,)
    x_test: np.ndarray
    y_test: np.ndarray
    noise: float = 0.0
    seed: int = 0
    meta: dict = field(default_factory=dict)

    @property
    def input_dim(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(len(self.x_train))

    @property
    def n_test(self) -> int:
        return int(len(self.x_test))

    @property
    def x(self) -> np.ndarray:
        return np.concatenate([self.x_train, self.x_test])

    @property
    def y(self) -> np.ndarray:
        return np.concatenate([self.y_train, self.y_test])

    @property
    def is_binary(self) -> bool:
        return self.kind == "classification" and self.n_classes == 2


# ============================================================================================
# Generators: each takes (n, noise, rng, **kw) and returns x (n, d) float64, y (n,)
# ============================================================================================
def _uniform(rng, lo, hi, n):
    return rng.uniform(lo, hi, n)


def _circles(n, noise, rng):
    """Playground 'circle': class 1 inside radius 2.5, class 0 in the ring 3.5..5; the label is taken
    at the noise-displaced point, so noise flips labels near the boundary."""
    radius = 5.0
    n1 = n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, n1), rng.uniform(radius * 0.7, radius, n - n1)])
    a = rng.uniform(0, 2 * math.pi, n)
    x = np.stack([r * np.sin(a), r * np.cos(a)], 1)
    nz = rng.uniform(-radius, radius, (n, 2)) * noise
    y = (np.hypot(*(x + nz).T) < radius * 0.5).astype(np.float64)
    return x, y


def _xor(n, noise, rng):
    """Playground 'xor': uniform in [-5, 5]² pushed 0.3 away from the axes; class 1 where x·y >= 0."""
    x = rng.uniform(-5, 5, (n, 2))
    x += np.where(x > 0, 0.3, -0.3)
    nz = rng.uniform(-5, 5, (n, 2)) * noise
    p = x + nz
    y = (p[:, 0] * p[:, 1] >= 0).astype(np.float64)
    return x, y


def _gauss(n, noise, rng):
    """Playground 'gauss': two Gaussians at (2, 2) (class 1) and (-2, -2) (class 0); noise widens them."""
    var = 0.5 + (4 - 0.5) * (noise / 0.5)          # d3 linear scale [0, .5] -> [0.5, 4] (variance)
    sd = math.sqrt(var)
    n1 = n // 2
    x = np.concatenate([rng.normal(2, sd, (n1, 2)), rng.normal(-2, sd, (n - n1, 2))])
    y = np.concatenate([np.ones(n1), np.zeros(n - n1)])
    return x, y


def _blobs(n, noise, rng, n_classes=3):
    """k Gaussian blobs on a circle of radius 3.5 (class i at angle 2πi/k); noise widens them."""
    sd = 0.5 + 3.0 * noise
    y = np.arange(n) % n_classes
    ang = 2 * math.pi * y / n_classes + math.pi / 4
    centres = 3.5 * np.stack([np.cos(ang), np.sin(ang)], 1)
    return centres + rng.normal(0, sd, (n, 2)), y


def _spiral(n, noise, rng, n_classes=2):
    """Playground 'spiral' (two arms, 1.75 turns, radius 5); with k classes, k arms 2π/k apart.
    Noise adds U(-1, 1)·noise to each coordinate, as the Playground does."""
    xs, ys = [], []
    sizes = [n // n_classes + (1 if c < n % n_classes else 0) for c in range(n_classes)]
    for c, m in enumerate(sizes):
        i = np.arange(m)
        r = i / m * 5
        t = 1.75 * i / m * 2 * math.pi + 2 * math.pi * c / n_classes
        x = np.stack([r * np.sin(t), r * np.cos(t)], 1) + rng.uniform(-1, 1, (m, 2)) * noise
        xs.append(x)
        # Playground: the first arm (deltaT = 0) is the positive class
        ys.append(np.full(m, (1 - c) if n_classes == 2 else c))
    return np.concatenate(xs), np.concatenate(ys)


def _moons(n, noise, rng):
    """Two interleaving half circles (sklearn's make_moons), scaled by 2.5 and centred; noise is
    Gaussian with sd 2·noise (in the scaled units)."""
    n1 = n // 2
    t1 = rng.uniform(0, math.pi, n1)
    t2 = rng.uniform(0, math.pi, n - n1)
    upper = np.stack([np.cos(t1), np.sin(t1)], 1)
    lower = np.stack([1 - np.cos(t2), 0.5 - np.sin(t2)], 1)
    x = (np.concatenate([upper, lower]) - [0.5, 0.25]) * 2.5 + rng.normal(0, 2 * noise, (n, 2))
    y = np.concatenate([np.zeros(n1), np.ones(n - n1)])
    return x, y


def _plane(n, noise, rng):
    """Playground 'reg-plane': target (x1 + x2) / 10 in [-1, 1], read at a noise-displaced point."""
    x = rng.uniform(-6, 6, (n, 2))
    p = x + rng.uniform(-6, 6, (n, 2)) * noise
    return x, (p[:, 0] + p[:, 1]) / 10.0


_BUMPS = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]


def _bump(n, noise, rng):
    """Playground 'reg-gauss': six signed bumps; target = the bump value of largest magnitude,
    each 1 - dist/2 clamped to [0, 1]."""
    x = rng.uniform(-6, 6, (n, 2))
    p = x + rng.uniform(-6, 6, (n, 2)) * noise
    best = np.zeros(n)
    for cx, cy, s in _BUMPS:
        v = s * np.clip(1 - np.hypot(p[:, 0] - cx, p[:, 1] - cy) / 2, 0, 1)
        best = np.where(np.abs(v) > np.abs(best), v, best)
    return x, best


def _sine(n, noise, rng):
    """1-D regression: y = sin(x) on x in [-6, 6], plus Gaussian noise of sd 2·noise."""
    x = rng.uniform(-6, 6, (n, 1))
    return x, np.sin(x[:, 0]) + rng.normal(0, 2 * noise, n)


@dataclass(frozen=True)
class DatasetSpec:
    """One built-in dataset: its generator and what the config, the page and the trainer ask of it."""
    name: str
    kind: str                    # "classification" | "regression"
    fn: Callable                 # (n, noise, rng[, n_classes]) -> x (n, input_dim), y (n,)
    description: str             # shown on the page
    input_dim: int = 2
    multiclass: bool = False     # takes n_classes (2..10); else 2 classes (or none for regression)
    aliases: tuple = ()          # other names a config or a link may use


DATASETS: dict[str, DatasetSpec] = {s.name: s for s in (
    DatasetSpec("circles", "classification", _circles, "a disc inside a ring (Playground 'circle')",
                aliases=("circle",)),
    DatasetSpec("xor", "classification", _xor, "the four quadrants (Playground 'xor')"),
    DatasetSpec("gauss", "classification", _gauss, "two Gaussian clusters (Playground 'gauss')",
                aliases=("gaussian",)),
    DatasetSpec("spiral", "classification", _spiral, "interleaved spiral arms", multiclass=True),
    DatasetSpec("moons", "classification", _moons, "two interleaving half circles", aliases=("moon",)),
    DatasetSpec("blobs", "classification", _blobs, "k Gaussian blobs", multiclass=True),
    DatasetSpec("plane", "regression", _plane, "a tilted plane (Playground 'reg-plane')",
                aliases=("reg-plane", "reg_plane")),
    DatasetSpec("bump", "regression", _bump, "six Gaussian-like bumps (Playground 'reg-gauss')",
                aliases=("reg-gauss", "reg_gauss")),
    DatasetSpec("sine", "regression", _sine, "y = sin(x), 1-D", input_dim=1, aliases=("sin",)),
)}
_BY_ALIAS = {a: s for s in DATASETS.values() for a in s.aliases}


def find_dataset(name: str) -> DatasetSpec | None:
    """The built-in dataset of this name or alias, or None."""
    return DATASETS.get(name) or _BY_ALIAS.get(name)


def multiclass_names() -> str:
    """'spiral and blobs': the datasets that take n_classes, for messages."""
    names = [s.name for s in DATASETS.values() if s.multiclass]
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]


def dataset_names(kind: str | None = None) -> list[str]:
    return [k for k, s in DATASETS.items() if kind is None or s.kind == kind]


def check_number(name, v, lo, hi, integer=False):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise DataError(f"{name} must be a number, got {v!r}")
    if integer and int(v) != v:
        raise DataError(f"{name} must be an integer, got {v!r}")
    if not (lo <= v <= hi) or (isinstance(v, float) and not math.isfinite(v)):
        raise DataError(f"{name} must be between {lo} and {hi}, got {v!r}")


def split(x, y, train_ratio: float, rng: np.random.Generator):
    """Shuffle and cut at floor(n·ratio), as the Playground does; both parts keep at least one point."""
    n = len(x)
    perm = rng.permutation(n)
    k = min(max(int(math.floor(n * train_ratio)), 1), n - 1)
    return x[perm[:k]], y[perm[:k]], x[perm[k:]], y[perm[k:]]


def finish_dataset(name, kind, n_classes, x, y, noise, seed, train_ratio, rng, meta=None) -> Dataset:
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64 if n_classes > 2 else np.float32)
    xt, yt, xv, yv = split(x, y, train_ratio, rng)
    return Dataset(name, kind, n_classes, xt, yt, xv, yv, float(noise), int(seed), dict(meta or {}))


def make_dataset(name: str, n_samples: int = 500, noise: float = 0.0, train_ratio: float = 0.5, seed: int = 0,
                 n_classes: int = 2, max_samples: int | None = None) -> Dataset:
    """Generate a named set (see DATASETS) and split it into train and test parts.

    noise: Playground's fraction, 0..0.5 (the UI's 0..50). n_classes: for the multiclass sets
    (spiral and blobs), 2..10. Deterministic for a given seed."""
    spec = find_dataset(name)
    if spec is None:
        raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    key = spec.name
    check_number("n_samples", n_samples, 4, max_samples or 1_000_000, integer=True)
    check_number("noise", noise, 0.0, 0.5)
    check_number("train_ratio", train_ratio, 0.05, 0.95)
    check_number("seed", seed, 0, 2**32 - 1, integer=True)
    rng = np.random.default_rng(int(seed))
    if spec.multiclass:
        check_number("n_classes", n_classes, 2, 10, integer=True)
        x, y = spec.fn(int(n_samples), float(noise), rng, n_classes=int(n_classes))
        k = int(n_classes)
    else:
        if n_classes not in (2, None) and spec.kind == "classification":
            raise DataError(f"dataset {key!r} has 2 classes; n_classes={n_classes!r} is only for "
                            f"{multiclass_names()}")
        x, y = spec.fn(int(n_samples), float(noise), rng)
        k = 2 if spec.kind == "classification" else 0
    return finish_dataset(key, spec.kind, k, x, y, noise, seed, train_ratio, rng)
