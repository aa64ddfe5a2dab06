"""Dirichlet(concentration): distributions over the probability simplex (the last dimension)."""

from ..nn.functional import one_hot
from ..ops.elementwise import xlogy
from . import constraints
from .exp_family import ExponentialFamily
from .gamma import _standard_gamma
from .utils import EMPTY_SIZE


class Dirichlet(ExponentialFamily):
    """Dir(alpha): density Gamma(sum alpha) / prod Gamma(alpha_i) * prod x_i^(alpha_i - 1) on
    vectors x >= 0 summing to 1; the last dimension of `concentration` is the event."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        shape = tuple(batch_shape) + tuple(self.event_shape)
        return self._expanded(Dirichlet, batch_shape, _instance,
                              concentration=self.concentration.expand(shape))

    def rsample(self, sample_shape=EMPTY_SIZE):
        """Independent Gamma(alpha_i, 1) draws divided by their sum: differentiable in alpha
        through the Gamma draws' implicit gradients."""
        gammas = _standard_gamma(self.concentration.expand(self._extended_shape(sample_shape)))
        return gammas / gammas.sum(-1, keepdim=True)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration - 1.0, value).sum(-1)
                + self.concentration.sum(-1).lgamma() - self.concentration.lgamma().sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        """(alpha - 1)^+ normalised; a vertex (the largest alpha's) where every alpha < 1."""
        concentrationm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentrationm1 / concentrationm1.sum(-1, True)
        mask = (self.concentration < 1).all(dim=-1)
        mode[mask] = one_hot(mode[mask].argmax(dim=-1), concentrationm1.shape[-1]).to(mode)
        return mode

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return x.lgamma().sum(-1) - x.sum(-1).lgamma()

    def entropy(self):
        k = self.concentration.size(-1)
        a0 = self.concentration.sum(-1)
        return (self.concentration.lgamma().sum(-1) - a0.lgamma() - (k - a0) * a0.digamma()
                - ((self.concentration - 1.0) * self.concentration.digamma()).sum(-1))
