"""Tests of chapter 14's exercise (your ch14_parallel.py): shard gradients averaged into the full
batch's gradient, computed by PyTorch."""

import numpy as np
import pytest
import torch
from ch14_parallel import average_gradients


def model_and_batch(n):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    model.double()
    return model, torch.randn(n, 5, dtype=torch.float64), torch.randint(0, 3, (n,))


def gradients(model, x, y):
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()  # the mean over x's rows
    return [p.grad.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("sizes", [[4, 4], [3, 4], [1, 2, 4], [7]])
def test_shards_give_the_full_batch_gradient(sizes):
    model, x, y = model_and_batch(sum(sizes))
    full = gradients(model, x, y)
    bounds = np.cumsum([0] + sizes)
    shards = [gradients(model, x[a:b], y[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    got = average_gradients(shards, sizes)
    assert len(got) == len(full)
    for g, f in zip(got, full):
        np.testing.assert_allclose(g, f, rtol=1e-12, atol=1e-15)


def test_does_not_modify_the_shards():
    shards = [[np.ones(3)], [np.full(3, 4.0)]]
    got = average_gradients(shards, [1, 2])
    np.testing.assert_allclose(got[0], [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(shards[0][0], np.ones(3))
