"""numpy2gpt.nn: layers with parameters (Module, Linear, LayerNorm, ...), initialisers and the
stateless functional ops (PyTorch's torch.nn)."""

from . import functional, init, parallel, utils  # noqa: F401
from .modules import (  # noqa: F401
    GELU,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    L1Loss,
    LayerNorm,
    LeakyReLU,
    Linear,
    Module,
    ModuleDict,
    ModuleList,
    MSELoss,
    NLLLoss,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)
from .parameter import Parameter  # noqa: F401
