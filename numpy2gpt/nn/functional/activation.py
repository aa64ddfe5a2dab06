"""Activations (gelu, silu, leaky_relu, relu) plus the small elementwise helpers dropout, pad and
mse_loss.

gelu, silu and leaky_relu are FusedFunctions: forward saves what the derivative needs, backward is
the derivative written out (formulas in the comments), so one node replaces a chain of primitive
ops. The arithmetic stays in the input's dtype (float32 stays float32).
"""

import functools
import math
import warnings
from types import SimpleNamespace

import numpy as np

from ...autograd.function import FusedFunction
from ...autograd.grad_mode import is_grad_enabled
from ...dtypes import dtype_name
from ...ops.elementwise import relu as _relu
from ...ops.special import BLOCK, erf_into, erfc_array
from ...random import get_rng
from ...tensor import as_tensor
from .loss import _reduction


def _require_float(t, op):
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got {dtype_name(t.dtype)}")


# ----- gelu --------------------------------------------------------------------------------------
class _Elementwise(FusedFunction):
    """A fused elementwise op. Subclasses write `fwd(x)` / `bwd(gy)` for 1-D arrays: a flat view
    costs nothing, and it keeps 0-d inputs arrays (NumPy turns 0-d results into scalars, which
    the in-place updates on fresh temporaries below could not write into)."""

    def forward(self, x):
        self.shape = x.shape
        return self.fwd(x.reshape(-1)).reshape(x.shape)

    def backward(self, gy):
        return self.bwd(gy.reshape(-1)).reshape(self.shape)


_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_KAPPA = 0.044715


@functools.cache
def _gelu_consts(dtype):
    """GELU's constants as 0-d arrays of `dtype` (cheaper ufunc operands than Python floats)."""
    return SimpleNamespace(**{name: np.array(v, dtype) for name, v in dict(
        half=0.5, minus_half=-0.5, one=1.0, inv_sqrt_2pi=_INV_SQRT_2PI, sqrt_2_pi=_SQRT_2_PI,
        kappa=_KAPPA, three_kappa_sqrt_2_pi=3 * _KAPPA * _SQRT_2_PI).items()})


class Gelu(_Elementwise):
    """gelu(x) = x * Phi(x), Phi the standard normal CDF (exact, or PyTorch's tanh approximation).

    When a gradient will be needed, forward also computes the derivative dy/dx, block by block
    while x is still in cache, and saves only that array: backward is then a single multiply.
    All arithmetic happens in place on the output arrays and on block-sized temporaries (fresh
    large arrays cost page faults), in x's dtype (float16 is computed in float32). The exact
    form takes Phi from fdlibm's erf in float64 and from a table of cubic pieces in float32
    (`_gelu_float32`), each to its dtype's last few bits."""

    def __init__(self, approximate, needs_grad):
        self.approximate, self.needs_grad = approximate, needs_grad

    def fwd(self, x):
        work = np.float64 if x.dtype == np.float64 else np.float32
        xw = x.astype(work, copy=False)
        y = np.empty_like(xw)
        d = np.empty_like(xw) if self.needs_grad else None
        if self.approximate == "tanh":
            self._tanh(xw, y, d)
        elif work == np.float32:
            _gelu_float32(xw, y, d)
        else:
            erf_into(xw, y, scale=_SQRT1_2)  # y = erf(x / sqrt 2) for now
            self._exact(xw, y, d)
        if d is not None:
            self.d = d.astype(x.dtype, copy=False)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def _exact(x, y, d):
        """y holds erf(x / sqrt 2) on entry and gelu(x) on return; d gets dy/dx (if not None).
        The float64 path, with fdlibm's erf (float32 uses `_gelu_float32`)."""
        k = _gelu_consts(x.dtype)
        tmp = np.empty(min(x.size, BLOCK), dtype=x.dtype)
        with np.errstate(under="ignore", over="ignore"):
            for lo in range(0, x.size, BLOCK):
                xb, yb = x[lo:lo + BLOCK], y[lo:lo + BLOCK]
                np.multiply(yb, k.half, yb)
                np.add(yb, k.half, yb)  # Phi(x) = (1 + erf(x / sqrt 2)) / 2
                if d is not None:
                    # dy/dx = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi) the density
                    t = np.multiply(xb, xb, tmp[:xb.size])
                    np.multiply(t, k.minus_half, t)
                    np.exp(t, t)
                    np.multiply(t, k.inv_sqrt_2pi, t)
                    np.multiply(t, xb, t)
                    np.add(yb, t, d[lo:lo + BLOCK])
                np.multiply(yb, xb, yb)

    @staticmethod
    def _tanh(x, y, d):
        """y = x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3); d gets dy/dx."""
        k = _gelu_consts(x.dtype)
        m = min(x.size, BLOCK)
        t, w = np.empty(m, dtype=x.dtype), np.empty(m, dtype=x.dtype)
        for lo in range(0, x.size, BLOCK):
            xb, yb = x[lo:lo + BLOCK], y[lo:lo + BLOCK]
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
                np.add(yb, wb, d[lo:lo + BLOCK])
            np.multiply(yb, xb, yb)

    def bwd(self, gy):
        return gy * self.d


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


def _gelu_float32(x, y, d):
    """y = gelu(x) = x Phi(x) and, if d is not None, d = dy/dx = Phi(x) + x phi(x), for 1-D
    float32 arrays, from the table of cubic pieces (within a few ulp of the exact values).

    Block by block on temporaries that stay in cache. Looking coefficients up (`take`) costs as
    much as several multiplies, so phi comes from the same four as Phi: Horner's rule runs for
    the cubic and its derivative together (q = dPhi/du, and phi = q / h). NaN gives NaN; beyond
    +-16 the end pieces give Phi = 0 or 1 (so gelu(-inf) is NaN, -inf * 0, as in PyTorch)."""
    c0, c1, c2, c3 = _phi_pieces()
    per_unit, half, mask = _piece_consts()
    step = max(1, min(x.size, BLOCK))
    a, u, c, q = (np.empty(step, np.float32) for _ in range(4))
    k = np.empty(step, np.intp)
    with np.errstate(invalid="ignore", over="ignore"):
        for lo in range(0, x.size, step):
            xb, yb = x[lo:lo + step], y[lo:lo + step]
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
                db = d[lo:lo + step]
                np.multiply(qb, ab, db)
                np.add(db, yb, db)
            np.multiply(yb, xb, yb)


def gelu(input, approximate="none"):
    """Gaussian Error Linear Unit: x * Phi(x); `approximate='tanh'` uses the tanh formula."""
    x = as_tensor(input)
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got "
                           f"{approximate!r}")
    _require_float(x, "gelu")
    return Gelu(approximate, is_grad_enabled() and x.requires_grad)(x)


# ----- silu, leaky_relu, relu --------------------------------------------------------------------
class Silu(_Elementwise):
    """silu(x) = x * sigmoid(x)."""

    def fwd(self, x):
        with np.errstate(over="ignore"):  # exp(-x) = inf for very negative x gives s = 0: right
            s = np.exp(-x)
        s += 1.0
        np.reciprocal(s, out=s)
        self.x, self.s = x, s
        return x * s

    def bwd(self, gy):
        # d/dx x s(x) = s + x s (1 - s) = s (1 + x (1 - s))
        s = self.s
        d = 1.0 - s
        d *= self.x
        d += 1.0
        d *= s
        d *= gy
        return d


def silu(input, inplace=False):
    """Sigmoid Linear Unit (swish): x * sigmoid(x)."""
    x = as_tensor(input)
    _require_float(x, "silu")
    return _maybe_inplace(x, Silu()(x), inplace)


class LeakyRelu(_Elementwise):
    """leaky_relu(x) = x for x > 0, slope * x otherwise: x times a per-element factor."""

    def __init__(self, negative_slope):
        self.negative_slope = negative_slope

    def fwd(self, x):
        f = (x > 0).astype(x.dtype)  # factor: 1 where x > 0, slope elsewhere
        f *= 1.0 - self.negative_slope
        f += self.negative_slope
        self.f = f
        return x * f

    def bwd(self, gy):
        return gy * self.f  # the factor is the derivative (slope at 0, like PyTorch)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    x = as_tensor(input)
    _require_float(x, "leaky_relu")
    return _maybe_inplace(x, LeakyRelu(negative_slope)(x), inplace)


def relu(input, inplace=False):
    """max(x, 0) (the core op, plus PyTorch's `inplace` flag)."""
    x = as_tensor(input)
    return _maybe_inplace(x, _relu(x), inplace)


def _maybe_inplace(x, result, inplace):
    """For `inplace=True`: write result into x (bumping its version) and return x.

    numpy2gpt cannot rewrite a recorded graph in place, so this is refused (with `copy_`'s clear
    error) for tensors that take part in one; outside autograd it behaves like PyTorch.
    """
    if not inplace:
        return result
    return x.copy_(result.detach())


# ----- dropout -----------------------------------------------------------------------------------
class DropoutFunction(FusedFunction):
    """y = x * m with m = mask / (1 - p): zero with probability p, else scaled by 1 / (1 - p)."""

    grad_fn_name = "DropoutBackward0"

    def __init__(self, p):
        self.p = p

    def forward(self, x):
        u = get_rng().uniform(x.shape, dtype=x.dtype if x.dtype.itemsize >= 4 else np.float32)
        keep = u >= self.p  # probability 1 - p
        scale = 1.0 / (1.0 - self.p) if self.p < 1 else 0.0
        m = np.multiply(keep, scale, dtype=x.dtype)
        self.m = m
        return x * m

    def backward(self, gy):
        return gy * self.m  # the same mask and scale


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p) (only when training).

    With `training=False` or `p=0` the input itself is returned. Uses numpy2gpt's global generator
    (`numpy2gpt.manual_seed`), so a seed reproduces the mask (PyTorch draws its masks
    differently, so the masks are not PyTorch's).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = as_tensor(input)
    if not training or p == 0:
        return x
    _require_float(x, "dropout")
    return _maybe_inplace(x, DropoutFunction(float(p))(x), inplace)


# ----- pad ---------------------------------------------------------------------------------------
class ConstantPadNd(FusedFunction):
    """Pad (or, for negative amounts, crop) the trailing dims with a constant value."""

    def __init__(self, pairs, value):
        self.pairs, self.value = pairs, value  # pairs[i] = (before, after) for dim -len(pairs)+i

    def _slices(self, shape):
        """Where the kept part of the input sits in the input and in the output."""
        lead = len(shape) - len(self.pairs)
        src, dst = [slice(None)] * lead, [slice(None)] * lead
        for n, (before, after) in zip(shape[lead:], self.pairs):
            kept = n - max(-before, 0) - max(-after, 0)
            src.append(slice(max(-before, 0), max(-before, 0) + kept))
            dst.append(slice(max(before, 0), max(before, 0) + kept))
        return tuple(src), tuple(dst)

    def forward(self, x):
        lead = x.ndim - len(self.pairs)
        out_shape = x.shape[:lead] + tuple(
            n + before + after for n, (before, after) in zip(x.shape[lead:], self.pairs))
        y = np.full(out_shape, self.value, dtype=x.dtype)
        src, dst = self._slices(x.shape)
        y[dst] = x[src]
        return y

    def backward(self, gy):
        # Padding moves the numbers: each input element's gradient is its output element's.
        shape = self.inputs[0].shape
        src, dst = self._slices(shape)
        if all(before >= 0 and after >= 0 for before, after in self.pairs):
            return gy[dst]  # nothing was cropped: a view is the whole gradient
        gx = np.zeros(shape, dtype=gy.dtype)  # cropped input elements get zero gradient
        gx[src] = gy[dst]
        return gx


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims: `pad = (last_before, last_after, 2nd_last_before, ...)`.

    Only mode='constant' (with `value`, default 0) is supported; negative amounts crop.
    """
    x = as_tensor(input)
    if mode != "constant":
        if mode in ("reflect", "replicate", "circular"):
            raise NotImplementedError(f"pad: mode={mode!r} is not supported by numpy2gpt; only "
                                      "mode='constant'")
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError(f"Padding length must be divisible by 2, got pad={list(pad)}")
    if len(pad) // 2 > x.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{x.ndim}")
    # pad lists the LAST dim first; pairs lists the padded dims in order
    pairs = tuple((pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2))[::-1]
    lead = x.ndim - len(pairs)
    for i, (n, (before, after)) in enumerate(zip(x.shape[lead:], pairs)):
        if n + before + after < 0:
            raise RuntimeError(f"pad: padding ({before}, {after}) would give dimension "
                               f"{lead + i} (of size {n}) a negative size {n + before + after}")
    return ConstantPadNd(pairs, 0 if value is None else value)(x)


# ----- mse_loss ----------------------------------------------------------------------------------
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean squared error: reduce((input - target)^2) with reduction 'mean', 'sum' or 'none'.

    Composed from primitive ops (its backward, 2 (input - target) / N, comes for free).
    """
    reduction = _reduction(size_average, reduce, reduction)  # checked: mean, sum or none
    x, t = as_tensor(input), as_tensor(target)
    if x.shape != t.shape:
        warnings.warn(f"Using a target size ({t.shape}) that is different to the input size "
                      f"({x.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=2)
    d = x - t
    sq = d * d
    if reduction == "none":
        return sq
    return sq.mean() if reduction == "mean" else sq.sum()


__all__ = ["gelu", "silu", "leaky_relu", "relu", "dropout", "pad", "mse_loss"]
