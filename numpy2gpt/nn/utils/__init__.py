"""nn.utils: gradient clipping, flattening parameters into one vector, and skip_init; `rnn` holds
the padding and packing of sequences for the recurrent layers."""

import numpy as np

from ...autograd.function import FusedFunction
from ...autograd.grad_mode import no_grad
from ...kernels.clip import total_norm
from ...ops.join import cat
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters",
           "skip_init"]


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _grads(parameters):
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint norm is at most `max_norm`.

    The norm is taken over all gradients as if they were concatenated into one vector. Returns
    that total norm (before clipping) as a 0-d tensor. The factor is
    max_norm / (total_norm + 1e-6), applied only when it is below 1, as in PyTorch.
    """
    max_norm, norm_type = float(max_norm), float(norm_type)  # PyTorch's TypeError if not numbers
    grads = _grads(parameters)
    if not grads:
        return Tensor._make(np.array(0.0, dtype=np.float32))
    _refuse_sparse(grads, "linalg_vector_norm")
    dtype = np.result_type(*[g.dtype for g in grads])
    total = total_norm([g._data for g in grads], norm_type)
    total = np.asarray(total, dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           "is non-finite, so it cannot be clipped. To disable this error and "
                           "scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    # computed in the gradients' dtype, like PyTorch (float32 stays float32)
    clip_coef = np.asarray(max_norm, dtype) / (total + np.asarray(1e-6, dtype))
    if clip_coef < 1 or np.isnan(clip_coef):  # a NaN norm makes the gradients NaN, as in PyTorch
        with np.errstate(invalid="ignore"):  # inf * 0 -> NaN, silently as in PyTorch
            for g in grads:
                _scale_in_place(g, clip_coef.astype(g.dtype))
    return Tensor._make(total)


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


class ParametersToVector(FusedFunction):
    """Concatenate flattened tensors; backward slices the gradient back into their shapes."""

    def forward(self, *arrays):
        self.shapes = [a.shape for a in arrays]
        return np.concatenate([a.ravel() for a in arrays])

    def backward(self, gy):
        grads, start = [], 0
        for shape in self.shapes:
            n = int(np.prod(shape, dtype=np.int64))
            grads.append(gy[start:start + n].reshape(shape))
            start += n
        return tuple(grads)

    def composed(self, *tensors):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        return cat([t.reshape(-1) for t in tensors])


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    params = _as_list(parameters)
    if not params:  # PyTorch's error, from its cat
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for p in params:
        if not isinstance(p, Tensor):  # PyTorch asks each for its device first
            raise AttributeError(f"'{type(p).__name__}' object has no attribute 'device'")
    return ParametersToVector()(*params)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D tensor `vec` into the parameters (in place)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected numpy2gpt.Tensor, but got: {type(vec).__name__}")
    params = _as_list(parameters)
    total = sum(p.numel() for p in params)
    if vec.dim() != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: vec has shape {list(vec.shape)} but the "
                           f"parameters hold {total} elements in all")
    start = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec._data[start:start + n].reshape(p.shape))
            start += n


def skip_init(module_cls, *args, **kwargs):
    """`module_cls(*args, **kwargs)` without its random initialisation (PyTorch's skip_init).

    For a module whose weights are loaded right after: its parameters hold arbitrary values until
    then, and nothing is drawn from the random generator (building GPT-2's 124M parameters
    otherwise spends seconds on normals that are thrown away).
    """
    from .. import init
    from ..modules.module import Module  # nn.modules imports this module

    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise TypeError(f"skip_init expects a Module class, got {module_cls!r}")
    with init._skipping_random_fills():
        return module_cls(*args, **kwargs)


# (at the end: these build on the modules, which import this package's rnn)
from . import parametrizations, parametrize, stateless  # noqa: E402
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: E402
from .weight_norm import remove_weight_norm, weight_norm  # noqa: E402

__all__ += ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]
