"""Tests of chapter 12's exercise (your ch12_sampling.py), against filters written with PyTorch."""

import numpy as np
import pytest
import torch
from ch12_sampling import top_k_filter, top_p_filter

import numpy2gpt

LOGITS = np.random.default_rng(0).standard_normal((3, 11)).astype(np.float32) * 2


def torch_top_k(logits, k):
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def torch_top_p(logits, p):
    probs = torch.softmax(logits, dim=-1)
    sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
    drop_sorted = torch.cumsum(sorted_probs, dim=-1) - sorted_probs >= p
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


@pytest.mark.parametrize("k", [1, 3, 11])
def test_top_k_matches_pytorch(k):
    got = top_k_filter(numpy2gpt.tensor(LOGITS), k)
    np.testing.assert_array_equal(got.numpy(), torch_top_k(torch.tensor(LOGITS), k).numpy())
    assert (np.isfinite(got.numpy()).sum(axis=-1) == k).all()


def test_top_k_keeps_ties_and_does_not_modify_its_input():
    logits = numpy2gpt.tensor([[1.0, 3.0, 2.0, 3.0, 2.0]])
    got = top_k_filter(logits, 2)
    np.testing.assert_array_equal(got.numpy(), [[-np.inf, 3.0, -np.inf, 3.0, -np.inf]])
    got = top_k_filter(logits, 3)
    np.testing.assert_array_equal(got.numpy(), [[-np.inf, 3.0, 2.0, 3.0, 2.0]])
    np.testing.assert_array_equal(logits.numpy(), [[1.0, 3.0, 2.0, 3.0, 2.0]])


@pytest.mark.parametrize("p", [0.01, 0.5, 0.9, 1.0])
def test_top_p_matches_pytorch(p):
    got = top_p_filter(numpy2gpt.tensor(LOGITS), p)
    np.testing.assert_array_equal(got.numpy(), torch_top_p(torch.tensor(LOGITS), p).numpy())


def test_top_p_keeps_the_fewest_tokens_that_reach_p():
    logits = numpy2gpt.tensor(np.log([[0.5, 0.1, 0.3, 0.1]]))
    kept = np.isfinite(top_p_filter(logits, 0.75).numpy())
    np.testing.assert_array_equal(kept, [[True, False, True, False]])  # 0.5 + 0.3 >= 0.75
    kept = np.isfinite(top_p_filter(logits, 0.4).numpy())
    np.testing.assert_array_equal(kept, [[True, False, False, False]])  # the top one alone
