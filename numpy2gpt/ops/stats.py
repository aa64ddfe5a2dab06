"""Statistics over dims: var, std (and var_mean, std_mean), prod, the scans cumsum, cumprod,
cummax, cummin and logcumsumexp, logsumexp, norm.

Forwards are NumPy; backwards are written with numpy2gpt ops (so they can be differentiated
again), following PyTorch's formulas (tools/autograd/derivatives.yaml) including its choices at
the non-differentiable points: the gradient of a norm or std at 0 is 0.
"""

import numpy as np

from .. import dtypes
from ..autograd.function import Function, FusedFunction
from ..dtypes import dtype_name
from ..tensor import Tensor, _check_dim, as_tensor
from ._util import accumulation_input, not_implemented_for, numpy_names, reduction_dims
from .reduction import _spread


def _count(shape, dims):
    """How many elements each output element reduces over."""
    return int(np.prod([shape[d] for d in (range(len(shape)) if dims is None else dims)]))


# ----- var / std --------------------------------------------------------------------------------
def _var_backward(gy, x, dims, keepdim, dof):
    """d var / dx_i = 2 (x_i - mean) / (N - correction)."""
    from .reduction import mean

    if x.numel() == 0:
        return Tensor._make(np.zeros_like(x._data))
    scale = 2.0 / dof if dof > 0 else np.inf  # dof 0: inf * 0 = NaN, like PyTorch
    centered = x - mean(x, dim=dims, keepdim=True)
    with np.errstate(invalid="ignore"):
        return _spread(gy, x.shape, dims, keepdim) * centered * scale


def _var_forward(x, dims, keepdim, dof):
    """Two-pass variance: mean first, then the mean squared deviation (accurate, like NumPy)."""
    n = _count(x.shape, dims)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.sum(x, axis=dims, keepdims=True) / x.dtype.type(n)  # n = 0: NaN, like PyTorch
        d = x - m
        ss = np.sum(d * d, axis=dims, keepdims=keepdim)
        return np.asarray(ss / x.dtype.type(dof))


class Var(Function):
    def __init__(self, dims, keepdim, dof):
        self.dims, self.keepdim, self.dof = dims, keepdim, dof

    def forward(self, x):
        return _var_forward(x, self.dims, self.keepdim, self.dof)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return _var_backward(gy, x, self.dims, self.keepdim, self.dof)


class Std(Function):
    saves_outputs = True

    def __init__(self, dims, keepdim, dof):
        self.dims, self.keepdim, self.dof = dims, keepdim, dof

    def forward(self, x):
        return np.sqrt(_var_forward(x, self.dims, self.keepdim, self.dof))

    def backward(self, gy):
        from .selection import _Mask

        (x,) = self.saved_tensors
        y = self.saved_output()
        # d std = d var / (2 std); PyTorch sets it to 0 where std == 0 (a constant input).
        with np.errstate(divide="ignore", invalid="ignore"):
            g_var = _Mask(y._data != 0)(gy / (2.0 * y))
        return _var_backward(g_var, x, self.dims, self.keepdim, self.dof)


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
    dims = reduction_dims(dim, x.ndim)
    dof = max(0, _count(x.shape, dims) - correction)  # PyTorch clamps N - correction at 0
    return x, dims, keepdim, dof


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
    from .reduction import mean

    x, dims, keepdim, dof = _var_args("var_mean", input, dim, unbiased, keepdim, correction)
    return Var(dims, keepdim, dof)(x), mean(x, dims, keepdim)


@numpy_names
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over `dim` in one call, with std's arguments; a plain tuple, as PyTorch's."""
    from .reduction import mean

    x, dims, keepdim, dof = _var_args("std_mean", input, dim, unbiased, keepdim, correction)
    return Std(dims, keepdim, dof)(x), mean(x, dims, keepdim)


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
    x = accumulation_input(x, dtype)
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
    x = accumulation_input(x, dtype)
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
        if not (x._data == 0).any():
            return _ReverseCumsum(self.dim)(gy * self.saved_output()) / x
        return _CumprodGradWithZeros(self.dim)(x, gy)


class _CumprodGradWithZeros(FusedFunction):
    """cumprod's gradient for an input with zeros (any number of them), without dividing:

        g_k = sum over i >= k of gy_i * prod_{j <= i, j != k} x_j = P_k * S_k,

    with P_k = x_0 ... x_(k-1) (an exclusive cumprod) and S_k = sum over i >= k of
    gy_i * x_(k+1) ... x_i, computed from the end by S_k = gy_k + x_(k+1) S_(k+1).
    Not differentiable again (like prod's `_ProdOthers`)."""

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
            s[k] = g[k] + a[k + 1] * s[k + 1]
        return np.ascontiguousarray(np.moveaxis(before * s, 0, self.dim)).astype(x.dtype)

    def backward(self, gy):
        raise RuntimeError("cumprod: double backward through an input that contains zeros is "
                           "not supported by numpy2gpt")


def cumprod(input, dim, *, dtype=None):
    """Running product along `dim`. Integer and bool inputs give int64, like PyTorch. The
    gradient is exact also where the input has zeros."""
    x = as_tensor(input)
    x = accumulation_input(x, dtype)
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
    if x.dtype.kind != "f":
        x = x.to(dtypes.get_default_dtype())
    dims = reduction_dims(dim, x.ndim)
    if dims is None:
        dims = tuple(range(x.ndim))
    return LogSumExp(dims, keepdim)(x)


# ----- norm -------------------------------------------------------------------------------------
def _vector_norm_array(x, p, dims, keepdim):
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
                           f"input. Got {dtype_name(x.dtype)}")
    dims = reduction_dims(dim, x.ndim)
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


TENSOR_METHODS = {"var": var, "std": std, "prod": prod, "cumsum": cumsum,
                  "logsumexp": logsumexp, "norm": norm, "cumprod": cumprod, "cummax": cummax,
                  "cummin": cummin, "logcumsumexp": logcumsumexp}
__all__ = ["var", "std", "prod", "cumsum", "logsumexp", "norm", "var_mean", "std_mean",
           "cumprod", "cummax", "cummin", "logcumsumexp"]
