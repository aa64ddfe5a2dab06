"""layer_norm, rms_norm and group_norm, each one fused Function with a hand-derived backward.

Over the last D = prod(normalized_shape) elements of each row:
    mu = mean(x),  var = mean((x - mu)^2)  (biased, like PyTorch),  rstd = 1 / sqrt(var + eps)
    xhat = (x - mu) * rstd,  y = xhat * weight + bias
Composed from primitive ops this is ~10 graph nodes and as many full-size temporaries each way;
fused, it is one node whose backward reuses xhat and rstd saved by forward. The math is in
numpy2gpt/kernels/layer_norm.py (the textbook formulas and the fast kernels beside them).

rms_norm skips the centring: y = x / sqrt(mean(x^2) + eps) * weight (plain NumPy here, no kernel).
group_norm is layer_norm over the rows (sample, group of channels), then a per-channel affine: it
reuses the layer_norm kernels for the rows. float16 is computed in float32 (`opmath`), as PyTorch.

local_response_norm is composed from primitive ops, as PyTorch composes it (an average pooling of
x^2 over neighbouring channels).

Each Function also has `composed`, the same formulas in differentiable ops, which autograd
differentiates for higher derivatives (create_graph=True).
"""

import math

import numpy as np

from ...autograd.function import _TENSOR_TYPES, FusedFunction
from ...dtypes import dtype_name
from ...kernels.layer_norm import layer_norm_backward, layer_norm_forward
from ...ops._util import not_implemented_for, opmath, require_tensor
from ...tensor import as_tensor
from ._args import int_tuple
from .activation import pad
from .pooling import avg_pool2d, avg_pool3d


def _composed_xhat(x, dims, eps):
    """(x - mean) / sqrt(var + eps) over `dims`, in differentiable ops: layer_norm's and
    group_norm's `composed`. Means are sums times 1 / D, so rows of 0 elements give no warning."""
    inv_d = 1.0 / max(math.prod(x.shape[d] for d in dims), 1)
    xc = x - x.sum(dims, keepdim=True) * inv_d
    return xc / ((xc ** 2).sum(dims, keepdim=True) * inv_d + eps).sqrt()


class LayerNormFunction(FusedFunction):
    """Normalise the rows of x viewed as (N, D); has_weight / has_bias: which params follow."""

    grad_fn_name = "NativeLayerNormBackward0"

    def __init__(self, normalized_shape, eps, has_weight, has_bias):
        self.shape, self.eps = normalized_shape, eps
        self.has_weight, self.has_bias = has_weight, has_bias
        self.d = math.prod(normalized_shape)

    def forward(self, x, *params):
        d = self.d
        x2 = opmath(x.reshape(x.size // d if d else 0, d))  # a view for contiguous x
        self.w = opmath(params[0].reshape(d)) if self.has_weight else None
        b = opmath(params[-1].reshape(d)) if self.has_bias else None
        y, self.xhat, self.rstd = layer_norm_forward(x2, self.w, b, self.eps)
        return y.astype(x.dtype, copy=False).reshape(x.shape)

    def backward(self, gy):
        need = self.needs_input_grad
        gx, gw, gb = layer_norm_backward(opmath(gy.reshape(self.xhat.shape)), self.xhat,
                                         self.rstd, self.w,
                                         (need[0], self.has_weight and need[1],
                                          self.has_bias and need[-1]))
        grads = [None if gx is None else gx.astype(gy.dtype, copy=False).reshape(gy.shape)]
        for present, g in ((self.has_weight, gw), (self.has_bias, gb)):
            if present:
                grads.append(None if g is None else
                             g.astype(gy.dtype, copy=False).reshape(self.shape))
        return tuple(grads)

    def composed(self, x, *params):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        y = _composed_xhat(x, tuple(range(-len(self.shape), 0)), self.eps)
        if self.has_weight:
            y = y * params[0]
        return y + params[-1] if self.has_bias else y


def _shape_arg(value, op):
    """normalized_shape as a tuple of ints: a list, tuple or Size of ints (PyTorch's argument
    parsing refuses a bare int here, which the modules accept)."""
    if not isinstance(value, list | tuple):
        raise TypeError(f"{op}(): argument 'normalized_shape' (position 2) must be tuple of ints, "
                        f"not {type(value).__name__}")
    return int_tuple(value, op, "normalized_shape", 2, 1)


def _check_normalized_shape(x, shape, leading="*, "):
    """PyTorch's errors unless `shape` (normalized_shape) is non-empty and ends x's shape.
    `leading` is how the message writes the dims before it (rms_norm's has no comma)."""
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    if x.ndim < len(shape) or tuple(x.shape[-len(shape):]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[{leading}{', '.join(map(str, shape))}], but got input of size"
                           f"{list(x.shape)}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the trailing `normalized_shape` dims (PyTorch's F.layer_norm)."""
    x = require_tensor(input, "layer_norm", "input", 1)
    shape = _shape_arg(normalized_shape, "layer_norm")
    _check_normalized_shape(x, shape)
    params = []
    for name, p in (("weight", weight), ("bias", bias)):
        if p is None:
            continue
        p = as_tensor(p)
        if tuple(p.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got "
                               f"{name} of shape {list(p.shape)} and normalized_shape = "
                               f"{list(shape)}")
        if p.dtype != x.dtype:
            raise RuntimeError(f"layer_norm: expected input and {name} to have the same dtype, but "
                               f"got: {dtype_name(x.dtype)} != {dtype_name(p.dtype)}")
        params.append(p)
    if x.numel():
        not_implemented_for(x, "LayerNormKernelImpl")
    return LayerNormFunction(shape, eps, weight is not None, bias is not None)(x, *params)


# ----- rms_norm ----------------------------------------------------------------------------------
class RMSNormFunction(FusedFunction):
    """y = x * rstd * weight over the rows of x viewed as (N, D), rstd = 1 / sqrt(mean(x^2) + eps).
    has_weight: whether the weight follows x."""

    grad_fn_name = "RmsNormBackward0"

    def __init__(self, normalized_shape, eps, has_weight):
        self.shape, self.eps, self.has_weight = normalized_shape, eps, has_weight
        self.d = math.prod(normalized_shape)

    def forward(self, x, *params):
        d = self.d
        x2 = opmath(x.reshape(x.size // d if d else 0, d))
        self.inv_d = 1.0 / max(d, 1)  # a mean as sum * inv_d: rows of 0 elements give no warning
        self.rstd = 1 / np.sqrt((x2 * x2).sum(axis=1, keepdims=True) * self.inv_d + self.eps)
        self.xhat = x2 * self.rstd
        self.w = opmath(params[0].reshape(d)) if self.has_weight else None
        y = self.xhat * self.w if self.has_weight else self.xhat.copy()  # y never shares xhat
        return y.astype(x.dtype, copy=False).reshape(x.shape)

    def backward(self, gy):
        gx, gw = self._grads(opmath(gy.reshape(self.xhat.shape)))  # (float16 in float32)
        gx = None if gx is None else gx.astype(gy.dtype, copy=False).reshape(gy.shape)
        if not self.has_weight:
            return gx
        return gx, None if gw is None else gw.astype(gy.dtype, copy=False).reshape(self.shape)

    def _grads(self, gy2):
        """dL/dx and dL/dw (None where not needed) as (N, D) and (D,) arrays."""
        xhat, rstd = self.xhat, self.rstd
        gx = gw = None
        if self.needs_input_grad[0]:
            # With g = gy * w (dL/dxhat) and xhat = x rstd, where d rstd / dx_j = -rstd^3 x_j / D
            # (rstd = (mean(x^2) + eps)^(-1/2)), per row:
            #     dL/dx_j = rstd g_j - rstd^3 x_j mean_i(g_i x_i) = rstd (g_j - xhat_j mean(g xhat))
            # (layer_norm's formula without the mean(g) term: nothing is centred).
            g = gy2 * self.w if self.has_weight else gy2
            mean_gx = (g * xhat).sum(axis=1, keepdims=True) * self.inv_d
            gx = rstd * (g - xhat * mean_gx)
        if self.has_weight and self.needs_input_grad[1]:
            gw = (gy2 * xhat).sum(axis=0)  # dL/dw = sum over rows gy xhat
        return gx, gw

    def composed(self, x, *params):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        dims = tuple(range(-len(self.shape), 0))
        y = x / ((x * x).sum(dims, keepdim=True) * self.inv_d + self.eps).sqrt()
        return y * params[0] if self.has_weight else y


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalisation over the trailing `normalized_shape` dims (PyTorch's
    F.rms_norm): x / sqrt(mean(x^2) + eps) * weight. eps=None means the machine epsilon of the
    input's dtype (torch.finfo(dtype).eps)."""
    x = as_tensor(input)
    shape = _shape_arg(normalized_shape, "rms_norm")
    _check_normalized_shape(x, shape, leading="*")
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"rms_norm" not implemented for '
                                  f"'{_TENSOR_TYPES.get(x.dtype.name, x.dtype.name)}'")
    if weight is None:
        params = ()
    else:
        w = as_tensor(weight)
        if tuple(w.shape) != shape:
            raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got "
                               f"weight of shape {list(w.shape)} and normalized_shape = "
                               f"{list(shape)}")
        params = (w.to(x.dtype),)  # the result keeps the input's dtype, as in PyTorch
    eps = float(np.finfo(x.dtype).eps) if eps is None else float(eps)
    return RMSNormFunction(shape, eps, weight is not None)(x, *params)


# ----- group_norm --------------------------------------------------------------------------------
class GroupNormFunction(FusedFunction):
    """Normalise x (N, C, *) over each (sample, group of C / G channels), then y = xhat * w + b
    per channel. has_weight / has_bias: which params follow x."""

    grad_fn_name = "NativeGroupNormBackward0"

    def __init__(self, num_groups, eps, has_weight, has_bias):
        self.groups, self.eps = num_groups, eps
        self.has_weight, self.has_bias = has_weight, has_bias

    def forward(self, x, *params):
        n, c = x.shape[:2]
        spatial = math.prod(x.shape[2:])
        rows = opmath(x.reshape(n * self.groups, c // self.groups * spatial))
        xhat, self.xhat, self.rstd = layer_norm_forward(rows, None, None, self.eps)
        y = xhat.reshape(n, c, spatial)  # the channel dim apart, for the affine
        self.w = opmath(params[0][:, None]) if self.has_weight else None
        if self.has_weight:
            y = y * self.w
        if self.has_bias:
            y = y + opmath(params[-1][:, None])
        return y.astype(x.dtype, copy=False).reshape(x.shape)

    def backward(self, gy):
        grads = self._grads(opmath(gy))  # (float16 in float32)
        return tuple(None if g is None else g.astype(gy.dtype, copy=False) for g in grads)

    def _grads(self, gy):
        gy3 = gy.reshape(gy.shape[:2] + (math.prod(gy.shape[2:]),))
        need = self.needs_input_grad
        grads = []
        if need[0]:
            # y = xhat * w + b per channel: dL/dxhat = gy * w, then layer_norm's row backward
            # (no weight there) gives dL/dx
            g = gy3 * self.w if self.has_weight else gy3
            gx, _, _ = layer_norm_backward(g.reshape(self.xhat.shape), self.xhat, self.rstd,
                                           None, (True, False, False))
            grads.append(gx.reshape(gy.shape))
        else:
            grads.append(None)
        if self.has_weight:  # dL/dw_c = sum over samples and positions of gy * xhat
            grads.append((gy3 * self.xhat.reshape(gy3.shape)).sum(axis=(0, 2))
                         if need[1] else None)
        if self.has_bias:  # dL/db_c = sum of gy over samples and positions
            grads.append(gy3.sum(axis=(0, 2)) if need[-1] else None)
        return tuple(grads)

    def composed(self, x, *params):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        n, c = x.shape[:2]
        spatial = math.prod(x.shape[2:])
        rows = x.reshape(n, self.groups, c // self.groups * spatial)
        y = _composed_xhat(rows, (-1,), self.eps).reshape(n, c, spatial)
        if self.has_weight:
            y = y * params[0].reshape(c, 1)
        if self.has_bias:
            y = y + params[-1].reshape(c, 1)
        return y.reshape(x.shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation (PyTorch's F.group_norm): the C channels of x (N, C, *) in
    `num_groups` groups; each (sample, group) normalised to mean 0 and variance 1 (biased, like
    layer_norm), then scaled and shifted per channel by weight and bias (C,)."""
    x = as_tensor(input)
    if x.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{x.ndim}")
    n, c = x.shape[:2]
    per_channel = n * c // num_groups * math.prod(x.shape[2:])
    if per_channel == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{[n * c // num_groups, num_groups] + list(x.shape[2:])}")
    if num_groups <= 0:
        raise RuntimeError(f"Expected num groups to be greater than 0, got {num_groups}")
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(x.shape)} and num_groups={num_groups}")
    params = []
    for name, p in (("weight", weight), ("bias", bias)):
        if p is None:
            continue
        p = as_tensor(p)
        if p.ndim != 1 or p.shape[0] != c:
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {list(p.shape)} and "
                               f"input of shape {list(x.shape)}")
        if p.dtype != x.dtype:
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float"
                               if x.dtype == np.float32 else
                               "mixed dtype (CPU): all inputs must share same datatype.")
        params.append(p)
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"GroupNormKernelImpl" not implemented for '
                                  f"'{_TENSOR_TYPES.get(x.dtype.name, x.dtype.name)}'")
    return GroupNormFunction(num_groups, eps, weight is not None, bias is not None)(x, *params)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """y = x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta, on input
    (N, C, *) with at least 3 dims (PyTorch's F.local_response_norm). Composed as PyTorch's:
    the channel window is an average pooling of x^2 zero-padded along C (size // 2 before,
    (size - 1) // 2 after), so values and gradients follow that composition's ops."""
    x = as_tensor(input)
    dim = x.ndim
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input "
                         f"(got {dim} dimensions)")
    if x.numel() == 0:
        return x
    div = x.mul(x)
    if dim == 3:  # (N, C, L): pool the channels as the rows of one plane per sample
        div = pad(div.unsqueeze(1), (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:  # (N, C, H, *): the channels as the first of three pooled dims
        sizes = x.shape
        div = div.view(sizes[0], 1, sizes[1], sizes[2], -1)
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1).view(sizes)
    div = div.mul(alpha).add(k).pow(beta)
    return x / div


__all__ = ["layer_norm", "rms_norm", "group_norm", "local_response_norm"]

