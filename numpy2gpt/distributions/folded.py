"""The folding at 0 shared by HalfNormal and HalfCauchy: |X| for X with a density symmetric
about 0 (Normal(0, scale), Cauchy(0, scale)), so twice its density on x >= 0 and none below."""

import math

from ..ops.creation import zeros_like
from ..ops.indexing import where
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform


class Folded(TransformedDistribution):
    """|X| for X ~ base(0, scale); a subclass names its `base` class, its moments and, in
    `_value`, how a log_prob value is taken in (PyTorch's HalfCauchy casts it to the scale's
    dtype, its HalfNormal does not)."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    base = None  # the symmetric distribution folded: Normal, Cauchy

    def __init__(self, scale, validate_args=None):
        base_dist = self.base(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mode(self):
        return zeros_like(self.scale)

    def _value(self, value):
        return value

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = self._value(value)
        # twice the base's density from 0 up (both x and -x fold onto |x|), none below
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return where(value >= 0, log_prob, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)


__all__ = ["Folded"]
