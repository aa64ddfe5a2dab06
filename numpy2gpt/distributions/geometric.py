"""Geometric(probs | logits): the number of failures before the first success of coin flips."""

from numbers import Number

from .. import dtypes
from ..autograd import no_grad
from ..nn.functional import binary_cross_entropy_with_logits
from ..ops.creation import zeros_like
from ..random import resolve
from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .kl import register_kl
from .utils import EMPTY_SIZE, BinaryProbs, broadcast_all


class Geometric(BinaryProbs, Distribution):
    """P(k) = (1 - p)^k p for k = 0, 1, 2, ...: success probability p given as `probs`
    (in (0, 1]) or as its log-odds `logits`, not both."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        given = probs if probs is not None else logits
        super().__init__(Size() if isinstance(given, Number) else given.size(),
                         validate_args=validate_args)
        if self._validate_args and probs is not None:
            valid = self.probs > 0  # p = 0 never succeeds: no distribution
            if not valid.all():
                value = self.probs
                raise ValueError(
                    f"Expected parameter probs ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to be positive but found "
                    f"invalid values:\n{value.detach()[~valid]}")

    def expand(self, batch_shape, _instance=None):
        params = self._expanded_params(batch_shape)
        return self._expanded(Geometric, batch_shape, _instance, **params)

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=EMPTY_SIZE):
        """floor(log u / log(1 - p)) for u uniform on [tiny, 1) (inverting the cdf): PyTorch's
        numbers for a seed."""
        shape = self._extended_shape(sample_shape)
        dtype = self.probs.dtype
        with no_grad():
            u = Tensor._make(resolve(None).uniform(shape, dtypes.finfo(dtype).tiny, 1.0,
                                                   dtype=dtype))
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = probs.clone()
        probs[(probs == 1) & (value == 0)] = 0  # 0 * log(1 - 1) counts as 0
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        # H(Bernoulli(p)) / p: a Bernoulli entropy for each expected trial
        return (binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")
                / self.probs)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    # -H(p) - E_p[log q(k)], with E_p[k] = 1/p - 1
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


__all__ = ["Geometric"]
