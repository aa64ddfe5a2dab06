"""Shape ops: reshape, transpose, permute, movedim, unflatten, broadcast, diagonal. They move
numbers, never change them, so each backward applies the inverse movement to the gradient
(reading a diagonal and writing one into zeros, Diagonal and DiagEmbed, are each other's)."""

import math

import numpy as np

from ..autograd.function import _TENSOR_TYPES, Function
from ..dtypes import _NoStorageDtype, to_dtype
from ..tensor import Tensor, _check_dim, as_tensor, type_name
from ._util import broadcast_shape, normalize_dims


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


class Diagonal(Function):
    """y[..., i] = x[..., i, ..., i + offset, ...]: the diagonal of dims (dim1, dim2), moved to
    the last dim (NumPy's and PyTorch's layout). A view of x, except for diag()'s copy."""

    saves_values = False
    is_view = True

    def __init__(self, offset, dim1, dim2, copy=False):
        self.offset, self.dim1, self.dim2, self.copy = offset, dim1, dim2, copy
        if copy:
            self.is_view, self.grad_fn_name = False, "DiagonalBackward0_copy"

    def forward(self, x):
        y = np.diagonal(x, self.offset, self.dim1, self.dim2)
        if self.copy:
            return y.copy()
        if x.flags.writeable:  # NumPy marks the view read-only; PyTorch's can be written through
            y.flags.writeable = True
        return y

    def backward(self, gy):
        # each diagonal element came from one element of x; the others get zero
        return DiagEmbed(self.offset, self.dim1, self.dim2, self.inputs[0].shape)(gy)


class DiagEmbed(Function):
    """Zeros of `shape` with x written along the diagonal (offset, dim1, dim2): diag_embed, and
    the gradient of Diagonal (which reads that diagonal back: each is the other's backward)."""

    saves_values = False

    def __init__(self, offset, dim1, dim2, shape):
        self.offset, self.dim1, self.dim2, self.shape = offset, dim1, dim2, tuple(shape)

    def forward(self, x):
        out = np.zeros(self.shape, dtype=x.dtype)
        diagonal = np.diagonal(out, self.offset, self.dim1, self.dim2)
        diagonal.flags.writeable = True
        diagonal[...] = x
        return out

    def backward(self, gy):
        return Diagonal(self.offset, self.dim1, self.dim2)(gy)


def int_arg(value, op, name, position):
    """An int argument (NumPy ints too), with PyTorch's TypeError for anything else."""
    if not isinstance(value, int | np.integer):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be int, not "
                        f"{type_name(value)}")
    return int(value)


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


def movedim(input, source, destination):
    """Move dims `source` (an int or a tuple) to the positions `destination`; the other dims
    keep their order in the places left. A permute, so its gradient permutes back."""
    x = as_tensor(input)
    if isinstance(source, int | np.integer) != isinstance(destination, int | np.integer):
        raise TypeError(f"movedim(): source and destination must both be ints or both be tuples "
                        f"of ints, got {type_name(source)} and {type_name(destination)}")
    src = [source] if isinstance(source, int | np.integer) else list(source)
    dst = [destination] if isinstance(destination, int | np.integer) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    for name, given in (("source", src), ("destination", dst)):
        dims = [_check_dim(int_arg(d, "movedim", name, 2 + (name != "source")), x.ndim)
                for d in given]
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({given})")
    order = [None] * max(x.ndim, 1)
    for s, d in zip(src, dst):
        order[_check_dim(d, x.ndim)] = _check_dim(s, x.ndim)
    rest = iter(d for d in range(x.ndim) if d not in order)
    order = [next(rest) if d is None else d for d in order]
    return permute(x, order[:x.ndim])


moveaxis = movedim


def unflatten(input, dim, sizes):
    """Split dim `dim` into several dims of `sizes` (one of them may be -1: inferred);
    the inverse of flatten. A reshape."""
    x = as_tensor(input)
    if isinstance(sizes, int | np.integer) or not isinstance(sizes, tuple | list):
        raise TypeError(f"unflatten(): argument 'sizes' (position 3) must be tuple of ints, not "
                        f"{type_name(sizes)}")
    sizes = [int_arg(s, "unflatten", "sizes", 3) for s in sizes]
    dim = int_arg(dim, "unflatten", "dim", 2)
    return reshape(x, _unflattened_shape(x.shape, dim, sizes))


def _unflattened_shape(shape, dim, sizes):
    """`shape` with dim `dim` split into `sizes`, a list of ints (one may be -1: inferred; the
    list is edited), with PyTorch's checks and messages."""
    if not shape:
        raise RuntimeError("unflatten: Dimension specified as 0 but tensor has no dimensions")
    d = _check_dim(dim, len(shape))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    for i, s in enumerate(sizes):
        if s < -1:
            raise RuntimeError(f"unflatten: invalid shape dimension {s} at index {i} of shape "
                               f"{sizes}")
    if sizes.count(-1) > 1:
        raise RuntimeError("unflatten: only one dimension can be inferred")
    n, known = shape[d], math.prod(s for s in sizes if s != -1)
    if -1 in sizes and n == 0 and known == 0:
        raise RuntimeError(f"unflatten: cannot reshape tensor of 0 elements into shape {sizes} "
                           "because the unspecified dimension size -1 can be any value and is "
                           "ambiguous")
    if -1 in sizes and known and n % known == 0:
        sizes[sizes.index(-1)] = n // known
    if math.prod(sizes) != n or -1 in sizes:
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply "
                           f"up to the size of dim {d} ({n}) in the input tensor")
    return tuple(shape[:d]) + tuple(sizes) + tuple(shape[d + 1:])


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views, as expand gives)."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type_name(t)}")
    shape = ()
    for t in tensors:
        shape = broadcast_shape(shape, t.shape)
    return tuple(broadcast_to(t, shape) for t in tensors)


# ----- diagonals --------------------------------------------------------------------------------
def _diagonal_dims(dim1, dim2, ndim):
    d1, d2 = _check_dim(dim1, ndim), _check_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of dims (dim1, dim2), x[i, i + offset] for a matrix, as the last dim of the
    result (a view). offset > 0: above the main diagonal; < 0: below."""
    x = as_tensor(input)
    offset = int_arg(offset, "diagonal", "offset", 2)
    d1, d2 = _diagonal_dims(dim1, dim2, x.ndim)
    return Diagonal(offset, d1, d2)(x)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose diagonals (offset, dim1, dim2) hold input's last dim, zeros elsewhere:
    (..., n) -> (..., n + |offset|, n + |offset|) for the default dims."""
    x = as_tensor(input)
    offset = int_arg(offset, "diag_embed", "offset", 2)
    d1, d2 = _diagonal_dims(dim1, dim2, x.ndim + 1)
    n = x.shape[-1] + abs(offset)
    shape = list(x.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    return DiagEmbed(offset, d1, d2, shape)(x)


def diag(input, diagonal=0):
    """Vector -> the square matrix with it on diagonal `diagonal` (zeros elsewhere);
    matrix -> that diagonal as a vector (a copy)."""
    x = as_tensor(input)
    offset = int_arg(diagonal, "diag", "diagonal", 2)
    if x.ndim == 1:
        n = x.shape[0] + abs(offset)
        return DiagEmbed(offset, 0, 1, (n, n))(x)
    if x.ndim == 2:
        return Diagonal(offset, 0, 1, copy=True)(x)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")


TENSOR_METHODS = {
    "reshape": reshape, "view": view, "flatten": flatten, "permute": permute,
    "transpose": transpose, "swapaxes": swapaxes, "t": t, "expand": expand,
    "broadcast_to": broadcast_to, "expand_as": expand_as, "reshape_as": reshape_as,
    "view_as": view_as, "contiguous": _contiguous,
    "T": property(_T), "mT": property(_mT),
    "movedim": movedim, "moveaxis": moveaxis, "unflatten": unflatten, "diagonal": diagonal,
    "diag_embed": diag_embed, "diag": diag,
}
__all__ = ["reshape", "flatten", "permute", "transpose", "swapaxes", "t", "broadcast_to",
           "movedim", "moveaxis", "unflatten", "broadcast_tensors", "diagonal", "diag_embed",
           "diag"]
