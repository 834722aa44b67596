"""vizgrad.optim: optimizers with torch's update rules (`import vizgrad.optim as optim`)."""
from vizgrad.optim.optimizer import Optimizer
from vizgrad.optim.algorithms import SGD, Adam, AdamW, RMSprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop"]
