"""Cross-entropy from logits with class-index targets, row by row: the loss's math without its
bookkeeping (reductions, ignore_index, weights per class are the Function's, in
nn/functional/loss.py).

Each row i of the logits x (N, C) has a target class t_i and two weights: `hard` h_i on the
target's -log p and `soft` s_i on the class-weighted sum of every -log p (label smoothing):

    loss_i = h_i (-log p_{i,t_i}) + s_i sum_c w_c (-log p_ic),      p_i = softmax(x_i)

(w = the class weights, or ones). Plain cross-entropy is h = 1, s = 0: -log_softmax picked at the
target. Its gradient is dloss_i/dx_ic = Q_i p_ic - q_ic with q_ic = h_i [c == t_i] + s_i w_c and
Q_i = sum_c q_ic. The backward kernels take h and s already multiplied by dL/dloss_i.

Forward returns (loss per row, saved) and backward takes `saved` back: (e, s) with softmax = e / s
for both backends.
"""

import numpy as np

from . import switch
from .rows import as_rows, on_row_blocks, row_sum
from .softmax import exact_row_blocks, log_softmax_forward_reference


def cross_entropy_forward_reference(x, target, hard, soft=None, weight=None):
    """(loss per row, saved): -log_softmax(x) picked at the target, weighted by `hard`, plus (if
    `soft` is given) `soft` times the class-weighted sum of -log_softmax(x)."""
    logp, saved = log_softmax_forward_reference(x)
    loss = -logp[np.arange(len(x)), target] * hard
    if soft is not None:
        loss -= soft * (logp.sum(axis=-1) if weight is None else logp @ weight)
    return loss, saved


def cross_entropy_backward_reference(saved, target, g_hard, g_soft=None, weight=None):
    """dL/dx = Q p - q (see the module docstring), with q built as a dense (N, C) matrix."""
    e, s = saved
    p = e / s[:, None]
    q = np.zeros_like(p)
    if g_soft is not None:
        q += g_soft[:, None] * (1 if weight is None else weight)
    q[np.arange(len(q)), target] += g_hard
    return q.sum(axis=-1, keepdims=True) * p - q


def cross_entropy_forward_fast(x, target, hard, soft=None, weight=None):
    """The reference's loss without materialising log_softmax: with m the row max and
    s = sum(exp(x - m)), -log p_t = log(s) - (x_t - m) (exact near 0), and
    sum_c w_c (-log p_c) = W log(s) - sum_c w_c (x_c - m) (W = sum_c w_c). The one pass over x
    for exp (the largest cost) runs on blocks of rows on threads (`exact_row_blocks`); the rest
    is a few operations on vectors of N."""
    x = as_rows(x)
    e, s, m = exact_row_blocks(x)  # e = exp(x - m), s = sum(e), m = row max: lse = m + log(s)
    m, log_s = m[:, 0], np.log(s)
    loss = (log_s - (x[np.arange(len(x)), target] - m)) * hard
    if soft is not None:
        xw = row_sum(x) if weight is None else x @ weight
        big_w = x.shape[1] if weight is None else weight.sum()
        with np.errstate(invalid="ignore"):  # rows holding +inf: inf - inf = NaN, like PyTorch
            loss += (log_s * big_w - (xw - m * big_w)) * soft
    return loss, (e, s)


def cross_entropy_backward_fast(saved, target, g_hard, g_soft=None, weight=None):
    """Q p - q without a dense q: Q p in one pass (on blocks of rows, on threads), then the
    target entries and the smoothing part subtracted in place."""
    e, s = saved
    big_q = g_hard.copy()
    if g_soft is not None:
        big_q += g_soft * (e.shape[1] if weight is None else weight.sum())
    scale = big_q / s
    gx = np.empty_like(e)

    def work(blocks):
        for lo, hi in blocks:
            np.multiply(e[lo:hi], scale[lo:hi, None], out=gx[lo:hi])  # Q_i p_ic

    on_row_blocks(*e.shape, work)
    gx[np.arange(len(gx)), target] -= g_hard
    if g_soft is not None:  # the smoothing part of q: s_i w_c on every class
        gx -= g_soft[:, None] if weight is None else np.outer(g_soft, weight)
    return gx


cross_entropy_forward = switch(cross_entropy_forward_reference, cross_entropy_forward_fast)
cross_entropy_backward = switch(cross_entropy_backward_reference, cross_entropy_backward_fast)

__all__ = ["cross_entropy_forward", "cross_entropy_backward"]
