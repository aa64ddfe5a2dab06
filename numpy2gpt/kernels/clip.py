"""The total norm of a list of gradients, for clip_grad_norm_.

As in PyTorch, the total is the p-norm of the per-gradient p-norms. For p > 0 (and p = inf) that
is the norm of all gradients concatenated into one vector; for p = 0 it counts the gradients that
hold a nonzero element, for p = -inf it is the smallest |element|. Clipping then scales every
gradient by max_norm / (total_norm + 1e-6) when that factor is below 1 (see
numpy2gpt.nn.utils.clip_grad_norm_). The sums run in float64 (float32 gradients' dot products in
float32, as PyTorch's); the result is a Python float.
"""

import math

import numpy as np

from . import switch


def _no_identity(arrays, norm_type):
    """PyTorch's error for a negative-p or infinity norm (a minimum or a maximum) of an empty
    gradient."""
    if (norm_type < 0 or norm_type == math.inf) and any(a.size == 0 for a in arrays):
        what = ("_foreach_norm", "infinity") if norm_type == math.inf else \
            ("linalg.vector_norm", f"{norm_type:g}")
        raise RuntimeError(f"{what[0]} cannot compute the {what[1]} norm on an empty tensor "
                           "because the operation does not have an identity")


def _vector_norm(x, p):
    """The p-norm of a float64 vector, with linalg.vector_norm's meaning for p <= 0 and inf."""
    a = np.abs(x)
    if p == math.inf:
        return float(a.max(initial=0))
    if p == -math.inf:
        return float(a.min())
    if p == 0:
        return float(np.count_nonzero(a))
    with np.errstate(divide="ignore"):  # 0 ** -p = inf, whose -1/p-th power is 0
        return float(np.sum(a ** p) ** (1.0 / p))


def total_norm_reference(arrays, norm_type):
    """The norm of the vector of the arrays' norms, each in float64."""
    _no_identity(arrays, norm_type)
    if not arrays:
        return 0.0
    norms = [_vector_norm(np.ravel(a).astype(np.float64), norm_type) for a in arrays]
    return _vector_norm(np.array(norms, dtype=np.float64), norm_type)


def total_norm_fast(arrays, norm_type):
    """No concatenated copy: one pass per array. The 2-norm (the one training uses) is one BLAS
    dot per array (np.vdot flattens by itself, no temporary), the per-array sums of squares
    added in float64; a dtype narrower than float32 (float16) is first widened to float64, whose
    squares its dot in its own dtype would overflow."""
    _no_identity(arrays, norm_type)
    if not arrays:
        return 0.0
    if norm_type == math.inf:
        return float(np.max([np.abs(a).max(initial=0) for a in arrays]))  # NaN if any is NaN
    if norm_type == -math.inf:
        return float(np.min([np.abs(a).min() for a in arrays]))
    if norm_type == 0:
        return float(sum(bool(np.count_nonzero(a)) for a in arrays))
    if norm_type == 2.0:
        return math.sqrt(sum(float(np.vdot(a, a)) for a in map(_wide, arrays)))
    with np.errstate(divide="ignore"):  # a zero element of a negative-p norm: |0| ** p = inf
        return sum(float(np.sum(np.abs(a.astype(np.float64)) ** norm_type))
                   for a in arrays) ** (1.0 / norm_type)


def _wide(a):
    """a itself if float32 or float64 (a BLAS dot accumulates those safely), else as float64."""
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


total_norm = switch(total_norm_reference, total_norm_fast)
