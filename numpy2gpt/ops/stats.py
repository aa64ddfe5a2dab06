"""Statistics over dims: var, std (and var_mean, std_mean), prod, the scans cumsum, cumprod,
cummax, cummin and logcumsumexp, logsumexp, norm.

Forwards are NumPy; backwards are written with numpy2gpt ops (so they can be differentiated
again), following PyTorch's formulas (tools/autograd/derivatives.yaml) including its choices at
the non-differentiable points: the gradient of a norm or std at 0 is 0.
"""

import warnings

import numpy as np

from .. import dtypes
from ..autograd.function import _TENSOR_TYPES, Function, FusedFunction
from ..tensor import Tensor, _check_dim, as_tensor
from ._util import (
    CPP_TYPE_NAMES,
    accumulation_input,
    not_implemented_for,
    numpy_names,
    opmath,
    reduction_dims,
    require_tensor,
)
from .reduction import _spread


def _count(shape, dims):
    """How many elements each output element reduces over."""
    return int(np.prod([shape[d] for d in (range(len(shape)) if dims is None else dims)]))


# ----- var / std --------------------------------------------------------------------------------
def _var_backward(gy, x, dims, keepdim, dof, g_mean=None):
    """d var / dx_i = 2 (x_i - mean) / (N - correction); plus g_mean / N for var_mean's and
    std_mean's second output (d mean / dx_i = 1 / N)."""
    from .reduction import mean

    if x.numel() == 0:
        return Tensor._make(np.zeros_like(x._data))
    scale = 2.0 / dof if dof > 0 else np.inf  # dof 0: inf * 0 = NaN, like PyTorch
    centered = x - mean(x, dim=dims, keepdim=True)
    with np.errstate(invalid="ignore"):
        gx = _spread(gy, x.shape, dims, keepdim) * centered * scale
    if g_mean is not None:
        gx = gx + _spread(g_mean, x.shape, dims, keepdim) * (1.0 / _count(x.shape, dims))
    return gx


def _var_forward(x, dims, keepdim, dof, with_mean=False):
    """Two-pass variance: mean first, then the mean squared deviation (accurate, like NumPy).

    float32 and float16 are computed in float64, as PyTorch's CPU kernels accumulate in double:
    their squared deviations overflow (and underflow) far sooner than their std. One exception,
    also PyTorch's: var and std (not var_mean) of float32 reduced to a single number sum for the
    mean in float32, which overflows where float64 would not. Returns (var, mean) in the wider
    dtype, for the caller to take the root and round."""
    wide = np.float64 if x.dtype.itemsize < 8 else x.dtype.type
    n = _count(x.shape, dims)
    float32_mean = x.dtype == np.float32 and n == x.size and not with_mean
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        total = np.sum(x, axis=dims, keepdims=True, dtype=x.dtype if float32_mean else wide)
        m = total.astype(wide) / wide(n)  # n = 0: NaN, like PyTorch
        d = x - m
        ss = np.sum(d * d, axis=dims, keepdims=keepdim)
        var = np.asarray(ss / wide(dof))
    return var, (m if keepdim else np.squeeze(m, axis=dims))


class Var(Function):
    """Variance over dims; with_mean: var_mean's single node, whose outputs are (var, mean)."""

    def __init__(self, dims, keepdim, dof, with_mean=False):
        self.dims, self.keepdim, self.dof = dims, keepdim, dof
        self.with_mean = with_mean
        if with_mean:
            self.grad_fn_name = "VarMeanBackward0"

    def forward(self, x):
        var, m = _var_forward(x, self.dims, self.keepdim, self.dof, self.with_mean)
        return _rounded(x, var, m if self.with_mean else None)

    def backward(self, gy, g_mean=None):
        (x,) = self.saved_tensors
        return _var_backward(gy, x, self.dims, self.keepdim, self.dof, g_mean)


class Std(Function):
    """Standard deviation over dims; with_mean: std_mean's single node (std, mean)."""

    saves_outputs = True

    def __init__(self, dims, keepdim, dof, with_mean=False):
        self.dims, self.keepdim, self.dof = dims, keepdim, dof
        self.with_mean = with_mean
        if with_mean:
            self.grad_fn_name = "StdMeanBackward0"

    def forward(self, x):
        var, m = _var_forward(x, self.dims, self.keepdim, self.dof, self.with_mean)
        return _rounded(x, np.sqrt(var), m if self.with_mean else None)  # root before rounding

    def backward(self, gy, g_mean=None):
        from .selection import _Mask

        (x,) = self.saved_tensors
        y = self.saved_output()
        # d std = d var / (2 std); PyTorch sets it to 0 where std == 0 (a constant input).
        with np.errstate(divide="ignore", invalid="ignore"):
            g_var = _Mask(y._data != 0)(gy / (2.0 * y))
        return _var_backward(g_var, x, self.dims, self.keepdim, self.dof, g_mean)


def _rounded(x, result, m=None):
    """The forward's float64 result (and mean, if wanted) in x's dtype."""
    result = result.astype(x.dtype, copy=False)
    return result if m is None else (result, np.asarray(m).astype(x.dtype, copy=False))


def _var_args(name, input, dim, unbiased, keepdim, correction):
    """Sort out PyTorch's overloads: var(x, unbiased), var(x, dim, unbiased, keepdim),
    var(x, dim, *, correction, keepdim)."""
    x = as_tensor(input)
    if x.dtype.kind != "f":
        what = "std and var" if name in ("std", "var") else name
        raise RuntimeError(f"{what} only support floating point and complex dtypes")
    if isinstance(dim, bool):  # var(x, True): the old positional `unbiased`
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}(): pass either 'unbiased' or 'correction', not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    dims = reduction_dims(dim, x.ndim, name, 2)
    dof = _count(x.shape, dims) - correction
    if dof <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=4)
    return x, dims, keepdim, max(0, dof)  # PyTorch clamps N - correction at 0


@numpy_names
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over `dim` with `correction` (default 1: the unbiased estimate N-1)."""
    x, dims, keepdim, dof = _var_args("var", input, dim, unbiased, keepdim, correction)
    return Var(dims, keepdim, dof)(x)


@numpy_names
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: sqrt(var) with the same arguments."""
    x, dims, keepdim, dof = _var_args("std", input, dim, unbiased, keepdim, correction)
    return Std(dims, keepdim, dof)(x)


@numpy_names
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over `dim` in one call, with var's arguments; a plain tuple, as PyTorch's."""
    x, dims, keepdim, dof = _var_args("var_mean", input, dim, unbiased, keepdim, correction)
    return Var(dims, keepdim, dof, with_mean=True)(x)


@numpy_names
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over `dim` in one call, with std's arguments; a plain tuple, as PyTorch's."""
    x, dims, keepdim, dof = _var_args("std_mean", input, dim, unbiased, keepdim, correction)
    return Std(dims, keepdim, dof, with_mean=True)(x)


# ----- prod -------------------------------------------------------------------------------------
def _prod_others_array(x, axis):
    """For each element, the product of all the *other* elements of its slice along `axis`.

    Exclusive products from the left times those from the right: exact with zeros (no division).
    """
    if axis is None:
        return _prod_others_array(x.reshape(-1), 0).reshape(x.shape)
    ones = np.ones_like(np.take(x, [0], axis=axis))
    n = x.shape[axis]
    left = np.cumprod(np.concatenate([ones, np.take(x, np.arange(n - 1), axis=axis)], axis), axis)
    xr = np.flip(x, axis)
    right = np.cumprod(np.concatenate([ones, np.take(xr, np.arange(n - 1), axis=axis)], axis),
                       axis)
    return left * np.flip(right, axis)


class _ProdOthers(FusedFunction):
    """The product of the other elements (prod's gradient when the input has zeros)."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        return _prod_others_array(x, self.axis)

    def backward(self, gy):
        raise RuntimeError("prod: double backward through an input that contains zeros is not "
                           "supported by numpy2gpt")


class Prod(Function):
    saves_outputs = True

    def __init__(self, dim, keepdim):
        self.dim, self.keepdim = dim, keepdim  # dim None: all elements
        self.grad_fn_name = "ProdBackward0" if dim is None else "ProdBackward1"

    def forward(self, x):
        # in x's own dtype (NumPy would widen int8 to int64): prod(dtype=int8) wraps as PyTorch's
        return np.asarray(np.prod(x, axis=self.dim, keepdims=self.keepdim, dtype=x.dtype))

    def backward(self, gy):
        (x,) = self.saved_tensors
        dims = None if self.dim is None else (self.dim,)
        g = _spread(gy, x.shape, dims, self.keepdim)
        if not (x._data == 0).any():
            y = _spread(self.saved_output(), x.shape, dims, self.keepdim)
            return g * (y / x)  # d prod / dx_i = prod / x_i
        # With zeros, prod / x_i is 0/0: multiply the other elements instead.
        return g * _ProdOthers(self.dim)(x)


@numpy_names
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of all elements, or along one int `dim`. Integer inputs give int64."""
    x = as_tensor(input)
    x = accumulation_input(x, dtype, "prod")
    if dim is None:
        return Prod(None, False)(x)
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    d = _check_dim(int(dim), x.ndim)
    if x.ndim == 0:
        return Prod(None, False)(x)
    return Prod(d, keepdim)(x)


# ----- cumsum -----------------------------------------------------------------------------------
def _cumsum_array(x, axis):
    # float32/16 accumulate in float64 like PyTorch's CPU kernel (long sums stay accurate)
    if x.dtype.kind == "f" and x.dtype.itemsize < 8:
        return np.cumsum(x, axis=axis, dtype=np.float64).astype(x.dtype)
    return np.cumsum(x, axis=axis, dtype=x.dtype)  # (NumPy would widen int8 to int64)


class Cumsum(Function):
    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        return _cumsum_array(x, self.dim)

    def backward(self, gy):
        return _ReverseCumsum(self.dim)(gy)  # x_j appears in every y_i with i >= j


class _ReverseCumsum(Function):
    """y_i = sum over j >= i of x_j: the adjoint of cumsum (and cumsum is its adjoint)."""

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        return np.ascontiguousarray(np.flip(_cumsum_array(np.flip(x, self.dim), self.dim),
                                            self.dim))

    def backward(self, gy):
        return Cumsum(self.dim)(gy)


@numpy_names
def cumsum(input, dim, *, dtype=None):
    """Running sum along `dim`. Integer and bool inputs give int64, like PyTorch."""
    x = as_tensor(input)
    x = accumulation_input(x, dtype, "cumsum")
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"cumsum(): argument 'dim' must be int, not {type(dim).__name__}")
    d = _check_dim(int(dim), x.ndim)
    if x.ndim == 0:
        return x * 1
    return Cumsum(d)(x)


def _scan_dim(name, x, dim):
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    return _check_dim(int(dim), x.ndim)


# ----- cumprod ----------------------------------------------------------------------------------
def _cumprod_array(x, axis):
    # float32/16 accumulate in float64 like PyTorch's CPU kernel
    if x.dtype.kind == "f" and x.dtype.itemsize < 8:
        return np.cumprod(x, axis=axis, dtype=np.float64).astype(x.dtype)
    return np.cumprod(x, axis=axis, dtype=x.dtype)


class Cumprod(Function):
    """y_i = x_0 x_1 ... x_i along `dim`. dy_i/dx_k = y_i / x_k for i >= k, so without zeros
    the gradient is reverse_cumsum(gy * y) / x (PyTorch's formula); with zeros, where y_i / x_k
    is 0/0, `_CumprodGradWithZeros` computes the products themselves."""

    saves_outputs = True

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        return _cumprod_array(x, self.dim)

    def backward(self, gy):
        (x,) = self.saved_tensors
        if x.shape[self.dim] == 1:  # y = x: gy itself (also for x = inf, where y / x is NaN)
            return gy
        if not (x._data == 0).any():
            return _ReverseCumsum(self.dim)(gy * self.saved_output()) / x
        return _CumprodGradWithZeros(self.dim)(x, gy)


class _CumprodGradWithZeros(FusedFunction):
    """cumprod's gradient for an input with zeros (any number of them), without dividing:

        g_k = sum over i >= k of gy_i * prod_{j <= i, j != k} x_j = P_k * S_k,

    with P_k = x_0 ... x_(k-1) (an exclusive cumprod) and S_k = sum over i >= k of
    gy_i * x_(k+1) ... x_i, computed from the end by S_k = gy_k + x_(k+1) S_(k+1).
    As in PyTorch, a term with a zero factor is dropped, not multiplied out (0 * inf would be
    NaN): S_k stops at the next zero (S_k = gy_k where x_(k+1) = 0) and g_k = 0 after the
    first zero. Not differentiable again (like prod's `_ProdOthers`)."""

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x, gy):
        wide = np.float64 if x.dtype.itemsize < 8 else x.dtype  # float32 in float64, as forward
        a = np.moveaxis(x, self.dim, 0).astype(wide)
        g = np.moveaxis(gy, self.dim, 0).astype(wide)
        before = np.cumprod(np.concatenate([np.ones_like(a[:1]), a[:-1]]), axis=0)  # P_k
        s = np.empty_like(g)
        s[-1] = g[-1]
        for k in range(len(a) - 2, -1, -1):
            s[k] = g[k] + np.where(a[k + 1] == 0, 0, a[k + 1] * s[k + 1])
        zero_before = np.zeros(a.shape, bool)  # a zero among x_0 ... x_(k-1)
        zero_before[1:] = np.logical_or.accumulate(a[:-1] == 0, axis=0)
        g = np.where(zero_before, 0, before * s)
        return np.ascontiguousarray(np.moveaxis(g, 0, self.dim)).astype(x.dtype)

    def backward(self, gy):
        raise RuntimeError("cumprod: double backward through an input that contains zeros is "
                           "not supported by numpy2gpt")


def cumprod(input, dim, *, dtype=None):
    """Running product along `dim`. Integer and bool inputs give int64, like PyTorch. The
    gradient is exact also where the input has zeros."""
    x = as_tensor(input)
    x = accumulation_input(x, dtype, "cumprod")
    d = _scan_dim("cumprod", x, dim)
    if x.ndim == 0:
        return Cumprod(0)(x.reshape(1)).reshape(())
    return Cumprod(d)(x)


# ----- cummax / cummin --------------------------------------------------------------------------
def _cum_extreme_index(a, d, sign):
    """For each position along d, the index of the running max (sign +1) or min so far: the last
    one among ties, and once a NaN is seen, the last NaN (PyTorch's rule)."""
    running = (np.maximum if sign > 0 else np.minimum).accumulate(a, axis=d)  # NaN propagates
    hit = a == running
    if a.dtype.kind == "f":
        hit |= np.isnan(a)
    position = np.arange(a.shape[d]).reshape((-1,) + (1,) * (a.ndim - d - 1))
    return np.maximum.accumulate(np.where(hit, position, 0), axis=d)


def _cum_extreme(name, sign, input, dim):
    from .selection import _select_along, return_types

    x = as_tensor(input)
    d = _scan_dim(name, x, dim)
    result = getattr(return_types, name)
    grad_fn_name = name.capitalize() + "Backward0"
    if x.ndim == 0:
        v, i = _select_along(x.reshape(1), np.zeros(1, np.int64), 0, False, grad_fn_name)
        return result(v, i)
    return result(*_select_along(x, _cum_extreme_index(x._data, d, sign), d, True,
                                 grad_fn_name))


def cummax(input, dim):
    """(values, indices) of the running maximum along `dim`. Each value's gradient goes to the
    element it was taken from."""
    return _cum_extreme("cummax", 1, input, dim)


def cummin(input, dim):
    """(values, indices) of the running minimum along `dim`. Each value's gradient goes to the
    element it was taken from."""
    return _cum_extreme("cummin", -1, input, dim)


# ----- logcumsumexp -----------------------------------------------------------------------------
def _logcumsumexp_array(x, axis):
    """log(e^x_0 + ... + e^x_i) by pairwise logaddexp (stable); float32 accumulates in float64."""
    wide = np.float64 if x.dtype.itemsize < 8 else x.dtype
    return np.logaddexp.accumulate(x.astype(wide), axis=axis).astype(x.dtype)


class LogCumSumExp(Function):
    """y_i = log(e^x_0 + ... + e^x_i) along `dim` (reverse=True: the sums run from the end)."""

    saves_outputs = True
    grad_fn_name = "LogcumsumexpBackward0"

    def __init__(self, dim, reverse=False):
        self.dim, self.reverse = dim, reverse

    def forward(self, x):
        if not self.reverse:
            return _logcumsumexp_array(x, self.dim)
        flipped = _logcumsumexp_array(np.flip(x, self.dim), self.dim)
        return np.ascontiguousarray(np.flip(flipped, self.dim))

    def backward(self, gy):
        """dL/dx_k = sum over i >= k of gy_i e^(x_k - y_i), in log space as PyTorch does (from
        TensorFlow): the positive and negative parts of gy separately, each as
        exp(reverse_logcumsumexp(log|gy| - y) + x). No overflow, also for large x."""
        from .elementwise import exp, log
        from .indexing import where

        (x,) = self.saved_tensors
        y = self.saved_output()
        lowest = float(np.finfo(gy.dtype).min)  # log of "nothing" (PyTorch's choice, not -inf)
        log_abs = log(gy.abs())
        parts = [LogCumSumExp(self.dim, not self.reverse)(where(sign, log_abs, lowest) - y) + x
                 for sign in (gy > 0, gy < 0)]  # (the reversed scan: the sums over i >= k)
        return exp(parts[0]) - exp(parts[1])


def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along `dim`, computed stably (floating point tensors only)."""
    x = as_tensor(input)
    not_implemented_for(x, "logcumsumexp_out_cpu")
    d = _scan_dim("logcumsumexp", x, dim)
    if x.ndim == 0:
        return LogCumSumExp(0)(x.reshape(1)).reshape(())
    return LogCumSumExp(d)(x)


# ----- logsumexp --------------------------------------------------------------------------------
class LogSumExp(Function):
    saves_outputs = True
    grad_fn_name = "LogsumexpBackward0"

    def __init__(self, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        # log sum e^x = m + log sum e^(x - m) with m the max: no overflow. An infinite m is
        # replaced by 0 (all -inf gives -inf, a +inf gives +inf), as PyTorch does.
        m = np.max(x, axis=self.dims, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, np.zeros((), x.dtype))
        with np.errstate(divide="ignore"):
            s = np.log(np.sum(np.exp(x - m), axis=self.dims, keepdims=True)) + m
        return s if self.keepdim else np.squeeze(s, self.dims)

    def backward(self, gy):
        from .elementwise import exp

        (x,) = self.saved_tensors
        y = _spread(self.saved_output(), x.shape, self.dims, self.keepdim)
        with np.errstate(invalid="ignore"):  # inf - inf = NaN, as in PyTorch
            return _spread(gy, x.shape, self.dims, self.keepdim) * exp(x - y)  # softmax(x) * gy


@numpy_names
def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over `dim`, computed stably. Integer inputs become the default float."""
    x = as_tensor(input)
    if dim is None:
        raise TypeError("logsumexp(): argument 'dim' (position 2) must be tuple of ints, not "
                        "NoneType")
    if x.dtype.kind != "f":
        x = x.to(dtypes.get_default_dtype())
    dims = reduction_dims(dim, x.ndim, "logsumexp", 2)
    if dims is None:
        dims = tuple(range(x.ndim))
    return LogSumExp(dims, keepdim)(x)


# ----- norm -------------------------------------------------------------------------------------
def _vector_norm_array(x, p, dims, keepdim):
    if x.dtype == np.float16:  # summed in float32, as PyTorch does (x^2 overflows from 256 up)
        with np.errstate(over="ignore"):
            return _vector_norm_array(opmath(x), p, dims, keepdim).astype(np.float16)
    a = np.abs(x)
    if p == 2:
        return np.sqrt(np.sum(x * x, axis=dims, keepdims=keepdim))
    if p == 1:
        return np.sum(a, axis=dims, keepdims=keepdim)
    if p == np.inf:
        return np.max(a, axis=dims, keepdims=keepdim)
    if p == -np.inf:
        return np.min(a, axis=dims, keepdims=keepdim)
    if p == 0:
        return np.sum(x != 0, axis=dims, keepdims=keepdim).astype(x.dtype)
    with np.errstate(divide="ignore"):
        return np.power(np.sum(np.power(a, x.dtype.type(p)), axis=dims, keepdims=keepdim),
                        x.dtype.type(1.0 / p))


class Norm(Function):
    """The vector p-norm over `dims` (None = all): (sum |x|^p)^(1/p)."""

    saves_outputs = True
    grad_fn_name = "LinalgVectorNormBackward0"

    def __init__(self, p, dims, keepdim):
        self.p, self.dims, self.keepdim = p, dims, keepdim

    def forward(self, x):
        return np.asarray(_vector_norm_array(x, self.p, self.dims, self.keepdim))

    def backward(self, gy):
        # Divisions by a zero norm happen below and are then masked to 0: no warnings for them.
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._backward(gy)

    def _backward(self, gy):
        """PyTorch's norm_backward, case by case (s = sign(x), g = gy spread over the dims)."""
        from .arithmetic import pow
        from .elementwise import abs
        from .selection import _Mask

        (x,) = self.saved_tensors
        p, dims, keepdim = self.p, self.dims, self.keepdim
        if p == 0:
            return None  # counting nonzeros is flat almost everywhere: no gradient
        g = _spread(gy, x.shape, dims, keepdim)
        norm = _spread(self.saved_output(), x.shape, dims, keepdim)
        xd, nd = x._data, norm._data
        sign = Tensor._make(np.sign(xd))
        if p == 1:
            return g * sign
        if p == 2:
            return g * _Mask(nd != 0)(x / norm)  # x / ||x||, and 0 at x = 0
        if np.isinf(p):
            # The gradient goes to the element(s) whose |x| equals the norm, shared evenly.
            mask = (np.abs(xd) == nd) | np.isnan(xd)
            w = sign._data * (mask / mask.sum(axis=dims, keepdims=True))
            return g * Tensor._make(w.astype(xd.dtype))
        if p < 1:
            scaled = _Mask(xd != 0)(sign * pow(abs(x), p - 1))
            return scaled * g * pow(norm, 1 - p)
        # d ||x||_p / dx = s |x|^(p-1) / ||x||^(p-1)   (x |x|^(p-2) for p > 2 avoids sign)
        scaled = sign * pow(abs(x), p - 1) if p < 2 else x * pow(abs(x), p - 2)
        return scaled * _Mask(nd != 0)(g / pow(norm, p - 1))


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """The p-norm over `dim` (None = all elements). p: a number (2, 1, inf, 0.5, ...) or 'fro'
    (the 2-norm). The gradient at 0 is 0, like PyTorch."""
    if out is not None:
        raise TypeError("norm(): the 'out' argument is not supported by numpy2gpt")
    x = as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_TENSOR_TYPES[x.dtype.name]}")
    dims = reduction_dims(dim, x.ndim, "norm", 2)
    if isinstance(p, str):
        if p != "fro":
            raise RuntimeError(f"norm(): p={p!r} is not supported by numpy2gpt (use a number "
                               "or 'fro')")
        if dims is not None and len(dims) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
        p = 2
    if p is None:
        p = 2
    if not isinstance(p, int | float | np.number) or isinstance(p, bool):
        raise TypeError(f"norm(): p must be a number or 'fro', not {type(p).__name__}")
    p = float(p)
    if np.isinf(p) and x.numel() == 0:
        raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty tensor "
                           "because the operation does not have an identity")
    return Norm(p, dims, keepdim)(x)



# ----- quantile / nanquantile -------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_q(name, x, q):
    """q as an array of x's dtype (0-d or 1-D), checked like PyTorch."""
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError("quantile() q must be a scalar or 1D tensor")
        if q.dtype != x.dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
        if ((q._data < 0) | (q._data > 1)).any():
            raise RuntimeError("quantile() q values must be in the range [0, 1]")
        return q._data
    if not isinstance(q, int | float | np.number) or isinstance(q, bool):
        raise TypeError(f"{name}(): argument 'q' must be float or Tensor, not {type(q).__name__}")
    if not 0 <= q <= 1:
        raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q}")
    return np.asarray(q, x.dtype)


def _quantile(name, input, q, dim, keepdim, interpolation, ignore_nan):
    """PyTorch's algorithm: sort along the dim, then for each q pick the sorted values at rank
    q * (n - 1) (below and above it) and interpolate. Sorting and picking are differentiable, so
    the gradient reaches the (one or two) elements each quantile is made of."""
    from .indexing import take_along_dim
    from .selection import sort
    from .shape import broadcast_to, movedim, reshape

    x = require_tensor(input, name, "input", 1)
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError("quantile() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if x.dtype not in (np.float32, np.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    qa = _quantile_q(name, x, q)
    if x.numel() == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    if dim is None:
        rows = reshape(x, -1)
        out_shape = (1,) * x.ndim if keepdim else ()
    else:
        d = _check_dim(dim, x.ndim)
        rows = movedim(x, d, -1) if x.ndim else reshape(x, 1)
        out_shape = x.shape[:d] + (1,) * keepdim + x.shape[d + 1:]
    values = sort(rows, dim=-1).values  # NaN sorts last
    n, a = values.shape[-1], values._data
    # one rank per (q, row): shape (len(q), *rows, 1)
    qs = qa.reshape((-1,) + (1,) * a.ndim)
    nan = np.isnan(a)
    if ignore_nan:  # rank among the non-NaN values; a row of NaNs gives rank 0, a NaN
        ranks = np.maximum(qs * ((~nan).sum(-1, keepdims=True) - 1).astype(a.dtype), 0)
    else:  # a row with a NaN gives rank n - 1, a NaN
        ranks = np.where(nan.any(-1, keepdims=True), a.dtype.type(n - 1), qs * a.dtype.type(n - 1))
    ranks = {"lower": np.floor, "higher": np.ceil, "nearest": np.round}.get(
        interpolation, lambda r: r)(ranks)
    below = ranks.astype(np.int64)
    values = broadcast_to(values, (qs.shape[0],) + a.shape)
    out = take_along_dim(values, Tensor._make(below), dim=-1)
    if interpolation in ("linear", "midpoint"):
        weights = np.full_like(ranks, 0.5) if interpolation == "midpoint" else \
            ranks - np.floor(ranks)
        above = take_along_dim(values, Tensor._make(np.ceil(ranks).astype(np.int64)), dim=-1)
        out = out.lerp(above, Tensor._make(weights))
    out_shape = ((qa.size,) if qa.ndim else ()) + out_shape
    return reshape(out, out_shape)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles of all elements (dim None) or along `dim`; q a number in [0, 1] or a
    1-D tensor of them (its dim comes first in the result). interpolation says what to return
    between two elements: linear, lower, higher, midpoint or nearest. A NaN makes it NaN."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """quantile of the non-NaN values (NaN only where all are NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, ignore_nan=True)


# ----- histc / histogram (counts: no gradient) --------------------------------------------------
def _finite_range(name, lo, hi):
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"{name}: range of [{lo:g}, {hi:g}] is not finite")


def histc(input, bins=100, min=0, max=0):
    """Counts of the elements in `bins` equal-width bins from min to max (both 0: the data's
    range; a single value v: [v - 1, v + 1]). Elements outside are ignored; max falls in the
    last bin. The result has input's dtype."""
    x = require_tensor(input, "histc", "input", 1)
    not_implemented_for(x, "linspace_cpu", "b")  # (PyTorch's first kernel that has no bool)
    not_implemented_for(x, "histogram_cpu")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    a = x._data.reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    _finite_range("torch.histc", lo, hi)
    a = a[(a >= lo) & (a <= hi)]
    lo_, hi_ = x.dtype.type(lo), x.dtype.type(hi)  # the bin of each element, in x's precision
    pos = ((a - lo_) * x.dtype.type(bins) / (hi_ - lo_)).astype(np.int64)
    counts = np.bincount(np.minimum(pos, bins - 1), minlength=bins)
    return Tensor._make(counts.astype(x.dtype))


def _histogram_return_type():
    from .selection import _return_type

    return _return_type("histogram", ("hist", "bin_edges"))


def histogram(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges): counts (or summed weights) of the elements in each bin. bins is a
    count of equal bins over `range` (default: the data's range, widened by 0.5 on both sides
    when it is one value) or a 1-D tensor of increasing edges. density=True divides by the
    total and by each bin's width, so the histogram integrates to 1."""
    x = require_tensor(input, "histogram", "input", 1)
    not_implemented_for(x, "histogramdd")
    a = x._data.reshape(-1)
    if weight is not None and weight.shape != x.shape:
        raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the "
                           "same shape as the input tensor excluding its innermost dimension, "
                           f"but got input with shape {list(x.shape) + [1]} and weight with shape "
                           f"{list(weight.shape)}")
    if isinstance(bins, Tensor):
        if bins.dtype != x.dtype:
            raise RuntimeError("torch.histogramdd: input tensor and bins tensors should have the "
                               "same dtype, but got input with dtype "
                               f"{CPP_TYPE_NAMES[x.dtype.name]} and bins for dimension 0 with "
                               f"dtype {CPP_TYPE_NAMES[bins.dtype.name]}")
        edges = bins._data
    else:
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                               "dimension 0")
        if range is not None:
            lo, hi = (float(v) for v in range)
            if lo > hi:
                raise RuntimeError("torch.histogramdd: min should not exceed max, but got min "
                                   f"{lo:g} max {hi:g} for dimension 0")
        elif a.size:
            lo, hi = float(a.min()), float(a.max())
        else:
            lo, hi = 0.0, 1.0
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        _finite_range("torch.histogramdd", lo, hi)
        edges = np.linspace(lo, hi, bins + 1).astype(x.dtype)
    w = None if weight is None else weight._data.reshape(-1)
    inside = (a >= edges[0]) & (a <= edges[-1])
    # the bin of v: the last edge <= v (the rightmost edge closes the last bin)
    pos = np.minimum(np.searchsorted(edges, a[inside], side="right") - 1, edges.size - 2)
    hist = np.bincount(pos, weights=None if w is None else w[inside],
                       minlength=edges.size - 1).astype(x.dtype)
    if density:
        with np.errstate(divide="ignore", invalid="ignore"):
            hist = (hist / hist.sum() / np.diff(edges)).astype(x.dtype)
    return _histogram_return_type()(Tensor._make(hist), Tensor._make(edges.copy()))




# ----- cov / corrcoef ---------------------------------------------------------------------------
def _check_weights(name, w, n, integral):
    kind = "integral" if integral else "floating point"
    if w.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                           f"{name} with {w.ndim} dimensions")
    if (w.dtype.kind in "iu") != integral or w.dtype.kind == "b":
        raise RuntimeError(f"cov(): expected {name} to have {kind} dtype but got {name} with "
                           f"{_TENSOR_TYPES.get(w.dtype.name, w.dtype.name)} dtype")
    if w.numel() != n:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                           f"observations in the input but got {w.numel()} != {n}")
    if n and (w._data < 0).any():
        raise RuntimeError(f"cov(): {name} cannot be negative")


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance matrix of the variables in input's rows (observations in its columns; a 1-D
    input is one variable, giving a 0-d result). correction=1 is the unbiased estimate;
    fweights (integer counts) and aweights (float weights) weight the observations. PyTorch's
    formula: sum_k w_k (x_ik - avg_i)(x_jk - avg_j) / (sum w - correction * sum(w aw) / sum w)."""
    import warnings

    x = require_tensor(input, "cov", "input", 1)
    if x.ndim > 2:
        raise RuntimeError("cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {x.ndim} dimensions")
    if x.dtype == np.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = x.reshape(1, -1) if x.ndim < 2 else x
    n = x.shape[1]
    w = None
    if fweights is not None:
        _check_weights("fweights", fweights, n, integral=True)
        w = fweights
    if aweights is not None:
        _check_weights("aweights", aweights, n, integral=False)
        w = aweights if w is None else w * aweights
    w_sum = Tensor._make(np.asarray(n, np.int64)) if w is None else w.sum()
    if w is not None and not w_sum._data != 0:
        raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    avg = (x if w is None else x * w).sum(1) / w_sum
    if w is not None and aweights is not None and correction != 0:
        norm = w_sum - correction * (w * aweights).sum() / w_sum
    else:
        norm = w_sum - correction
    if norm._data <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm = norm * 0
    centered = x - avg.unsqueeze(1)
    c = centered.mm((centered if w is None else centered * w).t())
    return (c / norm).squeeze()


def corrcoef(input):
    """Pearson correlation coefficients of the variables in input's rows: cov normalised by the
    standard deviations, clipped to [-1, 1]."""
    x = require_tensor(input, "corrcoef", "input", 1)
    if x.ndim > 2:
        raise RuntimeError("corrcoef(): expected input to have two or fewer dimensions but got "
                           f"an input with {x.ndim} dimensions")
    c = cov(x)
    if c.ndim == 0:  # one variable: 1, or NaN when its variance is 0, inf or NaN
        return c / c
    std = c.diagonal().sqrt()
    return (c / std.reshape(-1, 1) / std.reshape(1, -1)).clip(-1, 1)


# ----- trapezoid / cumulative_trapezoid / vander ------------------------------------------------
def _integration_dim(y, dim):
    if y.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return _check_dim(dim, y.ndim)


def _sample_spacing(name, y, x, dx, d):
    """dx along dim d: the differences of the sample points x (1-D, or broadcastable to y), or
    the number dx (default 1)."""
    if x is not None and dx is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got both x "
                        "and dx")
    if x is None:
        dx = 1 if dx is None else dx
        if not isinstance(dx, int | float | np.number) or isinstance(dx, bool):
            raise TypeError(f"{name}(): argument 'dx' must be a real number, not "
                            f"{type(dx).__name__}")
        return float(dx)
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, "
                        f"{type(x).__name__})")
    if y.dtype == np.bool_ or x.dtype == np.bool_:
        raise RuntimeError(f"{name}: received a bool input for `x` or `y`, but bool is not "
                           "supported")
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        x = x.reshape(tuple(x.shape[0] if k == d else 1 for k in range(y.ndim)))
    elif x.ndim < y.ndim:
        x = x.reshape((1,) * (y.ndim - x.ndim) + tuple(x.shape))
    n = x.shape[d]
    return x.narrow(d, 1, n - 1) - x.narrow(d, 0, n - 1)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of y along `dim` by the trapezoidal rule: sum of (y_i + y_{i+1}) / 2 times
    the spacing, given as sample points x or a constant dx (default 1)."""
    y = require_tensor(y, "trapezoid", "y", 1)
    d = _integration_dim(y, dim)
    if y.shape[d] == 0:  # no samples: 0, like NumPy
        return Tensor._make(np.zeros(y.shape[:d] + y.shape[d + 1:], y.dtype))
    spacing = _sample_spacing("trapezoid", y, x, dx, d)
    if isinstance(spacing, float):
        if y.dtype == np.bool_:
            raise RuntimeError("trapezoid: received a bool input for `y`, but bool is not "
                               "supported")
        return (y.sum(d) - (y.select(d, 0) + y.select(d, -1)) * 0.5) * spacing
    n = y.shape[d]
    return ((y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) * spacing).sum(d) / 2.0


def trapz(y, x=None, *, dx=None, dim=-1):
    """trapezoid (the older name)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integrals of y along `dim` (one fewer element than y there)."""
    y = require_tensor(y, "cumulative_trapezoid", "y", 1)
    d = _integration_dim(y, dim)
    if y.dtype == np.bool_:
        raise RuntimeError("cumulative_trapezoid: received a bool input for `y`, but bool is not "
                           "supported")
    spacing = _sample_spacing("cumulative_trapezoid", y, x, dx, d)
    n = y.shape[d]
    pairs = y.narrow(d, 0, max(n - 1, 0)) + y.narrow(d, min(1, n), max(n - 1, 0))
    return cumsum(spacing / 2.0 * pairs, d)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D x: column j is x ** (N - 1 - j) (x ** j if increasing);
    N defaults to len(x). Built as a running product, as PyTorch does (integer inputs give
    int64)."""
    from .join import cat, flip

    x = require_tensor(x, "vander", "x", 1)
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dtype = dtypes.promote_types(x.dtype, dtypes.int64)
    columns = [Tensor._make(np.ones((x.shape[0], min(n, 1)), dtype))]
    if n > 1:
        columns.append(cumprod(x.to(dtype).unsqueeze(1).expand(x.shape[0], n - 1), 1))
    result = cat(columns, 1)
    return result if increasing else flip(result, (1,))

TENSOR_METHODS = {"var": var, "std": std, "prod": prod, "cumsum": cumsum,
                  "logsumexp": logsumexp, "norm": norm, "cumprod": cumprod, "cummax": cummax,
                  "cummin": cummin, "logcumsumexp": logcumsumexp, "quantile": quantile,
                  "nanquantile": nanquantile, "histc": histc, "histogram": histogram, "cov": cov,
                  "corrcoef": corrcoef}
__all__ = ["var", "std", "prod", "cumsum", "logsumexp", "norm", "var_mean", "std_mean",
           "cumprod", "cummax", "cummin", "logcumsumexp", "quantile", "nanquantile", "histc",
           "histogram", "cov", "corrcoef", "trapezoid", "trapz", "cumulative_trapezoid",
           "vander"]
