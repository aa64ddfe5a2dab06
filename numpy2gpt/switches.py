"""Process-wide switches that training scripts set once at the top (as they would in PyTorch):
`torch.use_deterministic_algorithms(True)`, `torch.set_float32_matmul_precision("high")`,
`torch.set_default_device("cpu")`, ...

numpy2gpt runs on one device (the CPU) with NumPy's kernels, which are deterministic and compute
float32 matmuls in float32, so most switches change nothing: each remembers its setting, so the
matching getter answers like PyTorch's, and checks its argument like PyTorch does.
"""

import warnings

from .tensor import check_device
from .tensor import device as _device

_state = {"deterministic": False, "warn_only": False, "matmul_precision": "highest",
          "warn_always": False}


def _require_bool(value, message):
    if not isinstance(value, bool):
        raise TypeError(message.format(type(value).__name__))


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Ask for deterministic algorithms only (warn_only: warn rather than raise where an op has
    none). numpy2gpt's ops are all deterministic, so this only records the setting."""
    _require_bool(mode, "_set_deterministic_algorithms(): argument 'mode' (position 1) must be "
                        "bool, not {}")
    _require_bool(warn_only, "_set_deterministic_algorithms(): argument 'warn_only' must be "
                             "bool, not {}")
    _state["deterministic"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    """Whether use_deterministic_algorithms(True) is in effect."""
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    """Whether use_deterministic_algorithms was called with warn_only=True."""
    return _state["warn_only"]


_PRECISIONS = ("highest", "high", "medium")


def set_float32_matmul_precision(precision):
    """"highest", "high" or "medium": how much precision float32 matmuls may trade for speed
    on hardware that can (TF32, bfloat16). NumPy always multiplies in full float32, so this
    only records the setting; anything else warns and changes nothing, as in PyTorch."""
    if not isinstance(precision, str):
        raise RuntimeError("set_float32_matmul_precision expects a str, but got "
                           f"{type(precision).__name__}")
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _state["matmul_precision"] = precision


def get_float32_matmul_precision():
    """The float32 matmul precision last set ("highest" by default)."""
    return _state["matmul_precision"]


def set_default_device(device):
    """The device new tensors are made on: numpy2gpt has only the CPU, so "cpu" (or None, which
    resets it) is accepted and any other device raises."""
    check_device(device)


def get_default_device():
    """The device new tensors are made on: always the CPU."""
    return _device("cpu")


def set_flush_denormal(mode):
    """Whether to flush denormal floats to zero. NumPy always keeps denormals, so turning it on
    is not supported (returns False); turning it off succeeds (returns True)."""
    if not isinstance(mode, bool):
        raise RuntimeError(f"flush_denormal expects a bool, but got {type(mode).__name__}")
    return not mode


def set_warn_always(b, /):
    """Whether warnings PyTorch gives once per process are given every time (recorded)."""
    if not isinstance(b, bool):
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {type(b).__name__}")
    _state["warn_always"] = b


def is_warn_always_enabled():
    """Whether set_warn_always(True) is in effect."""
    return _state["warn_always"]


__all__ = ["use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "set_default_device", "get_default_device",
           "set_flush_denormal", "set_warn_always", "is_warn_always_enabled"]
