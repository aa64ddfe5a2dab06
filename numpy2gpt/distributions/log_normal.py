"""LogNormal(loc, scale): exp(X) for X ~ Normal(loc, scale)."""

from ..autograd import no_grad
from . import constraints
from .distribution import Distribution
from .normal import Normal
from .utils import EMPTY_SIZE


class LogNormal(Distribution):
    """The law of exp(X), X ~ N(loc, scale^2); `base_dist` is that Normal. Densities follow by
    the change of variables y = exp(x): log p(y) = log p_X(log y) - log y."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.base_dist = Normal(loc, scale, validate_args=validate_args)
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(LogNormal, batch_shape, _instance,
                              base_dist=self.base_dist.expand(batch_shape))

    @property
    def loc(self):
        return self.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self):
        return (self.loc - self.scale.square()).exp()

    @property
    def variance(self):
        scale_sq = self.scale.pow(2)
        return scale_sq.expm1() * (2 * self.loc + scale_sq).exp()

    def sample(self, sample_shape=EMPTY_SIZE):
        """exp of the base Normal's sample: PyTorch's numbers for a seed."""
        with no_grad():
            return self.base_dist.sample(sample_shape).exp()

    def rsample(self, sample_shape=EMPTY_SIZE):
        return self.base_dist.rsample(sample_shape).exp()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        x = value.log()
        return self.base_dist.log_prob(x) - x  # log |dy/dx| = log y = x

    def cdf(self, value):
        return self.base_dist.cdf(value.log())  # the base Normal validates log(value)

    def icdf(self, value):
        return self.base_dist.icdf(value).exp()

    def entropy(self):
        return self.base_dist.entropy() + self.loc
