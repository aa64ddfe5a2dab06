"""Attention: O = dropout(softmax(Q K^T * scale + bias)) V, forward and backward.

Reference (read this first): the scores S = Q K^T * scale + bias (bias: 0 where a query may see a
key, -inf where it may not, or any float mask), P = softmax(S) over the keys (a row whose keys are
all masked gives P = 0, like PyTorch), then O = (P * M) V with M the dropout multiplier (none
without dropout). Backward, for g = dL/dO:

    dV = (P * M)^T g
    dP = (g V^T) * M
    dS = P * (dP - rowsum(dP * P))     softmax's backward, row by row
    dQ = dS K * scale,   dK = dS^T Q * scale,   d(float mask) = dS

`attention_*` take q (..., L, E), k (..., S, E), v (..., S, Ev) with matching (or broadcasting)
batch dims; `causal_attention_*` take a GPT block's packed projection qkv (B, T, 3C) and n_head,
and return y (B, T, C) with the heads merged. Forward returns (output, saved) and backward takes
`saved` back: (P, M) for both backends.

The fast kernels do the same products in fewer passes: the softmax works in place on the scores
buffer, shifted by the block max (kernels/softmax.py `exp_rows`); rowsum(dP * P) is computed as
g_i . O_i (an (L, Ev) product instead of an (L, S) one); the causal kernels keep q and v as strided
views into qkv and write the output and the gradient straight into their packed layouts.
"""

import functools
import math

import numpy as np

from . import switch
from .dropout import dropout_mask
from .rows import row_sum
from .softmax import exp_rows, softmax_backward_reference, softmax_forward_reference

# NaN and inf inputs (a NaN score, inf - inf) give NaN outputs like PyTorch's, without warnings
_quiet = np.errstate(invalid="ignore")


# ----- scaled dot-product attention ---------------------------------------------------------------
@_quiet
def attention_forward_reference(q, k, v, bias, scale, dropout_p):
    """(O, (P, M)): P = softmax(Q K^T * scale + bias), O = (P * M) V; `bias` None or an array
    broadcasting to the scores, M None when dropout_p == 0."""
    s = np.matmul(q, np.swapaxes(k, -1, -2)) * scale
    if bias is not None:
        s = s + bias
    p = softmax_forward_reference(s) if s.size else s
    p[(s == -np.inf).all(axis=-1)] = 0  # a query that may see no key attends to nothing
    mask = dropout_mask(p.shape, dropout_p, p.dtype) if dropout_p > 0 else None
    return np.matmul(p if mask is None else p * mask, v), (p, mask)


@_quiet
def attention_backward_reference(saved, q, k, v, out, g, scale):
    """(dQ, dK, dV, dS) from the forward's saved (P, M), its inputs and output O, and g = dL/dO
    (see the module docstring; `out` is unused here, the fast kernel uses it)."""
    p, mask = saved
    pd = p if mask is None else p * mask
    gv = np.matmul(np.swapaxes(pd, -1, -2), g)  # dV = (P * M)^T g
    dp = np.matmul(g, np.swapaxes(v, -1, -2))  # d(P * M) = g V^T ...
    if mask is not None:
        dp = dp * mask  # ... and dP = d(P * M) * M
    ds = softmax_backward_reference(p, dp)
    gq = np.matmul(ds, k) * scale  # S = Q K^T * scale + bias
    gk = np.matmul(np.swapaxes(ds, -1, -2), q) * scale
    return gq, gk, gv, ds


@_quiet
def attention_forward_fast(q, k, v, bias, scale, dropout_p):
    """The reference's forward with the scale applied to Q (L x E numbers, not L x S), the bias
    added in place, and the softmax worked in place on the scores buffer, shifted by the block max
    (`exp_rows`; rows far below it, and rows holding inf or NaN, are redone exactly)."""
    qs = q * scale
    kt = np.swapaxes(k, -1, -2)

    def scores():
        s = np.matmul(qs, kt)
        if bias is not None:
            if np.broadcast_shapes(s.shape, bias.shape) == s.shape:
                s += bias
            else:  # the mask (or value) has batch dims that q and k lack
                s = s + bias
        return s

    s = scores()
    p, total, _ = exp_rows(s, out=s, recompute=scores, safe=True)
    if not total.all():
        total[total == 0] = 1  # fully masked rows: P = 0 / 1 = 0
    p *= (1 / total)[..., None]  # normalise in place: the scores buffer is now P
    mask = dropout_mask(p.shape, dropout_p, p.dtype) if dropout_p > 0 else None
    return np.matmul(p if mask is None else p * mask, v), (p, mask)


@_quiet
def attention_backward_fast(saved, q, k, v, out, g, scale):
    """The reference's backward with rowsum(dP * P) as g_i . O_i (one (L, Ev) product instead of
    an (L, S) one: sum_j dP_ij P_ij = sum_j (g V^T)_ij M_ij P_ij = g_i . O_i) and dS built in
    place in one buffer."""
    p, mask = saved
    pd = p if mask is None else p * mask
    gv = np.matmul(np.swapaxes(pd, -1, -2), g)
    d = row_sum(g * out)  # D_i = g_i . O_i = sum_j dP_ij P_ij
    ds = np.matmul(g, np.swapaxes(v, -1, -2))  # dP~ = g V^T
    if mask is not None:
        ds *= mask  # dP = dP~ * M
    ds -= d[..., None]
    ds *= p  # dS = P * (dP - D)
    gq = np.matmul(ds, k)
    gq *= scale
    gk = np.matmul(np.swapaxes(ds, -1, -2), q)
    gk *= scale
    return gq, gk, gv, ds


attention_forward = switch(attention_forward_reference, attention_forward_fast)
attention_backward = switch(attention_backward_reference, attention_backward_fast)


# ----- a GPT block's causal self-attention, from the packed q | k | v projection -----------------
def _heads(a, n_head):
    """(B, T, C) -> (B, n_head, T, C / n_head): each head's channels as its own (T, hs) matrix."""
    b, t, c = a.shape
    return a.reshape(b, t, n_head, c // n_head).transpose(0, 2, 1, 3)


@_quiet
def causal_attention_forward_reference(qkv, n_head, dropout_p):
    """(y, saved): split qkv (B, T, 3C) into q, k, v and the channels into n_head heads, attend
    causally (query i sees keys 0..i) with scale 1/sqrt(head size), merge the heads: y (B, T, C)."""
    b, t, c3 = qkv.shape
    c = c3 // 3
    q, k, v = (_heads(qkv[..., i * c:(i + 1) * c], n_head) for i in range(3))
    causal = np.triu(np.full((t, t), -np.inf, qkv.dtype), 1)  # -inf where key j > query i
    y, saved = attention_forward_reference(q, k, v, causal, 1.0 / math.sqrt(c // n_head),
                                           dropout_p)
    return y.transpose(0, 2, 1, 3).reshape(b, t, c), saved


@_quiet
def causal_attention_backward_reference(saved, qkv, n_head, y, g):
    """dL/dqkv (B, T, 3C) from the forward's saved, its input qkv and output y, g = dL/dy."""
    b, t, c3 = qkv.shape
    c = c3 // 3
    q, k, v = (_heads(qkv[..., i * c:(i + 1) * c], n_head) for i in range(3))
    gq, gk, gv, _ = attention_backward_reference(saved, q, k, v, _heads(y, n_head),
                                                 _heads(g, n_head), 1.0 / math.sqrt(c // n_head))
    return np.concatenate([d.transpose(0, 2, 1, 3).reshape(b, t, c) for d in (gq, gk, gv)],
                          axis=-1)


@functools.lru_cache(maxsize=32)
def causal_bias(n_q, n_k, dtype):
    """(L, S) additive mask: 0 where key j <= query i (top-left aligned, like PyTorch), else -inf
    (read-only, cached: the fast kernels' and scaled_dot_product_attention's is_causal mask)."""
    bias = np.where(np.tri(n_q, n_k, dtype=bool), dtype.type(0), dtype.type(-np.inf))
    bias.flags.writeable = False
    return bias


def _split_heads(a, n_head, parts=1):
    """(B, T, parts * C) -> `parts` arrays (B, nh, T, hs) (hs = C / nh): views, no copies.

    With parts=3, qkv (B, T, 3C) gives q, k, v; with parts=1, the one array itself.
    """
    b, t, c = a.shape
    heads = a.reshape(b, t, parts, n_head, c // parts // n_head).transpose(2, 0, 3, 1, 4)
    return heads if parts > 1 else heads[0]


@_quiet
def causal_attention_forward_fast(qkv, n_head, dropout_p):
    """The reference's forward in one pass over the packed layout: q and v stay strided views
    into qkv (BLAS reads a matrix with any row stride) and the output is written straight into
    (B, T, C). Only K^T is copied: BLAS multiplies by a contiguous matrix about twice as fast as
    by a transposed view for these small per-head products; the scale 1/sqrt(hs) rides along in
    that copy, so it costs no pass of its own. The softmax is attention_forward_fast's."""
    b, t, c3 = qkv.shape
    hs = c3 // 3 // n_head
    scale = 1.0 / math.sqrt(hs)
    q, k, v = _split_heads(qkv, n_head, 3)  # views (B, nh, T, hs)
    kt = np.multiply(k.swapaxes(-1, -2), scale, out=np.empty((b, n_head, hs, t), qkv.dtype))
    bias = causal_bias(t, t, qkv.dtype)

    def scores():  # scale * Q K^T, masked: key j > query i gets -inf
        s = np.matmul(q, kt)
        s += bias
        return s

    s = scores()
    p, total, _ = exp_rows(s, out=s, recompute=scores, safe=True)
    if not total.all():  # only with -inf inputs (the mask leaves every query a key): P = 0
        total[total == 0] = 1
    p *= (1 / total)[..., None]  # normalise in place: the scores buffer is now P
    mask = dropout_mask(p.shape, dropout_p, p.dtype) if dropout_p > 0 else None
    y = np.empty((b, t, c3 // 3), qkv.dtype)
    np.matmul(p if mask is None else p * mask, v, out=_split_heads(y, n_head))  # heads merged
    return y, (p, mask)


@_quiet
def causal_attention_backward_fast(saved, qkv, n_head, y, g):
    """The formulas of attention_backward_fast, with dS scaled by `scale` up front (V^T is copied
    pre-scaled and D scaled, so dQ = dS K, dK = dS^T Q need no further scaling), and dq, dk, dv
    written straight into their thirds of one (B, T, 3C) gradient."""
    p, mask = saved
    b, t, c3 = qkv.shape
    hs = c3 // 3 // n_head
    scale = 1.0 / math.sqrt(hs)
    q, k, v = _split_heads(qkv, n_head, 3)
    gqkv = np.empty(qkv.shape, g.dtype)
    gq, gk, gv = _split_heads(gqkv, n_head, 3)  # backward writes into its three thirds
    g_heads = _split_heads(g, n_head)
    pd = p if mask is None else p * mask
    np.matmul(pd.swapaxes(-1, -2), g_heads, out=gv)  # dV = P~^T g
    vt = np.multiply(v.swapaxes(-1, -2), scale, out=np.empty((b, n_head, hs, t), g.dtype))
    ds = np.matmul(g_heads, vt)  # scale * dP~
    if mask is not None:
        ds *= mask  # scale * dP
    d = row_sum((g * y).reshape(b, t, n_head, hs))  # D_i = g_i . O_i per head: (B, T, nh)
    d *= scale
    ds -= d.transpose(0, 2, 1)[..., None]
    ds *= p  # scale * dS
    np.matmul(ds, k, out=gq)  # dQ = dS K * scale
    np.matmul(ds.swapaxes(-1, -2), q, out=gk)  # dK = dS^T Q * scale
    return gqkv


causal_attention_forward = switch(causal_attention_forward_reference,
                                  causal_attention_forward_fast)
causal_attention_backward = switch(causal_attention_backward_reference,
                                   causal_attention_backward_fast)

__all__ = ["attention_forward", "attention_backward", "causal_attention_forward",
           "causal_attention_backward", "causal_bias"]
