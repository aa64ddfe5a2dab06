"""layer_norm over the rows of x2 (N, D), and its gradients.

Per row (D elements):
    mu = mean(x),  var = mean((x - mu)^2)  (biased, like PyTorch),  rstd = 1 / sqrt(var + eps)
    xhat = (x - mu) * rstd,  y = xhat * w + b
The forward returns (y, xhat, rstd); the backward needs xhat and rstd. weight / bias are (D,)
vectors or None. A row holding NaN or +-inf gives NaN throughout, as in PyTorch.
"""

import numpy as np

from . import switch
from .rows import ones_vector


def layer_norm_forward_reference(x2, weight, bias, eps):
    """y = (x - mean) / sqrt(var + eps) * w + b, row by row."""
    with np.errstate(invalid="ignore"):  # inf - inf = NaN, as in PyTorch
        mu = x2.mean(axis=-1, keepdims=True)
        var = ((x2 - mu) ** 2).mean(axis=-1, keepdims=True)
        xhat = (x2 - mu) / np.sqrt(var + eps)
        y = xhat * weight if weight is not None else xhat.copy()  # y never shares xhat's memory
        if bias is not None:
            y = y + bias
    return y, xhat, 1 / np.sqrt(var[:, 0] + eps)  # rstd, for the backward


def layer_norm_forward_fast(x2, weight, bias, eps):
    """The row means are matrix-vector products with a vector of ones (one BLAS call for all
    rows; NumPy's x.mean(-1) reduces one short row at a time), and xhat is centred and scaled in
    place in the one fresh array `x2 - mu`: three full-size arrays (xhat, its square, y) instead
    of six."""
    d = x2.shape[-1]
    ones = ones_vector(d, x2.dtype)
    inv_d = 1.0 / max(d, 1)
    with np.errstate(invalid="ignore"):  # inf - inf = NaN, as in PyTorch
        mu = (x2 @ ones) * inv_d
        xhat = x2 - mu[:, None]
        var = (np.square(xhat) @ ones) * inv_d
        rstd = 1.0 / np.sqrt(var + eps)
        xhat *= rstd[:, None]
        y = xhat * weight if weight is not None else xhat.copy()  # never hand out xhat
        if bias is not None:
            y += bias
    return y, xhat, rstd


def layer_norm_backward_reference(gy2, xhat, rstd, weight, needs):
    """dL/dx, dL/dw, dL/db (None where `needs` says no, or without that parameter). With
    g = gy * w, per row (means over the D elements):
        dL/dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
    (y depends on x through xhat, and xhat through x, mu and rstd: the two mean terms are the
    paths through mu and rstd), and over all rows: dL/dw = sum(gy * xhat), dL/db = sum(gy)."""
    with np.errstate(invalid="ignore"):
        gx = gw = gb = None
        if needs[0]:
            g = gy2 * weight if weight is not None else gy2
            gx = rstd[:, None] * (g - g.mean(axis=-1, keepdims=True)
                                  - xhat * (g * xhat).mean(axis=-1, keepdims=True))
        if weight is not None and needs[1]:
            gw = (gy2 * xhat).sum(axis=0)
        if needs[2]:
            gb = gy2.sum(axis=0)
    return gx, gw, gb


def layer_norm_backward_fast(gy2, xhat, rstd, weight, needs):
    """Row sums of g and g * xhat as matrix-vector products with the weight
    (sum_j g_j = gy @ w, sum_j g_j xhat_j = (gy * xhat) @ w), column sums over rows as
    ones @ (...), and dL/dx finished in place in the one fresh array g."""
    d = xhat.shape[-1]
    inv_d = 1.0 / max(d, 1)
    w = weight if weight is not None else ones_vector(d, gy2.dtype)
    gx = gw = gb = None
    with np.errstate(invalid="ignore"):
        gy_xhat = gy2 * xhat
        if needs[0]:
            mean_g = (gy2 @ w) * inv_d
            mean_gxhat = (gy_xhat @ w) * inv_d
            gx = gy2 * w
            gx -= mean_g[:, None]
            gx *= rstd[:, None]
            gx -= xhat * (mean_gxhat * rstd)[:, None]
        ones = ones_vector(gy2.shape[0], gy2.dtype)
        if weight is not None and needs[1]:
            gw = ones @ gy_xhat
        if needs[2]:
            gb = ones @ gy2
    return gx, gw, gb


layer_norm_forward = switch(layer_norm_forward_reference, layer_norm_forward_fast)
layer_norm_backward = switch(layer_norm_backward_reference, layer_norm_backward_fast)
