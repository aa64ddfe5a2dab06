"""Bernoulli(probs | logits): a coin flip that gives 1 with probability probs."""

import math
from numbers import Number

from ..autograd import no_grad
from ..nn.functional import binary_cross_entropy_with_logits
from ..ops.creation import arange
from ..random import resolve
from ..tensor import Size, Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .utils import EMPTY_SIZE, BinaryProbs, broadcast_all


def bernoulli(probs):
    """0/1 samples, one per element of probs, as PyTorch's torch.bernoulli draws them: a
    uniform u of probs' dtype per element (in order), and 1 where u < p."""
    u = resolve(None)._unit(probs.numel(), probs.dtype).reshape(probs.shape)
    return Tensor._make((u < probs.detach().numpy()).astype(probs.dtype))


class Bernoulli(BinaryProbs, ExponentialFamily):
    """Bernoulli with either `probs` (P(1)) or `logits` (its log-odds), not both."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, Number)
            (self.probs,) = broadcast_all(probs)
        else:
            is_scalar = isinstance(logits, Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(Size() if is_scalar else self._param.size(),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        params = self._expanded_params(batch_shape)
        return self._expanded(Bernoulli, batch_shape, _instance, **params)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs)
        mode[self.probs == 0.5] = math.nan  # both outcomes are equally likely
        return mode

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=EMPTY_SIZE):
        with no_grad():
            return bernoulli(self.probs.expand(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    @property
    def _natural_params(self):
        return (self.probs.logit(),)

    def _log_normalizer(self, x):
        return x.exp().log1p()

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        values = arange(2, dtype=self._param.dtype).view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values
