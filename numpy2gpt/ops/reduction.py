"""Reductions: sum and mean over dims. Every input element contributed once to its output
element, so the gradient is the output gradient broadcast back over the reduced dims."""

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..tensor import as_tensor
from ._util import numpy_names, reduction_dims


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
    x = as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
        return Sum(reduction_dims(dim, x.ndim), keepdim, x.dtype)(x)
    if x.dtype.kind in "biu":  # integer sums accumulate in int64, like PyTorch
        x = x.to(dtypes.int64)
    return Sum(reduction_dims(dim, x.ndim), keepdim)(x)


@numpy_names
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over `dim` (an int, a tuple of ints, or None for all dims); floating dtypes only."""
    x = as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {dtypes.dtype_name(x.dtype)}")
    return Mean(reduction_dims(dim, x.ndim), keepdim)(x)


TENSOR_METHODS = {"sum": sum, "mean": mean}
__all__ = ["sum", "mean"]
