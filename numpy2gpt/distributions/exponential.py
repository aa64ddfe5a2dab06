"""Exponential(rate): waiting times of a Poisson process."""

from numbers import Number

from ..ops.creation import zeros_like
from ..random import resolve
from ..tensor import Size, Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .utils import EMPTY_SIZE, broadcast_all


class Exponential(ExponentialFamily):
    """Exp(rate): density rate * exp(-rate * x) on x >= 0."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(Size() if isinstance(rate, Number) else self.rate.size(),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Exponential, batch_shape, _instance,
                              rate=self.rate.expand(batch_shape))

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=EMPTY_SIZE):
        """E / rate with E ~ Exp(1) drawn as PyTorch's exponential_ (its numbers for a seed)."""
        shape = self._extended_shape(sample_shape)
        return Tensor._make(resolve(None).exponential(shape, dtype=self.rate.dtype)) / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        return -(-value).log1p() / self.rate

    @property
    def _natural_params(self):
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -(-x).log()

    def entropy(self):
        return 1.0 - self.rate.log()
