"""Binomial(total_count, probs | logits): successes among total_count independent coin flips.

Its samples are PyTorch's numbers for a seed: torch.binomial draws element by element (in order)
from float64 uniforms - by inversion (adding geometric waiting times) when count * p < 10, else
by Hoermann's transformed rejection (BTRS) - for p <= 1/2, and as count minus the draw for 1 - p
otherwise, as here.
"""

import math

import numpy as np

from ..autograd import no_grad
from ..ops.creation import arange
from ..random import resolve
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .kl import _infinite_like, register_kl
from .poisson import Poisson, UniformStream, rounding
from .utils import EMPTY_SIZE, BinaryProbs

# log k! - (k + 1/2) log(k + 1) + (k + 1) - log(2 pi) / 2 for k = 0..9 (Stirling's error term)
_STIRLING_TAIL = [0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
                  0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
                  0.0118967099458917, 0.0104112652619720, 0.00925546218271273,
                  0.00833056343336287]


def _stirling_tail(k):
    """The error of Stirling's formula for log k!: a table below 10, its series above."""
    if k <= 9:
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _inversion(count, prob, uniform, r):
    """Successes = how many geometric waiting times (in trials) fit into count trials."""
    logprob = r(math.log1p(-prob))
    total, successes = 0.0, 0
    while True:
        total += math.ceil(math.log(uniform()) / logprob)
        if total > count:
            return successes
        successes += 1


def _btrs(count, prob, uniform, r):
    """Transformed rejection with squeeze (Hoermann 1993) for count * prob >= 10."""
    stddev = r(math.sqrt(r(r(count * prob) * r(1 - prob))))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = r(count * prob) + 0.5
    v_r = 0.92 - 4.2 / b
    odds = r(prob / r(1 - prob))
    alpha = (2.83 + 5.1 / b) * stddev
    m = math.floor(r(r(count + 1) * prob))
    while True:
        u = uniform() - 0.5
        v = uniform()
        us = 0.5 - abs(u)
        if us == 0:  # k would be -inf: rejected
            continue
        k = r(math.floor((2 * a / us + b) * u + c))
        if k < 0 or k > count:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = math.log(v * alpha / (a / (us * us) + b))
        upper = ((m + 0.5) * math.log((m + 1) / (odds * (count - m + 1)))
                 + (count + 1) * math.log((count - m + 1) / (count - k + 1))
                 + (k + 0.5) * math.log(odds * (count - k + 1) / (k + 1))
                 + _stirling_tail(m) + _stirling_tail(count - m)
                 - _stirling_tail(k) - _stirling_tail(count - k))
        if v <= upper:
            return k


def _binomial_one(count, prob, uniform, r):
    """One draw of PyTorch's sample_binomial, with `r` rounding to the parameters' dtype."""
    if count <= 0 or prob <= 0:
        return 0.0
    if prob >= 1:
        return count
    if prob <= 0.5:
        sampler = _btrs if r(count * prob) >= 10 else _inversion
        return sampler(count, prob, uniform, r)
    if prob > 0.5:  # count minus the failures, drawn with the smaller probability 1 - p
        q = r(1.0 - prob)
        sampler = _btrs if r(count * q) >= 10 else _inversion
        return r(count - sampler(count, q, uniform, r))
    return math.nan


def binomial_array(count, probs, generator=None):
    """Binomial draws for each (count, probs) pair of two float arrays of one shape, as
    torch.binomial draws them on a CPU."""
    probs = np.asarray(probs)
    gen, r = resolve(generator), rounding(probs.dtype)
    pairs = list(zip(np.asarray(count).ravel().tolist(), probs.ravel().tolist()))
    # about count * min(p, 1 - p) + 1 uniforms per draw below 10, and 2 to 3 from 10 on
    uniform = UniformStream(gen, sum(min(n * min(p, 1 - p), 10.0) + 3 for n, p in pairs
                                     if n == n and p == p))
    try:
        out = [_binomial_one(n, p, uniform, r) for n, p in pairs]
    finally:
        uniform.close()
    return np.array(out, dtype=probs.dtype).reshape(probs.shape)


def _clamp_by_zero(x):
    """max(x, 0), with gradient 1/2 at 0 (as PyTorch's helper)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(BinaryProbs, Distribution):
    """Binomial(n, p): P(k) = C(n, k) p^k (1-p)^(n-k) for k = 0..n; p given as `probs` or as
    its log-odds `logits`, not both. total_count broadcasts with them and takes their dtype."""

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        self._set_count_and_param(total_count, probs, logits)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        params = self._expanded_params(batch_shape)
        return self._expanded(Binomial, batch_shape, _instance,
                              total_count=self.total_count.expand(batch_shape), **params)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=EMPTY_SIZE):
        """torch.binomial on the expanded parameters: PyTorch's numbers for a seed."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            count = self.total_count.expand(shape).detach().numpy()
            probs = self.probs.expand(shape).detach().numpy()
            return Tensor._make(binomial_array(count, probs))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = (self.total_count + 1).lgamma()
        log_factorial_k = (value + 1).lgamma()
        log_factorial_nmk = (self.total_count - value + 1).lgamma()
        # k log p + (n - k) log(1 - p) = k logit - n log(1 + e^logit)
        #                              = k logit - n max(logit, 0) - n log1p(e^-|logit|)
        normalize_term = (self.total_count * _clamp_by_zero(self.logits)
                          + self.total_count * (-self.logits.abs()).exp().log1p()
                          - log_factorial_n)
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def _total_count(self, caller):
        """The one total_count of the whole batch (as an int), which `caller` needs."""
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{caller}`.")
        return total_count

    def entropy(self):
        """-sum_k p(k) log p(k) over the whole support (one total_count for the batch)."""
        self._total_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        values = arange(1 + self._total_count("enumerate_support"), dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    # n (p log(p/q) + (1-p) log((1-p)/(1-q))); inf where q has fewer trials than p
    if (p.total_count < q.total_count).any():
        raise NotImplementedError("KL between Binomials where q.total_count > p.total_count "
                                  "is not implemented")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p()
                          - (-q.probs).log1p())
    inf_idxs = p.total_count > q.total_count
    kl[inf_idxs] = _infinite_like(kl[inf_idxs])
    return kl


@register_kl(Poisson, Binomial)
def _kl_poisson_infinity(p, q):
    return _infinite_like(p.rate)  # p has mass above q's total_count


__all__ = ["Binomial", "binomial_array"]
