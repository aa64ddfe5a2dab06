"""Elementwise math: exp, log, sqrt, tanh, sigmoid, relu, the trigonometric and hyperbolic
functions and their inverses, sinc, reciprocal, frac, logit; the two-operand atan2, hypot,
logaddexp(2), heaviside, copysign, ldexp, float_power, xlogy; nan_to_num and detach; the long
names of the comparisons (greater, less_equal, ...) and the in-place forms of all these.
Each gradient is f'(x) * gy (for two operands, the partial derivatives).

Where f' is cheapest from the output (exp, tanh, sigmoid, sqrt), the Function saves its output.
"""

import math

import numpy as np

from .. import dtypes
from ..autograd.function import _TENSOR_TYPES, Function
from ..tensor import Tensor, as_tensor, type_name
from ._util import (
    _argument_type,
    broadcast_shape,
    not_implemented_for,
    opmath,
    promote,
    renamed,
    require_tensor,
)
from .inplace import _method_in_place, div_, inplace_apply, mul_, sub_


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
    """1 / (1 + e^-x), as PyTorch computes it (float16 in float32): for very negative x, e^-x
    overflows to inf and 1 / inf is the right 0."""

    saves_outputs = True

    def forward(self, x):
        with np.errstate(over="ignore"):
            return (1 / (1 + np.exp(-opmath(x)))).astype(x.dtype, copy=False)

    def backward(self, gy):
        return _SigmoidGrad()(gy, self.saved_output())


class _SigmoidGrad(Function):
    """sigmoid's gradient gy (1 - y) y (d sigma = sigma (1 - sigma)), in PyTorch's order of
    operations (float16 too, each step rounded), so its bits are PyTorch's."""

    def forward(self, gy, y):
        return gy * (1 - y) * y

    def backward(self, ggx):
        gy, y = self.saved_tensors
        # d/dgy = (1 - y) y ;  d/dy = gy (1 - 2 y)
        return ggx * (1 - y) * y, ggx * gy * (1 - 2 * y)


class Relu(Function):
    """max(x, 0) as PyTorch computes it: negatives become +0; -0 and NaN pass through (x * (x > 0)
    would give -0 for negatives). Like PyTorch's, its backward reads the output (positive
    exactly where x is), so an in-place edit of x after relu is no error, and one of y is."""

    saves_outputs = True

    def forward(self, x):
        return np.where(x < 0, np.zeros((), x.dtype), x)

    def backward(self, gy):
        return _ReluGrad()(gy, self.saved_output())


class _ReluGrad(Function):
    """relu's gradient, PyTorch's threshold_backward: gy where x > 0 (and where x is NaN), else 0.

    A select, not a product: where x <= 0 the gradient is 0 even when gy is inf or NaN (gy * 0
    would be NaN). gy * mask is several times faster than np.where (no branch per element), so
    the select runs only when the product has a NaN. The result is a function of x whose
    derivative is 0, so a second derivative through relu is 0 (PyTorch's), not an error for a
    gradient that no longer depends on x."""

    def forward(self, gy, x):
        keep = ~(x <= 0)
        gx = gy * keep
        if np.isnan(np.max(gx, initial=0)):  # an inf or NaN in gy: redo it as a select
            gx = np.where(keep, gy, np.zeros((), gy.dtype))
        return gx

    def backward(self, ggx):
        x = self.saved_input(1)
        return _ReluGrad()(ggx, x), Tensor._make(np.zeros_like(x._data))


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
    x = as_tensor(input)
    not_implemented_for(x, "abs_cpu", kinds="b")  # PyTorch refuses bool
    return Abs()(x)


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


# ----- trigonometric functions and their inverses, degrees and radians, sinc, reciprocal -------
class Tan(Function):
    saves_outputs = True

    def forward(self, x):
        return np.tan(x)

    def backward(self, gy):
        y = self.saved_output()
        return gy * (1.0 + y * y)  # d tan = 1 / cos^2 = 1 + tan^2


class Asin(Function):
    def forward(self, x):
        return np.arcsin(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * rsqrt(1.0 - x * x)  # d asin = 1 / sqrt(1 - x^2): inf at +-1, NaN beyond


class Acos(Function):
    def forward(self, x):
        return np.arccos(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return -gy * rsqrt(1.0 - x * x)  # acos = pi/2 - asin


class Atan(Function):
    def forward(self, x):
        return np.arctan(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (x * x + 1.0)  # d atan = 1 / (1 + x^2)


class Scale(Function):
    """x times a constant (deg2rad: pi/180, rad2deg: 180/pi), rounded to x's dtype."""

    saves_values = False

    def __init__(self, factor, label):
        self.factor, self.grad_fn_name = factor, label + "Backward0"

    def forward(self, x):
        return x * np.asarray(self.factor, x.dtype)

    def backward(self, gy):
        return gy * self.factor


class Sinc(Function):
    """sin(pi x) / (pi x), and 1 at x = 0 (its limit)."""

    def forward(self, x):
        px = x * np.asarray(np.pi, x.dtype)
        return np.where(x == 0, np.ones((), x.dtype), np.sin(px) / px)

    def backward(self, gy):
        from .indexing import where

        (x,) = self.saved_tensors
        px, x2pi = x * math.pi, x * x * math.pi
        # d/dx sin(pi x) / (pi x) = (pi x cos(pi x) - sin(pi x)) / (pi x^2); PyTorch takes it as 0
        # where pi x^2 is 0 (the limit at 0, also where x^2 underflows)
        return where(x2pi == 0, 0.0, gy * (px * cos(px) - sin(px)) / x2pi)


class Reciprocal(Function):
    saves_outputs = True

    def forward(self, x):
        return 1 / x

    def backward(self, gy):
        y = self.saved_output()
        return -gy * (y * y)  # d (1/x) = -1/x^2 = -y^2


def tan(input):
    return Tan()(_float(input))


def asin(input):
    return Asin()(_float(input))


def acos(input):
    return Acos()(_float(input))


def atan(input):
    return Atan()(_float(input))


def deg2rad(input):
    """Degrees to radians: input * pi / 180 (integer inputs give the default float dtype)."""
    return Scale(math.pi / 180, "Deg2Rad")(_float(input))


def rad2deg(input):
    """Radians to degrees: input * 180 / pi."""
    return Scale(180 / math.pi, "Rad2Deg")(_float(input))


def sinc(input):
    """The normalized sinc function sin(pi x) / (pi x), 1 at x = 0; its gradient there is 0."""
    return Sinc()(_float(input))


def reciprocal(input):
    """1 / x (integer inputs give the default float dtype; 1 / 0 is inf)."""
    return Reciprocal()(_float(input))


arcsin, arccos, arctan = asin, acos, atan


# ----- sign bit, unary plus, logit ---------------------------------------------------------------
def signbit(input):
    """True where the sign bit is set: negative numbers, -0.0 and NaNs with the sign bit (a bool
    tensor, no gradient)."""
    x = require_tensor(input, "signbit", "input", 1)
    return Tensor._make(np.signbit(x._data) if x.dtype.kind == "f" else x._data < 0)


def positive(input):
    """input itself (unary +); refused for bool tensors, like PyTorch."""
    x = require_tensor(input, "positive", "input", 1)
    if x.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return x


class Logit(Function):
    """log(x / (1 - x)), the inverse of sigmoid. With eps >= 0, x is first clamped to
    [eps, 1 - eps]; a negative eps (or None) clamps nothing."""

    def __init__(self, eps):
        self.eps = eps

    def _bounds(self, dtype):
        lo = np.asarray(self.eps, dtype)
        return lo, np.asarray(1, dtype) - lo

    def forward(self, x):
        if self.eps is not None and self.eps >= 0:
            lo, hi = self._bounds(x.dtype)
            x = np.where(x < lo, lo, np.where(x > hi, hi, x))
        return np.log(x / (1 - x))

    def backward(self, gy):
        from .indexing import where

        (x,) = self.saved_tensors
        g = gy / (x * (1.0 - x))  # d logit = 1 / (x (1 - x))
        g = where((x == 0.0) | (x == 1.0), gy * math.inf, g)  # inf with gy's sign at 0 and 1
        if self.eps is None or self.eps < 0:
            return where((x < 0.0) | (x > 1.0), math.nan, g)  # NaN outside [0, 1]
        lo, hi = (Tensor._make(b) for b in self._bounds(x.dtype))
        return where((x < lo) | (x > hi), 0.0, g)  # 0 where x was clamped


def logit(input, eps=None):
    """log(p / (1 - p)), the log-odds; `eps` clamps p to [eps, 1 - eps] first (and the gradient
    is 0 where it clamps)."""
    if eps is not None and (not isinstance(eps, int | float | np.number) or isinstance(eps, bool)):
        raise TypeError(f"logit(): argument 'eps' must be float, not {type(eps).__name__}")
    return Logit(None if eps is None else float(eps))(_float(input))


# ----- two operands: atan2, hypot, logaddexp, heaviside -----------------------------------------
def _tensors(name, input, other, second="other", floating=False):
    """Both operands promoted to a common dtype (PyTorch's rule; a float one with `floating`)
    and checked to broadcast; these ops take tensors only (PyTorch's TypeError for a number)."""
    require_tensor(input, name, "input", 1)
    require_tensor(other, name, second, 2)
    a, b = promote(input, other, floating)
    broadcast_shape(a.shape, b.shape)
    return a, b


class Atan2(Function):
    """The angle of the point (x=b, y=a): atan2(a, b), in (-pi, pi]."""

    def forward(self, a, b):
        return np.arctan2(a, b)

    def backward(self, gy):
        from .arithmetic import sum_to
        from .indexing import where

        a, b = self.saved_tensors
        # d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2); PyTorch gives 0 at the origin. Built
        # from differentiable ops, so that the second derivative sees 1 / (a^2 + b^2) vary too
        r2 = a * a + b * b
        recip = where(r2 == 0, 0.0, 1 / r2)
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


# ----- two operands: logaddexp2, copysign, ldexp, float_power, xlogy -----------------------------
class LogAddExp2(Function):
    """log2(2^a + 2^b), computed without overflow (np.logaddexp2)."""

    grad_fn_name = "Logaddexp2Backward0"

    def forward(self, a, b):
        return np.logaddexp2(a, b)

    def backward(self, gy):
        from .arithmetic import sum_to
        from .special import exp2

        a, b = self.saved_tensors
        # d/da = 2^a / (2^a + 2^b) = 1 / (1 + 2^(b - a)), and d/db likewise
        ga = sum_to(gy / (1.0 + exp2(b - a)), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy / (1.0 + exp2(a - b)), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Copysign(Function):
    """|a| with the sign (bit) of b."""

    saves_outputs = True

    def __init__(self, scalar_other):
        self.grad_fn_name = "CopysignBackward1" if scalar_other else "CopysignBackward0"

    def forward(self, a, b):
        return np.copysign(a, b)

    def backward(self, gy):
        from .arithmetic import sum_to
        from .indexing import where

        a, b = self.saved_tensors
        ga = gb = None
        if self.needs_input_grad[0]:
            # the result is a or -a: the derivative is y / a (+-1), 0 where a = 0 (PyTorch's)
            ga = sum_to(gy * where(a == 0.0, 0.0, self.saved_output() / a), a.shape)
        if self.needs_input_grad[1]:  # the sign of b is piecewise constant: zeros, as PyTorch
            gb = Tensor._make(np.zeros(b.shape, b.dtype))
        return ga, gb


class Ldexp(Function):
    """a * 2^b."""

    saves_outputs = True

    def forward(self, a, b):
        return a * np.exp2(b)

    def backward(self, gy):
        from .arithmetic import sum_to
        from .special import exp2

        a, b = self.saved_tensors
        ga = sum_to(gy * exp2(b), a.shape) if self.needs_input_grad[0] else None
        # d/db a 2^b = a 2^b ln 2 = y ln 2
        gb = sum_to(gy * self.saved_output() * math.log(2), b.shape) \
            if self.needs_input_grad[1] else None
        return ga, gb


class XLogY(Function):
    """x * log(y) (or x * log1p(y)), defined as 0 where x = 0 (also for y = 0, where 0 * -inf
    would be NaN) unless y is NaN: PyTorch's rule, the convention of entropy terms p log p."""

    def __init__(self, log1p, scalar):
        self.log1p = log1p
        self.grad_fn_name = ("SpecialXlog1PyBackward" if log1p else "XlogyBackward") + \
            {None: "0", "input": "1", "other": "2"}[scalar]

    def forward(self, x, y):
        r = x * (np.log1p(y) if self.log1p else np.log(y))
        return np.where(np.isnan(y), y, np.where(x == 0, np.zeros((), r.dtype), r))

    def backward(self, gy):
        from .arithmetic import sum_to
        from .indexing import where

        x, y = self.saved_tensors
        fn, pole = (xlog1py, -1.0) if self.log1p else (xlogy, 0.0)
        gx = gyy = None
        if self.needs_input_grad[0]:
            # d/dx = log(y), taken as 0 where x = 0 and y is at or beyond the pole (PyTorch's)
            gx = sum_to(where((x == 0.0) & (y <= pole), 0.0, fn(gy, y)), x.shape)
        if self.needs_input_grad[1]:
            gyy = sum_to(gy * x / (y + 1.0 if self.log1p else y), y.shape)  # d/dy = x / y
        return gx, gyy


def logaddexp2(input, other):
    """log2(2^input + 2^other), elementwise and stable (floating point tensors only)."""
    a, b = _tensors("logaddexp2", input, other)
    not_implemented_for(a, "logaddexp2_cpu")
    return LogAddExp2()(a, b)


def _tensor_and_number(name, input, other, second="other"):
    """Operands of an op that takes a tensor and a tensor or a number (either one a number for
    xlogy, only `other` for copysign): promoted to a common float dtype and checked to
    broadcast."""
    for value, arg, pos in ((input, "input", 1), (other, second, 2)):
        if not isinstance(value, Tensor | int | float | np.number):
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor or "
                            f"Number, not {type_name(value)}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type_name(input)}")
    a, b = promote(input, other, floating=True)
    broadcast_shape(a.shape, b.shape)
    return a, b


def copysign(input, other):
    """|input| with the sign of `other` (a tensor or a number), elementwise; integer inputs give
    the default float dtype. `other` gets a zero gradient."""
    require_tensor(input, "copysign", "input", 1)
    a, b = _tensor_and_number("copysign", input, other)
    return Copysign(not isinstance(other, Tensor))(a, b)


def ldexp(input, other):
    """input * 2^other, elementwise (integer inputs give the default float dtype)."""
    a, b = _tensors("ldexp", input, other, floating=True)
    return Ldexp()(a, b)


def float_power(input, exponent):
    """input ** exponent computed in float64 (the result is float64 whatever the inputs'
    dtypes); either may be a number. The gradient comes back in each input's own dtype."""
    from .arithmetic import pow

    for value, arg, pos in ((input, "input", 1), (exponent, "exponent", 2)):
        if not isinstance(value, Tensor | int | float | np.number):
            raise TypeError(f"float_power(): argument '{arg}' (position {pos}) must be Tensor "
                            f"or Number, not {type_name(value)}")
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"float_power(): argument 'input' (position 1) must be Tensor, not "
                        f"{type_name(input)}")
    base, exp = (v.to(dtypes.float64) if isinstance(v, Tensor) else float(v)
                 for v in (input, exponent))
    return pow(base, exp)


def _xlogy(name, input, other, log1p):
    a, b = _tensor_and_number(name, input, other)
    scalar = "input" if not isinstance(input, Tensor) else \
        "other" if not isinstance(other, Tensor) else None
    return XLogY(log1p, scalar)(a, b)


def xlogy(input, other):
    """input * log(other), and 0 where input is 0 (unless other is NaN); either may be a
    number."""
    return _xlogy("xlogy", input, other, log1p=False)


def xlog1py(input, other):
    """input * log1p(other), and 0 where input is 0 (unless other is NaN): torch.special's."""
    return _xlogy("special_xlog1py", input, other, log1p=True)


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


# ----- real and imaginary parts of real tensors, rsub -------------------------------------------
def real(input):
    """The real part: for numpy2gpt's real dtypes input itself, as PyTorch returns it."""
    return require_tensor(input, "real", "input", 1)


def imag(input):
    """The imaginary part: PyTorch's error, since a real tensor has none."""
    require_tensor(input, "imag", "input", 1)
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def isreal(input):
    """True where the imaginary part is 0: everywhere, for real dtypes (a bool tensor)."""
    x = require_tensor(input, "isreal", "input", 1)
    return Tensor._make(np.ones(x.shape, dtype=bool))


def _set_real(self, value):
    """`t.real = v`: t is its own real part, so v is copied into t."""
    self.copy_(value)


def _set_imag(self, value):
    imag(self)


def rsub(input, other, *, alpha=1):
    """other - alpha * input: sub with the operands swapped (`other` a tensor or a number)."""
    from .arithmetic import sub

    if not isinstance(input, Tensor) or not isinstance(other, Tensor | int | float | np.number):
        raise TypeError(f"rsub() received an invalid combination of arguments - got "
                        f"({_argument_type(input)}, {_argument_type(other)}), but expected one "
                        "of:\n"
                        " * (Tensor input, Tensor other, *, Number alpha = 1)\n"
                        " * (Tensor input, Number other, Number alpha = 1)\n")
    return renamed(sub(other, input, alpha=alpha),
                   "RsubBackward0" if isinstance(other, Tensor) else "RsubBackward1")


# ----- long names of the comparisons, in-place comparisons and arithmetic -----------------------
def _comparison(name, op):
    """`greater` etc.: the comparison `op` of ops/arithmetic under NumPy's long name."""
    def compare(input, other):
        from . import arithmetic

        return getattr(arithmetic, op)(input, other)

    compare.__name__ = name
    compare.__doc__ = f"input {op} other, elementwise: a bool tensor (the same as `{op}`)."
    return compare


greater, greater_equal = _comparison("greater", "gt"), _comparison("greater_equal", "ge")
less, less_equal = _comparison("less", "lt"), _comparison("less_equal", "le")
not_equal = _comparison("not_equal", "ne")


class ComparedInPlace(Function):
    """t.eq_(other) (lt_, ...) recorded: t's new value is the comparison, 1 where it holds and 0
    elsewhere, in t's dtype. It is piecewise constant, so t's old value (and a tensor `other`)
    get zero gradients, as in PyTorch."""

    saves_values = False

    def __init__(self, result, label):
        self.result, self.grad_fn_name = result, label

    def forward(self, x, *other):
        return self.result.astype(x.dtype)

    def backward(self, gy):
        grads = tuple(Tensor._make(np.zeros(t.shape, t.dtype)) if need else None
                      for t, need in zip(self.inputs, self.needs_input_grad))
        return grads if len(grads) > 1 else grads[0]


def _comparison_in_place(op):
    """t.eq_(other) and the like: t <- (t op other) as 0/1 in t's dtype (see ComparedInPlace)."""
    def in_place(self, other):
        from . import arithmetic

        tensors = [other] if isinstance(other, Tensor) else []
        label = op.capitalize() + ("Backward1" if tensors else "Backward0")

        def op_into(x):
            result = getattr(arithmetic, op)(x.detach(), other)._data
            if result.shape != x.shape:
                raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the "
                                   f"broadcast shape {list(result.shape)}")
            return ComparedInPlace(result, label)(x, *tensors)

        return inplace_apply(self, op_into, *tensors)

    in_place.__name__ = op + "_"
    return in_place


def divide_(self, other, *, rounding_mode=None):
    """`t.divide_(other)`: div_, also with a rounding_mode ("trunc" or "floor")."""
    if rounding_mode is None:
        return div_(self, other)
    return _method_in_place("div")(self, other, rounding_mode=rounding_mode)


def float_power_(self, exponent):
    """t <- t ** exponent in float64: only a float64 tensor can hold the result (PyTorch's
    error for any other)."""
    if self.dtype != dtypes.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype "
                           f"{_TENSOR_TYPES[self.dtype.name]} but the operation's result "
                           "requires dtype Double")
    return _method_in_place("float_power")(self, exponent)


def ldexp_(self, other):
    if self.dtype.kind != "f":
        raise RuntimeError("ldexp can't be cast to the desired output type "
                           f"{_TENSOR_TYPES[self.dtype.name]}")
    return _method_in_place("ldexp")(self, other)



# ----- gcd / lcm / frexp / nextafter ------------------------------------------------------------
def _integer_pair(name, input, other):
    """Both integer tensors, promoted to a common dtype (PyTorch: no floats, no bools)."""
    a, b = _tensors(name, input, other)
    not_implemented_for(a, f"{name}_cpu", "bf")
    return a, b


def gcd(input, other):
    """Greatest common divisor, elementwise, of two integer tensors (non-negative; gcd(0, 0)
    is 0)."""
    a, b = _integer_pair("gcd", input, other)
    return Tensor._make(np.gcd(a._data, b._data).astype(a.dtype))


def lcm(input, other):
    """Least common multiple, elementwise, of two integer tensors (0 if either is 0; wraps
    around on overflow, like PyTorch's)."""
    a, b = _integer_pair("lcm", input, other)
    with np.errstate(all="ignore"):
        return Tensor._make(np.lcm(a._data, b._data).astype(a.dtype))


class Frexp(Function):
    """x = mantissa * 2 ** exponent with |mantissa| in [0.5, 1): the exponent is constant
    where it is defined, so d mantissa / dx = 2 ** -exponent."""

    saves_outputs = True

    def forward(self, x):
        mantissa, exponent = np.frexp(x)
        return mantissa, exponent.astype(np.int32)

    def backward(self, g_mantissa, g_exponent):
        exponent = self.saved_output(1)._data
        return g_mantissa * Tensor._make(np.ldexp(np.ones((), g_mantissa.dtype), -exponent))


def frexp(input):
    """(mantissa, exponent): input = mantissa * 2 ** exponent, |mantissa| in [0.5, 1) (0, inf
    and NaN keep their value with exponent 0); exponent is int32."""
    from .selection import _return_type

    x = require_tensor(input, "frexp", "input", 1)
    if x.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    return _return_type("frexp", ("mantissa", "exponent"))(*Frexp()(x))


class NextAfter(Function):
    """The next float after input towards other. PyTorch's gradient: gy for input (a step of
    one ulp is treated as the identity) except where input == other (no step: 0), zero for
    other."""

    grad_fn_name = "NextafterBackward0"

    def forward(self, x, other):
        return np.nextafter(x, other)

    def backward(self, gy):
        from .arithmetic import sum_to
        from .indexing import where

        x, other = self.saved_tensors
        # selected, not multiplied by a mask: 0 where x == other even for an infinite gy
        gx = sum_to(where(x == other, 0.0, gy), x.shape) if self.needs_input_grad[0] else None
        return gx, Tensor._make(np.zeros(other.shape, gy.dtype))


def nextafter(input, other):
    """The next representable float after input in the direction of other, elementwise."""
    a, b = _tensors("nextafter", input, other)
    not_implemented_for(a, "nextafter_cpu")
    return NextAfter()(a, b)

# ----- complex conjugation: numpy2gpt has no complex dtypes, so on its tensors it is the identity -
def _real_tensor(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return input


def conj(input):
    """The complex conjugate: input itself, as PyTorch returns for a real tensor."""
    return _real_tensor("conj", input)


def conj_physical(input):
    """The conjugate, materialized: input itself for a real tensor, as in PyTorch."""
    return _real_tensor("conj_physical", input)


def resolve_conj(input):
    """input with a pending conjugation applied: input itself (nothing is ever pending)."""
    return _real_tensor("resolve_conj", input)


def resolve_neg(input):
    """input with a pending negation applied: input itself (nothing is ever pending)."""
    return _real_tensor("resolve_neg", input)


def is_conj(input):
    """Whether input's conjugate bit is set: never in numpy2gpt."""
    _real_tensor("is_conj", input)
    return False


def is_neg(input):
    """Whether input's negative bit is set: never in numpy2gpt."""
    _real_tensor("is_neg", input)
    return False


def conj_physical_(input):
    return _real_tensor("conj_physical_", input)


_IN_PLACE = ("tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "deg2rad", "rad2deg",
             "sinc", "reciprocal", "absolute", "negative", "copysign", "xlogy", "logit", "gcd",
             "lcm", "nextafter")

TENSOR_METHODS = {
    "exp": exp, "log": log, "log2": log2, "log10": log10, "sqrt": sqrt, "rsqrt": rsqrt,
    "square": square, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid, "relu": relu,
    "abs": abs, "__abs__": abs, "absolute": abs, "sinh": sinh, "cosh": cosh, "asinh": asinh,
    "acosh": acosh, "atanh": atanh, "arcsinh": asinh, "arccosh": acosh, "arctanh": atanh,
    "frac": frac, "tan": tan, "asin": asin, "acos": acos, "atan": atan, "arcsin": asin,
    "arccos": acos, "arctan": atan, "deg2rad": deg2rad, "rad2deg": rad2deg, "sinc": sinc,
    "reciprocal": reciprocal, "signbit": signbit, "positive": positive, "logit": logit,
    "atan2": atan2, "arctan2": atan2, "hypot": hypot, "logaddexp": logaddexp,
    "logaddexp2": logaddexp2, "copysign": copysign, "ldexp": ldexp, "float_power": float_power,
    "xlogy": xlogy, "heaviside": heaviside, "nan_to_num": nan_to_num,
    "greater": greater, "greater_equal": greater_equal, "less": less, "less_equal": less_equal,
    "not_equal": not_equal, "real": property(real, _set_real), "imag": property(imag, _set_imag),
    "isreal": isreal,
    **{name + "_": _method_in_place(name) for name in _IN_PLACE},
    **{name + "_": _comparison_in_place(op) for name, op in (
        ("eq", "eq"), ("ne", "ne"), ("lt", "lt"), ("le", "le"), ("gt", "gt"), ("ge", "ge"),
        ("greater", "gt"), ("greater_equal", "ge"), ("less", "lt"), ("less_equal", "le"),
        ("not_equal", "ne"))},
    "divide_": divide_, "true_divide_": div_, "multiply_": mul_, "subtract_": sub_,
    "float_power_": float_power_, "ldexp_": ldexp_, "gcd": gcd, "lcm": lcm, "frexp": frexp,
    "nextafter": nextafter, "conj": conj, "conj_physical": conj_physical,
    "conj_physical_": conj_physical_, "resolve_conj": resolve_conj, "resolve_neg": resolve_neg,
    "is_conj": is_conj, "is_neg": is_neg,
}
__all__ = ["exp", "log", "log2", "log10", "sqrt", "rsqrt", "square", "sin", "cos", "tanh",
           "sigmoid", "relu", "abs", "absolute", "sinh", "cosh", "asinh", "acosh", "atanh",
           "arcsinh", "arccosh", "arctanh", "frac", "tan", "asin", "acos", "atan", "arcsin",
           "arccos", "arctan", "deg2rad", "rad2deg", "sinc", "reciprocal", "signbit",
           "positive", "logit", "atan2", "arctan2", "hypot", "logaddexp", "logaddexp2",
           "copysign", "ldexp", "float_power", "xlogy", "heaviside", "nan_to_num", "detach",
           "greater", "greater_equal", "less", "less_equal", "not_equal", "gcd", "lcm", "frexp",
           "nextafter", "gcd_", "lcm_", "real", "imag", "isreal", "rsub", "conj", "conj_physical",
           "conj_physical_", "resolve_conj", "resolve_neg", "is_conj", "is_neg"]
arcsinh, arccosh, arctanh, arctan2, absolute = asinh, acosh, atanh, atan2, abs
gcd_, lcm_ = TENSOR_METHODS["gcd_"], TENSOR_METHODS["lcm_"]
