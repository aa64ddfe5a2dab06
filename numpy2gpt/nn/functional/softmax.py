"""softmax and log_softmax: each one fused Function with a hand-derived backward.

softmax(x)_j = exp(x_j - c) / sum_k exp(x_k - c) for any constant c per row; c = the row max keeps
exp from overflowing. NumPy is slow at the exact row max of short rows (it reduces them one at a
time: ~3x the cost of the exp itself), while the max of a whole contiguous block is ~25x cheaper.
So softmax (and attention) shift every row by its block's max (the max over the last two axes) and
then check each row: a row whose own max sits far below the block's (its sum of exps would be
tiny) is redone with its exact max. The check makes the shortcut safe; see `exp_rows`.
log_softmax (and cross_entropy) use the exact row max: there precision near log p = 0 matters.

`softmax_composed` / `log_softmax_composed` are the same math written with primitive numpy2gpt ops:
the reference the fused versions are tested against, and twice differentiable.
"""

import contextlib
import math
import warnings

import numpy as np

from ...autograd.function import FusedFunction
from ...dtypes import dtype_name
from ...kernels.rows import row_max, row_sum
from ...ops.elementwise import exp, log
from ...tensor import Tensor, _check_dim, as_tensor

_nothing = contextlib.nullcontext()


def exact_rows(x, out=None, safe=False):
    """(e, s, m): e = exp(x - m), s = row_sum(e) with m the exact max of each row (last axis).

    Rows with inf or NaN give NaN, like PyTorch. `safe`: all -inf rows give e = 0, s = 0 instead.
    """
    m = row_max(x)
    if np.isfinite(m).all():
        e = np.subtract(x, m, out=out)
    else:
        with np.errstate(invalid="ignore"):  # inf - inf = NaN, like PyTorch
            if safe:
                m[np.isneginf(m)] = 0  # an all -inf row: exp gives 0 everywhere, not NaN
            e = np.subtract(x, m, out=out)
    np.exp(e, out=e)  # every e <= 1 (or NaN)
    return e, row_sum(e), m


def exp_rows(x, out=None, recompute=None, safe=False):
    """Like `exact_rows` for x.ndim >= 2, but shifting by the max of each block (the last two axes).

    Returns (e, s, shift); e / s[..., None] is softmax(x). `shift` broadcasts against x: one value
    per block or, when a row needed the exact path, one per row. `out`: where e is written; pass
    `x` itself to work in place on a temporary you own (then `recompute()` must return x again,
    for the rare rows redone exactly).

    Why the block max is safe: it is >= every element, so exp never overflows and s <= n. A row is
    kept when s >= sqrt(tiny) (tiny = the smallest normal number of the dtype: ~1e-38 in float32,
    2e-308 in float64): then an element can only have lost precision to underflow (exp < tiny) if
    its probability is < tiny / s <= sqrt(tiny), far below anything float32/float64 resolve next
    to 1; and the shift is at most log(n / sqrt(tiny)) ~ 44 (float32) above the row max, which
    costs at most ~44 * eps relative precision in exp (~3e-6 in float32). Other rows (and any
    block holding inf or NaN) take the exact path. (log_softmax and cross_entropy always use the
    exact path: there the shift would cost *absolute* precision on log-probabilities near 0.)
    """
    if x.size == 0:
        e = np.empty_like(x) if out is None else out
        return e, np.zeros(x.shape[:-1], x.dtype), np.zeros(x.shape[:-1] + (1,), x.dtype)
    c = x.max(axis=(-2, -1), keepdims=True)  # one contiguous reduction per block: cheap
    if not np.isfinite(c).all():  # inf or NaN somewhere (x is still untouched)
        return exact_rows(x, out=out, safe=safe)
    e = np.subtract(x, c, out=out)
    np.exp(e, out=e)
    s = row_sum(e)
    bad = ~(s >= math.sqrt(np.finfo(x.dtype).tiny))  # also catches NaN
    if not bad.any():
        return e, s, c
    # The exact path for the rows in `bad`: shift by the row's own max.
    shift = np.broadcast_to(c, x.shape[:-1] + (1,)).copy()
    src = recompute() if out is x else x
    e[bad], s[bad], shift[bad] = exact_rows(src[bad], safe=safe)
    return e, s, shift


def _as_rows(x, dim):
    """x with `dim` moved last (a view) and at least 2-D, so exp_rows applies."""
    xm = np.moveaxis(x, dim, -1) if x.ndim else x.reshape(1)
    return xm if xm.ndim >= 2 else xm.reshape(1, -1)


def _from_rows(a, x_shape, dim):
    """Undo `_as_rows`: back to the input's layout (views, no copies)."""
    if len(x_shape) <= 1:
        return a.reshape(x_shape)
    return np.moveaxis(a, -1, dim)


# ----- fused Functions ----------------------------------------------------------------------------
class SoftmaxFunction(FusedFunction):
    """y = exp(x - c) / sum(exp(x - c)) along `dim`."""

    grad_fn_name = "SoftmaxBackward0"

    saves_outputs = True  # backward is cheapest from y itself

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        if x.size == 0:
            return np.empty_like(x)
        e, s, _ = exp_rows(_as_rows(x, self.dim))
        e *= (1 / s)[..., None]  # in place on our own temporary: it becomes y (s > 0 or NaN)
        return _from_rows(e, x.shape, self.dim)

    def backward(self, gy):
        # dy_i/dx_j = y_i (delta_ij - y_j), so gx_j = sum_i gy_i y_i (delta_ij - y_j)
        #                                            = y_j (gy_j - sum_i gy_i y_i).
        y = _as_rows(self.saved_output().data, self.dim)
        g = _as_rows(gy, self.dim)
        gx = g * y
        r = row_sum(gx)
        np.subtract(g, r[..., None], out=gx)
        gx *= y
        return _from_rows(gx, gy.shape, self.dim)


class LogSoftmax(FusedFunction):
    """y = x - c - log(sum(exp(x - c))) along `dim`."""

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        xr = _as_rows(x, self.dim)
        if xr.size == 0:
            self.e, self.s = xr, np.zeros(xr.shape[:-1], xr.dtype)
            return np.empty_like(x)
        m = row_max(xr)  # exact row max: log-probs near 0 keep full precision
        with np.errstate(invalid="ignore") if not np.isfinite(m).all() else _nothing:
            z = xr - m  # inf - inf: NaN rows, like PyTorch
        e = np.exp(z)
        s = row_sum(e)  # >= 1 (or NaN)
        z -= np.log(s)[..., None]  # (x - m) - log(sum(exp(x - m)))
        self.e, self.s = e, s  # softmax = e / s, for backward (no exp to redo)
        return _from_rows(z, x.shape, self.dim)

    def backward(self, gy):
        # dy_i/dx_j = delta_ij - softmax_j, so gx_j = gy_j - softmax_j * sum_i gy_i.
        if gy.size == 0:
            return np.empty_like(gy)
        g = _as_rows(gy, self.dim)
        gx = self.e * (row_sum(g) / self.s)[..., None]  # s >= 1 (or NaN)
        np.subtract(g, gx, out=gx)
        return _from_rows(gx, gy.shape, self.dim)


# ----- wrappers -----------------------------------------------------------------------------------
def _softmax_dim(name, ndim, stacklevel):
    """PyTorch's (deprecated) implicit dim: 0 for 0-, 1- and 3-D inputs, else 1."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _prepare(name, input, dim, dtype, stacklevel=3):
    x = as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(f"{name}(): expected a floating point input, got "
                           f"{dtype_name(x.dtype)} (pass dtype=numpy2gpt.float32 to convert)")
    if dim is None:
        dim = _softmax_dim(name, x.ndim, stacklevel + 1)  # + 1: this helper's own frame
    if not isinstance(dim, int | np.integer):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    return x, _check_dim(int(dim), x.ndim)


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


# ----- reference implementations from primitive ops -----------------------------------------------
def _detached_max(x, dim):
    """max over `dim` (keepdim) as a constant. Softmax is shift-invariant, so a constant shift
    changes no value and no gradient: the max needs no gradient of its own."""
    m = np.max(x.data, axis=dim, keepdims=True) if x.numel() else np.zeros(
        x.shape[:dim] + (1,) + x.shape[dim + 1:], x.dtype)
    m = np.where(np.isfinite(m), m, 0)  # an all -inf row stays -inf - 0 = -inf (exp -> 0)
    return Tensor._make(m.astype(x.dtype, copy=False))


def softmax_composed(input, dim, dtype=None):
    """softmax from primitive ops (exp, sum, div): the reference for `softmax`."""
    x, d = _prepare("softmax", input, dim, dtype)
    if x.ndim == 0:
        return softmax_composed(x.reshape(1), 0).reshape(())
    e = exp(x - _detached_max(x, d))
    return e / e.sum(d, keepdim=True)


def log_softmax_composed(input, dim, dtype=None):
    """log_softmax from primitive ops: (x - m) - log(sum(exp(x - m)))."""
    x, d = _prepare("log_softmax", input, dim, dtype)
    if x.ndim == 0:
        return log_softmax_composed(x.reshape(1), 0).reshape(())
    z = x - _detached_max(x, d)
    return z - log(exp(z).sum(d, keepdim=True))


# installed on Tensor by numpy2gpt/__init__.py, like the op families' tables: x.softmax(dim)
TENSOR_METHODS = {
    "softmax": lambda self, dim, dtype=None: softmax(self, dim, dtype=dtype),
    "log_softmax": lambda self, dim, dtype=None: log_softmax(self, dim, dtype=dtype),
}

__all__ = ["softmax", "log_softmax"]
