"""Resampling: interpolate (upsampling), pixel_shuffle / pixel_unshuffle, channel_shuffle,
fold / unfold, affine_grid / grid_sample.

interpolate resamples each spatial dim on its own: output element j of a dim is a weighted sum
of a few input elements ("taps") along it - one tap with weight 1 for nearest, the two neighbours
for linear, four for cubic. Where the taps sit is PyTorch's source-index formula:

    align_corners=False: src = scale * (j + 0.5) - 0.5   (pixel centres line up)
    align_corners=True:  src = (in - 1) / (out - 1) * j   (the corner pixels line up)

with scale = in / out, or 1 / scale_factor when the caller gave a scale_factor (so
scale_factor=1.7 and the size it produces may pick different taps). As each output is a fixed
weighted sum of inputs, the gradient scatters each output's gradient back onto its taps with the
same weights.

unfold (im2col) copies every sliding block into a column, fold (col2im) sums columns back into
an image: each is the other's gradient, so they are a pair of Functions whose backwards call each
other (gradients of any order). pixel_shuffle / pixel_unshuffle only reorder elements: a reshape
and a permute.

grid_sample reads the input at arbitrary points a grid gives (normalised to [-1, 1]), with the
same kind of taps as interpolate, but chosen per output location rather than per dim; as the tap
weights depend on the grid, it is differentiable w.r.t. the grid too. affine_grid makes such a
grid from affine matrices (spatial transformer networks).
"""

import itertools
import math
import warnings

import numpy as np

from ...autograd.function import _TENSOR_TYPES, Function, FusedFunction
from ...ops._util import renamed, require_tensor
from ...ops.indexing import _add_rows, index_select
from ...tensor import Tensor, as_tensor
from ._args import int_tuple
from .conv import col2im, window_view
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d

# ----- interpolate -------------------------------------------------------------------------------


class Resample(FusedFunction):
    """Along each of the last len(taps) dims: y[j] = sum_t weight[j, t] * x[index[j, t]].
    taps: one (index, weight) pair of (out, T) arrays per resampled dim (weight None: all 1)."""

    def __init__(self, taps, grad_fn_name):
        self.taps, self.grad_fn_name = taps, grad_fn_name

    @staticmethod
    def _along(x, axis, index, weight):
        """One dim: the weighted sum of the taps, with that dim moved to the front."""
        xm = np.moveaxis(x, axis, 0)
        if weight is None:
            return np.moveaxis(xm[index[:, 0]], 0, axis)
        w = weight.astype(x.dtype, copy=False).reshape(weight.shape + (1,) * (x.ndim - 1))
        y = sum(w[:, t] * xm[index[:, t]] for t in range(index.shape[1]))
        return np.moveaxis(y, 0, axis)

    def forward(self, x):
        self.x_shape = x.shape
        lead = x.ndim - len(self.taps)
        for d, (index, weight) in enumerate(self.taps):
            x = self._along(x, lead + d, index, weight)
        return np.ascontiguousarray(x)

    def backward(self, gy):
        # y is linear in x: each output's gradient goes back to its taps, times their weights
        # (added up where taps coincide). Dim by dim, the last one first.
        lead = len(self.x_shape) - len(self.taps)
        for d in reversed(range(len(self.taps))):
            axis, (index, weight) = lead + d, self.taps[d]
            g = np.zeros(gy.shape[:axis] + (self.x_shape[axis],) + gy.shape[axis + 1:], gy.dtype)
            gm, gym = np.moveaxis(g, axis, 0), np.moveaxis(gy, axis, 0)
            for t in range(index.shape[1]):
                w = 1 if weight is None else weight[:, t].astype(gy.dtype).reshape(
                    (-1,) + (1,) * (gy.ndim - 1))
                _add_rows(gm, index[:, t], gym * w)
            gy = g
        return gy

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        lead = x.ndim - len(self.taps)
        for d, (index, weight) in enumerate(self.taps):
            axis, picked = lead + d, []
            for t in range(index.shape[1]):
                p = index_select(x, axis, index[:, t])
                if weight is not None:
                    shape = (-1,) + (1,) * (x.ndim - 1 - axis)
                    p = p * Tensor._make(weight[:, t].astype(x.dtype).reshape(shape))
                picked.append(p)
            x = sum(picked[1:], picked[0])
        return x


def _scale(n_in, n_out, align_corners, scale, dtype):
    """Input elements per output element (PyTorch's area_pixel_compute_scale), in `dtype`."""
    if align_corners:
        return dtype(n_in - 1) / dtype(n_out - 1) if n_out > 1 else dtype(0)
    if scale is not None and scale > 0:
        return dtype(1.0 / scale)
    return dtype(n_in) / dtype(n_out)


def _nearest_taps(n_in, n_out, scale, exact):
    """nearest: input floor(j * scale); nearest-exact: floor((j + 0.5) * scale), the input
    element whose centre is nearest. PyTorch computes these in float32, whatever the dtype."""
    j = np.arange(n_out)
    if n_out == n_in:
        index = j
    elif n_out == 2 * n_in and not exact:
        index = j // 2
    else:
        s = _scale(n_in, n_out, False, scale, np.float32)
        src = ((j + 0.5) * np.float64(s)).astype(np.float32) if exact else j.astype(np.float32) * s
        index = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    return index[:, None], None


def _linear_taps(n_in, n_out, align_corners, scale, dtype):
    """linear: the two inputs around src, weighted by closeness (PyTorch's
    compute_source_index_and_lambda); src is clamped at 0 on the left."""
    j = np.arange(n_out)
    if n_out == n_in:
        return j[:, None], None
    s, jf = _scale(n_in, n_out, align_corners, scale, dtype), j.astype(dtype)
    src = s * jf if align_corners else np.maximum(s * (jf + dtype(0.5)) - dtype(0.5), dtype(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam = np.clip(src - i0.astype(dtype), dtype(0), dtype(1))
    i1 = i0 + (i0 < n_in - 1)
    return np.stack([i0, i1], 1), np.stack([dtype(1) - lam, lam], 1)


def _cubic_taps(n_in, n_out, align_corners, scale, dtype):
    """bicubic: the four inputs around src (clamped at the edges), weighted by Keys' cubic
    convolution kernel with A = -0.75, as PyTorch."""
    s, jf = _scale(n_in, n_out, align_corners, scale, dtype), np.arange(n_out).astype(dtype)
    src = s * jf if align_corners else s * (jf + dtype(0.5)) - dtype(0.5)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    t = np.clip(src - i0.astype(dtype), dtype(0), dtype(1))
    weight = np.stack(_cubic_weights(t), 1)
    index = np.clip(i0[:, None] + np.arange(-1, 3), 0, n_in - 1)
    return index, weight


def _cubic_weights(t, derivative=False):
    """Keys' cubic convolution kernel (A = -0.75, as PyTorch) at the four taps -1, 0, 1, 2 around
    a point t in [0, 1) past tap 0: [w(t + 1), w(t), w(1 - t), w(2 - t)], in t's dtype; with
    derivative=True, d/dt of each."""
    a, one = t.dtype.type(-0.75), t.dtype.type(1)
    if derivative:
        def near(x):  # d/dx of the kernel for |x| <= 1
            return (3 * (a + 2) * x - 2 * (a + 3)) * x

        def far(x):  # d/dx for 1 < |x| < 2
            return (3 * a * x - 10 * a) * x + 8 * a

        # the taps past t (1 - t, 2 - t) move the other way: their derivative changes sign
        return [far(t + one), near(t), -near(one - t), -far(one - t + one)]

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + one), near(t), near(one - t), far(one - t + one)]


_INTERP_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_INTERP_KERNEL = {"nearest": "nearest", "nearest-exact": "nearest", "linear": "linear",
                  "bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}
_GRAD_NAMES = {"nearest": "UpsampleNearest", "nearest-exact": "UpsampleNearestExact",
               "linear": "UpsampleLinear", "bilinear": "UpsampleBilinear",
               "trilinear": "UpsampleTrilinear", "bicubic": "UpsampleBicubic"}


def _is_int(v):
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def _upsample(x, out, scales, mode, align_corners):
    """The upsample kernels' checks (PyTorch's upsample_Nd_common_check), then Resample."""
    sizes, k = list(x.shape[2:]), x.ndim - 2
    names = "DHW"[3 - k:]
    if any(n <= 0 for n in sizes + list(out)):
        given = ", ".join(f"{c}: {n}" for c, n in zip(names, sizes))
        wanted = ", ".join(f"{c}: {n}" for c, n in zip(names, out))
        sep = " and output" if k == 1 else " output"
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({given}){sep} ({wanted})")
    if x.numel() == 0 and 0 in x.shape[1:]:
        raise RuntimeError(f"Non-empty {x.ndim}D data tensor expected but got a tensor with "
                           f"sizes {list(x.shape)}")
    if x.dtype.kind != "f":
        kernel = _INTERP_KERNEL[mode]
        raise NotImplementedError(f"\"compute_indices_weights_{kernel}\" not implemented for "
                                  f"'{_type_name(x)}'")
    dtype = x.dtype.type
    taps = []
    for n_in, n_out, s in zip(sizes, out, scales or [None] * k):
        if mode in ("nearest", "nearest-exact"):
            taps.append(_nearest_taps(n_in, n_out, s, mode == "nearest-exact"))
        elif mode == "bicubic":
            taps.append(_cubic_taps(n_in, n_out, align_corners, s, dtype))
        else:
            taps.append(_linear_taps(n_in, n_out, align_corners, s, dtype))
    return Resample(taps, f"{_GRAD_NAMES[mode]}{k}DBackward0")(x)


def _type_name(x):
    return _TENSOR_TYPES.get(x.dtype.name, x.dtype.name)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize input (N, C, *spatial) (1 to 3 spatial dims) to `size`, or by `scale_factor`
    (output size floor(in * scale_factor)), as PyTorch's F.interpolate: mode 'nearest',
    'nearest-exact', 'linear' (3-D input), 'bilinear' / 'bicubic' (4-D), 'trilinear' (5-D) or
    'area' (adaptive average pooling). align_corners (the interpolating modes only) lines up the
    corner pixels instead of the pixel centres. recompute_scale_factor=True computes the output
    size first and then uses in / out as the scale, as if `size` had been given."""
    x = as_tensor(input)
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = x.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scale_factors = None
        if isinstance(size, list | tuple):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(x.shape[2:])} and output size of "
                    f"{size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format.")
            if not all(_is_int(v) for v in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] "
                                "or Tuple[int, int, int], but got size with types "
                                f"{[type(v) for v in size]}")
            output_size = [int(v) for v in size]
        else:
            if not _is_int(size):
                raise TypeError(f"expected size to be an int or a tuple of ints, but got "
                                f"{type(size).__name__}")
            output_size = [int(size)] * dim
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, list | tuple):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(x.shape[2:])} and scale_factor "
                    f"of shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, "
                    "...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
            scale_factors = [float(s) for s in scale_factor]
        else:
            scale_factors = [float(scale_factor)] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:  # the scales are dropped: the kernels use in / out
        output_size = [int(x.shape[i + 2] * scale_factors[i]) for i in range(dim)]
        scale_factors = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and x.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes "
                         "and requires a 4-D tensor as input")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by numpy2gpt")
    if output_size is None:  # the size a scale gives, as PyTorch's upsample kernels compute it
        output_size = [int(n * s) for n, s in zip(x.shape[2:], scale_factors)]
    if x.ndim in (3, 4, 5) and mode in ("nearest", "nearest-exact"):
        return _upsample(x, output_size, scale_factors, mode, None)
    if mode == "area" and x.ndim in (3, 4):
        pool = adaptive_avg_pool1d if x.ndim == 3 else adaptive_avg_pool2d
        return pool(x, output_size)
    if mode in _INTERP_DIMS and x.ndim == _INTERP_DIMS[mode] + 2:
        return _upsample(x, output_size, scale_factors, mode, align_corners)
    if mode in _INTERP_DIMS and x.ndim in (3, 4, 5):
        needs = _INTERP_DIMS[mode] + 2
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs {needs}D input")
    if mode == "area" and x.ndim == 5:
        raise NotImplementedError("interpolate: mode='area' of 5-D input (adaptive_avg_pool3d) "
                                  "is not supported by numpy2gpt")
    raise NotImplementedError(
        "Input Error: Only 3D, 4D and 5D input Tensors supported"
        f" (got {x.ndim}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | "
        f"lanczos | area | nearest-exact (got {mode})")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated name of interpolate (PyTorch warns, and so does this)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: interpolate(input, size, scale_factor, mode='nearest')."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='bilinear', align_corners=True)."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ----- pixel_shuffle / pixel_unshuffle -----------------------------------------------------------
def _factor(value, op, name):
    if not _is_int(value):
        raise TypeError(f"{op}(): argument '{name}' (position 2) must be int, not "
                        f"{type(value).__name__}")
    if value <= 0:
        raise RuntimeError(f"{op} expects a positive {name}, but got {value}")
    return int(value)


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r block of
    pixels (sub-pixel convolution's upsampling). Only a reshape and a permute."""
    x = as_tensor(input)
    r = _factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    if x.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {x.ndim} dimension(s)")
    *batch, c, h, w = x.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    n = len(batch)
    y = x.reshape(*batch, c // (r * r), r, r, h, w)  # channel = (c_out, i, j)
    y = y.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # (c_out, h, i, w, j)
    return _shuffled(y.reshape(*batch, c // (r * r), h * r, w * r), x, "PixelShuffleBackward0")


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of pixel_shuffle."""
    x = as_tensor(input)
    r = _factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    if x.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {x.ndim} dimension(s)")
    *batch, c, h, w = x.shape
    for name, size, axis in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by "
                               f"downscale_factor, but input.size({axis})={size} is not "
                               f"divisible by {r}")
    n = len(batch)
    y = x.reshape(*batch, c, h // r, r, w // r, r)  # (c, h, i, w, j)
    y = y.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # (c, i, j, h, w)
    return _shuffled(y.reshape(*batch, c * r * r, h // r, w // r), x, "PixelUnshuffleBackward0")


def channel_shuffle(input, groups):
    """(N, C, *) with C = g k -> the channels reordered as if a (g, k) grid were transposed:
    channel i k + j goes to j g + i (ShuffleNet's mixing of grouped convolutions' outputs)."""
    x = require_tensor(input, "channel_shuffle", "input", 1)
    if not _is_int(groups):
        raise TypeError(f"channel_shuffle(): argument 'groups' (position 2) must be int, not "
                        f"{type(groups).__name__}")
    g = int(groups)
    if x.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(x.shape)}")
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{g}")
    n, c, *rest = x.shape
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {g} groups.")
    y = x.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(x.shape)
    return _shuffled(y, x, "ChannelShuffleBackward0")


def _shuffled(y, x, grad_fn_name):
    """y, the shuffle of x by reshapes and a permute, as PyTorch returns it: a new tensor (a copy
    where the reshapes could keep x's memory, e.g. for a factor of 1, so that editing y leaves x
    alone), its node named as PyTorch's one node."""
    if np.may_share_memory(y._data, x._data):
        y = y.clone()
    return renamed(y, grad_fn_name)


# ----- unfold (im2col) / fold (col2im) -----------------------------------------------------------
class Im2Col(Function):
    """(N, C, *size) -> (N, C * prod(kernel), L): every sliding block of the zero-padded input as
    a column, one row per (channel, kernel offset), L = prod(blocks) blocks. Any number of
    spatial dims (unfold has 2; the transposed convolutions, through Col2Im, 1 to 3)."""

    grad_fn_name = "Im2ColBackward0"
    saves_values = False  # backward needs only the shapes

    def __init__(self, size, kernel, dilation, padding, stride, blocks):
        self.size, self.kernel, self.dilation = size, kernel, dilation
        self.padding, self.stride, self.blocks = padding, stride, blocks

    def forward(self, x):
        (n, c), dims = x.shape[:2], len(self.kernel)
        xp = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in self.padding)) \
            if any(self.padding) else x
        win = window_view(xp, self.kernel, self.stride, self.dilation, self.blocks)
        # (N, C, *blocks, *kernel) -> (N, C, *kernel, *blocks): rows (channel, offset)
        win = win.transpose(0, 1, *range(2 + dims, 2 + 2 * dims), *range(2, 2 + dims))
        return win.reshape(n, c * math.prod(self.kernel), math.prod(self.blocks))

    def backward(self, gy):  # the adjoint of copying blocks out is adding them back in: fold
        return Col2Im(self.size, self.kernel, self.dilation, self.padding, self.stride,
                      self.blocks)(gy)


class Col2Im(Function):
    """(N, C * prod(kernel), L) -> (N, C, *size): the adjoint of Im2Col. Each column is a block;
    blocks are added into the (padded) image where unfold took them, the padding then cut off."""

    grad_fn_name = "Col2ImBackward0"
    saves_values = False

    def __init__(self, size, kernel, dilation, padding, stride, blocks):
        self.size, self.kernel, self.dilation = size, kernel, dilation
        self.padding, self.stride, self.blocks = padding, stride, blocks

    def forward(self, cols):
        n, dims = cols.shape[0], len(self.kernel)
        c = cols.shape[1] // math.prod(self.kernel)
        # col2im takes the blocks as (*kernel, N, C, *blocks)
        blocks = cols.reshape(n, c, *self.kernel, *self.blocks) \
                     .transpose(*range(2, 2 + dims), 0, 1, *range(2 + dims, 2 + 2 * dims))
        padded = (n, c) + tuple(s + 2 * p for s, p in zip(self.size, self.padding))
        g = col2im(blocks, padded, self.stride, self.dilation)
        inside = tuple(slice(p, p + s) for p, s in zip(self.padding, self.size))
        return np.ascontiguousarray(g[(slice(None), slice(None)) + inside])

    def backward(self, gy):  # fold sums blocks, so each block's gradient is a copy: unfold
        return Im2Col(self.size, self.kernel, self.dilation, self.padding, self.stride,
                      self.blocks)(gy)


def _block_args(op, kernel_size, dilation, padding, stride):
    """kernel_size, dilation, padding, stride as pairs, with PyTorch's checks."""
    args = {}
    for name, value in (("kernel_size", kernel_size), ("dilation", dilation),
                        ("padding", padding), ("stride", stride)):
        pair = int_tuple(value, op, name, 2, 2)
        if len(pair) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(pair)}")
        args[name] = pair
    return args


def _check_blocks(args, order):
    """kernel > 0, dilation > 0, padding >= 0, stride > 0, in `order`."""
    messages = {"kernel_size": ("kernel size should be greater than zero", "kernel"),
                "dilation": ("dilation should be greater than zero", "dilation"),
                "padding": ("padding should be non-negative", "pad"),
                "stride": ("stride should be greater than zero", "stride")}
    for name in order:
        (h, w), (text, short) = args[name], messages[name]
        if (h < 0 or w < 0) if name == "padding" else (h <= 0 or w <= 0):
            raise RuntimeError(f"{text}, but got {short}_height: {h} {short}_width: {w}")


def _blocks(hw, args):
    """How many sliding blocks fit along each dim (may be < 1)."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, d, p, s in
                 zip(hw, args["kernel_size"], args["dilation"], args["padding"], args["stride"]))


def _tuple_str(pair):
    return f"({pair[0]}, {pair[1]})"


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks (im2col): input (N, C, H, W) or (C, H, W) -> (N, C * kh * kw,
    L), one column per block (L blocks), as PyTorch's F.unfold."""
    x = as_tensor(input)
    args = _block_args("im2col", kernel_size, dilation, padding, stride)
    _check_blocks(args, ("kernel_size", "dilation", "padding", "stride"))
    if x.ndim < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(x.ndim, 1)}, {max(x.ndim, 1) - 1}], but got {min(x.ndim, 2)})")
    shape = list(x.shape)
    if not ((x.ndim == 3 and 0 not in shape) or (x.ndim == 4 and 0 not in shape[1:])):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and "
                           f"other non-zero dimensions for input, but got: {shape}")
    if x.ndim == 3:
        return unfold(x.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    hw = tuple(shape[2:])
    blocks = _blocks(hw, args)
    if blocks[0] < 1 or blocks[1] < 1:
        raise RuntimeError(
            f"Given input with spatial size {_tuple_str(hw)}, kernel_size="
            f"{_tuple_str(args['kernel_size'])}, dilation={_tuple_str(args['dilation'])}, "
            f"padding={_tuple_str(args['padding'])}, calculated shape of the array of sliding "
            f"blocks as {_tuple_str(blocks)}, but its components must be at least one.")
    if x.dtype.kind in "iu":
        raise NotImplementedError(f"\"im2col_out_cpu\" not implemented for '{_type_name(x)}'")
    return Im2Col(hw, args["kernel_size"], args["dilation"], args["padding"], args["stride"],
                  blocks)(x)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding local blocks into an image (col2im), summing where blocks overlap:
    input (N, C * kh * kw, L) or (C * kh * kw, L) -> (N, C, *output_size), as PyTorch's F.fold.
    fold(unfold(x)) is x times how many blocks cover each element."""
    x = as_tensor(input)
    hw = int_tuple(output_size, "col2im", "output_size", 2, 2)
    if len(hw) != 2:
        raise RuntimeError(f"It is expected output_size equals to 2, but got size {len(hw)}")
    args = _block_args("col2im", kernel_size, dilation, padding, stride)
    _check_blocks(args, ("kernel_size", "stride", "dilation", "padding"))
    shape = list(x.shape)
    if not ((x.ndim == 2 and 0 not in shape) or (x.ndim == 3 and 0 not in shape[1:])):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: {shape}")
    if x.ndim == 2:
        return fold(x.unsqueeze(0), output_size, kernel_size, dilation, padding,
                    stride).squeeze(0)
    (kh, kw), blocks = args["kernel_size"], _blocks(hw, args)
    if shape[1] % (kh * kw):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={shape[1]} and "
                           f"kernel_size=({kh}, {kw}).")
    described = (f"Given output_size={_tuple_str(hw)}, kernel_size={_tuple_str((kh, kw))}, "
                 f"dilation={_tuple_str(args['dilation'])}, padding="
                 f"{_tuple_str(args['padding'])}, stride={_tuple_str(args['stride'])}, ")
    if shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(f"{described}expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size(2)={shape[2]}.")
    if blocks[0] < 1 or blocks[1] < 1:
        raise RuntimeError(f"{described}calculated shape of the array of sliding blocks as "
                           f"{_tuple_str(blocks)}, which is invalid.")
    if x.dtype.kind in "iu":
        raise NotImplementedError(f"\"col2im_out_cpu\" not implemented for '{_type_name(x)}'")
    return Col2Im(hw, (kh, kw), args["dilation"], args["padding"], args["stride"], blocks)(x)


# ----- affine_grid / grid_sample ------------------------------------------------------------------
_ALIGN_CORNERS_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                          "align_corners=False since 1.3.0. Please specify align_corners=True if "
                          "the old behavior is desired. See the documentation of grid_sample for "
                          "details.")


def _linspace_from_neg_one(n, align_corners, dtype):
    """affine_grid's n sample coordinates along one dim, in [-1, 1]: the centres of the corner
    pixels at -1 and 1 (align_corners), else the pixel centres of an image whose edges are at
    -1 and 1. Computed as PyTorch's linspace does (from both ends towards the middle)."""
    if n <= 1:
        return np.zeros(1, dtype)
    step = np.float64(dtype(2 / (n - 1)))
    i = np.arange(n)
    r = np.where(i < n // 2, -1 + step * i, 1 - step * (n - 1 - i)).astype(dtype)
    return r if align_corners else (r * (n - 1) / n).astype(dtype)


class AffineGridGenerator(FusedFunction):
    """grid[n] = base @ theta[n]^T: each output pixel's homogeneous coordinates (x, y, 1) (or
    (x, y, z, 1)) mapped by the affine matrix theta[n]. Linear in theta, so its gradient is
    base^T @ grad for every sample."""

    def __init__(self, base, shape):
        self.base, self.shape = base, shape  # base: (pixels, k + 1); shape: the grid's

    def forward(self, theta):
        return np.matmul(self.base, theta.transpose(0, 2, 1)).reshape(self.shape)

    def backward(self, gy):
        gy = gy.reshape(gy.shape[0], -1, gy.shape[-1])  # (N, pixels, k)
        return np.matmul(gy.transpose(0, 2, 1), self.base)

    def composed(self, theta):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        return (Tensor._make(self.base) @ theta.transpose(1, 2)).reshape(self.shape)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps (PyTorch's F.affine_grid), for grid_sample
    (spatial transformer networks). theta: (N, 2, 3) for size (N, C, H, W), giving a grid
    (N, H, W, 2); or (N, 3, 4) for size (N, C, D, H, W), giving (N, D, H, W, 3). Each output
    pixel's normalised coordinates (x, y[, z], 1) times theta^T."""
    if align_corners is None:
        warnings.warn(_ALIGN_CORNERS_WARNING, stacklevel=2)
        align_corners = False
    if not isinstance(theta, Tensor):
        raise AttributeError(f"'{type(theta).__name__}' object has no attribute "
                             "'is_floating_point'")
    if theta.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got "
                         f"torch.{theta.dtype.name}")
    size = tuple(size)
    if len(size) in (4, 5):
        k = len(size) - 2
        if theta.ndim != 3 or theta.shape[-2:] != (k, k + 1):
            shape = "Nx2x3" if k == 2 else "Nx3x4"
            raise ValueError(f"Expected a batch of {k}D affine matrices of shape {shape} for "
                             f"size {size}. Got torch.Size({list(theta.shape)}).")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids "
                      "when align_corners=True. This is not an intended use case of affine_grid. "
                      "See the documentation of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    for pos, v in enumerate(size):
        if not _is_int(v):
            raise TypeError(f"affine_grid_generator(): argument 'size' failed to unpack the "
                            f"object at pos {pos + 1} with error \"type must be tuple of ints,but "
                            f"got {type(v).__name__}\"")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{size[0]}, {k + 1}] but got: [{theta.shape[0]}, {k + 1}].")
    dtype = theta.dtype.type
    # (x, y[, z], 1) for every output pixel: x runs along the last dim (W), y along H, z along D
    axes = [_linspace_from_neg_one(n, align_corners, dtype) for n in reversed(spatial)]
    mesh = np.meshgrid(*axes[::-1], indexing="ij")[::-1]  # x first
    ones = np.ones(mesh[0].shape, dtype)
    base = np.stack([*mesh, ones], -1).reshape(-1, k + 1)
    return AffineGridGenerator(base, (size[0], *spatial, k))(theta)


def _unnormalize(g, n, align_corners):
    """Grid coordinates in [-1, 1] -> pixel positions along a dim of n pixels: -1 and 1 are the
    centres of the corner pixels (align_corners) or the outer edges of the corner pixels.
    Returns the positions and d position / d g (a constant)."""
    if align_corners:
        scale = g.dtype.type(n - 1) / 2
        return (g + 1) * scale, scale
    scale = g.dtype.type(n) / 2
    return (g + 1) * scale - g.dtype.type(0.5), scale


def _clip(p, n):
    """Positions clamped to the pixel centres [0, n - 1] (NaN to 0, as PyTorch), and the
    clamp's derivative: 1 strictly inside, 0 at and past the borders."""
    q = np.fmin(np.fmax(p, 0), n - 1).astype(p.dtype)
    return q, ((q > 0) & (q < n - 1)).astype(p.dtype)


def _reflect(p, n, align_corners):
    """Positions mirrored at the borders until they fall inside (between the centres of the
    corner pixels with align_corners, else between the image edges -0.5 and n - 0.5), and the
    derivative, +1 or -1 (an odd number of mirrorings reverses the direction)."""
    dt = p.dtype.type
    if align_corners and n <= 1:
        return np.zeros_like(p), np.zeros_like(p)
    low = dt(0) if align_corners else dt(-0.5)
    period = dt(2 * (n - 1)) if align_corners else dt(2 * n)  # there and back
    d = p - low
    extra = np.abs(d)
    extra = extra - np.trunc(extra / period) * period  # where in one period
    back = period - extra
    flip = extra > back  # on the way back
    sign = np.where(flip ^ (d < 0), dt(-1), dt(1))
    return np.where(flip, back, extra) + low, sign


def _pad_positions(p, n, padding_mode, align_corners):
    """Positions outside the image moved in by the padding mode ('zeros' leaves them: they read
    0), and d new / d old."""
    if padding_mode == "border":
        return _clip(p, n)
    if padding_mode == "reflection":
        p, sign = _reflect(p, n, align_corners)
        p, inside = _clip(p, n)
        return p, sign * inside
    return p, np.ones_like(p)


def _taps_1d(g, n, mode, padding_mode, align_corners):
    """Along one spatial dim of n pixels: for grid coordinates g, the input pixels each output
    reads ("taps") as (index, in bounds, weight, d weight / d g) tuples, one per tap."""
    if mode == "bicubic":  # four taps around the unpadded position; each tap is padded itself
        p, scale = _unnormalize(g, n, align_corners)
        i0 = np.floor(p)
        t = p - i0
        weights, slopes = _cubic_weights(t), _cubic_weights(t, derivative=True)
        taps = []
        for k in range(4):
            at, _ = _pad_positions(i0 + (k - 1), n, padding_mode, align_corners)
            taps.append((np.trunc(at), weights[k], slopes[k] * scale))
    else:
        p, scale = _unnormalize(g, n, align_corners)
        p, dp = _pad_positions(p, n, padding_mode, align_corners)
        if mode == "nearest":  # the nearest pixel (ties to even, as PyTorch)
            taps = [(np.rint(p), np.ones_like(p), np.zeros_like(p))]
        else:  # linear: the pixels either side, weighted by closeness
            i0 = np.floor(p)
            frac = p - i0
            slope = dp * scale
            taps = [(i0, 1 - frac, -slope), (i0 + 1, frac, slope)]
    result = []
    for at, weight, slope in taps:
        inside = (at > -1) & (at < n)  # False for NaN
        result.append((np.where(inside, at, 0).astype(np.int64), inside, weight, slope))
    return result


class GridSampler(FusedFunction):
    """output[n, c, *o] = sum over taps of weight * input[n, c, tap]: each output location reads
    the input where grid[n, *o] points, interpolated from a few pixels (taps). The taps of a 2-D
    (3-D) sample are all combinations of the taps along each dim, their weight the product of
    the per-dim weights."""

    def __init__(self, mode, padding_mode, align_corners):
        self.mode, self.padding_mode, self.align_corners = mode, padding_mode, align_corners

    def forward(self, x, grid):
        n, c, *spatial = x.shape
        k = len(spatial)
        g = grid.reshape(n, int(np.prod(grid.shape[1:-1])), k)  # (N, Q, k): x, y(, z) each
        per_dim = [_taps_1d(g[..., k - 1 - d], size, self.mode, self.padding_mode,
                            self.align_corners) for d, size in enumerate(spatial)]
        strides = np.cumprod([1, *spatial[:0:-1]])[::-1]  # of the flattened spatial dims
        self.taps = []  # (flat index, in bounds, weight along each dim, their d / d g)
        for combo in itertools.product(*per_dim):
            index, inside, weights, slopes = zip(*combo)
            self.taps.append((sum(i * stride for i, stride in zip(index, strides)),
                              np.logical_and.reduce(inside), weights, slopes))
        xf = x.reshape(n, c, int(np.prod(spatial)))
        out = np.zeros((n, c, g.shape[1]), x.dtype)
        for index, inside, weights, _ in self.taps:
            out += np.prod(weights, axis=0)[:, None] * self._read(xf, index, inside)
        return out.reshape(n, c, *grid.shape[1:-1])

    @staticmethod
    def _read(xf, index, inside):
        """input values at the taps (N, C, Q), 0 outside the image."""
        values = np.take_along_axis(xf, index[:, None, :], 2)
        return np.where(inside[:, None, :], values, 0).astype(xf.dtype, copy=False)

    def backward(self, gy):
        x, grid = self.inputs[0]._data, self.inputs[1]._data
        n, c, *spatial = x.shape
        k, pixels = len(spatial), int(np.prod(spatial))
        gyf = gy.reshape(n, c, int(np.prod(grid.shape[1:-1])))
        gx = ggrid = None
        if self.needs_input_grad[0]:
            # each output's gradient goes back to its taps, times their weights; rows (n, pixel)
            gx = np.zeros((n * pixels, c), x.dtype)
            rows = np.arange(n)[:, None] * pixels
            for index, inside, weights, _ in self.taps:
                weight = np.prod(weights, axis=0)[:, None]
                contribution = (gyf * weight).transpose(0, 2, 1)  # (N, Q, C)
                _add_rows(gx, (rows + index)[inside], contribution[inside])
            gx = gx.reshape(n, pixels, c).transpose(0, 2, 1).reshape(x.shape)
        if self.needs_input_grad[1]:
            # d output / d g_d = sum over taps of input * (d weight_d / d g_d) * (the other
            # dims' weights); nearest's output is piecewise constant in g: gradient 0
            ggrid = np.zeros((n, gyf.shape[2], k), grid.dtype)
            if self.mode != "nearest":
                xf = x.reshape(n, c, pixels)
                for index, inside, weights, slopes in self.taps:
                    seen = (self._read(xf, index, inside) * gyf).sum(1)  # (N, Q)
                    for d in range(k):
                        others = np.prod(weights[:d] + weights[d + 1:], axis=0)
                        ggrid[..., k - 1 - d] += seen * slopes[d] * others
            ggrid = ggrid.reshape(grid.shape)
        return gx, ggrid


_GRID_KERNELS = {2: "grid_sampler_2d_cpu_kernel_impl", 3: "grid_sampler3d_cpu"}


def _check_grid_sampler(x, grid, mode):
    """PyTorch's checks of grid_sampler's input and grid, in its order."""
    if x.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but "
                           f"got input with sizes {list(x.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if grid.shape[-1] != x.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {x.ndim - 2} in last "
                           f"dimension, but got grid with sizes {list(grid.shape)}")
    for i in range(2, x.ndim):
        if x.shape[i] <= 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {list(x.shape)} with dimension "
                               f"{i} being empty")
    k = 2 if x.ndim == 4 else 3
    if x.ndim != k + 2 or grid.ndim != x.ndim:
        raise RuntimeError(f"grid_sampler(): expected {k + 2}D input and grid with same number of "
                           f"dimensions, but got input with sizes {list(x.shape)} and grid with "
                           f"sizes {list(grid.shape)}")
    if k == 3 and mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"{_GRID_KERNELS[k]}" not implemented for '
                                  f"'{_type_name(x)}'")
    if grid.dtype != x.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(x)} but found {_type_name(grid)}")
    return k


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample input (N, C, H, W) at the locations grid (N, H_out, W_out, 2) gives, as PyTorch's
    F.grid_sample; output (N, C, H_out, W_out). Also 5-D: input (N, C, D, H, W), grid
    (N, D_out, H_out, W_out, 3).

    grid holds (x, y[, z]) normalised to [-1, 1] over the input's width, height (and depth).
    mode: 'bilinear' (trilinear for 5-D), 'nearest' or 'bicubic' (4-D only). padding_mode for
    locations outside: 'zeros', 'border' (the edge pixel) or 'reflection' (mirrored at the
    border). Differentiable w.r.t. input and grid (nearest: zero gradient for grid)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_CORNERS_WARNING, stacklevel=2)
        align_corners = False
    require_tensor(input, "grid_sampler", "input", 1)
    require_tensor(grid, "grid_sampler", "grid", 2)
    if not isinstance(align_corners, bool | np.bool_):
        raise TypeError(f"grid_sampler(): argument 'align_corners' (position 5) must be bool, not "
                        f"{type(align_corners).__name__}")
    k = _check_grid_sampler(input, grid, mode)
    fn = GridSampler(mode, padding_mode, bool(align_corners))
    fn.grad_fn_name = f"GridSampler{k}DBackward0"
    return fn(input, grid)


__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle", "channel_shuffle", "unfold", "fold", "affine_grid", "grid_sample"]
