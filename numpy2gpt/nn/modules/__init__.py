"""The layers of numpy2gpt.nn, one family per file (as in PyTorch's torch/nn/modules/)."""

from .activation import GELU, Dropout, ReLU, SiLU, Softmax
from .container import ModuleDict, ModuleList, Sequential
from .linear import Identity, Linear
from .module import Module, current_module_path
from .normalization import LayerNorm
from .sparse import Embedding

__all__ = ["Module", "Linear", "Identity", "Embedding", "LayerNorm", "GELU", "ReLU", "SiLU",
           "Softmax", "Dropout", "Sequential", "ModuleList", "ModuleDict", "current_module_path"]
