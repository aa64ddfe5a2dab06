"""softmax and log_softmax: each one fused Function with a hand-derived backward.

The math (the textbook reference and the fast kernel beside it) is in numpy2gpt/kernels/softmax.py;
the Functions here check their arguments, move `dim` last, and keep what backward needs. Their
`composed` (the same formulas in differentiable ops) is what autograd differentiates for higher
derivatives (create_graph=True).
"""

import warnings

import numpy as np

from ...autograd.function import FusedFunction
from ...kernels.softmax import (
    log_softmax_backward,
    log_softmax_forward,
    softmax_backward,
    softmax_forward,
)
from ...ops._util import not_implemented_for
from ...tensor import Tensor, _check_dim


def _as_rows(x, dim):
    """x with `dim` moved last (a view) and at least 2-D: the rows the kernels take."""
    xm = np.moveaxis(x, dim, -1) if x.ndim else x.reshape(1)
    return xm if xm.ndim >= 2 else xm.reshape(1, -1)


def _from_rows(a, x_shape, dim):
    """Undo `_as_rows`: back to the input's layout (views, no copies)."""
    if len(x_shape) <= 1:
        return a.reshape(x_shape)
    return np.moveaxis(a, -1, dim)


def composed_log_softmax(x, dim):
    """log_softmax in differentiable ops, for higher derivatives (the fused ops' `composed`, and
    the losses'): z = x - max, z - log(sum(exp(z))). The max is detached: shifting a row by a
    constant changes neither value nor gradient, it only keeps exp from overflowing."""
    if x.numel() == 0:  # nothing to normalise (and no max to take)
        return x * 1
    z = x - x.amax(dim, keepdim=True).detach()
    return z - z.exp().sum(dim, keepdim=True).log()


# ----- fused Functions ----------------------------------------------------------------------------
class SoftmaxFunction(FusedFunction):
    """y = exp(x - c) / sum(exp(x - c)) along `dim`."""

    grad_fn_name = "SoftmaxBackward0"

    saves_outputs = True  # backward is cheapest from y itself
    backward_reads_inputs = False

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        if x.size == 0:
            return np.empty_like(x)
        return _from_rows(softmax_forward(_as_rows(x, self.dim)), x.shape, self.dim)

    def backward(self, gy):
        y = _as_rows(self.saved_output()._data, self.dim)
        gx = softmax_backward(y, _as_rows(gy, self.dim))
        return _from_rows(gx, gy.shape, self.dim)

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        if x.numel() == 0:  # nothing to normalise (and no max to take)
            return x * 1
        # the max detached, as in `composed_log_softmax`
        e = (x - x.amax(self.dim, keepdim=True).detach()).exp()
        return e / e.sum(self.dim, keepdim=True)


class LogSoftmax(FusedFunction):
    """y = x - c - log(sum(exp(x - c))) along `dim`."""

    backward_reads_inputs = False  # backward reads what forward kept (exp(x - c), its sums)

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        xr = _as_rows(x, self.dim)
        if xr.size == 0:
            return np.empty_like(x)
        z, self.saved = log_softmax_forward(xr)  # saved: what backward needs (no exp to redo)
        return _from_rows(z, x.shape, self.dim)

    def backward(self, gy):
        if gy.size == 0:
            return np.empty_like(gy)
        gx = log_softmax_backward(self.saved, _as_rows(gy, self.dim))
        return _from_rows(gx, gy.shape, self.dim)

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        return composed_log_softmax(x, self.dim)


# ----- wrappers -----------------------------------------------------------------------------------
def _softmax_dim(name, ndim, stacklevel):
    """PyTorch's (deprecated) implicit dim: 0 for 0-, 1- and 3-D inputs, else 1."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _prepare(name, input, dim, dtype, stacklevel=3):
    if not isinstance(input, Tensor):  # PyTorch calls input.softmax(...)
        raise AttributeError(f"'{type(input).__name__}' object has no attribute '{name}'")
    x = input
    if dtype is not None:
        if not isinstance(dtype, np.dtype):
            raise TypeError(f"{name}(): argument 'dtype' must be torch.dtype, not "
                            f"{type(dtype).__name__}")
        x = x.to(dtype)
    if dim is None:
        dim = _softmax_dim(name, x.ndim, stacklevel + 1)  # + 1: this helper's own frame
    if not isinstance(dim, int | np.integer):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    d = _check_dim(int(dim), x.ndim)
    if x.numel():  # PyTorch's kernels exist for floating dtypes only (empty tensors pass)
        last = "_lastdim" if d == max(x.ndim - 1, 0) else ""
        not_implemented_for(x, f"{name}{last}_kernel_impl")
    return x, d


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along `dim` (numerically stable). `dtype` casts the input first.

    Like PyTorch, dim=None picks an implicit dim (0 for 0/1/3-D inputs, else 1) with a warning.
    """
    x, d = _prepare("softmax", input, dim, dtype, _stacklevel)
    return SoftmaxFunction(d)(x)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along `dim`, computed as (x - max) - log(sum(exp(x - max)))."""
    x, d = _prepare("log_softmax", input, dim, dtype, _stacklevel)
    return LogSoftmax(d)(x)


# installed on Tensor by numpy2gpt/__init__.py, like the op families' tables: x.softmax(dim)
TENSOR_METHODS = {
    "softmax": lambda self, dim, dtype=None: softmax(self, dim, dtype=dtype),
    "log_softmax": lambda self, dim, dtype=None: log_softmax(self, dim, dtype=dtype),
}

__all__ = ["softmax", "log_softmax"]
