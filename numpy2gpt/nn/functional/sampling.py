"""Resampling: interpolate (upsampling), pixel_shuffle / pixel_unshuffle, fold / unfold.

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
"""

import warnings

import numpy as np

from ...autograd.function import _TENSOR_TYPES, Function, FusedFunction
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
    a = dtype(-0.75)
    s, jf = _scale(n_in, n_out, align_corners, scale, dtype), np.arange(n_out).astype(dtype)
    src = s * jf if align_corners else s * (jf + dtype(0.5)) - dtype(0.5)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    t = np.clip(src - i0.astype(dtype), dtype(0), dtype(1))

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    one = dtype(1)
    weight = np.stack([far(t + one), near(t), near(one - t), far(one - t + one)], 1)
    index = np.clip(i0[:, None] + np.arange(-1, 3), 0, n_in - 1)
    return index, weight


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
    return y.reshape(*batch, c // (r * r), h * r, w * r)


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
    return y.reshape(*batch, c * r * r, h // r, w // r)


# ----- unfold (im2col) / fold (col2im) -----------------------------------------------------------
class Im2Col(Function):
    """(N, C, H, W) -> (N, C * kh * kw, L): every sliding block of the zero-padded input as a
    column, one row per (channel, kernel offset), L = OH * OW blocks."""

    grad_fn_name = "Im2ColBackward0"
    saves_values = False  # backward needs only the shapes

    def __init__(self, hw, kernel, dilation, padding, stride, blocks):
        self.hw, self.kernel, self.dilation = hw, kernel, dilation
        self.padding, self.stride, self.blocks = padding, stride, blocks

    def forward(self, x):
        (ph, pw), (kh, kw), (oh, ow) = self.padding, self.kernel, self.blocks
        n, c = x.shape[:2]
        xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        win = window_view(xp, self.kernel, self.stride, self.dilation, self.blocks)
        return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)

    def backward(self, gy):  # the adjoint of copying blocks out is adding them back in: fold
        return Col2Im(self.hw, self.kernel, self.dilation, self.padding, self.stride,
                      self.blocks)(gy)


class Col2Im(Function):
    """(N, C * kh * kw, L) -> (N, C, H, W): the adjoint of Im2Col. Each column is a block;
    blocks are added into the (padded) image where unfold took them, the padding then cut off."""

    grad_fn_name = "Col2ImBackward0"
    saves_values = False

    def __init__(self, hw, kernel, dilation, padding, stride, blocks):
        self.hw, self.kernel, self.dilation = hw, kernel, dilation
        self.padding, self.stride, self.blocks = padding, stride, blocks

    def forward(self, cols):
        (h, w), (ph, pw), (kh, kw), (oh, ow) = self.hw, self.padding, self.kernel, self.blocks
        n, c = cols.shape[0], cols.shape[1] // (kh * kw)
        blocks = cols.reshape(n, c, kh, kw, oh, ow).transpose(2, 3, 0, 1, 4, 5)
        g = col2im(blocks, (n, c, h + 2 * ph, w + 2 * pw), self.stride, self.dilation)
        return np.ascontiguousarray(g[:, :, ph:ph + h, pw:pw + w])

    def backward(self, gy):  # fold sums blocks, so each block's gradient is a copy: unfold
        return Im2Col(self.hw, self.kernel, self.dilation, self.padding, self.stride,
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


__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle", "unfold", "fold"]
