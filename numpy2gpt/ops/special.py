"""Special functions and elementwise odds and ends: erf/erfc, exp2/log1p/expm1, sign and the
rounding family, NaN/inf tests, logical not/and/or/xor, all/any, one_hot and multinomial
sampling.

erf and erfc follow fdlibm's s_erf.c (Sun Microsystems' freely distributable libm, as in FreeBSD):
three ranges of |x|, each with its own rational approximation. erf is within 1 ulp in float64
and, evaluated in float32 arithmetic, within 1 ulp in float32; erfc within a few ulp, also far in
its tail. They are vectorised over the array (no Python loop over elements); `erf_into` explains
how the ranges are split cheaply.
"""

import functools
import math
from types import SimpleNamespace

import numpy as np

from .. import dtypes
from ..autograd.function import _TENSOR_TYPES, Function
from ..dtypes import dtype_name
from ..kernels.threads import BLOCK
from ..random import resolve
from ..tensor import Tensor, as_tensor, type_name
from ._util import (
    broadcast_shape,
    normalize_dims,
    not_implemented_for,
    numpy_names,
    promote,
    renamed,
    require_tensor,
)
from .elementwise import _float
from .inplace import _method_in_place

# ----- erf / erfc (fdlibm) ----------------------------------------------------------------------
# The coefficients are fdlibm's, whose notice reads: "Copyright (C) 1993 by Sun Microsystems,
# Inc. All rights reserved. Developed at SunPro, a Sun Microsystems, Inc. business. Permission to
# use, copy, modify, and distribute this software is freely granted, provided that this notice
# is preserved." Each tuple holds c0, c1, c2, ... of c0 + c1 t + c2 t^2 + ... (fdlibm's names).
_TWO_OVER_SQRT_PI = 1.1283791670955125739  # 2 / sqrt(pi), erf'(0)
_ERX = 8.45062911510467529297e-01  # erf(1) rounded to 24 bits (exact in float32)
# |x| < 0.84375:  erf(x) = x + x PP(x^2) / QQ(x^2)
_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
       -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
       1.32494738004321644526e-04, -3.96022827877536812320e-06)
# 0.84375 <= |x| < 1.25:  erf(|x|) = erx + PA(s) / QA(s),  s = |x| - 1
_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
       3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
       -2.16637559486879084300e-03)
_QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
       1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
# 1.25 <= |x| < 28:  erfc(|x|) = exp(-x^2 - 0.5625 + R(s) / S(s)) / |x|,  s = 1 / x^2, with
# (R, S) = (RA, SA) fitted on [1.25, 1/0.35) and (RB, SB) on [1/0.35, 28)
_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
       -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
       -8.12874355063065934246e+01, -9.81432934416914548592e+00)
_SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
       6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
       6.57024977031928170135e+00, -6.04244152148580987438e-02)
_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
       -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
       -4.83519191608651397019e+02)
_SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
       3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
       -2.24409524465858183362e+01)


@functools.cache
def _coeffs(dtype):
    """The constants above as 0-d arrays of `dtype`. A ufunc call with a 0-d array operand is
    about 0.2 us cheaper than with a Python float (which NumPy converts on every call) - a third
    of the call on small arrays - and gives the same numbers (a Python float is rounded to the
    array's dtype either way)."""
    def c(values):
        return tuple(np.array(v, dtype) for v in values)

    return SimpleNamespace(pp=c(_PP), qq=c(_QQ), pa=c(_PA), qa=c(_QA), ra=c(_RA), sa=c(_SA),
                           rb=c(_RB), sb=c(_SB), erx=np.array(_ERX, dtype),
                           small_sq=np.array(0.84375 ** 2, dtype),  # 0.7119140625, exact
                           one=np.array(1.0, dtype), mid_end=np.array(1.25, dtype),
                           far=np.array(1 / 0.35, dtype), c5625=np.array(0.5625, dtype),
                           six=np.array(6.0, dtype), minus_six=np.array(-6.0, dtype))


def _poly(t, coeffs, out=None):
    """c0 + c1 t + c2 t^2 + ... by Horner's rule, in place in `out` (a fresh array if None)."""
    out = np.multiply(t, coeffs[-1], out)
    np.add(out, coeffs[-2], out)
    for c in coeffs[-3::-1]:
        np.multiply(out, t, out)
        np.add(out, c, out)
    return out


def _ratio(t, num, den):
    """num(t) / den(t), each polynomial by Horner's rule."""
    r = _poly(t, num)
    return np.divide(r, _poly(t, den), r)


def _small_term(x, z, k, out, tmp):
    """x PP(z) / QQ(z), z = x^2, into `out`: erf(x) is x plus this for |x| < 0.84375."""
    _poly(z, k.pp, out)
    np.divide(out, _poly(z, k.qq, tmp), out)
    np.multiply(out, x, out)
    return out


def _erf_mid(a, k):
    """erf(a) - erx = PA(a - 1) / QA(a - 1) for 0.84375 <= a < 1.25."""
    return _ratio(np.subtract(a, k.one), k.pa, k.qa)


def _erfc_tail(a, k, exact_square=False):
    """erfc(a) = exp(-a^2 - 0.5625 + R(s) / S(s)) / a, s = 1 / a^2, for 1.25 <= a <= 28.

    With `exact_square`, exp(-a^2) is taken as exp(-h^2) exp((h - a)(h + a)) with h = a with the
    low half of its significand cleared (as fdlibm does), so h^2 is exact: the rounding error of
    a*a would otherwise be magnified by exp (it matters for erfc's relative accuracy far in the
    tail, not for erf)."""
    s = np.multiply(a, a)
    np.divide(k.one, s, s)
    rs = _ratio(s, k.ra, k.sa)
    far = (a >= k.far).nonzero()[0]
    if far.size:
        rs[far] = _ratio(s[far], k.rb, k.sb)
    if exact_square:
        bits, mask = (np.uint64, 0xFFFFFFFF00000000) if a.dtype == np.float64 else \
            (np.uint32, 0xFFFFF000)
        h = (a.view(bits) & bits(mask)).view(a.dtype)
        e = np.exp(-(h * h)) * np.exp((h - a) * (h + a) - 0.5625 + rs)
    else:  # exp(-a^2 - 0.5625 + R/S), in place
        e = np.multiply(a, a)
        np.add(e, k.c5625, e)
        np.subtract(rs, e, e)
        np.exp(e, e)
    return np.divide(e, a, e)


def _flat_for_erf(x):
    """A flat view (or copy) of x in the working dtype: float64 stays float64; float32 and float16
    are computed in float32."""
    work = np.float64 if x.dtype == np.float64 else np.float32
    return np.ravel(x).astype(work, copy=False)


def erf_into(x, out, scale=None):
    """out[:] = erf(x), or erf(scale * x), for 1-D float32 or float64 arrays x and out (same
    dtype, same length; out may not overlap x). Returns out.

    How it stays fast: most inputs of a network are small, so the formula of the first range runs
    densely on every element, block by block, in place on a few block-sized temporaries that stay
    in cache. Only the elements with |x| >= 0.84375 are then gathered by index (boolean-mask
    indexing is several times slower), a block's worth at a time, for the other two formulas, and
    written back. NaN stays in the first range (it fails every comparison) and gives NaN; +-inf
    gives +-1. No temporary is larger than about two blocks (fresh large arrays cost page faults).
    """
    k = _coeffs(x.dtype)
    c = None if scale is None else np.array(scale, dtype=x.dtype)
    n = x.size
    step = max(1, min(n, BLOCK))
    u, z, tmp = (np.empty(step, dtype=x.dtype) for _ in range(3))
    big = np.empty(step, dtype=bool)
    pending, count = [], 0  # indices of elements for the other ranges, not yet done
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for lo in range(0, n, step):
            m = min(step, n - lo)
            xb, ob = x[lo:lo + m], out[lo:lo + m]
            if c is not None:
                xb = np.multiply(xb, c, u[:m])
            zb = np.multiply(xb, xb, z[:m])
            np.add(_small_term(xb, zb, k, ob, tmp[:m]), xb, ob)
            idx = np.greater_equal(zb, k.small_sq, big[:m]).nonzero()[0]  # |x| >= 0.84375
            if idx.size:
                idx += lo
                pending.append(idx)
                count += idx.size
            if count >= step or (count and lo + m == n):
                _erf_large_into(x, out, np.concatenate(pending), c, k)
                pending, count = [], 0
    return out


def _erf_large_into(x, out, idx, c, k):
    """out[idx] = erf(c * x[idx]) for elements with |c x| >= 0.84375 (fdlibm's last ranges)."""
    xs = x.take(idx)
    if c is not None:
        np.multiply(xs, c, xs)
    # erf(+-6) is +-1 to the last bit already (fdlibm's own cut-off); clipping keeps a finite, so
    # that xs / a below is exactly the sign (np.copysign is several times slower than a division)
    np.minimum(xs, k.six, out=xs)
    np.maximum(xs, k.minus_six, out=xs)
    a = np.abs(xs)
    r = np.empty_like(a)
    mid = (a < k.mid_end).nonzero()[0]
    r[mid] = np.add(_erf_mid(a[mid], k), k.erx)
    tail = (a >= k.mid_end).nonzero()[0]
    r[tail] = np.subtract(k.one, _erfc_tail(a[tail], k))
    np.multiply(r, np.divide(xs, a, xs), r)  # erf is odd: times the sign
    out[idx] = r


def erf_array(x, scale=None):
    """erf(x), or erf(scale * x), of a NumPy float array: a new array of x's dtype (float16 is
    computed in float32)."""
    x = np.asarray(x)
    flat = _flat_for_erf(x)
    out = erf_into(flat, np.empty_like(flat), scale)
    return out.astype(x.dtype, copy=False).reshape(x.shape)


def erfc_array(x):
    """erfc(x) = 1 - erf(x) of a NumPy float array, keeping its relative accuracy in the right
    tail (where 1 - erf(x) would cancel to 0). Not a hot path: each range is gathered by index."""
    x = np.asarray(x)
    flat = _flat_for_erf(x)
    k = _coeffs(flat.dtype)
    out = np.empty_like(flat)
    a = np.abs(flat)
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        small = np.flatnonzero(a < 0.84375)
        xs = flat[small]
        xy = _small_term(xs, xs * xs, k, np.empty_like(xs), np.empty_like(xs))
        # fdlibm: 1 - erf(x) below 1/4; above, 0.5 - (x y + (x - 0.5)) loses less to rounding
        out[small] = np.where(xs < 0.25, 1.0 - (xs + xy), 0.5 - (xy + (xs - 0.5)))
        mid = np.flatnonzero((a >= 0.84375) & (a < 1.25))
        xm = flat[mid]
        r = _erf_mid(np.abs(xm), k)
        out[mid] = np.where(xm > 0, (1.0 - k.erx) - r, 1.0 + (k.erx + r))
        tail = np.flatnonzero(~(a < 1.25))  # and NaN
        xt = flat[tail]
        # past 28, erfc underflows to 0 anyway (the clip keeps inf out of the formula)
        e = _erfc_tail(np.minimum(np.abs(xt), 28.0), k, exact_square=True)
        out[tail] = np.where(xt > 0, e, 2.0 - e)  # erfc(-x) = 2 - erfc(x)
    return out.astype(x.dtype, copy=False).reshape(x.shape)


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


# ----- erfinv, ndtri, log_ndtr: the normal distribution's inverse and log CDF ------------------
# A first guess at erfinv (Pavlis's rational approximation, from MATLAB 2.0's erfinv.m, as in
# PyTorch's source), refined by Newton steps on erf, or on erfc out in the tails. Each tuple holds
# c0, c1, c2, ... of c0 + c1 t + c2 t^2 + ...: for |y| <= 0.7, y num(y^2) / den(y^2); beyond,
# tail_num(t) / tail_den(t) with t = sqrt(-log((1 - |y|) / 2)).
_ERFINV_NUM = (0.886226899, -1.645349621, 0.914624893, -0.140543331)
_ERFINV_DEN = (1.0, -2.118377725, 1.442710462, -0.329097515, 0.012229801)
_ERFINV_TAIL_NUM = (-1.970840454, -1.624906493, 3.429567803, 1.641345311)
_ERFINV_TAIL_DEN = (1.0, 3.543889200, 1.637067800)


def _erfinv_guess(y, one_minus_abs):
    """erfinv(y) to about 6 digits, given y and 1 - |y| (passed in: the caller may know it more
    accurately than 1 - |y| would be)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = y * y
        central = y * _poly(z, _ERFINV_NUM) / _poly(z, _ERFINV_DEN)
        t = np.sqrt(-np.log(one_minus_abs / 2))
        tail = np.copysign(_poly(t, _ERFINV_TAIL_NUM) / _poly(t, _ERFINV_TAIL_DEN), y)
    return np.where(np.abs(y) <= 0.7, central, tail)


def _erfcinv(a):
    """erfcinv(a) = erfinv(1 - a) for a float64 array 0 < a <= 1. Newton's steps are taken on
    log(erfc(x)) = log(a): erfc keeps its relative accuracy where a is tiny (there erf(x) rounds
    to 1 and could not tell nearby x apart), and its log is nearly a parabola (-x^2), so the
    steps converge fast also from a rough first guess far out in the tail."""
    x = _erfinv_guess(1 - a, a)
    log_a = np.log(a)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(4):
            e = erfc_array(x)
            # d/dx log(erfc(x)) = -erfc'(x) / erfc(x) ... with erfc'(x) = -2/sqrt(pi) e^(-x^2)
            x = x + (np.log(e) - log_a) * e / (_TWO_OVER_SQRT_PI * np.exp(-(x * x)))
    return x


def erfinv_array(y):
    """The inverse of erf on [-1, 1] (+-inf at +-1, NaN outside) of a NumPy float array: a new
    array of y's dtype, computed in float64. |y| <= 1/2: two Newton steps on erf; beyond,
    sign(y) erfcinv(1 - |y|) (1 - |y| is exact there), also accurate next to +-1."""
    y = np.asarray(y)
    flat = y.astype(np.float64).ravel()
    a = np.abs(flat)
    x = np.full_like(flat, np.nan)  # NaN stays NaN, and so does |y| > 1
    central = np.flatnonzero(a <= 0.5)
    yc = flat[central]
    xc = _erfinv_guess(yc, 1 - np.abs(yc))
    for _ in range(2):
        xc = xc - (erf_array(xc) - yc) / (_TWO_OVER_SQRT_PI * np.exp(-(xc * xc)))
    x[central] = xc
    tail = np.flatnonzero((a > 0.5) & (a < 1))
    x[tail] = np.copysign(_erfcinv(1 - a[tail]), flat[tail])
    ends = a == 1
    x[ends] = np.copysign(np.inf, flat[ends])
    return x.astype(y.dtype).reshape(y.shape)


def ndtri_array(p):
    """The standard normal quantile: x with Phi(x) = p (-inf at 0, +inf at 1, NaN outside), of
    a NumPy float array, computed in float64: sqrt(2) erfinv(2p - 1) for 1/4 <= p <= 3/4 (2p - 1
    is exact there), and in the tails -sqrt(2) erfcinv(2p), or sqrt(2) erfcinv(2 (1 - p)) (1 - p
    is exact), which stay accurate also for tiny p or 1 - p."""
    p = np.asarray(p)
    q = p.astype(np.float64).ravel()
    x = np.full_like(q, np.nan)
    mid = np.flatnonzero(np.abs(q - 0.5) <= 0.25)
    x[mid] = erfinv_array(2 * q[mid] - 1)
    low = np.flatnonzero((q > 0) & (q < 0.25))
    x[low] = -_erfcinv(2 * q[low])
    high = np.flatnonzero((q > 0.75) & (q < 1))
    x[high] = _erfcinv(2 * (1 - q[high]))
    x *= math.sqrt(2)
    x[q == 0], x[q == 1] = -np.inf, np.inf
    return x.astype(p.dtype).reshape(p.shape)


def log_ndtr_array(x):
    """log Phi(x), the log of the standard normal CDF, without underflow far in the left tail:
    log1p(-erfc(x / sqrt 2) / 2) for x >= -1, log(erfc(-x / sqrt 2) / 2) down to -20, and the
    asymptotic series of log Phi(x) = -x^2/2 - log(-x sqrt(2 pi)) + log(1 - 1/x^2 + 3/x^4 - ...)
    below (float32 is computed in float64)."""
    x = np.asarray(x)
    a = x.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.asarray(np.log1p(-erfc_array(a / math.sqrt(2)) / 2))  # (an array also for 0-d x)
        mid = np.flatnonzero((a < -1) & (a >= -20))
        r.flat[mid] = np.log(erfc_array(-a.flat[mid] / math.sqrt(2)) / 2)
        far = np.flatnonzero(a < -20)
        t = a.flat[far]
        s = 1 / (t * t)
        series = np.ones_like(t)  # 1 - s + 3 s^2 - 15 s^3 + ...: term k is -(2k - 1) s term k-1
        term = np.ones_like(t)
        for k in range(1, 12):
            term = term * -(2 * k - 1) * s
            series += term
        r.flat[far] = -0.5 * t * t - np.log(-t) - 0.5 * math.log(2 * math.pi) + np.log(series)
    return r.astype(x.dtype, copy=False)


class Erfinv(Function):
    saves_outputs = True

    def forward(self, x):
        return erfinv_array(x)

    def backward(self, gy):
        from .elementwise import exp

        y = self.saved_output()
        return gy * exp(y * y) * (math.sqrt(math.pi) / 2)  # 1 / erf'(y) = sqrt(pi)/2 e^(y^2)


class Ndtri(Function):
    grad_fn_name = "SpecialNdtriBackward0"
    saves_outputs = True

    def forward(self, p):
        return ndtri_array(p)

    def backward(self, gy):
        from .elementwise import exp

        y = self.saved_output()
        # 1 / Phi'(y) = sqrt(2 pi) e^(y^2 / 2)
        return gy * exp(y * y / 2) * math.sqrt(2 * math.pi)


class LogNdtr(Function):
    grad_fn_name = "SpecialLogNdtrBackward0"
    saves_outputs = True

    def forward(self, x):
        return log_ndtr_array(x)

    def backward(self, gy):
        from .elementwise import exp

        (x,) = self.saved_tensors
        # d log Phi = phi(x) / Phi(x) = e^(-x^2/2 - log Phi(x)) / sqrt(2 pi)
        return gy * exp(-(x * x / 2 + self.saved_output())) / math.sqrt(2 * math.pi)


def erfinv(input):
    """The inverse error function: erfinv(erf(x)) = x on (-1, 1), +-inf at +-1, NaN outside."""
    return Erfinv()(_float(input))


def ndtri(input):
    """The standard normal quantile (torch.special.ndtri): Phi(ndtri(p)) = p."""
    return Ndtri()(_float(input))


def log_ndtr(input):
    """log of the standard normal CDF (torch.special.log_ndtr), accurate far in both tails."""
    return LogNdtr()(_float(input))


# ----- lgamma, digamma, polygamma ----------------------------------------------------------------
# lgamma follows fdlibm's e_lgamma_r.c (the notice above the erf coefficients applies): a
# reflection for x < 0, and for x > 0 six ranges of |x|, each with its own approximation.
_LG_A = (7.72156649015328655494e-02, 3.22467033424113591611e-01, 6.73523010531292681824e-02,
         2.05808084325167332806e-02, 7.38555086081402883957e-03, 2.89051383673415629091e-03,
         1.19270763183362067845e-03, 5.10069792153511336608e-04, 2.20862790713908385557e-04,
         1.08011567247583939954e-04, 2.52144565451257326939e-05, 4.48640949618915160150e-05)
_LG_TC = 1.46163214496836224576e+00  # where lgamma has its minimum
_LG_TF = -1.21486290535849611461e-01  # lgamma(tc), with _LG_TT its rounding error
_LG_TT = -3.63867699703950536541e-18
_LG_T = (4.83836122723810047042e-01, -1.47587722994593911752e-01, 6.46249402391333854778e-02,
         -3.27885410759859649565e-02, 1.79706750811820387126e-02, -1.03142241298341437450e-02,
         6.10053870246291332635e-03, -3.68452016781138256760e-03, 2.25964780900612472250e-03,
         -1.40346469989232843813e-03, 8.81081882437654011382e-04, -5.38595305356740546715e-04,
         3.15632070903625950361e-04, -3.12754168375120860518e-04, 3.35529192635519073543e-04)
_LG_U = (-7.72156649015328655494e-02, 6.32827064025093366517e-01, 1.45492250137234768737e+00,
         9.77717527963372745603e-01, 2.28963728064692451092e-01, 1.33810918536787660377e-02)
_LG_V = (1.0, 2.45597793713041134822e+00, 2.12848976379893395361e+00,
         7.69285150456672783825e-01, 1.04222645593369134254e-01, 3.21709242282423911810e-03)
_LG_S = (-7.72156649015328655494e-02, 2.14982415960608852501e-01, 3.25778796408930981787e-01,
         1.46350472652464452805e-01, 2.66422703033638609560e-02, 1.84028451407337715652e-03,
         3.19475326584100867617e-05)
_LG_R = (1.0, 1.39200533467621045958e+00, 7.21935547567138069525e-01,
         1.71933865632803078993e-01, 1.86459191715652901344e-02, 7.77942496381893596434e-04,
         7.32668430744625636189e-06)
_LG_W = (4.18938533204672725052e-01, 8.33333333333329678849e-02, -2.77777777728775536470e-03,
         7.93650558643019558500e-04, -5.95187557450339963135e-04, 8.36339918996282139126e-04,
         -1.63092934096575273989e-03)


def _lgamma_near_one_or_two(y, case):
    """lgamma on (0, 2) written around its zeros and minimum, fdlibm's three cases: y = 1 - x
    (or 2 - x), y = x - tc (or x - (tc - 1)), y = x - 1 (or x itself). The caller adds -log(x)
    below 0.9."""
    if case == 0:
        z = y * y
        p = y * _poly(z, _LG_A[0::2]) + z * _poly(z, _LG_A[1::2])
        return p - 0.5 * y
    if case == 1:
        z = y * y
        w = z * y
        p = z * _poly(w, _LG_T[0::3]) - (_LG_TT - w * (_poly(w, _LG_T[1::3])
                                                       + y * _poly(w, _LG_T[2::3])))
        return _LG_TF + p
    return -0.5 * y + y * _poly(y, _LG_U) / _poly(y, _LG_V)


def _lgamma_positive(x):
    """lgamma(x) for a float64 array of x >= 0 (inf at 0 and at inf, NaN for NaN)."""
    r = np.empty_like(x)
    ranges = [
        (x < 2.0 ** -70, lambda t: -np.log(t)),
        ((x >= 2.0 ** -70) & (x < 0.23164), lambda t: -np.log(t) + _lgamma_near_one_or_two(t, 2)),
        ((x >= 0.23164) & (x < 0.7316),
         lambda t: -np.log(t) + _lgamma_near_one_or_two(t - (_LG_TC - 1), 1)),
        ((x >= 0.7316) & (x < 0.9), lambda t: -np.log(t) + _lgamma_near_one_or_two(1 - t, 0)),
        ((x >= 0.9) & (x < 1.2316), lambda t: _lgamma_near_one_or_two(t - 1, 2)),
        ((x >= 1.2316) & (x < 1.7316), lambda t: _lgamma_near_one_or_two(t - _LG_TC, 1)),
        ((x >= 1.7316) & (x < 2), lambda t: _lgamma_near_one_or_two(2 - t, 0)),
        ((x >= 2) & (x < 8), _lgamma_two_to_eight),
        ((x >= 8) & (x < 2.0 ** 58), _lgamma_stirling),
        (~(x < 2.0 ** 58), lambda t: t * (np.log(t) - 1)),  # and NaN
    ]
    for mask, fn in ranges:
        idx = np.flatnonzero(mask)
        if idx.size:
            r.flat[idx] = fn(x.flat[idx])
    r[(x == 1) | (x == 2)] = 0.0
    return r


def _lgamma_two_to_eight(x):
    """lgamma on [2, 8): lgamma(2 + y) by a rational function of y = x - floor(x), then
    lgamma(x) = lgamma(2 + y) + log((y + 2) (y + 3) ... (x - 1))."""
    i = np.floor(x)
    y = x - i
    r = 0.5 * y + y * _poly(y, _LG_S) / _poly(y, _LG_R)
    z = np.ones_like(y)
    for k in range(2, 7):
        z *= np.where(i > k, y + k, 1.0)
    return r + np.log(z)


def _lgamma_stirling(x):
    """lgamma on [8, 2^58): Stirling's series (x - 1/2)(log x - 1) + w(1/x)."""
    z = 1 / x
    w = _LG_W[0] + z * _poly(z * z, _LG_W[1:])
    return (x - 0.5) * (np.log(x) - 1) + w


def lgamma_array(x):
    """log|Gamma(x)| of a NumPy float array: a new array of x's dtype, computed in float64. Like
    C's lgamma (and PyTorch): inf at 0, at the negative integers and at +-inf."""
    x = np.asarray(x)
    a = x.astype(np.float64).ravel()
    ax = np.abs(a)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = _lgamma_positive(ax)
        neg = np.flatnonzero((a < 0) & (ax >= 2.0 ** -70))
        if neg.size:
            # Gamma(x) Gamma(-x) = -pi / (x sin(pi x)): lgamma(x) = log(pi / |x sin(pi x)|) -
            # lgamma(-x), with sin(pi x) from the distance to the nearest integer (exact)
            t = ax[neg]
            f = t - np.floor(t)
            s = np.sin(np.pi * np.minimum(f, 1 - f))
            r[neg] = np.where(s == 0, np.inf, np.log(np.pi / (s * t)) - r[neg])
        r[np.isinf(a)] = np.inf
    return r.astype(x.dtype, copy=False).reshape(x.shape)


def _work(x):
    """x as a flat array in the dtype PyTorch computes digamma and polygamma in: float64 stays,
    float32 and float16 are computed in float32."""
    return np.ravel(x).astype(np.float64 if x.dtype == np.float64 else np.float32)


_PSI_10 = 2.25175258906672110764  # digamma(10)
_PSI_ASYMPTOTIC = (8.33333333333333333333e-2, -8.33333333333333333333e-3,
                   3.96825396825396825397e-3, -4.16666666666666666667e-3,
                   7.57575757575757575758e-3, -2.10927960927960927961e-2,
                   8.33333333333333333333e-2)  # Bernoulli numbers B_2k / 2k, low to high


def digamma_array(x):
    """digamma(x) = d/dx lgamma(x) of a NumPy float array, as PyTorch computes it (Cephes's psi):
    psi(x) = psi(x + n) - sum 1 / (x + k) up to x + n >= 10, then the asymptotic series; for
    x < 0 the reflection psi(x) = psi(1 - x) - pi / tan(pi x). -inf at +0, inf at -0, NaN at
    the negative integers and -inf."""
    x = np.asarray(x)
    a = _work(x)
    dt = a.dtype
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        neg = a < 0
        frac = a - np.trunc(a)  # pi / tan(pi x) from the fractional part, in float64
        reflection = (np.pi / np.tan(np.pi * frac.astype(np.float64))).astype(dt)
        v = np.where(neg, 1 - a, a)
        result = np.zeros_like(v)
        for _ in range(10):  # v + 10 >= 10 for every v > 0
            below = v < 10
            if not below.any():
                break
            result -= np.where(below, 1 / v, np.zeros((), dt))
            v = np.where(below, v + 1, v)
        z = 1 / (v * v)
        tail = np.where(v < 1e17, z * _poly(z, _PSI_ASYMPTOTIC), np.zeros((), dt))
        psi = np.where(v == 10, result + dt.type(_PSI_10), result + np.log(v) - 0.5 / v - tail)
        psi = np.where(neg, psi - reflection, psi)
        psi = np.where(a == 0, np.copysign(np.array(np.inf, dt), -a), psi)
        psi = np.where(neg & (a == np.trunc(a)), np.array(np.nan, dt), psi)
    return psi.astype(x.dtype, copy=False).reshape(x.shape)


def trigamma_array(x):
    """polygamma(1, x) = d/dx digamma(x), as PyTorch computes it: the reflection
    -pi^2 / sin^2(pi x) - psi1(1 - x) below 1/2, six steps of psi1(x) = psi1(x + 1) + 1 / x^2,
    then the asymptotic series."""
    x = np.asarray(x)
    a = _work(x)
    dt = a.dtype
    pi = dt.type(np.pi)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        low = a < 0.5
        s = np.sin(pi * a)
        result = np.where(low, -(pi * pi) / (s * s), np.zeros((), dt))
        v = np.where(low, 1 - a, a)
        for _ in range(6):
            result += 1 / (v * v)
            v = v + 1
        ixx = 1 / (v * v)
        series = 1 + 1 / (2 * v) + ixx * (dt.type(1 / 6) - ixx * (dt.type(1 / 30)
                                                                  - ixx * dt.type(1 / 42)))
        result += series / v
        result = np.where(low, -result, result)
    return result.astype(x.dtype, copy=False).reshape(x.shape)


_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
           7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
           -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)
_MACHEP = 1.11022302462515654042e-16


def hurwitz_zeta_array(s, q):
    """The Hurwitz zeta function sum over k >= 0 of (k + q)^-s for s (a number or an array,
    broadcast against q) and a float64 array q, as PyTorch (Cephes) computes it: the direct sum
    up to q + n > 9 (n >= 9), then the Euler-Maclaurin tail. inf at q = 0, -1, -2, ... and at
    s = 1, NaN for s < 1."""
    s, q = np.broadcast_arrays(np.asarray(s, dtype=np.float64), np.asarray(q, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        total = q ** -s
        a, b = q.copy(), np.zeros_like(q)
        # the poles q = 0, -1, -2, ... (-inf too) and, for a fractional s, any q <= 0 (a
        # negative number to a fractional power): decided before the sum, which never ends there
        pole = (q <= 0) & (q == np.floor(q))
        undefined = (q <= 0) & ~pole & (s != np.floor(s))
        done = pole | undefined
        i = 0
        while True:  # each element stops once it has converged or passed 9 after 9 terms
            active = ~done & ((i < 9) | (a <= 9))
            if not active.any():
                break
            i += 1
            a = np.where(active, a + 1, a)
            b = np.where(active, a ** -s, b)
            total = np.where(active, total + b, total)
            done |= active & (np.abs(b) < _MACHEP * total)
        w = a
        total = np.where(done, total, total + b * w / (s - 1) - 0.5 * b)
        a, k = np.ones_like(q), 0.0
        for coefficient in _ZETA_A:
            a = a * (s + k)
            b = b / w
            t = a * b / coefficient
            total = np.where(done, total, total + t)
            done |= np.abs(t / total) < _MACHEP
            k += 1
            a = a * (s + k)
            b = b / w
            k += 1
        total = np.where(pole, np.inf, np.where(undefined, np.nan, total))
        total = np.where(s == 1, np.inf, np.where(s < 1, np.nan, total))
    return total


def polygamma_array(n, x):
    """The n-th derivative of digamma: digamma (n = 0), trigamma (n = 1), else
    (-1)^(n+1) n! zeta(n + 1, x), as PyTorch computes it."""
    if n == 0:
        return digamma_array(x)
    if n == 1:
        return trigamma_array(x)
    x = np.asarray(x)
    dt = _work(x).dtype
    factorial = np.exp(np.asarray(math.lgamma(n + 1), dt))  # PyTorch's exp(lgamma(n + 1))
    z = hurwitz_zeta_array(float(n + 1), _work(x)).astype(dt)
    with np.errstate(over="ignore", invalid="ignore"):
        r = (1 if n % 2 else -1) * factorial * z
    return r.astype(x.dtype, copy=False).reshape(x.shape)


class Lgamma(Function):
    def forward(self, x):
        return lgamma_array(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * digamma(x)  # d lgamma = digamma


class Polygamma(Function):
    """polygamma(n, x); digamma is n = 0. The derivative is polygamma(n + 1, x)."""

    def __init__(self, n):
        self.n = n
        self.grad_fn_name = "DigammaBackward0" if n == 0 else "PolygammaBackward0"

    def forward(self, x):
        return polygamma_array(self.n, x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * Polygamma(self.n + 1)(x)


def lgamma(input):
    """log|Gamma(x)|: inf at 0, at the negative integers and at +-inf."""
    return Lgamma()(_float(input))


def digamma(input):
    """d/dx lgamma(x): -inf at +0, inf at -0, NaN at the negative integers."""
    return Polygamma(0)(_float(input))


def polygamma(n, input):
    """The n-th derivative of digamma (n >= 0 an int): polygamma(0, x) is digamma(x)."""
    if not isinstance(n, int | np.integer) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type_name(n)}")
    require_tensor(input, "polygamma", "input", 2)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return Polygamma(int(n))(_float(input))


class Mvlgamma(Function):
    """The log of the multivariate gamma function of dimension p: the sum of lgamma(x - i/2) for
    i < p, plus p (p - 1) / 4 log(pi). Its derivative is the same sum of digammas."""

    def __init__(self, p):
        self.p = p

    def _args(self, x):
        return x[..., None] + (np.arange(self.p) - (self.p - 1)).astype(x.dtype) / 2

    def forward(self, x):
        const = self.p * (self.p - 1) * math.log(math.pi) / 4
        return lgamma_array(self._args(x)).sum(-1) + np.asarray(const, x.dtype)

    def backward(self, gy):
        (x,) = self.saved_tensors
        offsets = Tensor._make((np.arange(self.p) - (self.p - 1)).astype(x.dtype) / 2)
        return gy * digamma(x.unsqueeze(-1) + offsets).sum(-1)  # (differentiable again)


def mvlgamma(input, p):
    """The log of the multivariate gamma function of dimension p (an int >= 1): sum over i < p
    of lgamma(x - i/2), plus p (p - 1) / 4 log(pi)."""
    x = require_tensor(input, "mvlgamma", "input", 1)
    if not isinstance(p, int | np.integer) or isinstance(p, bool):
        raise TypeError(f"mvlgamma(): argument 'p' (position 2) must be int, not {type_name(p)}")
    if x.dtype.kind == "b":
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    return Mvlgamma(int(p))(_float(x))


# ----- entr --------------------------------------------------------------------------------------
class Entr(Function):
    """-x log x: 0 at x = 0, -inf for x < 0 (torch.special.entr)."""

    grad_fn_name = "SpecialEntrBackward0"

    def forward(self, x):
        r = -x * np.log(x)
        r = np.where(x == 0, np.zeros((), x.dtype), r)
        return np.where(x < 0, np.array(-np.inf, x.dtype), r)

    def backward(self, gy):
        from .elementwise import log

        (x,) = self.saved_tensors
        return gy * -(log(x) + 1.0)  # d (-x log x) = -(log x + 1)


def entr(input):
    """The elementwise entropy term -x log x (0 at 0, -inf below 0)."""
    return Entr()(_float(input))


# ----- modified Bessel functions i0, i1 (and their scaled forms), erfcx -------------------------
# Cephes' Chebyshev expansions, as PyTorch evaluates them: exp(-|x|) I(|x|) on [0, 8] in the
# variable |x| / 2 - 2, and exp(-|x|) sqrt(|x|) I(|x|) on (8, inf) in 32 / |x| - 2. Each tuple
# holds the coefficients highest order first (Cephes' order). In float32 PyTorch drops the
# leading terms of the i1 expansions (they are below float32's precision): _bessel_tables does
# the same, so that float32 results round as PyTorch's do.
_I0E_A = (-4.41534164647933937950e-18, 3.33079451882223809783e-17, -2.43127984654795469359e-16,
          1.71539128555513303061e-15, -1.16853328779934516808e-14, 7.67618549860493561688e-14,
          -4.85644678311192946090e-13, 2.95505266312963983461e-12, -1.72682629144155570723e-11,
          9.67580903537323691224e-11, -5.18979560163526290666e-10, 2.65982372468238665035e-09,
          -1.30002500998624804212e-08, 6.04699502254191894932e-08, -2.67079385394061173391e-07,
          1.11738753912010371815e-06, -4.41673835845875056359e-06, 1.64484480707288970893e-05,
          -5.75419501008210370398e-05, 1.88502885095841655729e-04, -5.76375574538582365885e-04,
          1.63947561694133579842e-03, -4.32430999505057594430e-03, 1.05464603945949983183e-02,
          -2.37374148058994688156e-02, 4.93052842396707084878e-02, -9.49010970480476444210e-02,
          1.71620901522208775349e-01, -3.04682672343198398683e-01, 6.76795274409476084995e-01)
_I0E_B = (-7.23318048787475395456e-18, -4.83050448594418207126e-18, 4.46562142029675999901e-17,
          3.46122286769746109310e-17, -2.82762398051658348494e-16, -3.42548561967721913462e-16,
          1.77256013305652638360e-15, 3.81168066935262242075e-15, -9.55484669882830764870e-15,
          -4.15056934728722208663e-14, 1.54008621752140982691e-14, 3.85277838274214270114e-13,
          7.18012445138366623367e-13, -1.79417853150680611778e-12, -1.32158118404477131188e-11,
          -3.14991652796324136454e-11, 1.18891471078464383424e-11, 4.94060238822496958910e-10,
          3.39623202570838634515e-09, 2.26666899049817806459e-08, 2.04891858946906374183e-07,
          2.89137052083475648297e-06, 6.88975834691682398426e-05, 3.36911647825569408990e-03,
          8.04490411014108831608e-01)
_I1E_A = (2.77791411276104639959e-18, -2.11142121435816608115e-17, 1.55363195773620046921e-16,
          -1.10559694773538630805e-15, 7.60068429473540693410e-15, -5.04218550472791168711e-14,
          3.22379336594557470981e-13, -1.98397439776494371520e-12, 1.17361862988909016308e-11,
          -6.66348972350202774223e-11, 3.62559028155211703701e-10, -1.88724975172282928790e-09,
          9.38153738649577178388e-09, -4.44505912879632808065e-08, 2.00329475355213526229e-07,
          -8.56872026469545474066e-07, 3.47025130813767847674e-06, -1.32731636560394358279e-05,
          4.78156510755005422638e-05, -1.61760815825896745588e-04, 5.12285956168575772895e-04,
          -1.51357245063125314899e-03, 4.15642294431288815669e-03, -1.05640848946261981558e-02,
          2.47264490306265168283e-02, -5.29459812080949914269e-02, 1.02643658689847095384e-01,
          -1.76416518357834055153e-01, 2.52587186443633654823e-01)
_I1E_B = (7.51729631084210481353e-18, 4.41434832307170791151e-18, -4.65030536848935832153e-17,
          -3.20952592199342395980e-17, 2.96262899764595013876e-16, 3.30820231092092828324e-16,
          -1.88035477551078244854e-15, -3.81440307243700780478e-15, 1.04202769841288027642e-14,
          4.27244001671195135429e-14, -2.10154184277266431302e-14, -4.08355111109219731823e-13,
          -7.19855177624590851209e-13, 2.03562854414708950722e-12, 1.41258074366137813316e-11,
          3.25260358301548823856e-11, -1.89749581235054123450e-11, -5.58974346219658380687e-10,
          -3.83538038596423702205e-09, -2.63146884688951950684e-08, -2.51223623787020892529e-07,
          -3.88256480887769039346e-06, -1.10588938762623716291e-04, -9.76109749136146840777e-03,
          7.78576235018280120474e-01)


@functools.cache
def _bessel_tables(dtype):
    """{order: (coefficients on [0, 8], coefficients beyond 8)} as arrays of `dtype`."""
    i1_near, i1_far = (_I1E_A, _I1E_B) if dtype == np.float64 else (_I1E_A[-17:], _I1E_B[-7:])
    return {order: tuple(np.array(c, dtype) for c in pair)
            for order, pair in ((0, (_I0E_A, _I0E_B)), (1, (i1_near, i1_far)))}


def _chbevl(y, coeffs):
    """Cephes' chbevl: the sum of coeffs[k] T_k(y / 2) by Clenshaw's recurrence."""
    b0, b1, b2 = np.full_like(y, coeffs[0]), np.zeros_like(y), np.zeros_like(y)
    for c in coeffs[1:]:
        b2, b1 = b1, b0
        b0 = y * b1 - b2 + c
    return (b0 - b2) * y.dtype.type(0.5)


def bessel_i_array(x, order, scaled):
    """I0 or I1 (order 0 or 1) of a NumPy float array, times exp(-|x|) if `scaled`: Cephes'
    i0, i0e, i1, i1e with PyTorch's order of operations, in float64 for float64 and in float32
    otherwise (so float32 overflows where PyTorch's does: i0(89) is inf). I1 is odd, I0 even."""
    x = np.asarray(x)
    a = np.abs(x.astype(np.float64 if x.dtype == np.float64 else np.float32))
    near_coeffs, far_coeffs = _bessel_tables(a.dtype)[order]
    with np.errstate(all="ignore"):
        near = _chbevl(a / 2 - 2, near_coeffs)
        far = _chbevl(32 / a - 2, far_coeffs)
        if order == 1:
            near = near * a if scaled else np.exp(a) * a * near
        elif not scaled:
            near = np.exp(a) * near
        if not scaled:
            far = np.exp(a) * far
        out = np.where(a <= 8, near, far / np.sqrt(a))  # (NaN takes the second branch: NaN)
        if order == 1:
            out = np.where(x < 0, -out, out)
    return out.astype(x.dtype, copy=False)


class BesselI(Function):
    """i0, i0e, i1 or i1e; their derivatives are again these functions (PyTorch's formulas):
    I0' = I1, I1' = I0 - I1 / x, and for the scaled forms e^-|x| I the extra -sign(x) term."""

    saves_outputs = True

    def __init__(self, order, scaled):
        self.order, self.scaled = order, scaled
        self.grad_fn_name = {(0, False): "I0Backward0", (0, True): "SpecialI0EBackward0",
                             (1, False): "SpecialI1Backward0",
                             (1, True): "SpecialI1EBackward0"}[order, scaled]

    def forward(self, x):
        return bessel_i_array(x, self.order, self.scaled)

    def backward(self, gy):
        from .indexing import where

        (x,) = self.saved_tensors
        y = self.saved_output()
        if self.order == 0:
            g = BesselI(1, self.scaled)(x)
            return gy * (g - sign(x) * y if self.scaled else g)
        # d I1 / dx = I0 - I1 / x, whose limit at 0 is 1/2 (and likewise for i1e): PyTorch takes
        # it as 1/2 wherever |x| <= eps, with x kept away from 0 inside the formula
        eps = float(np.finfo(x.dtype).eps)
        big = x.abs() > eps
        safe = where(big, x, eps)
        g = BesselI(0, self.scaled)(safe) - y * ((sign(safe) + 1.0 / safe) if self.scaled
                                                 else 1.0 / safe)
        return gy * where(big, g, 0.5)


def _modified_bessel(name, input, order, scaled):
    """BesselI of a tensor (integer and bool inputs give the default float dtype)."""
    return BesselI(order, scaled)(_float(require_tensor(input, name, "input", 1)))


def i0(input):
    """The modified Bessel function of the first kind of order 0, I0(x) (even, I0(0) = 1)."""
    return _modified_bessel("i0", input, 0, False)


_ONE_OVER_SQRT_PI = 0.56418958354775628695


def erfcx_array(x):
    """erfcx(x) = e^(x^2) erfc(x) of a NumPy float array, in float64, without the overflow and
    underflow of the product: below 1.25 the product itself (with x^2 rounded in x's dtype, as
    PyTorch computes it), from 1.25 to 50 fdlibm's tail of erfc without its Gaussian factor,
    exp(-0.5625 + R(1/x^2) / S(1/x^2)) / x, and beyond a continued fraction (PyTorch's)."""
    x = np.asarray(x)
    a = x.astype(np.float64).ravel()
    k = _coeffs(np.float64)
    out = np.empty_like(a)
    with np.errstate(all="ignore"):
        low = np.flatnonzero(~(a >= 1.25))  # and NaN
        square = np.square(x.ravel()[low]).astype(np.float64)
        out[low] = np.exp(square) * erfc_array(a[low])
        for lo, hi, num, den in ((1.25, 1 / 0.35, k.ra, k.sa), (1 / 0.35, 50.0, k.rb, k.sb)):
            mid = np.flatnonzero((a >= lo) & (a < hi))
            t = a[mid]
            out[mid] = np.exp(_ratio(1 / (t * t), num, den) - 0.5625) / t
        far = np.flatnonzero(a >= 50)
        t = a[far]
        # 1 / sqrt(pi) / (x + 1/2 / (x + 1 / (x + 3/2 / (x + 2 / x)))), simplified; past 5e7,
        # where t^4 could overflow, its first term 1 / (sqrt(pi) x)
        t2 = t * t
        fraction = _ONE_OVER_SQRT_PI * (t2 * (t2 + 4.5) + 2) / (t * (t2 * (t2 + 5) + 3.75))
        out[far] = np.where(t > 5e7, _ONE_OVER_SQRT_PI / t, fraction)
        return out.astype(x.dtype, copy=False).reshape(x.shape)  # (float32: inf where it overflows)


class Erfcx(Function):
    grad_fn_name = "SpecialErfcxBackward0"
    saves_outputs = True

    def forward(self, x):
        return erfcx_array(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        # d/dx e^(x^2) erfc(x) = 2x e^(x^2) erfc(x) - 2/sqrt(pi)
        return gy * (2.0 * x * self.saved_output() - _TWO_OVER_SQRT_PI)


def erfcx(input):
    """The scaled complementary error function e^(x^2) erfc(x) (torch.special.erfcx): finite
    where erfc underflows, about 1 / (sqrt(pi) x) for large x."""
    x = _float(require_tensor(input, "special_erfcx", "input", 1))
    if x.dtype == np.float16:
        raise NotImplementedError("\"erfcx_cpu\" not implemented for 'Half'")
    return Erfcx()(x)


# ----- incomplete gamma functions igamma / igammac (and a Gamma draw's gradient) ----------------
# P(a, x) = gamma(a, x) / Gamma(a), the lower regularized incomplete gamma function (the cdf of
# Gamma(a, 1) at x), and Q = 1 - P, by Cephes's methods in float64.
_EPS = 2.0 ** -53  # the series and the continued fraction stop at this relative change
_MAX_STEPS = 20_000  # enough for a <= 1e6 (both need some 10 sqrt(a) steps near x = a)
_LARGE_SHAPE = 1e6  # above this, asymptotic expansions in 1 / a (below 1e-8 off)
_BIG = 2.0 ** 200  # the continued fraction's terms are rescaled past this (they only grow)


def _lower_series(a, x):
    """S(a, x) = sum over n >= 0 of x^n / ((a + 1) ... (a + n)) and its derivative dS/da, for
    flat float64 arrays: P(a, x) = x^a e^-x / Gamma(a + 1) * S. Each term is the previous one
    times r = x / (a + n), and dr/da = -r / (a + n)."""
    total, dtotal = np.ones_like(x), np.zeros_like(x)
    term, dterm = np.ones_like(x), np.zeros_like(x)
    live = np.arange(x.size)
    for n in range(1, _MAX_STEPS):
        if not live.size:
            break
        an = a[live] + n
        r = x[live] / an
        t = term[live] * r
        dt = (dterm[live] - term[live] / an) * r
        term[live], dterm[live] = t, dt
        total[live] += t
        dtotal[live] += dt
        # every term and every derivative term has one sign: stop once they no longer count
        live = live[(t > _EPS * total[live]) | (np.abs(dt) > _EPS * np.abs(dtotal[live]))]
    return total, dtotal


def _upper_fraction(a, x, log_ratio):
    """C(a, x) and dC/da for flat float64 arrays, where Q(a, x) = x^a e^-x / Gamma(a) * C:
    Cephes's continued fraction for Q (x >= 1, x > a), with each convergent p/q differentiated
    in a by the product rule. Stops when C * log_ratio + dC/da (the quantity the callers
    need, log_ratio = log x - digamma(a)) no longer changes."""
    y = 1.0 - a
    z = x + y + 1.0
    p2, dp2 = np.ones_like(x), np.zeros_like(x)
    q2, dq2 = x.copy(), np.zeros_like(x)
    p1, dp1 = x + 1.0, np.zeros_like(x)
    q1, dq1 = z * x, -x  # dz/da = -1
    frac, dfrac = p1 / q1, -p1 * dq1 / q1 ** 2
    live = np.arange(x.size)
    for c in range(1, _MAX_STEPS):
        if not live.size:
            break
        y[live] += 1.0
        z[live] += 2.0
        yl, zl = y[live], z[live]
        yc, dyc = yl * c, -float(c)  # dy/da = -1, dz/da = -1
        p = p1[live] * zl - p2[live] * yc
        dp = dp1[live] * zl - p1[live] - dp2[live] * yc - p2[live] * dyc
        q = q1[live] * zl - q2[live] * yc
        dq = dq1[live] * zl - q1[live] - dq2[live] * yc - q2[live] * dyc
        r = p / q
        dr = (dp - r * dq) / q  # (p / q)' = (p' - (p / q) q') / q
        lr = log_ratio[live]
        new, old = r * lr + dr, frac[live] * lr + dfrac[live]
        done = np.abs(new - old) <= _EPS * (np.abs(r * lr) + np.abs(dr))
        frac[live], dfrac[live] = r, dr
        scale = np.where(np.abs(p) > _BIG, 1.0 / _BIG, 1.0)  # a common factor of p and q
        p2[live], dp2[live] = p1[live] * scale, dp1[live] * scale
        q2[live], dq2[live] = q1[live] * scale, dq1[live] * scale
        p1[live], dp1[live], q1[live], dq1[live] = p * scale, dp * scale, q * scale, dq * scale
        live = live[~done]
    return frac, dfrac


def _use_series(a, x):
    """Cephes's choice: the power series of P below x = a (or below 1), else Q's fraction."""
    return (x < 1.0) | (x <= a)


def _saddle_point_grad(a, x):
    """dx/da for very large a, by Rice's saddle-point expansion of P (as PyTorch uses above
    a = 8; its relative error, some 1e-8 at a = 1e6, falls as a grows)."""
    near = (0.9 * a <= x) & (x <= 1.1 * a)
    with np.errstate(all="ignore"):
        numer_1 = 1 + 24 * a * (1 + 12 * a)
        numer_2 = (1440 * a * a + 6 * x * (53 - 120 * x) - 65 * x * x / a
                   + a * (107 + 3600 * x))
        centre = numer_1 * numer_2 / (1244160 * a ** 4)
        denom = np.sqrt(8 * a)
        term2 = denom / (a - x)
        term3 = (x - a - a * np.log(x / a)) ** -1.5
        term23 = np.where(x < a, term2 - term3, term2 + term3)
        term1 = np.log(x / a) * term23 - np.sqrt(2 / a) * (a + x) / (a - x) ** 2
        stirling = 1 + 1 / (12 * a) * (1 + 1 / (24 * a))
        tail = -stirling * x * term1 / denom
    return np.where(near, centre, tail)


def standard_gamma_grad_array(a, x):
    """dx/da = -(dP/da)(a, x) / f(x; a) for samples x of Gamma(a, 1): the reparameterization
    gradient of a standard Gamma draw (PyTorch's _standard_gamma_grad), in x's dtype."""
    a, x = np.broadcast_arrays(np.asarray(a), np.asarray(x))
    dtype = x.dtype
    a64, x64 = a.astype(np.float64).ravel(), x.astype(np.float64).ravel()
    out = np.full(x64.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (a64 > 0) & (x64 > 0) & np.isfinite(x64)
        large = ok & (a64 > _LARGE_SHAPE)
        out[large] = _saddle_point_grad(a64[large], x64[large])
        low = ok & ~large & _use_series(a64, x64)
        high = ok & ~large & ~low
        # P / f = x S / a: dP/da / f = (x / a) (S (log x - digamma(a + 1)) + dS/da)
        al, xl = a64[low], x64[low]
        s, ds = _lower_series(al, xl)
        out[low] = -(xl / al) * (s * (np.log(xl) - digamma_array(al + 1)) + ds)
        # Q / f = x C, and dx/da = (dQ/da) / f = x (C (log x - digamma(a)) + dC/da)
        ah, xh = a64[high], x64[high]
        log_ratio = np.log(xh) - digamma_array(ah)
        c, dc = _upper_fraction(ah, xh, log_ratio)
        out[high] = xh * (c * log_ratio + dc)
        out[ok & (x64 == 0)] = 0.0
    return out.astype(dtype).reshape(x.shape)


_TEMME_C0 = (-1.0 / 3.0, 1.0 / 12.0, -2.0 / 135.0, 1.0 / 864.0, 1.0 / 2835.0)


def _temme_p(a, x):
    """P(a, x) for very large a by Temme's uniform expansion (DLMF 8.12.3), to its first
    term: P = erfc(-eta sqrt(a / 2)) / 2 - e^(-a eta^2 / 2) / sqrt(2 pi a) c0(eta), with
    eta^2 / 2 = lambda - 1 - log(lambda), lambda = x / a, c0 = 1 / (lambda - 1) - 1 / eta
    (its Taylor series near eta = 0, where the difference cancels). Error ~ 1e-10 at a = 1e6."""
    t = (x - a) / a
    eta = np.sign(t) * np.sqrt(2 * (t - np.log1p(t)))
    c0 = np.where(np.abs(eta) < 1e-2, sum(c * eta ** k for k, c in enumerate(_TEMME_C0)),
                  1 / t - 1 / eta)
    return (0.5 * erfc_array(-eta * np.sqrt(a / 2))
            - np.exp(-a * eta * eta / 2) / np.sqrt(2 * np.pi * a) * c0)


def _temme_q(a, x):
    """Q(a, x) = 1 - P(a, x) for very large a, from the same expansion (its mirror image), so a
    small Q keeps its digits."""
    t = (x - a) / a
    eta = np.sign(t) * np.sqrt(2 * (t - np.log1p(t)))
    c0 = np.where(np.abs(eta) < 1e-2, sum(c * eta ** k for k, c in enumerate(_TEMME_C0)),
                  1 / t - 1 / eta)
    return (0.5 * erfc_array(eta * np.sqrt(a / 2))
            + np.exp(-a * eta * eta / 2) / np.sqrt(2 * np.pi * a) * c0)


def gamma_pq_array(a, x):
    """The regularized incomplete gamma functions P(a, x) (lower) and Q(a, x) = 1 - P (upper),
    in float64, each computed directly where it is the smaller one (Cephes's split: P's power
    series below x = a or x = 1, Q's continued fraction above), so neither loses digits to
    1 - the other. NaN for a < 0, x < 0 or a = x = 0, as in PyTorch; P(0, x > 0) = 1."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    shape = x.shape
    a, x = a.ravel(), x.ravel()
    p, q = np.full(x.shape, np.nan), np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (a > 0) & (x > 0) & np.isfinite(x)
        large = ok & (a > _LARGE_SHAPE)
        p[large], q[large] = _temme_p(a[large], x[large]), _temme_q(a[large], x[large])
        ok &= ~large
        low = ok & _use_series(a, x)
        high = ok & ~low
        al, xl = a[low], x[low]
        p[low] = np.exp(al * np.log(xl) - xl - lgamma_array(al + 1)) * _lower_series(al, xl)[0]
        q[low] = 1.0 - p[low]
        ah, xh = a[high], x[high]
        log_ratio = np.log(xh) - digamma_array(ah)
        frac = _upper_fraction(ah, xh, log_ratio)[0]
        q[high] = np.exp(ah * np.log(xh) - xh - lgamma_array(ah)) * frac
        p[high] = 1.0 - q[high]
        finite_a = (a > 0) & (a < np.inf)
        for where, value in ((((a > 0) & (x == 0)) | ((a == np.inf) & (x > 0) & (x < np.inf)),
                              0.0),
                             ((finite_a & (x == np.inf)) | ((a == 0) & (x > 0)), 1.0)):
            p[where], q[where] = value, 1.0 - value
    return p.reshape(shape), q.reshape(shape)


def gammainc_array(a, x):
    """P(a, x), the regularized lower incomplete gamma function, in float64."""
    return gamma_pq_array(a, x)[0]


class Igamma(Function):
    """P(a, x) (igamma) or Q(a, x) (igammac); differentiable in x only, as in PyTorch."""

    def __init__(self, upper):
        self.upper = upper
        self.grad_fn_name = "IgammacBackward0" if upper else "IgammaBackward0"

    def forward(self, a, x):
        return gamma_pq_array(a, x)[int(self.upper)].astype(np.result_type(a, x))

    def backward(self, gy):
        if self.needs_input_grad[0]:
            raise NotImplementedError(f"the derivative for '{'igammac' if self.upper else 'igamma'}"
                                      ": input' is not implemented.")
        from .arithmetic import sum_to

        a, x = self.saved_tensors
        # dP/dx = x^(a-1) e^-x / Gamma(a), the Gamma(a, 1) density; dQ/dx = -dP/dx
        density = ((a - 1) * x.log() - x - a.lgamma()).exp()
        return None, sum_to(-gy * density if self.upper else gy * density, x.shape)


def _igamma(name, input, other, upper):
    a, x = promote(require_tensor(input, name, "input", 1), require_tensor(other, name, "other", 2))
    not_implemented_for(a, "igammac_cpu" if upper else "igamma_cpu")
    broadcast_shape(a.shape, x.shape)
    return Igamma(upper)(a, x)


def igamma(input, other):
    """P(a, x), the regularized lower incomplete gamma function (torch.special.gammainc)."""
    return _igamma("igamma", input, other, False)


def igammac(input, other):
    """Q(a, x) = 1 - P(a, x), the regularized upper incomplete gamma function
    (torch.special.gammaincc), computed directly so that a small Q keeps its digits."""
    return _igamma("igammac", input, other, True)


# ----- Hurwitz zeta -----------------------------------------------------------------------------
class Zeta(Function):
    """zeta(s, q), the Hurwitz zeta function; differentiable in q only, as in PyTorch."""

    def __init__(self, grad_fn_name="SpecialZetaBackward0"):
        self.grad_fn_name = grad_fn_name

    def forward(self, s, q):
        return hurwitz_zeta_array(s, q).astype(np.result_type(s, q))

    def backward(self, gy):
        if self.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        from .arithmetic import sum_to

        s, q = self.saved_tensors
        # d/dq sum (k + q)^-s = -s sum (k + q)^-(s + 1) = -s zeta(s + 1, q)
        return None, sum_to(gy * -s * Zeta()(s + 1.0, q), q.shape)


def zeta(input, other):
    """The Hurwitz zeta function sum over k >= 0 of (k + other)^-input (torch.special.zeta);
    either argument may be a number. inf at input = 1 and at other = 0, -1, -2, ...; NaN for
    input < 1."""
    numbers = [not isinstance(v, Tensor) for v in (input, other)]
    if numbers[0] and numbers[1]:
        raise TypeError(f"special_zeta() received an invalid combination of arguments - got "
                        f"({type_name(input)}, {type_name(other)}), but expected one of: "
                        "(Tensor input, Tensor other), (Number self, Tensor other), "
                        "(Tensor input, Number other)")
    s, q = promote(input, other, floating=True)
    if s.dtype == np.float16:
        raise NotImplementedError("\"zeta_cpu\" not implemented for 'Half'")
    broadcast_shape(s.shape, q.shape)
    return Zeta("SpecialZetaBackward" + ("1" if numbers[0] else "2" if numbers[1] else "0"))(s, q)


# ----- Bessel functions J0, J1, Y0, Y1 (Cephes) -------------------------------------------------
# Cephes' rational approximations, as PyTorch evaluates them: in float64 for float64 and in
# float32 otherwise. Near 0 (|x| <= 5) a rational function of x^2 (J0 and J1 with their first two
# zeros factored out, Y0 and Y1 plus the log term of their singularity); beyond, the Hankel
# asymptotic form sqrt(2 / (pi x)) (P(z) cos(x - phase) - 5/x Q(z) sin(x - phase)), with sin and
# cos exchanged (and a plus) for Y. Each tuple holds the coefficients highest order first.
_J0_PP = (7.96936729297347051624e-04, 8.28352392107440799803e-02, 1.23953371646414299388e+00,
          5.44725003058768775090e+00, 8.74716500199817011941e+00, 5.30324038235394892183e+00,
          9.99999999999999997821e-01)
_J0_PQ = (9.24408810558863637013e-04, 8.56288474354474431428e-02, 1.25352743901058953537e+00,
          5.47097740330417105182e+00, 8.76190883237069594232e+00, 5.30605288235394617618e+00,
          1.00000000000000000218e+00)
_J0_QP = (-1.13663838898469149931e-02, -1.28252718670509318512e+00, -1.95539544257735972385e+01,
          -9.32060152123768231369e+01, -1.77681167980488050595e+02, -1.47077505154951170175e+02,
          -5.14105326766599330220e+01, -6.05014350600728481186e+00)
_J0_QQ = (6.43178256118178023184e+01, 8.56430025976980587198e+02, 3.88240183605401609683e+03,
          7.24046774195652478189e+03, 5.93072701187316984827e+03, 2.06209331660327847417e+03,
          2.42005740240291393179e+02)
_J0_RP = (-4.79443220978201773821e+09, 1.95617491946556577543e+12, -2.49248344360967716204e+14,
          9.70862251047306323952e+15)
_J0_RQ = (4.99563147152651017219e+02, 1.73785401676374683123e+05, 4.84409658339962045305e+07,
          1.11855537045356834862e+10, 2.11277520115489217587e+12, 3.10518229857422583814e+14,
          3.18121955943204943306e+16, 1.71086294081043136091e+18)
_Y0_YP = (1.55924367855235737965e+04, -1.46639295903971606143e+07, 5.43526477051876500413e+09,
          -9.82136065717911466409e+11, 8.75906394395366999549e+13, -3.46628303384729719441e+15,
          4.42733268572569800351e+16, -1.84950800436986690637e+16)
_Y0_YQ = (1.04128353664259848412e+03, 6.26107330137134956842e+05, 2.68919633393814121987e+08,
          8.64002487103935000337e+10, 2.02979612750105546709e+13, 3.17157752842975028269e+15,
          2.50596256172653059228e+17)
_J1_PP = (7.62125616208173112003e-04, 7.31397056940917570436e-02, 1.12719608129684925192e+00,
          5.11207951146807644818e+00, 8.42404590141772420927e+00, 5.21451598682361504063e+00,
          1.00000000000000000254e+00)
_J1_PQ = (5.71323128072548699714e-04, 6.88455908754495404082e-02, 1.10514232634061696926e+00,
          5.07386386128601488557e+00, 8.39985554327604159757e+00, 5.20982848682361821619e+00,
          9.99999999999999997461e-01)
_J1_QP = (5.10862594750176621635e-02, 4.98213872951233449420e+00, 7.58238284132545283818e+01,
          3.66779609360150777800e+02, 7.10856304998926107277e+02, 5.97489612400613639965e+02,
          2.11688757100572135698e+02, 2.52070205858023719784e+01)
_J1_QQ = (7.42373277035675149943e+01, 1.05644886038262816351e+03, 4.98641058337653607651e+03,
          9.56231892404756170795e+03, 7.99704160447350683650e+03, 2.82619278517639096600e+03,
          3.36093607810698293419e+02)
_J1_RP = (-8.99971225705559398224e+08, 4.52228297998194034323e+11, -7.27494245221818276015e+13,
          3.68295732863852883286e+15)
_J1_RQ = (6.20836478118054335476e+02, 2.56987256757748830383e+05, 8.35146791431949253037e+07,
          2.21511595479792499675e+10, 4.74914122079991414898e+12, 7.84369607876235854894e+14,
          8.95222336184627338078e+16, 5.32278620332680085395e+18)
_Y1_YP = (1.26320474790178026440e+09, -6.47355876379160291031e+11, 1.14509511541823727583e+14,
          -8.12770255501325109621e+15, 2.02439475713594898196e+17, -7.78877196265950026825e+17)
_Y1_YQ = (5.94301592346128195359e+02, 2.35564092943068577943e+05, 7.34811944459721705660e+07,
          1.87601316108706159478e+10, 3.88231277496238566008e+12, 6.20557727146953693363e+14,
          6.87141087355300489866e+16, 3.97270608116560655612e+18)
_TWO_OVER_PI = 0.636619772367581343075535053490057448
_SQRT_TWO_OVER_PI = 0.797884560802865355879892119868763737


def _polevl(x, coeffs):
    """Cephes' polevl: the polynomial with coefficients highest order first, by Horner's rule."""
    return _poly(x, coeffs[::-1])


def _bessel_far(x, order, second_kind):
    """J or Y of order 0 or 1 for x > 5 by the Hankel asymptotic form (Cephes)."""
    pp, pq, qp, qq = (_J0_PP, _J0_PQ, _J0_QP, _J0_QQ) if order == 0 else \
        (_J1_PP, _J1_PQ, _J1_QP, _J1_QQ)
    z = 25.0 / (x * x) if order == 0 else 5.0 / x * (5.0 / x)
    w = x - (0.785398163397448309615660845819875721 if order == 0
             else 2.356194490192344928846982537459627163)  # x - pi/4, x - 3 pi/4
    p, q = _polevl(z, pp) / _polevl(z, pq), _polevl(z, qp) / _polevl(z, qq)
    if second_kind:
        r = p * np.sin(w) + 5.0 / x * q * np.cos(w)
    else:
        r = p * np.cos(w) - 5.0 / x * q * np.sin(w)
    return r * _SQRT_TWO_OVER_PI / np.sqrt(x)


def bessel_j0_array(x):
    """J0(x) (even) of a flat float32 or float64 array, computed in its dtype."""
    a = np.abs(x)
    z = a * a
    near = (z - 5.78318596294678452118) * (z - 3.04712623436620863991e+01) \
        * _polevl(z, _J0_RP) / _polevl(z, _J0_RQ)
    near = np.where(a < 1e-5, 1.0 - z / 4.0, near)
    return np.where(a <= 5, near, _bessel_far(a, 0, False))


def bessel_j1_array(x):
    """J1(x) (odd) of a flat float32 or float64 array, computed in its dtype."""
    a = np.abs(x)
    z = a * a
    near = _polevl(z, _J1_RP) / _polevl(z, _J1_RQ) * a * (z - 1.46819706421238932572e+01) \
        * (z - 4.92184563216946036703e+01)
    r = np.where(a <= 5, near, _bessel_far(a, 1, False))
    return np.where(x < 0, -r, r)


def bessel_y0_array(x):
    """Y0(x) of a flat float32 or float64 array: -inf at 0, NaN for x < 0."""
    z = x * x
    near = _polevl(z, _Y0_YP) / _polevl(z, _Y0_YQ) + _TWO_OVER_PI * np.log(x) * bessel_j0_array(x)
    r = np.where(x <= 5, near, _bessel_far(x, 0, True))
    return np.where(x == 0, -np.inf, np.where(x < 0, np.nan, r)).astype(x.dtype, copy=False)


def bessel_y1_array(x):
    """Y1(x) of a flat float32 or float64 array: -inf at 0, NaN for x < 0."""
    z = x * x
    near = x * (_polevl(z, _Y1_YP) / _polevl(z, _Y1_YQ)) \
        + _TWO_OVER_PI * (bessel_j1_array(x) * np.log(x) - 1.0 / x)
    r = np.where(x <= 5, near, _bessel_far(x, 1, True))
    return np.where(x == 0, -np.inf, np.where(x < 0, np.nan, r)).astype(x.dtype, copy=False)


def _no_grad_special(name, input, fn, arg="input"):
    """fn (a kernel on flat float32 / float64 arrays) of a tensor, for the torch.special functions
    that PyTorch does not differentiate: the result does not require grad. Integer and bool
    inputs give the default float dtype; float16 is refused, as by PyTorch's CPU kernels. `arg`:
    the argument's name in PyTorch's error for a non-tensor."""
    x = _float(require_tensor(input, f"special_{name}", arg, 1))
    if x.dtype == np.float16:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Half'")
    with np.errstate(all="ignore"):
        r = fn(x._data.ravel())
    return Tensor._make(np.asarray(r, dtype=x.dtype).reshape(x.shape))


def bessel_j0(input):
    """J0(x), the Bessel function of the first kind of order 0 (no gradient, as in PyTorch)."""
    return _no_grad_special("bessel_j0", input, bessel_j0_array)


def bessel_j1(input):
    """J1(x), the Bessel function of the first kind of order 1 (no gradient, as in PyTorch)."""
    return _no_grad_special("bessel_j1", input, bessel_j1_array)


def bessel_y0(input):
    """Y0(x), the Bessel function of the second kind of order 0 (no gradient, as in PyTorch)."""
    return _no_grad_special("bessel_y0", input, bessel_y0_array)


def bessel_y1(input):
    """Y1(x), the Bessel function of the second kind of order 1 (no gradient, as in PyTorch)."""
    return _no_grad_special("bessel_y1", input, bessel_y1_array)


# ----- modified Bessel functions of the second kind K0, K1 (Cephes) ----------------------------
# Chebyshev expansions (coefficients highest order first, summed by _chbevl): on (0, 2] in
# x^2 - 2, plus the log term of the singularity at 0 (K0 = A(x^2 - 2) - log(x / 2) I0(x),
# K1 = log(x / 2) I1(x) + A(x^2 - 2) / x); beyond, e^-x / sqrt(x) B(8 / x - 2).
_K0_A = (1.37446543561352307156e-16, 4.25981614279661018399e-14, 1.03496952576338420167e-11,
         1.90451637722020886025e-09, 2.53479107902614945675e-07, 2.28621210311945178607e-05,
         1.26461541144692592338e-03, 3.59799365153615016266e-02, 3.44289899924628486886e-01,
         -5.35327393233902768720e-01)
_K0_B = (5.30043377268626276149e-18, -1.64758043015242134646e-17, 5.21039150503902756861e-17,
         -1.67823109680541210385e-16, 5.51205597852431940784e-16, -1.84859337734377901440e-15,
         6.34007647740507060557e-15, -2.22751332699166985548e-14, 8.03289077536357521100e-14,
         -2.98009692317273043925e-13, 1.14034058820847496303e-12, -4.51459788337394416547e-12,
         1.85594911495471785253e-11, -7.95748924447710747776e-11, 3.57739728140030116597e-10,
         -1.69753450938905987466e-09, 8.57403401741422608519e-09, -4.66048989768794782956e-08,
         2.76681363944501510342e-07, -1.83175552271911948767e-06, 1.39498137188764993662e-05,
         -1.28495495816278026384e-04, 1.56988388573005337491e-03, -3.14481013119645005427e-02,
         2.44030308206595545468e+00)
_K1_A = (-7.02386347938628759343e-18, -2.42744985051936593393e-15, -6.66690169419932900609e-13,
         -1.41148839263352776110e-10, -2.21338763073472585583e-08, -2.43340614156596823496e-06,
         -1.73028895751305206302e-04, -6.97572385963986435018e-03, -1.22611180822657148235e-01,
         -3.53155960776544875667e-01, 1.52530022733894777053e+00)
_K1_B = (-5.75674448366501715755e-18, 1.79405087314755922667e-17, -5.68946255844285935196e-17,
         1.83809354436663880070e-16, -6.05704724837331885336e-16, 2.03870316562433424052e-15,
         -7.01983709041831346144e-15, 2.47715442448130437068e-14, -8.97670518232499435011e-14,
         3.34841966607842919884e-13, -1.28917396095102890680e-12, 5.13963967348173025100e-12,
         -2.12996783842756842877e-11, 9.21831518760500529508e-11, -4.19035475934189648750e-10,
         2.01504975519703286596e-09, -1.03457624656780970260e-08, 5.74108412545004946722e-08,
         -3.50196060308781257119e-07, 2.40648494783721712015e-06, -1.93619797416608296024e-05,
         1.95215518471351631108e-04, -2.85781685962277938680e-03, 1.03923736576817238437e-01,
         2.72062619048444266945e+00)


def bessel_k_array(x, order, scaled):
    """K0 or K1 (order 0 or 1) of a flat float32 or float64 array, times e^x if `scaled`,
    computed in its dtype: inf at 0, NaN for x < 0."""
    a_coeffs, b_coeffs = (_K0_A, _K0_B) if order == 0 else (_K1_A, _K1_B)
    near = _chbevl(x * x - 2.0, a_coeffs)
    if order == 0 and not scaled:  # PyTorch takes this log in float64 (x / 2 may underflow)
        near = near - np.log(0.5 * x.astype(np.float64)) * bessel_i_array(x, 0, False)
    elif order == 0:
        near = near - np.log(0.5 * x) * bessel_i_array(x, 0, False)
    else:
        near = np.log(0.5 * x) * bessel_i_array(x, 1, False) + near / x
    far = _chbevl(8.0 / x - 2.0, b_coeffs)
    if scaled:
        near, far = near * np.exp(x), far / np.sqrt(x)
    else:
        far = np.exp(-x) * far / np.sqrt(x)
    r = np.where(x <= 2, near, far)
    return np.where(x == 0, np.inf, np.where(x < 0, np.nan, r)).astype(x.dtype, copy=False)


def modified_bessel_i0(input):
    """I0(x), the modified Bessel function of the first kind of order 0 (no gradient, unlike
    torch.special.i0)."""
    return _no_grad_special("modified_bessel_i0", input, lambda x: bessel_i_array(x, 0, False))


def modified_bessel_i1(input):
    """I1(x), the modified Bessel function of the first kind of order 1 (no gradient, unlike
    torch.special.i1)."""
    return _no_grad_special("modified_bessel_i1", input, lambda x: bessel_i_array(x, 1, False))


def modified_bessel_k0(input):
    """K0(x), the modified Bessel function of the second kind of order 0 (no gradient)."""
    return _no_grad_special("modified_bessel_k0", input, lambda x: bessel_k_array(x, 0, False))


def modified_bessel_k1(input):
    """K1(x), the modified Bessel function of the second kind of order 1 (no gradient)."""
    return _no_grad_special("modified_bessel_k1", input, lambda x: bessel_k_array(x, 1, False))


def scaled_modified_bessel_k0(input):
    """e^x K0(x): K0 scaled so that it does not underflow for large x (no gradient)."""
    return _no_grad_special("scaled_modified_bessel_k0", input,
                            lambda x: bessel_k_array(x, 0, True), "x")


def scaled_modified_bessel_k1(input):
    """e^x K1(x): K1 scaled so that it does not underflow for large x (no gradient)."""
    return _no_grad_special("scaled_modified_bessel_k1", input,
                            lambda x: bessel_k_array(x, 1, True), "x")


def spherical_bessel_j0_array(x):
    """j0(x) = sin(x) / x of a flat float array, by its Taylor series below |x| = 1/2 (where
    the quotient loses digits, and 0 / 0 at x = 0); 0 at +-inf."""
    z = x * x
    series = 1.0 + z * (-1.0 / 6.0 + z * (1.0 / 120.0 + z * (-1.0 / 5040.0 + z * (
        1.0 / 362880.0 + z * (-1.0 / 39916800.0 + z * (1.0 / 6227020800.0))))))
    r = np.where(np.abs(x) < 0.5, series, np.sin(x) / x)
    return np.where(np.isinf(x), 0.0, r).astype(x.dtype, copy=False)


def spherical_bessel_j0(input):
    """The spherical Bessel function of the first kind of order 0, sin(x) / x (no gradient)."""
    return _no_grad_special("spherical_bessel_j0", input, spherical_bessel_j0_array, "x")


# ----- the Airy function Ai (Cephes) ------------------------------------------------------------
# Coefficients highest order first: for x >= 2.09 Ai = e^-zeta / (2 sqrt(pi) x^(1/4)) AN/AD in
# 1 / zeta, zeta = 2/3 x^(3/2); below -2.09 the oscillating asymptotic form with AFN/AFD and
# AGN/AGD in z^2, z = 1 / zeta(-x); in between the Maclaurin series Ai = c1 f(x) - c2 g(x).
_AI_AN = (3.46538101525629032477e-01, 1.20075952739645805542e+01, 7.62796053615234516538e+01,
          1.68089224934630576269e+02, 1.59756391350164413639e+02, 7.05360906840444183113e+01,
          1.40264691163389668864e+01, 9.99999999999999995305e-01)
_AI_AD = (5.67594532638770212846e-01, 1.47562562584847203173e+01, 8.45138970141474626562e+01,
          1.77318088145400459522e+02, 1.64234692871529701831e+02, 7.14778400825575695274e+01,
          1.40959135607834029598e+01, 1.00000000000000000470e+00)
_AI_AFN = (-1.31696323418331795333e-01, -6.26456544431912369773e-01, -6.93158036036933542233e-01,
           -2.79779981545119124951e-01, -4.91900132609500318020e-02, -4.06265923594885404393e-03,
           -1.59276496239262096340e-04, -2.77649108155232920844e-06, -1.67787698489114633780e-08)
_AI_AFD = (1.33560420706553243746e+01, 3.26825032795224613948e+01, 2.67367040941499554804e+01,
           9.18707402907259625840e+00, 1.47529146771666414581e+00, 1.15687173795188044134e-01,
           4.40291641615211203805e-03, 7.54720348287414296618e-05, 4.51850092970580378464e-07)
_AI_AGN = (1.97339932091685679179e-02, 3.91103029615688277255e-01, 1.06579897599595591108e+00,
           9.39169229816650230044e-01, 3.51465656105547619242e-01, 6.33888919628925490927e-02,
           5.85804113048388458567e-03, 2.82851600836737019778e-04, 6.98793669997260967291e-06,
           8.11789239554389293311e-08, 3.41551784765923618484e-10)
_AI_AGD = (9.30892908077441974853e+00, 1.98352928718312140417e+01, 1.55646628932864612953e+01,
           5.47686069422975497931e+00, 9.54293611618961883998e-01, 8.64580826352392193095e-02,
           4.12656523824222607191e-03, 1.01259085116509135510e-04, 1.17166733214413521882e-06,
           4.91834570062930015649e-09)


def airy_ai_array(x):
    """Ai(x) of a flat float32 or float64 array, computed in its dtype: NaN at +-inf, 0 past
    x = 103.892 (where it underflows anyway)."""
    dt = x.dtype
    # x < -2.09: the oscillating form, with t = 2/3 (-x)^(3/2) + pi/4
    neg = np.where(x < -2.09, x, -3.0)
    zeta_neg = -2.0 * neg * np.sqrt(-neg) / 3.0
    z = 1.0 / zeta_neg
    zz = z * z
    f = 1.0 + zz * _polevl(zz, _AI_AFN) / _polevl(zz, _AI_AFD)
    g = z * _polevl(zz, _AI_AGN) / _polevl(zz, _AI_AGD)
    t = zeta_neg + 0.25 * dt.type(np.pi)
    oscillating = 5.64189583547756286948e-01 / np.sqrt(np.sqrt(-neg)) * (np.sin(t) * f
                                                                           - np.cos(t) * g)
    # x >= 2.09: the decaying form
    pos = np.where(x >= 2.09, x, 3.0)
    zeta = 2.0 * pos * np.sqrt(pos) / 3.0
    decaying = 5.64189583547756286948e-01 * (_polevl(1.0 / zeta, _AI_AN)
                                             / _polevl(1.0 / zeta, _AI_AD)) \
        / (2.0 * np.sqrt(np.sqrt(pos)) * np.exp(zeta))
    # in between: f = sum 3^k (1/3)_k x^3k / (3k)!, g = sum 3^k (2/3)_k x^(3k+1) / (3k+1)!, each
    # term from the previous one, until the terms of f no longer count (per element)
    mid = np.where(((x >= -2.09) & (x < 2.09)) | np.isnan(x), x, 0.0)
    cube = mid * mid * mid
    f_sum, g_sum, m, n = np.ones_like(mid), mid.copy(), np.ones_like(mid), mid.copy()
    live = np.arange(mid.size)
    k = 1
    eps = np.finfo(dt).eps
    while live.size:
        c = cube[live]
        m_l = m[live] * c / dt.type(k + 1) / dt.type(k + 2)
        n_l = n[live] * c / dt.type(k + 2) / dt.type(k + 3)
        m[live], n[live] = m_l, n_l
        f_sum[live] += m_l
        g_sum[live] += n_l
        k += 3
        live = live[np.abs(m_l / f_sum[live]) > eps]
    series = 0.355028053887817239260 * f_sum - 0.258819403792806798405 * g_sum
    r = np.where(x < -2.09, oscillating, np.where(x >= 2.09, decaying, series))
    r = np.where(x > 103.892, 0.0, r)
    return np.where(np.isinf(x), np.nan, r).astype(dt, copy=False)


def airy_ai(input):
    """Ai(x), the Airy function of the first kind (no gradient, as in PyTorch)."""
    return _no_grad_special("airy_ai", input, airy_ai_array, "x")


# ----- orthogonal polynomials -------------------------------------------------------------------
# PyTorch's kernels, in the common dtype of x and n (n truncated to an integer; NaN, inf and
# negative n give 0): closed forms at the ends of the interval, cos / sin of multiples of acos(x)
# inside it for large n (Chebyshev), else the three-term recurrence from p_0 = 1 and p_1.
def _three_term(x, n, first, step, needed):
    """p_n(x) for flat arrays x and n (int64) by p_(j+1) = step(j, x, p_j, p_(j-1)) for j = 1,
    ..., n - 1 from p_0 = 1 and p_1 = first, all elements at once (each stops at its own n, or
    once it is NaN), for the elements where `needed`; the others are left as p_1."""
    p, q = np.ones_like(x), np.array(np.broadcast_to(first, x.shape), dtype=x.dtype)
    live = np.flatnonzero(needed & (n >= 2))
    j = 1
    while live.size:
        r = step(j, x[live], q[live], p[live])
        p[live], q[live] = q[live], r
        j += 1
        live = live[(n[live] > j) & ~np.isnan(r)]
    return np.where(n == 0, x.dtype.type(1), q)


def _degree(n):
    """n (float) truncated to int64, as PyTorch's static_cast; NaN, +-inf and values beyond int64
    become -1 (on x86 PyTorch gets the most negative int64: also a negative degree)."""
    ok = np.isfinite(n) & (np.abs(n) < 2.0 ** 63)
    return np.where(ok, n, -1).astype(np.int64)


def chebyshev_array(kind, y, n, at_one, at_minus_one, threshold, shifted=False):
    """T, U, V or W (`kind`) of degree n at y (x, or 2x - 1 for the shifted polynomials, whose
    ends are x = 1 and x = 0: the masks at_one and at_minus_one)."""
    dt = y.dtype
    nf, odd = n.astype(dt), n % 2 == 1
    sign = np.where(odd, dt.type(-1), dt.type(1))
    two_y = y + y
    first = {"t": y, "u": two_y, "v": two_y - 1.0, "w": two_y + 1.0}[kind]
    trig = (n > threshold) & (np.abs(y) < 1)
    ends = at_one | at_minus_one
    out = _three_term(y, n, first, lambda j, y, q, p: (y + y) * q - p, ~(trig | ends))
    theta = np.arccos(np.where(trig, y, 0.0))
    if kind == "t":
        inside = np.cos(nf * theta)  # T_n(cos theta) = cos(n theta)
        one, minus_one = np.ones_like(y), sign
    elif kind == "u":  # U_n(cos theta) = sin((n + 1) theta) / sin(theta)
        s = np.sin(theta)
        inside = np.where(s != 0, np.sin((nf + 1) * theta) / s,
                          (nf + 1) * np.cos((nf + 1) * theta) / y)
        one, minus_one = nf + 1, sign * (nf + 1)
    elif kind == "v":  # V_n(cos theta) = cos((n + 1/2) theta) / cos(theta / 2)
        inside = np.where(np.sin(theta / 2) != 1, np.cos((nf + 0.5) * theta) / np.cos(theta / 2),
                          sign * (nf + nf + 1))
        one, minus_one = np.ones_like(y), sign * (nf + nf + 1)
    else:  # W_n(cos theta) = sin((n + 1/2) theta) / sin(theta / 2)
        at_zero_angle = sign if shifted else np.where(y > 0, nf + nf + 1, sign)
        inside = np.where(np.cos(theta / 2) != 1, np.sin((nf + 0.5) * theta) / np.sin(theta / 2),
                          at_zero_angle)
        one, minus_one = nf + nf + 1, sign
    out = np.where(trig, inside, out)
    out = np.where(at_one, one, np.where(at_minus_one, minus_one, out))
    return np.where(n < 0, dt.type(0), out).astype(dt, copy=False)


def hermite_array(x, n, physicists):
    """H_n (physicists') or He_n (probabilists'); NaN above degree 128 (float32) or 512
    (float64), where PyTorch gives up."""
    dt = x.dtype
    limit = 128 if dt == np.float32 else 512
    if physicists:  # H_(j+1) = 2x H_j - 2j H_(j-1)
        out = _three_term(x, n, x + x, lambda j, x, q, p: (x + x) * q - (2 * j) * p, n <= limit)
    else:  # He_(j+1) = x He_j - j He_(j-1)
        out = _three_term(x, n, x, lambda j, x, q, p: x * q - j * p, n <= limit)
    out = np.where(n > limit, dt.type(np.nan), out)
    return np.where(n < 0, dt.type(0), out).astype(dt, copy=False)


def laguerre_array(x, n):
    """L_n(x) by (j + 1) L_(j+1) = (2j + 1 - x) L_j - j L_(j-1); 1 at x = 0."""
    dt = x.dtype
    out = _three_term(x, n, 1.0 - x,
                      lambda j, x, q, p: (((2 * j) + (1.0 - x)) * q - j * p) / (j + 1), x != 0)
    out = np.where(x == 0, dt.type(1), out)
    return np.where(n < 0, dt.type(0), out).astype(dt, copy=False)


def legendre_array(x, n):
    """P_n(x) by (j + 1) P_(j+1) = (2j + 1) x P_j - j P_(j-1); +-1 at x = +-1."""
    dt = x.dtype
    ends = np.abs(x) == 1
    out = _three_term(x, n, x, lambda j, x, q, p: ((2 * j + 1) * x * q - j * p) / (j + 1), ~ends)
    out = np.where(ends, np.where((x > 0) | (n % 2 == 0), dt.type(1), dt.type(-1)), out)
    return np.where(n < 0, dt.type(0), out).astype(dt, copy=False)


def _polynomial(name, input, n, fn):
    """fn(x, degree) of x and n (tensors or numbers, broadcast; not both numbers) in their
    common float dtype. The result does not require grad: PyTorch has no gradient for these."""
    if not isinstance(input, Tensor) and not isinstance(n, Tensor):
        raise TypeError(f"special_{name}() received an invalid combination of arguments - got "
                        f"({type_name(input)}, {type_name(n)}), but expected one of: "
                        "(Tensor x, Tensor n), (Number x, Tensor n), (Tensor x, Number n)")
    x, degree = promote(input, n, floating=True)
    if x.dtype == np.float16:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Half'")
    shape = broadcast_shape(x.shape, degree.shape)
    a, d = (np.broadcast_to(t._data, shape).ravel() for t in (x, degree))
    with np.errstate(all="ignore"):
        r = fn(a, _degree(d))
    return Tensor._make(np.asarray(r, dtype=x.dtype).reshape(shape))


def _chebyshev(kind, threshold):
    def polynomial(input, n):
        return _polynomial(f"chebyshev_polynomial_{kind}", input, n, lambda x, n: chebyshev_array(
            kind, x, n, x == 1, x == -1, threshold))

    polynomial.__name__ = f"chebyshev_polynomial_{kind}"
    polynomial.__doc__ = f"The Chebyshev polynomial {kind.upper()}_n(input) of the " \
                         f"{_CHEBYSHEV_KINDS[kind]} kind (no gradient, as in PyTorch)."
    return polynomial


def _shifted_chebyshev(kind, threshold):
    def polynomial(input, n):
        return _polynomial(f"shifted_chebyshev_polynomial_{kind}", input, n,
                           lambda x, n: chebyshev_array(kind, x + x - 1.0, n, x == 1, x == 0,
                                                        threshold, shifted=True))

    polynomial.__name__ = f"shifted_chebyshev_polynomial_{kind}"
    polynomial.__doc__ = f"{kind.upper()}_n(2 input - 1), the Chebyshev polynomial of the " \
                         f"{_CHEBYSHEV_KINDS[kind]} kind shifted to [0, 1] (no gradient)."
    return polynomial


_CHEBYSHEV_KINDS = {"t": "first", "u": "second", "v": "third", "w": "fourth"}
chebyshev_polynomial_t = _chebyshev("t", 6)
chebyshev_polynomial_u = _chebyshev("u", 8)
chebyshev_polynomial_v = _chebyshev("v", 8)
chebyshev_polynomial_w = _chebyshev("w", 8)
shifted_chebyshev_polynomial_t = _shifted_chebyshev("t", 6)
shifted_chebyshev_polynomial_u = _shifted_chebyshev("u", 6)
shifted_chebyshev_polynomial_v = _shifted_chebyshev("v", 6)
shifted_chebyshev_polynomial_w = _shifted_chebyshev("w", 4)


def hermite_polynomial_h(input, n):
    """The physicists' Hermite polynomial H_n(input) (no gradient, as in PyTorch)."""
    return _polynomial("hermite_polynomial_h", input, n, lambda x, n: hermite_array(x, n, True))


def hermite_polynomial_he(input, n):
    """The probabilists' Hermite polynomial He_n(input) (no gradient, as in PyTorch)."""
    return _polynomial("hermite_polynomial_he", input, n,
                       lambda x, n: hermite_array(x, n, False))


def laguerre_polynomial_l(input, n):
    """The Laguerre polynomial L_n(input) (no gradient, as in PyTorch)."""
    return _polynomial("laguerre_polynomial_l", input, n, laguerre_array)


def legendre_polynomial_p(input, n):
    """The Legendre polynomial P_n(input) (no gradient, as in PyTorch)."""
    return _polynomial("legendre_polynomial_p", input, n, legendre_array)


# ----- sign and rounding: piecewise constant, so the gradient is zero ---------------------------
class _PiecewiseConstant(Function):
    """sign / floor / ceil / round / trunc. Their derivative is 0 wherever it exists, and PyTorch
    returns zeros (not None) as the gradient."""

    def __init__(self, fn, label):
        self.fn, self.grad_fn_name = fn, label + "Backward0"

    def forward(self, x):
        return self.fn(x)

    def backward(self, gy):
        return Tensor._make(np.zeros_like(gy._data))


def _piecewise(input, fn, label):
    x = as_tensor(input)
    if x.dtype.kind in "biu":  # already whole numbers: a copy, with the same dtype
        if label != "Sign":  # (PyTorch has no rounding kernel for bool)
            not_implemented_for(x, f"{label.lower()}_vml_cpu", kinds="b")
        return Tensor._make(fn(x._data) if label == "Sign" and x.dtype.kind != "b"
                            else x._data.copy())
    return _PiecewiseConstant(fn, label)(x)


def _sign_array(a):
    """-1, 0 or 1; like PyTorch, NaN and -0.0 give +0.0."""
    if a.dtype.kind != "f":
        return np.sign(a)
    return (a > 0).astype(a.dtype) - (a < 0).astype(a.dtype)


def sign(input):
    """-1, 0 or 1 (NaN gives 0, like PyTorch). Gradient 0."""
    return _piecewise(input, _sign_array, "Sign")


def sgn(input):
    """sign (for real tensors, the same; PyTorch's node has its own name)."""
    return renamed(sign(input), "SgnBackward0")


def floor(input):
    return _piecewise(input, np.floor, "Floor")


def ceil(input):
    return _piecewise(input, np.ceil, "Ceil")


def trunc(input):
    return _piecewise(input, np.trunc, "Trunc")


def fix(input):
    """trunc under NumPy's older name: rounds towards zero."""
    return trunc(input)


def round(input, *, decimals=0):
    """Round half to even (like PyTorch and NumPy), to `decimals` places."""
    if decimals == 0:
        return _piecewise(input, np.rint, "Round")
    return _piecewise(input, lambda a: np.round(a, decimals), "Round")


# ----- tests of values (bool results, no gradient) ----------------------------------------------
def _predicate(np_fn):
    def predicate(input):
        return Tensor._make(np.asarray(np_fn(as_tensor(input)._data)))

    predicate.__name__ = np_fn.__name__
    return predicate


isfinite = _predicate(np.isfinite)
isnan = _predicate(np.isnan)
isinf = _predicate(np.isinf)
isposinf = _predicate(np.isposinf)
isneginf = _predicate(np.isneginf)


def _all_any(np_fn, input, dim, keepdim):
    x = as_tensor(input)
    dims = normalize_dims(dim, x.ndim, np_fn.__name__, 2)
    if x.ndim == 0:
        dims = None
    r = np.asarray(np_fn(x._data, axis=dims, keepdims=keepdim))
    return Tensor._make(r.astype(np.uint8) if x.dtype == dtypes.uint8 else r)  # PyTorch's rule


@numpy_names
def all(input, dim=None, keepdim=False):
    """True where every element (over `dim`; None = all) is nonzero."""
    return _all_any(np.all, input, dim, keepdim)


@numpy_names
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
        num_classes = int(x._data.max()) + 1
    if x.numel():
        if x._data.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if x._data.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._make((x._data[..., None] == np.arange(num_classes)).astype(np.int64))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Sample category indices from rows of (unnormalised) probabilities; 1-D or 2-D input.

    PyTorch's CPU algorithms, so a seed gives PyTorch's samples:
    * one sample, or samples without replacement: the "exponential race" - category i arrives
      at time q_i / p_i with q_i ~ Exp(1); the first arrival is a draw with probabilities
      proportional to p, and the arrival order a draw without replacement. So: the largest
      p_i / q_i (argmax, or the top num_samples).
    * several samples with replacement: invert each row's cumulative distribution (normalised,
      last entry 1) at float64 uniforms u: the first category whose cdf >= u.
    Draws come from numpy2gpt's global generator (`manual_seed`) unless `generator` is given.
    """
    p = as_tensor(input)
    if p.dtype.kind != "f":
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{dtype_name(p.dtype)}")
    if p.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim (got a {p.ndim}-dim tensor)")
    if (isinstance(num_samples, bool | np.bool_) or not isinstance(num_samples, int | np.integer)
            and not (isinstance(num_samples, Tensor) and num_samples.numel() == 1
                     and num_samples.dtype.kind in "iu")):  # a one-element integer tensor will do
        kind = "Tensor" if isinstance(num_samples, Tensor) else type(num_samples).__name__
        raise TypeError(f"multinomial(): argument 'num_samples' (position 2) must be int, not "
                        f"{kind}")
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (num_samples={num_samples})")
    n_cat = p.shape[-1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           f"replacement ({num_samples} > {n_cat})")
    probs = p._data.reshape(-1, n_cat)
    totals = probs.sum(axis=-1, dtype=np.float64)  # inf or NaN anywhere makes it non-finite
    if not np.isfinite(totals).all() or (probs < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (totals <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = resolve(generator)
    if num_samples == 1 or not replacement:
        q = rng.exponential(probs.shape, dtype=probs.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            race = probs / q  # q = 0 has probability 2^-53 (PyTorch does the same)
        if num_samples == 1:
            out = np.argmax(race, axis=-1)[:, None]
        else:
            out = np.argsort(-race, axis=-1, kind="stable")[:, :num_samples]
    else:
        cdf = np.cumsum(probs, axis=-1)  # in the input's dtype, left to right, as PyTorch
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1  # u < 1 always finds a category
        u = rng.uniform((probs.shape[0], num_samples), dtype=np.float64)  # row by row
        out = np.stack([np.searchsorted(c, row, side="left") for c, row in zip(cdf, u)])
    return Tensor._make(out.astype(np.int64).reshape(p.shape[:-1] + (num_samples,)))


# ----- logical and bitwise not (bool results, no gradient) --------------------------------------
def logical_not(input):
    """True where input is zero (any dtype; NaN counts as nonzero, like PyTorch)."""
    x = require_tensor(input, "logical_not", "input", 1)
    return Tensor._make(np.asarray(np.logical_not(x._data)))


def _logical(np_fn, name):
    def logical(input, other):
        a = require_tensor(input, name, "input", 1)
        b = require_tensor(other, name, "other", 2)
        broadcast_shape(a.shape, b.shape)  # PyTorch's error for shapes that do not broadcast
        return Tensor._make(np.asarray(np_fn(a._data, b._data)))

    logical.__name__ = name
    logical.__doc__ = f"Elementwise {name.split('_')[1].upper()} of input != 0 and other != 0 " \
                      "(broadcast; a bool tensor)."
    return logical


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")


def bitwise_not(input):
    """~x: logical not for bool tensors, two's-complement bitwise not for integer tensors."""
    x = require_tensor(input, "bitwise_not", "input", 1)
    if x.dtype.kind not in "biu":
        name = {"float16": "Half", "float32": "Float", "float64": "Double"}.get(x.dtype.name,
                                                                              x.dtype.name)
        raise NotImplementedError(f'"bitwise_not_cpu" not implemented for \'{name}\'')
    return Tensor._make(np.asarray(np.invert(x._data)))


def _bitwise(np_fn, name):
    def bitwise(input, other):
        if not isinstance(input, Tensor) and not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        a, b = promote(input, other)  # PyTorch's dtypes: bool & bool is bool, int & bool is int
        if a.dtype.kind not in "biu":
            raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                      f"'{_TENSOR_TYPES[a.dtype.name]}'")
        broadcast_shape(a.shape, b.shape)  # PyTorch's error for shapes that do not broadcast
        return Tensor._make(np.asarray(np_fn(a._data, b._data)))

    bitwise.__name__ = name
    bitwise.__doc__ = (f"Elementwise {name.split('_')[1].upper()} of the bits of two integer "
                       "tensors (of the truth values for bool tensors), broadcast; also as the "
                       f"operator {_OPERATORS[name]}.")
    return bitwise


_OPERATORS = {"bitwise_and": "&", "bitwise_or": "|", "bitwise_xor": "^"}
bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def _shift(np_fn, name, kernel):
    """bitwise_left_shift / bitwise_right_shift (<< and >>) of integer tensors, broadcast, with
    PyTorch's results for a shift of the whole width or more: 0 (left), 0 or -1 (right, by sign)."""
    def shift(input, other):
        if not isinstance(input, Tensor) and not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        a, b = promote(input, other)
        if a.dtype.kind == "b":  # bool << bool: as integers
            a, b = (Tensor._make(t._data.astype(np.int64)) for t in (a, b))
        if a.dtype.kind not in "iu":
            raise NotImplementedError(f'"{kernel}" not implemented for '
                                      f"'{_TENSOR_TYPES[a.dtype.name]}'")
        broadcast_shape(a.shape, b.shape)
        x, n = a._data, b._data
        width = x.dtype.itemsize * 8
        out = np_fn(x, np.minimum(n, width - 1).astype(x.dtype))
        negative = x < 0 if np_fn is np.right_shift and x.dtype.kind == "i" else False
        beyond = np.where(negative, -1, 0).astype(x.dtype)  # what shifting the whole width gives
        return Tensor._make(np.asarray(np.where(n >= width, beyond, out), dtype=x.dtype))

    shift.__name__ = name
    return shift


bitwise_left_shift = _shift(np.left_shift, "bitwise_left_shift", "lshift_cpu")
bitwise_right_shift = _shift(np.right_shift, "bitwise_right_shift", "rshift_cpu")


def _bitwise_in_place(fn):
    """t &= other (|=, ^=): the result written into t's own memory, as PyTorch's in-place op."""
    def in_place(self, other):
        from .inplace import _write

        result = fn(self, other)
        if self.dtype.kind == "b" and result.dtype.kind != "b":  # an integer into bool: no
            raise RuntimeError(f"result type {_TENSOR_TYPES[result.dtype.name]} can't be cast to "
                               "the desired output type Bool")
        return _write(self, result._data)

    return in_place


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _invert(self):
    if self.dtype.kind not in "biu":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(self)


TENSOR_METHODS = {
    "erf": erf, "erfc": erfc, "exp2": exp2, "log1p": log1p, "expm1": expm1, "sign": sign,
    "sgn": sgn, "floor": floor, "ceil": ceil, "trunc": trunc, "fix": fix, "round": round,
    "isfinite": isfinite, "isnan": isnan, "isinf": isinf, "isposinf": isposinf,
    "isneginf": isneginf, "all": all, "any": any, "multinomial": multinomial,
    "logical_not": logical_not, "logical_and": logical_and, "logical_or": logical_or,
    "logical_xor": logical_xor, "bitwise_not": bitwise_not, "__invert__": _invert,
    "bitwise_and": bitwise_and, "bitwise_or": bitwise_or, "bitwise_xor": bitwise_xor,
    "erfinv": erfinv, "lgamma": lgamma, "digamma": digamma, "mvlgamma": mvlgamma,
    "polygamma": lambda self, n: polygamma(n, self),
    "i0": i0, "igamma": igamma, "igammac": igammac,
    **{name + "_": _method_in_place(name) for name in ("erfinv", "lgamma", "digamma", "mvlgamma",
                                                       "polygamma", "fix", "i0", "igamma",
                                                       "igammac")},
    "__and__": bitwise_and, "__or__": bitwise_or, "__xor__": bitwise_xor,
    "__rand__": _reflected(bitwise_and), "__ror__": _reflected(bitwise_or),
    "__rxor__": _reflected(bitwise_xor), "__iand__": _bitwise_in_place(bitwise_and),
    "__ior__": _bitwise_in_place(bitwise_or), "__ixor__": _bitwise_in_place(bitwise_xor),
    "bitwise_left_shift": bitwise_left_shift, "bitwise_right_shift": bitwise_right_shift,
    "__lshift__": bitwise_left_shift, "__rshift__": bitwise_right_shift,
    "__rlshift__": _reflected(bitwise_left_shift), "__rrshift__": _reflected(bitwise_right_shift),
    "__ilshift__": _bitwise_in_place(bitwise_left_shift),
    "__irshift__": _bitwise_in_place(bitwise_right_shift),
    "bitwise_left_shift_": _bitwise_in_place(bitwise_left_shift),
    "bitwise_right_shift_": _bitwise_in_place(bitwise_right_shift),
}
__all__ = ["erf", "erfc", "exp2", "log1p", "expm1", "sign", "sgn", "floor", "ceil", "trunc",
           "fix", "round", "i0", "isfinite", "isnan", "isinf", "isposinf", "isneginf", "all", "any",
           "one_hot", "multinomial", "logical_not", "logical_and", "logical_or", "logical_xor",
           "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
           "bitwise_right_shift", "erfinv", "lgamma",
           "digamma", "polygamma", "mvlgamma", "igamma", "igammac"]
