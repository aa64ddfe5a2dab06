"""Shape ops: reshape, transpose, permute, broadcast. They move numbers, never change them, so
each backward applies the inverse movement to the gradient."""

import numpy as np

from ..autograd.function import _TENSOR_TYPES, Function
from ..dtypes import _NoStorageDtype, to_dtype
from ..tensor import Tensor, _check_dim, as_tensor
from ._util import normalize_dims


class Reshape(Function):
    saves_values = False
    grad_fn_name = "ViewBackward0"
    is_view = True

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.inputs[0].shape)


class Permute(Function):
    saves_values = False
    is_view = True

    def __init__(self, dims):
        self.dims = dims

    def forward(self, x):
        return x.transpose(self.dims)

    def backward(self, gy):
        return permute(gy, tuple(np.argsort(self.dims)))  # the inverse permutation


class BroadcastTo(Function):
    saves_values = False
    grad_fn_name = "ExpandBackward0"
    is_view = True

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        # A writable view (NumPy's broadcast_to is read-only), so that a write into one element
        # of an expanded tensor reaches x, like PyTorch; in-place ops that would write one
        # element several times are refused (ops/inplace.py).
        v = np.broadcast_to(x, self.shape)
        return np.lib.stride_tricks.as_strided(x, v.shape, v.strides, writeable=True)

    def backward(self, gy):
        from .arithmetic import sum_to

        return sum_to(gy, self.inputs[0].shape)


def _shape_args(shape):
    """Accept `f(2, 3)` and `f((2, 3))` like PyTorch."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def reshape(input, *shape):
    x = as_tensor(input)
    shape = _shape_args(shape)
    if x.shape == shape:
        return x
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
    if (-1 in shape and (known == 0 or x.numel() % known)) or (-1 not in shape and
                                                               known != x.numel()):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {x.numel()}")
    return Reshape(shape)(x)


def view(input, *shape):
    """reshape that never copies: PyTorch's error when the memory layout does not allow it.
    `view(dtype)` reads the same memory as another dtype instead (PyTorch's bit cast)."""
    x = as_tensor(input)
    if len(shape) == 1 and (isinstance(shape[0], np.dtype | _NoStorageDtype) or
                            isinstance(shape[0], type) and issubclass(shape[0], np.generic)):
        return _view_as_dtype(x, to_dtype(shape[0]))
    y = reshape(x, *shape)
    if y is x:  # a view is a new tensor even when the shape is unchanged
        return Reshape(x.shape)(x)
    if x.numel() and not np.may_share_memory(y._data, x._data):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return y


def _view_as_dtype(x, dtype):
    """x's memory as `dtype`, no copy and no gradient (a different element size rescales the last
    dim, which must then be contiguous). Shares x's version counter, as a view does."""
    a, names = x._data, _TENSOR_TYPES
    what = f"to view {names[a.dtype.name]} as {names[dtype.name]} (different element sizes)"
    if dtype.itemsize != a.itemsize:
        if a.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if a.shape[-1] != 1 and a.strides[-1] != a.itemsize:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got "
                               f"{a.strides[-1] // a.itemsize}")
        ratio = dtype.itemsize // a.itemsize
        if ratio > 1 and a.shape[-1] % ratio:
            raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, but got "
                               f"{a.shape[-1]}")
    y = Tensor._make(a.view(dtype))
    y._version_cell = x._version_cell
    return y


def flatten(input, start_dim=0, end_dim=-1):
    x = as_tensor(input)
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _check_dim(start_dim, x.ndim), _check_dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return reshape(x, x.shape[:s] + (-1,) + x.shape[e + 1:])


def permute(input, *dims):
    x = as_tensor(input)
    dims = _shape_args(dims)
    if len(dims) != x.ndim:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does "
                           "not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {x.ndim} is not equal to len(dims) = {len(dims)}")
    dims = normalize_dims(dims, x.ndim)
    if dims == tuple(range(x.ndim)):
        return x
    return Permute(dims)(x)


def transpose(input, dim0, dim1):
    x = as_tensor(input)
    if x.ndim == 0:
        return x
    d0, d1 = _check_dim(dim0, x.ndim), _check_dim(dim1, x.ndim)
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(x, dims)


swapaxes = transpose


def t(input):
    x = as_tensor(input)
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return transpose(x, 0, 1) if x.ndim == 2 else x


def broadcast_to(input, *shape):
    x = as_tensor(input)
    shape = _shape_args(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise RuntimeError(f"the number of sizes provided ({len(shape)}) must be greater or equal "
                           f"to the number of dimensions in the tensor ({x.ndim})")
    # -1 keeps the existing size (expand's convention)
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
    for i, s in enumerate(x.shape):
        if s != 1 and s != shape[lead + i]:
            raise RuntimeError(f"The expanded size of the tensor ({shape[lead + i]}) must match "
                               f"the existing size ({s}) at non-singleton dimension {lead + i}.  "
                               f"Target sizes: {list(shape)}.  Tensor sizes: {list(x.shape)}")
    if shape == x.shape:
        return x
    return BroadcastTo(shape)(x)


def expand(input, *sizes):
    return broadcast_to(input, *sizes)


def expand_as(input, other):
    return broadcast_to(input, other.shape)


def view_as(input, other):
    return view(input, other.shape)


def reshape_as(input, other):
    return reshape(input, other.shape)


def _T(self):
    return permute(self, tuple(reversed(range(self.ndim)))) if self.ndim > 1 else self


def _mT(self):
    if self.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{self.ndim}-D tensor.")
    return transpose(self, -2, -1)


def _contiguous(self, memory_format=None):
    """self if its memory is in row-major order, else a row-major copy (that `view` accepts)."""
    if self._data.flags.c_contiguous:
        return self
    from .arithmetic import clone

    return clone(self)


TENSOR_METHODS = {
    "reshape": reshape, "view": view, "flatten": flatten, "permute": permute,
    "transpose": transpose, "swapaxes": swapaxes, "t": t, "expand": expand,
    "broadcast_to": broadcast_to, "expand_as": expand_as, "reshape_as": reshape_as,
    "view_as": view_as, "contiguous": _contiguous,
    "T": property(_T), "mT": property(_mT),
}
__all__ = ["reshape", "flatten", "permute", "transpose", "swapaxes", "t", "broadcast_to"]
