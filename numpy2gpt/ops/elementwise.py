"""Elementwise math: exp, log, sqrt, tanh, sigmoid, relu, ... Each gradient is f'(x) * gy.

Where f' is cheapest from the output (exp, tanh, sigmoid, sqrt), the Function saves its output.
"""

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..tensor import Tensor, as_tensor


def _float(x):
    """Integer inputs to float math are promoted to the default dtype, like PyTorch."""
    x = as_tensor(x)
    return x if x.dtype.kind == "f" else x.to(dtypes.get_default_dtype())


class Exp(Function):
    saves_outputs = True

    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        return gy * self.saved_output()  # d e^x = e^x


class Log(Function):
    def forward(self, x):
        return np.log(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / x


class LogBase(Function):
    """log2 or log10: log_b(x) = ln(x) / ln(b), so its derivative is 1 / (x ln(b))."""

    def __init__(self, base):
        self.base = base
        self.grad_fn_name = f"Log{base}Backward0"

    def forward(self, x):
        return np.log2(x) if self.base == 2 else np.log10(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (x * float(np.log(self.base)))


class Sqrt(Function):
    saves_outputs = True

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, gy):
        return gy / (2.0 * self.saved_output())  # d sqrt(x) = 1 / (2 sqrt(x))


class Rsqrt(Function):
    saves_outputs = True

    def forward(self, x):
        return 1.0 / np.sqrt(x)

    def backward(self, gy):
        y = self.saved_output()
        return gy * (-0.5) * (y * y * y)  # d x^(-1/2) = -1/2 x^(-3/2) = -1/2 y^3


class Square(Function):
    grad_fn_name = "PowBackward0"  # PyTorch computes square as x ** 2

    def forward(self, x):
        return x * x

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * 2.0 * x


class Sin(Function):
    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * cos(x)


class Cos(Function):
    def forward(self, x):
        return np.cos(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return -gy * sin(x)


class Tanh(Function):
    saves_outputs = True

    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy):
        y = self.saved_output()
        return gy * (1.0 - y * y)  # d tanh = 1 - tanh^2


class Sigmoid(Function):
    saves_outputs = True

    def forward(self, x):
        # 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0: never overflows
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def backward(self, gy):
        y = self.saved_output()
        return gy * y * (1.0 - y)  # d sigma = sigma (1 - sigma)


class Relu(Function):
    """max(x, 0) as PyTorch computes it: negatives become +0; -0 and NaN pass through (x * (x > 0)
    would give -0 for negatives)."""

    def forward(self, x):
        return np.where(x < 0, np.zeros((), x.dtype), x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        # the mask is a constant; NaN inputs pass the gradient, as PyTorch's threshold_backward
        return gy * Tensor._make((~(x._data <= 0)).astype(x.dtype))


class Abs(Function):
    def forward(self, x):
        return np.abs(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * Tensor._make(np.sign(x._data))  # sign(0) = 0, like PyTorch


def exp(input):
    return Exp()(_float(input))


def log(input):
    return Log()(_float(input))


def log2(input):
    return LogBase(2)(_float(input))


def log10(input):
    return LogBase(10)(_float(input))


def sqrt(input):
    return Sqrt()(_float(input))


def rsqrt(input):
    return Rsqrt()(_float(input))


def square(input):
    x = as_tensor(input)
    return Square()(x.to(np.int64) if x.dtype.kind == "b" else x)  # bool squares to int64


def sin(input):
    return Sin()(_float(input))


def cos(input):
    return Cos()(_float(input))


def tanh(input):
    return Tanh()(_float(input))


def sigmoid(input):
    return Sigmoid()(_float(input))


def relu(input):
    return Relu()(as_tensor(input))


def abs(input):
    return Abs()(as_tensor(input))


TENSOR_METHODS = {
    "exp": exp, "log": log, "log2": log2, "log10": log10, "sqrt": sqrt, "rsqrt": rsqrt,
    "square": square, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid, "relu": relu,
    "abs": abs, "__abs__": abs,
}
__all__ = ["exp", "log", "log2", "log10", "sqrt", "rsqrt", "square", "sin", "cos", "tanh",
           "sigmoid", "relu", "abs"]
