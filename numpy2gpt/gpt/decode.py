"""Generation without autograd: the GPT's forward pass on plain NumPy arrays, with a KV cache.

Why a second forward pass: sampling runs under no_grad, so the Tensors, graph nodes and module
calls of `GPT.forward` are pure overhead there - and at one token per step they cost more than
the arithmetic (a baby model's token is ~90 ops on vectors of a few hundred numbers, a few
microseconds of work each). `Decoder` runs the same math on the model's own parameter arrays
(the Parameters' arrays, `._data`: views, no copies, read when the Decoder is made, i.e. at the
start of every generate call, so it always sees the current weights). It calls the kernels the
modules' Functions call (numpy2gpt/kernels: the causal attention for the prompt, softmax for one new
token's attention and for sampling, gelu, layer_norm), so each formula
has one implementation and `--kernels reference` switches generation too; a Linear is
x @ W^T + b, as in F.linear. New here is only the cache and attention for one new token:

    keys    kt[layer] (B, n_head, head_size, capacity): stored transposed and pre-scaled by
                      1/sqrt(head_size), so a new query's scores are one product q @ kt
    values  v[layer]  (B, n_head, capacity, head_size)

allocated once; a new token writes one column of each, not a concatenation.

    decoder = Decoder(model, batch_size, capacity)
    logits = decoder.prefill(idx)      # the prompt (B, T): fills the cache, last logits (B, V)
    logits = decoder.step(tokens)      # one new token per row (B,), at the next position
    next_tokens = sample(logits, temperature, top_k, top_p, generator)

`sample` is the sampling step of `GPT.generate` for both paths (cached and uncached), on arrays.
tests/gpt/test_decode.py checks the logits against `GPT.forward` at every position.
"""

import math

import numpy as np

from ..kernels.attention import causal_attention_forward
from ..kernels.gelu import gelu_forward
from ..kernels.layer_norm import layer_norm_forward
from ..kernels.softmax import softmax_forward
from ..ops.special import multinomial


def _linear(x, weight_t, bias):
    """F.linear's forward on a 2-D x (N, in): x @ W^T + b (weight_t = W^T, a view)."""
    y = x @ weight_t
    if bias is not None:
        y += bias
    return y


class _LayerNorm:
    """A LayerNorm module's arrays; calling it runs the layer_norm kernel over the last axes."""

    def __init__(self, module):
        self.d, self.eps = math.prod(module.normalized_shape), module.eps
        self.w, self.b = (None if p is None else p._data.reshape(self.d)
                          for p in (module.weight, module.bias))

    def __call__(self, x):
        return layer_norm_forward(x.reshape(-1, self.d), self.w, self.b, self.eps)[0].reshape(
            x.shape)


def _linear_params(module):
    """A Linear module's arrays for `_linear`: (W^T, b or None)."""
    return module.weight._data.T, None if module.bias is None else module.bias._data


class _Block:
    """One transformer Block's arrays (model.Block holds the modules whose math this repeats)."""

    def __init__(self, block):
        self.ln_1, self.ln_2 = _LayerNorm(block.ln_1), _LayerNorm(block.ln_2)
        self.c_attn = _linear_params(block.attn.c_attn)
        self.attn_proj = _linear_params(block.attn.c_proj)
        self.c_fc = _linear_params(block.mlp.c_fc)
        self.mlp_proj = _linear_params(block.mlp.c_proj)
        self.gelu = block.mlp.gelu.approximate  # "none" (exact) or "tanh"


class Decoder:
    """The GPT forward pass for generation: arrays in, last position's logits out, keys and values
    of every position fed so far kept in a cache of `capacity` (<= block_size) positions.

    Inside, the residual stream x is 2-D, (B * T, C): every Linear is then one GEMM (as in
    F.linear), and for a single new token the heads need no transposes."""

    def __init__(self, model, batch_size, capacity=None):
        cfg = model.config
        capacity = cfg.block_size if capacity is None else min(capacity, cfg.block_size)
        tr = model.transformer
        self.wte, self.wpe = tr.wte.weight._data, tr.wpe.weight._data
        self.blocks = [_Block(block) for block in tr.h]
        self.ln_f, self.lm_head_t = _LayerNorm(tr.ln_f), model.lm_head.weight._data.T
        self.n_head, self.head_size = cfg.n_head, cfg.n_embd // cfg.n_head
        self.scale = 1.0 / math.sqrt(self.head_size)
        shape = (len(self.blocks), batch_size, cfg.n_head)
        dtype = self.wte.dtype
        self.kt = np.empty(shape + (self.head_size, capacity), dtype)
        self.v = np.empty(shape + (capacity, self.head_size), dtype)
        self.capacity = capacity
        self.length = 0  # positions in the cache

    def prefill(self, idx):
        """Empty the cache and run the token ids idx (B, T) from position 0; logits (B, V) of the
        last position."""
        self.length = 0
        return self._forward(np.asarray(idx))

    def step(self, tokens):
        """Run one new token id per row, tokens (B,), at the next position; logits (B, V)."""
        return self._forward(np.asarray(tokens).reshape(-1, 1))

    def _forward(self, idx):
        b, t = idx.shape
        start = self.length
        if start + t > self.capacity:
            raise ValueError(f"KV cache overflow: {start} cached + {t} new positions > "
                             f"capacity {self.capacity}")
        # token + position embeddings, as rows (B * T, C)
        x = (self.wte[idx] + self.wpe[start:start + t]).reshape(b * t, -1)
        for i, blk in enumerate(self.blocks):  # model.Block.forward
            qkv = _linear(blk.ln_1(x), *blk.c_attn)
            x += _linear(self._attend(i, qkv, b), *blk.attn_proj)  # x + attn(ln_1(x))
            h = gelu_forward(_linear(blk.ln_2(x), *blk.c_fc), blk.gelu)[0]
            x += _linear(h, *blk.mlp_proj)  # x + mlp(ln_2(x))
        self.length = start + t
        last = x.reshape(b, t, -1)[:, -1]  # only the last position's logits
        return self.ln_f(last) @ self.lm_head_t

    def _attend(self, layer, qkv, b):
        """Causal self-attention of the new positions in qkv (B * T, 3C) -> (B * T, C), adding
        their keys and values to the cache first."""
        t, c = qkv.shape[0] // b, qkv.shape[1] // 3
        nh, hs = self.n_head, self.head_size
        start, end = self.length, self.length + t
        kt, vs = self.kt[layer], self.v[layer]
        if start == 0:  # the prompt: the training forward's causal attention kernel
            _, k, v = qkv.reshape(b, t, 3, nh, hs).transpose(2, 0, 3, 1, 4)  # (B, nh, T, hs)
            np.multiply(k.swapaxes(-1, -2), self.scale, out=kt[..., :t])
            vs[:, :, :t] = v
            y, _ = causal_attention_forward(qkv.reshape(b, t, 3 * c), nh, 0.0)
            return y.reshape(b * t, c)
        if t != 1:
            raise ValueError(f"Decoder: after the prompt, feed one token at a time (got {t})")
        # one token per row: q, k, v (B, C) split into heads are just reshapes
        q = qkv[:, :c].reshape(b, nh, 1, hs)
        np.multiply(qkv[:, c:2 * c].reshape(b, nh, hs), self.scale, out=kt[..., start])
        vs[:, :, start] = qkv[:, 2 * c:].reshape(b, nh, hs)
        # it may see every cached key: no mask. Scores (B, nh, 1, end), already scaled by
        # 1/sqrt(hs), and their softmax
        p = softmax_forward(np.matmul(q, kt[..., :end]))
        return np.matmul(p, vs[:, :, :end]).reshape(b, c)  # heads merged: (B, nh, 1, hs)


def sample(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    """Draw one token id per row of logits (B, V) (a NumPy array); returns int64 (B,).

    temperature 0 is greedy (argmax); top_k keeps the k largest logits (and any tied with the
    k-th); top_p keeps the fewest most likely tokens whose probabilities reach top_p. Draws come
    from `generator` (a numpy2gpt.Generator) or numpy2gpt's global one, through
    numpy2gpt.multinomial.
    """
    if temperature == 0:
        return logits.argmax(axis=-1)
    logits = logits / temperature  # a new array: the filters below write into it
    n = logits.shape[-1]
    if top_k is not None and top_k < n:
        kth = np.partition(logits, n - top_k, axis=-1)[:, n - top_k, None]  # k-th largest
        logits[logits < kth] = -np.inf
    probs = softmax_forward(logits)
    if top_p is None or top_p >= 1.0:
        return multinomial(probs, 1, generator=generator)._data[:, 0]
    # nucleus: sort by probability and drop each token whose more likely predecessors already
    # reach top_p (the most likely token is always kept); sample in sorted order, map back
    order = np.argsort(-probs, axis=-1)
    sorted_probs = np.take_along_axis(probs, order, axis=-1)
    before = np.cumsum(sorted_probs, axis=-1) - sorted_probs
    sorted_probs[before >= top_p] = 0.0
    choice = multinomial(sorted_probs, 1, generator=generator)._data
    return np.take_along_axis(order, choice, axis=-1)[:, 0]


__all__ = ["Decoder", "sample"]
