"""batch_norm and instance_norm (PyTorch's torch.nn.functional), one fused Function for both.

Both normalise x (N, C, *) per channel, then scale and shift each channel by weight and bias (C,):
    xhat = (x - mean) * rstd,  rstd = 1 / sqrt(var + eps),  y = xhat * weight + bias
batch_norm takes mean and var (biased, like layer_norm) per channel over the batch and every
position, dims (0, 2, 3, ...); instance_norm per (sample, channel) over the positions only,
dims (2, 3, ...). That is layer_norm's math with the reductions over other dims, so the backward
is layer_norm's formula (kernels/layer_norm.py) over those dims.

In training the statistics come from the batch, and the running statistics (when given) are
updated in place, without a graph: running = (1 - momentum) * running + momentum * batch, with
the batch's *unbiased* variance (n / (n - 1) times the biased one), as PyTorch does. In eval the
running statistics normalise: they are constants, so the gradient is simply gy * weight * rstd.
"""

import math

import numpy as np

from ...autograd.function import FusedFunction
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...ops._util import not_implemented_for, opmath, require_tensor
from ...tensor import Tensor, _check_dim, type_name
from .normalization import _composed_xhat


class BatchNormFunction(FusedFunction):
    """Normalise x (N, C, *) over `dims`, then y = xhat * w + b per channel. `stats`: None to
    take mean and var from x (they are then left in self.mean, self.var for the running
    update), else the (mean, var) arrays (C,) to use as constants. has_weight / has_bias: which
    params follow x."""

    grad_fn_name = "NativeBatchNormBackward0"

    def __init__(self, dims, eps, has_weight, has_bias, stats=None):
        self.dims, self.eps, self.stats = dims, eps, stats
        self.has_weight, self.has_bias = has_weight, has_bias

    def forward(self, x, *params):
        self.channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # a (C,) vector broadcast over x
        dtype, x = x.dtype, opmath(x)  # float16 in float32, as PyTorch
        if self.stats is None:
            self.n = math.prod(x.shape[d] for d in self.dims)  # elements per statistic
            self.inv_n = 1.0 / max(self.n, 1)  # means as sums times 1 / n: no warning for n = 0
            self.mean = x.sum(axis=self.dims, keepdims=True) * self.inv_n
            xc = x - self.mean
            self.var = (xc * xc).sum(axis=self.dims, keepdims=True) * self.inv_n
        else:
            self.mean, self.var = (s.reshape(self.channel).astype(x.dtype, copy=False)
                                   for s in self.stats)
            xc = x - self.mean
        self.rstd = 1 / np.sqrt(self.var + self.eps)
        self.xhat = xc * self.rstd
        self.w = opmath(params[0].reshape(self.channel)) if self.has_weight else None
        y = self.xhat * self.w if self.has_weight else self.xhat.copy()  # y never shares xhat
        if self.has_bias:
            y += opmath(params[-1].reshape(self.channel))
        return y.astype(dtype, copy=False)

    def backward(self, gy):
        grads = self._grads(opmath(gy))
        return tuple(None if g is None else g.astype(gy.dtype, copy=False) for g in grads)

    def _grads(self, gy):
        need = self.needs_input_grad
        others = (0,) + tuple(range(2, gy.ndim))  # every dim but the channel one
        grads = [None]
        if need[0]:
            g = gy * self.w if self.has_weight else gy  # dL/dxhat
            if self.stats is None:
                # layer_norm's formula over `dims`: the two mean terms are the paths through
                # the batch mean and the batch variance (kernels/layer_norm.py)
                mean_g = g.sum(axis=self.dims, keepdims=True) * self.inv_n
                mean_gx = (g * self.xhat).sum(axis=self.dims, keepdims=True) * self.inv_n
                grads[0] = self.rstd * (g - mean_g - self.xhat * mean_gx)
            else:  # constant statistics: xhat is x scaled and shifted
                grads[0] = g * self.rstd
        if self.has_weight:  # dL/dw_c = sum of gy * xhat over all but the channel dim
            grads.append((gy * self.xhat).sum(axis=others).reshape(self.inputs[1].shape)
                         if need[1] else None)
        if self.has_bias:  # dL/db_c = sum of gy over all but the channel dim
            grads.append(gy.sum(axis=others).reshape(self.inputs[-1].shape)
                         if need[-1] else None)
        return tuple(grads)

    def composed(self, x, *params):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        if self.stats is None:
            y = _composed_xhat(x, self.dims, self.eps)
        else:  # the running statistics are constants
            mean, rstd = (Tensor._make(s.astype(x.dtype, copy=False))
                          for s in (self.mean, self.rstd))
            y = (x - mean) * rstd
        if self.has_weight:
            y = y * params[0].reshape(self.channel)
        return y + params[-1].reshape(self.channel) if self.has_bias else y


def _number(value, op, name, position):
    """value as a float, or PyTorch's TypeError for argument `name` (momentum, eps) of `op`."""
    if isinstance(value, Tensor | int | float | np.integer | np.floating):
        return float(value)
    raise TypeError(f"{op}(): argument '{name}' (position {position}) must be float, not "
                    f"{type_name(value)}")


def _normalize(op, input, running_mean, running_var, weight, bias, use_batch_stats, momentum,
               eps, per_sample):
    """batch_norm (per_sample False) and instance_norm (True): PyTorch's checks in its order,
    the fused Function, and the in-place update of the running statistics."""
    x = require_tensor(input, op, "input", 1)
    vectors = (("weight", weight, 2), ("bias", bias, 3), ("running_mean", running_mean, 4),
               ("running_var", running_var, 5))
    for name, t, position in vectors:
        if t is not None:
            require_tensor(t, op, name, position)
    if not isinstance(use_batch_stats, bool | np.bool_):
        raise TypeError(f"{op}(): argument '{'use_input_stats' if per_sample else 'training'}' "
                        f"(position 6) must be bool, not {type_name(use_batch_stats)}")
    momentum, eps = _number(momentum, op, "momentum", 7), _number(eps, op, "eps", 8)
    if x.numel() == 0:  # nothing to normalise: PyTorch returns x * weight[0] + bias[0]
        out = x.clone()
        out = out * weight[0] if weight is not None else out
        return out + bias[0] if bias is not None else out
    # instance_norm is batch_norm on x viewed as (1, N * C, *) with the vectors repeated N
    # times: its messages count N * C elements
    c = x.shape[1] if x.ndim > 1 else 0
    times = x.shape[0] if per_sample else 1
    for name, t, _ in vectors[2:] + vectors[:2]:
        if t is None:
            if not use_batch_stats and name.startswith("running"):
                raise RuntimeError(f"{name} must be defined in evaluation mode")
        elif t.numel() != c:
            raise RuntimeError(f"{name} should contain {c * times} elements not "
                               f"{t.numel() * times}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be "
                         "None")
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.requires_grad and is_grad_enabled():
            raise RuntimeError(f"The function 'native_batch_norm' is not differentiable with "
                               f"respect to argument '{name}'. This input cannot have "
                               f"requires_grad True.")
        if t is not None and t.ndim != 1:
            raise RuntimeError(f"TensorAccessor expected 1 dims but tensor has {t.ndim}")
    _check_dim(1, x.ndim)  # x has a channel dim
    not_implemented_for(x, "batch_norm")
    # instance_norm's running statistics may have another floating dtype than x
    same_dtype = (weight, bias) if per_sample else (weight, bias, running_mean, running_var)
    if any(t is not None and t.dtype != x.dtype for t in same_dtype):
        raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float"
                           if x.dtype == np.float32 else
                           "mixed dtype (CPU): all inputs must share same datatype.")

    dims = tuple(range(2, x.ndim)) if per_sample else (0,) + tuple(range(2, x.ndim))
    stats = None if use_batch_stats else (running_mean._data, running_var._data)
    fn = BatchNormFunction(dims, eps, weight is not None, bias is not None, stats)
    y = fn(x, *(t for t in (weight, bias) if t is not None))
    if use_batch_stats and running_mean is not None:
        _update_running_stats(fn, running_mean, running_var, momentum, per_sample)
    return y


def _update_running_stats(fn, running_mean, running_var, momentum, per_sample):
    """running <- momentum * batch + (1 - momentum) * running, in place and outside the graph,
    from the batch statistics `fn` (a BatchNormFunction) computed. The variance put there is
    the unbiased one: n / (n - 1) times the biased var that normalised. instance_norm updates
    once per sample and keeps the mean of those N updates."""
    unbiased = fn.var * (fn.n / (fn.n - 1))  # n > 1: the callers checked
    with no_grad():
        for running, batch in ((running_mean, fn.mean), (running_var, unbiased)):
            rows = batch.reshape(-1, running.numel())  # (N, C) per sample, else (1, C)
            new = momentum * rows + (1 - momentum) * running._data
            running.copy_(Tensor._make(new.mean(axis=0) if per_sample else new[0]))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """Batch normalisation (PyTorch's F.batch_norm): each channel of x (N, C, *) normalised by
    its mean and variance over the batch and positions (training; the running statistics, when
    given, are updated in place) or by running_mean and running_var (eval), then scaled by
    weight and shifted by bias (C,)."""
    if training:  # PyTorch's check, before any other (one value per channel: var = 0)
        if not isinstance(input, Tensor):
            raise AttributeError(f"'{type(input).__name__}' object has no attribute 'size'")
        size = input.size()
        if size[0] * math.prod(size[2:]) == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {size}")
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    return _normalize("batch_norm", input, running_mean, running_var, weight, bias, training,
                      momentum, eps, per_sample=False)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """Instance normalisation (PyTorch's F.instance_norm): each (sample, channel) of x (N, C, *)
    normalised by its own mean and variance over the positions (use_input_stats; the running
    statistics, when given, are updated in place with the mean over the samples) or by
    running_mean and running_var, then scaled by weight and shifted by bias (C,)."""
    if use_input_stats:
        if not isinstance(input, Tensor):
            raise AttributeError(f"'{type(input).__name__}' object has no attribute 'size'")
        size = input.size()
        if math.prod(size[2:]) == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input "
                             f"size {size}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
    return _normalize("instance_norm", input, running_mean, running_var, weight, bias,
                      use_input_stats, momentum, eps, per_sample=True)


__all__ = ["batch_norm", "instance_norm"]
