"""torch.special: special functions (erf and its inverse, gamma functions, logit, xlogy...).

Most are the ops of numpy2gpt under SciPy's names (expit is sigmoid, gammaln is lgamma, psi is
digamma, gammainc is igamma, ...); ndtri, log_ndtr, entr, xlog1py, erfcx and the Bessel
functions i0e, i1, i1e exist only here, as in PyTorch.
"""

import math

from .nn.functional.softmax import log_softmax as _log_softmax
from .nn.functional.softmax import softmax as _softmax
from .ops._util import as_tensor, not_implemented_for
from .ops.elementwise import logit, sigmoid, sinc, xlog1py, xlogy
from .ops.special import (
    _igamma,
    _modified_bessel,
    digamma,
    entr,
    erf,
    erfc,
    erfcx,
    erfinv,
    exp2,
    expm1,
    lgamma,
    log1p,
    log_ndtr,
    ndtri,
    polygamma,
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


__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1",
           "gammainc", "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr",
           "log_softmax", "logit",
           "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc",
           "softmax", "xlog1py", "xlogy"]
