"""Reductions: sum and mean over dims, their NaN-skipping forms nansum and nanmean; the counts
count_nonzero and bincount. Every input element contributed once to its output element, so the
gradient is the output gradient broadcast back over the reduced dims (zero for a skipped NaN)."""

import numpy as np

from .. import dtypes
from ..autograd.function import _TENSOR_TYPES, Function
from ..tensor import Tensor, as_tensor
from ._util import accumulation_input, not_implemented_for, numpy_names, reduction_dims


def _keepdim_shape(shape, dims):
    """`shape` with the reduced dims set to 1 (dims None = all)."""
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _spread(gy, x_shape, dims, keepdim):
    """Broadcast an output gradient back over the dims that were reduced."""
    from .shape import broadcast_to, reshape

    if not keepdim:
        gy = reshape(gy, _keepdim_shape(x_shape, dims))
    return broadcast_to(gy, x_shape)


class Sum(Function):
    saves_values = False

    def __init__(self, dims, keepdim, dtype=None):
        self.dims, self.keepdim = dims, keepdim
        self.dtype = dtype  # sum in this dtype (NumPy would widen small ints to int64)
        if dims is not None:
            self.grad_fn_name = "SumBackward1"  # PyTorch's name for the sum over dims

    def forward(self, x):
        return np.sum(x, axis=self.dims, keepdims=self.keepdim, dtype=self.dtype)

    def backward(self, gy):
        return _spread(gy, self.inputs[0].shape, self.dims, self.keepdim)


class Mean(Function):
    saves_values = False

    def __init__(self, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim
        if dims is not None:
            self.grad_fn_name = "MeanBackward1"

    def forward(self, x):
        return np.mean(x, axis=self.dims, keepdims=self.keepdim)

    def backward(self, gy):
        shape = self.inputs[0].shape
        n = np.prod([shape[d] for d in (self.dims if self.dims is not None else range(len(shape)))])
        return _spread(gy, shape, self.dims, self.keepdim) * (1.0 / n)


@numpy_names
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over `dim` (an int, a tuple of ints, or None for all dims)."""
    x = accumulation_input(as_tensor(input), dtype, "sum")  # integer sums: in int64, like PyTorch
    dims = reduction_dims(dim, x.ndim, "sum", 2)
    return Sum(dims, keepdim, None if dtype is None else x.dtype)(x)


@numpy_names
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over `dim` (an int, a tuple of ints, or None for all dims); floating dtypes only."""
    x = as_tensor(input)
    if dtype is not None and dtypes.to_dtype(dtype).kind != "f":
        raise RuntimeError("mean(): could not infer output dtype. Optional dtype must be either "
                           "a floating point or complex dtype. Got: "
                           f"{_TENSOR_TYPES[dtypes.to_dtype(dtype).name]}")
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_TENSOR_TYPES[x.dtype.name]}")
    return Mean(reduction_dims(dim, x.ndim, "mean", 2), keepdim)(x)


class NanSum(Function):
    """Sum over dims with NaN counted as 0; a NaN's gradient is 0 (it was not added)."""

    grad_fn_name = "NansumBackward0"

    def __init__(self, dims, keepdim, dtype=None):
        self.dims, self.keepdim, self.dtype = dims, keepdim, dtype

    def forward(self, x):
        return np.asarray(np.nansum(x, axis=self.dims, keepdims=self.keepdim, dtype=self.dtype))

    def backward(self, gy):
        (x,) = self.saved_tensors
        # times 0 or 1, as PyTorch: an infinite gy (nanmean of all-NaN) gives NaN at a NaN
        kept = Tensor._make((~np.isnan(x._data)).astype(gy.dtype))
        return _spread(gy, x.shape, self.dims, self.keepdim) * kept


@numpy_names
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """sum, treating NaN as 0. Integer and bool inputs give int64, as sum."""
    x = as_tensor(input)
    x = accumulation_input(x, dtype, "nansum")
    return NanSum(reduction_dims(dim, x.ndim, "nansum", 2), keepdim, x.dtype)(x)


@numpy_names
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the elements that are not NaN (NaN where all are): composed, as PyTorch
    computes it, as nansum(input) / count of non-NaN elements, so the gradients agree."""
    x = as_tensor(input)
    if x.dtype.kind != "f":
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {_TENSOR_TYPES.get(x.dtype.name, x.dtype.name)}")
    from .special import isnan

    count = sum(~isnan(x), dim, keepdim)
    return nansum(x, dim, keepdim, dtype=dtype) / count


def count_nonzero(input, dim=None):
    """How many elements are nonzero, over `dim` (an int, a tuple, or None for all): int64."""
    x = as_tensor(input)
    dims = reduction_dims(dim, x.ndim, "count_nonzero", 2)
    return Tensor._make(np.asarray(np.count_nonzero(x._data, axis=dims), dtype=np.int64))


def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ..., max occurs in the 1-D non-negative integer `input` (at
    least `minlength` bins); with `weights`, the sum of the weights of each value's elements.
    The result is int64, or the weights' dtype for float32 / float64 weights, else float64.
    PyTorch has no derivative for it."""
    from .arithmetic import NotDifferentiable

    x = as_tensor(input)
    if not isinstance(minlength, int | np.integer) or isinstance(minlength, bool):
        raise TypeError(f"bincount(): argument 'minlength' must be int, not "
                        f"{type(minlength).__name__}")
    not_implemented_for(x, "bincount_cpu", "fb")
    if x.ndim != 1 or (x._data < 0).any():
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return Tensor._make(np.bincount(x._data, minlength=minlength).astype(np.int64))
    w = as_tensor(weights)
    if w.ndim != 1 or w.shape[0] != x.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if x.shape[0] == 0:  # PyTorch's int64 zeros, whatever the weights' dtype
        return Tensor._make(np.zeros(minlength, np.int64))
    dt = w.dtype if w.dtype in (np.float32, np.float64) else np.dtype(np.float64)

    def weighted_counts(w, x):
        return np.bincount(x, w.astype(np.float64), minlength=minlength).astype(dt)

    return NotDifferentiable("bincount", weighted_counts)(w, x)


TENSOR_METHODS = {"sum": sum, "mean": mean, "nansum": nansum, "nanmean": nanmean,
                  "count_nonzero": count_nonzero, "bincount": bincount}
__all__ = ["sum", "mean", "nansum", "nanmean", "count_nonzero", "bincount"]
