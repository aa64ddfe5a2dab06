"""scaled_dot_product_attention as ONE fused Function with a hand-derived backward.

Forward, for query (..., L, E), key (..., S, E), value (..., S, Ev):

    scores = Q K^T * scale + bias        bias: 0 / -inf for a bool or causal mask, or a float mask
    P      = softmax(scores)             over the last axis (S), in place on the scores buffer
    O      = dropout(P) V

Backward (g = dL/dO; P~ = dropout(P) = P * M with the scaled keep-mask M):

    dV = P~^T g
    dP = (g V^T) * M
    dS = P * (dP - D),   D_i = sum_j dP_ij P_ij = g_i . O_i   (softmax backward; the second form
                                                              is an (L, Ev) product, not (L, S))
    dQ = dS K * scale,   dK = dS^T Q * scale,   d(float mask) = dS

All products are batched matmuls on the (..., T, hs) arrays as given (NumPy loops over the batch
in C). Rows whose keys are all masked give zero output and zero gradient, like PyTorch (which
also returns 0 there rather than NaN).

`causal_self_attention(qkv, n_head)` is the same causal attention for a GPT block, straight from
its packed (B, T, 3C) q | k | v projection: the head split and merge happen inside one node.

`scaled_dot_product_attention_composed` is the same math from primitive ops (the reference).
"""

import functools
import math

import numpy as np

from ...autograd.function import FusedFunction
from ...dtypes import dtype_name
from ...kernels.rows import row_sum
from ...ops._util import sum_to_array
from ...random import get_rng
from ...tensor import Tensor, as_tensor
from .softmax import exp_rows


@functools.lru_cache(maxsize=32)
def _causal_bias(n_q, n_k, dtype):
    """(L, S) additive mask: 0 where key j <= query i (top-left aligned, like PyTorch), else
    -inf."""
    bias = np.where(np.tri(n_q, n_k, dtype=bool), dtype.type(0), dtype.type(-np.inf))
    bias.flags.writeable = False
    return bias


def _dropout_multiplier(shape, p, dtype):
    """keep / (1 - p) with keep ~ Bernoulli(1 - p), drawn from numpy2gpt's generator."""
    keep = get_rng().uniform(shape, dtype=dtype if dtype.itemsize >= 4 else np.float32) >= p
    return np.multiply(keep, 1.0 / (1.0 - p) if p < 1 else 0.0, dtype=dtype)


def _repeat_heads(a, groups):
    """Grouped-query attention: each key/value head serves `groups` consecutive query heads."""
    return a if groups == 1 else np.repeat(a, groups, axis=-3)


def _fold_heads(g, shape, groups):
    """The backward of `_repeat_heads`: sum the gradients of the copies of each head."""
    if groups == 1:
        return sum_to_array(g, tuple(shape))
    g = sum_to_array(g, shape[:-3] + (shape[-3] * groups,) + shape[-2:])
    return g.reshape(shape[:-3] + (shape[-3], groups) + shape[-2:]).sum(axis=-3)


class ScaledDotProductAttention(FusedFunction):
    """O = dropout(softmax(Q K^T * scale + bias)) V (see the module docstring for the backward)."""

    saves_outputs = True  # D = rowsum(g * O) needs O

    def __init__(self, scale, dropout_p, bias, groups):
        self.scale, self.dropout_p, self.bias, self.groups = scale, dropout_p, bias, groups

    def forward(self, q, k, v, mask=None):
        k, v = _repeat_heads(k, self.groups), _repeat_heads(v, self.groups)
        qs = q * self.scale
        bias = self.bias if mask is None else mask
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
        m = None
        if self.dropout_p > 0:
            m = _dropout_multiplier(p.shape, self.dropout_p, p.dtype)
        out = np.matmul(p if m is None else p * m, v)
        self.p, self.m, self.k, self.v = p, m, k, v
        return out

    def backward(self, g):
        q = self.inputs[0].data
        p, m, k, v, scale = self.p, self.m, self.k, self.v, self.scale
        o = self.saved_output().data
        need_q, need_k, need_v = self.needs_input_grad[:3]
        need_mask = len(self.inputs) > 3 and self.needs_input_grad[3]
        gq = gk = gv = gmask = None
        if need_v:
            pd = p if m is None else p * m
            gv = _fold_heads(np.matmul(np.swapaxes(pd, -1, -2), g), self.inputs[2].shape,
                             self.groups)
        if need_q or need_k or need_mask:
            d = row_sum(g * o)  # D_i = g_i . O_i = sum_j dP_ij P_ij
            ds = np.matmul(g, np.swapaxes(v, -1, -2))  # dP~ = g V^T
            if m is not None:
                ds *= m  # dP = dP~ * M
            ds -= d[..., None]
            ds *= p  # dS = P * (dP - D)
            if need_q:
                gq = np.matmul(ds, k)
                gq *= scale
                gq = sum_to_array(gq, q.shape)
            if need_k:
                gk = np.matmul(np.swapaxes(ds, -1, -2), q)
                gk *= scale
                gk = _fold_heads(gk, self.inputs[1].shape, self.groups)
            if need_mask:
                gmask = sum_to_array(ds, self.inputs[3].shape)
        return (gq, gk, gv) if len(self.inputs) == 3 else (gq, gk, gv, gmask)


class CausalSelfAttentionFunction(FusedFunction):
    """A GPT block's attention from the packed projection qkv (B, T, 3C) to y (B, T, C).

    The same math as splitting qkv into q | k | v, the channels into n_head heads of hs = C / n_head
    ((B, T, C) -> (B, nh, T, hs)), `scaled_dot_product_attention(q, k, v, is_causal=True)` and
    merging the heads back - but one graph node instead of ten, and without their copies: q and v
    stay strided views into qkv (BLAS reads a matrix with any row stride), the output is written
    straight into (B, T, C), and backward writes dq, dk, dv into one (B, T, 3C) gradient.
    Only K^T (and V^T in backward) are copied: BLAS multiplies by a contiguous matrix about twice
    as fast as by a transposed view for these small per-head products. The scale 1/sqrt(hs) rides
    along in those copies, so it costs no pass of its own.
    """

    saves_outputs = True  # D = rowsum(g * O) needs O
    grad_fn_name = "CausalSelfAttentionBackward0"

    def __init__(self, n_head, dropout_p):
        self.n_head, self.dropout_p = n_head, dropout_p

    def forward(self, qkv):
        b, t, c3 = qkv.shape
        nh, hs = self.n_head, c3 // 3 // self.n_head
        scale = 1.0 / math.sqrt(hs)
        q, k, v = _split_heads(qkv, nh, 3)  # views (B, nh, T, hs)
        kt = np.multiply(k.swapaxes(-1, -2), scale, out=np.empty((b, nh, hs, t), qkv.dtype))
        bias = _causal_bias(t, t, qkv.dtype)

        def scores():  # scale * Q K^T, masked: key j > query i gets -inf
            s = np.matmul(q, kt)
            s += bias
            return s

        s = scores()
        p, total, _ = exp_rows(s, out=s, recompute=scores)  # no row is fully masked: total > 0
        p *= (1 / total)[..., None]  # normalise in place: the scores buffer is now P
        m = None
        if self.dropout_p > 0:  # the same draw as scaled_dot_product_attention's
            m = _dropout_multiplier(p.shape, self.dropout_p, p.dtype)
        y = np.empty((b, t, c3 // 3), qkv.dtype)
        np.matmul(p if m is None else p * m, v, out=_split_heads(y, nh))  # heads merged in place
        self.p, self.m, self.scale = p, m, scale
        return y

    def backward(self, g):
        # The formulas of ScaledDotProductAttention.backward, with dS scaled by `scale` up
        # front: V^T is copied pre-scaled and D scaled, so dQ = dS K, dK = dS^T Q need no
        # further scaling.
        p, m, scale = self.p, self.m, self.scale
        qkv = self.inputs[0].data
        b, t, c3 = qkv.shape
        nh, hs = self.n_head, c3 // 3 // self.n_head
        q, k, v = _split_heads(qkv, nh, 3)
        gqkv = np.empty(qkv.shape, g.dtype)
        gq, gk, gv = _split_heads(gqkv, nh, 3)  # backward writes into its three thirds
        g_heads = _split_heads(g, nh)
        pd = p if m is None else p * m
        np.matmul(pd.swapaxes(-1, -2), g_heads, out=gv)  # dV = P~^T g
        vt = np.multiply(v.swapaxes(-1, -2), scale, out=np.empty((b, nh, hs, t), g.dtype))
        ds = np.matmul(g_heads, vt)  # scale * dP~
        if m is not None:
            ds *= m  # scale * dP
        o = self.saved_output().data
        d = row_sum((g * o).reshape(b, t, nh, hs))  # D_i = g_i . O_i per head: (B, T, nh)
        d *= scale
        ds -= d.transpose(0, 2, 1)[..., None]
        ds *= p  # scale * dS
        np.matmul(ds, k, out=gq)  # dQ = dS K * scale
        np.matmul(ds.swapaxes(-1, -2), q, out=gk)  # dK = dS^T Q * scale
        return gqkv


def _split_heads(a, n_head, parts=1):
    """(B, T, parts * C) -> `parts` arrays (B, nh, T, hs) (hs = C / nh): views, no copies.

    With parts=3, qkv (B, T, 3C) gives q, k, v; with parts=1, the one array itself.
    """
    b, t, c = a.shape
    heads = a.reshape(b, t, parts, n_head, c // parts // n_head).transpose(2, 0, 3, 1, 4)
    return heads if parts > 1 else heads[0]


# ----- argument checks ----------------------------------------------------------------------------
def _prepare(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa):
    """Check the arguments; return q, k, v, the mask (a float Tensor, a constant 0 / -inf bias
    array or None), the scale and the GQA group count."""
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(f"scaled_dot_product_attention: expected query, key and value to be at "
                           f"least 2-D (..., L, E), got shapes {list(q.shape)}, {list(k.shape)} "
                           f"and {list(v.shape)}")
    if not q.dtype == k.dtype == v.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {dtype_name(q.dtype)} key.dtype: {dtype_name(k.dtype)} "
                           f"and value.dtype: {dtype_name(v.dtype)} instead.")
    if q.dtype.kind != "f":
        raise RuntimeError(f"scaled_dot_product_attention: expected floating point query, key and "
                           f"value, got {dtype_name(q.dtype)}")
    if q.shape[-1] != k.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query {list(q.shape)} and key "
                           f"{list(k.shape)} must have the same embedding size (last dim), got "
                           f"{q.shape[-1]} and {k.shape[-1]}")
    if k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key {list(k.shape)} and value "
                           f"{list(v.shape)} must have the same sequence length (dim -2), got "
                           f"{k.shape[-2]} and {v.shape[-2]}")
    groups = 1
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and q.shape[-3] != k.shape[-3]:
        if v.ndim < 3 or k.shape[-3] != v.shape[-3] or q.shape[-3] % k.shape[-3]:
            raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa, key and value "
                               f"must have the same number of heads (dim -3) and it must divide "
                               f"the query's; got query {list(q.shape)}, key {list(k.shape)}, "
                               f"value {list(v.shape)}")
        groups = q.shape[-3] // k.shape[-3]

    def heads(t):
        return t.shape[:-3] + (t.shape[-3] * groups,) + t.shape[-2:] if groups > 1 else t.shape

    try:
        batch = np.broadcast_shapes(q.shape[:-2], heads(k)[:-2], heads(v)[:-2])
    except ValueError:
        raise RuntimeError(f"scaled_dot_product_attention: the batch dims of query "
                           f"{list(q.shape)}, key {list(k.shape)} and value {list(v.shape)} are "
                           "not broadcastable") from None
    score_shape = tuple(batch) + (q.shape[-2], k.shape[-2])
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")

    mask = None
    if attn_mask is not None:
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        mask = as_tensor(attn_mask)
        if mask.dtype != np.bool_ and mask.dtype.kind != "f":
            raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                               f"dtype, but got attn_mask.dtype: {dtype_name(mask.dtype)} and "
                               f"query.dtype: {dtype_name(q.dtype)} instead.")
        try:
            ok = np.broadcast_shapes(mask.shape, score_shape) == score_shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"scaled_dot_product_attention: attn_mask of shape "
                               f"{list(mask.shape)} does not broadcast to the attention weights' "
                               f"shape {list(score_shape)} (batch..., L, S)")
        if mask.dtype == np.bool_:  # True = take part: a constant 0 / -inf bias
            mask = np.where(mask.data, q.dtype.type(0), q.dtype.type(-np.inf))
        else:
            mask = mask.to(q.dtype)  # float masks are added (and get a gradient)
    elif is_causal:
        mask = _causal_bias(q.shape[-2], k.shape[-2], q.dtype)

    e = q.shape[-1]
    scale = (1.0 / math.sqrt(e) if e else math.inf) if scale is None else float(scale)
    return q, k, v, mask, scale, groups


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q K^T * scale + mask) V with optional dropout on the attention weights.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); batch dims broadcast.
    attn_mask: bool (True = may attend) or float (added to the scores), broadcastable to
    (..., L, S). is_causal: query i sees keys 0..i (top-left aligned). scale: default 1/sqrt(E).
    dropout_p > 0 drops attention weights with numpy2gpt's generator (pass 0 when evaluating).
    enable_gqa: key/value may have fewer heads (dim -3) than query, shared by groups of heads.
    """
    q, k, v, mask, scale, groups = _prepare(query, key, value, attn_mask, dropout_p, is_causal,
                                            scale, enable_gqa)
    if isinstance(mask, Tensor):
        return ScaledDotProductAttention(scale, float(dropout_p), None, groups)(q, k, v, mask)
    return ScaledDotProductAttention(scale, float(dropout_p), mask, groups)(q, k, v)


def causal_self_attention(qkv, n_head, dropout_p=0.0):
    """A GPT block's causal self-attention from its packed q | k | v projection (numpy2gpt only).

    qkv (B, T, 3C) -> (B, T, C): the same values and gradients as

        q, k, v = qkv.split(C, dim=2)                         # each (B, T, C)
        q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))
        y = scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)

    as one fused op (see `CausalSelfAttentionFunction`); dropout draws the same mask from the
    generator.
    """
    x = as_tensor(qkv)
    if x.ndim != 3 or x.shape[2] % 3:
        raise RuntimeError(f"causal_self_attention: expected qkv of shape (B, T, 3 * C), got "
                           f"{list(x.shape)}")
    c = x.shape[2] // 3
    if isinstance(n_head, bool) or not isinstance(n_head, int | np.integer) or n_head < 1 \
            or c % n_head:
        raise RuntimeError(f"causal_self_attention: n_head must be a positive integer that "
                           f"divides C = {c}, got {n_head!r}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"causal_self_attention: expected a floating point qkv, got "
                           f"{dtype_name(x.dtype)}")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    return CausalSelfAttentionFunction(int(n_head), float(dropout_p))(x)


# ----- reference implementation from primitive ops ------------------------------------------------
def scaled_dot_product_attention_composed(query, key, value, attn_mask=None, dropout_p=0.0,
                                          is_causal=False, scale=None, enable_gqa=False):
    """The same attention from matmul, exp, sum and div (the reference; twice differentiable).

    With dropout it draws the same mask as the fused op from the same generator state.
    """
    q, k, v, mask, scale, groups = _prepare(query, key, value, attn_mask, dropout_p, is_causal,
                                            scale, enable_gqa)
    if groups > 1:  # repeat each key/value head for its group of query heads
        k, v = (t.reshape(t.shape[:-2] + (1,) + t.shape[-2:])
                .broadcast_to(t.shape[:-3] + (t.shape[-3], groups) + t.shape[-2:])
                .reshape(t.shape[:-3] + (t.shape[-3] * groups,) + t.shape[-2:]) for t in (k, v))
    s = (q @ k.transpose(-2, -1)) * scale
    if mask is not None:
        s = s + (mask if isinstance(mask, Tensor) else Tensor._make(mask))
    shift = np.max(s.data, axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,))
    shift = np.where(np.isfinite(shift), shift, 0).astype(s.dtype)  # all -inf rows: exp -> 0
    e = (s - Tensor._make(shift)).exp()  # a constant shift changes nothing (softmax invariance)
    total = e.sum(-1, keepdim=True)
    total = total + Tensor._make((total.data == 0).astype(s.dtype))  # fully masked: 0 / 1 = 0
    p = e / total
    if dropout_p > 0:
        p = p * Tensor._make(_dropout_multiplier(p.shape, float(dropout_p), p.dtype))
    return p @ v


__all__ = ["scaled_dot_product_attention", "causal_self_attention"]
