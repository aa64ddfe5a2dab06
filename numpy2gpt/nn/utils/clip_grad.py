"""Gradient clipping (PyTorch's torch.nn.utils.clip_grad).

clip_grad_norm_ is two steps, each public on its own: get_total_norm (the p-norm of all the
gradients as one vector) and clip_grads_with_norm_ (scale every gradient by
min(max_norm / (total_norm + 1e-6), 1)). Splitting them lets a caller compute the norm once,
log it or combine it with other norms, and clip later.
"""

import types
import warnings

import numpy as np

from ...autograd.grad_mode import no_grad
from ...kernels.clip import total_norm as _total_norm
from ...linalg import _norm_dtype
from ...tensor import Tensor

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_"]


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _grads(parameters):
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The `norm_type`-norm of `tensors` taken together, as if concatenated into one vector (the
    p-norm of their p-norms), as a 0-d tensor in their (promoted) dtype."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)  # PyTorch's TypeError if not a number
    if not tensors:
        return Tensor._make(np.array(0.0, dtype=np.float32))
    _refuse_sparse(tensors, "linalg_vector_norm")
    for t in tensors:
        _norm_dtype("linalg.vector_norm", t._data, None)  # PyTorch's error for integer tensors
    dtype = np.result_type(*[t.dtype for t in tensors])
    total = np.asarray(_total_norm([t._data for t in tensors], norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           "is non-finite, so it cannot be clipped. To disable this error and "
                           "scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return Tensor._make(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient in place by min(max_norm / (total_norm + 1e-6), 1), `total_norm`
    being a precomputed norm tensor (get_total_norm's). The factor never exceeds 1: gradients
    are only ever shrunk. Returns None."""
    grads = _grads(parameters)
    max_norm = float(max_norm)
    if not grads:
        return
    if not isinstance(total_norm, Tensor):  # PyTorch's error, from its torch.clamp
        raise TypeError(f"clamp() received an invalid combination of arguments - got "
                        f"({type(max_norm / (total_norm + 1e-6)).__name__}, max=float)")
    total = total_norm._data
    # computed in the norm's dtype, like PyTorch (float32 stays float32)
    clip_coef = np.asarray(max_norm, total.dtype) / (total + np.asarray(1e-6, total.dtype))
    if clip_coef < 1 or np.isnan(clip_coef):  # a NaN norm makes the gradients NaN, as in PyTorch
        with np.errstate(invalid="ignore"):  # inf * 0 -> NaN, silently as in PyTorch
            for g in grads:
                _scale_in_place(g, clip_coef.astype(g.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint norm is at most `max_norm`.

    The norm is taken over all gradients as if they were concatenated into one vector. Returns
    that total norm (before clipping) as a 0-d tensor. The factor is
    max_norm / (total_norm + 1e-6), applied only when it is below 1, as in PyTorch.
    """
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = _as_list(parameters)  # a generator is read once, for both steps
    if is_generator and not parameters:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                      stacklevel=2)
    max_norm = float(max_norm)  # PyTorch's TypeError if not a number
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The deprecated name of clip_grad_norm_."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def _scale_in_place(g, factor):
    """g *= factor on the gradient's own array (what `g.mul_` does, without its checks, which a
    gradient needs none of); a read-only array (a broadcast view) is replaced by a scaled copy."""
    if g._data.flags.writeable:
        np.multiply(g._data, factor, out=g._data)
    else:
        g._data = g._data * factor
    g._version += 1


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    grads = _grads(parameters)
    _refuse_sparse(grads, "clamp_min_")
    with no_grad():
        for g in grads:
            g.clamp_(-clip_value, clip_value)


def _refuse_sparse(grads, op):
    """PyTorch's error for a sparse gradient (nn.Embedding(sparse=True)'s): clipping has no
    sparse version of its op (its norm, its clamp) there either."""
    if any(g.is_sparse for g in grads):
        raise NotImplementedError(f"Could not run 'aten::{op}' with arguments from the "
                                  "'SparseCPU' backend.")
