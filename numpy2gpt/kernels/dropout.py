"""Dropout masks: the multiplier that zeroes each element with probability p and scales the rest.

m = keep / (1 - p) with keep ~ Bernoulli(1 - p): E[x * m] = x, so evaluation (no dropout) sees
activations of the same size as training. One function serves every backend: a mask is a random
draw from numpy2gpt's generator, and both backends must draw the same one (so a seed reproduces
a run on either), which leaves nothing to make faster.
"""

import math

import numpy as np

from ..random import get_rng


def dropout_mask(shape, p, dtype):
    """keep / (1 - p) of `shape` and `dtype`, from numpy2gpt's generator, drawn as PyTorch's CPU
    dropout draws it (so a seed gives PyTorch's masks): one float64 uniform u per element (53
    bits of two 32-bit draws), keep = u < 1 - p, then keep / (1 - p) in `dtype`. p = 1 drops
    everything and draws nothing, as in PyTorch."""
    dtype = np.dtype(dtype)
    mask = np.zeros(shape, dtype)
    if p >= 1:
        return mask
    flat, rng, scale = mask.reshape(-1), get_rng(), dtype.type(1 - p)
    # u = v / 2^53 for v the 53-bit integer (21 low bits of the first draw, then the second), so
    # u < 1 - p exactly when v < ceil((1 - p) 2^53): compared as integers, no float pass
    below = np.uint64(math.ceil((1 - p) * 2.0 ** 53))
    # in chunks: each element's two draws take 16 bytes, which for an attention matrix of 25M
    # elements would be 400 MB at once; the draws follow each other all the same
    for lo in range(0, flat.size, _CHUNK):
        n = min(_CHUNK, flat.size - lo)
        draws = rng._bits32(2 * n)  # (uint64s holding 32 bits each)
        v = draws[0::2] & _LOW_21
        v <<= _32
        v |= draws[1::2]
        np.divide(v < below, scale, out=flat[lo:lo + n], dtype=dtype)
    return mask


_CHUNK = 1 << 20
_LOW_21, _32 = np.uint64((1 << 21) - 1), np.uint64(32)


__all__ = ["dropout_mask"]
