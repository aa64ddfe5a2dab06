"""Dropout masks: the multiplier that zeroes each element with probability p and scales the rest.

m = keep / (1 - p) with keep ~ Bernoulli(1 - p): E[x * m] = x, so evaluation (no dropout) sees
activations of the same size as training. One function serves every backend: a mask is a random
draw from numpy2gpt's generator, and both backends must draw the same one (so a seed reproduces
a run on either), which leaves nothing to make faster.
"""

import numpy as np

from ..random import get_rng


def dropout_mask(shape, p, dtype):
    """keep / (1 - p) of `shape` and `dtype`, keep ~ Bernoulli(1 - p), from numpy2gpt's generator
    (uniforms below p are dropped; p = 1 drops everything)."""
    keep = get_rng().uniform(shape, dtype=dtype if np.dtype(dtype).itemsize >= 4
                             else np.float32) >= p
    return np.multiply(keep, 1.0 / (1.0 - p) if p < 1 else 0.0, dtype=dtype)


__all__ = ["dropout_mask"]
