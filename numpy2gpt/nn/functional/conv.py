"""conv1d, conv2d, conv3d and the transposed conv_transpose1d, conv_transpose2d,
conv_transpose3d (PyTorch's torch.nn.functional convolutions).

A convolution slides a (C_in / groups, *kernel) kernel over the (zero-padded) input; each output
element is the dot product of one kernel with one window. Computed as im2col: copy every window
into a column of a matrix `cols` (sliding_window_view gives the windows without copying, one
reshape copies them), then one BLAS matmul with the kernels does all the dot products:

    W (O, C*prod(kernel)) @ cols (C*prod(kernel), N*prod(out))  ->  y (O, N*prod(out))

(per group: with groups > 1 it is a batch of G such matmuls). Backward runs through the same
matmul: dL/dW = gy @ cols^T, and dL/dcols = W^T @ gy, whose columns are summed back onto the
input elements they were copied from (col2im: one strided slice-add per kernel offset).

The same code serves 1, 2 and 3 spatial dims. The window helpers here are shared with pooling.py
(max pooling routes its gradient with the same col2im).
"""

import math

import numpy as np

from ...autograd.function import _TENSOR_TYPES, FusedFunction
from ...ops._util import CPP_TYPE_NAMES, int_arg, renamed
from ...ops.join import stack
from ...tensor import as_tensor
from ._args import int_tuple
from .activation import pad

# ----- windows: shared by convolution and pooling ----------------------------------------------


def output_size(size, kernel, pad_lo, pad_hi, stride, dilation, ceil_mode=False):
    """Number of windows along one dim (PyTorch's pooling_output_shape_pad_lr). In ceil mode a
    last, partial window is kept if it starts inside the input or the left padding."""
    span = size + pad_lo + pad_hi - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad_lo:
        out -= 1
    return out


def window_view(xp, kernel, stride, dilation, out):
    """The windows of xp (N, C, *spatial) as a strided view (N, C, *out, *kernel), no copy:
    window (i, j, ...) starts at (i * stride_0, j * stride_1, ...) and takes every dilation-th
    element. kernel, stride, dilation, out: one int per spatial dim (1, 2 or 3 of them)."""
    dims = len(kernel)
    spans = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))
    v = np.lib.stride_tricks.sliding_window_view(xp, spans, axis=tuple(range(2, 2 + dims)))
    starts = tuple(slice(None, (o - 1) * s + 1, s) for o, s in zip(out, stride))
    return v[(slice(None), slice(None)) + starts + tuple(slice(None, None, d) for d in dilation)]


def _offset_slices(offset, stride, dilation, out):
    """The slices of the padded input's spatial dims that kernel offset (i, j, ...) reads, one
    element per output position."""
    return tuple(slice(i * d, i * d + (o - 1) * s + 1, s)
                 for i, s, d, o in zip(offset, stride, dilation, out))


def col2im(cols, padded_shape, stride, dilation):
    """The adjoint of window_view: sum cols (*kernel, N, C, *out), one value per window
    element, into an array of `padded_shape`; an input element in several windows gets the sum.

    One strided slice-add per kernel offset: for a fixed offset the windows touch distinct
    elements, so `+=` needs no np.add.at."""
    g = np.zeros(padded_shape, dtype=cols.dtype)
    dims = len(stride)
    kernel, out = cols.shape[:dims], cols.shape[dims + 2:]
    for offset in np.ndindex(*kernel):
        g[(slice(None), slice(None)) + _offset_slices(offset, stride, dilation, out)] += \
            cols[offset]
    return g


def window_stack(xp, kernel, stride, dilation, out):
    """window_view in differentiable ops, for `composed`: the Tensor xp's windows as
    (N, C, *out, prod(kernel)), stacked from one strided slice per kernel offset."""
    return stack([xp[(slice(None), slice(None)) + _offset_slices(offset, stride, dilation, out)]
                  for offset in np.ndindex(*kernel)], dim=-1)


# ----- the convolution -------------------------------------------------------------------------
class ConvolutionFunction(FusedFunction):
    """y = conv(x, weight) + bias over 1, 2 or 3 spatial dims. stride, dilation: one int per
    spatial dim; padding: one (before, after) pair per spatial dim, zeros (asymmetric for
    padding='same')."""

    grad_fn_name = "ConvolutionBackward0"

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def _geometry(self, x_shape, w_shape):
        """The padded input's shape, the kernel's and the output's spatial sizes."""
        spatial, kernel = x_shape[2:], w_shape[2:]
        padded = x_shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(spatial, self.padding))
        out = tuple(output_size(n, k, lo, hi, s, d) for n, k, (lo, hi), s, d in
                    zip(spatial, kernel, self.padding, self.stride, self.dilation))
        return padded, kernel, out

    def forward(self, x, weight, bias=None):
        self.x_shape, self.w_shape = x.shape, weight.shape
        padded, kernel, out = self._geometry(x.shape, weight.shape)
        (n, c), g, o, dims = x.shape[:2], self.groups, weight.shape[0], len(kernel)
        xp = np.pad(x, ((0, 0), (0, 0)) + self.padding) if padded != x.shape else x
        win = window_view(xp, kernel, self.stride, self.dilation, out)  # (N, C, *out, *kernel)
        # im2col, per group: one row per (channel, kernel offset), one column per output position
        cg = c // g
        out_axes, kernel_axes = range(3, 3 + dims), range(3 + dims, 3 + 2 * dims)
        self.cols = win.reshape(n, g, cg, *out, *kernel) \
                       .transpose(1, 2, *kernel_axes, 0, *out_axes) \
                       .reshape(g, cg * math.prod(kernel), n * math.prod(out))
        self.w_rows = weight.reshape(g, o // g, -1)  # one row per kernel
        y = self.w_rows @ self.cols  # (G, O/G, N*prod(out))
        y = y.reshape(o, n, *out).swapaxes(0, 1)
        return np.ascontiguousarray(y) if bias is None else y + bias.reshape((o,) + (1,) * dims)

    def backward(self, gy):
        need = self.needs_input_grad
        padded, kernel, out = self._geometry(self.x_shape, self.w_shape)
        (n, c), g, o, dims = self.x_shape[:2], self.groups, self.w_shape[0], len(kernel)
        positions = math.prod(out)
        # gy in the layout of the forward matmul's result, (G, O/G, N*prod(out)), as a contiguous
        # copy: gy may be a broadcast (stride 0) array, which BLAS cannot take
        gy_rows = np.ascontiguousarray(gy.reshape(n, o, positions).transpose(1, 0, 2)) \
            .reshape(g, o // g, n * positions)
        gx = gw = gb = None
        if need[0]:
            # y = W @ cols, so dL/dcols = W^T @ gy; each window element's gradient then goes back
            # to the input element it was copied from (col2im), and the padding is cut off
            gcols = (self.w_rows.transpose(0, 2, 1) @ gy_rows) \
                .reshape(g, c // g, *kernel, n, *out) \
                .transpose(*range(2, 3 + dims), 0, 1, *range(3 + dims, 3 + 2 * dims)) \
                .reshape(*kernel, n, c, *out)
            gxp = col2im(gcols, padded, self.stride, self.dilation)
            gx = gxp[(slice(None), slice(None)) + tuple(
                slice(lo, lo + size) for (lo, _), size in zip(self.padding, self.x_shape[2:]))]
        if need[1]:  # dL/dW = gy @ cols^T: each kernel weight meets the elements it multiplied
            gw = (self.cols @ gy_rows.transpose(0, 2, 1)).transpose(0, 2, 1).reshape(self.w_shape)
        if len(need) == 3 and need[2]:  # the bias is added at every position of every sample
            gb = gy.sum(axis=(0, *range(2, gy.ndim)))
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)

    def composed(self, x, weight, bias=None):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        _, kernel, out = self._geometry(tuple(x.shape), tuple(weight.shape))
        (n, c), g, o, positions = x.shape[:2], self.groups, weight.shape[0], math.prod(out)
        xp = pad(x, tuple(p for pair in reversed(self.padding) for p in pair))
        cols = window_stack(xp, kernel, self.stride, self.dilation, out)
        cols = cols.reshape(n, g, c // g, positions, -1).permute(1, 0, 3, 2, 4) \
                   .reshape(g, n * positions, -1)
        y = cols @ weight.reshape(g, o // g, -1).mT
        y = y.reshape(g, n, positions, o // g).permute(1, 0, 3, 2).reshape(n, o, *out)
        if bias is not None:
            y = y + bias.reshape((o,) + (1,) * len(out))
        return y


# ----- argument checks ----------------------------------------------------------------------------


def _expand(values, name, dims):
    """One value per spatial dim of the weight: PyTorch's expand_param_if_needed."""
    if len(values) == 1:
        return values * dims
    if len(values) != dims:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {dims} "
                           f"values to match the convolution dimensions, but got "
                           f"{name}={list(values)}")
    return values


def _same_padding(x, w, stride, dilation):
    """padding='same': the output keeps the input's size. A total of d * (k - 1) per dim, the
    odd element on the right (bottom), as PyTorch's _convolution_same."""
    dims = w.ndim - 2
    if w.ndim != x.ndim:
        raise RuntimeError(f"Expected {w.ndim}-dimensional input for {w.ndim}-dimensional weight"
                           f"{list(w.shape)}, but got {x.ndim}-dimensional input of size "
                           f"{list(x.shape)} instead")
    for name, values in (("stride", stride), ("dilation", dilation)):
        if len(values) not in (1, dims):
            raise RuntimeError(f"{name} cannot broadcast to {dims} dimensions")
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    totals = [d * (k - 1) for d, k in zip(_expand(dilation, "dilation", dims), w.shape[2:])]
    return tuple((t // 2, t - t // 2) for t in totals)


def _check_kernel_size(w):
    """PyTorch's error for a weight with an empty spatial dim (there would be nothing to add)."""
    kernel = w.shape[2:]
    if 0 in kernel:
        if len(kernel) == 3:
            raise RuntimeError(f"kernel size should be greater than zero, but got: "
                               f"{' x '.join(map(str, kernel))} (TxHxW)")
        height, width = (1, *kernel) if len(kernel) == 1 else kernel[-2:]
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{height} kernel_width: {width}")


def _conv(op, dims, input, weight, bias, stride, padding, dilation, groups):
    """conv1d / conv2d / conv3d (dims = 1 / 2 / 3): PyTorch's checks, in PyTorch's order, then
    the op."""
    x, w = as_tensor(input), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    stride = int_tuple(stride, op, "stride", 4, dims)
    dilation = int_tuple(dilation, op, "dilation", 6, dims)
    if not isinstance(padding, str):
        padding = int_tuple(padding, op, "padding", 5, dims)
    if b is not None and b.dtype != x.dtype and not isinstance(padding, str):
        raise RuntimeError(f"Input type ({CPP_TYPE_NAMES[x.dtype.name]}) and bias type "
                           f"({CPP_TYPE_NAMES[b.dtype.name]}) should be the same")
    if x.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to "
                           f"{op}, but got input of size: {list(x.shape)}")
    if x.ndim == dims + 1:  # unbatched: a batch of one, as PyTorch does it
        return _conv(op, dims, x.unsqueeze(0), w, b, stride, padding, dilation,
                     groups).squeeze(0)
    if isinstance(padding, str) and padding not in ("same", "valid"):
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    if w.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    _check_kernel_size(w)
    k = w.ndim - 2
    if padding == "same":
        pads = _same_padding(x, w, stride, dilation)
    stride = _expand(stride, "stride", k)
    if padding == "valid":
        pads = ((0, 0),) * k
    elif not isinstance(padding, str):
        pads = tuple((p, p) for p in _expand(padding, "padding", k))
    dilation = _expand(dilation, "dilation", k)
    if any(p < 0 for pair in pads for p in pair):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d < 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    _check_shapes(x, w, b, groups, pads, dilation)
    if any(d == 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    _check_dtypes(x, w, b)
    if x.dtype == np.bool_:
        kernel = "compute_columns3d" if dims == 3 else "slow_conv2d_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    params = (x, w) if b is None else (x, w, b)
    return ConvolutionFunction(stride, pads, dilation, groups)(*params)


def _check_dtypes(x, w, b):
    """The weight and the bias must have the input's dtype (PyTorch's messages)."""
    for name, t in (("weight", w), ("bias", b)):
        if t is None or t.dtype == x.dtype:
            continue
        if x.dtype == np.float32:
            raise RuntimeError(f"Input type (torch.FloatTensor) and {name} type (torch."
                               f"{_TENSOR_TYPES.get(t.dtype.name, t.dtype.name)}Tensor) should "
                               f"be the same or input should be a MKLDNN tensor and {name} is a "
                               "dense tensor")
        raise RuntimeError(f"expected scalar type {_TENSOR_TYPES.get(x.dtype.name, x.dtype.name)}"
                           f" but found {_TENSOR_TYPES.get(t.dtype.name, t.dtype.name)}")


def _check_weight_and_groups(x, w, groups):
    """The checks PyTorch's check_input_shape_forward makes for either kind of convolution: the
    weight's ndim against the input's, and its first dim against `groups`."""
    ws = list(w.shape)
    if w.ndim != x.ndim:
        raise RuntimeError(f"Expected {w.ndim}-dimensional input for {w.ndim}-dimensional weight "
                           f"{ws}, but got {x.ndim}-dimensional input of size {list(x.shape)} "
                           "instead")
    if ws[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {ws} instead")
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{ws}] instead")


def _check_shapes(x, w, b, groups, pads, dilation):
    """PyTorch's check_input_shape_forward: weight, channels, bias and kernel against input."""
    _check_weight_and_groups(x, w, groups)
    ws = list(w.shape)
    if x.shape[1] != ws[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {ws}, expected input"
                           f"{list(x.shape)} to have {ws[1] * groups} channels, but got "
                           f"{x.shape[1]} channels instead")
    if b is not None and (b.ndim != 1 or b.shape[0] != ws[0]):
        raise RuntimeError(f"Given weight of size {ws}, expected bias to be 1-dimensional with "
                           f"{ws[0]} elements, but got bias of size {list(b.shape)} instead")
    padded = [n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads)]
    kernel = [d * (k - 1) + 1 for d, k in zip(dilation, ws[2:])]
    if any(p < k for p, k in zip(padded, kernel)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, kernel))}). Kernel size can't be greater than "
                           "actual input size")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of input (N, C_in, L) (or unbatched (C_in, L)) with weight
    (C_out, C_in / groups, k) (PyTorch's F.conv1d). padding: int, (int,), 'valid' or 'same'."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of input (N, C_in, H, W) (or unbatched (C_in, H, W)) with weight
    (C_out, C_in / groups, kh, kw) (PyTorch's F.conv2d). stride, padding, dilation: an int or
    (h, w); padding may also be 'valid' (none) or 'same' (output as large as the input)."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of input (N, C_in, D, H, W) (or unbatched (C_in, D, H, W)) with weight
    (C_out, C_in / groups, kd, kh, kw) (PyTorch's F.conv3d), e.g. over video frames or volumes.
    stride, padding, dilation: an int or (d, h, w); padding may also be 'valid' or 'same'."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


# ----- transposed convolution ------------------------------------------------------------------
def _conv_transpose(op, dims, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    """conv_transpose1d / 2d / 3d (dims = 1 / 2 / 3): PyTorch's checks, then the op, composed:

    a transposed convolution is the gradient of a convolution with respect to its input. Every
    input element scatters its value times the kernel into the output: per group,
    cols = W^T @ x gives each input element's (C_out * prod(kernel)) contributions, and col2im
    (fold) adds them up at their places on a canvas of (size - 1) * stride + dilation * (k - 1)
    + 1 elements along each spatial dim. `padding` cuts that many from each side of the canvas,
    `output_padding` adds elements at the end, which no input reaches (only the bias). Built
    from differentiable ops, so autograd gives the gradients of every order."""
    from .sampling import Col2Im  # (sampling.py imports this file)

    x, w = as_tensor(input), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    stride = int_tuple(stride, op, "stride", 4, dims)
    padding = int_tuple(padding, op, "padding", 5, dims)
    output_padding = int_tuple(output_padding, op, "output_padding", 6, dims)
    dilation = int_tuple(dilation, op, "dilation", 8, dims)
    groups = int_arg(groups, op, "groups", 7)
    if x.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to "
                           f"{op}, but got input of size: {list(x.shape)}")
    if x.ndim == dims + 1:  # unbatched: a batch of one, as PyTorch does it
        return _conv_transpose(op, dims, x.unsqueeze(0), w, b, stride, padding, output_padding,
                               groups, dilation).squeeze(0)
    if w.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    _check_kernel_size(w)
    k = w.ndim - 2
    stride, padding = _expand(stride, "stride", k), _expand(padding, "padding", k)
    output_padding = _expand(output_padding, "output_padding", k)
    dilation = _expand(dilation, "dilation", k)
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d < 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    _check_transposed_shapes(x, w, b, groups)
    n, c, *size = x.shape
    kernel = tuple(w.shape[2:])
    canvas = tuple((m - 1) * s + d * (kk - 1) + 1
                   for m, s, d, kk in zip(size, stride, dilation, kernel))
    out = tuple(cv - 2 * p + op_ for cv, p, op_ in zip(canvas, padding, output_padding))
    _check_transposed_geometry(x, stride, output_padding, dilation, out)
    if x.dtype == np.bool_ or (x.dtype.kind in "iu" and x.dtype != np.int64):
        kernel_name = f"slow_conv_transpose{3 if dims == 3 else 2}d_out_cpu"
        raise NotImplementedError(f"\"{kernel_name}\" not implemented for "
                                  f"'{_TENSOR_TYPES.get(x.dtype.name, x.dtype.name)}'")
    _check_dtypes(x, w, b)
    g, o, positions = groups, w.shape[1] * groups, math.prod(size)
    # cols[n, g] = W_g^T @ x[n, g]: (C_out / G * prod(kernel), C_in / G) @ (C_in / G, positions)
    cols = w.reshape(g, c // g, -1).mT @ x.reshape(n, g, c // g, positions)
    y = Col2Im(canvas, kernel, dilation, (0,) * dims, stride, tuple(size))(
        cols.reshape(n, o * math.prod(kernel), positions))
    if any(padding) or any(output_padding):
        # pad's amounts, the last dim first; negative ones crop: the padding off both sides,
        # the output_padding back on at the end
        y = pad(y, tuple(a for p, op_ in zip(reversed(padding), reversed(output_padding))
                         for a in (-p, -p + op_)))
    if b is not None:
        y = y + b.reshape((o,) + (1,) * dims)
    return renamed(y, "ConvolutionBackward0")  # (the last step of PyTorch's one node)


def _check_transposed_geometry(x, stride, output_padding, dilation, out):
    """PyTorch's slow_conv_transpose{2,3}d_shape_check, with its messages: they name each
    spatial dim, and conv_transpose1d's show the height-1 image PyTorch runs it as."""
    shape, size, out = list(x.shape), list(x.shape[2:]), list(out)
    stride, output_padding, dilation = list(stride), list(output_padding), list(dilation)
    if len(size) == 1:  # a height of 1 in front
        shape.insert(2, 1)
        size, out = [1] + size, [1] + out
        stride, output_padding, dilation = [1] + stride, [0] + output_padding, [1] + dilation
    names = ("depth", "height", "width")[3 - len(size):]

    def named(what, values, sep):
        return sep.join(f"{what}_{name}: {v}" for name, v in zip(names, values))

    if 0 in size and 0 not in shape[:2]:
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got input "
                           f"shape: {shape}")
    if any(d == 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got "
                           f"{named('dilation', dilation, ', ')}")
    if any(p >= s and p >= d for p, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but "
                           f"got {named('output_padding', output_padding, ' ')} "
                           f"{named('stride', stride, ' ')} {named('dilation', dilation, ' ')}")
    if any(m < 1 for m in out):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, size))}). "
                           f"Calculated output size per channel: "
                           f"({' x '.join(map(str, out))}). Output size is too small")


def _check_transposed_shapes(x, w, b, groups):
    """PyTorch's check_input_shape_forward for transposed=True: weight
    (C_in, C_out / groups, *kernel) against input and bias."""
    _check_weight_and_groups(x, w, groups)
    ws = list(w.shape)
    if x.shape[1] != ws[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {ws}, expected input"
                           f"{list(x.shape)} to have {ws[0]} channels, but got {x.shape[1]} "
                           "channels instead")
    if b is not None and (b.ndim != 1 or b.shape[0] != ws[1] * groups):
        raise RuntimeError(f"Given transposed=1, weight of size {ws}, expected bias to be "
                           f"1-dimensional with {ws[1] * groups} elements, but got bias of size "
                           f"{list(b.shape)} instead")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution ("deconvolution") of input (N, C_in, L) (or unbatched
    (C_in, L)) with weight (C_in, C_out / groups, k) (PyTorch's F.conv_transpose1d): the output
    has (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1 positions."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution of input (N, C_in, H, W) (or unbatched (C_in, H, W)) with
    weight (C_in, C_out / groups, kh, kw) (PyTorch's F.conv_transpose2d): the gradient of
    conv2d with respect to its input, e.g. to upsample by `stride`."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution of input (N, C_in, D, H, W) (or unbatched (C_in, D, H, W))
    with weight (C_in, C_out / groups, kd, kh, kw) (PyTorch's F.conv_transpose3d): the gradient
    of conv3d with respect to its input, e.g. to upsample volumes or video by `stride`."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d"]
