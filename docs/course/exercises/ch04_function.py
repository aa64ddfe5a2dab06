"""Chapter 04 exercise: your own Functions, checked by gradcheck.

Fill in the two backward methods (and GeluTanh's forward), then run
`pytest docs/course/exercises -k ch04`.
"""

import numpy as np

import numpy2gpt as torch  # noqa: F401 - for your backward (torch.sin ...)
from numpy2gpt.autograd import Function, FusedFunction


class Cos(Function):
    """cos(x). Write backward with numpy2gpt ops on Tensors (torch.sin ...), so that it stays
    differentiable."""

    def forward(self, x):
        return np.cos(x)

    def backward(self, gy):
        raise NotImplementedError("ch04: Cos.backward")


def cos(x):
    return Cos()(x)


class GeluTanh(FusedFunction):
    """GELU with the tanh approximation, what nn.functional.gelu(x, approximate="tanh") computes:

        y = x (1 + tanh(u)) / 2,   u = sqrt(2 / pi) (x + 0.044715 x^3)

    forward and backward work on NumPy arrays; save in forward what backward needs. Keep the
    input's dtype (a float32 x gives a float32 y and gradient)."""

    def forward(self, x):
        raise NotImplementedError("ch04: GeluTanh.forward")

    def backward(self, gy):
        raise NotImplementedError("ch04: GeluTanh.backward")


def gelu_tanh(x):
    return GeluTanh()(x)

