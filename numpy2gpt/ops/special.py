"""Special functions and elementwise odds and ends: erf/erfc, exp2/log1p/expm1, sign and the
rounding family, NaN/inf tests, all/any, one_hot and multinomial sampling.

erf is computed with W. J. Cody's rational Chebyshev approximations (Math. Comp. 23, 1969; the
SPECFUN routine CALERF), vectorised over the array: three ranges of |x|, each a ratio of two
polynomials. Accurate to float64 round-off, and no Python loop over elements.
"""

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..dtypes import dtype_name
from ..random import get_rng
from ..tensor import Tensor, as_tensor
from ._util import normalize_dims
from .elementwise import _float

# ----- erf / erfc (Cody) -----------------------------------------------------------------------
_SQRT_PI_INV = 5.6418958354775628695e-1  # 1 / sqrt(pi)
_TWO_OVER_SQRT_PI = 1.1283791670955125739  # 2 / sqrt(pi), erf'(0)
_THRESH = 0.46875
# |x| <= 0.46875:  erf(x) = x A(x^2) / B(x^2)
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)
# 0.46875 < |x| <= 4:  erfc(x) = exp(-x^2) C(x) / D(x)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
# |x| > 4:  erfc(x) = exp(-x^2) / x (1/sqrt(pi) + 1/x^2 P(1/x^2) / Q(1/x^2))
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)


def _ratio(t, num_coeffs, den_coeffs, lead):
    """num(t) / den(t) by Horner's rule, in place (no temporaries per step), in Cody's layout
    with L = lead:  num = (...((n[L] t + n[0]) t + n[1]) t ... + n[L-2]) t + n[L-1]  and den
    the same with d[0..L-1] and a leading coefficient of 1 instead of n[L]."""
    num = t * num_coeffs[lead]
    den = t.copy()
    for a, b in zip(num_coeffs[:lead - 1], den_coeffs[:lead - 1]):
        num += a
        num *= t
        den += b
        den *= t
    num += num_coeffs[lead - 1]
    den += den_coeffs[lead - 1]
    num /= den
    return num


def _erf_small(x):
    """erf for |x| <= 0.46875 (keeps the sign of x)."""
    r = _ratio(x * x, _A, _B, 4)
    r *= x
    return r


def _erfc_mid_scaled(y):
    """erfc(y) * exp(y^2) for 0.46875 < y <= 4."""
    return _ratio(y, _C, _D, 8)


def _erfc_tail_scaled(y):
    """erfc(y) * exp(y^2) for y > 4 (an asymptotic series in 1/y^2, as a rational function)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = 1.0 / (y * y)
        r = _ratio(z, _P, _Q, 5)
        r *= z
        return (_SQRT_PI_INV - r) / y


def _exp_neg_square(y):
    """exp(-y^2) with y^2 split as ysq^2 + (y - ysq)(y + ysq), ysq = y rounded down to 1/16:
    the rounding error of y*y would otherwise be magnified by exp (Cody's trick; it matters
    for the relative accuracy of a tiny erfc, not for erf)."""
    ysq = np.trunc(y * 16.0) / 16.0
    return np.exp(-ysq * ysq) * np.exp(-(y - ysq) * (y + ysq))


def _plain_exp_neg_square(y):
    return np.exp(-(y * y))


def _erf_erfc(x, want_erfc):
    """erf(x), or erfc(x), of a 1-D float array: each range's formula on its own elements.

    The elements of a range are gathered with index arrays (`take`/`put`), which is several
    times faster than boolean-mask indexing. inf needs no special case (the tail formula gives
    erfc = 0) and NaN lands in the tail range and propagates.
    """
    y = np.abs(x)
    out = np.empty_like(x)
    is_small, is_mid = y <= _THRESH, y <= 4.0
    small = np.flatnonzero(is_small)
    mid = np.flatnonzero(is_mid & ~is_small)
    tail = np.flatnonzero(~is_mid)  # |x| > 4 and NaN
    exp_neg_square = _exp_neg_square if want_erfc else _plain_exp_neg_square
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        erf_small = _erf_small(x.take(small))
        ym, yt = y.take(mid), y.take(tail)
        erfc_mid = exp_neg_square(ym) * _erfc_mid_scaled(ym)
        # past 27.5 erfc underflows to 0 anyway (the clip keeps inf out of exp's argument split)
        erfc_tail = exp_neg_square(np.minimum(yt, 27.5)) * _erfc_tail_scaled(yt)
    if want_erfc:  # erfc(x) = 1 - erf(x); for x < 0, erfc(x) = 2 - erfc(|x|)
        np.put(out, small, 1.0 - erf_small)
        np.put(out, mid, np.where(x.take(mid) < 0, 2.0 - erfc_mid, erfc_mid))
        np.put(out, tail, np.where(x.take(tail) < 0, 2.0 - erfc_tail, erfc_tail))
        return out
    # erf = 1 - erfc: erfc <= 0.49 there, so nothing is lost (and plain exp(-y^2) suffices).
    np.put(out, small, erf_small)
    np.put(out, mid, 1.0 - erfc_mid)
    np.put(out, tail, 1.0 - erfc_tail)
    return np.copysign(out, x, out=out)


def _flat_for_erf(x):
    """float64 stays float64; float32/16 are computed in float32: error under 1e-6 relative
    (a few float32 ulp), and about twice as fast as going through float64."""
    work = np.float64 if x.dtype == np.float64 else np.float32
    return np.ravel(x).astype(work, copy=False)


def erf_array(x):
    """erf of a NumPy float array (float64: accurate to about 1e-15 relative)."""
    x = np.asarray(x)
    return _erf_erfc(_flat_for_erf(x), False).astype(x.dtype, copy=False).reshape(x.shape)


def erfc_array(x):
    """erfc = 1 - erf without the cancellation for large x (relative accuracy in the tail)."""
    x = np.asarray(x)
    return _erf_erfc(_flat_for_erf(x), True).astype(x.dtype, copy=False).reshape(x.shape)


class Erf(Function):
    def forward(self, x):
        return erf_array(x)

    def backward(self, gy):
        from .elementwise import exp

        (x,) = self.saved_tensors
        with np.errstate(over="ignore"):  # x^2 = inf for huge x; e^-inf = 0 is right
            return gy * exp(-(x * x)) * _TWO_OVER_SQRT_PI  # erf'(x) = 2/sqrt(pi) e^(-x^2)


class Erfc(Function):
    def forward(self, x):
        return erfc_array(x)

    def backward(self, gy):
        from .elementwise import exp

        (x,) = self.saved_tensors
        with np.errstate(over="ignore"):
            return gy * exp(-(x * x)) * (-_TWO_OVER_SQRT_PI)


def erf(input):
    """The error function 2/sqrt(pi) * integral_0^x e^(-t^2) dt."""
    return Erf()(_float(input))


def erfc(input):
    """1 - erf(x), accurate where erf(x) is close to 1."""
    return Erfc()(_float(input))


# ----- exp2 / log1p / expm1 ---------------------------------------------------------------------
class Exp2(Function):
    saves_outputs = True

    def forward(self, x):
        return np.exp2(x)

    def backward(self, gy):
        return gy * self.saved_output() * 0.6931471805599453  # d 2^x = 2^x ln 2


class Log1p(Function):
    grad_fn_name = "Log1PBackward0"

    def forward(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):  # -inf at -1, NaN below: no warning
            return np.log1p(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (x + 1.0)


class Expm1(Function):
    saves_outputs = True

    def forward(self, x):
        return np.expm1(x)

    def backward(self, gy):
        return gy * (self.saved_output() + 1.0)  # d (e^x - 1) = e^x = y + 1


def exp2(input):
    return Exp2()(_float(input))


def log1p(input):
    """log(1 + x), accurate for small x."""
    return Log1p()(_float(input))


def expm1(input):
    """e^x - 1, accurate for small x."""
    return Expm1()(_float(input))


# ----- sign and rounding: piecewise constant, so the gradient is zero ---------------------------
class _PiecewiseConstant(Function):
    """sign / floor / ceil / round / trunc. Their derivative is 0 wherever it exists, and PyTorch
    returns zeros (not None) as the gradient."""

    def __init__(self, fn, label):
        self.fn, self.grad_fn_name = fn, label + "Backward0"

    def forward(self, x):
        return self.fn(x)

    def backward(self, gy):
        return Tensor._make(np.zeros_like(gy.data))


def _piecewise(input, fn, label):
    x = as_tensor(input)
    if x.dtype.kind in "biu":  # already whole numbers: a copy, with the same dtype
        return Tensor._make(fn(x.data) if label == "Sign" and x.dtype.kind != "b"
                            else x.data.copy())
    return _PiecewiseConstant(fn, label)(x)


def _sign_array(a):
    """-1, 0 or 1; like PyTorch, NaN and -0.0 give +0.0."""
    if a.dtype.kind != "f":
        return np.sign(a)
    return (a > 0).astype(a.dtype) - (a < 0).astype(a.dtype)


def sign(input):
    """-1, 0 or 1 (NaN gives 0, like PyTorch). Gradient 0."""
    return _piecewise(input, _sign_array, "Sign")


sgn = sign


def floor(input):
    return _piecewise(input, np.floor, "Floor")


def ceil(input):
    return _piecewise(input, np.ceil, "Ceil")


def trunc(input):
    return _piecewise(input, np.trunc, "Trunc")


def round(input, *, decimals=0):
    """Round half to even (like PyTorch and NumPy), to `decimals` places."""
    if decimals == 0:
        return _piecewise(input, np.rint, "Round")
    return _piecewise(input, lambda a: np.round(a, decimals), "Round")


# ----- tests of values (bool results, no gradient) ----------------------------------------------
def _predicate(np_fn):
    def predicate(input):
        return Tensor._make(np.asarray(np_fn(as_tensor(input).data)))

    predicate.__name__ = np_fn.__name__
    return predicate


isfinite = _predicate(np.isfinite)
isnan = _predicate(np.isnan)
isinf = _predicate(np.isinf)
isposinf = _predicate(np.isposinf)
isneginf = _predicate(np.isneginf)


def _all_any(np_fn, input, dim, keepdim):
    x = as_tensor(input)
    dims = normalize_dims(dim, x.ndim)
    if x.ndim == 0:
        dims = None
    r = np.asarray(np_fn(x.data, axis=dims, keepdims=keepdim))
    return Tensor._make(r.astype(np.uint8) if x.dtype == dtypes.uint8 else r)  # PyTorch's rule


def all(input, dim=None, keepdim=False):
    """True where every element (over `dim`; None = all) is nonzero."""
    return _all_any(np.all, input, dim, keepdim)


def any(input, dim=None, keepdim=False):
    """True where some element (over `dim`; None = all) is nonzero."""
    return _all_any(np.any, input, dim, keepdim)


# ----- one_hot and multinomial ------------------------------------------------------------------
def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape (*tensor.shape, num_classes) with a 1 at each class index."""
    x = as_tensor(tensor)
    if x.dtype != dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if x.numel() == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(x.data.max()) + 1
    if x.numel():
        if x.data.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if x.data.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._make((x.data[..., None] == np.arange(num_classes)).astype(np.int64))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Sample category indices from rows of (unnormalised) probabilities; 1-D or 2-D input.

    With replacement: invert each row's cumulative distribution at uniform draws. Without:
    an "exponential race" - category i arrives at time E_i / p_i with E_i ~ Exp(1); the arrival
    order is a draw without replacement with probabilities proportional to p.
    Draws come from numpy2gpt's global generator (`manual_seed`) unless `generator` is given.
    """
    p = as_tensor(input)
    if p.dtype.kind != "f":
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{dtype_name(p.dtype)}")
    if p.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim (got a {p.ndim}-dim tensor)")
    if not isinstance(num_samples, int | np.integer) or num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (num_samples={num_samples})")
    n_cat = p.shape[-1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           f"replacement ({num_samples} > {n_cat})")
    probs = p.data.reshape(-1, n_cat).astype(np.float64)
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = probs.sum(axis=-1)
    if (totals <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = generator if generator is not None else get_rng()
    rows = probs.shape[0]
    if replacement:
        cdf = np.cumsum(probs, axis=-1) / totals[:, None]
        u = rng.random((rows, num_samples))
        out = np.stack([np.searchsorted(cdf[r], u[r], side="right") for r in range(rows)])
        last = n_cat - 1 - np.argmax(probs[:, ::-1] > 0, axis=-1)  # never beyond the last p > 0
        out = np.minimum(out, last[:, None])
    else:
        with np.errstate(divide="ignore"):
            arrival = rng.standard_exponential((rows, n_cat)) / probs
        out = np.argsort(arrival, axis=-1, kind="stable")[:, :num_samples]
    return Tensor._make(out.astype(np.int64).reshape(p.shape[:-1] + (num_samples,)))


TENSOR_METHODS = {
    "erf": erf, "erfc": erfc, "exp2": exp2, "log1p": log1p, "expm1": expm1, "sign": sign,
    "sgn": sgn, "floor": floor, "ceil": ceil, "trunc": trunc, "round": round,
    "isfinite": isfinite, "isnan": isnan, "isinf": isinf, "isposinf": isposinf,
    "isneginf": isneginf, "all": all, "any": any, "multinomial": multinomial,
}
__all__ = ["erf", "erfc", "exp2", "log1p", "expm1", "sign", "sgn", "floor", "ceil", "trunc",
           "round", "isfinite", "isnan", "isinf", "isposinf", "isneginf", "all", "any",
           "one_hot", "multinomial"]
