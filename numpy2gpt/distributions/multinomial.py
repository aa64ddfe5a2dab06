"""Multinomial(total_count, probs | logits): how many of total_count draws of a Categorical
fall into each of its K categories."""

import math

from ..nn.functional import one_hot
from ..tensor import Size, tensor
from . import constraints
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution
from .utils import EMPTY_SIZE, broadcast_all


class Multinomial(Distribution):
    """Counts x (event_shape (K,)) with P(x) = n! / prod x_i! * prod p_i^x_i. `probs` (normalised
    to sum to 1) or `logits` (unnormalised log-probabilities) over the last dimension; one int
    total_count n for the whole batch (log_prob takes n from each value's sum instead)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        categorical = self._categorical.expand(batch_shape)
        return self._expanded(Multinomial, batch_shape, _instance, total_count=self.total_count,
                              _categorical=categorical,
                              _binomial=self._binomial.expand(categorical.param_shape))

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=EMPTY_SIZE):
        """total_count Categorical draws per event, counted per category: PyTorch's numbers
        for a seed (its draws are made in this order, total_count first)."""
        indices = self._categorical.sample(Size((self.total_count,)) + Size(sample_shape))
        counts = one_hot(indices, self._categorical._num_events).sum(0)
        return counts.reshape(self._extended_shape(sample_shape)).type_as(self.probs)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        logits = logits.clone()
        log_factorial_n = (value.sum(-1) + 1).lgamma()
        log_factorial_xs = (value + 1).lgamma().sum(-1)
        logits[(value == 0) & (logits == -math.inf)] = 0  # 0 * log 0 counts as 0
        log_powers = (logits * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers

    def entropy(self):
        # H = n H(Categorical) - log n! + sum_i E[log x_i!], each x_i ~ Binomial(n, p_i)
        n = tensor(self.total_count)
        cat_entropy = self._categorical.entropy()
        term1 = n * cat_entropy - (n + 1).lgamma()
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = (support + 1).lgamma()
        term2 = (binomial_probs * weights).sum([0, -1])
        return term1 + term2


__all__ = ["Multinomial"]
