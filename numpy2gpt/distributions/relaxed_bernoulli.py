"""RelaxedBernoulli(temperature, probs | logits): a differentiable stand-in for a coin flip.

Its samples lie in (0, 1) and approach 0/1 as the temperature falls (the binary Concrete or
Gumbel-softmax distribution of Maddison et al. and Jang et al., 2017), so a loss on them can
be backpropagated into the probabilities.
"""

from numbers import Number

from ..ops.creation import rand
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform
from .utils import EMPTY_SIZE, BinaryProbs, broadcast_all, clamp_probs


class LogitRelaxedBernoulli(BinaryProbs, Distribution):
    """The logit of a RelaxedBernoulli draw: (logit(u) + logits) / temperature for a uniform
    u, on the whole real line."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.temperature = temperature
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
        return self._expanded(LogitRelaxedBernoulli, batch_shape, _instance,
                              temperature=self.temperature, **params)

    def rsample(self, sample_shape=EMPTY_SIZE):
        """(logit(u) + logit(p)) / temperature with u = rand(shape) (PyTorch's numbers for a
        seed): logit(u) is a Logistic(0, 1) draw, differentiable in p and the temperature."""
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(shape))
        uniforms = clamp_probs(rand(shape, dtype=probs.dtype))
        return (uniforms.log() - (-uniforms).log1p() + probs.log()
                - (-probs).log1p()) / self.temperature

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # a Logistic(logits / t, 1 / t) density: log t + d - 2 log(1 + e^d), d = logits - t x
        diff = logits - value.mul(self.temperature)
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(TransformedDistribution):
    """sigmoid of a LogitRelaxedBernoulli draw: values in (0, 1), near-binary at a low
    temperature. `temperature` is a tensor (it is used with tensor methods)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base_dist = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base_dist, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(RelaxedBernoulli, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs
