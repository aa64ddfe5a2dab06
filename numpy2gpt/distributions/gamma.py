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
from ..ops.special import digamma_array, erfc_array, lgamma_array
from ..random import resolve
from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import EMPTY_SIZE, broadcast_all

_EPS = 2.0 ** -53  # the series and the continued fraction stop at this relative change
_MAX_STEPS = 20_000  # enough for a <= 1e6 (both need some 10 sqrt(a) steps near x = a)
_LARGE_SHAPE = 1e6  # above this, asymptotic expansions in 1 / a (below 1e-8 off)
_BIG = 2.0 ** 200  # the continued fraction's terms are rescaled past this (they only grow)


def _lower_series(a, x):
    """S(a, x) = sum over n >= 0 of x^n / ((a + 1) ... (a + n)) and its derivative dS/da, for
    flat float64 arrays: P(a, x) = x^a e^-x / Gamma(a + 1) * S. Each term is the previous one
    times r = x / (a + n), and dr/da = -r / (a + n)."""
    total, dtotal = np.ones_like(x), np.zeros_like(x)
    term, dterm = np.ones_like(x), np.zeros_like(x)
    live = np.arange(x.size)
    for n in range(1, _MAX_STEPS):
        if not live.size:
            break
        an = a[live] + n
        r = x[live] / an
        t = term[live] * r
        dt = (dterm[live] - term[live] / an) * r
        term[live], dterm[live] = t, dt
        total[live] += t
        dtotal[live] += dt
        # every term and every derivative term has one sign: stop once they no longer count
        live = live[(t > _EPS * total[live]) | (np.abs(dt) > _EPS * np.abs(dtotal[live]))]
    return total, dtotal


def _upper_fraction(a, x, log_ratio):
    """C(a, x) and dC/da for flat float64 arrays, where Q(a, x) = x^a e^-x / Gamma(a) * C:
    Cephes's continued fraction for Q (x >= 1, x > a), with each convergent p/q differentiated
    in a by the product rule. Stops when C * log_ratio + dC/da (the quantity the callers
    need, log_ratio = log x - digamma(a)) no longer changes."""
    y = 1.0 - a
    z = x + y + 1.0
    p2, dp2 = np.ones_like(x), np.zeros_like(x)
    q2, dq2 = x.copy(), np.zeros_like(x)
    p1, dp1 = x + 1.0, np.zeros_like(x)
    q1, dq1 = z * x, -x  # dz/da = -1
    frac, dfrac = p1 / q1, -p1 * dq1 / q1 ** 2
    live = np.arange(x.size)
    for c in range(1, _MAX_STEPS):
        if not live.size:
            break
        y[live] += 1.0
        z[live] += 2.0
        yl, zl = y[live], z[live]
        yc, dyc = yl * c, -float(c)  # dy/da = -1, dz/da = -1
        p = p1[live] * zl - p2[live] * yc
        dp = dp1[live] * zl - p1[live] - dp2[live] * yc - p2[live] * dyc
        q = q1[live] * zl - q2[live] * yc
        dq = dq1[live] * zl - q1[live] - dq2[live] * yc - q2[live] * dyc
        r = p / q
        dr = (dp - r * dq) / q  # (p / q)' = (p' - (p / q) q') / q
        lr = log_ratio[live]
        new, old = r * lr + dr, frac[live] * lr + dfrac[live]
        done = np.abs(new - old) <= _EPS * (np.abs(r * lr) + np.abs(dr))
        frac[live], dfrac[live] = r, dr
        scale = np.where(np.abs(p) > _BIG, 1.0 / _BIG, 1.0)  # a common factor of p and q
        p2[live], dp2[live] = p1[live] * scale, dp1[live] * scale
        q2[live], dq2[live] = q1[live] * scale, dq1[live] * scale
        p1[live], dp1[live], q1[live], dq1[live] = p * scale, dp * scale, q * scale, dq * scale
        live = live[~done]
    return frac, dfrac


def _use_series(a, x):
    """Cephes's choice: the power series of P below x = a (or below 1), else Q's fraction."""
    return (x < 1.0) | (x <= a)


def _saddle_point_grad(a, x):
    """dx/da for very large a, by Rice's saddle-point expansion of P (as PyTorch uses above
    a = 8; its relative error, some 1e-8 at a = 1e6, falls as a grows)."""
    near = (0.9 * a <= x) & (x <= 1.1 * a)
    with np.errstate(all="ignore"):
        numer_1 = 1 + 24 * a * (1 + 12 * a)
        numer_2 = (1440 * a * a + 6 * x * (53 - 120 * x) - 65 * x * x / a
                   + a * (107 + 3600 * x))
        centre = numer_1 * numer_2 / (1244160 * a ** 4)
        denom = np.sqrt(8 * a)
        term2 = denom / (a - x)
        term3 = (x - a - a * np.log(x / a)) ** -1.5
        term23 = np.where(x < a, term2 - term3, term2 + term3)
        term1 = np.log(x / a) * term23 - np.sqrt(2 / a) * (a + x) / (a - x) ** 2
        stirling = 1 + 1 / (12 * a) * (1 + 1 / (24 * a))
        tail = -stirling * x * term1 / denom
    return np.where(near, centre, tail)


def standard_gamma_grad_array(a, x):
    """dx/da = -(dP/da)(a, x) / f(x; a) for samples x of Gamma(a, 1): the reparameterization
    gradient of a standard Gamma draw (PyTorch's _standard_gamma_grad), in x's dtype."""
    a, x = np.broadcast_arrays(np.asarray(a), np.asarray(x))
    dtype = x.dtype
    a64, x64 = a.astype(np.float64).ravel(), x.astype(np.float64).ravel()
    out = np.full(x64.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (a64 > 0) & (x64 > 0) & np.isfinite(x64)
        large = ok & (a64 > _LARGE_SHAPE)
        out[large] = _saddle_point_grad(a64[large], x64[large])
        low = ok & ~large & _use_series(a64, x64)
        high = ok & ~large & ~low
        # P / f = x S / a: dP/da / f = (x / a) (S (log x - digamma(a + 1)) + dS/da)
        al, xl = a64[low], x64[low]
        s, ds = _lower_series(al, xl)
        out[low] = -(xl / al) * (s * (np.log(xl) - digamma_array(al + 1)) + ds)
        # Q / f = x C, and dx/da = (dQ/da) / f = x (C (log x - digamma(a)) + dC/da)
        ah, xh = a64[high], x64[high]
        log_ratio = np.log(xh) - digamma_array(ah)
        c, dc = _upper_fraction(ah, xh, log_ratio)
        out[high] = xh * (c * log_ratio + dc)
        out[ok & (x64 == 0)] = 0.0
    return out.astype(dtype).reshape(x.shape)


_TEMME_C0 = (-1.0 / 3.0, 1.0 / 12.0, -2.0 / 135.0, 1.0 / 864.0, 1.0 / 2835.0)


def _temme_p(a, x):
    """P(a, x) for very large a by Temme's uniform expansion (DLMF 8.12.3), to its first
    term: P = erfc(-eta sqrt(a / 2)) / 2 - e^(-a eta^2 / 2) / sqrt(2 pi a) c0(eta), with
    eta^2 / 2 = lambda - 1 - log(lambda), lambda = x / a, c0 = 1 / (lambda - 1) - 1 / eta
    (its Taylor series near eta = 0, where the difference cancels). Error ~ 1e-10 at a = 1e6."""
    t = (x - a) / a
    eta = np.sign(t) * np.sqrt(2 * (t - np.log1p(t)))
    c0 = np.where(np.abs(eta) < 1e-2, sum(c * eta ** k for k, c in enumerate(_TEMME_C0)),
                  1 / t - 1 / eta)
    return (0.5 * erfc_array(-eta * np.sqrt(a / 2))
            - np.exp(-a * eta * eta / 2) / np.sqrt(2 * np.pi * a) * c0)


def gammainc_array(a, x):
    """The regularized lower incomplete gamma function P(a, x), in float64."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    shape = x.shape
    a, x = a.ravel(), x.ravel()
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (a > 0) & (x > 0) & np.isfinite(x)
        large = ok & (a > _LARGE_SHAPE)
        out[large] = _temme_p(a[large], x[large])
        ok &= ~large
        low = ok & _use_series(a, x)
        high = ok & ~low
        al, xl = a[low], x[low]
        out[low] = np.exp(al * np.log(xl) - xl - lgamma_array(al + 1)) * _lower_series(al, xl)[0]
        ah, xh = a[high], x[high]
        log_ratio = np.log(xh) - digamma_array(ah)
        frac = _upper_fraction(ah, xh, log_ratio)[0]
        out[high] = 1.0 - np.exp(ah * np.log(xh) - xh - lgamma_array(ah)) * frac
        out[(a > 0) & (x == 0)] = 0.0
        out[(a > 0) & (x == np.inf)] = 1.0
    return out.reshape(shape)


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


class Gamma(Distribution):
    """Gamma(concentration, rate): density rate^a x^(a-1) e^(-rate x) / Gamma(a) on x >= 0,
    for shape a = concentration; its mean is a / rate."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

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

    def entropy(self):
        return (self.concentration - self.rate.log() + self.concentration.lgamma()
                + (1.0 - self.concentration) * self.concentration.digamma())


__all__ = ["Gamma", "gammainc_array", "standard_gamma_array", "standard_gamma_grad_array"]
