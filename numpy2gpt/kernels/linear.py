"""linear: y = x @ W^T + b over any leading dims of x, and its gradients.

Both kernels see x as a matrix of rows: x2 = x viewed as (N, in), N the product of x's leading
dims (the forward hands x2 to the backward, which needs it for dL/dW).
"""

import math

import numpy as np

from . import switch
from .rows import ones_vector


def _quiet():
    """inf * 0 and inf - inf give NaN, and products may overflow to inf: silently, as in
    PyTorch."""
    return np.errstate(invalid="ignore", over="ignore")


def _rows(x):
    """x (..., in) as an (N, in) matrix of rows: a view when x is contiguous."""
    return x.reshape(math.prod(x.shape[:-1]), x.shape[-1])


def _to_bias_shape(gb, bias_shape):
    """The (out,) bias gradient for a bias of `bias_shape`: (out,), or one number broadcast over
    all outputs ((1,) or ()), whose gradient is the sum."""
    return gb if gb.shape == bias_shape else gb.sum(keepdims=True).reshape(bias_shape)


def linear_forward_reference(x, weight, bias):
    """y = x @ W^T + b: x (..., in), W (out, in), b (out,) (or broadcastable) or None.
    Returns (y, x as an (N, in) matrix) - the second for the backward."""
    with _quiet():
        y = np.matmul(x, weight.T)
        if bias is not None:
            y = y + bias
    return y, _rows(x)


def linear_forward_fast(x, weight, bias):
    """One 2-D GEMM for all rows (a batched matmul over (B, T, in) makes one BLAS call per
    leading index), and the bias added in place into that fresh product."""
    x2 = _rows(x)
    with _quiet():
        y = x2 @ weight.T
        if bias is not None:
            y += bias
    return y.reshape(x.shape[:-1] + (weight.shape[0],)), x2


def linear_backward_reference(gy, x2, weight, x_shape, bias_shape, needs):
    """dL/dx, dL/dW, dL/db for y = x W^T + b (None where `needs` says no; bias_shape None
    without a bias). With gy2 the (N, out) rows of the gradient:
        dL/dx = gy2 W     dL/dW = gy2^T x2     dL/db = the sum of gy2's rows."""
    gy2 = gy.reshape(x2.shape[0], weight.shape[0])
    with _quiet():
        gx = (gy2 @ weight).reshape(x_shape) if needs[0] else None
        gw = gy2.T @ x2 if needs[1] else None
        gb = None
        if bias_shape is not None and needs[2]:
            gb = _to_bias_shape(gy2.sum(axis=0), bias_shape)
    return gx, gw, gb


def linear_backward_fast(gy, x2, weight, x_shape, bias_shape, needs):
    """The bias gradient (column sums of gy2) as a vector-matrix product with ones: BLAS sums
    the columns several times faster than gy2.sum(axis=0)."""
    gy2 = gy.reshape(x2.shape[0], gy.shape[-1])  # (not -1: gy may have no elements)
    with _quiet():
        gx = (gy2 @ weight).reshape(x_shape) if needs[0] else None
        gw = gy2.T @ x2 if needs[1] else None
        gb = None
        if bias_shape is not None and needs[2]:
            gb = _to_bias_shape(ones_vector(gy2.shape[0], gy2.dtype) @ gy2, bias_shape)
    return gx, gw, gb


linear_forward = switch(linear_forward_reference, linear_forward_fast)
linear_backward = switch(linear_backward_reference, linear_backward_fast)
