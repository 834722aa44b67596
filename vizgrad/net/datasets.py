"""Toy datasets for the training playground, a CSV upload parser, and input features.

    ds = make_dataset("spiral", n_samples=500, noise=0.1, train_ratio=0.5, seed=0)
    ds.x_train.shape, ds.y_train[:3], ds.kind, ds.n_classes    # (250, 2), [1. 0. 1.], 'classification', 2
    X = featurize(ds.x_train, ["x1", "x2", "x1x2", "sinx1"])     # (250, 4) float32
    ds = load_csv(uploaded_bytes, kind="classification")       # DataError names the line and column

The 2-D sets follow TensorFlow Playground's generators (points in about [-6, 6], its noise
parameter a fraction in [0, 0.5], its -1/+1 labels mapped to 0/1). Binary labels are float32
0/1, multi-class labels int64 0..k-1, regression targets float32; x arrays are float32 (n, 2),
or (n, 1) for the 1-D regression set `sine`. Numpy only: no UI code here.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["Dataset", "DataError", "DATASETS", "FEATURES", "FEATURE_LABELS", "make_dataset", "split",
           "load_csv", "featurize", "dataset_names"]


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
class _Spec:
    kind: str
    fn: Callable
    input_dim: int = 2
    multiclass: bool = False     # takes n_classes
    description: str = ""


DATASETS: dict[str, _Spec] = {
    "circles": _Spec("classification", _circles, description="a disc inside a ring (Playground 'circle')"),
    "xor": _Spec("classification", _xor, description="the four quadrants (Playground 'xor')"),
    "gauss": _Spec("classification", _gauss, description="two Gaussian clusters (Playground 'gauss')"),
    "spiral": _Spec("classification", _spiral, multiclass=True, description="interleaved spiral arms"),
    "moons": _Spec("classification", _moons, description="two interleaving half circles"),
    "blobs": _Spec("classification", _blobs, multiclass=True, description="k Gaussian blobs"),
    "plane": _Spec("regression", _plane, description="a tilted plane (Playground 'reg-plane')"),
    "bump": _Spec("regression", _bump, description="six Gaussian-like bumps (Playground 'reg-gauss')"),
    "sine": _Spec("regression", _sine, input_dim=1, description="y = sin(x), 1-D"),
}
_ALIASES = {"circle": "circles", "gaussian": "gauss", "reg-plane": "plane", "reg_plane": "plane",
            "reg-gauss": "bump", "reg_gauss": "bump", "moon": "moons", "sin": "sine"}


def dataset_names(kind: str | None = None) -> list[str]:
    return [k for k, s in DATASETS.items() if kind is None or s.kind == kind]


def _check_number(name, v, lo, hi, integer=False):
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


def _finish(name, kind, n_classes, x, y, noise, seed, train_ratio, rng, meta=None) -> Dataset:
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64 if n_classes > 2 else np.float32)
    xt, yt, xv, yv = split(x, y, train_ratio, rng)
    return Dataset(name, kind, n_classes, xt, yt, xv, yv, float(noise), int(seed), dict(meta or {}))


def make_dataset(name: str, n_samples: int = 500, noise: float = 0.0, train_ratio: float = 0.5, seed: int = 0,
                 n_classes: int = 2, max_samples: int | None = None) -> Dataset:
    """Generate a named set (see DATASETS) and split it into train and test parts.

    noise: Playground's fraction, 0..0.5 (the UI's 0..50). n_classes: for spiral and blobs (2..10).
    Deterministic for a given seed."""
    key = _ALIASES.get(name, name)
    if key not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    spec = DATASETS[key]
    _check_number("n_samples", n_samples, 4, max_samples or 1_000_000, integer=True)
    _check_number("noise", noise, 0.0, 0.5)
    _check_number("train_ratio", train_ratio, 0.05, 0.95)
    _check_number("seed", seed, 0, 2**32 - 1, integer=True)
    rng = np.random.default_rng(int(seed))
    if spec.multiclass:
        _check_number("n_classes", n_classes, 2, 10, integer=True)
        x, y = spec.fn(int(n_samples), float(noise), rng, n_classes=int(n_classes))
        k = int(n_classes)
    else:
        if n_classes not in (2, None) and spec.kind == "classification":
            raise DataError(f"dataset {key!r} has 2 classes; n_classes={n_classes!r} is only for spiral and blobs")
        x, y = spec.fn(int(n_samples), float(noise), rng)
        k = 2 if spec.kind == "classification" else 0
    return _finish(key, spec.kind, k, x, y, noise, seed, train_ratio, rng)


# ============================================================================================
# Input features (TensorFlow Playground's seven)
# ============================================================================================
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


# ============================================================================================
# CSV upload
# ============================================================================================
# Limits that keep a hostile upload cheap: nothing below looks at more than MAX_FIELD characters of
# a field or MAX_LINE characters of a line, so parsing is linear in the file's size.
MAX_FIELD = 40           # "-1.2345678901234567e+308" is 24: longer is not a number a person typed
MAX_LINE = 3 * MAX_FIELD + 40
_NUMBER_CHARS = frozenset("0123456789+-.eE")
_NONFINITE = frozenset(s + w for s in ("", "+", "-") for w in ("nan", "inf", "infinity"))
_COLS = ("x1", "x2", "label")


def _is_number(t: str) -> bool:
    """A plain decimal number: digits, one optional sign, point and exponent (no regex, no
    underscores, hex, nan/inf or spaces; float() decides the grammar once the characters are right)."""
    if not t or len(t) > MAX_FIELD or not _NUMBER_CHARS.issuperset(t):
        return False
    try:
        float(t)
    except ValueError:
        return False
    return True


def _looks_numeric(s: str) -> bool:
    t = s.strip()
    return _is_number(t) or t.lower() in _NONFINITE


def _shown(t: str) -> str:
    return repr(t if len(t) <= 30 else t[:27] + "...")


def _parse_number(s: str, line: int, col: int, colname: str) -> float:
    t = s.strip()
    where = f"line {line}, column {col} ({colname})"
    if t == "":
        raise DataError(f"{where}: empty value")
    if len(t) > MAX_FIELD:
        raise DataError(f"{where}: the value is too long ({len(t):,} characters; a number has at most "
                        f"{MAX_FIELD})")
    if t.lower() in _NONFINITE:
        raise DataError(f"{where}: {t!r} is not a finite number (NaN and inf are not allowed)")
    if not _is_number(t):
        raise DataError(f"{where}: {_shown(t)} is not a number")
    v = float(t)
    if not math.isfinite(v) or abs(v) > 3.0e38:
        raise DataError(f"{where}: {t!r} is too large (does not fit float32)")
    return v


def _decode(data) -> str:
    if isinstance(data, str):
        text = data
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if b"\x00" in raw[:4096]:
            raise DataError("the file looks like binary data (it contains NUL bytes); upload a plain-text CSV")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw[:e.start].count(b"\n") + 1
            raise DataError(f"line {line}: the file is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset "
                            f"{e.start}); save it as UTF-8 CSV") from None
    else:
        raise DataError(f"expected CSV text or bytes, got {type(data).__name__}")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise DataError("the file looks like binary data (it contains NUL characters); upload a plain-text CSV")
    return text


def _delimiter(line: str) -> str | None:
    for d in (",", ";", "\t"):
        if d in line:
            return d
    return None  # whitespace-separated


def _fields(line: str, delim: str | None) -> list[str]:
    if delim is None:
        return line.split()
    return next(csv.reader([line], delimiter=delim, skipinitialspace=True))


def load_csv(data, kind: str = "classification", max_rows: int = 5000, max_classes: int = 2,
             train_ratio: float = 0.5, seed: int = 0, name: str = "csv", max_bytes: int = 2_000_000) -> Dataset:
    """Parse an uploaded CSV of rows `x1, x2, label` into a Dataset (shuffled, split by train_ratio).

    - a header line is optional (a first line with no numeric field is taken as the header);
    - separators: comma, semicolon, tab or whitespace (taken from the first line); blank lines and
      lines starting with '#' are skipped;
    - kind="classification": labels are integers; with max_classes=2 they must be 0 or 1; with
      max_classes=k they must be 0..k-1 and at least two classes must be present;
      kind="regression": any finite number; kind="auto": classification if every label is an
      integer in 0..max_classes-1, else regression.
    Any problem raises DataError naming the line (1-based, as in an editor) and column.
    Values are parsed with a strict number pattern: nothing is ever evaluated."""
    if kind not in ("classification", "regression", "auto"):
        raise DataError(f"kind must be 'classification', 'regression' or 'auto', got {kind!r}")
    if isinstance(data, (bytes, bytearray, memoryview)) and len(data) > max_bytes:
        raise DataError(f"the file is too large ({len(data):,} bytes; the limit is {max_bytes:,})")
    text = _decode(data)
    if len(text) > max_bytes:
        raise DataError(f"the file is too large ({len(text):,} characters; the limit is {max_bytes:,})")
    lines = text.splitlines()
    content = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    if not content:
        raise DataError("the file is empty (no data rows)")
    delim = _delimiter(content[0][1])
    rows: list[tuple[float, float, float]] = []
    header_line = None
    for k, (lineno, ln) in enumerate(content):
        if len(ln) > MAX_LINE:
            raise DataError(f"line {lineno}: the line is too long ({len(ln):,} characters; a row x1, x2, label "
                            f"has at most {MAX_LINE})")
        try:
            f = _fields(ln, delim)
        except csv.Error as e:
            raise DataError(f"line {lineno}: cannot parse the line ({e})") from None
        if k == 0 and f and not any(_looks_numeric(s) for s in f):
            header_line = lineno
            if len(f) != 3:
                raise DataError(f"line {lineno} (header): expected 3 columns (x1, x2, label), found {len(f)}")
            continue
        if len(f) != 3:
            sep = {",": "commas", ";": "semicolons", "\t": "tabs", None: "spaces"}[delim]
            raise DataError(f"line {lineno}: expected 3 columns (x1, x2, label), found {len(f)} "
                            f"(columns separated by {sep})")
        if len(rows) >= max_rows:
            raise DataError(f"line {lineno}: too many rows; the limit is {max_rows:,} data rows")
        rows.append(tuple(_parse_number(s, lineno, j + 1, _COLS[j]) for j, s in enumerate(f)))
    if not rows:
        raise DataError(f"the file has a header (line {header_line}) but no data rows")
    if len(rows) < 4:
        raise DataError(f"too few data rows ({len(rows)}); at least 4 are needed to train and test")
    arr = np.array(rows, dtype=np.float64)
    x, y = arr[:, :2], arr[:, 2]
    data_lines = [ln for ln, _ in content if ln != header_line]

    if kind == "auto":
        ok = np.all(y == np.round(y)) and y.min() >= 0 and y.max() < max(max_classes, 2)
        kind = "classification" if ok and len(np.unique(y)) >= 2 else "regression"
    if kind == "classification":
        for i, v in enumerate(y):
            line = data_lines[i]
            if v != round(v):
                raise DataError(f"line {line}, column 3 (label): {v:g} is not a class label; labels must be "
                                + ("0 or 1" if max_classes <= 2 else f"integers 0..{max_classes - 1}"))
            if max_classes <= 2 and v not in (0, 1):
                raise DataError(f"line {line}, column 3 (label): label {v:g} must be 0 or 1 for classification")
            if v < 0:
                raise DataError(f"line {line}, column 3 (label): label {v:g} is negative; labels are "
                                f"0..{max_classes - 1}")
            if v >= max_classes:
                raise DataError(f"line {line}, column 3 (label): label {v:g} means too many classes; at most "
                                f"{max_classes} classes (labels 0..{max_classes - 1}) are allowed")
        classes = np.unique(y)
        if len(classes) < 2:
            raise DataError(f"every row has label {classes[0]:g}; classification needs at least two classes")
        n_classes = 2 if max_classes <= 2 or y.max() <= 1 else int(y.max()) + 1
    else:
        n_classes = 0
    _check_number("train_ratio", train_ratio, 0.05, 0.95)
    rng = np.random.default_rng(int(seed))
    return _finish(name, kind, n_classes, x, y, 0.0, seed, train_ratio, rng,
                   meta={"source": "csv", "rows": len(rows), "header": header_line is not None})
