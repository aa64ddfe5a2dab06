"""Poisson(rate): counts of events that happen at a constant rate, independently.

Its samples are PyTorch's numbers for a seed: torch.poisson draws element by element (in order)
from float64 uniforms - Knuth's product of uniforms below rate 10, Hoermann's transformed
rejection (PTRS) from 10 on - with the arithmetic in the parameter's dtype, as here.
"""

import math
import struct
from numbers import Number

import numpy as np

from ..autograd import no_grad
from ..random import resolve
from ..tensor import Size, Tensor
from . import constraints
from .bernoulli import Bernoulli
from .exp_family import ExponentialFamily
from .kl import _infinite_like, register_kl
from .utils import EMPTY_SIZE, broadcast_all


class UniformStream:
    """float64 uniforms handed out one at a time, as PyTorch's element-by-element samplers
    draw them. They are fetched in blocks; `close()` rewinds the generator to just after the
    last one used, so the next draw is the one PyTorch makes next."""

    def __init__(self, generator, block):
        self._gen = generator
        self._state = generator._mt.state
        self._block = max(int(block), 16)
        self._buffer, self._pos, self._used = [], 0, 0

    def __call__(self):
        if self._pos == len(self._buffer):
            self._buffer, self._pos = self._gen._unit(self._block, np.float64).tolist(), 0
        self._pos += 1
        self._used += 1
        return self._buffer[self._pos - 1]

    def close(self):
        self._gen._mt.state = self._state
        self._gen._bits64(self._used)  # each float64 uniform takes two 32-bit draws


_FLOAT32 = struct.Struct("f")


def rounding(dtype):
    """Rounds a Python float to `dtype` (float32 arithmetic, one operation at a time)."""
    if np.dtype(dtype) == np.float32:
        return lambda x: _FLOAT32.unpack(_FLOAT32.pack(x))[0]  # faster than np.float32(x)
    return float


def _poisson_one(lam, uniform, r):
    """One draw of PyTorch's sample_poisson for rate `lam`, with `r` rounding to its dtype."""
    if lam >= 10:  # transformed rejection with squeeze (Hoermann 1993)
        slam, loglam = r(math.sqrt(lam)), r(math.log(lam))
        b = r(0.931 + 2.53 * slam)
        a = r(-0.059 + 0.02483 * b)
        invalpha = r(1.1239 + 1.1328 / (b - 3.4))
        vr = r(0.9277 - 3.6224 / r(b - 2))
        while True:
            u, v = r(uniform() - 0.5), r(uniform())
            us = r(0.5 - abs(u))
            if us == 0:  # k would be -inf: rejected
                continue
            k = math.floor(r(r(r(r(2 * a / us) + b) * u) + lam) + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            lhs = r(r(r(math.log(v)) + r(math.log(invalpha)))
                    - r(math.log(r(r(a / r(us * us)) + b))))
            if lhs <= r(r(-lam + r(k * loglam)) - r(math.lgamma(r(k + 1)))):
                return k
    if lam == 0:
        return 0
    enlam, count, prod = r(math.exp(-lam)), 0, 1.0  # Knuth: multiply uniforms until < e^-lam
    while True:
        prod = r(prod * r(uniform()))
        if prod <= enlam:
            return count
        count += 1


def poisson_array(rates, generator=None):
    """Poisson draws for each rate (a float array), as torch.poisson draws them on a CPU."""
    rates = np.asarray(rates)
    gen, r = resolve(generator), rounding(rates.dtype)
    flat = rates.ravel().tolist()
    # about rate + 1 uniforms per draw below rate 10, and 2 to 3 from 10 on
    uniform = UniformStream(gen, sum(min(x, 10.0) + 3 for x in flat if x == x))
    try:
        out = [_poisson_one(x, uniform, r) if x == x else math.nan for x in flat]
    finally:
        uniform.close()
    return np.array(out, dtype=rates.dtype).reshape(rates.shape)


class Poisson(ExponentialFamily):
    """Poisson(rate): P(k) = rate^k e^-rate / k! for k = 0, 1, 2, ..."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(Size() if isinstance(rate, Number) else self.rate.size(),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Poisson, batch_shape, _instance,
                              rate=self.rate.expand(batch_shape))

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=EMPTY_SIZE):
        """torch.poisson on the expanded rates: PyTorch's numbers for a seed."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            rates = self.rate.expand(shape).detach().numpy()
            return Tensor._make(poisson_array(rates))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return value.xlogy(rate) - rate - (value + 1).lgamma()

    @property
    def _natural_params(self):
        return (self.rate.log(),)

    def _log_normalizer(self, x):
        return x.exp()


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    # -H(p) - E_p[log q(x)], with log q(0) = -rate and log q(1) = log(rate) - rate
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


@register_kl(Poisson, Bernoulli)
def _kl_poisson_infinity(p, q):
    return _infinite_like(p.rate)  # p has mass on {2, 3, ...}, q has none


__all__ = ["Poisson", "poisson_array"]
