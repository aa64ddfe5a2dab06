"""Arithmetic: + - * / ** % // and negation, with NumPy broadcasting; lerp, addcmul, addcdiv;
dtype casts; comparisons.

Broadcasting in backward: if `a` of shape (3, 1) was broadcast to (2, 3, 4) in forward, each of
its elements was used 2*4 times, so its gradient is the output gradient summed over the
broadcast axes (`sum_to`).
"""

import numpy as np

from ..autograd.function import _TENSOR_TYPES, Function
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from ._util import (
    CPP_TYPE_NAMES,
    broadcast_shape,
    check_alpha,
    fill_value_array,
    fma,
    opmath,
    promote,
    renamed,
    require_tensor,
    result_type,
    sum_to_array,
)
from .elementwise import log, reciprocal
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


class MulHalfByNumber(Function):
    """A float16 tensor times (or divided by) a Python number, computed in float32 and rounded
    once, as PyTorch's half kernels do: they keep a number operand in float32, so x * 0.1 does
    not first round 0.1 to float16, and x * 1e5 is not x * inf."""

    saves_values = False

    def __init__(self, number, divide=False):
        self.number, self.divide = number, divide
        self.grad_fn_name = "DivBackward0" if divide else "MulBackward0"

    def forward(self, a):
        op = np.divide if self.divide else np.multiply
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return op(a.astype(np.float32), np.float32(self.number)).astype(a.dtype)

    def backward(self, gy):
        # d(x c)/dx = c and d(x / c)/dx = 1 / c: the same operation on the gradient
        return MulHalfByNumber(self.number, self.divide)(gy)


def _half_and_number(t, number):
    """True for a float16 tensor and a Python number (not a bool): see MulHalfByNumber."""
    return isinstance(t, Tensor) and t.dtype == np.float16 and \
        isinstance(number, int | float) and not isinstance(number, bool)


class Div(Function):
    def forward(self, a, b):
        return a / b

    def backward(self, gy):
        a, b = self.inputs[0], self.saved_input(1)  # a is read only for b's gradient
        ga = sum_to(gy / b, a.shape) if self.needs_input_grad[0] else None
        # d(a/b)/db = -a / b^2, as PyTorch computes it: -gy * ((a / b) / b) (no b^2 to overflow)
        gb = sum_to(-gy * ((self.saved_input(0) / b) / b), b.shape) if self.needs_input_grad[1] \
            else None
        return ga, gb


class Neg(Function):
    saves_values = False

    def forward(self, a):
        return -a

    def backward(self, gy):
        return -gy


class PowScalar(Function):
    """x ** c for a Python number c (the exponents PyTorch computes without pow, +-0.5, -1, +-2
    and 3, the same way: cheaper, and the same bits)."""

    grad_fn_name = "PowBackward0"

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        c = self.c
        if x.dtype == np.float16:  # PyTorch's half kernels compute in float32 and round once
            with np.errstate(over="ignore"):
                return self.forward(x.astype(np.float32)).astype(np.float16)
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
        if c == -0.5:
            return 1 / np.sqrt(x)
        if c == -2:
            return 1 / (x * x)
        exponent = np.asarray(c, dtype=x.dtype)
        if x.dtype == np.float32 and float(exponent) != c:
            # c is not a float32 (1e-50 rounds to 0, and 0 ** 0 = 1): PyTorch raises float32
            # elements to the double c, so the power is taken in float64
            return np.power(x, c, dtype=np.float64).astype(np.float32)
        return np.power(x, exponent)

    def backward(self, gy):
        (x,) = self.saved_tensors
        c = self.c
        if c == 0:
            return Tensor._make(np.zeros(gy.shape, gy.dtype))  # (0 where gy is NaN too, as PyTorch)
        return gy * (pow(x, c - 1) * c)  # d(x^c)/dx = c x^(c-1), in PyTorch's order


class Pow(Function):
    """a ** b with both operands tensors."""

    grad_fn_name = "PowBackward1"

    def forward(self, a, b):
        if a.dtype.kind in "iu" and b.dtype.kind == "i" and (b < 0).any():
            # PyTorch's integer power for a negative exponent (NumPy refuses it): 1 for base 1,
            # +-1 for base -1 (by the exponent's parity), else 0 (1 / a^|b| truncated)
            at_least_zero = np.power(a, np.maximum(b, 0))
            minus_one = np.where(b % 2 == 0, 1, -1)
            negative = np.where(a == 1, 1, np.where(a == -1, minus_one, 0))
            return np.where(b < 0, negative, at_least_zero).astype(at_least_zero.dtype)
        y = np.power(a, b)
        if y.dtype.kind == "f" and (b == 0.5).any():
            # NumPy takes a square root for an exponent 0.5 given once (0-d or broadcast), and
            # sqrt(-0) = -0, sqrt(-inf) = NaN, where pow (PyTorch's, for a tensor exponent) gives
            # +0 and +inf
            half = b == 0.5
            y = np.where(half & (a == -np.inf), np.inf, np.where(half & (a == 0), 0.0, y))
            y = np.asarray(y, dtype=np.result_type(a, b))
        return y

    def backward(self, gy):
        from .indexing import where

        a, b = self.saved_tensors
        y = self.saved_output()
        ga = gb = None
        if self.needs_input_grad[0]:
            # d(a^b)/da = b a^(b-1); 0 where b == 0 (a^0 = 1 for every a, where the formula
            # would give 0 * inf = NaN at a = 0), as in PyTorch
            ga = sum_to(where(b == 0, 0.0, gy * b * pow(a, b - 1)), a.shape)
        if self.needs_input_grad[1]:
            # d(a^b)/db = a^b log(a); PyTorch takes it as 0 at a = 0 for b >= 0 (a^b is 0 or 1
            # there, and log(0) = -inf would give 0 * -inf = NaN)
            at_zero = Tensor._make((a._data == 0) & (b._data >= 0))
            gb = sum_to(gy * where(at_zero, 0.0, y * log(a)), b.shape)
        return ga, gb

    saves_outputs = True


# ----- remainder, fmod, floor division -----------------------------------------------------------
def _check_divisor(a, b, kernel):
    """PyTorch's refusals: bool operands, and integer division by zero (NumPy gives 0)."""
    if a.dtype.kind == "b":
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    if a.dtype.kind in "iu" and not np.all(b._data):
        raise RuntimeError("ZeroDivisionError")


def _remainder_array(a, b):
    """a mod b with the sign of b (Python's %), computed as PyTorch does: fmod, then + b where the
    signs differ. (np.remainder gives a zero result b's sign; PyTorch keeps fmod's, a's.)"""
    if a.dtype.kind != "f":
        return np.remainder(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.fmod(a, b)
        return np.where((r != 0) & ((r < 0) != (b < 0)), r + b, r)


def _floor_divide_array(a, b):
    """floor(a / b); NumPy's floating algorithm is PyTorch's (fmod-based, exact near integers)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.floor_divide(a, b)


def _trunc_divide_array(a, b):
    """a / b rounded toward zero (C's integer division)."""
    if a.dtype.kind != "f":
        # a - fmod(a, b) is a multiple of b, so floor division is exact there; it moves a toward
        # zero, so it cannot overflow (|a| would, for a = -128 in int8)
        return (a - np.fmod(a, b)) // b
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.trunc(a / b)


class Mod(Function):
    """a mod b: "remainder" (the sign of b, Python's %) or "fmod" (the sign of a, C's fmod).

    a mod b = a - b * q, with q = floor(a / b) (remainder) or trunc(a / b) (fmod) piecewise
    constant: d/da = 1 and d/db = -q. Only b's gradient reads the values, so (like PyTorch) they
    are saved only when b requires grad: editing a in place before backward is no error then.
    """

    _KINDS = {"remainder": (_remainder_array, _floor_divide_array, "Remainder"),
              "fmod": (np.fmod, _trunc_divide_array, "Fmod")}

    def __init__(self, kind, other):
        self.mod, self.quotient, name = self._KINDS[kind]
        self.grad_fn_name = name + ("Backward1" if isinstance(other, Tensor) else "Backward0")
        self.saves_values = isinstance(other, Tensor) and other.requires_grad

    def forward(self, a, b):
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.mod(a, b)

    def backward(self, gy):
        a, b = self.saved_tensors if self.saves_values else self.inputs
        ga = sum_to(gy, a.shape) if self.needs_input_grad[0] else None
        gb = None
        if self.needs_input_grad[1]:
            gb = sum_to(-gy * Tensor._make(self.quotient(a._data, b._data)), b.shape)
        return ga, gb


class NotDifferentiable(Function):
    """An op PyTorch has no derivative for (floor_divide, remainder(number, tensor)): the result
    requires grad when an input does, and backward through it raises PyTorch's error."""

    grad_fn_name = "NotImplemented"

    def __init__(self, op, fn):
        self.op, self.fn = op, fn

    def forward(self, a, b):
        return self.fn(a, b)

    def backward(self, gy):
        raise RuntimeError(f"derivative for aten::{self.op} is not implemented")


class RoundedDiv(Function):
    """div(a, b, rounding_mode=...): a piecewise constant of a and b, so its gradient is zero
    (PyTorch's grad * 0: a NaN gradient stays NaN)."""

    grad_fn_name = "DivBackward2"

    def __init__(self, quotient):
        self.quotient = quotient

    def forward(self, a, b):
        return self.quotient(a, b)

    def backward(self, gy):
        a, b = self.inputs
        zero = gy * 0
        return tuple(sum_to(zero, x.shape) if need else None
                     for x, need in zip((a, b), self.needs_input_grad))


def _division_operands(input, other, kernel):
    a, b = promote(input, other)
    broadcast_shape(a.shape, b.shape)
    _check_divisor(a, b, kernel)
    return a, b


def remainder(input, other):
    """input mod other with the sign of `other` (Python's `%`); other may be a number."""
    a, b = _division_operands(input, other, "remainder_cpu")
    if not isinstance(input, Tensor):  # remainder(5, t): PyTorch has no derivative for it
        return NotDifferentiable("remainder", _remainder_array)(a, b)
    return Mod("remainder", other)(a, b)


def fmod(input, other):
    """input mod other with the sign of `input` (C's fmod); other may be a number."""
    a, b = _division_operands(input, other, "fmod_cpu")
    return Mod("fmod", other)(a, b)


def floor_divide(input, other):
    """floor(input / other) (Python's `//`), in the operands' common dtype; no derivative."""
    a, b = _division_operands(input, other, "div_floor_cpu")
    return NotDifferentiable("floor_divide", _floor_divide_array)(a, b)


def _in_place(fn):
    """`x.op_(other)`: op's result written into x, which keeps its dtype (a float result can't
    go into an integer tensor)."""
    def op_(self, other):
        from .inplace import _check_result_dtype

        result = fn(self, other)
        _check_result_dtype(self, result._data)
        return self.copy_(result)

    op_.__name__ = fn.__name__ + "_"
    return op_


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


def _scaled(input, other, alpha):
    """(input, alpha * other) in PyTorch's result dtype of input and other: other is promoted
    first and then scaled in that dtype, as PyTorch computes input + alpha * other. An integer or
    bool result takes no float alpha, and only a bool result takes a bool alpha (PyTorch's
    errors); a bool result casts alpha to bool."""
    if isinstance(alpha, Tensor):
        alpha = alpha.item()
    a, b = promote(input, other)
    kind = a.dtype.kind
    check_alpha(kind, alpha)
    if kind == "b":
        alpha = bool(alpha)
    if alpha != 1:
        b = mul(b, alpha)  # an int, or a float with a float result: b keeps its dtype
    return a, b


def add(input, other, alpha=1):
    """input + alpha * other."""
    if type(alpha) is not int or alpha != 1:  # float or bool alpha 1 is checked too
        input, other = _scaled(input, other, alpha)
    return _binary(Add, input, other)


def _is_bool(x):
    return x.dtype == np.bool_ if isinstance(x, Tensor) else isinstance(x, bool | np.bool_)


def sub(input, other, alpha=1):
    """input - alpha * other (not for bool operands: PyTorch's error names what to use)."""
    if _is_bool(input) or _is_bool(other):
        if _is_bool(input) and _is_bool(other):
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. Use the `^` or `logical_xor()` operator instead.")
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    if type(alpha) is not int or alpha != 1:
        input, other = _scaled(input, other, alpha)
    return _binary(Sub, input, other)


def mul(input, other):
    for t, number in ((input, other), (other, input)):
        if _half_and_number(t, number):
            return MulHalfByNumber(number)(t)
    return _binary(Mul, input, other)


def div(input, other, rounding_mode=None):
    if rounding_mode is not None:  # rounded division: a zero gradient, like PyTorch
        quotient = {"floor": _floor_divide_array, "trunc": _trunc_divide_array}.get(rounding_mode)
        if quotient is not None:
            a, b = _division_operands(input, other, f"div_{rounding_mode}_cpu")
            return RoundedDiv(quotient)(a, b)
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found {rounding_mode!r}")
    if _half_and_number(input, other):
        return MulHalfByNumber(other, divide=True)(input)
    a, b = promote(input, other, floating=True)  # true division of integers gives floats
    broadcast_shape(a.shape, b.shape)
    return Div()(a, b)


def neg(input):
    if _is_bool(input):
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return Neg()(input)


def pow(input, exponent):
    """input ** exponent; either may be a Python number."""
    if isinstance(input, Tensor) and input.dtype.kind == "b":
        if isinstance(exponent, bool) or getattr(exponent, "dtype", None) == np.bool_:
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        if isinstance(exponent, int):  # PyTorch: bool ** 2 is an int64 tensor
            input = input.to(np.int64)
    if isinstance(exponent, int | float) and isinstance(input, Tensor):
        if input.dtype.kind in "iu" and isinstance(exponent, int) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if input.dtype.kind != "f" and isinstance(exponent, float):
            input = input.to(get_default_dtype())
        elif not isinstance(exponent, bool) and input.dtype not in (np.float32, np.float64):
            fill_value_array(exponent, input.dtype)  # PyTorch's error: int8 ** 300, half ** 1e5
        return PowScalar(exponent)(input)
    y = _binary(Pow, input, exponent)
    return y if isinstance(input, Tensor) else renamed(y, "PowBackward2")  # (2 ** x: one input)


def cast(input, dtype):
    return Cast(dtype)(input)


def clone(input, *, memory_format=None):
    """A copy of `input` with its own memory; gradients flow back to `input`."""
    return Clone()(require_tensor(input, "clone", "input", 1))


def sum_to(x, shape):
    """Sum `x` down to `shape` (no-op when already that shape)."""
    if x.shape == tuple(shape):
        return x
    return SumTo(shape)(x)


# ----- lerp, addcmul, addcdiv -------------------------------------------------------------------


class Lerp(Function):
    """start + weight * (end - start), by PyTorch's formula: for |weight| >= 0.5 it is computed
    as end - (end - start) * (1 - weight), so weight 1 gives exactly `end`.

    weight is a third input tensor, or a Python number kept in `self.weight`. Gradients:
    d/dstart = 1 - weight, d/dend = weight, d/dweight = end - start.
    """

    def __init__(self, weight=None):
        self.weight = weight
        if weight is None:  # a tensor weight, a third input
            self.grad_fn_name = "LerpBackward1"

    def forward(self, start, end, *weight):
        dtype = np.result_type(start, end, *weight)
        s, e = opmath(start), opmath(end)  # (float16 in float32, as PyTorch)
        w = opmath(weight[0]) if weight else np.asarray(self.weight, s.dtype)
        diff = e - s
        # each branch one fused multiply-add, as PyTorch's kernel: the same last bits
        out = np.where(np.abs(w) < 0.5, fma(w, diff, s), fma(-diff, 1 - w, e))
        return out.astype(diff.dtype).astype(dtype, copy=False)

    def backward(self, gy):
        start, end, *weight = self.inputs  # start and end are read only for weight's gradient
        w = self.saved_input(2) if weight else self.weight
        need = self.needs_input_grad
        g_start = sum_to(gy * (1 - w), start.shape) if need[0] else None
        g_end = sum_to(gy * w, end.shape) if need[1] else None
        if not weight:
            return g_start, g_end
        g_w = sum_to(gy * (self.saved_input(1) - self.saved_input(0)), w.shape) if need[2] \
            else None
        return g_start, g_end, g_w


def lerp(input, end, weight):
    """Linear interpolation input + weight * (end - input); weight is a number or a tensor
    (broadcast). input and end (and a weight tensor with dims) must share one floating dtype.
    EMA weights: `ema.lerp_(param, 1 - decay)`."""
    require_tensor(input, "lerp", "input", 1)
    require_tensor(end, "lerp", "end", 2)
    for name, t in (("end", end), ("weight", weight)):
        if isinstance(t, Tensor) and t.dtype != input.dtype and (name == "end" or t.ndim > 0):
            raise RuntimeError(f"expected dtype {CPP_TYPE_NAMES[input.dtype.name]} for `{name}` "
                               f"but got dtype {CPP_TYPE_NAMES.get(t.dtype.name, t.dtype.name)}")
    kernel = "lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar"
    if input.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_TENSOR_TYPES[input.dtype.name]}'")
    shape = broadcast_shape(input.shape, end.shape)
    if isinstance(weight, Tensor):
        broadcast_shape(shape, weight.shape)
        return Lerp()(input, end, weight.to(input.dtype))  # (a 0-d weight may be any dtype)
    if not isinstance(weight, int | float | np.number):
        raise TypeError(f"lerp(): argument 'weight' (position 3) must be Number or Tensor, not "
                        f"{type(weight).__name__}")
    return Lerp(float(weight))(input, end)


def _addc_operands(name, input, tensor1, tensor2):
    """The three operands of addcmul / addcdiv in their common dtype (PyTorch's promotion of all
    three), checked to broadcast."""
    for pos, (arg, t) in enumerate((("input", input), ("tensor1", tensor1),
                                    ("tensor2", tensor2)), start=1):
        require_tensor(t, name, arg, pos)
    dt = result_type(input, tensor1, tensor2)
    broadcast_shape(broadcast_shape(input.shape, tensor1.shape), tensor2.shape)
    return dt, input.to(dt), tensor1.to(dt), tensor2.to(dt)


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2 (broadcast), composed from mul and add in the operands'
    common dtype (an integer result truncates a float `value`, as PyTorch does)."""
    dt, a, t1, t2 = _addc_operands("addcmul", input, tensor1, tensor2)
    if dt.kind == "b":
        raise NotImplementedError("\"addcmul_cpu_out\" not implemented for 'Bool'")
    if value != 1:
        t1 = mul(t1, Tensor._make(np.asarray(value).astype(dt)))
    return renamed(add(a, mul(t1, t2)), "AddcmulBackward0")


_ADDCDIV_INTEGERS = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will "
    "perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be "
    "implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer "
    "inputs and as (input + value * tensor1 / tensor2) for float inputs. The future addcdiv "
    "behavior is just the latter implementation: (input + value * tensor1 / tensor2), for all "
    "dtypes.")


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2 (broadcast), composed from mul, div and add in the
    operands' common dtype. tensor1 and tensor2 may not both be integer (PyTorch's error)."""
    if all(isinstance(t, Tensor) and t.dtype.kind in "biu" for t in (tensor1, tensor2)):
        raise RuntimeError(_ADDCDIV_INTEGERS)
    dt, a, t1, t2 = _addc_operands("addcdiv", input, tensor1, tensor2)
    if value != 1:
        t1 = mul(t1, Tensor._make(np.asarray(value).astype(dt)))
    return renamed(add(a, div(t1, t2)), "AddcdivBackward0")


# ----- comparisons: results are bool tensors that never require grad ---------------------------
def _compare(np_op):
    def compare(input, other):
        if other is None:
            return np_op is np.not_equal
        a, b = promote(input, other)
        broadcast_shape(a.shape, b.shape)
        return Tensor._make(np_op(a._data, b._data))

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
    require_tensor(other, "equal", "other", 2)
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise |input - other| <= atol + rtol * |other|, a bool tensor (not symmetric: the
    tolerance scales with `other`). Equal infinities are close; NaN is close to NaN only with
    equal_nan=True. Both tensors must have the same dtype, as in PyTorch."""
    require_tensor(other, "isclose", "other", 2)
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if tol < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {tol:g}")
    if input.dtype != other.dtype:
        kinds = [_TENSOR_TYPES.get(t.dtype.name, t.dtype.name) for t in (input, other)]
        raise RuntimeError(f"{kinds[0]} did not match {kinds[1]}")
    broadcast_shape(input.shape, other.shape)
    a, b = input._data, other._data
    if a.dtype == bool:  # booleans are close when equal (NumPy cannot subtract them)
        return Tensor._make(np.equal(a, b))
    with np.errstate(invalid="ignore", over="ignore"):
        return Tensor._make(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element of `input` is close to `other`'s (see isclose)."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def _reflected(fn, grad_fn_name=None):
    """`number op tensor` (`__rsub__`...): fn(other, self), under PyTorch's node name for it if
    it differs (2 - x is rsub, RsubBackward1; 1 / x is reciprocal(x) * 1, MulBackward0)."""
    if grad_fn_name is None:
        return lambda self, other: fn(other, self)
    return lambda self, other: renamed(fn(other, self), grad_fn_name)


def _rdiv(self, other):
    """`number / tensor` as PyTorch computes it, reciprocal(tensor) * number (not a division:
    other last bits), whose backward reads the reciprocal, not the tensor."""
    return mul(reciprocal(self), other)


def _comparison_operator(fn):
    """`t == x`, `t < x`...: fn, but for an operand that is no number, array or tensor (a string,
    a list) Python's NotImplemented, so == is False and < a TypeError, as in PyTorch."""
    def operator(self, other):
        if other is not None and not isinstance(other, Tensor | np.ndarray | np.generic | int |
                                                float):
            return NotImplemented
        return fn(self, other)

    operator.__name__ = fn.__name__
    return operator


TENSOR_METHODS = {
    "__add__": add, "__radd__": _reflected(add), "__sub__": sub,
    "__rsub__": _reflected(sub, "RsubBackward1"), "__mul__": mul, "__rmul__": _reflected(mul),
    "__truediv__": div, "__rtruediv__": _rdiv, "__neg__": neg,
    "__pow__": pow, "__rpow__": _reflected(pow), "__eq__": _comparison_operator(eq),
    "__ne__": _comparison_operator(ne), "__lt__": _comparison_operator(lt),
    "__le__": _comparison_operator(le), "__gt__": _comparison_operator(gt),
    "__ge__": _comparison_operator(ge), "__mod__": remainder, "__rmod__": _reflected(remainder),
    "__floordiv__": floor_divide, "__rfloordiv__": _reflected(floor_divide),
    "__imod__": _in_place(remainder), "__ifloordiv__": _in_place(floor_divide),
    "remainder": remainder, "fmod": fmod, "floor_divide": floor_divide,
    "remainder_": _in_place(remainder), "fmod_": _in_place(fmod),
    "floor_divide_": _in_place(floor_divide),
    "add": add, "sub": sub, "mul": mul, "div": div, "neg": neg, "pow": pow, "eq": eq, "ne": ne,
    "lt": lt, "le": le, "gt": gt, "ge": ge, "equal": equal, "subtract": sub, "multiply": mul,
    "divide": div, "true_divide": div, "negative": neg, "clone": clone,
    "isclose": isclose, "allclose": allclose, "lerp": lerp, "addcmul": addcmul,
    "addcdiv": addcdiv,
}

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "eq", "ne", "lt", "le", "gt", "ge", "equal",
           "isclose", "allclose", "subtract", "multiply", "divide", "true_divide", "negative",
           "sum_to", "clone", "remainder", "fmod", "floor_divide", "lerp", "addcmul", "addcdiv"]
subtract, multiply, divide, true_divide, negative = sub, mul, div, div, neg
