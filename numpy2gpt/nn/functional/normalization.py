"""layer_norm as one fused Function with a hand-derived backward.

Over the last D = prod(normalized_shape) elements of each row:
    mu = mean(x),  var = mean((x - mu)^2)  (biased, like PyTorch),  rstd = 1 / sqrt(var + eps)
    xhat = (x - mu) * rstd,  y = xhat * weight + bias
Composed from primitive ops this is ~10 graph nodes and as many full-size temporaries each way;
fused, it is one node whose backward reuses xhat and rstd saved by forward. The math is in
numpy2gpt/kernels/layer_norm.py (the textbook formulas and the fast kernels beside them).
"""

import math

import numpy as np

from ...autograd.function import FusedFunction
from ...dtypes import dtype_name
from ...kernels.layer_norm import layer_norm_backward, layer_norm_forward
from ...tensor import as_tensor


class LayerNormFunction(FusedFunction):
    """Normalise the rows of x viewed as (N, D); has_weight / has_bias: which params follow."""

    grad_fn_name = "LayerNormBackward0"

    def __init__(self, normalized_shape, eps, has_weight, has_bias):
        self.shape, self.eps = normalized_shape, eps
        self.has_weight, self.has_bias = has_weight, has_bias
        self.d = math.prod(normalized_shape)

    def forward(self, x, *params):
        d = self.d
        x2 = x.reshape(x.size // d if d else 0, d)  # a view for contiguous x
        self.w = params[0].reshape(d) if self.has_weight else None
        b = params[-1].reshape(d) if self.has_bias else None
        y, self.xhat, self.rstd = layer_norm_forward(x2, self.w, b, self.eps)
        return y.reshape(x.shape)

    def backward(self, gy):
        need = self.needs_input_grad
        gx, gw, gb = layer_norm_backward(gy.reshape(self.xhat.shape), self.xhat, self.rstd,
                                         self.w, (need[0], self.has_weight and need[1],
                                                  self.has_bias and need[-1]))
        grads = [None if gx is None else gx.reshape(gy.shape)]
        if self.has_weight:
            grads.append(None if gw is None else gw.reshape(self.shape))
        if self.has_bias:
            grads.append(None if gb is None else gb.reshape(self.shape))
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
    return LayerNormFunction(shape, eps, weight is not None, bias is not None)(x, *params)


__all__ = ["layer_norm"]
