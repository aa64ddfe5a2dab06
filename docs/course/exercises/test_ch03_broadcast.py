"""Tests of the chapter 03 exercise: `pytest docs/course/exercises -k ch03`."""

import numpy as np
import pytest
from ch03_broadcast import linear_backward, sum_to

import numpy2gpt as torch
import numpy2gpt.nn.functional as F


@pytest.mark.parametrize("shape", [(3, 1), (1, 4), (4,), (2, 3, 4), (1, 1, 1), ()])
def test_sum_to_is_the_backward_of_broadcasting(shape):
    g = np.random.default_rng(0).standard_normal((2, 3, 4))
    a = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    torch.broadcast_to(a, (2, 3, 4)).backward(torch.tensor(g))
    out = sum_to(g, shape)
    assert out.shape == shape
    np.testing.assert_allclose(out, a.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("x_shape", [(5, 3), (2, 5, 3)])
def test_linear_backward_matches_autograd(x_shape):
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.standard_normal(x_shape), requires_grad=True)
    W = torch.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = torch.tensor(rng.standard_normal(4), requires_grad=True)
    gy = rng.standard_normal(x_shape[:-1] + (4,))
    F.linear(x, W, b).backward(torch.tensor(gy))
    gx, gW, gb = linear_backward(x.detach().numpy(), W.detach().numpy(), gy)
    for mine, t in ((gx, x), (gW, W), (gb, b)):
        assert mine.shape == t.shape
        np.testing.assert_allclose(mine, t.grad.numpy(), rtol=1e-10)
