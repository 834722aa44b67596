"""vizgrad.optim: optimizers with torch's update rules (`import vizgrad.optim as optim`), and
learning-rate schedules (vizgrad.optim.lr_scheduler)."""
from vizgrad.optim.optimizer import Optimizer
from vizgrad.optim.algorithms import SGD, Adam, AdamW, RMSprop
from vizgrad.optim import lr_scheduler  # noqa: E402  (torch.optim.lr_scheduler after `import torch.optim`)

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
