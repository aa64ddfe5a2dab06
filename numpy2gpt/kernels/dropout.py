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
    if p >= 1:
        return np.zeros(shape, dtype)
    u = get_rng()._unit(math.prod(shape), np.float64).reshape(shape)
    return np.divide(u < 1 - p, dtype.type(1 - p), dtype=dtype)


__all__ = ["dropout_mask"]
