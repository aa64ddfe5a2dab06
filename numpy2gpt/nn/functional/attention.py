"""scaled_dot_product_attention as ONE fused Function with a hand-derived backward, and a GPT
block's causal self-attention straight from its packed (B, T, 3C) q | k | v projection.

The math (the textbook reference, its backward, and the fast kernels) is in
numpy2gpt/kernels/attention.py; the Functions here check the arguments, expand grouped key/value
heads, and fold the gradients back onto the inputs' shapes (broadcast batch dims, shared heads,
the float mask). `_attend` is the same formula in differentiable ops: the Functions' `composed`,
which autograd differentiates for second derivatives.
"""

import math

import numpy as np

from ...autograd.function import FusedFunction
from ...dtypes import dtype_name
from ...kernels.attention import (
    attention_backward,
    attention_forward,
    causal_attention_backward,
    causal_attention_forward,
    causal_bias,
)
from ...ops._util import sum_to_array
from ...ops.indexing import where
from ...tensor import Tensor, as_tensor


def _repeat_heads(a, groups):
    """Grouped-query attention: each key/value head serves `groups` consecutive query heads."""
    return a if groups == 1 else np.repeat(a, groups, axis=-3)


def _attend(q, k, v, bias, scale, dropout_mask):
    """O = dropout(softmax(Q K^T * scale + bias)) V in differentiable ops, for the fused
    Functions' `composed` (higher derivatives): the textbook formula of kernels/attention.py.

    The softmax subtracts the (detached) row max first, as PyTorch's does; a row whose keys are
    all masked (-inf) has P = 0, as in the forward. `dropout_mask` is the multiplier the forward
    drew (or None): the same mask, never a new one.
    """
    s = q @ k.mT * scale
    if bias is not None:
        s = s + bias
    m = s.detach().amax(-1, keepdim=True)
    e = (s - where(m == -math.inf, 0.0, m)).exp()  # a fully masked row: e = 0 ...
    total = e.sum(-1, keepdim=True)
    p = e / where(total == 0, 1.0, total)  # ... and P = 0 / 1 = 0
    return (p if dropout_mask is None else p * dropout_mask) @ v


def _fold_heads(g, shape, groups):
    """The backward of `_repeat_heads`: sum the gradients of the copies of each head."""
    if groups == 1:
        return sum_to_array(g, tuple(shape))
    g = sum_to_array(g, shape[:-3] + (shape[-3] * groups,) + shape[-2:])
    return g.reshape(shape[:-3] + (shape[-3], groups) + shape[-2:]).sum(axis=-3)


class ScaledDotProductAttention(FusedFunction):
    """O = dropout(softmax(Q K^T * scale + bias)) V (kernels/attention.py has the formulas)."""

    saves_outputs = True  # the fast backward's rowsum(dP * P) = g_i . O_i needs O

    def __init__(self, scale, dropout_p, bias, groups):
        self.scale, self.dropout_p, self.bias, self.groups = scale, dropout_p, bias, groups

    def forward(self, q, k, v, mask=None):
        self.k, self.v = _repeat_heads(k, self.groups), _repeat_heads(v, self.groups)
        out, self.saved = attention_forward(q, self.k, self.v, self.bias if mask is None else mask,
                                            self.scale, self.dropout_p)
        return out

    def backward(self, g):
        q = self.inputs[0]._data
        gq, gk, gv, ds = attention_backward(self.saved, q, self.k, self.v,
                                            self.saved_output()._data, g, self.scale)
        need_q, need_k, need_v = self.needs_input_grad[:3]
        grads = (sum_to_array(gq, q.shape) if need_q else None,
                 _fold_heads(gk, self.inputs[1].shape, self.groups) if need_k else None,
                 _fold_heads(gv, self.inputs[2].shape, self.groups) if need_v else None)
        if len(self.inputs) == 3:
            return grads
        return grads + (sum_to_array(ds, self.inputs[3].shape) if self.needs_input_grad[3]
                        else None,)

    def composed(self, q, k, v, mask=None):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        if self.groups > 1:  # each key/value head serves `groups` consecutive query heads
            k = k.repeat_interleave(self.groups, dim=-3)
            v = v.repeat_interleave(self.groups, dim=-3)
        return _attend(q, k, v, self.bias if mask is None else mask, self.scale, self.saved[1])


class CausalSelfAttentionFunction(FusedFunction):
    """A GPT block's attention from the packed projection qkv (B, T, 3C) to y (B, T, C).

    The same math as splitting qkv into q | k | v, the channels into n_head heads of hs = C / n_head
    ((B, T, C) -> (B, nh, T, hs)), `scaled_dot_product_attention(q, k, v, is_causal=True)` and
    merging the heads back - but one graph node instead of ten, and (in the fast kernel) without
    their copies.
    """

    saves_outputs = True  # the fast backward's D = rowsum(g * O) needs O
    grad_fn_name = "CausalSelfAttentionBackward0"

    def __init__(self, n_head, dropout_p):
        self.n_head, self.dropout_p = n_head, dropout_p

    def forward(self, qkv):
        y, self.saved = causal_attention_forward(qkv, self.n_head, self.dropout_p)
        return y

    def backward(self, g):
        return causal_attention_backward(self.saved, self.inputs[0]._data, self.n_head,
                                         self.saved_output()._data, g)

    def composed(self, qkv):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        b, t, c3 = qkv.shape
        c = c3 // 3
        # (B, T, C) -> (B, nh, T, hs) for each of q, k, v
        q, k, v = (qkv[..., i * c:(i + 1) * c].reshape(b, t, self.n_head, c // self.n_head)
                   .transpose(1, 2) for i in range(3))
        y = _attend(q, k, v, causal_bias(t, t, qkv.dtype), 1.0 / math.sqrt(c // self.n_head),
                    self.saved[1])
        return y.transpose(1, 2).reshape(b, t, c)  # heads merged back


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
            mask = np.where(mask._data, q.dtype.type(0), q.dtype.type(-np.inf))
        else:
            mask = mask.to(q.dtype)  # float masks are added (and get a gradient)
    elif is_causal:
        mask = causal_bias(q.shape[-2], k.shape[-2], q.dtype)

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


__all__ = ["scaled_dot_product_attention", "causal_self_attention"]
