"""numpy2gpt.optim: optimizers and learning-rate schedules (PyTorch's torch.optim)."""

from . import lr_scheduler, more, swa_utils
from .adafactor import Adafactor
from .adam import Adam, AdamW
from .more import *  # noqa: F403
from .muon import Muon
from .optimizer import Optimizer
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "SparseAdam", "Adafactor", "Muon", "lr_scheduler",
           "swa_utils", *more.__all__]
