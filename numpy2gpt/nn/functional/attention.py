"""scaled_dot_product_attention as ONE fused Function with a hand-derived backward, a GPT
block's causal self-attention straight from its packed (B, T, 3C) q | k | v projection, and
multi_head_attention_forward (nn.MultiheadAttention's math, composed from differentiable ops).

The math (the textbook reference, its backward, and the fast kernels) is in
numpy2gpt/kernels/attention.py; the Functions here check the arguments, expand grouped key/value
heads, and fold the gradients back onto the inputs' shapes (broadcast batch dims, shared heads,
the float mask). `_attend` is the same formula in differentiable ops: the Functions' `composed`,
which autograd differentiates for second derivatives.
"""

import math
import warnings

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
from ...ops._util import CPP_TYPE_NAMES, opmath, require_tensor, sum_to_array
from ...ops.creation import zeros, zeros_like
from ...ops.indexing import where
from ...ops.join import cat
from ...ops.linalg import baddbmm, bmm
from ...tensor import Tensor, as_tensor
from .activation import dropout, pad
from .linear import linear
from .softmax import softmax


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
        # float16 is computed in float32 (opmath) and rounded once, as PyTorch's CPU kernel
        self.k, self.v = (_repeat_heads(opmath(a), self.groups) for a in (k, v))
        mask = self.bias if mask is None else mask
        out, self.saved = attention_forward(opmath(q), self.k, self.v,
                                            None if mask is None else opmath(mask),
                                            self.scale, self.dropout_p)
        self.out = out if out.dtype != q.dtype else None  # float16's output, unrounded
        return out.astype(q.dtype, copy=False)

    def backward(self, g):
        q = self.inputs[0]._data
        out = self.saved_output()._data  # (also checks that it was not modified in place)
        gq, gk, gv, ds = attention_backward(self.saved, opmath(q), self.k, self.v,
                                            out if self.out is None else self.out, opmath(g),
                                            self.scale)
        need_q, need_k, need_v = self.needs_input_grad[:3]
        grads = (sum_to_array(gq, q.shape) if need_q else None,
                 _fold_heads(gk, self.inputs[1].shape, self.groups) if need_k else None,
                 _fold_heads(gv, self.inputs[2].shape, self.groups) if need_v else None)
        if len(self.inputs) == 4:
            grads += (sum_to_array(ds, self.inputs[3].shape) if self.needs_input_grad[3]
                      else None,)
        return tuple(None if gr is None else gr.astype(g.dtype, copy=False) for gr in grads)

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
    op = "scaled_dot_product_attention"
    q, k, v = (require_tensor(t, op, name, i + 1)
               for i, (name, t) in enumerate((("query", query), ("key", key), ("value", value))))
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(f"scaled_dot_product_attention: expected query, key and value to be at "
                           f"least 2-D (..., L, E), got shapes {list(q.shape)}, {list(k.shape)} "
                           f"and {list(v.shape)}")
    if not q.dtype == k.dtype == v.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {CPP_TYPE_NAMES[q.dtype.name]} key.dtype: "
                           f"{CPP_TYPE_NAMES[k.dtype.name]} and value.dtype: "
                           f"{CPP_TYPE_NAMES[v.dtype.name]} instead.")
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
    if dropout_p > 1.0:  # PyTorch checks it only where it drops (dropout_p > 0)
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got "
                           f"{dropout_p:g}")

    mask = None
    if attn_mask is not None:
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        if not isinstance(attn_mask, Tensor):  # PyTorch names no position for this one
            raise TypeError(f"{op}(): argument 'attn_mask' must be Tensor, not "
                            f"{type(attn_mask).__name__}")
        mask = attn_mask
        if mask.dtype not in (np.bool_, np.float32, q.dtype):
            raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                               f"dtype, but got attn_mask.dtype: {CPP_TYPE_NAMES[mask.dtype.name]} "
                               f"and  query.dtype: {CPP_TYPE_NAMES[q.dtype.name]} instead.")
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
    dropout_p = float(dropout_p) if dropout_p > 0 else 0.0  # NaN or negative: no dropout
    q, k, v, mask, scale, groups = _prepare(query, key, value, attn_mask, dropout_p, is_causal,
                                            scale, enable_gqa)
    if isinstance(mask, Tensor):
        return ScaledDotProductAttention(scale, dropout_p, None, groups)(q, k, v, mask)
    return ScaledDotProductAttention(scale, dropout_p, mask, groups)(q, k, v)


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


# ----- multi-head attention (nn.MultiheadAttention's math) ----------------------------------------
def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask (True = may NOT attend) as the float mask it stands for, 0 / -inf of
    `target_type`; a float mask is returned as it is (it is added to the scores)."""
    if mask is None:
        return None
    if mask.dtype != np.bool_ and mask.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      "Use same type for both instead.", stacklevel=2)
    if mask.dtype == np.bool_:
        mask = zeros_like(mask, dtype=target_type).masked_fill_(mask, float("-inf"))
    return mask


def _none_or_dtype(input):
    return None if input is None else input.dtype


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Check the ranks of the inputs and masks; True for batched (3-D) inputs."""
    if query.dim() not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.dim()}-D query tensor")
    is_batched = query.dim() == 3
    kind, rank = ("batched (3-D)", 3) if is_batched else ("unbatched (2-D)", 2)
    if key.dim() != rank or value.dim() != rank:
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be {rank}-D but "
                             f"found {key.dim()}-D and {value.dim()}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.dim() != rank - 1:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
                             f"{rank - 1}-D but found {key_padding_mask.dim()}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.dim() not in (2, 3):
            raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or "
                                 f"3-D but found {attn_mask.dim()}-D tensor instead")
        expected_shape = (num_heads, query.shape[0], key.shape[0])
        if not is_batched and attn_mask.dim() == 3 and attn_mask.shape != expected_shape:
            raise AssertionError(f"Expected `attn_mask` shape to be {expected_shape} but got "
                                 f"{attn_mask.shape}")
    return is_batched


def _in_projection_packed(q, k, v, w, b=None):
    """q, k, v projected with the rows [0:E), [E:2E), [2E:3E) of the packed weight w (3E, E)
    (and bias b); self-attention (q is k is v) takes one matmul, encoder-decoder attention
    (k is v) two."""
    e = q.size(-1)
    if k is v and q is k:
        return linear(q, w, b).chunk(3, dim=-1)
    if k is v:
        w_q, w_kv = w.split([e, e * 2])
        b_q, b_kv = (None, None) if b is None else b.split([e, e * 2])
        return (linear(q, w_q, b_q),) + linear(k, w_kv, b_kv).chunk(2, dim=-1)
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    """q, k, v projected with their own weights (E, E), (E, kdim), (E, vdim) and biases (E,)."""
    eq, ek, ev = q.size(-1), k.size(-1), v.size(-1)
    for what, w, shape in (("query weights", w_q, (eq, eq)), ("key weights", w_k, (eq, ek)),
                           ("value weights", w_v, (eq, ev)), ("query bias", b_q, (eq,)),
                           ("key bias", b_k, (eq,)), ("value bias", b_v, (eq,))):
        if w is not None and w.shape != shape:
            raise AssertionError(f"expecting {what} shape of {shape}, but got {w.shape}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _check_key_padding_mask(key_padding_mask, src_len, bsz):
    for dim, size in ((0, bsz), (1, src_len)):
        if key_padding_mask.shape[dim] != size:
            raise AssertionError(f"Expected key_padded_mask.shape[{dim}] to be {size}, but got "
                                 f"{key_padding_mask.shape[dim]}")


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """nn.MultiheadAttention's computation on sequence-first inputs: query (L, N, E), key
    (S, N, kdim), value (S, N, vdim), or unbatched (L, E), (S, kdim), (S, vdim).

    Project q, k, v (the packed in_proj_weight, or q/k/v_proj_weight with
    use_separate_proj_weight), split the E channels into num_heads heads, attend in each head,
    merge the heads and apply the out-projection. Masks mark what may NOT be attended: True or a
    float added to the scores; attn_mask (L, S) or (N * num_heads, L, S), key_padding_mask (N, S).
    bias_k / bias_v append one learnt key and value, add_zero_attn one zero key and value.
    Returns (output (L, N, E), weights): the weights (N, L, S) averaged over the heads, or
    (N, num_heads, L, S), or None without need_weights. Only need_weights computes the weights
    explicitly (a row whose keys are all masked is NaN, like its softmax); without it the heads go
    through scaled_dot_product_attention (such a row gives 0), as in PyTorch.
    """
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:  # run as a batch of one, squeezed away at the end
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]

    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint alone suffices: scaled_dot_product_attention's is_causal
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                    check_other=False)
        if key_padding_mask is not None:
            is_causal = False  # the padding merged into the mask makes it no longer causal

    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight "
                                     "is None")
        biases = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight,
                                 *biases)

    if attn_mask is not None:  # as (1 or N * num_heads, L, S)
        if attn_mask.dim() == 2:
            if attn_mask.shape != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if attn_mask.shape != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    def one_more_key(mask):  # the masks' column for an appended key: 0, it may be attended
        return None if mask is None else pad(mask, (0, 1))

    if bias_k is not None and bias_v is not None:  # append the learnt key and value
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask, key_padding_mask = one_more_key(attn_mask), one_more_key(key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    def heads(t, static, name):  # (seq, N, E) -> (N * num_heads, seq, head_dim)
        if static is None:
            return t.reshape(t.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
        for dim, size in ((0, bsz * num_heads), (2, head_dim)):
            if static.size(dim) != size:
                raise AssertionError(f"expecting static_{name}.size({dim}) of {size}, but got "
                                     f"{static.size(dim)}")
        return static

    q, k, v = heads(q, None, "q"), heads(k, static_k, "k"), heads(v, static_v, "v")
    if add_zero_attn:  # append a zero key and value
        k = cat([k, zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype)], dim=1)
        v = cat([v, zeros((bsz * num_heads, 1, head_dim), dtype=v.dtype)], dim=1)
        attn_mask, key_padding_mask = one_more_key(attn_mask), one_more_key(key_padding_mask)
    src_len = k.size(1)

    if key_padding_mask is not None:  # (N, S) -> (N * num_heads, 1, S), merged into attn_mask
        _check_key_padding_mask(key_padding_mask, src_len, bsz)
        key_padding_mask = (key_padding_mask.view(bsz, 1, 1, src_len)
                            .expand(-1, num_heads, -1, -1).reshape(bsz * num_heads, 1, src_len))
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    weights = None
    if need_weights:  # softmax(q k^T / sqrt(head_dim) + mask) explicitly, to return it
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        if attn_mask is not None:
            weights = baddbmm(attn_mask, q_scaled, k.transpose(-2, -1))
        else:
            weights = bmm(q_scaled, k.transpose(-2, -1))
        weights = softmax(weights, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = bmm(weights, v)
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
    else:
        if attn_mask is not None:  # to (1 or N, 1 or num_heads, L or 1, S)
            if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
                attn_mask = attn_mask.unsqueeze(0)
            else:
                attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
        out = scaled_dot_product_attention(
            q.view(bsz, num_heads, tgt_len, head_dim), k.view(bsz, num_heads, src_len, head_dim),
            v.view(bsz, num_heads, src_len, head_dim), attn_mask, dropout_p, is_causal)
        out = out.reshape(bsz * num_heads, tgt_len, head_dim)

    out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)  # the heads merged back
    out = linear(out, out_proj_weight, out_proj_bias)
    out = out.view(tgt_len, bsz, out.shape[-1])
    if not is_batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights


__all__ = ["scaled_dot_product_attention", "causal_self_attention", "multi_head_attention_forward"]
