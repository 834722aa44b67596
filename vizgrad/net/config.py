"""A Network Playground run's configuration: NetConfig, its validation, the model it builds, its URL query.

    cfg = NetConfig(dataset="xor", features=("x1", "x2"), hidden=(8, 8), activation="tanh")
    cfg.validate()                          # ConfigError (a ValueError) names the field
    model = build_model(cfg)                # vizgrad nn.Sequential: Linear, Tanh, Linear, Tanh, Linear
    q = to_query(cfg); from_query(q) == cfg # plain str values, validated on the way back

NetLimits (dataset size, width, depth, steps per run ...) bound what a hosted demo accepts.
No UI code here.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

import vizgrad
from vizgrad import nn
from vizgrad.net.choices import ACTIVATIONS, LOSSES, OPTIMIZERS, REGULARIZATIONS
from vizgrad.net.datasets import DATASETS, DataError, find_dataset, multiclass_names
from vizgrad.net.features import check_features

__all__ = ["NetConfig", "NetLimits", "DEFAULT_LIMITS", "ConfigError", "TUNING", "build_model", "linear_layers",
           "output_size", "network_key", "to_query", "from_query"]


class ConfigError(ValueError):
    """An invalid configuration or URL query; the message names the field and the allowed values."""


@dataclass(frozen=True)
class NetLimits:
    """What a run may ask for (the hosted demo tightens these)."""
    max_samples: int = 2000
    max_width: int = 16
    max_depth: int = 6
    max_steps_per_run: int = 20000
    max_batch_size: int = 2000
    max_lr: float = 10.0
    max_reg_rate: float = 10.0
    max_classes: int = 10
    max_grid: int = 200            # predict_grid resolution


DEFAULT_LIMITS = NetLimits()


@dataclass
class NetConfig:
    """Everything a run depends on. TensorFlow Playground's defaults, except two hidden layers of 8.

    activation: one name for every hidden layer, or one per layer (see choices.ACTIVATIONS). The
    output layer has no activation (logits); its size is the loss's (one output, or one per class)."""
    dataset: str = "circles"
    noise: float = 0.0
    train_ratio: float = 0.5
    n_samples: int = 500
    n_classes: int = 2                     # multiclass datasets only (spiral, blobs)
    features: tuple = ("x1", "x2")
    hidden: tuple = (8, 8)
    activation: tuple | str = "tanh"
    loss: str = "bce_logits"
    optimizer: str = "sgd"
    lr: float = 0.03
    momentum: float = 0.9                  # for optimizer="momentum"
    batch_size: int = 10
    regularization: str = "none"
    reg_rate: float = 0.0
    seed: int = 0

    def __post_init__(self):
        if isinstance(self.features, str):
            self.features = tuple(s for s in self.features.split(",") if s)
        else:
            self.features = tuple(self.features)
        self.hidden = tuple(self.hidden) if not isinstance(self.hidden, int) else (self.hidden,)
        if isinstance(self.activation, str):
            self.activation = (self.activation,) * len(self.hidden)
        else:
            self.activation = tuple(self.activation)

    @property
    def activations(self) -> tuple:
        return self.activation

    def replace(self, **changes) -> "NetConfig":
        if "hidden" in changes and "activation" not in changes and len(set(self.activation)) <= 1:
            n = len(tuple(changes["hidden"])) if not isinstance(changes["hidden"], int) else 1
            changes["activation"] = self.activation[0] if self.activation else "tanh"
            changes["activation"] = (changes["activation"],) * n
        return dataclasses.replace(self, **changes)

    def validate(self, limits: NetLimits = DEFAULT_LIMITS, dataset_kind: str | None = None,
                 n_classes: int | None = None) -> "NetConfig":
        """Raise ConfigError on the first bad field; return self. dataset_kind / n_classes describe
        an uploaded dataset (dataset="csv"), otherwise they come from the named dataset."""
        _validate(self, limits, dataset_kind, n_classes)
        return self

    def task(self, dataset_kind: str | None = None, n_classes: int | None = None) -> tuple[str, int]:
        """(kind, n_classes) of the data this config trains on."""
        if self.dataset == "csv":
            return dataset_kind or "classification", (n_classes if n_classes is not None else 2)
        spec = find_dataset(self.dataset)
        if spec.kind == "regression":
            return "regression", 0
        return "classification", (self.n_classes if spec.multiclass else 2)

    def input_dim(self) -> int:
        if self.dataset == "csv":
            return 2
        return find_dataset(self.dataset).input_dim


def _num(name, v, lo, hi, integer=False, lo_open=False):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{name} must be a number, got {v!r}")
    if isinstance(v, (float, np.floating)) and not math.isfinite(v):
        raise ConfigError(f"{name} must be a finite number, got {v!r}")
    if integer and int(v) != v:
        raise ConfigError(f"{name} must be a whole number, got {v!r}")
    if (v <= lo if lo_open else v < lo) or v > hi:
        raise ConfigError(f"{name} must be {'>' if lo_open else '>='} {lo} and <= {hi}, got {v!r}")


def _choice(name, v, options):
    if v not in options:
        raise ConfigError(f"{name} must be one of {', '.join(options)}; got {v!r}")


def _validate(c: NetConfig, limits: NetLimits, dataset_kind=None, n_classes=None):
    if c.dataset != "csv" and find_dataset(c.dataset) is None:
        raise ConfigError(f"dataset must be one of {', '.join(list(DATASETS) + ['csv'])}; got {c.dataset!r}")
    _num("noise", c.noise, 0.0, 0.5)
    _num("train_ratio", c.train_ratio, 0.05, 0.95)
    if c.dataset != "csv":  # an upload's size is checked against limits.max_samples by the Trainer
        _num("n_samples", c.n_samples, 4, limits.max_samples, integer=True)
    _num("n_classes", c.n_classes, 2, limits.max_classes, integer=True)
    if c.dataset != "csv":
        if c.n_classes != 2 and not find_dataset(c.dataset).multiclass:
            raise ConfigError(f"n_classes={c.n_classes}: dataset {c.dataset!r} has 2 classes (only "
                              f"{multiclass_names()} take n_classes)")
    try:
        check_features(c.features, c.input_dim())
    except DataError as e:
        raise ConfigError(f"features: {e}") from None
    if len(c.hidden) > limits.max_depth:
        raise ConfigError(f"hidden: at most {limits.max_depth} hidden layers, got {len(c.hidden)}")
    for i, w in enumerate(c.hidden):
        _num(f"hidden layer {i + 1} width", w, 1, limits.max_width, integer=True)
    if len(c.activation) != len(c.hidden):
        raise ConfigError(f"activation: give one name for all layers or one per hidden layer "
                          f"({len(c.hidden)}), got {len(c.activation)}")
    for i, a in enumerate(c.activation):
        _choice(f"activation of hidden layer {i + 1}", a, ACTIVATIONS)
    _choice("loss", c.loss, LOSSES)
    _choice("optimizer", c.optimizer, OPTIMIZERS)
    _num("lr", c.lr, 0.0, limits.max_lr, lo_open=True)
    _num("momentum", c.momentum, 0.0, 0.999)
    _num("batch_size", c.batch_size, 1, limits.max_batch_size, integer=True)
    _choice("regularization", c.regularization, REGULARIZATIONS)
    _num("reg_rate", c.reg_rate, 0.0, limits.max_reg_rate)
    _num("seed", c.seed, 0, 2**31 - 1, integer=True)
    kind, k = c.task(dataset_kind, n_classes)
    if not LOSSES[c.loss].fits(kind, k):
        fitting = " or ".join(repr(n) for n, loss in LOSSES.items() if loss.fits(kind, k))
        if kind == "regression":
            raise ConfigError(f"loss {c.loss!r} is for classification; a regression dataset needs loss {fitting}")
        if k > 2:
            raise ConfigError(f"loss {c.loss!r} handles two classes; {k} classes need loss {fitting}")
        raise ConfigError(f"loss {c.loss!r} does not handle two classes; they need loss {fitting}")


TUNING = ("lr", "momentum", "batch_size", "regularization", "reg_rate")
"""The fields a running Trainer takes in place (Trainer.retune): the weights, the optimizer's state and
the step count carry on, as in TensorFlow Playground. Any other field (the data, the features, the
architecture, the loss, the optimizer, the seed) makes a new network."""


def network_key(config: NetConfig) -> str:
    """The config without its TUNING fields, as text: two configs with the same key train the same network."""
    q = to_query(config)
    return ",".join(f"{k}={v}" for k, v in q.items() if _Q[k] not in TUNING)


def output_size(config: NetConfig, n_classes: int | None = None) -> int:
    """The number of network outputs: one per class for a per-class loss (cross-entropy), else one."""
    if LOSSES[config.loss].per_class:
        return max(2, n_classes if n_classes is not None else config.task()[1])
    return 1


def build_model(config: NetConfig, n_outputs: int | None = None, validate: bool = True,
                limits: NetLimits = DEFAULT_LIMITS) -> nn.Sequential:
    """Linear(features -> h1), act, ..., Linear(h_last -> outputs); torch's default init, seeded
    by config.seed (vizgrad's generator). Every hidden layer is two modules (Linear, activation;
    'linear' is nn.Identity), so hidden layer i is model[2 i] and its activation model[2 i + 1]."""
    if validate:
        config.validate(limits, n_classes=n_outputs if n_outputs and n_outputs > 1 else None)
    vizgrad.manual_seed(int(config.seed))
    n_out = n_outputs if n_outputs is not None else output_size(config)
    layers, width = [], len(config.features)
    for h, a in zip(config.hidden, config.activation):
        layers += [nn.Linear(width, int(h)), ACTIVATIONS[a].module()]
        width = int(h)
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def linear_layers(model) -> list:
    """The model's Linear layers in order (hidden layers, then the output layer)."""
    return [m for m in model if isinstance(m, nn.Linear)]


# ============================================================================================
# URL query
# ============================================================================================
_Q = {  # query key -> field
    "data": "dataset", "noise": "noise", "train": "train_ratio", "n": "n_samples", "classes": "n_classes",
    "features": "features", "hidden": "hidden", "act": "activation", "loss": "loss", "opt": "optimizer",
    "lr": "lr", "momentum": "momentum", "batch": "batch_size", "reg": "regularization", "reg_rate": "reg_rate",
    "seed": "seed",
}
_FIELD_TO_Q = {v: k for k, v in _Q.items()}


def _fmt(v) -> str:
    return repr(float(v)) if isinstance(v, (float, np.floating)) else str(v)


def to_query(config: NetConfig) -> dict[str, str]:
    """The config as URL query parameters (str -> str), e.g. {'data': 'xor', 'hidden': '8,8', 'act': 'tanh', ...}.
    Floats are written exactly (repr), so from_query(to_query(c)) == c."""
    q = {}
    for f in dataclasses.fields(config):
        v = getattr(config, f.name)
        key = _FIELD_TO_Q[f.name]
        if f.name in ("features", "hidden"):
            q[key] = ",".join(str(x) for x in v)
        elif f.name == "activation":
            q[key] = v[0] if v and len(set(v)) == 1 else ",".join(v)
        else:
            q[key] = _fmt(v)
    return q


def _parse_float(key, s):
    try:
        v = float(s)
    except ValueError:
        raise ConfigError(f"query parameter {key!r}: {s!r} is not a number") from None
    if not math.isfinite(v):
        raise ConfigError(f"query parameter {key!r}: {s!r} is not a finite number")
    return v


def _parse_int(key, s):
    s2 = s.strip()
    if not s2.lstrip("+-").isdigit() or len(s2) > 12:
        raise ConfigError(f"query parameter {key!r}: {s!r} is not a whole number")
    return int(s2)


def from_query(query: Mapping, limits: NetLimits = DEFAULT_LIMITS, base: NetConfig | None = None,
               dataset_kind: str | None = None, n_classes: int | None = None) -> NetConfig:
    """Rebuild a config from URL query parameters (values str, or lists of str as some frameworks
    give; the last value wins). Missing keys keep `base`'s values (default NetConfig()); unknown
    keys are ignored. Raises ConfigError naming the parameter on a bad value."""
    base = base or NetConfig()
    changes: dict = {}
    for key, raw in query.items():
        if key not in _Q:
            continue
        if isinstance(raw, (list, tuple)):
            if not raw:
                continue
            raw = raw[-1]
        if not isinstance(raw, str):
            raise ConfigError(f"query parameter {key!r}: expected text, got {type(raw).__name__}")
        if len(raw) > 200:
            raise ConfigError(f"query parameter {key!r} is too long ({len(raw)} characters)")
        name = _Q[key]
        s = raw.strip()
        if name in ("noise", "train_ratio", "lr", "momentum", "reg_rate"):
            changes[name] = _parse_float(key, s)
        elif name in ("n_samples", "n_classes", "batch_size", "seed"):
            changes[name] = _parse_int(key, s)
        elif name == "hidden":
            parts = [p for p in s.split(",") if p.strip()] if s else []
            if len(parts) > limits.max_depth:
                raise ConfigError(f"query parameter 'hidden': at most {limits.max_depth} hidden layers, "
                                  f"got {len(parts)}")
            changes[name] = tuple(_parse_int(key, p) for p in parts)
        elif name == "features":
            changes[name] = tuple(p.strip() for p in s.split(",") if p.strip())
        elif name == "activation":
            changes[name] = tuple(p.strip() for p in s.split(",") if p.strip())
        else:
            changes[name] = s
    hidden = changes.get("hidden", base.hidden)
    act = changes.get("activation", None)
    if act is None:
        act = base.activation if len(base.activation) == len(hidden) else (base.activation[:1] or ("tanh",))
    if len(act) == 1 and len(hidden) != 1:
        act = act * len(hidden)
    changes["activation"] = tuple(act)
    cfg = dataclasses.replace(base, **changes)
    try:
        cfg.validate(limits, dataset_kind, n_classes)
    except ConfigError as e:
        field_key = next((k for k, v in _Q.items() if str(e).startswith(v)), None)
        raise ConfigError(f"invalid link{f' (parameter {field_key!r})' if field_key else ''}: {e}") from None
    return cfg
