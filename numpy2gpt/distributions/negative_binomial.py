"""NegativeBinomial(total_count, probs | logits): successes before total_count failures."""

from ..autograd import no_grad
from ..nn.functional import logsigmoid
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .poisson import poisson_array
from .utils import EMPTY_SIZE, BinaryProbs, lazy_property


class NegativeBinomial(BinaryProbs, Distribution):
    """P(k) = Gamma(r + k) / (k! Gamma(r)) p^k (1 - p)^r for k = 0, 1, ...: r = total_count
    (any real >= 0), success probability p given as `probs` or its log-odds `logits`."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        self._set_count_and_param(total_count, probs, logits)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        params = self._expanded_params(batch_shape)
        return self._expanded(NegativeBinomial, batch_shape, _instance,
                              total_count=self.total_count.expand(batch_shape), **params)

    @property
    def mean(self):
        return self.total_count * self.logits.exp()  # r p / (1 - p)

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / (-self.logits).sigmoid()  # r p / (1 - p)^2

    @lazy_property
    def _gamma(self):
        # not validated: total_count may be 0
        return Gamma(concentration=self.total_count, rate=(-self.logits).exp(),
                     validate_args=False)

    def sample(self, sample_shape=EMPTY_SIZE):
        """A Poisson draw whose rate is a Gamma(r, (1 - p) / p) draw (the Gamma-Poisson
        mixture): not PyTorch's numbers, as numpy2gpt's Gamma draws are not its."""
        with no_grad():
            rate = self._gamma.sample(sample_shape=sample_shape)
            return Tensor._make(poisson_array(rate.numpy()))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized_prob = (self.total_count * logsigmoid(-self.logits)
                                 + value * logsigmoid(self.logits))
        log_normalization = (-(self.total_count + value).lgamma() + (1.0 + value).lgamma()
                             + self.total_count.lgamma())
        # r = 0 and k = 0 has probability 1, though lgamma(0) is infinite
        log_normalization = log_normalization.masked_fill(self.total_count + value == 0.0, 0.0)
        return log_unnormalized_prob - log_normalization


__all__ = ["NegativeBinomial"]
