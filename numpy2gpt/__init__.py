"""numpy2gpt: a PyTorch-compatible define-by-run autograd engine in NumPy, and a GPT built on it.

`import numpy2gpt as torch` runs the covered PyTorch subset unchanged.
"""

import builtins as _builtins

import numpy as _np

# Importing numpy2gpt.ops installs the math methods on Tensor (x.exp(), x @ y, ...).
from . import (  # (linalg and special are torch.linalg and torch.special)
    amp,
    autograd,
    backends,
    cuda,
    distributed,
    distributions,
    dtypes,
    func,
    linalg,
    nn,
    ops,
    optim,
    profiler,
    random,
    sparse,
    special,
    testing,
)
from .amp import autocast
from .autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .autograd.anomaly_mode import (
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_anomaly_enabled,
)
from .dtypes import (
    bfloat16,
    bool,
    can_cast,
    double,
    finfo,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .kernels.threads import get_num_threads, set_num_threads
from .nn.functional import (  # (PyTorch has these activations at the top level too)
    celu,
    celu_,
    hardshrink,
    log_softmax,
    prelu,
    relu_,
    rrelu,
    rrelu_,
    selu,
    selu_,
    softmax,
    threshold,
    threshold_,
)
from .nn.functional.softmax import TENSOR_METHODS as _SOFTMAX_METHODS
from .nn.functional.torch_level import *  # noqa: F403 (torch.dropout(x, p, train), ...)
from .ops.arithmetic import *  # noqa: F403
from .ops.creation import *  # noqa: F403
from .ops.elementwise import *  # noqa: F403
from .ops.householder import geqrf, orgqr
from .ops.indexing import *  # noqa: F403
from .ops.join import *  # noqa: F403
from .ops.linalg import *  # noqa: F403
from .ops.reduction import *  # noqa: F403
from .ops.selection import *  # noqa: F403
from .ops.shape import *  # noqa: F403
from .ops.special import *  # noqa: F403
from .ops.stats import *  # noqa: F403
from .random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from .serialization import load, save
from .sparse import layout, sparse_coo, sparse_coo_tensor, spmm, strided
from .switches import *  # noqa: F403
from .tensor import LEGACY_TENSOR_TYPES as _LEGACY_TENSOR_TYPES
from .tensor import (
    Size,
    Tensor,
    as_tensor,
    channels_last,
    channels_last_3d,
    contiguous_format,
    device,
    memory_format,
    preserve_format,
    set_printoptions,
    tensor,
)
from .torch_hook import as_torch
from .utils.memory import reuse_freed_buffers as _reuse_freed_buffers

_reuse_freed_buffers()  # a training loop's freed activations are reused: see utils/memory.py

for _name, _method in {**_SOFTMAX_METHODS, **linalg.TENSOR_METHODS}.items():  # x.softmax(dim)
    setattr(Tensor, _name, _method)
for _name in ("dist", "prelu", "hardshrink"):  # x.dist(y): the torch-level functions as methods
    setattr(Tensor, _name, globals()[_name])
globals().update(linalg.TORCH_FUNCTIONS)  # torch.det, torch.inverse, torch.cdist, ...
globals().update(ops.inplace.TORCH_FUNCTIONS)  # torch.exp_(x), torch.clamp_(x, 0), ...
globals().update(ops.shape.TORCH_FUNCTIONS)  # torch.permute_copy(x, dims), ...
globals().update(_LEGACY_TENSOR_TYPES)  # torch.FloatTensor, torch.LongTensor, ...
del _name, _method

dtype = type(float32)
__version__ = "0.1.0"


def is_floating_point(input):
    """Whether input's dtype is a floating one (float16, float32, float64)."""
    return input.is_floating_point()


def is_complex(input):
    """False: numpy2gpt has no complex dtypes."""
    if not isinstance(input, Tensor):
        raise TypeError("is_complex(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return False


def promote_types(type1, type2):
    """The smallest dtype that both dtypes convert to without losing their kind."""
    return dtypes.promote_types(dtypes.require_dtype("promote_types", "type1", 1, type1),
                                dtypes.require_dtype("promote_types", "type2", 2, type2))


def result_type(tensor, other):  # noqa: F811 (PyTorch names the argument `tensor`)
    """The dtype an arithmetic op on `tensor` and `other` (tensors or numbers) returns."""
    return ops._util.result_type(tensor, other)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


_said_no_compile = False


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """`torch.compile`: numpy2gpt has no compiler, so the model (or function) is returned as it
    is, running eagerly; it says so once. Without `model`, a decorator, as in PyTorch."""
    global _said_no_compile
    if model is None:
        return lambda fn: compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                  mode=mode, options=options, disable=disable)
    if not disable and not _said_no_compile:
        import warnings

        _said_no_compile = True
        warnings.warn("numpy2gpt.compile does not compile: the model runs eagerly, as it is",
                      UserWarning, stacklevel=2)
    return model


# PyTorch's numbers and NumPy-style index constant (torch.inf, torch.pi, x[:, torch.newaxis])
inf, nan, pi, e, newaxis = _np.inf, _np.nan, _np.pi, _np.e, None


def get_device(input):
    """-1: every numpy2gpt tensor is on the CPU (PyTorch's number for it)."""
    if not isinstance(input, Tensor):
        raise TypeError("get_device(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return input.get_device()


def typename(obj, /):
    """A readable type name: a tensor's type() ('numpy2gpt.FloatTensor'), 'numpy2gpt.dtype',
    else the object's module and qualified name ('numpy2gpt.nn.modules.linear.Linear', 'int')."""
    if isinstance(obj, Tensor):
        return obj.type()
    if isinstance(obj, _np.dtype):  # (numpy2gpt's dtypes are NumPy's)
        return "numpy2gpt.dtype"
    module, qualname = getattr(obj, "__module__", "") or "", ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module, qualname = obj.__class__.__module__ or "", obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def is_storage(obj, /):
    """False: numpy2gpt has no storage objects (a tensor's memory is its NumPy array)."""
    return False


_num_interop_threads = 1


def get_num_interop_threads():
    """The number of threads for running independent ops in parallel: numpy2gpt runs ops one
    at a time, so this is only the number set_num_interop_threads stored (1 at first)."""
    return _num_interop_threads


def set_num_interop_threads(num):
    """Store the number get_num_interop_threads returns (numpy2gpt runs ops one at a time)."""
    global _num_interop_threads
    if isinstance(num, _builtins.bool) or not isinstance(num, _builtins.int | _np.integer):
        raise TypeError(f"set_num_interop_threads(): argument 'num' (position 1) must be int, "
                        f"not {type(num).__name__}")
    if num < 1:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _num_interop_threads = _builtins.int(num)
