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
from types import SimpleNamespace

import numpy as np

from .. import dtypes
from ..autograd.function import _TENSOR_TYPES, Function
from ..dtypes import dtype_name
from ..kernels.threads import BLOCK
from ..random import resolve
from ..tensor import Tensor, as_tensor
from ._util import broadcast_shape, normalize_dims, numpy_names, promote, require_tensor
from .elementwise import _float

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
    dims = normalize_dims(dim, x.ndim)
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
    "sgn": sgn, "floor": floor, "ceil": ceil, "trunc": trunc, "round": round,
    "isfinite": isfinite, "isnan": isnan, "isinf": isinf, "isposinf": isposinf,
    "isneginf": isneginf, "all": all, "any": any, "multinomial": multinomial,
    "logical_not": logical_not, "logical_and": logical_and, "logical_or": logical_or,
    "logical_xor": logical_xor, "bitwise_not": bitwise_not, "__invert__": _invert,
    "bitwise_and": bitwise_and, "bitwise_or": bitwise_or, "bitwise_xor": bitwise_xor,
    "__and__": bitwise_and, "__or__": bitwise_or, "__xor__": bitwise_xor,
    "__rand__": _reflected(bitwise_and), "__ror__": _reflected(bitwise_or),
    "__rxor__": _reflected(bitwise_xor), "__iand__": _bitwise_in_place(bitwise_and),
    "__ior__": _bitwise_in_place(bitwise_or), "__ixor__": _bitwise_in_place(bitwise_xor),
}
__all__ = ["erf", "erfc", "exp2", "log1p", "expm1", "sign", "sgn", "floor", "ceil", "trunc",
           "round", "isfinite", "isnan", "isinf", "isposinf", "isneginf", "all", "any",
           "one_hot", "multinomial", "logical_not", "logical_and", "logical_or", "logical_xor",
           "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor"]
