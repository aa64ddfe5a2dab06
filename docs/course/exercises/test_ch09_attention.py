"""Tests of chapter 9's exercise (your ch09_attention.py), against PyTorch."""

import numpy as np
import pytest
import torch
from ch09_attention import causal_attention, causal_mask

import numpy2gpt


@pytest.mark.parametrize("T", [1, 2, 5])
def test_causal_mask(T):
    mask = causal_mask(T)
    expected = torch.ones(T, T, dtype=torch.bool).tril()
    assert mask.dtype == numpy2gpt.bool
    np.testing.assert_array_equal(mask.numpy(), expected.numpy())


@pytest.mark.parametrize("shape", [(6, 4), (2, 3, 5, 8)])
def test_values_and_gradients_match_pytorch(shape):
    rng = np.random.default_rng(0)
    q, k, v, g = (rng.standard_normal(shape) for _ in range(4))
    mine = [numpy2gpt.tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = causal_attention(*mine)
    expected = torch.nn.functional.scaled_dot_product_attention(*theirs, is_causal=True)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    out.backward(numpy2gpt.tensor(g))
    expected.backward(torch.tensor(g))
    for a, b, name in zip(mine, theirs, "qkv"):
        assert a.grad is not None, f"no gradient reached {name}"
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=f"gradient of {name}")


def test_the_first_position_sees_only_itself():
    q = numpy2gpt.randn(4, 3)
    k = numpy2gpt.randn(4, 3)
    v = numpy2gpt.arange(12.0).view(4, 3)
    out = causal_attention(q, k, v)
    np.testing.assert_allclose(out[0].numpy(), v[0].numpy())  # one key: weight 1
