"""Tests of chapter 10's exercises (your ch10_gpt.py): layer_norm against PyTorch, the count
against a real model."""

import contextlib
import io

import numpy as np
import pytest
import torch
from ch10_gpt import layer_norm, num_params

import numpy2gpt
from numpy2gpt.gpt import GPT, GPTConfig


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(5, 8), (2, 3, 16)])
def test_layer_norm_values_and_gradients_match_pytorch(dtype, shape):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    w, b = (rng.standard_normal(shape[-1]).astype(dtype) for _ in range(2))
    g = rng.standard_normal(shape).astype(dtype)
    mine = [numpy2gpt.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = layer_norm(*mine, eps=1e-5)
    expected = torch.nn.functional.layer_norm(theirs[0], shape[-1:], theirs[1], theirs[2], 1e-5)
    tol = 1e-5 if dtype == "float32" else 1e-11
    assert out.dtype == getattr(numpy2gpt, dtype)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=tol, atol=tol)
    out.backward(numpy2gpt.tensor(g))
    expected.backward(torch.tensor(g))
    for a, t, name in zip(mine, theirs, ("x", "weight", "bias")):
        assert a.grad is not None, f"no gradient reached {name}: use tensor ops"
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=tol * 10, atol=tol * 10,
                                   err_msg=f"gradient of {name}")


def test_layer_norm_uses_eps():
    x = numpy2gpt.tensor([[1.0, 1.0, 1.0, 1.0]], dtype=numpy2gpt.float64)
    one = numpy2gpt.ones(4, dtype=numpy2gpt.float64)
    zero = numpy2gpt.zeros(4, dtype=numpy2gpt.float64)
    x2 = numpy2gpt.tensor([[0.0, 2.0, 0.0, 2.0]], dtype=numpy2gpt.float64)  # var 1
    out = layer_norm(x2, one, zero, eps=3.0)
    np.testing.assert_allclose(out.numpy(), [[-0.5, 0.5, -0.5, 0.5]])
    assert np.isfinite(layer_norm(x, one, zero).numpy()).all()  # a constant row: 0, not NaN


@pytest.mark.parametrize("n_layer, n_embd, vocab_size, block_size, bias", [
    (1, 8, 11, 5, True), (2, 16, 65, 32, False), (4, 128, 65, 64, True), (3, 24, 7, 9, False)])
def test_num_params_matches_a_model(n_layer, n_embd, vocab_size, block_size, bias):
    with contextlib.redirect_stdout(io.StringIO()):  # GPT prints its size
        model = GPT(GPTConfig(n_layer=n_layer, n_head=2, n_embd=n_embd, vocab_size=vocab_size,
                              block_size=block_size, bias=bias))
    assert num_params(n_layer, n_embd, vocab_size, block_size, bias) == \
        sum(p.numel() for p in model.parameters())


def test_gpt2_small():
    assert num_params(12, 768, 50257, 1024) == 124_439_808
