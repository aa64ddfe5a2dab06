"""nn.utils: gradient clipping (in `clip_grad`), flattening parameters into one vector, skip_init,
folding BatchNorm into the layer before it (`fusion`) and converting convolution weights to
channels_last (`memory_format`); `rnn` holds the padding and packing of sequences for the
recurrent layers."""

import numpy as np

from ...autograd.function import FusedFunction
from ...autograd.grad_mode import no_grad
from ...ops.join import cat
from ...tensor import Tensor
from . import clip_grad
from .clip_grad import (
    _as_list,
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm", "parameters_to_vector", "vector_to_parameters", "skip_init"]


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
from . import fusion, memory_format, parametrizations, parametrize, stateless  # noqa: E402
from .fusion import (  # noqa: E402
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from .memory_format import (  # noqa: E402
    convert_conv2d_weight_memory_format,
    convert_conv3d_weight_memory_format,
)
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: E402
from .weight_norm import remove_weight_norm, weight_norm  # noqa: E402

__all__ += ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm",
            "fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
            "fuse_linear_bn_weights", "convert_conv2d_weight_memory_format",
            "convert_conv3d_weight_memory_format"]
