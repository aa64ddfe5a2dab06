"""Gamma(concentration, rate): waiting time for `concentration` events of a Poisson process.

Its samples are reparameterized through the *implicit* gradient of a standard Gamma draw x of
shape a: x = F^-1(u; a) for a uniform u, so dx/da = -(dF/da)(x; a) / f(x; a), with F the
regularized lower incomplete gamma function P(a, x) and f the density. That gradient, and
P itself (the cdf), come from P's power series below x = a and from the continued fraction of
Q = 1 - P above it, each differentiated in a alongside (as Cephes evaluates P and Q).
"""

from numbers import Number

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..ops.arithmetic import sum_to
from ..ops.elementwise import xlogy
from ..ops.special import gammainc_array, standard_gamma_grad_array
from ..random import resolve
from ..tensor import Size, Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .utils import EMPTY_SIZE, broadcast_all


def standard_gamma_array(alpha, generator=None):
    """Gamma(alpha, 1) draws of alpha's shape and dtype, by Marsaglia and Tsang's method (as
    PyTorch): x = d v with v = (1 + c z)^3, z ~ N(0, 1), d = alpha - 1/3, c = 1 / sqrt(9 d),
    kept when a uniform u passes the squeeze or log u < z^2 / 2 + d (1 - v + log v); drawn
    with alpha + 1 and scaled by u^(1 / alpha) when alpha < 1. Drawn in float64."""
    gen = resolve(generator)
    a = np.asarray(alpha, np.float64).ravel()
    boosted = a < 1
    d = np.where(boosted, a + 1, a) - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    out = np.zeros_like(a)
    todo = np.flatnonzero(a > 0)
    while todo.size:
        z = gen.normal((todo.size,), dtype=np.float64)
        v = (1.0 + c[todo] * z) ** 3
        u = gen.uniform((todo.size,), dtype=np.float64)
        with np.errstate(all="ignore"):
            keep = (v > 0) & ((u < 1 - 0.0331 * z ** 4)
                              | (np.log(u) < 0.5 * z * z + d[todo] * (1 - v + np.log(v))))
        out[todo[keep]] = d[todo[keep]] * v[keep]
        todo = todo[~keep]
    small = np.flatnonzero(boosted & (a > 0))
    if small.size:
        u = gen.uniform((small.size,), dtype=np.float64)
        with np.errstate(all="ignore"):
            out[small] *= np.exp(np.log1p(-u) / a[small])  # 1 - u is uniform on (0, 1]
    out[np.isnan(a)] = np.nan
    return out.reshape(np.shape(alpha))


class StandardGammaGrad(Function):
    """dx/dalpha of Gamma(alpha, 1) draws x: a gradient with no derivative of its own (as in
    PyTorch, where differentiating it again raises)."""

    def forward(self, alpha, x):
        return standard_gamma_grad_array(alpha, x)

    def backward(self, gy):
        raise NotImplementedError("the derivative for '_standard_gamma_grad' is not implemented.")


class StandardGamma(Function):
    """Gamma(alpha, 1) draws (at least the dtype's smallest normal number, as PyTorch clamps
    them), differentiable in alpha through the implicit gradient dx/dalpha."""

    grad_fn_name = "StandardGammaBackward0"
    saves_outputs = True

    def forward(self, alpha):
        x = standard_gamma_array(alpha).astype(alpha.dtype)
        return np.maximum(x, np.finfo(alpha.dtype).tiny)

    def backward(self, gy):
        (alpha,) = self.saved_tensors
        return gy * StandardGammaGrad()(alpha, self.saved_output().detach())


class GammaInc(Function):
    """P(a, x), the regularized lower incomplete gamma function: the cdf of Gamma(a, 1) at x."""

    grad_fn_name = "IgammaBackward0"

    def forward(self, a, x):
        return gammainc_array(a, x).astype(np.result_type(a, x))

    def backward(self, gy):
        a, x = self.saved_tensors
        density = (xlogy(a - 1, x) - x - a.lgamma()).exp()  # dP/dx: x^(a-1) e^-x / Gamma(a)
        ga = gx = None
        if self.needs_input_grad[0]:
            # P(a, x(a)) stays at u along a draw x(a), so dP/da = -density * dx/da
            ga = sum_to(-gy * density * StandardGammaGrad()(a, x), a.shape).to(a.dtype)
        if self.needs_input_grad[1]:
            gx = sum_to(gy * density, x.shape).to(x.dtype)
        return ga, gx


def _standard_gamma(concentration):
    return StandardGamma()(concentration)


class Gamma(ExponentialFamily):
    """Gamma(concentration, rate): density rate^a x^(a-1) e^(-rate x) / Gamma(a) on x >= 0,
    for shape a = concentration; its mean is a / rate."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        both_numbers = isinstance(concentration, Number) and isinstance(rate, Number)
        super().__init__(Size() if both_numbers else self.concentration.size(),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Gamma, batch_shape, _instance,
                              concentration=self.concentration.expand(batch_shape),
                              rate=self.rate.expand(batch_shape))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=EMPTY_SIZE):
        """X / rate with X ~ Gamma(concentration, 1): differentiable in both parameters."""
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        tiny = dtypes.finfo(value.dtype).tiny
        value.detach().clamp_(min=tiny)  # in place, outside the graph, as PyTorch
        return value

    def log_prob(self, value):
        if not isinstance(value, Tensor):
            value = Tensor._make(np.asarray(value, dtype=self.rate.dtype))
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value)
                - self.rate * value - self.concentration.lgamma())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return GammaInc()(self.concentration, self.rate * value)

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return (x + 1).lgamma() + (x + 1) * (-y.reciprocal()).log()

    def entropy(self):
        return (self.concentration - self.rate.log() + self.concentration.lgamma()
                + (1.0 - self.concentration) * self.concentration.digamma())


__all__ = ["Gamma", "gammainc_array", "standard_gamma_array", "standard_gamma_grad_array"]
