"""numpy2gpt.nn: layers with parameters (Module, Linear, LayerNorm, ...), initialisers and the
stateless functional ops (PyTorch's torch.nn)."""

from . import functional, init, parallel, utils  # noqa: F401
from .modules import (  # noqa: F401
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    AdaptiveLogSoftmaxWithLoss,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    CTCLoss,
    Dropout,
    Embedding,
    EmbeddingBag,
    Flatten,
    GroupNorm,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    HuberLoss,
    Identity,
    KLDivLoss,
    L1Loss,
    LayerNorm,
    LazyLinear,
    LeakyReLU,
    Linear,
    LocalResponseNorm,
    LogSoftmax,
    Mish,
    Module,
    ModuleDict,
    ModuleList,
    MSELoss,
    NLLLoss,
    ParameterDict,
    ParameterList,
    ReLU,
    ReLU6,
    RMSNorm,
    Sequential,
    Sigmoid,
    SiLU,
    SmoothL1Loss,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
    Unflatten,
)
from .modules.attention import *  # noqa: F403
from .modules.batchnorm import *  # noqa: F403
from .modules.conv import *  # noqa: F403
from .modules.extra import *  # noqa: F403
from .modules.lazy import (  # noqa: F401
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyBatchNorm3d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyInstanceNorm3d,
)
from .modules.pooling import *  # noqa: F403
from .modules.rnn import *  # noqa: F403
from .modules.sampling import *  # noqa: F403
from .modules.transformer import *  # noqa: F403
from .parameter import (  # noqa: F401
    Buffer,
    Parameter,
    UninitializedBuffer,
    UninitializedParameter,
)
