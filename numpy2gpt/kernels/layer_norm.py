"""layer_norm over the rows of x2 (N, D), and its gradients.

Per row (D elements):
    mu = mean(x),  var = mean((x - mu)^2)  (biased, like PyTorch),  rstd = 1 / sqrt(var + eps)
    xhat = (x - mu) * rstd,  y = xhat * w + b
The forward returns (y, xhat, rstd); the backward needs xhat and rstd. weight / bias are (D,)
vectors or None. A row holding NaN or +-inf gives NaN throughout, as in PyTorch.
"""

import numpy as np

from . import switch
from .rows import as_rows, on_row_blocks, ones_vector, rows_per_block


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
    """The reference's two passes (mean, then the variance of x - mean) on blocks of whole rows
    (`rows.on_row_blocks`), on threads, each block finished while it is in cache. Row means are
    matrix-vector products with a vector of ones (one BLAS call per block; NumPy's x.mean(-1)
    reduces one short row at a time), xhat is centred and scaled in place in its output, and
    the squares for the variance go where y will be: xhat and y are the only full-size arrays."""
    x2 = as_rows(x2)
    n, d = x2.shape
    ones = ones_vector(d, x2.dtype)
    inv_d = 1.0 / max(d, 1)
    xhat, y, rstd = np.empty_like(x2), np.empty_like(x2), np.empty(n, x2.dtype)

    def work(blocks):
        with np.errstate(invalid="ignore"):  # inf - inf = NaN, as in PyTorch
            for lo, hi in blocks:
                xb, xh, yb, r = x2[lo:hi], xhat[lo:hi], y[lo:hi], rstd[lo:hi]
                np.subtract(xb, ((xb @ ones) * inv_d)[:, None], out=xh)  # x - mu
                var = (np.square(xh, out=yb) @ ones) * inv_d  # y's slice as scratch, for now
                np.sqrt(var + eps, out=r)
                np.divide(1.0, r, out=r)  # rstd = 1 / sqrt(var + eps)
                xh *= r[:, None]
                if weight is not None:
                    np.multiply(xh, weight, out=yb)
                else:
                    yb[...] = xh  # y never shares xhat's memory
                if bias is not None:
                    yb += bias

    on_row_blocks(n, d, work)
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
    """The reference's formulas on blocks of whole rows, on threads. Per block, the row sums of
    g and g * xhat are matrix-vector products with the weight (sum_j g_j = gy @ w,
    sum_j g_j xhat_j = (gy * xhat) @ w), dL/dx is finished in place in its slice, and the block's
    column sums of gy * xhat and gy (its share of dL/dw, dL/db) are ones @ (...). The blocks'
    shares are added in block order, so any number of threads gives the same bits."""
    gy2, xhat = as_rows(gy2), as_rows(xhat)
    n, d = xhat.shape
    per_block = rows_per_block(n, d)
    inv_d = 1.0 / max(d, 1)
    w = weight if weight is not None else ones_vector(d, gy2.dtype)
    need_gw, need_gb = weight is not None and needs[1], needs[2]
    gx = np.empty_like(gy2) if needs[0] else None
    n_blocks = max(1, -(-n // per_block))
    gw_parts = np.zeros((n_blocks, d), gy2.dtype) if need_gw else None
    gb_parts = np.zeros((n_blocks, d), gy2.dtype) if need_gb else None

    def work(blocks):
        scratch = np.empty((per_block, d), gy2.dtype)  # this thread's gy * xhat
        ones = ones_vector(per_block, gy2.dtype)
        with np.errstate(invalid="ignore"):
            for lo, hi in blocks:
                gyb, xh, k = gy2[lo:hi], xhat[lo:hi], lo // per_block
                gy_xhat = np.multiply(gyb, xh, out=scratch[:hi - lo])
                if need_gw:
                    np.matmul(ones[:hi - lo], gy_xhat, out=gw_parts[k])
                if need_gb:
                    np.matmul(ones[:hi - lo], gyb, out=gb_parts[k])
                if gx is None:
                    continue
                r = rstd[lo:hi]
                mean_g = (gyb @ w) * inv_d
                coef = (gy_xhat @ w) * inv_d * r  # mean(g * xhat) * rstd
                gxb = gx[lo:hi]
                if weight is not None:
                    np.multiply(gyb, weight, out=gxb)
                    gxb -= mean_g[:, None]
                else:
                    np.subtract(gyb, mean_g[:, None], out=gxb)
                gxb *= r[:, None]
                np.multiply(xh, coef[:, None], out=gy_xhat)  # scratch reused
                gxb -= gy_xhat  # rstd (g - mean(g)) - xhat mean(g xhat) rstd

    on_row_blocks(n, d, work)
    return gx, _add_rows(gw_parts), _add_rows(gb_parts)


def _add_rows(parts):
    """The sum of the blocks' shares (n_blocks, d), in block order (None stays None)."""
    if parts is None or len(parts) == 1:
        return None if parts is None else parts[0]
    return ones_vector(len(parts), parts.dtype) @ parts


layer_norm_forward = switch(layer_norm_forward_reference, layer_norm_forward_fast)
layer_norm_backward = switch(layer_norm_backward_reference, layer_norm_backward_fast)
