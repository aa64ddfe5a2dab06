"""Tests for numpy2gpt.gpt.model: our GPT against PyTorch nanoGPT (tests/gpt/reference_nanogpt.py).

The two models start from identical weights (ours copied into the reference) and see identical
batches; logits, loss, every parameter gradient and 20 AdamW steps must agree. Then the parts
PyTorch's nanoGPT lacks: the KV cache (token-for-token equal to uncached generation, also past
block_size), nucleus sampling, streaming, the measured matmul peak behind MFU.
"""

import math

import numpy as np
import pytest
import torch
from reference_nanogpt import RefGPT
from torch_compare import assert_close

import numpy2gpt as ng
import numpy2gpt.kernels as K
from numpy2gpt.gpt.decode import Decoder, sample
from numpy2gpt.gpt.model import GPT, GPTConfig

SMALL = dict(block_size=16, vocab_size=37, n_layer=2, n_head=4, n_embd=32)


def make_models(dtype=np.float32, seed=0, **overrides):
    """Our GPT (seeded nanoGPT init) and the PyTorch reference holding a copy of its weights."""
    cfg = GPTConfig(**{**SMALL, **overrides})
    ng.manual_seed(seed)
    ours = GPT(cfg)
    ref = RefGPT(GPTConfig(**{**SMALL, **overrides}))
    if dtype == np.float64:
        ours.double()
        ref.double()
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                         for k, v in ours.state_dict().items()})
    return ours, ref


def batch(rng, cfg, B=3, T=None, ignore=True):
    """Random token ids and learnable targets (a fixed map of each token; a few targets are -1,
    which the loss ignores)."""
    T = T or cfg.block_size
    x = rng.integers(0, cfg.vocab_size, (B, T))
    y = (3 * x + 1) % cfg.vocab_size
    if ignore:
        y[0, :3] = -1
    return x, y


def compare_step(ours, ref, x, y, rtol):
    """One forward + backward on both models; assert logits, loss and all gradients agree."""
    logits, loss = ours(x, y)
    ref_logits, ref_loss = ref(torch.from_numpy(x), torch.from_numpy(y))
    assert_close(logits, ref_logits, rtol, what="logits")
    assert_close(loss, ref_loss, rtol, what="loss")
    loss.backward()
    ref_loss.backward()
    ref_params = dict(ref.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert names == list(ref_params)  # same parameters, same order (the tied one once)
    for name, p in ours.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert p.grad.dtype == p.dtype
        assert_close(p.grad, ref_params[name].grad, rtol, what=f"gradient of {name}")
    return loss


# ---------------------------------------------------------------------------- against PyTorch
@pytest.mark.parametrize("overrides", [{}, dict(bias=False, gelu="tanh")],
                         ids=["bias-erf", "nobias-tanh"])
def test_forward_backward_match_pytorch_float32(overrides, rng):
    ours, ref = make_models(**overrides)
    x, y = batch(rng, ours.config)
    loss = compare_step(ours, ref, x, y, rtol=1e-4)
    assert loss.dtype == np.float32


def test_forward_backward_match_pytorch_float64_exactly(rng):
    ours, ref = make_models(np.float64)
    x, y = batch(rng, ours.config)
    loss = compare_step(ours, ref, x, y, rtol=1e-9)
    assert loss.dtype == np.float64


def test_adamw_with_clipping_matches_pytorch_for_20_steps(rng, capsys):
    ours, ref = make_models(dropout=0.0)
    opt = ours.configure_optimizers(weight_decay=0.1, learning_rate=3e-3, betas=(0.9, 0.99))
    ref_opt = ref.configure_optimizers(weight_decay=0.1, learning_rate=3e-3, betas=(0.9, 0.99))
    losses, ref_losses = [], []
    for _ in range(20):
        x, y = batch(rng, ours.config, B=4)
        _, loss = ours(x, y)
        _, ref_loss = ref(torch.from_numpy(x), torch.from_numpy(y))
        loss.backward()
        ref_loss.backward()
        norm = ng.nn.utils.clip_grad_norm_(ours.parameters(), 0.05)  # small: clipping happens
        ref_norm = torch.nn.utils.clip_grad_norm_(ref.parameters(), 0.05)
        assert_close(norm, ref_norm, 1e-4, what="total grad norm")
        assert float(ref_norm) > 0.05
        opt.step()
        ref_opt.step()
        opt.zero_grad(set_to_none=True)
        ref_opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        ref_losses.append(ref_loss.item())
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-4)
    assert losses[-1] < losses[0] - 0.1  # it really trained
    for name, p in ref.named_parameters():
        assert_close(ours.get_parameter(name), p, 1e-3, what=f"{name} after 20 steps")


def test_state_dict_keys_equal_nanogpt():
    ours, ref = make_models()
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert "lm_head.weight" in ours.state_dict() and "transformer.wte.weight" in ours.state_dict()
    ours, ref = make_models(bias=False)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert not any(k.endswith(".bias") for k in ours.state_dict())


def test_loads_a_pytorch_nanogpt_state_dict(rng):
    cfg = GPTConfig(**SMALL)
    torch.manual_seed(1)
    ref = RefGPT(cfg)
    sd = {k: v.detach().numpy().copy() for k, v in ref.state_dict().items()}
    ng.manual_seed(5)
    ours = GPT(GPTConfig(**SMALL))
    result = ours.load_state_dict(sd)
    assert not result.missing_keys and not result.unexpected_keys
    assert ours.lm_head.weight is ours.transformer.wte.weight  # still tied after loading
    x, y = batch(rng, cfg)
    logits, loss = ours(x, y)
    ref_logits, ref_loss = ref(torch.from_numpy(x), torch.from_numpy(y))
    assert_close(logits, ref_logits, 1e-4, what="logits")
    assert_close(loss, ref_loss, 1e-4, what="loss")
    last, none = ours(x)
    assert none is None
    assert_close(last, ref(torch.from_numpy(x))[0], 1e-4, what="last-position logits")


# ---------------------------------------------------------------------------- the model itself
def test_tied_weights():
    ours, _ = make_models()
    wte, head = ours.transformer.wte.weight, ours.lm_head.weight
    assert wte is head
    assert sum(1 for p in ours.parameters() if p is wte) == 1  # listed once
    ours.double()
    assert ours.transformer.wte.weight is ours.lm_head.weight
    assert ours.lm_head.weight.dtype == np.float64


def test_init_follows_nanogpt():
    cfg = GPTConfig(block_size=32, vocab_size=500, n_layer=3, n_head=2, n_embd=64)
    ng.manual_seed(0)
    model = GPT(cfg)
    for name, p in model.named_parameters():
        assert p.dtype == np.float32, name
        a = p.detach().numpy()
        if name.endswith("c_proj.weight"):
            assert abs(a.std() / (0.02 / math.sqrt(2 * cfg.n_layer)) - 1) < 0.05, name
        elif a.ndim == 2:
            assert abs(a.std() / 0.02 - 1) < 0.05, name
            assert abs(a.mean()) < 2e-3, name
        elif name.endswith("bias"):
            assert np.all(a == 0), name
        else:  # LayerNorm gains
            assert np.all(a == 1), name


def test_config_defaults_and_unknown_keys():
    cfg = GPTConfig()
    assert (cfg.block_size, cfg.vocab_size, cfg.n_layer, cfg.n_head, cfg.n_embd) == \
        (1024, 50304, 12, 12, 768)
    assert (cfg.dropout, cfg.bias, cfg.gelu) == (0.0, True, "none")
    with pytest.raises(TypeError, match=r"unknown config key 'n_layers'.*Did you mean 'n_layer'"):
        GPTConfig(n_layers=2)
    with pytest.raises(TypeError, match=r"unknown config key 'blocksize'.*'block_size'"):
        GPTConfig(blocksize=8)
    with pytest.raises(TypeError, match="Valid keys: block_size, vocab_size"):
        GPTConfig(zzz=1)
    with pytest.raises(ValueError, match=r"n_embd \(30\) must be divisible by n_head \(4\)"):
        GPTConfig(n_embd=30, n_head=4)
    with pytest.raises(ValueError, match="gelu must be 'none' or 'tanh'"):
        GPTConfig(gelu="exact")


def test_forward_without_targets_returns_last_position(rng):
    ours, _ = make_models()
    x, y = batch(rng, ours.config, T=10)
    full, _ = ours(x, y)
    last, loss = ours(ng.tensor(x))  # a Tensor works as well as a NumPy array
    assert loss is None
    assert last.shape == (3, 1, ours.config.vocab_size)
    assert_close(last, full[:, -1:, :], 1e-5)


def test_bad_input_errors(rng):
    ours, _ = make_models()
    with pytest.raises(ValueError, match="Cannot forward sequence of length 17, block size is "
                                         "only 16"):
        ours(rng.integers(0, 37, (2, 17)))
    with pytest.raises(TypeError, match="idx must hold integer token ids"):
        ours(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"idx must have shape \(batch, time\), got shape \[4\]"):
        ours(np.zeros(4, np.int64))
    with pytest.raises(ValueError, match="targets must have the shape of idx"):
        ours(np.zeros((2, 4), np.int64), np.zeros((2, 3), np.int64))
    with pytest.raises(ValueError, match="top_p must be in"):
        ours.generate(np.zeros((1, 2), np.int64), 3, top_p=1.5)
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        ours.generate(np.zeros((1, 2), np.int64), 3, temperature=-1)
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        ours.generate_stream(np.zeros((1, 2), np.int64), 3, top_k=0)  # checked at the call
    with pytest.raises(ValueError, match="at least one token"):
        ours.generate(np.zeros((1, 0), np.int64), 3)


def test_crop_block_size(rng):
    ours, _ = make_models()
    x = rng.integers(0, 37, (2, 8))
    before, _ = ours(x)
    ours.crop_block_size(8)
    assert ours.config.block_size == 8
    assert ours.transformer.wpe.weight.shape == (8, 32)
    assert_close(ours(x)[0], before, 0.0)  # the first 8 positions are untouched
    with pytest.raises(ValueError, match="length 9, block size is only 8"):
        ours(rng.integers(0, 37, (2, 9)))
    with pytest.raises(ValueError, match="crop_block_size"):
        ours.crop_block_size(9)


def test_dropout_is_active_only_in_training(rng):
    ours, _ = make_models(dropout=0.5)
    x, y = batch(rng, ours.config)
    ours.train()
    a, b = ours(x, y)[1].item(), ours(x, y)[1].item()
    assert a != b
    ours.eval()
    assert ours(x, y)[1].item() == ours(x, y)[1].item()


def test_get_num_params():
    ours, ref = make_models()
    total = sum(p.numel() for p in ref.parameters())  # the tied weight counted once
    assert ours.get_num_params(non_embedding=False) == total
    assert ours.get_num_params() == total - SMALL["block_size"] * SMALL["n_embd"]


def test_configure_optimizers_groups(capsys):
    ours, _ = make_models()
    capsys.readouterr()
    opt = ours.configure_optimizers(0.1, 6e-4, (0.9, 0.95), device_type="cpu")
    assert isinstance(opt, ng.optim.AdamW)
    decay, nodecay = opt.param_groups
    assert decay["weight_decay"] == 0.1 and nodecay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"])
    assert all(p.dim() == 1 for p in nodecay["params"])
    # wte (tied), wpe, and per block c_attn, attn.c_proj, c_fc, mlp.c_proj
    assert len(decay["params"]) == 2 + 4 * SMALL["n_layer"]
    assert len(nodecay["params"]) == len(list(ours.parameters())) - len(decay["params"])
    assert opt.defaults["lr"] == 6e-4 and tuple(opt.defaults["betas"]) == (0.9, 0.95)
    out = capsys.readouterr().out
    n_decay = sum(p.numel() for p in decay["params"])
    assert f"num decayed parameter tensors: {len(decay['params'])}, with {n_decay:,} parameters" \
        in out
    assert "num non-decayed parameter tensors" in out
    ours.configure_optimizers(0.1, 6e-4, (0.9, 0.95), verbose=False)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------------------- MFU
def test_estimate_mfu_formula(monkeypatch):
    ours, _ = make_models()
    cfg = ours.config
    N = ours.get_num_params()
    flops_per_iter = (6 * N + 12 * cfg.n_layer * cfg.n_embd * cfg.block_size) * cfg.block_size * 5
    assert ours.estimate_mfu(5, 0.5, peak_flops=1e9) == pytest.approx(flops_per_iter / 0.5 / 1e9)
    # by default the denominator is the measured matmul peak
    monkeypatch.setattr("numpy2gpt.gpt.model.measure_matmul_peak", lambda: 2e9)
    assert ours.estimate_mfu(5, 0.5) == pytest.approx(flops_per_iter / 0.5 / 2e9)


# ---------------------------------------------------------------------------- generation
def lively_model(**overrides):
    """A model whose next-token distributions are far from uniform and depend on the context
    (as a trained model's do), so top-k / top-p really cut and greedy has clear, varied winners.
    (Freshly initialised, a tied GPT mostly predicts its input token again.)"""
    ours, _ = make_models(**overrides)
    ours.eval()
    with ng.no_grad():
        ours.transformer.wte.weight.mul_(3.0)
        ours.transformer.ln_f.weight.mul_(3.0)
        for p in ours.transformer.h.parameters():
            if p.dim() == 2:
                p.mul_(20.0)  # the blocks, not the embeddings, dominate the residual stream
    return ours


def test_kv_cache_logits_equal_full_forward(rng):
    """Generation's one KV cache (decode.Decoder) gives the modules' logits at every position."""
    model = lively_model()
    seq = rng.integers(0, 37, (2, 16))
    cache = Decoder(model, batch_size=2)
    with ng.no_grad():
        logits = cache.prefill(seq[:, :5])
        assert_close(logits, model(seq[:, :5])[0][:, -1], 1e-5)
        for t in range(5, 16):
            logits = cache.step(seq[:, t])  # one token at position t
            assert_close(logits, model(seq[:, :t + 1])[0][:, -1], 1e-5, what=f"position {t}")
        with pytest.raises(ValueError, match="KV cache overflow: 16 cached \\+ 1 new positions > "
                                             "capacity 16"):
            cache.step(seq[:, 0])


SAMPLING = [dict(temperature=1.0), dict(temperature=0.8, top_k=5), dict(top_p=0.9),
            dict(temperature=1.3, top_k=10, top_p=0.8), dict(temperature=0.0)]


@pytest.mark.parametrize("backend", K.BACKENDS)
@pytest.mark.parametrize("kwargs", SAMPLING, ids=["t1", "topk", "topp", "all", "greedy"])
def test_cached_generation_equals_uncached_past_block_size(kwargs, backend, rng):
    model = lively_model()
    with K.backend(backend):
        check_cached_equals_uncached(model, kwargs, rng)


def check_cached_equals_uncached(model, kwargs, rng):
    prompt = rng.integers(0, 37, (2, 5))
    n = 30  # 5 + 30 > block_size 16: the window slides
    out = {}
    for use_cache in (True, False):
        out[use_cache] = model.generate(prompt, n, use_cache=use_cache,
                                        generator=ng.Generator().manual_seed(7),
                                        **kwargs).numpy()
    assert out[True].shape == (2, 35)
    np.testing.assert_array_equal(out[True][:, :5], prompt)
    np.testing.assert_array_equal(out[True], out[False])
    assert len(np.unique(out[True][:, 5:])) > 1  # not a degenerate constant sequence


def test_greedy_equivalents():
    model = lively_model()
    prompt = np.array([[1, 2, 3]])
    greedy = model.generate(prompt, 20, temperature=0).numpy()
    np.testing.assert_array_equal(model.generate(prompt, 20, top_k=1).numpy(), greedy)
    np.testing.assert_array_equal(model.generate(prompt, 20, top_p=1e-9).numpy(), greedy)
    # and greedy equals argmax of the uncached forward, step by step
    seq = prompt
    for _ in range(20):
        logits = model(seq[:, -16:])[0].detach().numpy()
        seq = np.concatenate([seq, logits[:, -1].argmax(-1)[:, None]], axis=1)
    np.testing.assert_array_equal(seq, greedy)


def test_generation_is_seeded():
    model = lively_model()
    prompt = np.array([[4, 5]])
    ng.manual_seed(3)
    a = model.generate(prompt, 25).numpy()
    ng.manual_seed(3)
    b = model.generate(prompt, 25).numpy()
    ng.manual_seed(4)
    c = model.generate(prompt, 25).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    d = model.generate(prompt, 25, generator=ng.Generator().manual_seed(3)).numpy()
    e = model.generate(prompt.astype(np.int32), 25, generator=ng.Generator().manual_seed(3))
    assert e.dtype == np.int64  # token ids come back as int64 whatever the prompt's int dtype
    np.testing.assert_array_equal(d, e.numpy())
    np.testing.assert_array_equal(d, a)  # a generator seeded 3 draws what the global one did
    with pytest.raises(TypeError, match="numpy2gpt.Generator"):  # not a NumPy generator
        model.generate(prompt, 1, generator=np.random.default_rng(3))


def test_generate_stream_yields_tokens_and_keeps_grad_mode():
    model = lively_model()
    prompt = np.array([[1, 2], [3, 4]])
    steps = []
    for tok in model.generate_stream(prompt, 6, generator=ng.Generator().manual_seed(0)):
        assert ng.is_grad_enabled()  # the generator's no_grad does not leak into our loop
        assert tok.shape == (2, 1) and tok.dtype.kind == "i"
        steps.append(tok.numpy())
    full = model.generate(prompt, 6, generator=ng.Generator().manual_seed(0)).numpy()
    np.testing.assert_array_equal(full[:, 2:], np.concatenate(steps, axis=1))


def test_sampling_filters_and_frequencies():
    """top_k / top_p keep the right tokens and multinomial draws with the right probabilities."""
    p = np.array([0.5, 0.3, 0.15, 0.05])
    logits = np.tile(np.log(p).astype(np.float32), (20000, 1))
    g = ng.Generator().manual_seed(0)

    def freq(**kw):
        kw = {"temperature": 1.0, "top_k": None, "top_p": None, **kw}
        draws = sample(logits, generator=g, **kw)
        return np.bincount(draws, minlength=4) / draws.size

    np.testing.assert_allclose(freq(), p, atol=0.015)
    np.testing.assert_allclose(freq(top_k=2), [0.5 / 0.8, 0.3 / 0.8, 0, 0], atol=0.015)
    # top_p=0.7: tokens 0 and 1 (0.5 < 0.7, then 0.8 >= 0.7 covers it); 2 and 3 are cut
    np.testing.assert_allclose(freq(top_p=0.7), [0.5 / 0.8, 0.3 / 0.8, 0, 0], atol=0.015)
    np.testing.assert_allclose(freq(top_p=0.85), [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0],
                               atol=0.015)
    sharp = p ** 2 / (p ** 2).sum()  # temperature 0.5 squares the probabilities
    np.testing.assert_allclose(freq(temperature=0.5), sharp, atol=0.015)
    np.testing.assert_array_equal(freq(temperature=0), [1, 0, 0, 0])
