"""Anomaly detection: find the forward line behind a backward that fails or gives NaN.

    with torch.autograd.detect_anomaly():
        loss = model(x, y)[1]
        loss.backward()  # RuntimeError: Function 'SqrtBackward0' returned nan values in ...

While it is on, every graph node remembers the stack of the code that created it, and backward
checks each gradient a node returns: a NaN is an error, and before any error in a node's
backward a warning shows that stack ("Error detected in SqrtBackward0. Traceback of forward call
that caused the error: ..."). A stack per node and a scan per gradient make it slow: for
debugging only. The switch is global, as in PyTorch.
"""

import os
import traceback
import warnings

import numpy as np

_enabled = False
_check_nan = True


def is_anomaly_enabled():
    """True while anomaly detection is on."""
    return _enabled


def is_anomaly_check_nan_enabled():
    """True when anomaly detection also treats a NaN gradient as an error."""
    return _check_nan


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn anomaly detection on or off (PyTorch's torch.set_anomaly_enabled)."""
    global _enabled, _check_nan
    _enabled, _check_nan = bool(enabled), bool(check_nan)


class detect_anomaly:
    """Context manager: anomaly detection on inside, the previous setting restored after."""

    def __init__(self, check_nan=True):
        self.prev, self.prev_check_nan = _enabled, _check_nan
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)


class set_detect_anomaly:
    """Set anomaly detection on or off: as a call (it stays so), or as a context manager (the
    previous setting comes back on exit)."""

    def __init__(self, mode, check_nan=True):
        self.prev, self.prev_check_nan = _enabled, _check_nan
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def forward_stack():
    """The stack that is creating a node, without numpy2gpt's own innermost frames: it ends at
    the user's line that called the op."""
    frames = traceback.extract_stack()
    while frames and frames[-1].filename.startswith(_PACKAGE):
        frames.pop()
    return frames


def check_nan(fn, grads):
    """Raise PyTorch's error if a gradient node `fn` returned holds a NaN (index = input)."""
    for i, g in enumerate(grads):
        if g is not None and np.isnan(g._values()._data if g.is_sparse else g._data).any():
            raise RuntimeError(f"Function '{fn.name()}' returned nan values in its {i}th output.")


def warn_forward_stack(fn):
    """Warn with the stack that created `fn` (recorded while anomaly detection was on)."""
    stack = getattr(fn, "anomaly_stack", None)
    if stack is not None:
        warnings.warn(f"Error detected in {fn.name()}. Traceback of forward call that caused the "
                      "error:\n" + "".join(traceback.format_list(stack)).rstrip("\n"), stacklevel=2)


__all__ = ["detect_anomaly", "set_detect_anomaly"]
