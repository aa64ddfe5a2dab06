"""Padding layers, Upsample, PixelShuffle / PixelUnshuffle, ChannelShuffle, Fold / Unfold: F.pad,
F.interpolate, F.pixel_shuffle / pixel_unshuffle, F.channel_shuffle and F.fold / unfold with their
arguments stored, as PyTorch's torch/nn/modules/padding.py, upsampling.py, pixelshuffle.py,
channelshuffle.py and fold.py."""

from .. import functional as F
from .conv import _ntuple
from .module import Module


# ----- padding -----------------------------------------------------------------------------------
class _PadNd(Module):
    """Pads with F.pad's `mode`. padding: an int (every side) or the tuple F.pad takes,
    (left, right) for 1-D, (left, right, top, bottom) for 2-D, (left, right, top, bottom,
    front, back) for 3-D."""

    mode = None
    dims = None

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(padding, 2 * self.dims)

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    mode = "constant"

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with `value`."""

    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with `value`."""

    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with `value`."""

    dims = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last three dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad the last dim of (C, W) or (N, C, W) with its mirror image (the edge not repeated)."""

    mode, dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Pad the last two dims of (C, H, W) or (N, C, H, W) with their mirror image."""

    mode, dims = "reflect", 2


class ReflectionPad3d(_PadNd):
    """Pad the last three dims of (C, D, H, W) or (N, C, D, H, W) with their mirror image."""

    mode, dims = "reflect", 3


class ReplicationPad1d(_PadNd):
    """Pad the last dim of (C, W) or (N, C, W) by repeating its edge element."""

    mode, dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Pad the last two dims of (C, H, W) or (N, C, H, W) by repeating the edge elements."""

    mode, dims = "replicate", 2


class ReplicationPad3d(_PadNd):
    """Pad the last three dims of (C, D, H, W) or (N, C, D, H, W) by repeating the edge
    elements."""

    mode, dims = "replicate", 3


class _CircularPadNd(_PadNd):
    mode = "circular"

    def forward(self, input):
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"expected {self.dims + 1}D or {self.dims + 2}D input (got "
                             f"{input.ndim}D input)")
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pad the last dim of (C, W) or (N, C, W) by wrapping around (periodic boundary)."""

    dims = 1


class CircularPad2d(_CircularPadNd):
    """Pad the last two dims of (C, H, W) or (N, C, H, W) by wrapping around."""

    dims = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last three dims of (C, D, H, W) or (N, C, D, H, W) by wrapping around."""

    dims = 3


# ----- upsampling --------------------------------------------------------------------------------
class Upsample(Module):
    """F.interpolate with its arguments stored: resize to `size` or by `scale_factor`."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        return info + ", mode=" + repr(self.mode)


class UpsamplingNearest2d(Upsample):
    """Upsample(mode='nearest') for (N, C, H, W)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample(mode='bilinear', align_corners=True) for (N, C, H, W)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


# ----- pixel shuffle -----------------------------------------------------------------------------
class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r), r = upscale_factor (F.pixel_shuffle)."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W), r = downscale_factor (F.pixel_unshuffle)."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """(N, C, *) with C = groups k: the channels reordered as a transposed (groups, k) grid
    (F.channel_shuffle)."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"


# ----- fold / unfold -----------------------------------------------------------------------------
class Fold(Module):
    """Sum sliding blocks (columns) into an image of output_size (F.fold, col2im)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class Unfold(Module):
    """Copy every sliding block of the image into a column (F.unfold, im2col)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d", "ChannelShuffle", "Upsample", "UpsamplingNearest2d",
           "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle", "Fold", "Unfold"]
