"""numpy2gpt.optim: optimizers and learning-rate schedules (PyTorch's torch.optim)."""

from . import lr_scheduler, more
from .adam import Adam, AdamW
from .more import *  # noqa: F403
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler", *more.__all__]
