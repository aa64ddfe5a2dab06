"""numpy2gpt.nn: layers with parameters (Module, Linear, LayerNorm, ...), initialisers and the
stateless functional ops (PyTorch's torch.nn)."""

from . import functional, init, parallel, utils  # noqa: F401
from .modules import (  # noqa: F401
    GELU,
    Dropout,
    Embedding,
    Identity,
    LayerNorm,
    Linear,
    Module,
    ModuleDict,
    ModuleList,
    ReLU,
    Sequential,
    SiLU,
    Softmax,
)
from .parameter import Parameter  # noqa: F401
