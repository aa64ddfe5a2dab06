"""layer_norm as one fused Function with a hand-derived backward.

Over the last D = prod(normalized_shape) elements of each row:
    mu = mean(x),  var = mean((x - mu)^2)  (biased, like PyTorch),  rstd = 1 / sqrt(var + eps)
    xhat = (x - mu) * rstd,  y = xhat * weight + bias
Composed from primitive ops this is ~10 graph nodes and as many full-size temporaries each way;
fused, the row statistics are matrix-vector products (BLAS sums rows far faster than
`x.sum(axis=-1)`) and backward reuses xhat and rstd saved by forward.
"""

import math

import numpy as np

from ...autograd.function import FusedFunction
from ...dtypes import dtype_name
from ...kernels.rows import ones_vector
from ...tensor import as_tensor


class LayerNorm(FusedFunction):
    """Normalise the rows of x viewed as (N, D); has_weight / has_bias: which params follow."""

    def __init__(self, normalized_shape, eps, has_weight, has_bias):
        self.shape, self.eps = normalized_shape, eps
        self.has_weight, self.has_bias = has_weight, has_bias
        self.d = math.prod(normalized_shape)

    def forward(self, x, *params):
        d = self.d
        x2 = x.reshape(x.size // d if d else 0, d)  # a view for contiguous x
        ones = ones_vector(d, x.dtype)
        inv_d = 1.0 / max(d, 1)
        mu = (x2 @ ones) * inv_d  # row means as a matrix-vector product
        xhat = x2 - mu[:, None]  # fresh array: the centring and scaling below happen in place
        var = (np.square(xhat) @ ones) * inv_d
        rstd = 1.0 / np.sqrt(var + self.eps)
        xhat *= rstd[:, None]
        w = params[0].reshape(d) if self.has_weight else None
        if w is not None:
            y = xhat * w
        else:
            y = xhat.copy()  # never hand out the array backward needs
        if self.has_bias:
            y += params[-1].reshape(d)
        self.xhat, self.rstd, self.w = xhat, rstd, w
        return y.reshape(x.shape)

    def backward(self, gy):
        # With g = gy * weight, per row (mean over the D normalised elements):
        #     dL/dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
        # (y depends on x through xhat, and xhat through mu and rstd; the two mean terms are
        # those paths). Row sums of g and g*xhat are matrix-vector products with the weight:
        # sum_j g_j = gy @ w  and  sum_j g_j xhat_j = (gy * xhat) @ w.
        xhat, rstd, d = self.xhat, self.rstd, self.d
        inv_d = 1.0 / max(d, 1)
        gy2 = gy.reshape(xhat.shape)
        w = self.w if self.w is not None else ones_vector(d, gy.dtype)
        gy_xhat = gy2 * xhat
        grads = [None]
        if self.needs_input_grad[0]:
            mean_g = (gy2 @ w) * inv_d
            mean_gxhat = (gy_xhat @ w) * inv_d
            gx = gy2 * w  # g, a fresh array we finish in place
            gx -= mean_g[:, None]
            gx *= rstd[:, None]
            gx -= xhat * (mean_gxhat * rstd)[:, None]
            grads[0] = gx.reshape(gy.shape)
        ones = ones_vector(gy2.shape[0], gy.dtype)  # column sums over rows, as BLAS products
        if self.has_weight:  # dL/dweight = sum over rows of gy * xhat
            grads.append((ones @ gy_xhat).reshape(self.shape)
                         if self.needs_input_grad[1] else None)
        if self.has_bias:  # dL/dbias = sum over rows of gy
            grads.append((ones @ gy2).reshape(self.shape) if self.needs_input_grad[-1] else None)
        return tuple(grads)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the trailing `normalized_shape` dims (PyTorch's F.layer_norm)."""
    x = as_tensor(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, int | np.integer) \
        else tuple(int(s) for s in normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    if x.dtype.kind != "f":
        raise TypeError(f"layer_norm: expected a floating point input, got {dtype_name(x.dtype)}")
    if x.ndim < len(shape) or tuple(x.shape[-len(shape):]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(x.shape)}")
    params = []
    for name, p in (("weight", weight), ("bias", bias)):
        if p is None:
            continue
        p = as_tensor(p)
        if tuple(p.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got "
                               f"{name} of shape {list(p.shape)} and normalized_shape = "
                               f"{list(shape)}")
        if p.dtype != x.dtype:
            raise RuntimeError(f"layer_norm: expected input and {name} to have the same dtype, but "
                               f"got: {dtype_name(x.dtype)} != {dtype_name(p.dtype)}")
        params.append(p)
    return LayerNorm(shape, eps, weight is not None, bias is not None)(x, *params)


__all__ = ["layer_norm"]
