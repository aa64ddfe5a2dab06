"""Tests of chapter 11's exercise (your ch11_training.py), against PyTorch's clip_grad_norm_."""

import numpy as np
import pytest
import torch
from ch11_training import clip_grad_norm

import numpy2gpt


def pairs(grads):
    """numpy2gpt and PyTorch parameters holding the same gradients (None: no gradient)."""
    mine, theirs = [], []
    for g in grads:
        shape = (1,) if g is None else g.shape
        a = numpy2gpt.nn.Parameter(numpy2gpt.zeros(*shape))
        b = torch.nn.Parameter(torch.zeros(shape))
        if g is not None:
            a.grad, b.grad = numpy2gpt.tensor(g), torch.tensor(g)
        mine.append(a)
        theirs.append(b)
    return mine, theirs


@pytest.mark.parametrize("max_norm", [0.5, 1.0, 100.0])
def test_matches_pytorch(max_norm):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)).astype(np.float32), None,
             rng.standard_normal(5).astype(np.float32)]
    mine, theirs = pairs(grads)
    norm = clip_grad_norm(mine, max_norm)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
    assert float(norm) == pytest.approx(expected.item(), rel=1e-6)
    for a, b in zip(mine, theirs):
        if b.grad is None:
            assert a.grad is None
        else:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clipped_norm_is_max_norm_and_direction_is_kept():
    mine, _ = pairs([np.array([3.0, 4.0], np.float32), np.array([[12.0]], np.float32)])
    assert float(clip_grad_norm(mine, 2.0)) == pytest.approx(13.0)
    np.testing.assert_allclose(mine[0].grad.numpy(), [3 * 2 / 13, 4 * 2 / 13], rtol=1e-5)
    np.testing.assert_allclose(mine[1].grad.numpy(), [[12 * 2 / 13]], rtol=1e-5)
