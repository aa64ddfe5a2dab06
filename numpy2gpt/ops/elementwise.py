"""Elementwise math: exp, log, sqrt, tanh, sigmoid, relu, the hyperbolic functions and their
inverses, frac; the two-operand atan2, hypot, logaddexp, heaviside; nan_to_num and detach.
Each gradient is f'(x) * gy (for two operands, the partial derivatives).

Where f' is cheapest from the output (exp, tanh, sigmoid, sqrt), the Function saves its output.
"""

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..tensor import Tensor, as_tensor
from ._util import broadcast_shape, not_implemented_for, promote, require_tensor


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
        return gy * _ReluSlope()(x)


class _ReluSlope(Function):
    """relu's slope, 1 where x > 0 (and where x is NaN, as PyTorch's threshold_backward), else
    0: a function of x whose derivative is 0, so a second derivative through relu is 0 (PyTorch's),
    not an error for a gradient that no longer depends on x."""

    def forward(self, x):
        return (~(x <= 0)).astype(x.dtype)

    def backward(self, gy):
        return Tensor._make(np.zeros_like(gy._data))


class Abs(Function):
    def forward(self, x):
        return np.abs(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * x.sign()  # sign(0) = 0, like PyTorch; sign's own derivative is 0


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


# ----- hyperbolic functions and their inverses, frac ---------------------------------------------
class Sinh(Function):
    def forward(self, x):
        return np.sinh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * cosh(x)


class Cosh(Function):
    def forward(self, x):
        return np.cosh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * sinh(x)


class Asinh(Function):
    def forward(self, x):
        return np.arcsinh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * rsqrt(x * x + 1.0)  # d asinh = 1 / sqrt(x^2 + 1)


class Acosh(Function):
    def forward(self, x):
        return np.arccosh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * rsqrt(x * x - 1.0)  # d acosh = 1 / sqrt(x^2 - 1): inf at 1, NaN below


class Atanh(Function):
    def forward(self, x):
        return np.arctanh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (1.0 - x * x)  # d atanh = 1 / (1 - x^2)


class Frac(Function):
    """x - trunc(x): the fractional part, with x's sign. trunc is flat, so the gradient is gy."""

    saves_values = False

    def forward(self, x):
        return x - np.trunc(x)

    def backward(self, gy):
        return gy


def sinh(input):
    return Sinh()(_float(input))


def cosh(input):
    return Cosh()(_float(input))


def asinh(input):
    return Asinh()(_float(input))


def acosh(input):
    return Acosh()(_float(input))


def atanh(input):
    return Atanh()(_float(input))


def frac(input):
    """The fractional part x - trunc(x) (floating point tensors only, like PyTorch)."""
    x = as_tensor(input)
    not_implemented_for(x, "frac_cpu")
    return Frac()(x)


# ----- two operands: atan2, hypot, logaddexp, heaviside -----------------------------------------
def _tensors(name, input, other, second="other"):
    """Both operands promoted to a common dtype (PyTorch's rule) and checked to broadcast; these
    ops take tensors only (PyTorch's TypeError for a number)."""
    require_tensor(input, name, "input", 1)
    require_tensor(other, name, second, 2)
    a, b = promote(input, other)
    broadcast_shape(a.shape, b.shape)
    return a, b


class Atan2(Function):
    """The angle of the point (x=b, y=a): atan2(a, b), in (-pi, pi]."""

    def forward(self, a, b):
        return np.arctan2(a, b)

    def backward(self, gy):
        from .arithmetic import sum_to

        a, b = self.saved_tensors
        # d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2); PyTorch gives 0 at the origin
        r2 = (a * a + b * b)._data
        with np.errstate(divide="ignore"):
            recip = Tensor._make(np.where(r2 == 0, np.zeros((), r2.dtype), 1 / r2))
        ga = sum_to(gy * b * recip, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy * -a * recip, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Hypot(Function):
    """sqrt(a^2 + b^2) without overflow or underflow in the squares (np.hypot)."""

    saves_outputs = True

    def forward(self, a, b):
        return np.hypot(a, b)

    def backward(self, gy):
        from .arithmetic import sum_to

        a, b = self.saved_tensors
        g = gy / self.saved_output()  # d/da = a / hypot, d/db = b / hypot (NaN at the origin)
        ga = sum_to(g * a, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(g * b, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class LogAddExp(Function):
    """log(e^a + e^b), computed without overflow (np.logaddexp)."""

    grad_fn_name = "LogaddexpBackward0"

    def forward(self, a, b):
        return np.logaddexp(a, b)

    def backward(self, gy):
        from .arithmetic import sum_to

        a, b = self.saved_tensors
        # d/da = e^a / (e^a + e^b) = 1 / (1 + e^(b - a)), PyTorch's form (and d/db likewise)
        ga = sum_to(gy / (1.0 + exp(b - a)), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy / (1.0 + exp(a - b)), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def atan2(input, other):
    """The angle of the point (other, input) in radians: atan2(y=input, x=other), elementwise.
    Integer inputs give the default float dtype."""
    a, b = _tensors("atan2", input, other)
    return Atan2()(_float(a), _float(b))


def hypot(input, other):
    """sqrt(input^2 + other^2), elementwise (floating point tensors only, like PyTorch)."""
    a, b = _tensors("hypot", input, other)
    not_implemented_for(a, "hypot_cpu")
    return Hypot()(a, b)


def logaddexp(input, other):
    """log(e^input + e^other), elementwise and stable (floating point tensors only)."""
    a, b = _tensors("logaddexp", input, other)
    not_implemented_for(a, "logaddexp_cpu")
    return LogAddExp()(a, b)


def _heaviside_array(x, values):
    return np.where(x == 0, values, (x > 0).astype(x.dtype))  # NaN is neither: 0


def heaviside(input, values):
    """The step function: 0 where input < 0, `values` where input == 0, 1 where input > 0.
    Both tensors must have one dtype; PyTorch has no derivative for it."""
    from .arithmetic import NotDifferentiable

    require_tensor(input, "heaviside", "input", 1)
    require_tensor(values, "heaviside", "values", 2)
    if input.dtype != values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    broadcast_shape(input.shape, values.shape)
    return NotDifferentiable("heaviside", _heaviside_array)(input, values)


# ----- nan_to_num, detach -----------------------------------------------------------------------
class NanToNum(Function):
    """NaN, +inf and -inf replaced by given finite numbers; the gradient passes where x is finite
    (PyTorch's rule: a replaced element is a constant)."""

    def __init__(self, nan, posinf, neginf):
        self.nan, self.posinf, self.neginf = nan, posinf, neginf

    def forward(self, x):
        return np.nan_to_num(x, nan=self.nan, posinf=self.posinf, neginf=self.neginf)

    def backward(self, gy):
        from .selection import _Mask

        (x,) = self.saved_tensors
        return _Mask(np.isfinite(x._data))(gy)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN -> `nan`, +inf -> `posinf` (default: the dtype's largest value), -inf -> `neginf`
    (default: its lowest). Integer and bool tensors have none of them: an unchanged copy."""
    for name, v in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if v is not None and (not isinstance(v, int | float | np.number) or isinstance(v, bool)):
            raise TypeError(f"nan_to_num(): argument '{name}' must be float, not "
                            f"{type(v).__name__}")
    x = as_tensor(input)
    if x.dtype.kind != "f":
        return Tensor._make(x._data.copy())
    info = np.finfo(x.dtype)
    posinf, neginf = info.max if posinf is None else posinf, info.min if neginf is None else neginf
    with np.errstate(over="ignore"):  # the replacements in x's dtype (1e10 is inf in float16)
        values = [np.asarray(v).astype(x.dtype) for v in (nan, posinf, neginf)]
    return NanToNum(*values)(x)


def detach(input):
    """`torch.detach(x)`: the same as `x.detach()`, a new leaf sharing x's memory."""
    return require_tensor(input, "detach", "input", 1).detach()


TENSOR_METHODS = {
    "exp": exp, "log": log, "log2": log2, "log10": log10, "sqrt": sqrt, "rsqrt": rsqrt,
    "square": square, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid, "relu": relu,
    "abs": abs, "__abs__": abs, "sinh": sinh, "cosh": cosh, "asinh": asinh, "acosh": acosh,
    "atanh": atanh, "arcsinh": asinh, "arccosh": acosh, "arctanh": atanh, "frac": frac,
    "atan2": atan2, "arctan2": atan2, "hypot": hypot, "logaddexp": logaddexp,
    "heaviside": heaviside, "nan_to_num": nan_to_num,
}
__all__ = ["exp", "log", "log2", "log10", "sqrt", "rsqrt", "square", "sin", "cos", "tanh",
           "sigmoid", "relu", "abs", "sinh", "cosh", "asinh", "acosh", "atanh", "arcsinh",
           "arccosh", "arctanh", "frac", "atan2", "arctan2", "hypot", "logaddexp", "heaviside",
           "nan_to_num", "detach"]
arcsinh, arccosh, arctanh, arctan2 = asinh, acosh, atanh, atan2
