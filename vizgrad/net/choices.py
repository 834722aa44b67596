"""The Network Playground's choices: activations, losses, optimizers and regularizations, one row each.

    ACTIVATIONS["tanh"].module()              # a fresh vizgrad nn.Tanh()
    LOSSES["cross_entropy"].fits("classification", 3)     # True: one output per class
    OPTIMIZERS["momentum"].make(params, cfg)  # optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum)

A row carries everything the rest of the library and the page ask of a choice (its label, the
vizgrad module it builds, its PyTorch source in the export, what the network outputs for it ...),
so adding a choice is adding a row here. The row's name is what a config, a URL and the page's
widgets hold.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

import vizgrad
from vizgrad import nn, optim

__all__ = ["Activation", "Loss", "Optimizer", "Regularization", "ACTIVATIONS", "LOSSES", "OPTIMIZERS",
           "REGULARIZATIONS"]


def _table(*rows) -> dict:
    return {r.name: r for r in rows}


# ============================================================================================
# Activations (of the hidden layers; the output layer has none)
# ============================================================================================
@dataclass(frozen=True)
class Activation:
    name: str
    label: str                              # shown on the page
    module: Callable[[], nn.Module]         # a fresh vizgrad module
    torch: str                              # the same module in the exported PyTorch code


ACTIVATIONS: dict[str, Activation] = _table(
    Activation("relu", "ReLU", nn.ReLU, "torch.nn.ReLU()"),
    Activation("tanh", "Tanh", nn.Tanh, "torch.nn.Tanh()"),
    Activation("sigmoid", "Sigmoid", nn.Sigmoid, "torch.nn.Sigmoid()"),
    Activation("linear", "Linear", nn.Identity, "torch.nn.Identity()"),
    Activation("leaky_relu", "Leaky ReLU", lambda: nn.LeakyReLU(0.01), "torch.nn.LeakyReLU(0.01)"),
)


# ============================================================================================
# Losses: each also decides the output layer, the targets, accuracy and what the page shows
# ============================================================================================
def _class_targets(y: np.ndarray) -> np.ndarray:
    return np.asarray(y).astype(np.int64)                      # (n,) class indices


def _column_targets(y: np.ndarray) -> np.ndarray:
    return np.asarray(y, dtype=np.float32).reshape(-1, 1)      # (n, 1), like the single output


@dataclass(frozen=True)
class Loss:
    name: str
    label: str                              # shown on the page
    module: Callable[[], nn.Module]         # a fresh vizgrad loss module: loss(outputs, targets)
    regression: bool                        # which data it fits: regression, two classes, more classes
    binary: bool
    multiclass: bool
    per_class: bool                         # one output per class (else one output)
    targets: Callable[[np.ndarray], np.ndarray]   # dataset labels -> what the loss compares the outputs to
    threshold: float | None                 # single output: above it a point is class 1 (accuracy)
    predict: Callable                       # outputs (n, outputs) Tensor -> what the page shows, as a Tensor
    torch_predict: str                      # predict in the exported PyTorch code (over `out`)
    predicts: str                           # what predict gives, in words (the export's docstring)
    shows: str                              # the output nodes of the diagram: 'probability' | 'logits' | 'value'

    def fits(self, kind: str, n_classes: int) -> bool:
        """Whether this loss can train on data of this kind ('classification' | 'regression')."""
        if kind == "regression":
            return self.regression
        return self.multiclass if n_classes > 2 else self.binary


LOSSES: dict[str, Loss] = _table(
    Loss("bce_logits", "Binary cross-entropy", nn.BCEWithLogitsLoss, regression=False, binary=True,
         multiclass=False, per_class=False, targets=_column_targets, threshold=0.0,
         predict=lambda out: vizgrad.sigmoid(out[:, 0]), torch_predict="torch.sigmoid(out[:, 0])",
         predicts="P(class 1) per point", shows="probability"),
    Loss("cross_entropy", "Cross-entropy", nn.CrossEntropyLoss, regression=False, binary=True, multiclass=True,
         per_class=True, targets=_class_targets, threshold=None,
         predict=lambda out: vizgrad.softmax(out, dim=1), torch_predict="torch.softmax(out, dim=1)",
         predicts="class probabilities per point, shape (n, classes)", shows="logits"),
    Loss("mse", "Mean squared error", nn.MSELoss, regression=True, binary=True, multiclass=False,
         per_class=False, targets=_column_targets, threshold=0.5,
         predict=lambda out: out[:, 0], torch_predict="out[:, 0]",
         predicts="the predicted value per point", shows="value"),
)


# ============================================================================================
# Optimizers
# ============================================================================================
@dataclass(frozen=True)
class Optimizer:
    name: str
    label: str                              # shown on the page
    make: Callable                          # (parameters, NetConfig) -> a vizgrad optimizer
    uses_momentum: bool = False             # reads NetConfig.momentum (the page shows its control)


OPTIMIZERS: dict[str, Optimizer] = _table(
    Optimizer("sgd", "SGD", lambda params, c: optim.SGD(params, lr=c.lr)),
    Optimizer("momentum", "SGD + momentum", lambda params, c: optim.SGD(params, lr=c.lr, momentum=c.momentum),
              uses_momentum=True),
    Optimizer("adam", "Adam", lambda params, c: optim.Adam(params, lr=c.lr)),
)


# ============================================================================================
# Regularizations (a penalty on every Linear layer's weight, added to the data loss)
# ============================================================================================
@dataclass(frozen=True)
class Regularization:
    name: str
    label: str                              # shown on the page
    penalty: Callable | None                # (weight Tensor, rate) -> the penalty Tensor; None: no penalty


REGULARIZATIONS: dict[str, Regularization] = _table(
    Regularization("none", "None", None),
    Regularization("l1", "L1", lambda w, rate: rate * w.abs().sum()),
    Regularization("l2", "L2", lambda w, rate: (rate * 0.5) * (w * w).sum()),
)
