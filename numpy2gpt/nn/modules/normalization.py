"""LayerNorm, RMSNorm and GroupNorm: normalise each sample over some of its dimensions, then
scale (and shift). LocalResponseNorm: divide each element by a power of its neighbouring
channels' energy."""

import numbers

from ... import dtypes
from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


def _scale_and_shift(module, shape, weight, bias, dtype):
    """Register the parameters `weight` and `bias` of `shape`, or None where the layer has
    none of one (bias=None: no bias at all, as RMSNorm), and fill them (reset_parameters)."""
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    for name, wanted in (("weight", weight), ("bias", bias)):
        if wanted:
            setattr(module, name, Parameter(empty(shape, dtype=dtype)))
        elif wanted is not None:
            module.register_parameter(name, None)
    module.reset_parameters()


def _ones_and_zeros(module):
    """weight <- 1 and bias <- 0: the identity transform a normalisation layer starts as."""
    if module.weight is not None:
        init.ones_(module.weight)
    if getattr(module, "bias", None) is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the trailing `normalized_shape` dims.

    weight starts at ones and bias at zeros (the identity transform); `bias=False` drops the
    bias (as GPT-style models often do), `elementwise_affine=False` drops both.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _scale_and_shift(self, self.normalized_shape, elementwise_affine,
                         elementwise_affine and bias, dtype)

    def reset_parameters(self):
        _ones_and_zeros(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """y = x / sqrt(mean(x^2) + eps) * weight over the trailing `normalized_shape` dims.

    weight starts at ones; `elementwise_affine=False` drops it. eps=None means the machine
    epsilon of the input's dtype (see F.rms_norm).
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _scale_and_shift(self, self.normalized_shape, elementwise_affine, None, dtype)

    def reset_parameters(self):
        _ones_and_zeros(self)

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalise the channels of x (N, C, *) in `num_groups` groups per sample, then scale and
    shift each channel (weight starts at ones, bias at zeros; see F.group_norm)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None,
                 *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        _scale_and_shift(self, (num_channels,), affine, affine and bias, dtype)

    def reset_parameters(self):
        _ones_and_zeros(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """y = x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta, for input
    (N, C, *) with at least one dim after C (see F.local_response_norm). No parameters."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
