"""GELU, exact and tanh: gelu(x) = x * Phi(x), Phi the standard normal CDF.

    y, d = gelu_forward(x, approximate="none", need_grad=True)   # d = dy/dx (None without grad)
    gx = gelu_backward(gy, d)                                     # gx = gy * dy/dx

Forward computes the derivative too, while x is at hand, so backward is a single multiply and
only d is kept for it. Both backends hand the same thing (d) from forward to backward.
"""

import functools
import math
from types import SimpleNamespace

import numpy as np

from ..ops.special import erf_array, erf_into, erfc_array
from . import switch
from .threads import BLOCK, parallel_blocks

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_KAPPA = 0.044715


# ----- reference ---------------------------------------------------------------------------------
def gelu_forward_reference(x, approximate="none", need_grad=False):
    """gelu(x) and, if need_grad, its derivative d = dy/dx, from the textbook formulas:

        exact:  y = x Phi(x),  Phi(x) = (1 + erf(x / sqrt 2)) / 2
        tanh:   y = x (1 + tanh(u)) / 2,  u = sqrt(2 / pi) (x + 0.044715 x^3)

    computed in x's dtype (float16 in float32, then rounded back). Returns (y, d or None)."""
    dtype = x.dtype
    x = x.astype(np.promote_types(dtype, np.float32))
    with np.errstate(over="ignore", invalid="ignore"):  # x^3 overflows; -inf * 0 is NaN
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_PI * (x + _KAPPA * x ** 3))
            y = x * (1 + t) / 2
            # dy/dx = (1 + t) / 2 + x (1 - t^2) / 2 * du/dx,
            #   du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
            d = (1 + t) / 2 + x * (1 - t * t) / 2 * (_SQRT_2_PI * (1 + 3 * _KAPPA * x * x))
        else:
            phi_cdf = (1 + erf_array(x * _SQRT1_2)) / 2
            y = x * phi_cdf
            # dy/dx = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi) the normal density
            d = phi_cdf + x * (np.exp(-x * x / 2) * _INV_SQRT_2PI)
    return _back_to(y, dtype), (_back_to(d, dtype) if need_grad else None)


def gelu_backward_reference(gy, d):
    """The chain rule: dL/dx = dL/dy * dy/dx, with dy/dx = d from the forward."""
    return gy * d


def _back_to(a, dtype):
    return np.asarray(a).astype(dtype, copy=False)


# ----- fast --------------------------------------------------------------------------------------
@functools.cache
def _consts(dtype):
    """GELU's constants as 0-d arrays of `dtype` (cheaper ufunc operands than Python floats)."""
    return SimpleNamespace(**{name: np.array(v, dtype) for name, v in dict(
        half=0.5, minus_half=-0.5, one=1.0, inv_sqrt_2pi=_INV_SQRT_2PI, sqrt_2_pi=_SQRT_2_PI,
        kappa=_KAPPA, three_kappa_sqrt_2_pi=3 * _KAPPA * _SQRT_2_PI).items()})


def gelu_forward_fast(x, approximate="none", need_grad=False):
    """The reference's y and d, block by block while a block of x is still in cache, on threads.

    All arithmetic happens in place in the output arrays and in block-sized temporaries (fresh
    large arrays cost page faults), in x's dtype (float16 is computed in float32), one block of
    BLOCK elements after another on `parallel_blocks`' threads. The exact form takes Phi from
    fdlibm's erf in float64 and from a table of cubic pieces in float32 (`_gelu_float32`), each
    to its dtype's last few bits."""
    work = np.float64 if x.dtype == np.float64 else np.float32
    xw = x.reshape(-1).astype(work, copy=False)  # a flat view (a copy if x is not contiguous)
    y = np.empty_like(xw)
    d = np.empty_like(xw) if need_grad else None
    if approximate == "tanh":
        on_blocks = _gelu_tanh
    elif work == np.float32:
        on_blocks = _gelu_float32
    else:
        on_blocks = _gelu_float64
    parallel_blocks(xw.size, BLOCK, functools.partial(on_blocks, xw, y, d))
    y = y.astype(x.dtype, copy=False).reshape(x.shape)
    return y, None if d is None else d.astype(x.dtype, copy=False).reshape(x.shape)


def gelu_backward_fast(gy, d):
    """gy * d, block by block on threads when both are large and alike (same shape and dtype,
    contiguous): a large multiply is bound by memory traffic, which two cores stream faster."""
    if gy.size <= BLOCK or gy.shape != d.shape or gy.dtype != d.dtype or \
            not (gy.flags.c_contiguous and d.flags.c_contiguous):
        return gy * d
    out = np.empty_like(gy)
    g, dd, o = gy.reshape(-1), d.reshape(-1), out.reshape(-1)

    def work(blocks):
        for lo, hi in blocks:
            np.multiply(g[lo:hi], dd[lo:hi], o[lo:hi])

    parallel_blocks(g.size, BLOCK, work)
    return out


def _gelu_float64(x, y, d, blocks):
    """y = gelu(x) and (if d is not None) d = dy/dx on each block, Phi through fdlibm's erf."""
    k = _consts(x.dtype)
    tmp = np.empty(min(x.size, BLOCK), dtype=x.dtype)
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        for lo, hi in blocks:
            xb, yb = x[lo:hi], y[lo:hi]
            erf_into(xb, yb, scale=_SQRT1_2)  # y = erf(x / sqrt 2) for now
            np.multiply(yb, k.half, yb)
            np.add(yb, k.half, yb)  # Phi(x) = (1 + erf(x / sqrt 2)) / 2
            if d is not None:
                # dy/dx = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi) the density
                t = np.multiply(xb, xb, tmp[:xb.size])
                np.multiply(t, k.minus_half, t)
                np.exp(t, t)
                np.multiply(t, k.inv_sqrt_2pi, t)
                np.multiply(t, xb, t)
                np.add(yb, t, d[lo:hi])
            np.multiply(yb, xb, yb)


def _gelu_tanh(x, y, d, blocks):
    """y = x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3); d gets dy/dx."""
    k = _consts(x.dtype)
    m = min(x.size, BLOCK)
    t, w = np.empty(m, dtype=x.dtype), np.empty(m, dtype=x.dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # x^3 overflows; inf * 0 is NaN
        for lo, hi in blocks:
            xb, yb = x[lo:hi], y[lo:hi]
            tb = np.multiply(xb, xb, t[:xb.size])
            np.multiply(tb, k.kappa, tb)
            np.add(tb, k.one, tb)
            np.multiply(tb, xb, tb)
            np.multiply(tb, k.sqrt_2_pi, tb)
            np.tanh(tb, tb)  # t = tanh(u)
            np.multiply(tb, k.half, yb)
            np.add(yb, k.half, yb)  # (1 + t) / 2
            if d is not None:
                # dy/dx = (1 + t) / 2 + x (1 - t^2) / 2 u',  u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
                wb = np.multiply(xb, xb, w[:xb.size])
                np.multiply(wb, k.three_kappa_sqrt_2_pi, wb)
                np.add(wb, k.sqrt_2_pi, wb)  # u'
                np.multiply(wb, xb, wb)
                np.multiply(tb, tb, tb)
                np.subtract(k.one, tb, tb)  # 1 - t^2
                np.multiply(tb, k.half, tb)
                np.multiply(wb, tb, wb)
                np.add(yb, wb, d[lo:hi])
            np.multiply(yb, xb, yb)


# ----- exact GELU in float32: Phi from a table of cubic pieces --------------------------------
# In float32 the exact GELU does not need erf's rational approximations (about 30 NumPy passes
# per element, plus a gather for |x| >= 1.19): Phi is smooth, so a table of cubic pieces on a
# fine grid gives it to float32's last bits in fewer passes, and per call on a small array
# (sampling runs one token at a time) in a third of the time.
_PIECES_PER_UNIT = 128  # grid step h = 1/128
_HALF_PIECES = 16 * _PIECES_PER_UNIT  # the table covers [-16, 16]; Phi(-16) ~ 6e-58 is 0 in float32
_TABLE_SIZE = 8192  # 4097 pieces, padded to a power of two: any index & 8191 is in the table


@functools.cache
def _phi_pieces():
    """Phi on [-16, 16] as 4096 cubic pieces, plus flat pieces Phi = 1 for x >= 16.

    Piece k covers [x_k, x_k + h], x_k = -16 + k h, and is the cubic Hermite interpolant of Phi:
    it matches Phi and its slope phi at both ends. With u = (x - x_k) / h in [0, 1],
        Phi(x) ~ c0 + c1 u + c2 u^2 + c3 u^3.
    The interpolation error is at most h^4 / 384 max|Phi''''| < 6e-12, and about 2e-9 for its
    derivative (phi): far below float32's resolution. Returns (c0, c1, c2, c3), float32 arrays."""
    x = (np.arange(2 * _HALF_PIECES + 1) - _HALF_PIECES) / _PIECES_PER_UNIT
    p = 0.5 * erfc_array(-x * _SQRT1_2)  # Phi at the nodes (fdlibm's erfc, in float64)
    m = np.exp(-0.5 * x * x) * (_INV_SQRT_2PI / _PIECES_PER_UNIT)  # h phi: slopes per unit of u
    p0, p1, m0, m1 = p[:-1], p[1:], m[:-1], m[1:]
    c2 = 3 * (p1 - p0) - 2 * m0 - m1  # the Hermite cubic's coefficients
    c3 = 2 * (p0 - p1) + m0 + m1
    pad = _TABLE_SIZE - p0.size  # the flat last piece, and padding
    return tuple(np.append(c, np.full(pad, end)).astype(np.float32)
                 for c, end in zip((p0, m0, c2, c3), (1.0, 0.0, 0.0, 0.0)))


@functools.cache
def _piece_consts():
    return (np.array(_PIECES_PER_UNIT, np.float32), np.array(_HALF_PIECES, np.float32),
            np.array(_TABLE_SIZE - 1, np.intp))


def _gelu_float32(x, y, d, blocks):
    """y = gelu(x) = x Phi(x) and, if d is not None, d = dy/dx = Phi(x) + x phi(x), for 1-D
    float32 arrays, from the table of cubic pieces (within a few ulp of the exact values).

    Looking coefficients up (`take`) costs as much as several multiplies, so phi comes from the
    same four as Phi: Horner's rule runs for the cubic and its derivative together (q = dPhi/du,
    and phi = q / h). NaN gives NaN; beyond +-16 the end pieces give Phi = 0 or 1 (so
    gelu(-inf) is NaN, -inf * 0, as in PyTorch)."""
    c0, c1, c2, c3 = _phi_pieces()
    per_unit, half, mask = _piece_consts()
    step = max(1, min(x.size, BLOCK))
    a, u, c, q = (np.empty(step, np.float32) for _ in range(4))
    k = np.empty(step, np.intp)
    with np.errstate(invalid="ignore", over="ignore"):
        for lo, hi in blocks:
            xb, yb = x[lo:hi], y[lo:hi]
            m = xb.size
            ab, ub, cb, qb, kb = a[:m], u[:m], c[:m], q[:m], k[:m]
            np.multiply(xb, per_unit, ab)  # x / h (exact: h is a power of two)
            np.clip(ab, -half, half, cb)
            np.add(cb, half, ub)
            np.floor(ub, ub)  # the piece's index, as a float
            np.copyto(kb, ub, casting="unsafe")
            np.bitwise_and(kb, mask, kb)  # a no-op, except on NaN's garbage index (its u is NaN)
            np.subtract(ub, half, ub)
            np.subtract(cb, ub, ub)  # u, exact: the two are within a step of each other
            # Horner, y <- y u + c_j, and for the derivative q <- q u + y before each step
            # (take's "wrap" mode is its fastest; every index is valid, so nothing wraps)
            c3.take(kb, out=cb, mode="wrap")
            np.multiply(cb, ub, yb)
            np.add(yb, c2.take(kb, out=qb, mode="wrap"), yb)  # y = c3 u + c2
            if d is not None:
                np.multiply(cb, ub, qb)
                np.add(qb, yb, qb)  # q = 2 c3 u + c2
            np.multiply(yb, ub, yb)
            np.add(yb, c1.take(kb, out=cb, mode="wrap"), yb)  # y = c3 u^2 + c2 u + c1
            if d is not None:
                np.multiply(qb, ub, qb)
                np.add(qb, yb, qb)  # q = 3 c3 u^2 + 2 c2 u + c1 = dPhi/du
            np.multiply(yb, ub, yb)
            np.add(yb, c0.take(kb, out=cb, mode="wrap"), yb)  # y = Phi
            if d is not None:  # d = Phi + x phi = Phi + (x / h) q (NaN at +-inf, as in PyTorch)
                db = d[lo:hi]
                np.multiply(qb, ab, db)
                np.add(db, yb, db)
            np.multiply(yb, xb, yb)


gelu_forward = switch(gelu_forward_reference, gelu_forward_fast)
gelu_backward = switch(gelu_backward_reference, gelu_backward_fast)

__all__ = ["gelu_backward", "gelu_forward"]
