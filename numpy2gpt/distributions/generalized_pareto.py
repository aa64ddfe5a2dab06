"""GeneralizedPareto(loc, scale, concentration): the limit law of exceedances over a high
threshold (peaks over threshold), as in TensorFlow Probability and PyTorch."""

import math
from numbers import Number

from ..ops.creation import ones_like, rand, zeros_like
from ..ops.indexing import where
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import EMPTY_SIZE, broadcast_all


class GeneralizedPareto(Distribution):
    """Survival function P(X > x) = (1 + k z)^(-1/k) for z = (x - loc) / scale and
    concentration k (e^-z when k = 0): Exponential for loc = k = 0, Pareto for k > 0 and
    loc = scale / k, Uniform for k = -1. Its support is [loc, inf) for k >= 0 and
    [loc, loc - scale / k] for k < 0. k is treated as 0 where isclose(k, 0)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        all_numbers = all(isinstance(v, Number) for v in (loc, scale, concentration))
        super().__init__(Size() if all_numbers else self.loc.size(),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(GeneralizedPareto, batch_shape, _instance,
                              loc=self.loc.expand(batch_shape),
                              scale=self.scale.expand(batch_shape),
                              concentration=self.concentration.expand(batch_shape))

    def rsample(self, sample_shape=EMPTY_SIZE):
        """icdf of uniforms from rand: PyTorch's numbers for a seed."""
        u = rand(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.icdf(u)

    def _safe_concentration(self):
        """(k is ~0, k with 1 where it is ~0): the k != 0 formulas, evaluated on safe_conc,
        stay finite (and their gradients too) where the k = 0 formula is selected. (PyTorch's
        log_prob and cdf compare k with a float32 zero, so they raise for float64 k.)"""
        eq_zero = self.concentration.isclose(zeros_like(self.concentration))
        return eq_zero, where(eq_zero, ones_like(self.concentration), self.concentration)

    def log_prob(self, value):
        """-log scale - (1 / k + 1) log(1 + k z), or -log scale - z for k = 0."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        y = 1 / safe_conc + ones_like(z)
        where_nonzero = where(y == 0, y, y * (safe_conc * z).log1p())
        return -self.scale.log() - where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value):
        """log P(X > value) = -log(1 + k z) / k, or -z for k = 0."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        where_nonzero = -(safe_conc * z).log1p() / safe_conc
        return where(eq_zero, -z, where_nonzero)

    def log_cdf(self, value):
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value):
        return self.log_cdf(value).exp()

    def icdf(self, value):
        """loc + scale ((1 - u)^-k - 1) / k, or loc - scale log(1 - u) for k = 0."""
        eq_zero, safe_conc = self._safe_concentration()
        logu = (-value).log1p()
        where_nonzero = self.loc + self.scale / safe_conc * (-safe_conc * logu).expm1()
        where_zero = self.loc - self.scale * logu
        return where(eq_zero, where_zero, where_nonzero)

    def _z(self, x):
        return (x - self.loc) / self.scale

    @property
    def mean(self):
        """loc + scale / (1 - k), NaN (undefined) for k >= 1."""
        valid = self.concentration < 1
        safe_conc = where(valid, self.concentration, 0.5)
        return where(valid, self.loc + self.scale / (1 - safe_conc), math.nan)

    @property
    def variance(self):
        """scale^2 / ((1 - k)^2 (1 - 2k)), NaN (undefined) for k >= 1/2."""
        valid = self.concentration < 0.5
        safe_conc = where(valid, self.concentration, 0.25)
        result = self.scale ** 2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return where(valid, result, math.nan)

    def entropy(self):
        return (self.scale.log() + self.concentration + 1).broadcast_to(self._batch_shape)

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        upper = where(self.concentration < 0, lower - self.scale / self.concentration,
                      math.inf)
        return constraints.interval(lower, upper)


__all__ = ["GeneralizedPareto"]
