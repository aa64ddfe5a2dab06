"""The layers of numpy2gpt.nn, one family per file (as in PyTorch's torch/nn/modules/)."""

from .activation import GELU, Dropout, LeakyReLU, ReLU, Sigmoid, SiLU, Softmax, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module, current_module_path
from .normalization import LayerNorm
from .sparse import Embedding

__all__ = ["Module", "Linear", "Identity", "Embedding", "LayerNorm", "GELU", "ReLU", "SiLU",
           "Tanh", "Sigmoid", "LeakyReLU", "Softmax", "Dropout", "Flatten", "Sequential",
           "ModuleList", "ModuleDict", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss",
           "BCELoss", "BCEWithLogitsLoss", "current_module_path"]
