"""GELU, exact and tanh: gelu(x) = x * Phi(x), Phi the standard normal CDF.

    y, d = gelu_forward(x, approximate="none", need_grad=True)   # d = dy/dx (None without grad)
    gx = gelu_backward(gy, d)                                     # gx = gy * dy/dx

Forward computes the derivative too, while x is at hand, so backward is a single multiply and
only d is kept for it. Both backends hand the same thing (d) from forward to backward.
"""

import functools
import math
import time
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
        on_blocks = functools.partial(_gelu_float32, gather_rows=_gather_rows())
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
_PIECES_PER_UNIT = 128  # pieces centred on the grid x_k = k h, h = 1/128 (a power of two)
_RANGE = 16  # the table covers [-16, 16]; Phi(-16) ~ 6e-58 is 0 in float32, Phi(16) is 1
_TABLE_SIZE = 8192  # 4097 pieces, padded to a power of two: any index & 8191 is in the table
# x + _ROUND rounds x to the grid: float32's spacing in [2^16, 2^17) is 2^-7 = h, and for
# |x| <= 16 the sum lies there, so its low mantissa bits count grid steps from -16 (the index).
_ROUND = 2.0 ** 16 + _RANGE


@functools.cache
def _phi_pieces():
    """Phi on [-16, 16] as 4097 cubic pieces, plus flat padding pieces Phi = 1.

    Piece k is centred on x_k = -16 + k h and covers [x_k - h/2, x_k + h/2], in which, with
    w = x - x_k, Phi(x) ~ c0 + c1 w + c2 w^2 + c3 w^3: the cubic Hermite interpolant, which
    matches Phi and its slope phi at both ends. Its error is at most (h/2)^4 / 24 max|Phi''''|,
    under 1e-11 (3e-7 relatively far in the left tail, at x = -13), and its derivative is phi
    to a few 1e-9. Returns the table twice, as float32 rows (8192, 4) [c0 c1 c2 c3] and as
    columns (4, 8192): the two layouts `_gelu_float32` can gather from."""
    h = 1.0 / _PIECES_PER_UNIT
    e = h / 2  # the half width of a piece
    centre = (np.arange(2 * _RANGE * _PIECES_PER_UNIT + 1) - _RANGE * _PIECES_PER_UNIT) * h
    ends = centre - e, centre + e
    p0, p1 = (0.5 * erfc_array(-v * _SQRT1_2) for v in ends)  # Phi (fdlibm's erfc, float64)
    m0, m1 = (np.exp(-0.5 * v * v) * _INV_SQRT_2PI for v in ends)  # phi, the slopes
    # the cubic with values p0, p1 and slopes m0, m1 at w = -e, +e (sums and differences of
    # those four conditions give one coefficient each)
    c2 = (m1 - m0) / (4 * e)
    c0 = (p0 + p1) / 2 - c2 * e * e
    c3 = (e * (m0 + m1) - (p1 - p0)) / (4 * e ** 3)
    c1 = (m0 + m1) / 2 - 3 * c3 * e * e
    rows = np.zeros((_TABLE_SIZE, 4))
    rows[:centre.size] = np.stack([c0, c1, c2, c3], axis=1)
    rows[centre.size:, 0] = 1.0  # padding: only NaN's garbage index lands there
    rows = rows.astype(np.float32)
    return rows, np.ascontiguousarray(rows.T)


@functools.cache
def _piece_consts():
    return (np.array(_RANGE, np.float32), np.array(_ROUND, np.float32),
            np.array(_TABLE_SIZE - 1, np.int32))


def _gelu_float32(x, y, d, blocks, gather_rows):
    """y = gelu(x) = x Phi(x) and, if d is not None, d = dy/dx = Phi(x) + x phi(x), for 1-D
    float32 arrays, from the table of cubic pieces (within a few ulp of the exact values).

    Fewer passes than a textbook lookup: x is rounded to the grid by one addition (`_ROUND`),
    whose bits are the piece's index, so no floor and no float-to-integer conversion; w, the
    offset from the piece's centre, is in units of x, so no scaling. Looking coefficients up
    (`take`) costs as much as several multiplies, so phi comes from the same four as Phi:
    Horner's rule runs for the cubic and its derivative together (q = dPhi/dx = phi).

    The four coefficients come either from one take of the table's rows (an element's four
    coefficients side by side, then read with a stride) or from four takes of its columns
    (contiguous). Which is faster depends on the CPU (one gather vs four, strided vs
    contiguous reads), so `_gather_rows()` measures it once, and `gather_rows` says which. Both
    do the same arithmetic on the same values: the same bits.

    NaN gives NaN; beyond +-16 the end pieces give Phi = 0 or 1 (so gelu(-inf) is NaN,
    -inf * 0, as in PyTorch)."""
    rows, columns = _phi_pieces()
    limit, to_grid, mask = _piece_consts()
    step = max(1, min(x.size, BLOCK))
    xc, t, w = (np.empty(step, np.float32) for _ in range(3))
    k = np.empty(step, np.intp)
    coef = np.empty((step, 4) if gather_rows else (4, step), np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        for lo, hi in blocks:
            xb, yb = x[lo:hi], y[lo:hi]
            m = xb.size
            xcb, tb, wb, kb = xc[:m], t[:m], w[:m], k[:m]
            np.clip(xb, -limit, limit, xcb)  # (NaN stays NaN)
            np.add(xcb, to_grid, tb)  # x rounded to the grid, plus _ROUND
            np.subtract(tb, to_grid, wb)  # the piece's centre x_k (exact)
            np.subtract(xcb, wb, wb)  # w = x - x_k, exact: the two are within h/2
            bits = tb.view(np.int32)
            np.bitwise_and(bits, mask, bits)  # the index k (NaN's is garbage, and in the table)
            np.copyto(kb, bits)  # take's index type
            # (take's "wrap" mode is its fastest; every index is valid, so nothing wraps)
            if gather_rows:
                cb = rows.take(kb, axis=0, out=coef[:m], mode="wrap")
                c0, c1, c2, c3 = cb[:, 0], cb[:, 1], cb[:, 2], cb[:, 3]
            else:
                c0, c1, c2, c3 = (col.take(kb, out=out[:m], mode="wrap")
                                  for col, out in zip(columns, coef))
            # Horner, y <- y w + c_j, and for the derivative q <- q w + y before each step
            qb = xcb  # x's clipped copy is done with: its buffer takes q
            np.multiply(c3, wb, tb)
            np.add(tb, c2, yb)  # y = c3 w + c2
            if d is not None:
                np.add(tb, yb, qb)  # q = 2 c3 w + c2
            np.multiply(yb, wb, yb)
            np.add(yb, c1, yb)  # y = c3 w^2 + c2 w + c1
            if d is not None:
                np.multiply(qb, wb, qb)
                np.add(qb, yb, qb)  # q = 3 c3 w^2 + 2 c2 w + c1 = dPhi/dx = phi
            np.multiply(yb, wb, yb)
            np.add(yb, c0, yb)  # y = Phi
            if d is not None:  # d = Phi + x phi (NaN at +-inf, as in PyTorch)
                db = d[lo:hi]
                np.multiply(qb, xb, db)
                np.add(db, yb, db)
            np.multiply(yb, xb, yb)


@functools.cache
def _gather_rows():
    """True if one take of the table's rows beats four takes of its columns on this CPU.

    Measured once per process, on this thread's CPU time (so another process using the core
    does not count), as the better of three alternating runs of each on 4 blocks of normal
    samples. Either answer gives the same bits; a wrong one only costs some speed."""
    x = np.random.default_rng(0).standard_normal(4 * BLOCK).astype(np.float32)
    y, d = np.empty_like(x), np.empty_like(x)
    blocks = [(lo, lo + BLOCK) for lo in range(0, x.size, BLOCK)]
    best = {True: math.inf, False: math.inf}
    for _ in range(3):
        for rows in best:
            start = time.thread_time()
            _gelu_float32(x, y, d, blocks, gather_rows=rows)
            best[rows] = min(best[rows], time.thread_time() - start)
    return best[True] <= best[False]


gelu_forward = switch(gelu_forward_reference, gelu_forward_fast)
gelu_backward = switch(gelu_backward_reference, gelu_backward_fast)

__all__ = ["gelu_backward", "gelu_forward"]
