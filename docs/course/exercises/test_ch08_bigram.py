"""Tests of chapter 8's exercise (your ch08_bigram.py), against PyTorch."""

import numpy as np
import pytest
import torch
from ch08_bigram import bigram_nll, bigram_probs

IDS = np.array([0, 1, 2, 1, 2, 2, 0, 1, 3, 1, 2])


def torch_counts(ids, vocab_size):
    t = torch.as_tensor(ids)
    counts = torch.zeros(vocab_size, vocab_size, dtype=torch.float64)
    return counts.index_put_((t[:-1], t[1:]), torch.ones(len(t) - 1, dtype=torch.float64),
                             accumulate=True)


@pytest.mark.parametrize("smoothing", [0.0, 1.0, 0.5])
def test_probs_are_normalised_counts(smoothing):
    counts = torch_counts(IDS, 4) + smoothing  # every id 0..3 is followed by something
    expected = (counts / counts.sum(dim=1, keepdim=True)).numpy()
    got = bigram_probs(IDS, 4, smoothing)
    assert got.shape == (4, 4)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_smoothing_gives_unseen_pairs_a_chance():
    p = bigram_probs(IDS, 5, 1.0)
    assert p[4, 4] == pytest.approx(1 / 5)  # id 4 never occurs: uniform row
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


def test_nll_is_cross_entropy_of_log_probs():
    p = bigram_probs(IDS, 5, 1.0)
    ids = torch.as_tensor(IDS)
    expected = torch.nn.functional.cross_entropy(torch.log(torch.as_tensor(p))[ids[:-1]], ids[1:])
    assert bigram_nll(p, IDS) == pytest.approx(expected.item(), rel=1e-12)
