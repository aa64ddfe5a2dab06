"""BatchNorm1d/2d/3d and InstanceNorm1d/2d/3d: normalise each channel, then scale and shift it.

Both keep PyTorch's state exactly, so state dicts load either way: parameters `weight` and `bias`
(C,) when affine, and with track_running_stats the buffers `running_mean` (zeros),
`running_var` (ones) and `num_batches_tracked` (an int64 0-d count of training batches).
BatchNorm normalises with the batch's statistics in training (updating the running ones) and
with the running statistics in eval; InstanceNorm uses each sample's own statistics unless it
tracks running ones and is in eval.
"""

import warnings

from ... import dtypes
from ...ops.creation import ones, tensor, zeros
from .. import functional as F
from .module import Module
from .normalization import _ones_and_zeros, _scale_and_shift


class _NormBase(Module):
    """What BatchNorm and InstanceNorm share: settings, parameters, buffers, resets, repr."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=dtypes.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        _scale_and_shift(self, (num_features,), affine, affine and bias, dtype)

    def reset_running_stats(self):
        """running_mean <- 0, running_var <- 1, num_batches_tracked <- 0 (in place)."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        _ones_and_zeros(self)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """Batch normalisation over the batch (and positions) of each channel (see F.batch_norm).
    momentum=None: the running statistics are the cumulative average over all batches seen
    (momentum 1 / num_batches_tracked)."""

    def _check_input_dim(self, input):
        if input.dim() not in self._dims:
            raise ValueError(f"expected {self._dims_text} input (got {input.dim()}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked)
        # the batch's statistics in training, and in eval when there are no running ones
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        # the running statistics are updated only in training with track_running_stats
        keep = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if keep else None,
                            self.running_var if keep else None, self.weight, self.bias,
                            use_batch, momentum, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of x (N, C) or (N, C, L), per feature C."""

    _dims, _dims_text = (2, 3), "2D or 3D"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images x (N, C, H, W), per channel C."""

    _dims, _dims_text = (4,), "4D"


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of volumes x (N, C, D, H, W), per channel C."""

    _dims, _dims_text = (5,), "5D"


class _InstanceNorm(_NormBase):
    """Instance normalisation: each (sample, channel) over its positions (see F.instance_norm).
    No parameters and no running statistics by default; an input without the batch dim is
    normalised as a batch of one."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, input):
        unbatched = self._dims[0]
        if input.dim() not in self._dims:
            raise ValueError(f"expected {unbatched}D or {unbatched + 1}D input (got "
                             f"{input.dim()}D input)")
        feature_dim = input.dim() - unbatched  # dim 1, or 0 without the batch dim
        if input.size(feature_dim) != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{input.size(feature_dim)}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You "
                          "can silence this warning by not passing in num_features, which is not "
                          "used because affine=False", stacklevel=2)
        x = input.unsqueeze(0) if input.dim() == unbatched else input
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return y.squeeze(0) if input.dim() == unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of x (N, C, L) or (C, L)."""

    _dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of x (N, C, H, W) or (C, H, W)."""

    _dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of x (N, C, D, H, W) or (C, D, H, W)."""

    _dims = (4, 5)


__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
           "InstanceNorm3d"]
