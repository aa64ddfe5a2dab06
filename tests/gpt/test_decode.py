"""Tests for numpy2gpt.gpt.decode: the array-only forward pass with a KV cache, and sampling.

The decoder must give the logits of `GPT.forward` (the modules, autograd and all) at every position:
after the prompt (several lengths, up to a full window) and after each cached token, float32 and
float64, with bias on and off, both GELUs, dropout configs in eval mode, batch > 1. Generation's
cached path uses it; tests/gpt/test_model.py checks that path token for token against the
uncached one (which runs the modules), also past block_size.
"""

import numpy as np
import pytest
from torch_compare import assert_close

import numpy2gpt as ng
import numpy2gpt.kernels as K
from numpy2gpt.gpt.decode import Decoder, sample
from numpy2gpt.gpt.model import GPT, GPTConfig

SMALL = dict(block_size=16, vocab_size=37, n_layer=2, n_head=4, n_embd=32)


def lively_model(dtype=np.float32, **overrides):
    """A seeded GPT in eval mode with scaled-up weights: sharp, context-dependent predictions,
    pre-activations spread over all of erf's ranges, attention far from uniform (at the default
    init, a difference in attention or GELU would barely move the logits)."""
    ng.manual_seed(0)
    model = GPT(GPTConfig(**{**SMALL, **overrides}))
    if dtype == np.float64:
        model.double()
    model.eval()
    with ng.no_grad():
        model.transformer.wte.weight.mul_(3.0)
        model.transformer.ln_f.weight.mul_(3.0)
        for p in model.transformer.h.parameters():
            if p.dim() == 2:
                p.mul_(20.0)
            elif p.dim() == 1:  # biases and LayerNorm gains away from their 0 / 1 init
                p.add_(ng.randn(p.shape, dtype=p.dtype) * 0.5)
    return model


def forward_last(model, idx):
    """The modules' logits (B, V) of the last position of idx."""
    with ng.no_grad():
        logits, _ = model(idx)
    return logits[:, -1]


CONFIGS = [dict(), dict(bias=False, gelu="tanh", dropout=0.1),
           dict(gelu="tanh", dropout=0.2), dict(bias=False)]


@pytest.mark.parametrize("backend", K.BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("overrides", CONFIGS, ids=["bias-erf", "nobias-tanh-dropout",
                                                    "bias-tanh-dropout", "nobias-erf"])
def test_logits_equal_model_forward(overrides, dtype, backend, capsys):
    """On either kernel backend (both the decoder and the modules use it)."""
    model = lively_model(dtype, **overrides)
    capsys.readouterr()  # the parameter count printed by GPT()
    seq = np.random.default_rng(1).integers(0, 37, (2, 16))
    with K.backend(backend):
        check_every_position(model, seq, dtype)


def check_every_position(model, seq, dtype):
    """Decoder logits == the modules' after prompts of 1, 5 and 16 tokens and each cached step."""
    for prompt_len in (1, 5, 16):
        dec = Decoder(model, batch_size=2)
        logits = dec.prefill(seq[:, :prompt_len])
        assert logits.dtype == dtype and logits.shape == (2, 37)
        assert_close(logits, forward_last(model, seq[:, :prompt_len]),
                     what=f"prefill of {prompt_len}")
        for t in range(prompt_len, 16):  # then one cached token at a time, up to a full window
            logits = dec.step(seq[:, t])
            assert_close(logits, forward_last(model, seq[:, :t + 1]), what=f"position {t}")
        assert dec.length == 16


def test_the_test_model_is_sensitive():
    """The logits test could not fail if every position predicted alike: they must differ."""
    model = lively_model()
    seq = np.random.default_rng(1).integers(0, 37, (1, 16))
    a, b = forward_last(model, seq[:, :8]).numpy(), forward_last(model, seq[:, :9]).numpy()
    assert np.abs(a - b).max() > 0.1 * np.abs(a).max()


def test_decoder_reads_the_weights_without_copying_them():
    model = lively_model()
    dec = Decoder(model, batch_size=1)
    w = model.transformer.h[0].attn.c_attn.weight
    assert np.shares_memory(dec.blocks[0].c_attn[0], w.data)
    assert np.shares_memory(dec.lm_head_t, model.transformer.wte.weight.data)  # tied
    # an in-place update of the weights is what the next generate call samples from
    prompt = np.array([[1, 2, 3]])
    before = model.generate(prompt, 8, temperature=0).numpy()
    with ng.no_grad():
        w.mul_(-1.0)
    after = model.generate(prompt, 8, temperature=0).numpy()
    uncached = model.generate(prompt, 8, temperature=0, use_cache=False).numpy()
    np.testing.assert_array_equal(after, uncached)
    assert not np.array_equal(before, after)


def test_cache_overflow_and_one_token_steps():
    model = lively_model()
    dec = Decoder(model, batch_size=1, capacity=4)
    dec.prefill([[1, 2, 3]])
    dec.step([4])
    with pytest.raises(ValueError, match="KV cache overflow: 4 cached \\+ 1 new positions > "
                                         "capacity 4"):
        dec.step([5])
    dec = Decoder(model, batch_size=1)
    dec.prefill([[1, 2]])
    with pytest.raises(ValueError, match="one token at a time"):
        dec._forward(np.array([[3, 4]]))
    assert Decoder(model, 1, capacity=100).capacity == 16  # never more than block_size


@pytest.mark.parametrize("use_cache", [True, False])
def test_generate_rejects_token_ids_outside_the_vocabulary(use_cache):
    model = lively_model()
    for bad, shown in (([[1, 37]], 37), ([[-1, 2]], -1)):
        with pytest.raises(IndexError, match=f"token id {shown} in idx is out of range for "
                                             "vocab_size = 37 \\(valid ids are 0 to 36\\)"):
            model.generate(np.array(bad), 2, use_cache=use_cache)


def test_training_mode_with_dropout_samples_through_the_modules():
    """The decoder has no dropout: in training mode with dropout, generation runs the modules
    (dropout active, from numpy2gpt's generator), cached or not."""
    model = lively_model(dropout=0.3)
    model.train()
    prompt = np.array([[1, 2, 3], [4, 5, 6]])
    out = {}
    for use_cache in (True, False):
        ng.manual_seed(5)
        out[use_cache] = model.generate(prompt, 12, temperature=0, use_cache=use_cache).numpy()
    np.testing.assert_array_equal(out[True], out[False])
    model.eval()
    assert not np.array_equal(out[True], model.generate(prompt, 12, temperature=0).numpy())


# ---------------------------------------------------------------------------- sampling
@pytest.mark.parametrize("vocab", [65, 50257])
def test_sample_filters_on_small_and_large_vocabularies(vocab):
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((3, vocab)) * 2).astype(np.float32)
    order = np.argsort(-logits, axis=-1)
    g = ng.Generator().manual_seed(1)
    tokens = sample(logits, 1.0, generator=g)
    assert tokens.dtype == np.int64 and tokens.shape == (3,)
    np.testing.assert_array_equal(sample(logits, 0.0), order[:, 0])  # greedy
    # top_k: only the k largest are drawn
    draws = np.stack([sample(logits, 1.5, top_k=5, generator=g) for _ in range(200)], axis=1)
    for row in range(3):
        assert set(draws[row]) <= set(order[row, :5])
        assert len(set(draws[row])) > 1
    # top_p: only the nucleus (the fewest most likely tokens reaching top_p) is drawn
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    sorted_p = np.take_along_axis(p, order, axis=-1)
    keep = (np.cumsum(sorted_p, axis=-1) - sorted_p) < 0.5
    draws = np.stack([sample(logits, 1.0, top_p=0.5, generator=g) for _ in range(200)], axis=1)
    for row in range(3):
        nucleus = set(order[row, keep[row]])
        assert set(draws[row]) <= nucleus
        assert len(set(draws[row])) > 1 or len(nucleus) == 1
    assert logits.dtype == np.float32  # the caller's array is left alone
    np.testing.assert_array_equal(np.argsort(-logits, axis=-1), order)


def test_sample_keeps_ties_at_the_kth_logit_and_rejects_nan():
    logits = np.array([[3.0, 1.0, 1.0, 1.0, -2.0]], np.float32)
    g = ng.Generator().manual_seed(0)
    draws = {int(sample(logits, 1.0, top_k=2, generator=g)[0]) for _ in range(300)}
    assert draws == {0, 1, 2, 3}  # tokens 1..3 tie with the 2nd largest: all kept (like torch)
    with pytest.raises(RuntimeError, match="probability tensor contains"):
        sample(np.array([[0.0, np.nan]], np.float32), 1.0, generator=g)
