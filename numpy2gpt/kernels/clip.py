"""The total norm of a list of gradients, for clip_grad_norm_.

The norm is taken over all gradients as if they were concatenated into one vector; clipping then
scales every gradient by max_norm / (total_norm + 1e-6) when that factor is below 1 (see
numpy2gpt.nn.utils.clip_grad_norm_). The sums run in float64; the result is a Python float.
"""

import math

import numpy as np

from . import switch


def total_norm_reference(arrays, norm_type):
    """(sum_i |x_i|^p)^(1/p) over every element of every array (max_i |x_i| for p = inf)."""
    flat = np.concatenate([np.ravel(a).astype(np.float64) for a in arrays])
    if norm_type == math.inf:
        return float(np.abs(flat).max(initial=0))
    return float(np.sum(np.abs(flat) ** norm_type) ** (1.0 / norm_type))


def total_norm_fast(arrays, norm_type):
    """No concatenated copy: one pass per array. The 2-norm (the one training uses) is one BLAS
    dot per array (np.vdot flattens by itself, no temporary), the per-array sums of squares
    added in float64."""
    if norm_type == math.inf:
        return float(np.max([np.abs(a).max(initial=0) for a in arrays]))  # NaN if any is NaN
    if norm_type == 2.0:
        return math.sqrt(sum(float(np.vdot(a, a)) for a in arrays))
    return sum(float(np.sum(np.abs(a.astype(np.float64)) ** norm_type))
               for a in arrays) ** (1.0 / norm_type)


total_norm = switch(total_norm_reference, total_norm_fast)
