"""torch.special: special functions (erf and its inverse, gamma functions, logit, xlogy...).

Most are the ops of numpy2gpt under SciPy's names (expit is sigmoid, gammaln is lgamma, psi is
digamma, gammainc is igamma, ...); ndtri, log_ndtr, entr, xlog1py, erfcx, zeta, the Bessel
functions (i0e, i1, i1e, bessel_j0, ..., modified_bessel_k1, ...), airy_ai and the orthogonal
polynomials (chebyshev_polynomial_t, ..., legendre_polynomial_p) exist only here, as in PyTorch.
Like PyTorch, these last ones have no gradient.
"""

import math

from .nn.functional.softmax import log_softmax as _log_softmax
from .nn.functional.softmax import softmax as _softmax
from .ops._util import as_tensor, not_implemented_for
from .ops.elementwise import logit, sigmoid, sinc, xlog1py, xlogy
from .ops.special import (
    _igamma,
    _modified_bessel,
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    digamma,
    entr,
    erf,
    erfc,
    erfcx,
    erfinv,
    exp2,
    expm1,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    lgamma,
    log1p,
    log_ndtr,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    ndtri,
    polygamma,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
    spherical_bessel_j0,
    zeta,
)
from .ops.special import mvlgamma as multigammaln
from .ops.special import round as _round
from .ops.stats import logsumexp

expit, gammaln, psi = sigmoid, lgamma, digamma


def gammainc(input, other):
    """P(a, x), the regularized lower incomplete gamma function (torch.igamma)."""
    return _igamma("special_gammainc", input, other, False)


def gammaincc(input, other):
    """Q(a, x) = 1 - P(a, x), the regularized upper incomplete gamma function (torch.igammac)."""
    return _igamma("special_gammaincc", input, other, True)


def ndtr(input):
    """The standard normal CDF Phi(x) = (1 + erf(x / sqrt(2))) / 2, composed as PyTorch does
    (so its gradient is erf's, and it rounds to 0 below about -8.3: log_ndtr keeps the tail)."""
    return (1 + erf(input * math.sqrt(0.5))) * 0.5


def i0(input):
    """I0(x), the modified Bessel function of the first kind of order 0 (torch.i0)."""
    return _modified_bessel("special_i0", input, 0, False)


def i0e(input):
    """exp(-|x|) I0(x): I0 scaled so that it does not overflow for large |x|."""
    return _modified_bessel("special_i0e", input, 0, True)


def i1(input):
    """I1(x), the modified Bessel function of the first kind of order 1 (odd, I1(0) = 0)."""
    return _modified_bessel("special_i1", input, 1, False)


def i1e(input):
    """exp(-|x|) I1(x): I1 scaled so that it does not overflow for large |x|."""
    return _modified_bessel("special_i1e", input, 1, True)


def round(input, *, decimals=0):
    """Round half to even (torch.round), to `decimals` places. Unlike torch.round, PyTorch's
    special.round refuses integer and bool tensors."""
    not_implemented_for(as_tensor(input), "round_vml_cpu")
    return _round(input, decimals=decimals)


def softmax(input, dim, *, dtype=None):
    """exp(x) / sum(exp(x)) along `dim` (torch.softmax, with `dim` required)."""
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """log(softmax(x)) along `dim` (torch.log_softmax, with `dim` required)."""
    return _log_softmax(input, dim, dtype=dtype)


__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
           "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2",
           "expit", "expm1", "gammainc", "gammaincc", "gammaln", "hermite_polynomial_h",
           "hermite_polynomial_he", "i0", "i0e", "i1", "i1e", "laguerre_polynomial_l",
           "legendre_polynomial_p", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
           "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
           "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
           "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "sinc",
           "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta"]
