"""Activations (gelu, silu, leaky_relu, relu, elu, hardtanh, mish, glu, ...) plus the small
elementwise helpers dropout, pad and mse_loss.

gelu, silu, leaky_relu, elu (celu, selu), hardtanh (relu6), hardswish, hardsigmoid, mish,
softplus, logsigmoid and glu are FusedFunctions: forward saves what the derivative needs,
backward is the derivative written out (formulas in the comments; gelu's, reference and fast, are
in numpy2gpt/kernels/gelu.py), so one node replaces a chain of primitive ops, and the gradient at
each kink is PyTorch's. The arithmetic stays in the input's dtype (float32 stays float32; glu
computes float16 in float32, as PyTorch). Each also has `composed`, the same formula in
differentiable ops, which the engine differentiates for higher derivatives (create_graph=True).
softsign and softmin are composed from primitive ops (autograd derives their backward).
"""

import math
import numbers
import warnings

import numpy as np

from ...autograd.function import _TENSOR_TYPES, Function, FusedFunction
from ...autograd.grad_mode import is_grad_enabled
from ...kernels.dropout import dropout_mask
from ...kernels.gelu import gelu_backward, gelu_forward
from ...ops._util import not_implemented_for, opmath, renamed, require_tensor
from ...ops.creation import empty_like, full, zeros_like
from ...ops.elementwise import relu as _relu
from ...ops.elementwise import sigmoid
from ...ops.indexing import _add_rows, index_select, where
from ...ops.inplace import inplace_apply
from ...random import in_memory_order
from ...tensor import Tensor, _check_dim, as_tensor
from ._args import int_tuple, require_number
from .loss import (
    _reduce,
    _reduction,
    _require_floating_pair,
    _require_size,
    _warn_if_broadcast,
)
from .softmax import _softmax_dim, softmax


def _step(x):
    """The step function of a Tensor: 1 where x > 0, else 0. It is an op on x whose derivative
    is 0 (sign's), so a piecewise linear op written with it has a first derivative that is still
    a function of x: differentiating that again gives zeros, as in PyTorch, not an error."""
    return x.sign().clamp(min=0)


# ----- gelu --------------------------------------------------------------------------------------
class Gelu(FusedFunction):
    """gelu(x) = x * Phi(x), Phi the standard normal CDF (exact, or PyTorch's tanh approximation).

    The kernels (numpy2gpt/kernels/gelu.py) compute the derivative dy/dx in forward when a
    gradient will be needed, and only that is saved: backward is then a single multiply."""

    def __init__(self, approximate, needs_grad):
        self.approximate, self.needs_grad = approximate, needs_grad

    def forward(self, x):
        y, self.d = gelu_forward(x, self.approximate, self.needs_grad)
        return y

    def backward(self, gy):
        return gelu_backward(gy, self.d)

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        if self.approximate == "tanh":
            u = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
            return x * (1 + u.tanh()) / 2
        return x * (1 + (x / math.sqrt(2)).erf()) / 2  # x Phi(x)


def gelu(input, approximate="none"):
    """Gaussian Error Linear Unit: x * Phi(x); `approximate='tanh'` uses the tanh formula."""
    x = require_tensor(input, "gelu", "input", 1)
    if not isinstance(approximate, str):
        raise TypeError(f"gelu(): argument 'approximate' must be str, not "
                        f"{type(approximate).__name__}")
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    not_implemented_for(x, "GeluKernelImpl")
    return Gelu(approximate, is_grad_enabled() and x.requires_grad)(x)


# ----- silu, leaky_relu, relu --------------------------------------------------------------------
class _Elementwise(FusedFunction):
    """A fused elementwise op. Subclasses write `fwd(x)` / `bwd(gy)` for 1-D arrays: a flat view
    costs nothing, and it keeps 0-d inputs arrays (NumPy turns 0-d results into scalars, which
    the in-place updates on fresh temporaries below could not write into). Their `formula(x)` is
    the same function in differentiable ops, on a flat Tensor too."""

    def forward(self, x):
        self.shape = x.shape
        return self.fwd(x.reshape(-1)).reshape(x.shape)

    def backward(self, gy):
        return self.bwd(gy.reshape(-1)).reshape(self.shape)

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        return self.formula(x.reshape(-1)).reshape(x.shape)


class Silu(_Elementwise):
    """silu(x) = x * sigmoid(x)."""

    def fwd(self, x):
        with np.errstate(over="ignore"):  # exp(-x) = inf for very negative x gives s = 0: right
            s = np.exp(-x)
        s += 1.0
        np.reciprocal(s, out=s)
        self.x, self.s = x, s
        return x * s

    def bwd(self, gy):
        # d/dx x s(x) = s + x s (1 - s) = s (1 + x (1 - s))
        s = self.s
        d = 1.0 - s
        d *= self.x
        d += 1.0
        d *= s
        d *= gy
        return d

    def formula(self, x):
        return x * sigmoid(x)


def silu(input, inplace=False):
    """Sigmoid Linear Unit (swish): x * sigmoid(x)."""
    x = require_tensor(input, "silu", "input", 1)
    not_implemented_for(x, "silu_cpu")
    return _maybe_inplace(x, Silu(), inplace)


class LeakyRelu(_Elementwise):
    """leaky_relu(x) = x for x > 0, slope * x otherwise: x times a per-element factor."""

    def __init__(self, negative_slope):
        self.negative_slope = negative_slope

    def fwd(self, x):
        f = (x > 0).astype(x.dtype)  # factor: 1 where x > 0, slope elsewhere
        f *= 1.0 - self.negative_slope
        f += self.negative_slope
        self.f = f
        return x * f

    def bwd(self, gy):
        return gy * self.f  # the factor is the derivative (slope at 0, like PyTorch)

    def formula(self, x):
        slope = self.negative_slope
        return x * (slope + (1 - slope) * _step(x))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    x = require_tensor(input, "leaky_relu", "input", 1)
    require_number(negative_slope, "leaky_relu", "negative_slope", 2)
    not_implemented_for(x, "leaky_relu_cpu")
    return _maybe_inplace(x, LeakyRelu(negative_slope), inplace)


def relu(input, inplace=False):
    """max(x, 0) (the core op, plus PyTorch's `inplace` flag)."""
    x = require_tensor(input, "relu", "input", 1)
    return _maybe_inplace(x, _relu, inplace)


# ----- elu, celu, selu, hardtanh, relu6, hardswish, hardsigmoid, mish -----------------------------
class Elu(_Elementwise):
    """PyTorch's one kernel behind elu, celu and selu:
    y = scale * x for x > 0, and scale * alpha * (exp(input_scale * x) - 1) for x <= 0."""

    def __init__(self, alpha, scale=1.0, input_scale=1.0, grad_fn_name="EluBackward0"):
        self.alpha, self.scale, self.input_scale = alpha, scale, input_scale
        self.grad_fn_name = grad_fn_name

    def fwd(self, x):
        self.x = x
        # min(x, 0): the branch not taken must not overflow exp for large positive x
        negative = np.expm1(np.minimum(x, 0) * self.input_scale) * (self.alpha * self.scale)
        return np.where(x > 0, x * self.scale, negative).astype(x.dtype, copy=False)

    def bwd(self, gy):
        # d/dx = scale for x > 0, scale * alpha * input_scale * exp(input_scale * x) for x <= 0
        # (so at the kink x = 0 the left slope, scale * alpha * input_scale, and where x is NaN
        # the right one, like PyTorch)
        x = self.x
        left = np.exp(np.minimum(x, 0) * self.input_scale) * (
            self.alpha * self.scale * self.input_scale)
        return gy * np.where(x <= 0, left, self.scale).astype(gy.dtype, copy=False)

    def formula(self, x):
        left_slope = self.alpha * self.scale * self.input_scale  # at x = 0
        negative = (x.clamp(max=0) * self.input_scale).expm1() * (self.alpha * self.scale)
        # at x = 0 itself a line of the left slope: PyTorch's first derivative there, and its
        # second derivative there, 0
        return where(x > 0, x * self.scale, where(x < 0, negative, x * left_slope))


def elu(input, alpha=1.0, inplace=False):
    """Exponential Linear Unit: x for x > 0, alpha * (exp(x) - 1) otherwise."""
    x = require_tensor(input, "elu", "input", 1)
    require_number(alpha, "elu", "alpha", 2)
    not_implemented_for(x, "elu_cpu")
    return _maybe_inplace(x, Elu(alpha), inplace)


def celu(input, alpha=1.0, inplace=False):
    """Continuously differentiable ELU: x for x > 0, alpha * (exp(x / alpha) - 1) otherwise."""
    x = require_tensor(input, "celu", "input", 1)
    require_number(alpha, "celu", "alpha", 2)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    not_implemented_for(x, "elu_cpu")
    return _maybe_inplace(x, Elu(alpha, 1.0, 1.0 / alpha, "CeluBackward0"), inplace)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """Scaled ELU: scale * elu(x, alpha) with the self-normalising constants of Klambauer et al.
    (alpha ~ 1.6733, scale ~ 1.0507)."""
    x = as_tensor(input)
    not_implemented_for(x, "elu_cpu")
    return _maybe_inplace(x, Elu(SELU_ALPHA, SELU_SCALE), inplace)


class Hardtanh(_Elementwise):
    """y = min(max(x, min_val), max_val)."""

    def __init__(self, min_val, max_val):
        self.min_val, self.max_val = min_val, max_val

    def fwd(self, x):
        self.x = x
        lo, hi = self.min_val, self.max_val
        if x.dtype.kind != "f":  # an integer tensor keeps its dtype: the bounds are cast to it
            lo, hi = int(lo), int(hi)
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)

    def bwd(self, gy):
        # 1 strictly inside (min_val, max_val) (and where x is NaN), 0 elsewhere: at the bounds
        # themselves too. A select, as PyTorch's: 0 there even for an infinite gy (inf * 0 = NaN)
        x = self.x
        outside = (x <= self.min_val) | (x >= self.max_val)
        return np.where(outside, np.zeros((), gy.dtype), gy)

    def formula(self, x):
        lo, hi = self.min_val, self.max_val
        inside = _step(x - lo) * _step(hi - x)  # 1 strictly between the bounds, else 0
        return where(x <= lo, lo, where(x >= hi, hi, x * inside))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clipped to [min_val, max_val]; integer tensors keep their dtype, as in PyTorch."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    x = as_tensor(input)
    if x.dtype.kind == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    return _maybe_inplace(x, Hardtanh(min_val, max_val), inplace)


def relu6(input, inplace=False):
    """min(max(x, 0), 6): hardtanh(x, 0, 6), so the gradient is 0 at 0 and at 6."""
    return hardtanh(input, 0.0, 6.0, inplace)


class Hardswish(_Elementwise):
    """y = x * relu6(x + 3) / 6: 0 below -3, x above 3, x (x + 3) / 6 between."""

    def fwd(self, x):
        self.x = x
        w = opmath(x)  # as PyTorch: float16 in float32, the product before the division
        return (w * np.clip(w + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    def bwd(self, gy):
        # d/dx = 0 for x <= -3, (2x + 3) / 6 = x / 3 + 1/2 for -3 < x < 3, 1 for x >= 3
        # (PyTorch's choice at the kinks: 0 at -3, 1 at 3). The 0 is selected, not multiplied,
        # so it stays 0 for an infinite gy, as in PyTorch
        x, g = opmath(self.x), opmath(gy)  # (float16 in float32, as PyTorch)
        inside = g * (x / 3 + 0.5)
        out = np.where(x <= -3, np.zeros((), g.dtype), np.where(x < 3, inside, g))
        return out.astype(gy.dtype, copy=False)

    def formula(self, x):
        return x * where(x <= -3, 0.0, where(x < 3, (x + 3) / 6, 1.0))  # x relu6(x + 3) / 6


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6, the piecewise quadratic stand-in for silu of MobileNetV3."""
    x = as_tensor(input)
    not_implemented_for(x, "hardswish_cpu")
    return _maybe_inplace(x, Hardswish(), inplace)


class Hardsigmoid(_Elementwise):
    """y = relu6(x + 3) / 6: 0 below -3, 1 above 3, a line between."""

    def fwd(self, x):
        self.x = x
        return np.clip(x + 3, 0, 6) / 6

    def bwd(self, gy):
        # d/dx = 1/6 strictly inside (-3, 3), 0 elsewhere (at -3 and 3 too, like PyTorch). The
        # 1/6 is float32's, for float64 too: PyTorch's kernel has it as a float constant.
        # Selected, not multiplied: 0 outside even for an infinite gy, as in PyTorch.
        x = self.x
        slope = np.float32(1 / 6).astype(gy.dtype)
        return np.where((x > -3) & (x < 3), gy * slope, np.zeros((), gy.dtype))

    def formula(self, x):
        slope = float(np.float32(1 / 6))  # bwd's slope; the detached term keeps the value exact
        line = x * slope + (x.detach() * (1 / 6 - slope) + 0.5)  # (x + 3) / 6
        inside = _step(x + 3) * _step(3 - x)  # 1 strictly between -3 and 3, else 0
        return where(x <= -3, 0.0, where(x >= 3, 1.0, line * inside))


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6, a piecewise linear stand-in for sigmoid."""
    x = as_tensor(input)
    not_implemented_for(x, "hardsigmoid_cpu")
    return _maybe_inplace(x, Hardsigmoid(), inplace)


class Mish(_Elementwise):
    """y = x * tanh(softplus(x)), softplus(x) = log(1 + exp(x))."""

    def fwd(self, x):
        self.x = x
        self.t = np.tanh(np.logaddexp(0, x).astype(x.dtype, copy=False))  # no exp overflow
        return x * self.t

    def bwd(self, gy):
        # d/dx x t = t + x (1 - t^2) sigmoid(x): d tanh(u)/du = 1 - t^2, d softplus/dx = sigmoid
        x, t = self.x, self.t
        with np.errstate(over="ignore"):  # exp(-x) = inf for very negative x: sigmoid 0, right
            sig = 1 / (1 + np.exp(-x))
        return gy * (t + x * (1 - t * t) * sig)

    def formula(self, x):
        return x * _log1p_exp(x).tanh()


def mish(input, inplace=False):
    """Mish: x * tanh(softplus(x)), a smooth, non-monotonic relative of silu."""
    x = as_tensor(input)
    not_implemented_for(x, "mish_cpu")
    return _maybe_inplace(x, Mish(), inplace)


def softsign(input):
    """x / (1 + |x|), composed from primitive ops as PyTorch does (so its gradient,
    1 / (1 + |x|)^2, comes from autograd)."""
    x = as_tensor(input)
    return x / (x.abs() + 1)


class GluFunction(FusedFunction):
    """y = a * sigmoid(b), a and b the two halves of x along `dim`; float16 in float32."""

    grad_fn_name = "GluBackward0"

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        self.a, b = np.split(opmath(x), 2, axis=self.dim)
        with np.errstate(over="ignore"):  # exp(-b) = inf for very negative b: sigmoid 0, right
            self.s = 1 / (1 + np.exp(-b))
        return (self.a * self.s).astype(x.dtype, copy=False)

    def backward(self, gy):
        # d/da = sigmoid(b), d/db = a * sigmoid(b) * (1 - sigmoid(b)) (in PyTorch's order)
        g, s = opmath(gy), self.s
        ga = g * s
        gb = (1 - s) * s * self.a * g
        return np.concatenate([ga, gb], axis=self.dim).astype(gy.dtype, copy=False)

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        a, b = x.chunk(2, self.dim)
        return a * sigmoid(b)


def glu(input, dim=-1):
    """Gated Linear Unit: split `dim` into halves a and b, return a * sigmoid(b)."""
    x = as_tensor(input)
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _check_dim(dim, x.ndim)
    if x.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{x.shape[d]}")
    not_implemented_for(x, "glu_cpu")
    return GluFunction(d)(x)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along `dim`: the smallest entries get the largest weights. Like softmax,
    dim=None picks PyTorch's implicit dim with a warning; `dtype` casts -x first."""
    if not isinstance(input, Tensor):  # PyTorch negates first
        raise TypeError(f"bad operand type for unary -: '{type(input).__name__}'")
    x = input
    if dim is None:
        dim = _softmax_dim("softmin", x.ndim, _stacklevel)
    return softmax(-x, dim, dtype=dtype)


# ----- softplus, logsigmoid ----------------------------------------------------------------------
def _log1p_exp(z):
    """log(1 + exp(z)) for any z: z + log(1 + exp(-z)) above 0, log(1 + exp(z)) else, each on z
    clamped to its side (no exp overflows, so the side not taken adds no inf or NaN to the
    gradient). Its autograd derivative is sigmoid(z) at 0 too, where max(z, 0) +
    log(1 + exp(-|z|)) would give two kinks and 0."""
    return where(z > 0, z + (-z.clamp(min=0)).exp().log1p(), z.clamp(max=0).exp().log1p())


class SoftplusFunction(_Elementwise):
    """y = log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""

    grad_fn_name = "SoftplusBackward0"

    def __init__(self, beta, threshold):
        self.beta, self.threshold = beta, threshold

    def fwd(self, x):
        self.z = z = x * self.beta
        # logaddexp(0, z) = log(1 + exp(z)), written so that exp never overflows
        return np.where(z > self.threshold, x, np.logaddexp(0, z) / self.beta).astype(x.dtype)

    def bwd(self, gy):
        # d/dx log(1 + exp(beta x)) / beta = exp(z) / (exp(z) + 1) = sigmoid(z), in PyTorch's
        # order; 1 on the linear side. A NaN input gives a NaN gradient, as in PyTorch.
        z = self.z
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(z)
            g = np.where(np.isposinf(e), gy, gy * e / (e + 1))
        return np.where(z > self.threshold, gy, g).astype(gy.dtype, copy=False)

    def formula(self, x):
        return where(x * self.beta > self.threshold, x, _log1p_exp(x * self.beta) / self.beta)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (as in PyTorch: there
    the two agree to float precision)."""
    x = require_tensor(input, "softplus", "input", 1)
    require_number(beta, "softplus", "beta", 2)
    require_number(threshold, "softplus", "threshold", 3)
    not_implemented_for(x, "softplus_cpu")
    return SoftplusFunction(beta, threshold)(x)


class LogSigmoidFunction(_Elementwise):
    """y = log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|))."""

    grad_fn_name = "LogSigmoidBackward0"

    def fwd(self, x):
        self.x = x
        return (0 - np.logaddexp(0, -x)).astype(x.dtype, copy=False)  # 0 at +inf, not -0

    def bwd(self, gy):
        # d/dx log(sigmoid(x)) = 1 - sigmoid(x) = sigmoid(-x), from e = exp(-|x|) (never
        # overflows): 1 - 1 / (1 + e) below 0 (1 - e / (1 + e)), e / (1 + e) from 0 up, in
        # PyTorch's order. A NaN input gives a NaN gradient, as in PyTorch.
        x = self.x
        e = np.exp(-np.abs(x))
        s = e / (1 + e)
        return gy * np.where(x < 0, 1 - s, s).astype(gy.dtype, copy=False)

    def formula(self, x):
        return -_log1p_exp(-x)


def logsigmoid(input):
    """log(sigmoid(x)) = -log(1 + exp(-x))."""
    x = as_tensor(input)
    not_implemented_for(x, "log_sigmoid_cpu")
    return LogSigmoidFunction()(x)


# ----- gumbel_softmax ----------------------------------------------------------------------------
def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A differentiable sample of a categorical distribution over `dim` (Jang et al., 2016):
    softmax((logits + g) / tau) with g ~ Gumbel(0, 1) noise, drawn as -log(e), e ~ Exp(1), from
    numpy2gpt's generator as PyTorch draws it (so a seed gives PyTorch's sample). Without the
    softmax, the argmax of logits + g is an exact sample (the Gumbel-max trick); the softmax makes
    it smooth, nearer to one-hot as tau -> 0.

    hard=True returns the one-hot argmax, but with the soft sample's gradient (straight-through):
    y_hard - y_soft.detach() + y_soft has y_hard's values and y_soft's derivative. `eps` is
    deprecated and unused, as in PyTorch."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -empty_like(logits).exponential_().log()  # ~Gumbel(0, 1)
    if not isinstance(tau, numbers.Number | Tensor):  # PyTorch's message: its division fails
        raise TypeError(f"unsupported operand type(s) for /: 'Tensor' and "
                        f"'{type(tau).__name__}'")
    gumbels = (logits + gumbels) / tau  # ~Gumbel(logits, tau)
    y_soft = gumbels.softmax(dim)
    if not hard:
        return y_soft  # the reparameterization trick
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along `dim` (each slice scaled to unit norm)."""
    if out is not None:
        raise TypeError("normalize(): the 'out' argument is not supported by numpy2gpt")
    x = as_tensor(input)
    return x / x.norm(p, dim, keepdim=True).clamp(min=eps)


class _ClampNormOutsideGraph(Function):
    """max(norm, eps), with the gradient of the unclamped norm: PyTorch's cosine_similarity
    clamps a clone of the norms in place under no_grad, so autograd never sees the clamp."""

    grad_fn_name = "CloneBackward0"
    saves_values = False

    def __init__(self, eps):
        self.eps = eps

    def forward(self, norm):
        return np.maximum(norm, np.asarray(self.eps, norm.dtype))  # (NaN stays NaN)

    def backward(self, gy):
        return gy


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """The cosine of the angle between x1 and x2 along `dim`, as PyTorch computes it: broadcast
    the two first, then scale each by max(its 2-norm, eps) and take the dot product."""
    from ...ops.shape import broadcast_tensors

    a, b = broadcast_tensors(as_tensor(x1), as_tensor(x2))
    na, nb = (_ClampNormOutsideGraph(eps)(t.norm(2, dim, keepdim=True)) for t in (a, b))
    return ((a / na) * (b / nb)).sum(dim)


def _maybe_inplace(x, op, inplace):
    """op(x), or for `inplace=True` op(x) written into x (recorded in the graph like `x.copy_`)."""
    if not inplace:
        return op(x)
    return inplace_apply(x, op)


# ----- dropout -----------------------------------------------------------------------------------
class DropoutFunction(FusedFunction):
    """y = x * m with m = mask / (1 - p): zero with probability p, else scaled by 1 / (1 - p)."""

    grad_fn_name = "MulBackward0"  # PyTorch's CPU dropout is this product too

    def __init__(self, p):
        self.p = p

    def forward(self, x):
        # drawn in x's memory order, as PyTorch (a transposed x gets its mask in its places)
        self.m = in_memory_order(x, lambda shape: dropout_mask(shape, self.p, x.dtype))
        return x * self.m

    def backward(self, gy):
        return gy * self.m  # the same mask and scale

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        return x * as_tensor(self.m)  # the mask forward drew


def check_dropout_p(p):
    """PyTorch's two checks of a dropout probability: its Python one (ValueError), then its
    kernel's, which NaN does not pass either (RuntimeError)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p:g}")


def check_dropout_dtype(x, p):
    """An integer or bool tensor cannot hold x / (1 - p): PyTorch's error (p = 0 or 1 pass)."""
    if x.dtype.kind != "f" and 0 < p < 1:
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_TENSOR_TYPES[x.dtype.name]}")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p) (only when training).

    With `training=False` or `p=0` the input itself is returned. The mask comes from numpy2gpt's
    global generator, drawn as PyTorch draws it: `manual_seed(s)` gives PyTorch's mask.
    """
    check_dropout_p(p)
    x = require_tensor(input, "dropout", "input", 1)
    if not training or p == 0:
        return x
    check_dropout_dtype(x, p)
    if x.dtype.kind != "f":  # p = 1: every element dropped
        return _maybe_inplace(x, lambda t: t * 0, inplace)
    return _maybe_inplace(x, DropoutFunction(float(p)), inplace)


# ----- pad ---------------------------------------------------------------------------------------
class ConstantPadNd(FusedFunction):
    """Pad (or, for negative amounts, crop) the trailing dims with a constant value."""

    def __init__(self, pairs, value):
        self.pairs, self.value = pairs, value  # pairs[i] = (before, after) for dim -len(pairs)+i

    def _slices(self, shape):
        """Where the kept part of the input sits in the input and in the output."""
        lead = len(shape) - len(self.pairs)
        src, dst = [slice(None)] * lead, [slice(None)] * lead
        for n, (before, after) in zip(shape[lead:], self.pairs):
            kept = n - max(-before, 0) - max(-after, 0)
            src.append(slice(max(-before, 0), max(-before, 0) + kept))
            dst.append(slice(max(before, 0), max(before, 0) + kept))
        return tuple(src), tuple(dst)

    def _out_shape(self, shape):
        lead = len(shape) - len(self.pairs)
        return shape[:lead] + tuple(
            n + before + after for n, (before, after) in zip(shape[lead:], self.pairs))

    def forward(self, x):
        y = np.full(self._out_shape(x.shape), self.value, dtype=x.dtype)
        src, dst = self._slices(x.shape)
        y[dst] = x[src]
        return y

    def backward(self, gy):
        # Padding moves the numbers: each input element's gradient is its output element's.
        shape = self.inputs[0].shape
        src, dst = self._slices(shape)
        if all(before >= 0 and after >= 0 for before, after in self.pairs):
            return gy[dst]  # nothing was cropped: a view is the whole gradient
        gx = np.zeros(shape, dtype=gy.dtype)  # cropped input elements get zero gradient
        gx[src] = gy[dst]
        return gx

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        y = full(self._out_shape(tuple(x.shape)), self.value, dtype=x.dtype)
        src, dst = self._slices(x.shape)
        y[dst] = x[src]  # recorded in the graph (CopySlices), like any slice assignment
        return y


class IndexPadNd(FusedFunction):
    """reflect / replicate / circular padding: along each padded dim, output element j is a copy
    of input element indices[d][j] (_pad_index says which, per mode)."""

    def __init__(self, indices, grad_fn_name):
        self.indices, self.grad_fn_name = indices, grad_fn_name  # one index array per padded dim

    def forward(self, x):
        lead = x.ndim - len(self.indices)
        for d, idx in enumerate(self.indices):
            x = np.take(x, idx, axis=lead + d)
        return x

    def backward(self, gy):
        # Each output element is a copy, so its gradient goes back to the element it copies; an
        # input element copied several times (near an edge) gets the sum. Dim by dim, last first.
        shape = self.inputs[0].shape
        lead = len(shape) - len(self.indices)
        for d in reversed(range(len(self.indices))):
            axis = lead + d
            g = np.zeros(gy.shape[:axis] + (shape[axis],) + gy.shape[axis + 1:], dtype=gy.dtype)
            _add_rows(np.moveaxis(g, axis, 0), self.indices[d], np.moveaxis(gy, axis, 0))
            gy = g
        return gy

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        lead = x.ndim - len(self.indices)
        for d, idx in enumerate(self.indices):
            x = index_select(x, lead + d, idx)
        return x


def _pad_index(mode, n, before, after):
    """Which input element (of n) each output element copies, along one padded dim."""
    j = np.arange(n + before + after) - before  # the position in the input's coordinates
    if mode == "reflect":  # mirrored at the first and the last element, which are not repeated
        j = np.abs(j)
        return np.where(j > n - 1, 2 * (n - 1) - j, j)
    if mode == "replicate":  # the edge element repeated
        return np.clip(j, 0, n - 1)
    # circular: negative amounts crop first, then the kept part wraps around (PyTorch's order)
    start, kept = max(-before, 0), n - max(-before, 0) - max(-after, 0)
    return start + (j + before - max(before, 0)) % max(kept, 1)


_NON_CONSTANT_PADS = ("\nSupported combinations for non-constant padding:\n"
                      "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                      "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                      "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _check_mode_pad(x, pairs, mode):
    """PyTorch's checks of reflection_pad / replication_pad / _pad_circular, in its order."""
    k, shape = len(pairs), list(x.shape)
    lead = x.ndim - k
    sizes = shape[lead:]
    outs = [n + before + after for n, (before, after) in zip(sizes, pairs)]
    if mode == "circular":
        for n, (before, after), o in zip(sizes, pairs, outs):
            if before > n or after > n:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if o < 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
            if o > 0 and n - max(-before, 0) - max(-after, 0) <= 0:
                raise RuntimeError(f"pad: circular padding ({before}, {after}) of a dimension of "
                                   f"size {n} crops it to nothing and then wraps around it")
        return
    if 0 in (shape[1:] if x.ndim == k + 2 else shape):  # only the batch may be empty
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 "
                           f"batch size and other non-zero dimensions for input, but got: {shape}")
    if mode == "reflect":  # a reflection cannot reach past the opposite edge
        for i in reversed(range(k)):
            (before, after), n = pairs[i], sizes[i]
            if before >= n or after >= n:
                raise RuntimeError(f"Argument #{4 + 2 * (k - 1 - i)}: Padding size should be less "
                                   f"than the corresponding input dimension, but got: padding "
                                   f"({before}, {after}) at dimension {lead + i} of input {shape}")
    if all(o < 1 for o in outs):
        names = "DHW"[3 - k:]
        inputs = ", ".join(f"{c}: {n}" for c, n in zip(names, sizes))
        if k == 3:
            inputs = inputs.replace(", ", " ", 1)
        elif k == 2 and mode == "replicate":
            inputs += " "
        raise RuntimeError(f"input ({inputs}) is too small. Calculated output "
                           + " ".join(f"{c}: {o}" for c, o in zip(names, outs)))
    if any(o < 0 for o in outs):
        out_shape = shape[:lead] + outs
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(outs)}: {out_shape}")
    kernel = "reflection_pad" if mode == "reflect" else "replication_pad"
    not_implemented_for(x, f"{kernel}{k}d", "b")


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims: `pad = (last_before, last_after, 2nd_last_before, ...)`;
    negative amounts crop.

    mode='constant' fills with `value` (default 0), any number of dims. The other modes copy
    input elements, as PyTorch's, for the last 1, 2 or 3 dims of a (batch of) (C, *dims):
    'reflect' mirrors at the edge (amounts below the dim's size), 'replicate' repeats the edge
    element, 'circular' wraps around (amounts up to the dim's size).
    """
    x = require_tensor(input, "pad", "input", 1)
    if isinstance(pad, int | np.integer):  # a tuple of ints, not one int for every side
        raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, not "
                        f"{type(pad).__name__}")
    pad = int_tuple(pad, "pad", "pad", 2, 0)
    if not isinstance(mode, str):
        raise TypeError(f"pad(): argument 'mode' (position 3) must be str, not "
                        f"{type(mode).__name__}")
    if value is not None and not isinstance(value, numbers.Real | Tensor):
        raise TypeError(f"pad(): argument 'value' (position 4) must be float, not "
                        f"{type(value).__name__}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > x.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{x.ndim}")
    # pad lists the LAST dim first; pairs lists the padded dims in order
    pairs = tuple((pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2))[::-1]
    lead = x.ndim - len(pairs)
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        if len(pairs) not in (1, 2, 3) or lead not in (1, 2):
            raise NotImplementedError(f"Padding size {len(pad)} is not supported for {x.ndim}D "
                                      f"input tensor.{_NON_CONSTANT_PADS}")
        _check_mode_pad(x, pairs, mode)
        indices = tuple(_pad_index(mode, n, before, after)
                        for n, (before, after) in zip(x.shape[lead:], pairs))
        name = {"reflect": "ReflectionPad", "replicate": "ReplicationPad"}.get(mode)
        # (PyTorch pads circularly by copying slices into a new tensor: its last node's name)
        name = f"{name}{len(pairs)}DBackward0" if name else "torch::autograd::CopySlices"
        return IndexPadNd(indices, name)(x)
    for i, (n, (before, after)) in enumerate(zip(x.shape[lead:], pairs)):
        if n + before + after < 0:
            raise RuntimeError(f"pad: padding ({before}, {after}) would give dimension "
                               f"{lead + i} (of size {n}) a negative size {n + before + after}")
    return ConstantPadNd(pairs, 0 if value is None else value)(x)


# ----- losses composed from primitive ops (their backward comes from autograd) -------------------
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error: reduce((input - target)^2) with reduction 'mean', 'sum' or 'none';
    with `weight` (the input's shape) each error is scaled and 'mean' is the weighted mean.

    Composed from primitive ops (its backward, 2 (input - target) / N, comes for free).
    """
    reduction = _reduction(size_average, reduce, reduction)  # checked: mean, sum or none
    x, t = _require_size(input), _require_size(target)
    _warn_if_broadcast(x, t)
    _require_floating_pair(x, t, "mse_cpu")
    d = x - t
    if weight is not None:
        return _weighted(d * d, x, weight, reduction)
    return renamed(_reduce(d * d, reduction), "MseLossBackward0")  # PyTorch's one node


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error: reduce(|input - target|) (weighted as mse_loss with `weight`)."""
    reduction = _reduction(size_average, reduce, reduction)
    x, t = _require_size(input), _require_size(target)
    _warn_if_broadcast(x, t)
    loss = (x - t).abs()
    return _reduce(loss, reduction) if weight is None else _weighted(loss, x, weight, reduction)


def _weighted(loss, x, weight, reduction):
    """PyTorch's weighted mse_loss / l1_loss: loss * weight, and for 'mean' divided by the sum
    of the weights (not by the number of elements)."""
    weight = as_tensor(weight)
    if weight.shape != x.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / weight.sum()


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1], each log clamped at -100
    as in PyTorch (so x = 0 or 1 gives 100, not inf)."""
    reduction = _reduction(size_average, reduce, reduction)
    x, t = _require_size(input), _require_size(target)
    if x.shape != t.shape:
        raise ValueError(f"Using a target size ({t.shape}) that is different to the input size "
                         f"({x.shape}) is deprecated. Please ensure they have the same size.")
    if t.dtype != x.dtype:
        raise RuntimeError(f"Found dtype {_TENSOR_TYPES[t.dtype.name]} but expected "
                           f"{_TENSOR_TYPES[x.dtype.name]}")
    not_implemented_for(x, "binary_cross_entropy")
    for name, a in (("input", x._data), ("target", t._data)):
        if a.size and not ((a >= 0) & (a <= 1)).all():
            raise RuntimeError(f"all elements of {name} should be between 0 and 1")
    require_no_grad("binary_cross_entropy", "weight", weight)
    loss = -(t * x.log().clamp(min=-100) + (1 - t) * (1 - x).log().clamp(min=-100))
    if weight is not None:  # (in the input's dtype, whatever the weight's)
        loss = (loss * weight).to(x.dtype)
    return renamed(_reduce(loss, reduction), "BinaryCrossEntropyBackward0")  # (one node in PyTorch)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """binary_cross_entropy(sigmoid(x), t) computed stably from the logits x, as PyTorch does:
    (1 - t) x + lw log(1 + exp(-x)), lw = 1 + (pos_weight - 1) t."""
    reduction = _reduction(size_average, reduce, reduction)
    x, t = _require_size(input), _require_size(target)
    if x.shape != t.shape:
        raise ValueError(f"Target size ({t.shape}) must be the same as input size ({x.shape})")
    not_implemented_for(x, "log_sigmoid_cpu")
    if t.dtype == np.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if t.dtype.kind != "f":  # the loss is a float: it cannot go back into the target's dtype
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_TENSOR_TYPES[t.dtype.name]}")
    for name, w in (("weight", weight), ("pos_weight", pos_weight)):
        require_no_grad("binary_cross_entropy_with_logits", name, w)
    log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
    loss = (1 - t) * x + log_weight * _log1p_exp(-x)  # log(1 + exp(-x)) = -log sigmoid(x)
    if weight is not None:
        loss = loss * weight
    loss = _reduce(loss.to(x.dtype), reduction)  # (in the input's dtype, whatever the weights')
    return renamed(loss, "BinaryCrossEntropyWithLogitsBackward0")  # (one node in PyTorch)


def require_no_grad(kernel, name, t):
    """PyTorch's kernels without a derivative for some argument (a loss's weight or target)
    refuse it when it requires grad (while grad mode is on, whatever the other inputs)."""
    if isinstance(t, Tensor) and t.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{kernel}' is not differentiable with respect to "
                           f"argument '{name}'. This input cannot have requires_grad True.")


__all__ = ["gelu", "silu", "leaky_relu", "relu", "elu", "celu", "selu", "hardtanh", "relu6",
           "hardswish", "hardsigmoid", "mish", "softsign", "glu", "softmin", "softplus",
           "logsigmoid", "normalize", "cosine_similarity", "dropout", "pad", "mse_loss", "l1_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "gumbel_softmax"]
