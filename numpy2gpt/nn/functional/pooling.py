"""Pooling: max, average, adaptive max, adaptive average and power-average (Lp) over 1-D, 2-D
and 3-D windows.

The 2-D and 3-D ops work on (N, C, *spatial) or (C, *spatial); a 1-D pooling is the 2-D one on
planes of height 1, as in PyTorch.

max:      the windows come from conv.py's window_view (a strided view, one copy to take the
          argmax); backward puts each output's gradient on its window's argmax and sums the
          windows back onto the input with conv.py's col2im.
average:  a window sum is separable, a sum along each spatial dim in turn, so the sums of all
          windows are a few small matmuls with 0/1 masks: in 2-D S = R @ x @ C^T, with R (OH, H)
          and C (OW, W) marking which rows / columns each window covers (3-D adds one more mask).
          y = S / divisor; backward is the transpose, in 2-D dL/dx = R^T @ (gy / divisor) @ C.
          Adaptive average pooling is the same with PyTorch's window bounds for an output size.
adaptive max: the windows have different sizes, so each is gathered through an index array
          padded to the largest window (a short window repeats its last element, which changes no
          maximum); backward adds each output's gradient onto its maximum's element.
Lp:       PyTorch's composition, (sum of x^p over the window)^(1/p), from avg_pool.
"""

import functools
import math
import re

import numpy as np

from ...autograd.function import _TENSOR_TYPES, FusedFunction
from ...ops.creation import rand
from ...tensor import Tensor, as_tensor
from ._args import int_tuple
from .activation import pad, relu
from .conv import col2im, output_size, window_stack, window_view


def _lowest(dtype):
    """The padding value of max pooling: below every value of the dtype (or equal to its min)."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _spatial_slices(padding, sizes):
    """The slices of a padded array's spatial dims that hold the input (padding cut off)."""
    return (slice(None), slice(None)) + tuple(slice(lo, lo + n) for (lo, _), n in
                                              zip(padding, sizes))


# ----- max pooling -------------------------------------------------------------------------------
class MaxPoolFunction(FusedFunction):
    """y = the maximum of each window of x, viewed as `shape` (N, C, *spatial) with 2 or 3
    spatial dims, reshaped to `out_shape`. padding: one (before, after) pair per spatial dim,
    where `after` includes ceil mode's extra partial window."""

    def __init__(self, shape, out_shape, kernel, stride, padding, dilation, out):
        self.shape, self.out_shape, self.kernel, self.stride = shape, out_shape, kernel, stride
        self.padding, self.dilation, self.out = padding, dilation, out
        self.grad_fn_name = f"MaxPool{len(kernel)}DWithIndicesBackward0"

    def _padded_shape(self):
        return self.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in
                                      zip(self.shape[2:], self.padding))

    def forward(self, x):
        self.x_shape = x.shape
        xs = x.reshape(self.shape)
        xp = np.pad(xs, ((0, 0), (0, 0)) + self.padding, constant_values=_lowest(x.dtype))
        win = window_view(xp, self.kernel, self.stride, self.dilation, self.out)
        win = win.reshape(win.shape[:2 + len(self.kernel)] + (math.prod(self.kernel),))
        arg = win.argmax(axis=-1)  # NumPy's rule: the first maximum, or the first NaN
        self.arg = self._pytorch_ties(win, arg, x.dtype)
        return np.take_along_axis(win, self.arg[..., None], axis=-1).reshape(self.out_shape)

    def _pytorch_ties(self, win, arg, dtype):
        """PyTorch's argmax where it differs from NumPy's: the LAST NaN of a window; and where
        all the input a window covers holds the lowest value (-inf), or the window covers no
        input at all, the window's first element at or after the input's start in every dim."""
        if dtype.kind == "f":
            nan = np.isnan(win)
            if nan.any():
                last_nan = win.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
                arg = np.where(nan.any(axis=-1), last_nan, arg)
        if any(p for pair in self.padding for p in pair):
            stuck = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0] == _lowest(dtype)
            if stuck.any():
                arg = np.where(stuck, self._first_unpadded(), arg)
        return arg

    def _first_unpadded(self):
        """Per window (*out), the flat kernel offset where PyTorch starts its search: in each dim
        the first offset at or after the input's start (beyond the input's end for a window of
        right padding only)."""
        flat = 0
        for axis, ((lo, _), o, s, d, k) in enumerate(zip(self.padding, self.out, self.stride,
                                                         self.dilation, self.kernel)):
            first = -(-np.maximum(lo - np.arange(o) * s, 0) // d)  # ceil(left overhang / d)
            flat = flat * k + first.reshape((o,) + (1,) * (len(self.out) - 1 - axis))
        return flat

    def indices(self):
        """The flat index (h * W + w in 2-D, (t * H + h) * W + w in 3-D) in its input plane of
        each output's maximum."""
        offsets = np.unravel_index(self.arg, self.kernel)
        dims, flat = len(self.kernel), 0
        for axis, (offset, size, o, s, (lo, _), d) in enumerate(zip(
                offsets, self.shape[2:], self.out, self.stride, self.padding, self.dilation)):
            start = (np.arange(o) * s - lo).reshape((o,) + (1,) * (dims - 1 - axis))
            flat = flat * size + start + offset * d
        return np.asarray(flat, dtype=np.int64)

    def backward(self, gy):
        gy_s = gy.reshape(self.arg.shape)
        # the gradient of a maximum goes to the element that was the maximum, nowhere else
        cols = np.zeros((math.prod(self.kernel),) + self.arg.shape, dtype=gy.dtype)
        np.put_along_axis(cols, self.arg[None], gy_s[None], axis=0)
        gxp = col2im(cols.reshape(self.kernel + self.arg.shape), self._padded_shape(),
                     self.stride, self.dilation)
        return gxp[_spatial_slices(self.padding, self.shape[2:])].reshape(self.x_shape)

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        pads = tuple(p for pair in reversed(self.padding) for p in pair)
        xp = pad(x.reshape(self.shape), pads, value=-math.inf)
        win = window_stack(xp, self.kernel, self.stride, self.dilation, self.out)
        return win.gather(-1, Tensor._make(self.arg[..., None])).reshape(self.out_shape)


def _batched(shape, dims):
    """Planes (C, *spatial) as a batch of one (1, C, *spatial); (N, C, *spatial) stays."""
    return shape if len(shape) == dims + 2 else (1,) + shape


def _out_shape(x, shape, out):
    """The output's shape: x's, with the planes' spatial sizes replaced by out; for a 1-D op
    (x one dim fewer than its planes `shape`) only its L, by OW."""
    if x.ndim == len(shape):
        return tuple(x.shape[:-len(out)]) + out
    return tuple(x.shape[:-1]) + out[1:]


_COUNT = {2: "two", 3: "three"}


def _lengths(op, values, name, dims=2, allow_empty=False):
    """PyTorch's check that a pooling argument has 1 or `dims` values (or none, for stride)."""
    if len(values) in (1, dims) or (allow_empty and not values):
        return
    n = _COUNT[dims]
    if op == "avg_pool3d":
        what = {"kernel_size": "must be a single int", "padding": "must be a single int",
                "stride": "must be omitted, a single int"}[name]
    else:
        what = {"kernel_size": "must either be a single int",
                "stride": "must either be omitted, a single int",
                "padding": "must either be a single int",
                "dilation": "must be either a single int"}[name]
    raise RuntimeError(f"{op}: {name} {what}, or a tuple of {n} ints")


def _expand(values, dims, default=None):
    """One value per spatial dim from 1 or `dims` values; empty (an omitted stride) gives
    `default`."""
    if not values:
        return default
    return values if len(values) == dims else values * dims


def _c_div(a, b):
    """Integer division rounding toward zero, as C++'s."""
    return abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)


def _out_dim(size, kernel, pad_, stride, dilation, ceil_mode):
    """One dim's output size with PyTorch's checks (pooling_output_shape)."""
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if pad_ < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {pad_}")
    if pad_ > _c_div((kernel - 1) * dilation + 1, 2):
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                           f"pad={pad_}, kernel_size={kernel} and dilation={dilation}")
    return output_size(size, kernel, pad_, pad_, stride, dilation, ceil_mode)


def _shape_check(shape, kernel, stride, padding, dilation, out):
    """PyTorch's pool2d_shape_check."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {sh} dW: {sw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {dh} "
                           f"dilationW: {dw}")
    if 0 in shape[-3:]:
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch "
                           f"size for input, but got:{list(shape)}")
    # stricter than _out_dim's check when dilated: the kernel itself, not its span
    if pw > _c_div(kw, 2) or ph > _c_div(kh, 2):
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got "
                           f"padW = {pw}, padH = {ph}, kW = {kw}, kH = {kh}")
    if out[0] < 1 or out[1] < 1:
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, shape[-3:]))}). Calculated "
                           f"output size: ({shape[-3]}x{out[0]}x{out[1]}). Output size is too "
                           "small")


def _shape_check_3d(op, shape, kernel, stride, padding, dilation, out, check_input_size=False):
    """PyTorch's pool3d_shape_check; check_input_size (average pooling): no kernel larger than
    the input."""
    (kt, kh, kw), (st, sh, sw), (pt, ph, pw), (dt, dh, dw) = kernel, stride, padding, dilation
    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kT: {kt} kH: {kh} "
                           f"kW: {kw}")
    if min(stride) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dT: {st} dH: {sh} "
                           f"dW: {sw}")
    if min(dilation) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationT: {dt} "
                           f"dilationH: {dh} dilationW: {dw}")
    for size in shape[len(shape) - 4:]:  # the batch (of a 5-D input) may be empty
        if size <= 0:
            raise RuntimeError(f"{op}: Expected input's non-batch dimensions to have positive "
                               f"length, but input has a shape of {list(shape)} and non-batch "
                               f"dimension {size} has length zero!")
    t, h, w = shape[-3:]
    if check_input_size and (t < kt or h < kh or w < kw):
        raise RuntimeError(f"input image (T: {t} H: {h} W: {w}) smaller than kernel size "
                           f"(kT: {kt} kH: {kh} kW: {kw})")
    if pt > _c_div(kt, 2) or pw > _c_div(kw, 2) or ph > _c_div(kh, 2):
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got "
                           f"kT: {kt} kW: {kw} kH: {kh} padT: {pt} padW: {pw} padH: {ph}")
    if min(out) < 1:
        raise RuntimeError(f"Given input size: ({shape[-4]}x{t}x{h}x{w}). Calculated output size:"
                           f" ({shape[-4]}x{'x'.join(map(str, out))}). Output size is too small")


def _not_implemented(x, kernel, kinds):
    if x.dtype.kind in kinds:
        name = _TENSOR_TYPES.get(x.dtype.name, x.dtype.name)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')


def _max_pool(x, shape, kernel, stride, padding, dilation, ceil_mode, return_indices):
    """Max pooling of x viewed as `shape` ((N,) C, *spatial), arguments already one value per
    spatial dim (2 or 3 of them)."""
    dims = len(kernel)
    spatial = shape[-dims:]
    out = tuple(_out_dim(size, k, p, s, d, ceil_mode) for size, k, p, s, d in
                zip(spatial, kernel, padding, stride, dilation))
    if dims == 2:
        _shape_check(shape, kernel, stride, padding, dilation, out)
        _not_implemented(x, "max_pool2d", "b")
    else:
        _shape_check_3d("max_pool3d_with_indices_out_cpu_template()", shape, kernel, stride,
                        padding, dilation, out)
        _not_implemented(x, "max_pool3d", "b")
    # beyond the padding, ceil mode's last window may need more at the end
    pads = tuple((p, max(p, (o - 1) * s + d * (k - 1) + 1 - size - p))
                 for size, k, p, s, d, o in zip(spatial, kernel, padding, stride, dilation, out))
    fn = MaxPoolFunction(_batched(shape, dims), _out_shape(x, shape, out), kernel, stride, pads,
                         dilation, out)
    y = fn(x)
    return (y, Tensor._make(fn.indices().reshape(y.shape))) if return_indices else y


def _max_pool_nd(op, dims, input, kernel_size, stride, padding, dilation, ceil_mode,
                 return_indices):
    """max_pool2d / max_pool3d: PyTorch's argument parsing and checks, then _max_pool."""
    x = as_tensor(input)
    kernel = int_tuple(kernel_size, op, "kernel_size", 2, dims)
    stride = () if stride is None else int_tuple(stride, op, "stride", 3, dims)
    padding = int_tuple(padding, op, "padding", 4, dims)
    dilation = int_tuple(dilation, op, "dilation", 5, dims)
    _lengths(op, kernel, "kernel_size", dims)
    _lengths(op, stride, "stride", dims, allow_empty=True)
    _lengths(op, padding, "padding", dims)
    _lengths(op, dilation, "dilation", dims)
    if x.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"non-empty {dims + 1}D or {dims + 2}D (batch mode) tensor expected "
                           "for input")
    kernel = _expand(kernel, dims)
    return _max_pool(x, tuple(x.shape), kernel, _expand(stride, dims, kernel),
                     _expand(padding, dims), _expand(dilation, dims), ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each (kh, kw) window of input (N, C, H, W) or (C, H, W), windows every
    `stride` (default: kernel_size) after padding each side with -inf (PyTorch's F.max_pool2d).
    return_indices=True also gives each maximum's flat index h * W + w in its plane."""
    return _max_pool_nd("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                        ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each (kt, kh, kw) window of input (N, C, T, H, W) or (C, T, H, W)
    (PyTorch's F.max_pool3d). return_indices=True also gives each maximum's flat index
    (t * H + h) * W + w in its volume."""
    return _max_pool_nd("max_pool3d", 3, input, kernel_size, stride, padding, dilation,
                        ceil_mode, return_indices)


def _check_1d(op, values, name):
    if len(values) != 1:
        raise RuntimeError(f"{op}() argument '{name}' should contain one int (got {len(values)})")


def _check_dim_range(op, x):
    if x.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {x.ndim}-dimensional tensor for "
                           f"argument #1 'self' (while checking arguments for {op})")


def _as_planes(x):
    """A 1-D op's input (.., L) as planes of height 1 (.., 1, L)."""
    return tuple(x.shape[:-1]) + (1, x.shape[-1])


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window of input (N, C, L) or (C, L) (PyTorch's F.max_pool1d)."""
    x = as_tensor(input)
    op = "max_pool1d"
    kernel = int_tuple(kernel_size, op, "kernel_size", 2, 1)
    stride = kernel if stride is None else int_tuple(stride, op, "stride", 3, 1)
    padding = int_tuple(padding, op, "padding", 4, 1)
    dilation = int_tuple(dilation, op, "dilation", 5, 1)
    if return_indices:  # PyTorch's max_pool1d_with_indices: max_pool2d's checks on planes
        _check_dim_range(op, x)
        for name, values in (("kernel_size", kernel), ("stride", stride or kernel),
                             ("padding", padding), ("dilation", dilation)):
            _check_1d(op, values, name)
    else:
        _check_max_pool1d(x, kernel, stride, padding, dilation, ceil_mode)
    stride = stride or kernel
    return _max_pool(x, _as_planes(x), (1, kernel[0]), (1, stride[0]), (0, padding[0]),
                     (1, dilation[0]), ceil_mode, return_indices)


def _check_max_pool1d(x, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's own checks of max_pool1d (without indices)."""
    shape = list(x.shape)
    if not (x.ndim == 2 and 0 not in shape) and not (x.ndim == 3 and 0 not in shape[1:]):
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{shape}")
    for name, values, kind in (("kernel_size", kernel, "an int, list of ints or tuple of ints"),
                               ("stride", stride, "None, an int, list of ints, or tuple of ints"),
                               ("padding", padding, "an int, list of ints, or tuple of ints"),
                               ("dilation", dilation, "an int, list of ints or tuple of ints")):
        if len(values) != 1 and not (name == "stride" and not values):
            raise RuntimeError(f"max_pool1d() {name} must be {kind} of size 1 but got size "
                               f"{len(values)}")
    k, p, d = kernel[0], padding[0], dilation[0]
    if k <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
    if stride and stride[0] <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {stride[0]}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got "
                           f"padding={p} and kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")
    out = output_size(shape[-1], k, p, p, (stride or kernel)[0], d, ceil_mode)
    if out <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")
    _not_implemented(x, "max_pool1d_impl", "biu")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """max_pool1d that always returns (output, indices) (PyTorch's alias; return_indices is
    ignored)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """max_pool2d that always returns (output, indices) (PyTorch's alias)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """max_pool3d that always returns (output, indices) (PyTorch's alias)."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ----- max unpooling -----------------------------------------------------------------------------
class MaxUnpoolFunction(FusedFunction):
    """y = zeros of `out_shape` (*planes, *out), each element of x (*planes, *in) written at
    its flat position `index` (x's shape) in its plane; dims: 2 or 3 spatial dims (a later
    duplicate index overwrites an earlier one, as PyTorch's loop does)."""

    def __init__(self, index, out_shape, dims):
        self.index, self.out_shape = index, out_shape
        self.grad_fn_name = f"MaxUnpool{dims}DBackward0"
        self.planes = math.prod(index.shape[:-dims])
        self.in_plane, self.out_plane = math.prod(index.shape[-dims:]), math.prod(out_shape[-dims:])

    def _planes(self):
        """(planes, elements of an output plane, elements of an input plane)."""
        return self.planes, self.out_plane, self.in_plane

    def forward(self, x):
        self.x_shape = x.shape
        planes, out_plane, in_plane = self._planes()
        y = np.zeros((planes, out_plane), dtype=x.dtype)
        rows = np.arange(planes)[:, None]
        y[rows, self.index.reshape(planes, in_plane)] = x.reshape(planes, in_plane)
        return y.reshape(self.out_shape)

    def backward(self, gy):
        # each input went to one output position: its gradient is read back from there
        planes, out_plane, in_plane = self._planes()
        g = np.take_along_axis(gy.reshape(planes, out_plane),
                               self.index.reshape(planes, in_plane), axis=1)
        return g.reshape(self.x_shape)

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        planes, out_plane, in_plane = self._planes()
        zeros = Tensor._make(np.zeros((planes, out_plane), dtype=x.dtype))
        where = Tensor._make(self.index.reshape(planes, in_plane))
        return zeros.scatter(1, where, x.reshape(planes, in_plane)).reshape(self.out_shape)


def _unpool_output_size(x, kernel, stride, padding, output_size):
    """PyTorch's output size of max unpooling: (in - 1) * stride + kernel - 2 * padding per
    spatial dim, or `output_size` (its last len(kernel) values) if within a stride of that."""
    dims = len(kernel)
    default = [(x.shape[-dims + d] - 1) * stride[d] + kernel[d] - 2 * padding[d]
               for d in range(dims)]
    if output_size is None:
        return default
    if len(output_size) == dims + 2:
        output_size = output_size[2:]
    if len(output_size) != dims:
        raise ValueError(f"output_size should be a sequence containing {dims} or {dims + 2} "
                         f"elements, but it has a length of '{len(output_size)}'")
    for d in range(dims):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < output_size[d] < high:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between '
                             f"{low} and {high})")
    for d in range(dims):
        if output_size[d] < 0:
            raise ValueError("max_unpooling: output_size must contain non-negative spatial "
                             f"dimensions, but got output_size[{d}]={output_size[d]}")
    return list(output_size)


def _max_unpool(x, indices, out, stride=None):
    """PyTorch's max_unpool2d / max_unpool3d kernel: checks, then MaxUnpoolFunction; out holds
    the 2 or 3 spatial output sizes, stride (3-D only) is checked."""
    dims = len(out)
    if indices.dtype != np.int64:
        got = "" if dims == 3 else f" but got: {_TENSOR_TYPES.get(indices.dtype.name)}"
        raise RuntimeError(f"elements in indices should be type int64{got}")
    if x.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"Input to max_unpooling{dims}d should be a {dims + 1}d or "
                           f"{dims + 2}d Tensor, but got a tensor with {x.ndim} dimensions.")
    if stride is not None and min(stride) <= 0:
        raise RuntimeError(f"strides should be greater than zero, but got stride: {list(stride)}")
    if x.shape != indices.shape:
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(x.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    for i in range(1, x.ndim):
        if x.shape[i] <= 0:
            raise RuntimeError(f"max_unpooling{dims}d_forward_out_cpu(): Expected input to have "
                               f"non-zero size for non-batch dimensions, but got "
                               f"{list(x.shape)} with dimension {i} being empty.")
    _not_implemented(x, f"max_unpool{dims}d", "biu")
    index = indices.numpy()
    bad = (index < 0) | (index >= math.prod(out))
    if bad.any():  # PyTorch's loop reports the last one it meets
        raise RuntimeError(f"Found an invalid max index: {index[bad][-1]} (output volumes are of "
                           f"size {'x'.join(map(str, out))})")
    out_shape = tuple(x.shape[:-dims]) + tuple(out)
    return MaxUnpoolFunction(index, out_shape, dims)(x)


def _unpool_args(dims, kernel_size, stride, padding):
    """kernel, stride (default: kernel) and padding as tuples of `dims` values (PyTorch's
    _single / _pair / _triple)."""
    kernel = _ntuple(kernel_size, dims)
    return kernel, kernel if stride is None else _ntuple(stride, dims), _ntuple(padding, dims)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """A partial inverse of max_pool1d: input (N, C, L) or (C, L) written at the positions
    `indices` (from max_pool1d(..., return_indices=True)) of a zero tensor of length
    output_size (default (L - 1) * stride + kernel_size - 2 * padding) (PyTorch's
    F.max_unpool1d)."""
    x, indices = as_tensor(input), as_tensor(indices)
    kernel, stride, padding = _unpool_args(1, kernel_size, stride, padding)
    out = _unpool_output_size(x, kernel, stride, padding, output_size)
    return _max_unpool(x.unsqueeze(-1), indices.unsqueeze(-1), (out[0], 1)).squeeze(-1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """A partial inverse of max_pool2d: input (N, C, H, W) or (C, H, W) written at the flat
    positions `indices` (h * OW + w) of zero planes of output_size (OH, OW) (default per dim
    (in - 1) * stride + kernel_size - 2 * padding); the rest stays 0 (PyTorch's
    F.max_unpool2d)."""
    x, indices = as_tensor(input), as_tensor(indices)
    kernel, stride, padding = _unpool_args(2, kernel_size, stride, padding)
    return _max_unpool(x, indices, _unpool_output_size(x, kernel, stride, padding, output_size))


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """A partial inverse of max_pool3d on input (N, C, T, H, W) or (C, T, H, W) (PyTorch's
    F.max_unpool3d), as max_unpool2d."""
    x, indices = as_tensor(input), as_tensor(indices)
    kernel, stride, padding = _unpool_args(3, kernel_size, stride, padding)
    out = _unpool_output_size(x, kernel, stride, padding, output_size)
    return _max_unpool(x, indices, out, stride)


# ----- average pooling ---------------------------------------------------------------------------
def _window_sums(masks, a):
    """Each spatial dim of a (N, C, *spatial) summed over windows, one dim at a time: along the
    dim of masks[i] (the i-th of the trailing len(masks) dims), mask (out_i, size_i) @ a. A
    floating `a` holding inf or NaN is summed by _mask_sum, where they reach only their own
    windows' sums."""
    exact = a.dtype.kind == "f" and not np.isfinite(a).all()
    for axis, mask in zip(range(-len(masks), 0), masks):
        if exact:
            a = _mask_sum(mask, a, axis)
        else:
            a = np.swapaxes(mask.astype(a.dtype) @ np.swapaxes(a, axis, -2), axis, -2)
    return a


class AvgPoolFunction(FusedFunction):
    """y = window sums / divisor of x viewed as `shape` (N, C, *spatial), reshaped to
    `out_shape`: masks has one 0/1 matrix (out_i, size_i) per spatial dim marking the elements
    each window covers along it, divisor is (*out)."""

    def __init__(self, shape, out_shape, masks, divisor, grad_fn_name):
        self.shape, self.out_shape, self.grad_fn_name = shape, out_shape, grad_fn_name
        self.masks, self.divisor = masks, divisor

    def forward(self, x):
        self.x_shape = x.shape
        sums = _window_sums(self.masks, x.reshape(self.shape))
        if x.dtype.kind == "f":
            y = sums / self.divisor.astype(x.dtype)
        else:  # PyTorch's integer average rounds toward zero (a divisor_override may be < 0)
            y = np.abs(sums) // np.abs(self.divisor) * (np.sign(sums) * np.sign(self.divisor))
        return y.reshape(self.out_shape)

    def backward(self, gy):
        # y = (masks applied along each dim) x / divisor is linear in x: its gradient applies
        # the transposed masks to gy / divisor (in 2-D: R^T (gy / d) C)
        g = gy.reshape(self.shape[:2] + self.divisor.shape) / self.divisor.astype(gy.dtype)
        return _window_sums([m.T for m in self.masks], g).reshape(self.x_shape)

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        y = x.reshape(self.shape)
        for axis, mask in zip(range(-len(self.masks), 0), self.masks):
            y = (Tensor._make(mask.astype(x.dtype)) @ y.transpose(axis, -2)).transpose(axis, -2)
        return (y / Tensor._make(self.divisor.astype(x.dtype))).reshape(self.out_shape)


def _mask_sum(mask, a, axis):
    """mask @ a along `axis` for a 0/1 matrix `mask`, by adding up the slices each row selects:
    unlike the product, an inf or NaN then reaches only the sums that include it (inf * 0 is
    NaN). For inputs that hold one; the product is faster."""
    sums = [np.take(a, np.flatnonzero(row), axis=axis).sum(axis=axis)
            for row in mask.astype(bool)]
    if not sums:  # no windows at all (an adaptive output size of 0)
        shape = list(a.shape)
        shape[axis] = 0
        return np.zeros(shape, a.dtype)
    return np.stack(sums, axis=axis)


def _masks(bounds, size):
    """A 0/1 mask (len(bounds), size): row o marks the elements start..end-1 of window o."""
    mask = np.zeros((len(bounds), size))
    for o, (start, end) in enumerate(bounds):
        mask[o, start:end] = 1
    return mask


def _outer(sizes):
    """The outer product of one 1-D array per spatial dim: e.g. each window's element count."""
    return functools.reduce(np.multiply.outer, [np.asarray(s) for s in sizes])


def _avg_windows(size, kernel, pad_, stride, out):
    """Each window's (start, end) clipped to the input, and its size counting the padding
    (PyTorch's avg_pool2d: a ceil-mode window is cut at the end of the right padding)."""
    bounds, sizes = [], []
    for o in range(out):
        start = o * stride - pad_
        end = min(start + kernel, size + pad_)
        sizes.append(end - start)
        bounds.append((max(start, 0), min(end, size)))
    return bounds, np.array(sizes)


def _avg_pool(x, shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """Average pooling of x viewed as `shape` ((N,) C, *spatial), arguments one value per
    spatial dim (2 or 3 of them)."""
    dims = len(kernel)
    spatial = shape[-dims:]
    out = tuple(_out_dim(size, k, p, s, 1, ceil_mode) for size, k, p, s in
                zip(spatial, kernel, padding, stride))
    if dims == 2:
        _shape_check(shape, kernel, stride, padding, (1, 1), out)
        _not_implemented(x, "avg_pool2d", "biu" if x.dtype != np.int64 else "")
    else:
        _shape_check_3d("avg_pool3d()", shape, kernel, stride, padding, (1, 1, 1), out,
                        check_input_size=True)
        _not_implemented(x, "avg_pool3d_out_frame", "biu" if x.dtype != np.int64 else "")
    windows = [_avg_windows(size, k, p, s, o) for size, k, p, s, o in
               zip(spatial, kernel, padding, stride, out)]
    if divisor_override is not None:
        divisor = np.full(out, divisor_override)
    elif count_include_pad:
        divisor = _outer([sizes for _, sizes in windows])
    else:
        divisor = _outer([[e - s for s, e in bounds] for bounds, _ in windows])
    masks = [_masks(bounds, size) for (bounds, _), size in zip(windows, spatial)]
    return AvgPoolFunction(_batched(shape, dims), _out_shape(x, shape, out), masks, divisor,
                           f"AvgPool{dims}DBackward0")(x)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each (kh, kw) window of input (N, C, H, W) or (C, H, W) (PyTorch's
    F.avg_pool2d). The zero padding counts in the mean unless count_include_pad=False;
    divisor_override replaces the window size as the divisor."""
    x = as_tensor(input)
    op = "avg_pool2d"
    kernel = int_tuple(kernel_size, op, "kernel_size", 2, 2)
    stride = () if stride is None else int_tuple(stride, op, "stride", 3, 2)
    padding = int_tuple(padding, op, "padding", 4, 2)
    _lengths(op, kernel, "kernel_size")
    _lengths(op, stride, "stride", allow_empty=True)
    _lengths(op, padding, "padding")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if x.ndim < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(x.ndim, 1)}, {max(x.ndim, 1) - 1}], but got -3)")
    kernel = _expand(kernel, 2)
    return _avg_pool(x, tuple(x.shape), kernel, _expand(stride, 2, kernel), _expand(padding, 2),
                     ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each (kt, kh, kw) window of input (N, C, T, H, W) or (C, T, H, W)
    (PyTorch's F.avg_pool3d), padding, count_include_pad and divisor_override as avg_pool2d's."""
    x = as_tensor(input)
    op = "avg_pool3d"
    try:
        kernel = int_tuple(kernel_size, op, "kernel_size", 2, 3)
        stride = () if stride is None else int_tuple(stride, op, "stride", 3, 3)
        padding = int_tuple(padding, op, "padding", 4, 3)
    except TypeError as e:  # PyTorch's message here names no argument position
        raise TypeError(re.sub(r" \(position \d\)", "", str(e))) from None
    _lengths(op, kernel, "kernel_size", 3)
    _lengths(op, stride, "stride", 3, allow_empty=True)
    _lengths(op, padding, "padding", 3)
    if x.ndim not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    kernel = _expand(kernel, 3)
    return _avg_pool(x, tuple(x.shape), kernel, _expand(stride, 3, kernel), _expand(padding, 3),
                     ceil_mode, count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """The mean of each window of input (N, C, L) or (C, L) (PyTorch's F.avg_pool1d)."""
    x = as_tensor(input)
    op = "avg_pool1d"
    kernel = int_tuple(kernel_size, op, "kernel_size", 2, 1)
    stride = kernel if stride is None else int_tuple(stride, op, "stride", 3, 1)
    stride = stride or kernel
    padding = int_tuple(padding, op, "padding", 4, 1)
    _check_dim_range(op, x)
    for name, values in (("kernel_size", kernel), ("stride", stride), ("padding", padding)):
        _check_1d(op, values, name)
    return _avg_pool(x, _as_planes(x), (1, kernel[0]), (1, stride[0]), (0, padding[0]),
                     ceil_mode, count_include_pad, None)


# ----- adaptive pooling --------------------------------------------------------------------------
def _adaptive_windows(size, out):
    """PyTorch's adaptive windows: output o covers [floor(o * size / out),
    ceil((o + 1) * size / out))."""
    return [(o * size // out, -(-(o + 1) * size // out)) for o in range(out)]


def _list_with_default(output_size, shape):
    """PyTorch's reading of an adaptive output size: an int stays; in a sequence, None keeps the
    input's size of that dim."""
    if isinstance(output_size, int | np.integer):
        return output_size
    if len(shape) <= len(output_size):
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    return [d if v is None else v for v, d in zip(output_size, shape[-len(output_size):])]


def _adaptive_avg_pool(x, shape, out, grad_fn_name=None):
    """Adaptive average pooling of x viewed as `shape` ((N,) C, *spatial) to out, one size per
    spatial dim (2 or 3 of them)."""
    dims = len(out)
    op = f"adaptive_avg_pool{dims}d"
    if min(out) < 0:
        received = ", ".join(map(str, out[:2])) + "".join(f",{o}" for o in out[2:])
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0 "
                           f"but received {{{received}}}")
    if len(shape) not in (dims + 1, dims + 2):
        raise RuntimeError(f"{op}(): Expected {dims + 1}D or {dims + 2}D tensor, but got "
                           f"{list(shape)}")
    for i in range(1 if dims == 3 else len(shape) - 2, len(shape)):
        if shape[i] <= 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(shape)} with dimension "
                               f"{i} being empty")
    _not_implemented(x, "adaptive_avg_pool2d" if dims == 2 else "adaptive_avg_pool3d_cpu", "biu")
    windows = [_adaptive_windows(size, o) for size, o in zip(shape[-dims:], out)]
    divisor = _outer([[e - s for s, e in bounds] for bounds in windows])
    masks = [_masks(bounds, size) for bounds, size in zip(windows, shape[-dims:])]
    return AvgPoolFunction(_batched(shape, dims), _out_shape(x, shape, out), masks, divisor,
                           grad_fn_name or f"AdaptiveAvgPool{dims}DBackward0")(x)


def _adaptive_avg_pool_nd(dims, input, output_size):
    x = as_tensor(input)
    op = f"adaptive_avg_pool{dims}d"
    out = int_tuple(_list_with_default(output_size, x.shape), op, "output_size", 2, dims)
    if len(out) != dims:
        raise RuntimeError(f"{op}: output_size must be {dims}")
    # one output per plane: PyTorch takes the mean over the spatial dims (its node's name)
    name = "MeanBackward1" if all(o == 1 for o in out) else None
    return _adaptive_avg_pool(x, tuple(x.shape), out, name)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling of input (N, C, H, W) or (C, H, W) to the output size (OH, OW) (an int for
    both; None keeps the input's size), windows as even as possible (PyTorch's
    F.adaptive_avg_pool2d)."""
    return _adaptive_avg_pool_nd(2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Average pooling of input (N, C, T, H, W) or (C, T, H, W) to the output size (OT, OH, OW)
    (an int for all three; None keeps the input's size) (PyTorch's F.adaptive_avg_pool3d)."""
    return _adaptive_avg_pool_nd(3, input, output_size)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of input (N, C, L) or (C, L) to `output_size` outputs (PyTorch's
    F.adaptive_avg_pool1d)."""
    x = as_tensor(input)
    out = int_tuple(output_size, "adaptive_avg_pool1d", "output_size", 2, 1)
    _check_dim_range("adaptive_avg_pool1d", x)
    _check_1d("adaptive_avg_pool1d", out, "output_size")
    return _adaptive_avg_pool(x, _as_planes(x), (1, out[0]))


class AdaptiveMaxPoolFunction(FusedFunction):
    """y = the maximum of each adaptive window of x viewed as `shape` (N, C, *spatial),
    reshaped to `out_shape`. index (*out, K): each window's flat indices into its plane, padded
    to the largest window's K by repeating its last one."""

    def __init__(self, shape, out_shape, index, grad_fn_name):
        self.shape, self.out_shape, self.index = shape, out_shape, index
        self.grad_fn_name = grad_fn_name

    def _planes(self):
        """(N, C, number of elements in a plane)."""
        return self.shape[:2] + (math.prod(self.shape[2:]),)

    def _windows(self, planes):
        """Each window's elements (N, C, *out, K) of the planes (N, C, H * W)."""
        return planes[:, :, self.index]

    def forward(self, x):
        self.x_shape = x.shape
        win = self._windows(x.reshape(self._planes()))  # (N, C, *out, K)
        arg = win.argmax(axis=-1)  # the first maximum; an all -inf window: its first element
        if x.dtype.kind == "f":  # PyTorch's rule for NaN: the window's last NaN wins
            nan = np.isnan(win)
            if nan.any():
                last_nan = win.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
                arg = np.where(nan.any(axis=-1), last_nan, arg)
        index = np.broadcast_to(self.index, win.shape)
        self.flat = np.take_along_axis(index, arg[..., None], axis=-1)[..., 0]
        return np.take_along_axis(win, arg[..., None], axis=-1).reshape(self.out_shape)

    def backward(self, gy):
        # each output's gradient goes to its maximum; windows overlap, so one element may
        # collect several: a bincount over (plane, index) adds them up
        n, c, plane = self._planes()
        first = np.arange(n * c).reshape((n, c) + (1,) * (self.flat.ndim - 2)) * plane
        gx = np.bincount((self.flat + first).ravel(), weights=gy.reshape(-1),
                         minlength=n * c * plane)
        return gx.astype(gy.dtype, copy=False).reshape(self.x_shape)

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        where = Tensor._make(self.flat.reshape(self.shape[:2] + (-1,)))
        return x.reshape(self._planes()).gather(-1, where).reshape(self.out_shape)

    def indices(self):
        """Each output's maximum as a flat index into its input plane (h * W + w in 2-D)."""
        return self.flat.astype(np.int64).reshape(self.out_shape)


def _adaptive_index(spatial, out):
    """The windows of adaptive pooling from `spatial` to `out` as flat plane indices
    (*out, K), K the largest window's size, a shorter window repeating its last index."""
    dims, flat, window = len(out), 0, 1
    for axis, (size, o) in enumerate(zip(spatial, out)):
        bounds = np.array(_adaptive_windows(size, o), dtype=np.int64).reshape(-1, 2)
        k = int((bounds[:, 1] - bounds[:, 0]).max(initial=1))
        index = np.minimum(bounds[:, :1] + np.arange(k), bounds[:, 1:] - 1)  # (o, k)
        shape = [1] * (2 * dims)
        shape[axis], shape[dims + axis] = index.shape
        flat = flat * size + index.reshape(shape)
        window *= k
    return flat.reshape(out + (window,))


def _check_non_empty(op, x):
    """PyTorch's check of adaptive max pooling: every dim but the first holds elements."""
    for i in range(1, x.ndim):
        if x.shape[i] <= 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(x.shape)} with dimension "
                               f"{i} being empty")


def _adaptive_max_pool(op, x, shape, out, return_indices):
    """Adaptive max pooling of x viewed as `shape` ((N,) C, *spatial) to out, one size per
    spatial dim (2 or 3)."""
    dims = len(out)
    negative = [o for o in out if o < 0]
    if negative:
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative[0]}: "
                           f"{list(shape[:-dims] + out)}")
    _not_implemented(x, "adaptive_max_pool2d" if dims == 2 else "adaptive_max_pool3d_cpu", "biu")
    fn = AdaptiveMaxPoolFunction(_batched(shape, dims), _out_shape(x, shape, out),
                                 _adaptive_index(shape[-dims:], out),
                                 f"AdaptiveMaxPool{dims}DBackward0")
    y = fn(x)
    return (y, Tensor._make(fn.indices())) if return_indices else y


def _adaptive_max_pool_nd(dims, input, output_size, return_indices):
    x = as_tensor(input)
    op = f"adaptive_max_pool{dims}d"
    out = int_tuple(_list_with_default(output_size, x.shape), op, "output_size", 2, dims)
    if x.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{op}(): Expected {dims + 1}D or {dims + 2}D tensor, but got: "
                           f"{list(x.shape)}")
    _check_non_empty(op, x)
    if len(out) != dims:
        raise RuntimeError(f"{op}(): internal error: output_size.size() must be {dims}")
    return _adaptive_max_pool(op, x, tuple(x.shape), out, return_indices)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """The maximum of each of `output_size` windows as even as possible over input (N, C, L) or
    (C, L) (PyTorch's F.adaptive_max_pool1d); return_indices=True also gives each maximum's
    index."""
    x = as_tensor(input)
    op = "adaptive_max_pool1d"
    out = int_tuple(output_size, op, "output_size", 2, 1)
    _check_dim_range(op, x)
    _check_1d(op, out, "output_size")
    _check_non_empty(op, x)
    return _adaptive_max_pool(op, x, _as_planes(x), (1, out[0]), return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """The maximum of each window of input (N, C, H, W) or (C, H, W) cut into output_size
    (OH, OW) windows as even as possible (an int for both; None keeps the input's size)
    (PyTorch's F.adaptive_max_pool2d); return_indices=True also gives each maximum's flat index
    h * W + w."""
    return _adaptive_max_pool_nd(2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """adaptive_max_pool2d over (N, C, T, H, W) or (C, T, H, W) to (OT, OH, OW) (PyTorch's
    F.adaptive_max_pool3d); indices are flat over T * H * W."""
    return _adaptive_max_pool_nd(3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool1d that always returns (output, indices) (PyTorch's alias)."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool2d that always returns (output, indices) (PyTorch's alias)."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool3d that always returns (output, indices) (PyTorch's alias)."""
    return adaptive_max_pool3d(input, output_size, True)


# ----- fractional max pooling --------------------------------------------------------------------
class FractionalMaxPoolFunction(AdaptiveMaxPoolFunction):
    """AdaptiveMaxPoolFunction with windows of their own in each plane: index (N, C, *out, K)."""

    def _windows(self, planes):
        flat = self.index.reshape(planes.shape[:2] + (math.prod(self.index.shape[2:]),))
        return np.take_along_axis(planes, flat, axis=2).reshape(self.index.shape)


def _fractional_starts(samples, size, out, kernel):
    """PyTorch's pseudo-random window starts along one dim, per plane (N, C, out): with
    alpha = (size - kernel) / (out - 1) and u the plane's sample in [0, 1), window i starts at
    int((i + u) alpha) - int(u alpha), the last one at size - kernel; computed in the samples'
    dtype, as PyTorch does in the input's."""
    starts = np.full(samples.shape + (out,), size - kernel, dtype=np.int64)
    if out > 1:
        dtype = samples.dtype.type
        alpha = dtype(size - kernel) / dtype(out - 1)
        i = np.arange(out - 1, dtype=samples.dtype)
        u = samples[..., None]
        starts[..., :-1] = ((i + u) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)
    return starts


_SPATIAL_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _fractional_max_pool(dims, input, kernel_size, output_size, output_ratio, return_indices,
                         _random_samples):
    """fractional_max_pool2d / 3d: PyTorch's checks, then the max over each plane's windows."""
    x = as_tensor(input)
    op = f"fractional_max_pool{dims}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if dims == 2 and len(output_ratio) > 2:
            raise ValueError(f"{op} requires output_ratio to either be a single Int or tuple of "
                             "Ints.")
        ratio = _ntuple(output_ratio, dims)
        output_size = [int(x.shape[-dims + d] * ratio[d]) for d in range(dims)]
    if _random_samples is None:
        if x.dtype.kind != "f":
            _not_implemented(x, "check_uniform_bounds", "biu")
        batch = 1 if x.ndim == dims + 1 else x.shape[0]
        _random_samples = rand(batch, x.shape[-dims - 1], dims, dtype=x.dtype)
    kernel = int_tuple(kernel_size, op, "kernel_size", 2, dims)
    out = int_tuple(output_size, op, "output_size", 3, dims)
    three = "" if dims == 2 else "three "
    for name, values in (("kernel_size", kernel), ("output_size", out)):
        if len(values) != dims:
            raise RuntimeError(f"{op}: {name} must either be a single Int or tuple of {three}Ints")
    where = f"{op}()" if dims == 2 else "fractional_max_pool3d_out()"
    if x.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{where}: Expected {dims + 1}D or {dims + 2}D tensor, but got: "
                           f"{list(x.shape)}")
    for i in range(1, x.ndim):
        if x.shape[i] <= 0:
            raise RuntimeError(f"{where}: Expected input to have non-zero size for non-batch "
                               f"dimensions, but got{list(x.shape)} with dimension {i} being "
                               "empty.")
    shape = _batched(tuple(x.shape), dims)
    for name, k, o, size in zip(_SPATIAL_NAMES[dims], kernel, out, shape[2:]):
        if o + k - 1 > size or (dims == 3 and o + k - 1 == size):  # (PyTorch's 3-D check
            # is strict, its 2-D one is not)
            raise RuntimeError(f"{where}: pool {name} {k} too large relative to input {name} "
                               f"{size}")
    negative = [o for o in out if o < 0]
    if negative:
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative[0]}: "
                           f"{list(x.shape[:-dims]) + list(out)}")
    samples = as_tensor(_random_samples)
    if samples.dtype != x.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.ndim != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {samples.ndim}")
    if samples.shape[0] < shape[0]:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.shape[1] != shape[1]:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.shape[2] != dims:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {dims}; got "
                           f"{samples.shape[2]}.")
    _not_implemented(x, f"fractional_max_pool{dims}d_out_frame", "biu")
    u = samples.numpy()[:shape[0]]
    # the 2-D samples are (width, height), the 3-D ones (time, height, width)
    order = (1, 0) if dims == 2 else (0, 1, 2)
    flat = np.zeros(shape[:2] + tuple(out) + (1,) * dims, dtype=np.int64)
    for d, (size, k, o) in enumerate(zip(shape[2:], kernel, out)):
        starts = _fractional_starts(u[:, :, order[d]], size, o, k)  # (N, C, o)
        # window element offsets along dim d, laid out as (N, C, *out, *kernel)
        position = starts.reshape(shape[:2] + tuple(o if e == d else 1 for e in range(dims))
                                  + (1,) * dims)
        offset = np.arange(k).reshape((1,) * (2 + dims) + tuple(k if e == d else 1
                                                                for e in range(dims)))
        flat = flat * size + position + offset
    index = flat.reshape(shape[:2] + tuple(out) + (math.prod(kernel),))
    fn = FractionalMaxPoolFunction(shape, tuple(x.shape[:-dims]) + tuple(out), index,
                                   f"FractionalMaxPool{dims}DBackward0")
    y = fn(x)
    return (y, Tensor._make(fn.indices())) if return_indices else y


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """The maximum of each (kh, kw) window of input (N, C, H, W) or (C, H, W), windows at
    pseudo-random starts that reach output_size (OH, OW), or output_ratio times the input's
    size (Graham's fractional max pooling; PyTorch's F.fractional_max_pool2d). The starts come
    from one sample per plane and dim in [0, 1): `_random_samples` (N, C, 2), by default
    numpy2gpt.rand's (PyTorch's numbers for the same seed)."""
    return _fractional_max_pool(2, input, kernel_size, output_size, output_ratio, return_indices,
                                _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """fractional_max_pool2d over (N, C, T, H, W) or (C, T, H, W), `_random_samples`
    (N, C, 3) (PyTorch's F.fractional_max_pool3d)."""
    return _fractional_max_pool(3, input, kernel_size, output_size, output_ratio, return_indices,
                                _random_samples)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """fractional_max_pool2d that always returns (output, indices) (PyTorch's alias)."""
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """fractional_max_pool3d that always returns (output, indices) (PyTorch's alias)."""
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)


# ----- power-average (Lp) pooling ----------------------------------------------------------------
def _lp_pool(avg_pool, max_pool, x, norm_type, kernel_size, stride, ceil_mode, window):
    """PyTorch's composition: (sum over the window of x^p)^(1/p) = (window * mean of x^p)^(1/p),
    with sign(s) * relu(|s|) in place of the mean s (that is s itself, with PyTorch's gradient
    at s = 0); p = +-inf is the maximum (minimum) of |x|."""
    x = as_tensor(x)
    if isinstance(norm_type, int | float):
        if norm_type == math.inf:
            return max_pool(x.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -math.inf:
            return -max_pool(-x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if stride is not None:
        out = avg_pool(x.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = avg_pool(x.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    return (out.sign() * relu(out.abs())).mul(window).pow(1.0 / norm_type)


def _ntuple(value, n):
    """PyTorch's _pair / _triple: a sequence as a tuple, anything else repeated n times."""
    return tuple(value) if isinstance(value, list | tuple) else (value,) * n


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over each window)^(1/p) on input (N, C, L) or (C, L), p = norm_type
    (PyTorch's F.lp_pool1d: no padding; p = inf is max pooling of |x|)."""
    return _lp_pool(avg_pool1d, max_pool1d, input, norm_type, kernel_size, stride, ceil_mode,
                    kernel_size)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over each (kh, kw) window)^(1/p) on input (N, C, H, W) or (C, H, W)
    (PyTorch's F.lp_pool2d)."""
    kw, kh = _ntuple(kernel_size, 2)
    return _lp_pool(avg_pool2d, max_pool2d, input, norm_type, kernel_size, stride, ceil_mode,
                    kw * kh)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over each (kt, kh, kw) window)^(1/p) on input (N, C, T, H, W) or
    (C, T, H, W) (PyTorch's F.lp_pool3d)."""
    kd, kw, kh = _ntuple(kernel_size, 3)
    return _lp_pool(avg_pool3d, max_pool3d, input, norm_type, kernel_size, stride, ceil_mode,
                    kd * kw * kh)


__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "lp_pool1d",
           "lp_pool2d", "lp_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "adaptive_max_pool1d_with_indices",
           "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices",
           "max_unpool1d", "max_unpool2d", "max_unpool3d", "fractional_max_pool2d",
           "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices"]
