"""softmax and log_softmax over the last axis: the one home of the softmax math.

Reference: softmax(x)_j = exp(x_j - m) / sum_k exp(x_k - m), with m the row max (any constant per
row gives the same result; the max keeps exp from overflowing). log_softmax(x) = (x - m) -
log(sum_k exp(x_k - m)). Rows holding NaN or +inf, and rows that are all -inf, give NaN, like
PyTorch.

Fast: NumPy is slow at the exact row max of short rows (it reduces them one at a time: ~3x the
cost of the exp itself), while the max of a whole contiguous block is ~25x cheaper. So the fast
softmax (and the fast attention) shift every row by its block's max (the fast softmax: a block
of whole rows; attention: the last two axes) and then check each row: a row whose own max sits
far below the block's (its sum of exps would be tiny) is redone with its exact max; see
`exp_rows`. Row sums are BLAS products (`rows.row_sum`). log_softmax (and cross_entropy) always
use the exact row max: there precision near log p = 0 matters. The fast kernels run on blocks of
whole rows (`rows.on_row_blocks`): each block is finished while it is in cache, and the blocks
run on every core (exp, their largest cost, is compute-bound).

Attention (kernels/attention.py), the losses (kernels/cross_entropy.py) and generation
(gpt/decode.py) use these; nothing else computes a softmax.
"""

import math

import numpy as np

from . import switch
from .rows import as_rows, on_row_blocks, row_max, row_sum


# ----- softmax ------------------------------------------------------------------------------------
def softmax_forward_reference(x):
    """softmax over the last axis of a non-empty x: exp(x - row max) / row sum."""
    m = x.max(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):  # inf - inf = NaN: such rows give NaN, like PyTorch
        e = np.exp(x - m)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_forward_fast(x):
    """softmax of x (ndim >= 2) on blocks of whole rows (`rows.on_row_blocks`), on threads: each
    block is shifted by its own max (`exp_rows`), exponentiated, summed and normalised while it
    is in cache, multiplying by 1 / row sum (one division per row, not per element)."""
    x2 = as_rows(x)
    y = np.empty(x2.shape, x.dtype)

    def work(blocks):
        for lo, hi in blocks:
            e, s, _ = exp_rows(x2[lo:hi], out=y[lo:hi])
            e *= (1 / s)[:, None]  # s > 0 or NaN

    on_row_blocks(*x2.shape, work)
    return y.reshape(x.shape)


def softmax_backward_reference(y, gy):
    """dL/dx from y = softmax(x) and gy = dL/dy (last axis).

    dy_i/dx_j = y_i (delta_ij - y_j), so gx_j = sum_i gy_i y_i (delta_ij - y_j)
                                              = y_j (gy_j - sum_i gy_i y_i).
    """
    return y * (gy - (gy * y).sum(axis=-1, keepdims=True))


def softmax_backward_fast(y, gy):
    """The reference's formula on blocks of whole rows, on threads, each block finished in place
    in its slice of gx while it is in cache (the row sum as one BLAS product per block)."""
    y2, gy2 = as_rows(y), as_rows(gy)
    gx = np.empty(y2.shape, np.result_type(y, gy))

    def work(blocks):
        for lo, hi in blocks:
            yb, gyb, gxb = y2[lo:hi], gy2[lo:hi], gx[lo:hi]
            np.multiply(gyb, yb, out=gxb)
            np.subtract(gyb, row_sum(gxb)[:, None], out=gxb)  # gy - sum_i gy_i y_i
            gxb *= yb

    on_row_blocks(*y2.shape, work)
    return gx.reshape(y.shape)


softmax_forward = switch(softmax_forward_reference, softmax_forward_fast)
softmax_backward = switch(softmax_backward_reference, softmax_backward_fast)


# ----- log_softmax --------------------------------------------------------------------------------
def log_softmax_forward_reference(x):
    """(log_softmax(x), (e, s)) over the last axis of a non-empty x: z = x - row max,
    log_softmax = z - log(sum(exp(z))); e = exp(z) and s = sum(e) are kept for backward
    (softmax = e / s)."""
    m = x.max(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):  # inf - inf = NaN rows, like PyTorch
        z = x - m
    e = np.exp(z)
    s = e.sum(axis=-1)
    return z - np.log(s)[..., None], (e, s)


def log_softmax_forward_fast(x):
    """The reference's formula on blocks of whole rows, on threads (`exact_row_blocks`), with
    the row max from `row_max` (argmax + gather), the row sum as one BLAS product per block, and
    log_softmax = (x - m) - log(s) written while the block is in cache (in this order: log-probs
    near 0 keep full precision)."""
    x2 = as_rows(x)
    z = np.empty(x2.shape, x.dtype)

    def finish(lo, hi, e, s, m):
        zb = z[lo:hi]
        with np.errstate(invalid="ignore"):  # inf - inf: NaN rows, like PyTorch
            np.subtract(x2[lo:hi], m, out=zb)
        zb -= np.log(s)[:, None]

    e, s, _ = exact_row_blocks(x2, finish)
    return z.reshape(x.shape), (e.reshape(x.shape), s.reshape(x.shape[:-1]))


def log_softmax_backward_reference(saved, gy):
    """dL/dx from log_softmax's saved (e, s) and gy = dL/dy (last axis).

    dy_i/dx_j = delta_ij - softmax_j, so gx_j = gy_j - softmax_j * sum_i gy_i.
    """
    e, s = saved
    return gy - (e / s[..., None]) * gy.sum(axis=-1, keepdims=True)


def log_softmax_backward_fast(saved, gy):
    """The reference's formula on blocks of whole rows, on threads, with one division per row
    (s >= 1 or NaN) and the row sum as one BLAS product per block."""
    e, s = saved
    e2, gy2, s1 = as_rows(e), as_rows(gy), s.reshape(-1)
    gx = np.empty(e2.shape, np.result_type(e, gy))

    def work(blocks):
        for lo, hi in blocks:
            gyb, gxb = gy2[lo:hi], gx[lo:hi]
            np.multiply(e2[lo:hi], (row_sum(gyb) / s1[lo:hi])[:, None], out=gxb)
            np.subtract(gyb, gxb, out=gxb)

    on_row_blocks(*e2.shape, work)
    return gx.reshape(e.shape)


log_softmax_forward = switch(log_softmax_forward_reference, log_softmax_forward_fast)
log_softmax_backward = switch(log_softmax_backward_reference, log_softmax_backward_fast)


# ----- helpers of the fast kernels ----------------------------------------------------------------
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


def exact_row_blocks(x2, finish=None):
    """`exact_rows` of a C-contiguous matrix x2 (N, C), on blocks of whole rows, on threads.

    Returns (e, s, m) as exact_rows does. `finish(lo, hi, e, s, m)`, if given, runs on each
    block's slices right after they are computed, while they are in cache."""
    n, c = x2.shape
    e, s, m = np.empty_like(x2), np.empty(n, x2.dtype), np.empty((n, 1), x2.dtype)

    def work(blocks):
        for lo, hi in blocks:
            eb, s[lo:hi], m[lo:hi] = exact_rows(x2[lo:hi], out=e[lo:hi])
            if finish is not None:
                finish(lo, hi, eb, s[lo:hi], m[lo:hi])

    on_row_blocks(n, c, work)
    return e, s, m


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


__all__ = ["softmax_forward", "softmax_backward", "log_softmax_forward", "log_softmax_backward",
           "exp_rows", "exact_rows", "exact_row_blocks"]
