"""Tests of chapter 10's exercises (your ch10_gpt.py): GELU against PyTorch, the count against a
real model."""

import contextlib
import io

import numpy as np
import pytest
import torch

import numpy2gpt
from ch10_gpt import gelu_tanh, num_params
from numpy2gpt.gpt import GPT, GPTConfig


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gelu_tanh_values_and_gradient_match_pytorch(dtype):
    x = np.linspace(-6, 6, 41).astype(dtype)
    mine = numpy2gpt.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = gelu_tanh(mine)
    expected = torch.nn.functional.gelu(theirs, approximate="tanh")
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert out.dtype == getattr(numpy2gpt, dtype)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=tol, atol=tol)
    out.sum().backward()
    expected.sum().backward()
    assert mine.grad is not None, "no gradient reached x: use tensor ops"
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=tol * 10, atol=tol)


def test_gelu_tanh_is_not_the_exact_gelu():
    x = numpy2gpt.tensor([1.5], dtype=numpy2gpt.float64)
    exact = torch.nn.functional.gelu(torch.tensor([1.5], dtype=torch.float64)).item()
    assert gelu_tanh(x).item() != pytest.approx(exact, rel=1e-9, abs=0)


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
