"""VonMises(loc, concentration): the circular analogue of the normal, on angles (radians)."""

import math

import numpy as np

from ..autograd import no_grad
from ..ops.indexing import where
from ..random import resolve
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import EMPTY_SIZE, broadcast_all, lazy_property

# Abramowitz and Stegun's polynomial approximations of I0 and I1 (9.8.1 to 9.8.4), in powers of
# (x / 3.75)^2 below x = 3.75 and of 3.75 / x above (there for e^-x sqrt(x) I(x))
_I0_COEF_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2]
_I0_COEF_LARGE = [0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2,
                  -0.2057706e-1, 0.2635537e-1, -0.1647633e-1, 0.392377e-2]
_I1_COEF_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2,
                  0.32411e-3]
_I1_COEF_LARGE = [0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1,
                  0.2282967e-1, -0.2895312e-1, 0.1787654e-1, -0.420059e-2]
_COEF_SMALL = [_I0_COEF_SMALL, _I1_COEF_SMALL]
_COEF_LARGE = [_I0_COEF_LARGE, _I1_COEF_LARGE]


def _eval_poly(y, coef):
    """coef[0] + coef[1] y + coef[2] y^2 + ..., by Horner's rule."""
    result = coef[-1]
    for c in reversed(coef[:-1]):
        result = c + y * result
    return result


def _log_modified_bessel_fn(x, order=0):
    """log I_order(x) for x > 0 and order 0 or 1, from the polynomial approximations above
    (PyTorch's, accurate to about 1e-7 relative: not torch.special.i0's precision)."""
    y = (x / 3.75) * (x / 3.75)
    small = _eval_poly(y, _COEF_SMALL[order])
    if order == 1:
        small = x.abs() * small
    small = small.log()
    large = x - 0.5 * x.log() + _eval_poly(3.75 / x, _COEF_LARGE[order]).log()
    return where(x < 3.75, small, large)


def _rejection_sample(loc, concentration, proposal_r, shape, generator):
    """Best and Fisher's (1979) rejection sampler from a wrapped Cauchy envelope, in float64 on
    NumPy arrays, with the uniforms drawn as PyTorch draws them (three per element per round,
    as one (3,) + shape tensor of torch.rand)."""
    x = np.zeros(shape)
    done = np.zeros(shape, dtype=bool)
    while not done.all():
        u1, u2, u3 = generator.uniform((3,) + tuple(shape), dtype=np.float64)
        z = np.cos(math.pi * u1)
        f = (1 + proposal_r * z) / (proposal_r + z)
        c = concentration * (proposal_r - f)
        with np.errstate(divide="ignore", invalid="ignore"):
            accept = ((c * (2 - c) - u2) > 0) | (np.log(c / u2) + 1 - c >= 0)
        x = np.where(accept, np.sign(u3 - 0.5) * np.arccos(f), x)
        done |= accept
    return np.mod(x + math.pi + loc, 2 * math.pi) - math.pi  # wrapped into [-pi, pi)


class VonMises(Distribution):
    """Density exp(kappa cos(x - loc)) / (2 pi I0(kappa)) for angles x; loc and the values may
    be any real numbers, read modulo 2 pi. `mean` and `variance` are the circular ones."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """A new VonMises of the expanded parameters (validated again, as PyTorch's)."""
        validate_args = self.__dict__.get("_validate_args")
        return type(self)(self.loc.expand(batch_shape), self.concentration.expand(batch_shape),
                          validate_args=validate_args)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.concentration * (value - self.loc).cos()
        return (log_prob - math.log(2 * math.pi)
                - _log_modified_bessel_fn(self.concentration, order=0))

    @lazy_property
    def _proposal_r(self):
        """The wrapped Cauchy envelope's parameter r = (1 + rho^2) / (2 rho), as a float64
        array (1 / kappa + kappa, its expansion, for tiny kappa)."""
        kappa = self.concentration.detach().numpy().astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = 1 + np.sqrt(1 + 4 * kappa ** 2)
            rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
            return np.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))

    def sample(self, sample_shape=EMPTY_SIZE):
        """Best and Fisher's rejection sampler, always in float64 (in float32 it can loop for a
        long time at small concentrations): PyTorch's numbers for a seed."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            loc = self.loc.detach().numpy().astype(np.float64)
            kappa = self.concentration.detach().numpy().astype(np.float64)
            x = _rejection_sample(loc, kappa, self._proposal_r, shape, resolve(None))
            return Tensor._make(x.astype(self.loc.dtype))

    @property
    def mean(self):
        """The circular mean."""
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        """The circular variance 1 - I1(kappa) / I0(kappa)."""
        return 1 - (_log_modified_bessel_fn(self.concentration, order=1)
                    - _log_modified_bessel_fn(self.concentration, order=0)).exp()


__all__ = ["VonMises"]
