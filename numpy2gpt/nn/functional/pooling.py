"""Pooling: max, average and adaptive average over 1-D and 2-D windows.

All of them work on 2-D planes (N, C, H, W) or (C, H, W); a 1-D pooling is the 2-D one on planes of
height 1, as in PyTorch.

max:     the windows come from conv.py's window_view (a strided view, one copy to take the
         argmax); backward puts each output's gradient on its window's argmax and sums the
         windows back onto the input with conv.py's col2im.
average: a window sum is separable, sum over rows then over columns, so the sums of all windows
         are two small matmuls with 0/1 masks: S = R @ x @ C^T, with R (OH, H) and C (OW, W)
         marking which rows / columns each window covers. y = S / divisor; backward is the
         transpose, dL/dx = R^T @ (gy / divisor) @ C. Adaptive average pooling is the same with
         PyTorch's window bounds for a given output size.
"""

import math

import numpy as np

from ...autograd.function import _TENSOR_TYPES, FusedFunction
from ...tensor import Tensor, as_tensor
from ._args import int_tuple
from .activation import pad
from .conv import col2im, output_size, window_stack, window_view


def _lowest(dtype):
    """The padding value of max pooling: below every value of the dtype (or equal to its min)."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


# ----- max pooling -------------------------------------------------------------------------------
class MaxPool2DFunction(FusedFunction):
    """y = the maximum of each window of x, viewed as `shape4` (N, C, H, W), reshaped to
    `out_shape`. padding: ((top, bottom), (left, right)), where bottom / right include ceil
    mode's extra partial window."""

    grad_fn_name = "MaxPool2DWithIndicesBackward0"

    def __init__(self, shape4, out_shape, kernel, stride, padding, dilation, out):
        self.shape4, self.out_shape, self.kernel, self.stride = shape4, out_shape, kernel, stride
        self.padding, self.dilation, self.out = padding, dilation, out

    def _padded_shape(self):
        (n, c, h, w), ((pt, pb), (pl, pr)) = self.shape4, self.padding
        return n, c, h + pt + pb, w + pl + pr

    def forward(self, x):
        self.x_shape = x.shape
        x4 = x.reshape(self.shape4)
        xp = np.pad(x4, ((0, 0), (0, 0)) + self.padding, constant_values=_lowest(x.dtype))
        win = window_view(xp, self.kernel, self.stride, self.dilation, self.out)
        win = win.reshape(win.shape[:4] + (-1,))
        arg = win.argmax(axis=-1)  # NumPy's rule: the first maximum, or the first NaN
        self.arg = self._pytorch_ties(win, arg, x.dtype)
        return np.take_along_axis(win, self.arg[..., None], axis=-1).reshape(self.out_shape)

    def _pytorch_ties(self, win, arg, dtype):
        """PyTorch's argmax where it differs from NumPy's: the LAST NaN of a window; and where
        all the input a window covers holds the lowest value (-inf), its first input element,
        never a padding element."""
        if dtype.kind == "f":
            nan = np.isnan(win)
            if nan.any():
                last_nan = win.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
                arg = np.where(nan.any(axis=-1), last_nan, arg)
        if any(p for pair in self.padding for p in pair):
            stuck = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0] == _lowest(dtype)
            if stuck.any():
                inside = np.pad(np.ones(self.shape4[2:], bool), self.padding)[None, None]
                inside = window_view(inside, self.kernel, self.stride, self.dilation, self.out)
                first_inside = inside.reshape(inside.shape[2:4] + (-1,)).argmax(axis=-1)
                arg = np.where(stuck, first_inside, arg)
        return arg

    def indices(self):
        """The flat index (h * W + w) in its input plane of each output's maximum."""
        (_, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        (pt, _), (pl, _) = self.padding
        oh, ow = self.out
        rows = np.arange(oh)[:, None] * sh - pt + self.arg // kw * dh
        cols = np.arange(ow) * sw - pl + self.arg % kw * dw
        return (rows * self.shape4[3] + cols).astype(np.int64)

    def backward(self, gy):
        gy4 = gy.reshape(self.arg.shape)
        # the gradient of a maximum goes to the element that was the maximum, nowhere else
        cols = np.zeros((self.kernel[0] * self.kernel[1],) + self.arg.shape, dtype=gy.dtype)
        np.put_along_axis(cols, self.arg[None], gy4[None], axis=0)
        gxp = col2im(cols.reshape(self.kernel + self.arg.shape), self._padded_shape(),
                     self.stride, self.dilation)
        (pt, _), (pl, _) = self.padding
        h, w = self.shape4[2:]
        return gxp[:, :, pt:pt + h, pl:pl + w].reshape(self.x_shape)

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        (pt, pb), (pl, pr) = self.padding
        xp = pad(x.reshape(self.shape4), (pl, pr, pt, pb), value=-math.inf)
        win = window_stack(xp, self.kernel, self.stride, self.dilation, self.out)
        return win.gather(-1, Tensor._make(self.arg[..., None])).reshape(self.out_shape)


def _as_4d(shape):
    """Planes (C, H, W) as a batch of one (1, C, H, W); (N, C, H, W) stays."""
    return shape if len(shape) == 4 else (1,) + shape


def _out_shape(x, shape, out):
    """The output's shape: x's, with the planes' (H, W) replaced by out (OH, OW); for a 1-D op
    (x one dim fewer than its planes `shape`) only its L, by OW."""
    return tuple(x.shape[:-2]) + out if x.ndim == len(shape) else tuple(x.shape[:-1]) + out[1:]


def _lengths(op, values, name, allow_empty=False, two="two"):
    """PyTorch's check that a pooling argument has 1 or 2 values (or none, for stride)."""
    if len(values) in (1, 2) or (allow_empty and not values):
        return
    what = {"kernel_size": "must either be a single int, or a tuple of two ints",
            "stride": "must either be omitted, a single int, or a tuple of two ints",
            "padding": "must either be a single int, or a tuple of two ints",
            "dilation": "must be either a single int, or a tuple of two ints"}[name]
    raise RuntimeError(f"{op}: {name} {what}")


def _pair_of(values, default=None):
    """(h, w) from 1 or 2 values; empty (an omitted stride) gives `default`."""
    if not values:
        return default
    return (values[0], values[-1])


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


def _shape_check(shape, kernel, stride, dilation, out):
    """PyTorch's pool2d_shape_check (its pad check is met by the one before)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
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
    if out[0] < 1 or out[1] < 1:
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, shape[-3:]))}). Calculated "
                           f"output size: ({shape[-3]}x{out[0]}x{out[1]}). Output size is too "
                           "small")


def _not_implemented(x, kernel, kinds):
    if x.dtype.kind in kinds:
        name = _TENSOR_TYPES.get(x.dtype.name, x.dtype.name)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')


def _max_pool(x, shape, kernel, stride, padding, dilation, ceil_mode, return_indices):
    """Max pooling of x viewed as `shape` (3 or 4 dims), arguments already as (h, w) pairs."""
    h, w = shape[-2:]
    out = tuple(_out_dim(size, k, p, s, d, ceil_mode) for size, k, p, s, d in
                zip((h, w), kernel, padding, stride, dilation))
    _shape_check(shape, kernel, stride, dilation, out)
    _not_implemented(x, "max_pool2d", "b")
    # beyond the padding, ceil mode's last window may need more on the bottom / right
    pads = tuple((p, max(p, (o - 1) * s + d * (k - 1) + 1 - size - p))
                 for size, k, p, s, d, o in zip((h, w), kernel, padding, stride, dilation, out))
    fn = MaxPool2DFunction(_as_4d(shape), _out_shape(x, shape, out), kernel, stride, pads,
                           dilation, out)
    y = fn(x)
    return (y, Tensor._make(fn.indices().reshape(y.shape))) if return_indices else y


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each (kh, kw) window of input (N, C, H, W) or (C, H, W), windows every
    `stride` (default: kernel_size) after padding each side with -inf (PyTorch's F.max_pool2d).
    return_indices=True also gives each maximum's flat index h * W + w in its plane."""
    x = as_tensor(input)
    op = "max_pool2d"
    kernel = int_tuple(kernel_size, op, "kernel_size", 2, 2)
    stride = () if stride is None else int_tuple(stride, op, "stride", 3, 2)
    padding = int_tuple(padding, op, "padding", 4, 2)
    dilation = int_tuple(dilation, op, "dilation", 5, 2)
    _lengths(op, kernel, "kernel_size")
    _lengths(op, stride, "stride", allow_empty=True)
    _lengths(op, padding, "padding")
    _lengths(op, dilation, "dilation")
    if x.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    kernel = _pair_of(kernel)
    return _max_pool(x, tuple(x.shape), kernel, _pair_of(stride, kernel), _pair_of(padding),
                     _pair_of(dilation), ceil_mode, return_indices)


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


# ----- average pooling ---------------------------------------------------------------------------
class AvgPool2DFunction(FusedFunction):
    """y = (R @ x @ C^T) / divisor on x viewed as planes `shape4` (N, C, H, W), reshaped to
    `out_shape`: R (OH, H) and C (OW, W) are 0/1 masks of the rows and columns each window
    covers, divisor (OH, OW)."""

    def __init__(self, shape4, out_shape, rows, cols, divisor, grad_fn_name):
        self.shape4, self.out_shape, self.grad_fn_name = shape4, out_shape, grad_fn_name
        self.rows, self.cols, self.divisor = rows, cols, divisor

    def forward(self, x):
        self.x_shape = x.shape
        x4 = x.reshape(self.shape4)
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            sums = _mask_sum(self.cols, _mask_sum(self.rows, x4, -2), -1)
        else:
            sums = self.rows.astype(x.dtype) @ x4 @ self.cols.astype(x.dtype).T
        if x.dtype.kind == "f":
            y = sums / self.divisor.astype(x.dtype)
        else:  # PyTorch's integer average rounds toward zero
            y = np.where(sums < 0, -(-sums // self.divisor), sums // self.divisor)
        return y.reshape(self.out_shape)

    def backward(self, gy):
        # y = R x C^T / divisor is linear in x: its gradient is the transpose, R^T (gy / d) C
        g = gy.reshape(self.shape4[:2] + self.divisor.shape) / self.divisor.astype(gy.dtype)
        if not np.isfinite(g).all():
            gx = _mask_sum(self.cols.T, _mask_sum(self.rows.T, g, -2), -1)
        else:
            gx = self.rows.astype(gy.dtype).T @ g @ self.cols.astype(gy.dtype)
        return gx.reshape(self.x_shape)

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        rows, cols, divisor = (Tensor._make(a.astype(x.dtype)) for a in
                               (self.rows, self.cols, self.divisor))
        y = rows @ x.reshape(self.shape4) @ cols.mT / divisor
        return y.reshape(self.out_shape)


def _mask_sum(mask, a, axis):
    """mask @ a along `axis` for a 0/1 matrix `mask`, by adding up the slices each row selects:
    unlike the product, an inf or NaN then reaches only the sums that include it (inf * 0 is
    NaN). For inputs that hold one; the product is faster."""
    return np.stack([np.take(a, np.flatnonzero(row), axis=axis).sum(axis=axis)
                     for row in mask.astype(bool)], axis=axis)


def _masks(bounds, size):
    """A 0/1 mask (len(bounds), size): row o marks the elements start..end-1 of window o."""
    mask = np.zeros((len(bounds), size))
    for o, (start, end) in enumerate(bounds):
        mask[o, start:end] = 1
    return mask


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


def _avg_pool(x, shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override,
              grad_fn_name="AvgPool2DBackward0"):
    """Average pooling of x viewed as `shape` (3 or 4 dims), arguments as (h, w) pairs."""
    h, w = shape[-2:]
    out = tuple(_out_dim(size, k, p, s, 1, ceil_mode) for size, k, p, s in
                zip((h, w), kernel, padding, stride))
    _shape_check(shape, kernel, stride, (1, 1), out)
    _not_implemented(x, "avg_pool2d", "biu" if x.dtype != np.int64 else "")
    (rows, h_sizes), (cols, w_sizes) = (_avg_windows(size, k, p, s, o) for size, k, p, s, o in
                                        zip((h, w), kernel, padding, stride, out))
    if divisor_override is not None:
        divisor = np.full(out, divisor_override)
    elif count_include_pad:
        divisor = np.outer(h_sizes, w_sizes)
    else:
        divisor = np.outer([e - s for s, e in rows], [e - s for s, e in cols])
    return AvgPool2DFunction(_as_4d(shape), _out_shape(x, shape, out), _masks(rows, h),
                             _masks(cols, w), divisor, grad_fn_name)(x)


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
    kernel = _pair_of(kernel)
    return _avg_pool(x, tuple(x.shape), kernel, _pair_of(stride, kernel), _pair_of(padding),
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


# ----- adaptive average pooling ------------------------------------------------------------------
def _adaptive_windows(size, out):
    """PyTorch's adaptive windows: output o averages [floor(o * size / out),
    ceil((o + 1) * size / out))."""
    return [(o * size // out, -(-(o + 1) * size // out)) for o in range(out)]


def _adaptive_avg_pool(x, shape, out):
    """Adaptive average pooling of x viewed as `shape` (3 or 4 dims) to out = (OH, OW)."""
    if out[0] < 0 or out[1] < 0:
        raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater than or "
                           f"equal to 0 but received {{{out[0]}, {out[1]}}}")
    if len(shape) not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
                           f"{list(shape)}")
    for i in (-2, -1):
        if shape[i] <= 0:
            raise RuntimeError(f"adaptive_avg_pool2d(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but input has sizes {list(shape)} with "
                               f"dimension {i + len(shape)} being empty")
    _not_implemented(x, "adaptive_avg_pool2d", "biu")
    rows, cols = (_adaptive_windows(size, o) for size, o in zip(shape[-2:], out))
    divisor = np.outer([e - s for s, e in rows], [e - s for s, e in cols])
    return AvgPool2DFunction(_as_4d(shape), _out_shape(x, shape, out), _masks(rows, shape[-2]),
                             _masks(cols, shape[-1]), divisor, "AdaptiveAvgPool2DBackward0")(x)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling of input (N, C, H, W) or (C, H, W) to the output size (OH, OW) (an int for
    both; None keeps the input's size), windows as even as possible (PyTorch's
    F.adaptive_avg_pool2d)."""
    x = as_tensor(input)
    if not isinstance(output_size, int | np.integer):
        output_size = tuple(output_size)
        if x.ndim <= len(output_size):
            raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
        output_size = [x.shape[i - len(output_size)] if v is None else v
                       for i, v in enumerate(output_size)]
    out = int_tuple(output_size, "adaptive_avg_pool2d", "output_size", 2, 2)
    if len(out) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    return _adaptive_avg_pool(x, tuple(x.shape), out)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of input (N, C, L) or (C, L) to `output_size` outputs (PyTorch's
    F.adaptive_avg_pool1d)."""
    x = as_tensor(input)
    out = int_tuple(output_size, "adaptive_avg_pool1d", "output_size", 2, 1)
    _check_dim_range("adaptive_avg_pool1d", x)
    _check_1d("adaptive_avg_pool1d", out, "output_size")
    return _adaptive_avg_pool(x, _as_planes(x), (1, out[0]))


__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d"]
