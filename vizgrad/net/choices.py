"""The Network Playground's choices of activation, loss, optimizer and regularization."""
from __future__ import annotations

__all__ = ["ACTIVATIONS", "LOSSES", "OPTIMIZERS", "REGULARIZATIONS"]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "leaky_relu")
LOSSES = ("bce_logits", "cross_entropy", "mse")
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "l1", "l2")
