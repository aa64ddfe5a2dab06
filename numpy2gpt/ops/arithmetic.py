"""Arithmetic: + - * / ** and negation, with NumPy broadcasting; dtype casts; comparisons.

Broadcasting in backward: if `a` of shape (3, 1) was broadcast to (2, 3, 4) in forward, each of
its elements was used 2*4 times, so its gradient is the output gradient summed over the
broadcast axes (`sum_to`).
"""

import numpy as np

from ..autograd.function import Function
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from ._util import broadcast_shape, promote, sum_to_array
from .elementwise import log
from .shape import broadcast_to


class Add(Function):
    saves_values = False

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), sum_to(gy, b.shape)


class Sub(Function):
    saves_values = False

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), sum_to(-gy, b.shape)


class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs  # each is read only for the other's gradient
        ga = sum_to(gy * self.saved_input(1), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy * self.saved_input(0), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        return a / b

    def backward(self, gy):
        a, b = self.inputs[0], self.saved_input(1)  # a is read only for b's gradient
        ga = sum_to(gy / b, a.shape) if self.needs_input_grad[0] else None
        # d(a/b)/db = -a / b^2
        gb = sum_to(-gy * self.saved_input(0) / (b * b), b.shape) if self.needs_input_grad[1] \
            else None
        return ga, gb


class Neg(Function):
    saves_values = False

    def forward(self, a):
        return -a

    def backward(self, gy):
        return -gy


class PowScalar(Function):
    """x ** c for a Python number c (common exponents use cheap multiplies, not np.power)."""

    grad_fn_name = "PowBackward0"

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        c = self.c
        if c == 2:
            return x * x
        if c == 1:
            return x.copy()
        if c == 0.5:
            return np.sqrt(x)
        if c == -1:
            return 1 / x
        if c == 3:
            return x * x * x
        return np.power(x, np.asarray(c, dtype=x.dtype))

    def backward(self, gy):
        (x,) = self.saved_tensors
        c = self.c
        if c == 0:
            return gy * 0.0
        return gy * c * pow(x, c - 1)  # d(x^c)/dx = c x^(c-1)


class Pow(Function):
    """a ** b with both operands tensors."""

    grad_fn_name = "PowBackward1"

    def forward(self, a, b):
        return np.power(a, b)

    def backward(self, gy):
        a, b = self.saved_tensors
        y = self.saved_output()
        ga = sum_to(gy * b * pow(a, b - 1), a.shape) if self.needs_input_grad[0] else None
        # d(a^b)/db = a^b * log(a)
        gb = sum_to(gy * y * log(a), b.shape) if self.needs_input_grad[1] else None
        return ga, gb

    saves_outputs = True


class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype."""

    saves_values = False
    grad_fn_name = "ToCopyBackward0"

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy.to(self.inputs[0].dtype)


class SumTo(Function):
    """Sum over broadcast axes so the result has `shape` (the backward of broadcasting)."""

    saves_values = False
    grad_fn_name = "SumBackward1"

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return sum_to_array(x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.inputs[0].shape)


class Clone(Function):
    """A copy that stays in the graph (gradient passes through unchanged)."""

    saves_values = False

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy


# ----- functional wrappers ----------------------------------------------------------------------
def _binary(fn_cls, a, b):
    a, b = promote(a, b)
    broadcast_shape(a.shape, b.shape)
    return fn_cls()(a, b)


def add(input, other, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Add, input, other)


def sub(input, other, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Sub, input, other)


def mul(input, other):
    return _binary(Mul, input, other)


def div(input, other, rounding_mode=None):
    if rounding_mode is not None:  # integer-style division: no gradient, like PyTorch
        a, b = promote(input, other)
        if rounding_mode == "floor":
            return Tensor._make(np.floor_divide(a.data, b.data))
        if rounding_mode == "trunc":
            return Tensor._make(np.trunc(a.data / b.data).astype(a.dtype))
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found {rounding_mode!r}")
    a, b = promote(input, other)
    if a.dtype.kind != "f":  # true division of integers gives floats, like PyTorch
        a, b = a.to(get_default_dtype()), b.to(get_default_dtype())
    broadcast_shape(a.shape, b.shape)
    return Div()(a, b)


def neg(input):
    return Neg()(input)


def pow(input, exponent):
    """input ** exponent; either may be a Python number."""
    if isinstance(exponent, int | float) and isinstance(input, Tensor):
        if input.dtype.kind in "iu" and isinstance(exponent, int) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if input.dtype.kind != "f" and isinstance(exponent, float):
            input = input.to(get_default_dtype())
        return PowScalar(exponent)(input)
    return _binary(Pow, input, exponent)


def cast(input, dtype):
    return Cast(dtype)(input)


def clone(input, *, memory_format=None):
    """A copy of `input` with its own memory; gradients flow back to `input`."""
    return Clone()(input)


def sum_to(x, shape):
    """Sum `x` down to `shape` (no-op when already that shape)."""
    if x.shape == tuple(shape):
        return x
    return SumTo(shape)(x)


# ----- comparisons: results are bool tensors that never require grad ---------------------------
def _compare(np_op):
    def compare(input, other):
        if other is None:
            return np_op is np.not_equal
        a, b = promote(input, other)
        broadcast_shape(a.shape, b.shape)
        return Tensor._make(np_op(a.data, b.data))

    compare.__name__ = np_op.__name__
    return compare


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)


def equal(input, other):
    """True if both tensors have the same shape and elements."""
    return input.shape == other.shape and bool(np.array_equal(input.data, other.data))


def _reflected(fn):
    return lambda self, other: fn(other, self)


TENSOR_METHODS = {
    "__add__": add, "__radd__": _reflected(add), "__sub__": sub, "__rsub__": _reflected(sub),
    "__mul__": mul, "__rmul__": _reflected(mul), "__truediv__": div,
    "__rtruediv__": _reflected(div), "__neg__": neg, "__pow__": pow,
    "__rpow__": _reflected(pow), "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le,
    "__gt__": gt, "__ge__": ge,
    "add": add, "sub": sub, "mul": mul, "div": div, "neg": neg, "pow": pow, "eq": eq, "ne": ne,
    "lt": lt, "le": le, "gt": gt, "ge": ge, "equal": equal, "subtract": sub, "multiply": mul,
    "divide": div, "true_divide": div, "negative": neg, "clone": clone,
}

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "eq", "ne", "lt", "le", "gt", "ge", "equal",
           "subtract", "multiply", "divide", "true_divide", "negative", "sum_to", "clone"]
subtract, multiply, divide, true_divide, negative = sub, mul, div, div, neg
