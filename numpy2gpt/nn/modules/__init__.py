"""The layers of numpy2gpt.nn, one family per file (as in PyTorch's torch/nn/modules/)."""

from . import attention, batchnorm, conv, extra, lazy, pooling, rnn, sampling, transformer
from .activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Dropout,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
)
from .adaptive import AdaptiveLogSoftmaxWithLoss
from .attention import *  # noqa: F403
from .batchnorm import *  # noqa: F403
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .conv import *  # noqa: F403
from .extra import *  # noqa: F403
from .flatten import Flatten, Unflatten
from .lazy import *  # noqa: F403
from .linear import Identity, LazyLinear, Linear
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    CTCLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module, current_module_path
from .normalization import GroupNorm, LayerNorm, LocalResponseNorm, RMSNorm
from .pooling import *  # noqa: F403
from .rnn import *  # noqa: F403
from .sampling import *  # noqa: F403
from .sparse import Embedding, EmbeddingBag
from .transformer import *  # noqa: F403

__all__ = ["Module", "Linear", "Identity", "Embedding", "LayerNorm", "GELU", "ReLU", "SiLU",
           "Tanh", "Sigmoid", "LeakyReLU", "Softmax", "Dropout", "Flatten", "Sequential",
           "ModuleList", "ModuleDict", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss",
           "BCELoss", "BCEWithLogitsLoss", "current_module_path"]
__all__ += ["RMSNorm", "GroupNorm", "ELU", "CELU", "SELU", "Mish", "Softsign", "Hardtanh",
            "ReLU6", "Hardswish", "Hardsigmoid", "GLU", "LogSoftmax", "Softplus", "Softmin",
            "SmoothL1Loss", "HuberLoss", "KLDivLoss", "Unflatten", "CTCLoss"]
__all__ += ["ParameterList", "ParameterDict", "EmbeddingBag", "LazyLinear", "LocalResponseNorm",
            "AdaptiveLogSoftmaxWithLoss"]
__all__ += (attention.__all__ + batchnorm.__all__ + conv.__all__ + extra.__all__
            + lazy.__all__ + pooling.__all__ + rnn.__all__ + sampling.__all__ + transformer.__all__)
