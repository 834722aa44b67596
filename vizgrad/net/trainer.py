"""The Network Playground's trainer: minibatch steps over a dataset, a bounded History, the NaN/inf finder.

    cfg = NetConfig(dataset="circles", hidden=(8, 8), activation="tanh", lr=0.03, batch_size=10)
    tr = Trainer(cfg)                   # builds the dataset, the vizgrad nn.Sequential and the optimizer
    tr.run(500)                         # 500 minibatch updates (stops early if training diverges)
    tr.history.test_acc[-1]             # metrics every `eval_every` steps; batch loss and grad norms every step
                                        # (at most HISTORY_POINTS points each: long runs are thinned, see History)
    g = tr.predict_grid(60, 6.0)        # decision-boundary heatmap: g.z[i, j] = P(class 1) at (g.xs[j], g.ys[i])
    tr.neuron_outputs_grid(0, 3)        # hidden layer 0, unit 3, over the input plane
    tr.diverged, tr.diverged_op         # e.g. "step 12: loss is inf ...", "MulBackward0"

Every step is the ordinary vizgrad path, the one the page is there to show: model(x), loss,
loss.backward(), optimizer.step(). Evaluation and the heatmaps run the same model under no_grad.
The loss, optimizer and regularization come from their rows in vizgrad.net.choices. When a step
produces NaN/inf, the step is replayed through vizgrad's autograd to name the op that produced it
first (first_nonfinite_op; forward: walk the graph from the loss; backward: the gradients each
node sent along its edges, then detect_anomaly).
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np

import vizgrad
from vizgrad.autograd.anomaly import _finite, first_nonfinite_op
from vizgrad.net.choices import LOSSES, OPTIMIZERS, REGULARIZATIONS
from vizgrad.net.config import (DEFAULT_LIMITS, TUNING, ConfigError, NetLimits, NetConfig, build_model, linear_layers,
                                network_key, output_size)
from vizgrad.net.datasets import Dataset, make_dataset
from vizgrad.net.features import check_features, featurize
from vizgrad.tensor import Tensor

__all__ = ["Trainer", "History", "HISTORY_POINTS", "StepInfo", "Grid"]


HISTORY_POINTS = 2000
"""At most this many points per History series (a new History reads it when made). A longer run keeps
its first point, every 2**k-th point after it, and always the latest one (see History)."""


def _record(cols, values, n: int, stride: int, cap: int) -> tuple[int, int]:
    """Append one point (the n-th, counting from 0) to the parallel lists `cols`, which hold the
    points 0, stride, 2 stride, ... recorded so far plus, when n - 1 is not on that grid, the
    latest point n - 1 (provisional: the next point replaces it). When the lists grow past `cap`,
    every second grid point is dropped and the stride doubles. Returns the new (n, stride).
    Amortised O(1): a halving costs O(cap) and the next one is at least cap / 2 points away."""
    if (n - 1) % stride:  # the last point is the provisional latest one: this point replaces it
        for c in cols:
            c.pop()
    for c, v in zip(cols, values):
        c.append(v)
    n += 1
    size = len(cols[0])
    if size > cap:
        on_grid = size if (n - 1) % stride == 0 else size - 1   # the points on the grid
        stride *= 2
        tail = (n - 1) % stride != 0                            # the latest point is off the new grid
        for c in cols:
            latest = c[-1]
            del c[on_grid:]
            del c[1::2]
            if tail:
                c.append(latest)
    return n, stride


@dataclass
class History:
    """Per step: step, epoch, batch_loss (data loss of the minibatch), grad_norms (one L2 norm per
    Linear layer's weight gradient, input side first). Per evaluation (every eval_every steps, and
    at step 0): eval_step, eval_epoch, train_loss, test_loss, train_acc, test_acc (NaN for regression).

    Bounded: each series holds at most max_points points (default HISTORY_POINTS). Until then it
    holds every point; after that the older points are thinned by halving: the first point, every
    step_stride-th step (eval_stride-th evaluation) after it, and always the latest one, so a
    series spans the whole run at any length, and recording stays amortised O(1). Record through
    record_step / record_eval (the lists are for reading)."""
    step: list = field(default_factory=list)
    epoch: list = field(default_factory=list)
    batch_loss: list = field(default_factory=list)
    grad_norms: list = field(default_factory=list)
    eval_step: list = field(default_factory=list)
    eval_epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    max_points: int = field(default_factory=lambda: HISTORY_POINTS, repr=False)
    steps_seen: int = field(default=0, repr=False)    # record_step calls so far
    evals_seen: int = field(default=0, repr=False)    # record_eval calls so far
    step_stride: int = field(default=1, repr=False)   # recorded steps are 1 in this many (plus the latest)
    eval_stride: int = field(default=1, repr=False)

    def __post_init__(self):
        if isinstance(self.max_points, bool) or not isinstance(self.max_points, (int, np.integer)) \
                or self.max_points < 4:
            raise ValueError(f"max_points must be a whole number >= 4, got {self.max_points!r}")
        self.max_points = int(self.max_points)

    def record_step(self, step: int, epoch: float, batch_loss: float, grad_norms: tuple) -> None:
        self.steps_seen, self.step_stride = _record(
            (self.step, self.epoch, self.batch_loss, self.grad_norms), (step, epoch, batch_loss, grad_norms),
            self.steps_seen, self.step_stride, self.max_points)

    def record_eval(self, step: int, epoch: float, metrics: dict) -> None:
        """metrics: train_loss, test_loss, train_acc, test_acc (Trainer.evaluate)."""
        self.evals_seen, self.eval_stride = _record(
            (self.eval_step, self.eval_epoch, self.train_loss, self.test_loss, self.train_acc, self.test_acc),
            (step, epoch, metrics["train_loss"], metrics["test_loss"], metrics["train_acc"], metrics["test_acc"]),
            self.evals_seen, self.eval_stride, self.max_points)

    def grad_norm_array(self) -> np.ndarray:
        """(recorded steps, layers) array of the weight-gradient norms."""
        if not self.grad_norms:
            return np.zeros((0, 0))
        return np.array(self.grad_norms, dtype=np.float64).reshape(len(self.grad_norms), -1)

    def __len__(self):
        """The number of recorded steps (at most max_points; Trainer.steps counts them all)."""
        return len(self.step)


@dataclass
class StepInfo:
    step: int                      # steps done so far (1 after the first update)
    epoch: float                   # training points seen / training set size
    loss: float                    # minibatch data loss before this update
    grad_norms: tuple              # per Linear layer weight gradient L2 norm
    metrics: dict | None = None    # train/test loss and accuracy when evaluated at this step
    diverged: str | None = None


@dataclass
class Grid:
    """Values over the input plane: z[i, j] is at (xs[j], ys[i]); for 1-D data ys is None and z is
    (resolution,). Multi-class probability grids are (res, res, classes)."""
    xs: np.ndarray
    ys: np.ndarray | None
    z: np.ndarray


# ============================================================================================
# Trainer
# ============================================================================================
class Trainer:
    """Steps a model built from `config` over `dataset` (made from the config when not given).

    eval_every: evaluate train/test loss and accuracy every this many steps (default: once per
    epoch, i.e. ceil(n_train / batch_size) steps). callbacks: functions fn(trainer, info) or objects
    with on_step(trainer, info), called after every step; one returning False stops run()."""

    def __init__(self, config: NetConfig, dataset: Dataset | None = None, limits: NetLimits = DEFAULT_LIMITS,
                 eval_every: int | None = None, callbacks=()):
        if dataset is None:
            config.validate(limits)
            dataset = make_dataset(config.dataset, config.n_samples, config.noise, config.train_ratio, config.seed,
                                   config.n_classes, max_samples=limits.max_samples)
        else:
            config.validate(limits, dataset.kind, dataset.n_classes or None)
            n = dataset.n_train + dataset.n_test
            if n > limits.max_samples:
                raise ConfigError(f"the dataset has {n} points; the limit is {limits.max_samples}")
            if dataset.input_dim != config.input_dim() and config.dataset != "csv":
                raise ConfigError(f"the dataset has {dataset.input_dim} input columns; the config expects "
                                  f"{config.input_dim()}")
            if config.dataset == "csv":
                try:
                    check_features(config.features, dataset.input_dim)
                except ValueError as e:
                    raise ConfigError(f"features: {e}") from None
        self.config = config
        self.dataset = dataset
        self.limits = limits
        self.callbacks = list(callbacks)
        self.kind = dataset.kind
        self.n_classes = dataset.n_classes
        self.n_outputs = output_size(config, dataset.n_classes if dataset.n_classes > 2 else 2)
        self.X_train = featurize(dataset.x_train, config.features)
        self.X_test = featurize(dataset.x_test, config.features)
        self.T_train = self._targets(dataset.y_train)
        self.T_test = self._targets(dataset.y_test)
        self.n_train = len(self.X_train)
        if eval_every is not None and (isinstance(eval_every, bool) or int(eval_every) < 1):
            raise ConfigError(f"eval_every must be >= 1, got {eval_every!r}")
        self._eval_every = eval_every
        self._batching()
        self.reset()

    def _batching(self) -> None:
        self.batch_size = min(int(self.config.batch_size), self.n_train)
        # None: once per epoch, which depends on the batch size
        self.eval_every = int(self._eval_every or -(-self.n_train // self.batch_size))

    # -- setup -------------------------------------------------------------------------------------
    def _targets(self, y):
        return LOSSES[self.config.loss].targets(y)

    def reset(self) -> None:
        """Fresh weights (from config.seed), optimizer state, batch order and history."""
        cfg = self.config
        self.model = build_model(cfg, self.n_outputs, validate=False)
        self.linears = linear_layers(self.model)
        self.params = []
        for lin in self.linears:
            self.params += [lin.weight, lin.bias]
        self._param_names = {id(p): n for n, p in self.model.named_parameters()}
        self.optimizer = OPTIMIZERS[cfg.optimizer].make(self.params, cfg)
        self.loss_fn = LOSSES[cfg.loss].module()
        self._rng = np.random.default_rng(int(cfg.seed) + 1)
        self._perm = np.arange(self.n_train)
        self._pos = self.n_train            # start a new epoch on the first step
        self._seen = 0
        self.steps = 0
        self._stop = False
        self.diverged: str | None = None
        self.diverged_op: str | None = None
        self.history = History()
        self.evaluate(record=True)

    def retune(self, config: NetConfig) -> None:
        """Take the TUNING fields of `config` (learning rate, momentum, batch size, regularization and
        its rate) without touching the weights, the optimizer's state, the batch order or the step
        count: the next step uses them. Raises ConfigError if `config` differs in any other field
        (that is a new network: make a new Trainer) or is invalid."""
        if network_key(config) != network_key(self.config):
            changed = [f.name for f in dataclasses.fields(config) if f.name not in TUNING
                       and getattr(config, f.name) != getattr(self.config, f.name)]
            raise ConfigError(f"retune changes only {', '.join(TUNING)}; this config also changes "
                              f"{', '.join(changed) or 'the data'}")
        config.validate(self.limits, self.dataset.kind, self.dataset.n_classes or None)
        self.config = config
        for group in self.optimizer.param_groups:   # what optimizer.step() reads on every step
            group["lr"] = float(config.lr)
            if "momentum" in group and OPTIMIZERS[config.optimizer].uses_momentum:
                group["momentum"] = float(config.momentum)
        self._batching()

    @property
    def epoch(self) -> float:
        return self._seen / self.n_train

    # -- the model without a graph: evaluation and heatmaps -----------------------------------------
    def _forward(self, X, keep: bool = False):
        """Outputs (n, outputs) for features X (n, features), through the model under no_grad; with
        keep, also each hidden layer's output after its activation (model[2 i + 1], see build_model)."""
        h = vizgrad.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        hidden = []
        with vizgrad.no_grad():
            for i, module in enumerate(self.model):
                h = module(h)
                if keep and i % 2 == 1:
                    hidden.append(h.numpy())
        return (h.numpy(), hidden) if keep else h.numpy()

    def _data_loss(self, out, T) -> float:
        with vizgrad.no_grad():
            return float(self.loss_fn(vizgrad.from_numpy(out), vizgrad.from_numpy(T)).item())

    def loss_on(self, X, T) -> tuple[Tensor, Tensor]:
        """(data loss, total loss with regularization) on features X and targets T, recorded in
        vizgrad's graph (what a step backpropagates; the page draws it)."""
        out = self.model(vizgrad.from_numpy(X))
        loss = self.loss_fn(out, vizgrad.from_numpy(T))
        total = loss
        rate = self.config.reg_rate
        penalty = REGULARIZATIONS[self.config.regularization].penalty
        if penalty is not None and rate:
            for lin in self.linears:
                total = total + penalty(lin.weight, rate)
        return loss, total

    def _autograd_grads(self, X, T) -> float:
        self.optimizer.zero_grad()
        loss, total = self.loss_on(X, T)
        total.backward()
        return float(loss.item())

    # -- stepping -------------------------------------------------------------------------------------
    def _next_batch(self):
        bs = self.batch_size
        n = self.n_train
        if bs >= n:
            self._seen += n
            return None
        if self._pos >= n:
            self._perm = self._rng.permutation(n)
            self._pos = 0
        idx = self._perm[self._pos:self._pos + bs]
        self._pos += bs
        self._seen += len(idx)
        return idx

    def _grad_norms(self) -> tuple[tuple, bool]:
        """Weight-gradient norms per Linear layer, and whether every gradient is finite."""
        norms = []
        ok = True
        vdot, isfinite = np.vdot, math.isfinite
        for lin in self.linears:
            g = lin.weight._grad._data
            sq = float(vdot(g, g))
            gb = lin.bias._grad._data
            if not (isfinite(sq) and isfinite(float(vdot(gb, gb)))):
                if not (_finite(g) and _finite(gb)):
                    ok = False
                sq = float(np.vdot(g.astype(np.float64), g.astype(np.float64)))
            norms.append(math.sqrt(sq) if sq == sq else float("nan"))
        return tuple(norms), ok

    def step(self) -> StepInfo | None:
        """One minibatch update. Returns a StepInfo (info.diverged set if this step diverged), or
        None when the trainer had already diverged (call reset())."""
        if self.diverged is not None:
            return None
        idx = self._next_batch()
        if idx is None:
            X, T = self.X_train, self.T_train
        else:
            X, T = self.X_train[idx], self.T_train[idx]
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported as divergence instead
            loss = self._autograd_grads(X, T)
            norms, ok = self._grad_norms()
            if not ok or not math.isfinite(loss):
                return self._diverge(X, T, loss, norms)
            self.optimizer.step()
        self.steps += 1
        self.history.record_step(self.steps, self.epoch, loss, norms)
        metrics = self.evaluate(record=True) if self.steps % self.eval_every == 0 else None
        info = StepInfo(self.steps, self.epoch, loss, norms, metrics)
        if self.callbacks and not self._notify(info):
            self._stop = True
        return info

    def _notify(self, info) -> bool:
        go_on = True
        for cb in self.callbacks:
            fn = getattr(cb, "on_step", cb)
            if fn(self, info) is False:
                go_on = False
        return go_on

    def add_callback(self, cb) -> None:
        self.callbacks.append(cb)

    def run(self, n: int, budget: float | None = None) -> int:
        """Up to n steps; stops early on divergence, when a callback returns False, or (budget, in
        seconds) once that much time has passed, after at least one step. Returns the number of
        updates made. n is bounded by limits.max_steps_per_run."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ConfigError(f"steps must be a whole number >= 0, got {n!r}")
        if n > self.limits.max_steps_per_run:
            raise ConfigError(f"at most {self.limits.max_steps_per_run} steps per run, got {n}")
        done = 0
        self._stop = False
        end = None if budget is None else time.perf_counter() + budget
        for _ in range(int(n)):
            info = self.step()
            if info is None or info.diverged:
                break
            done += 1
            if self._stop or (end is not None and time.perf_counter() >= end):
                break
        return done

    # -- divergence -------------------------------------------------------------------------------------
    def _diverge(self, X, T, loss, norms) -> StepInfo:
        step = self.steps + 1
        op, why = self.diagnose(X, T)
        what = "NaN" if loss != loss else ("inf" if not math.isfinite(loss) else f"{loss:.4g}")
        grads = "finite" if all(math.isfinite(v) for v in norms) else "not finite"
        self.diverged = f"training diverged at step {step}: loss {what}, gradients {grads}; {why}"
        self.diverged_op = op
        info = StepInfo(step, self.epoch, loss, norms, None, self.diverged)
        self._notify(info)
        return info

    def diagnose(self, X, T) -> tuple[str | None, str]:
        """Replay a batch through vizgrad's autograd and name the op that first produced NaN/inf."""
        for p in self.params:
            if not _finite(p._data):
                return None, (f"parameter {self._param_names[id(p)]} holds NaN/inf: the previous update "
                              "overflowed (learning rate too high?)")
        with np.errstate(all="ignore"):
            _, total = self.loss_on(X, T)
        return first_nonfinite_op(total, self.params, self._param_names)

    # -- evaluation and prediction ------------------------------------------------------------------------
    def _accuracy(self, out, T) -> float:
        if self.kind != "classification":
            return float("nan")
        loss = LOSSES[self.config.loss]
        if loss.per_class:
            pred = out.argmax(axis=1)
            return float(np.mean(pred == T))
        return float(np.mean((out[:, 0] > loss.threshold) == (T[:, 0] > 0.5)))

    def evaluate(self, record: bool = False) -> dict:
        """Full train and test data loss and accuracy (NaN accuracy for regression)."""
        with np.errstate(all="ignore"):
            out_tr = self._forward(self.X_train)
            out_te = self._forward(self.X_test)
            m = {"train_loss": self._data_loss(out_tr, self.T_train),
                 "test_loss": self._data_loss(out_te, self.T_test),
                 "train_acc": self._accuracy(out_tr, self.T_train),
                 "test_acc": self._accuracy(out_te, self.T_test)}
        if record:
            self.history.record_eval(self.steps, self.epoch, m)
        return m

    def predict(self, points) -> np.ndarray:
        """What the playground shows for raw points (n, 2), as the loss's row says: P(class 1)
        (bce_logits), class probabilities (n, k) (cross_entropy), or the output value (mse)."""
        X = featurize(np.asarray(points, dtype=np.float32), self.config.features)
        with np.errstate(all="ignore"):
            return LOSSES[self.config.loss].predict(vizgrad.from_numpy(self._forward(X))).numpy()

    def predict_class(self, points) -> np.ndarray:
        p = self.predict(points)
        if LOSSES[self.config.loss].per_class:
            return p.argmax(axis=1)
        return (p > 0.5).astype(np.int64)

    def _grid_points(self, resolution: int, extent):
        resolution = int(resolution)
        if not 2 <= resolution <= self.limits.max_grid:
            raise ConfigError(f"grid resolution must be 2..{self.limits.max_grid}, got {resolution}")
        if isinstance(extent, (int, float)):
            extent = (-float(extent), float(extent), -float(extent), float(extent))
        x0, x1, y0, y1 = (float(v) for v in extent)
        xs = np.linspace(x0, x1, resolution, dtype=np.float32)
        if self.dataset.input_dim == 1:
            return xs, None, xs[:, None]
        ys = np.linspace(y0, y1, resolution, dtype=np.float32)
        gx, gy = np.meshgrid(xs, ys)
        return xs, ys, np.stack([gx.ravel(), gy.ravel()], 1)

    def _shape(self, v, xs, ys):
        if ys is None:
            return v
        return v.reshape((len(ys), len(xs)) + v.shape[1:])

    def predict_grid(self, resolution: int = 50, extent=6.0) -> Grid:
        """Predictions (see predict) on a resolution x resolution grid over [-extent, extent]²
        (or extent=(xmin, xmax, ymin, ymax))."""
        xs, ys, pts = self._grid_points(resolution, extent)
        return Grid(xs, ys, self._shape(self.predict(pts), xs, ys))

    def neuron_outputs_grid(self, layer: int, unit: int, resolution: int = 50, extent=6.0) -> Grid:
        """Output of one neuron over the input plane: hidden layer `layer` (0-based, after its
        activation) or, for layer == len(hidden) (or -1), the output layer's raw output (logit)."""
        n_hidden = len(self.config.hidden)
        if layer == -1:
            layer = n_hidden
        if not isinstance(layer, (int, np.integer)) or not 0 <= layer <= n_hidden:
            raise ConfigError(f"layer must be 0..{n_hidden} (or -1 for the output), got {layer!r}")
        width = self.linears[layer].out_features
        if not isinstance(unit, (int, np.integer)) or not 0 <= unit < width:
            raise ConfigError(f"unit must be 0..{width - 1} for layer {layer}, got {unit!r}")
        xs, ys, pts = self._grid_points(resolution, extent)
        X = featurize(pts, self.config.features)
        with np.errstate(all="ignore"):
            out, hidden = self._forward(X, keep=True)
        v = out[:, unit] if layer == n_hidden else hidden[layer][:, unit]
        return Grid(xs, ys, self._shape(np.ascontiguousarray(v), xs, ys))

    def feature_grid(self, name: str, resolution: int = 50, extent=6.0) -> Grid:
        """An input feature (x1, x1x2, sinx2 ...) over the input plane, as the Playground's input nodes."""
        xs, ys, pts = self._grid_points(resolution, extent)
        return Grid(xs, ys, self._shape(featurize(pts, [name])[:, 0], xs, ys))
