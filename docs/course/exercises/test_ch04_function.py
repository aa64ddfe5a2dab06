"""Tests of the chapter 04 exercise: `pytest docs/course/exercises -k ch04`."""

import numpy as np
from ch04_function import cos, gelu_tanh

import numpy2gpt as torch
import numpy2gpt.nn.functional as F
from numpy2gpt.autograd import gradcheck, gradgradcheck


def _x(dtype=torch.float64):
    return torch.tensor(np.linspace(-3, 3, 13), dtype=dtype, requires_grad=True)


def test_cos_passes_gradcheck():
    assert gradcheck(cos, (_x(),))


def test_cos_backward_is_differentiable_again():
    assert gradgradcheck(cos, (_x(),))


def test_gelu_tanh_values_match_the_library():
    x = _x()
    np.testing.assert_allclose(gelu_tanh(x).detach().numpy(),
                               F.gelu(x, approximate="tanh").detach().numpy(), rtol=1e-12)


def test_gelu_tanh_passes_gradcheck():
    assert gradcheck(gelu_tanh, (_x(),))


def test_gelu_tanh_keeps_float32():
    x = _x(torch.float32)
    y = gelu_tanh(x)
    y.backward(torch.ones_like(y))
    assert y.dtype == torch.float32 and x.grad.dtype == torch.float32
    expected = torch.tensor(np.linspace(-3, 3, 13), dtype=torch.float32, requires_grad=True)
    F.gelu(expected, approximate="tanh").sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected.grad.numpy(), rtol=1e-5, atol=1e-6)
