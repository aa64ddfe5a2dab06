"""Shape ops: reshape, transpose, permute, movedim, unflatten, broadcast, diagonal, unfold, select,
rot90 (and diff, built from them). They move numbers, never change them, so each backward applies
the inverse movement to the gradient (reading a diagonal and writing one into zeros, Diagonal and
DiagEmbed, are each other's backward; so are Unfold and FoldWindows)."""

import math
import warnings

import numpy as np

from ..autograd.function import _TENSOR_TYPES, Function
from ..dtypes import _NoStorageDtype, to_dtype
from ..tensor import CHANNELS_LAST, Tensor, _check_dim, as_tensor, storage_array, type_name
from ._util import (
    broadcast_shape,
    dim_arg,
    int_arg,
    ints_arg,
    normalize_dims,
    require_tensor,
    sizes_arg,
)


class Reshape(Function):
    saves_values = False
    is_view = True

    def __init__(self, shape, grad_fn_name="ViewBackward0"):  # (or unsqueeze's, squeeze's name)
        self.shape, self.grad_fn_name = shape, grad_fn_name

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.inputs[0].shape)


class Permute(Function):
    saves_values = False
    is_view = True

    def __init__(self, dims, grad_fn_name="PermuteBackward0"):  # (or transpose's, t's name)
        self.dims, self.grad_fn_name = dims, grad_fn_name

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


def reshape(input, *shape):
    """A view of input with another shape (a copy when its memory layout does not allow one).
    Always a new tensor, also for the same shape: like PyTorch, never input itself."""
    x = as_tensor(input)
    shape = sizes_arg(shape, "reshape", "shape", 2)
    if x.shape != shape:  # (the same shape needs no checks)
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
    try:
        shape = sizes_arg(shape, "view", "size", 1)
    except TypeError as e:
        if "failed to unpack" in str(e):
            raise
        got = ", ".join(type_name(s) for s in shape)  # no int nor dtype: neither form fits
        raise TypeError(f"view() received an invalid combination of arguments - got ({got}), but "
                        "expected one of:\n * (torch.dtype dtype)\n * (tuple of ints size)\n"
                        ) from None
    y = reshape(x, shape)
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
    if type(start_dim) is not int or type(end_dim) is not int:  # (the common case: one test)
        int_arg(start_dim, "flatten", "start_dim", 2)
        int_arg(end_dim, "flatten", "end_dim", 3)
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _check_dim(start_dim, x.ndim), _check_dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:  # nothing to merge: PyTorch returns input itself (not a view)
        return x
    return reshape(x, x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:])


def permute(input, *dims):
    x = as_tensor(input)
    dims = sizes_arg(dims, "permute", "dims", 2)
    if len(dims) != x.ndim:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does "
                           "not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {x.ndim} is not equal to len(dims) = {len(dims)}")
    return Permute(normalize_dims(dims, x.ndim))(x)


def transpose(input, dim0, dim1):
    x = as_tensor(input)
    if type(dim0) is not int or type(dim1) is not int:  # (the common case: one test)
        int_arg(dim0, "transpose", "dim0", 2)
        int_arg(dim1, "transpose", "dim1", 3)
    d0, d1 = _check_dim(dim0, x.ndim), _check_dim(dim1, x.ndim)
    dims = list(range(x.ndim))
    if x.ndim:
        dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute(tuple(dims), "TransposeBackward0")(x)


swapaxes = transpose


def t(input):
    x = as_tensor(input)
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return Permute(tuple(reversed(range(x.ndim))), "TBackward0")(x)


def broadcast_to(input, *shape):
    return _expand(input, sizes_arg(shape, "broadcast_to", "size", 2))


def expand(input, *sizes):
    return _expand(input, sizes_arg(sizes, "expand", "size", 1))


def _expand(input, shape):
    """input expanded to `shape` (a tuple of ints; -1 keeps a size): broadcast_to and expand."""
    x = as_tensor(input)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise RuntimeError(f"the number of sizes provided ({len(shape)}) must be greater or equal "
                           f"to the number of dimensions in the tensor ({x.ndim})")
    # -1 keeps the existing size (expand's convention)
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
    for i, s in reversed(list(enumerate(x.shape))):  # (PyTorch names the last mismatch)
        if s != 1 and s != shape[lead + i]:
            raise RuntimeError(f"The expanded size of the tensor ({shape[lead + i]}) must match "
                               f"the existing size ({s}) at non-singleton dimension {lead + i}.  "
                               f"Target sizes: {list(shape)}.  Tensor sizes: {list(x.shape)}")
    return BroadcastTo(shape)(x)


def expand_as(input, other):
    return _expand(input, require_tensor(other, "expand_as", "other", 1).shape)


def view_as(input, other):
    return view(input, require_tensor(other, "view_as", "other", 1).shape)


def reshape_as(input, other):
    return reshape(input, require_tensor(other, "reshape_as", "other", 1).shape)


def _warn_0d(name, advice, stacklevel=3):
    """PyTorch's warning for a transpose property of a 0-d tensor (shown at the user's line)."""
    warnings.warn(f"Tensor.{name} is deprecated on 0-D tensors. {advice}", UserWarning,
                  stacklevel=stacklevel)


def _T(self):
    if self.ndim == 0:
        _warn_0d("T", "This function is the identity in these cases.")
    return permute(self, tuple(reversed(range(self.ndim))))


def _matrix_transpose(self, name):
    """mT and mH (the same for real tensors): the last two dims swapped. A 0-d tensor is
    returned as it is, with PyTorch's deprecation warning."""
    if self.ndim == 0:
        _warn_0d(name, "This function is the identity in these cases." if name == "mT" else
                 "Consider using x.conj().", stacklevel=4)
        return self
    if self.ndim < 2:
        raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of matrices. "
                           f"Got {self.ndim}-D tensor.")
    return transpose(self, -2, -1)


def adjoint(input):
    """The conjugate transpose of the last two dims, a view (for real tensors, input.mT)."""
    x = require_tensor(input, "adjoint", "input", 1)
    if x.ndim == 0:
        warnings.warn("adjoint() is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return x
    if x.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {x.ndim}-D tensor.")
    return transpose(x, -2, -1)


def _H(self):
    """The conjugate transpose of a matrix: for real tensors, its transpose."""
    if self.ndim == 0:
        _warn_0d("H", "Consider using x.conj().")
        return self
    if self.ndim != 2:
        raise RuntimeError("tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.ndim}-D tensor." + (" For batches of matrices, consider using "
                                                       "tensor.mH" if self.ndim > 2 else ""))
    return transpose(self, 0, 1)


def _contiguous(self, memory_format=None):
    """self if its memory is in row-major order, else a row-major copy (that `view` accepts);
    with memory_format=channels_last (channels_last_3d), in (N, H, W, C) ((N, D, H, W, C))
    order."""
    from .arithmetic import clone

    if memory_format in CHANNELS_LAST:
        rank, order = CHANNELS_LAST[memory_format]
        if self.ndim != rank:
            raise RuntimeError(f"required rank {rank} tensor to use {memory_format.name} format")
        if self.is_contiguous(memory_format=memory_format):
            return self
        y = clone(self)  # (the values and gradient of a copy), then laid out channels last
        y._data = np.ascontiguousarray(y._data.transpose(order)).transpose(np.argsort(order))
        return y
    if self._data.flags.c_contiguous:
        return self
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
    """The tensors expanded to their common broadcast shape (views, as expand gives; a tensor
    that has that shape already is returned itself, as in PyTorch)."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type_name(t)}")
    shape = ()
    for t in tensors:
        shape = broadcast_shape(shape, t.shape)
    return tuple(t if t.shape == shape else broadcast_to(t, shape) for t in tensors)


# ----- diagonals --------------------------------------------------------------------------------
def _diagonal_dims(dim1, dim2, ndim, op):
    d1, d2 = dim_arg(dim1, ndim, op, "dim1", 3), dim_arg(dim2, ndim, op, "dim2", 4)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of dims (dim1, dim2), x[i, i + offset] for a matrix, as the last dim of the
    result (a view). offset > 0: above the main diagonal; < 0: below."""
    x = as_tensor(input)
    offset = int_arg(offset, "diagonal", "offset", 2)
    d1, d2 = _diagonal_dims(dim1, dim2, x.ndim, "diagonal")
    return Diagonal(offset, d1, d2)(x)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose diagonals (offset, dim1, dim2) hold input's last dim, zeros elsewhere:
    (..., n) -> (..., n + |offset|, n + |offset|) for the default dims."""
    x = as_tensor(input)
    offset = int_arg(offset, "diag_embed", "offset", 2)
    d1, d2 = _diagonal_dims(dim1, dim2, x.ndim + 1, "diag_embed")
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


def diagflat(input, offset=0):
    """The square matrix with input's elements (flattened) on diagonal `offset`."""
    x = require_tensor(input, "diagflat", "input", 1)
    return diag(x.reshape(-1), int_arg(offset, "diagflat", "offset", 2))


def _atleast(tensors, ndim, name):
    """atleast_Nd: each tensor with ndim dims at least (one tensor in, one out; else a tuple)."""
    def grow(t):  # NumPy's rule: a vector is a row, and a 3-d view adds a last dim
        if t.ndim >= ndim:
            return t
        if t.ndim == 0:
            return reshape(t, *(1,) * ndim)
        # PyTorch adds the dims by unsqueeze (a scalar's by a view)
        shape = (1, *t.shape) if ndim == 2 else (1, *t.shape, 1) if t.ndim == 1 else (*t.shape, 1)
        return Reshape(shape, "UnsqueezeBackward0")(t)

    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        return tuple(grow(t) for t in tensors[0])
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument 'tensors' (position {i + 1}) must be Tensor, "
                            f"not {type_name(t)}")
    out = tuple(grow(t) for t in tensors)
    return out[0] if len(out) == 1 else out


def atleast_1d(*tensors):
    """Each tensor with at least one dim (a 0-d tensor becomes shape (1,))."""
    return _atleast(tensors, 1, "atleast_1d")


def atleast_2d(*tensors):
    """Each tensor with at least two dims (a vector v becomes (1, len(v)))."""
    return _atleast(tensors, 2, "atleast_2d")


def atleast_3d(*tensors):
    """Each tensor with at least three dims (v: (1, len(v), 1); a matrix: (rows, cols, 1))."""
    return _atleast(tensors, 3, "atleast_3d")


def broadcast_shapes(*shapes):
    """The shape tensors of these shapes broadcast to (without making any tensor)."""
    from ..tensor import Size

    result = ()
    for i, shape in enumerate(shapes):
        shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
        try:
            result = broadcast_shape(result, shape)
        except (ValueError, RuntimeError):
            n, m = len(result), len(shape)
            for k in range(1, min(n, m) + 1):
                a, b = result[-k], shape[-k]
                if a != b and a != 1 and b != 1:
                    raise RuntimeError(f"Attempting to broadcast a dimension of length {b} at "
                                       f"-{k}! Mismatching argument at index {i} had {shape}; "
                                       f"but expected shape should be broadcastable to "
                                       f"{list(result)}") from None
            raise
    return Size(result)


class Unfold(Function):
    """y[..., i, ..., j] = x[..., i * step + j, ...]: every window of `size` elements along `dim`,
    `step` apart, with the window's elements in a new last dim. A view of x."""

    saves_values = False
    is_view = True

    def __init__(self, dim, size, step):
        self.dim, self.size, self.step = dim, size, step

    def forward(self, x):
        windows = np.lib.stride_tricks.sliding_window_view(x, self.size, axis=self.dim,
                                                           writeable=x.flags.writeable)
        index = [slice(None)] * x.ndim
        index[self.dim] = slice(None, None, self.step)
        return windows[tuple(index)]

    def backward(self, gy):
        return FoldWindows(self.dim, self.size, self.step, self.inputs[0].shape)(gy)


class FoldWindows(Function):
    """Unfold's gradient: zeros of `shape` with each window's elements added back where they
    came from (windows overlap when step < size: one slice-add per position in the window)."""

    saves_values = False

    def __init__(self, dim, size, step, shape):
        self.dim, self.size, self.step, self.shape = dim, size, step, tuple(shape)

    def forward(self, g):
        out = np.zeros(self.shape, g.dtype)
        target, g = np.moveaxis(out, self.dim, 0), np.moveaxis(g, (self.dim, -1), (0, 1))
        reach = (g.shape[0] - 1) * self.step + 1  # windows x (size, ...rest)
        for j in range(self.size):
            target[j:j + reach:self.step] += g[:, j]
        return out

    def backward(self, gy):
        return Unfold(self.dim, self.size, self.step)(gy)


def unfold(self, dimension, size, step):
    """Every window of `size` elements along `dimension`, `step` apart, as a new last dim (a
    view: 1-D [0..5].unfold(0, 2, 2) is [[0, 1], [2, 3], [4, 5]])."""
    x = self
    d = _check_dim(int_arg(dimension, "unfold", "dimension", 1), x.ndim)
    size, step = int_arg(size, "unfold", "size", 2), int_arg(step, "unfold", "step", 3)
    length = x.shape[d] if x.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is "
                           f"{size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if x.ndim == 0:
        return reshape(x, 1) if size else reshape(x, 1)[:0]
    return Unfold(d, size, step)(x)


def swapdims(input, dim0, dim1):
    """Another name of transpose (and swapaxes)."""
    int_arg(dim0, "swapdims", "dim0", 2)
    int_arg(dim1, "swapdims", "dim1", 3)
    return transpose(input, dim0, dim1)


def ravel(input):
    """The elements in one dim, in order (a view when input is contiguous)."""
    return reshape(input, -1)


def _type_as(self, other):
    return self.to(require_tensor(other, "type_as", "other", 1).dtype)


def select(input, dim, index):
    """input[..., index, ...] with `index` at dim `dim`: one dim fewer (a view)."""
    x = as_tensor(input)
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _check_dim(int_arg(dim, "select", "dim", 2), x.ndim)
    i = int_arg(index, "select", "index", 3)
    if not -x.shape[d] <= i < x.shape[d]:
        raise IndexError(f"select(): index {i} out of range for tensor of size "
                         f"{list(x.shape)} at dimension {d}")
    return x[(slice(None),) * d + (i,)]


def fliplr(input):
    """Reverse the columns (dim 1)."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    from .join import flip

    return flip(input, 1)


def flipud(input):
    """Reverse the rows (dim 0)."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    from .join import flip

    return flip(input, 0)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of `dims`, from the first dim towards the
    second: a flip and a transpose (or two flips for k = 2)."""
    from .join import flip

    x = as_tensor(input)
    dims = list(ints_arg(dims, "rot90", "dims", 3))
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {x.ndim}")
    d0, d1 = (_check_dim(d, x.ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k = int_arg(k, "rot90", "k", 2) % 4
    if k == 1:
        return transpose(flip(x, d1), d0, d1)
    if k == 2:
        return flip(x, d0, d1)
    if k == 3:
        return transpose(flip(x, d0), d0, d1)
    return x.clone()


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """The derivative estimated from samples, one tensor per dim in `dim` (default: every dim):
    central differences inside, one-sided ones (first or second order, `edge_order`) at the two
    ends. spacing: one number (the step of every dim), one per dim, or the sample coordinates
    along each dim (1-D tensors: uneven steps), as NumPy's gradient."""
    from .join import cat, narrow

    x = require_tensor(input, "gradient", "input", 1)
    dims = list(range(x.ndim)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    dims = [_check_dim(d, x.ndim) for d in dims]
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    steps = list(spacing) if isinstance(spacing, list | tuple) else [spacing] * len(dims)
    if len(steps) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's "
                           f"spacing and dim arguments to have the same length, but got a "
                           f"spacing argument of length {len(steps)} and a dim argument of "
                           f"length {len(dims)}.")
    out = []
    for d, h in zip(dims, steps):
        n = x.shape[d]
        if n < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")

        def at(start, length=1, d=d):
            return narrow(x, d, start, length)
        if isinstance(h, Tensor):  # coordinates: uneven steps dx1 (behind), dx2 (ahead)
            shape = [1] * x.ndim
            shape[d] = -1
            dx = (h[1:] - h[:-1]).reshape(shape)
            dx1, dx2 = narrow(dx, d, 0, n - 2), narrow(dx, d, 1, n - 2)
            # the second-order fit through three uneven points
            a = -dx2 / (dx1 * (dx1 + dx2))
            b = (dx2 - dx1) / (dx1 * dx2)
            c = dx1 / (dx2 * (dx1 + dx2))
            inside = a * at(0, n - 2) + b * at(1, n - 2) + c * at(2, n - 2)
            h0, h1 = narrow(dx, d, 0, 1), narrow(dx, d, n - 2, 1)
            if edge_order == 1:
                first = (at(1) - at(0)) / h0
                last = (at(n - 1) - at(n - 2)) / h1
            else:
                g0, g1 = narrow(dx, d, 1, 1), narrow(dx, d, n - 3, 1)
                first = (-(2 * h0 + g0) / (h0 * (h0 + g0)) * at(0) + (h0 + g0) / (h0 * g0) * at(1)
                         - h0 / (g0 * (h0 + g0)) * at(2))
                last = (h1 / (g1 * (g1 + h1)) * at(n - 3) - (g1 + h1) / (g1 * h1) * at(n - 2)
                        + (2 * h1 + g1) / (h1 * (g1 + h1)) * at(n - 1))
        else:
            inside = (at(2, n - 2) - at(0, n - 2)) / (2 * h)
            if edge_order == 1:
                first, last = (at(1) - at(0)) / h, (at(n - 1) - at(n - 2)) / h
            else:
                first = (-1.5 * at(0) + 2 * at(1) - 0.5 * at(2)) / h
                last = (0.5 * at(n - 3) - 2 * at(n - 2) + 1.5 * at(n - 1)) / h
        out.append(cat([first, inside, last], d))
    return tuple(out)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along `dim`: out[i] = x[i + 1] - x[i], n times, after
    joining `prepend` before and `append` after x along that dim (bool: x[i + 1] != x[i])."""
    from .join import cat, narrow

    x = as_tensor(input)
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    n = int_arg(n, "diff", "n", 2)
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _check_dim(int_arg(dim, "diff", "dim", 3), x.ndim)
    if n == 0:  # a copy of the input, prepend and append ignored (as in PyTorch)
        return x.clone()
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        parts = [p if p.ndim else p.expand(*x.shape[:d], 1, *x.shape[d + 1:]) for p in parts]
        x = cat(parts, d)
    for _ in range(n):
        length = x.shape[d]
        if length == 0:
            break
        ahead, behind = narrow(x, d, 1, length - 1), narrow(x, d, 0, length - 1)
        x = ahead != behind if x.dtype == np.bool_ else ahead - behind
    return x



# ----- as_strided: a view of the storage with any sizes and strides ---------------------------
def _geometry(a):
    """(shape, strides, offset, storage size) of the array `a` in its storage, in elements."""
    root = storage_array(a)
    start = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return (a.shape, tuple(s // a.itemsize for s in a.strides), start // a.itemsize,
            root.nbytes // a.itemsize)


def _positions(shape, strides, offset):
    """The storage position of each element of a tensor of `shape` laid out with `strides`
    from `offset`: offset + sum over k of i_k * strides[k] (an int64 array of `shape`)."""
    idx = np.asarray(offset, np.int64)
    for k, (n, step) in enumerate(zip(shape, strides)):
        along = np.arange(n, dtype=np.int64) * step
        idx = idx + along.reshape((n,) + (1,) * (len(shape) - k - 1))
    return np.broadcast_to(idx, shape)


class AsStrided(Function):
    """y[i_0, ..., i_k] = storage[offset + sum i_j stride[j]], where the storage is the memory
    block x lies in: a view that may repeat elements (stride 0, overlapping windows) and reach
    parts of the storage outside x.

    The gradient is PyTorch's: each element of y adds its gradient at its place in the storage,
    and x reads its gradient back at its own places (an element x holds several times, as an
    expanded x does, shares it equally); storage outside x passes no gradient to x."""

    saves_values = False
    is_view = True

    def __init__(self, size, stride, offset, geometry):
        self.size, self.stride, self.offset = size, stride, offset
        self.geometry = geometry  # x's layout in its storage

    def forward(self, x):
        if _geometry(x) == self.geometry:  # x, or memory laid out as x: a view of its storage
            root = storage_array(x)
            raw = np.ravel(root, order="K").view(np.uint8)
            storage = raw[:root.nbytes // x.itemsize * x.itemsize].view(x.dtype)
            writeable = x.flags.writeable
        else:  # replayed on another array of x's shape (a gradient): put it where x lay
            shape, strides, offset, n = self.geometry
            storage, writeable = np.zeros(n, x.dtype), True
            storage[_positions(shape, strides, offset)] = x
        return np.lib.stride_tricks.as_strided(storage[self.offset:], self.size,
                                               tuple(s * x.itemsize for s in self.stride),
                                               writeable=writeable)

    def _mark_views(self, x, outputs, single):
        """As Function's, but y is a view of x's base even where it does not overlap x. The view
        depends on the storage only, so it is taken again from the base directly (PyTorch's
        way too), when the base is the whole storage in row-major order (as a tensor that owns
        its memory is). Its steps are None (in-place edits that autograd records are refused)
        for other bases, and when y reaches storage outside x: the old value of y would get
        its gradient through x, which has none for those elements."""
        (y,) = outputs
        base = x._view[0] if x._view is not None else x
        a = base._data
        inside = x is base or np.isin(_positions(self.size, self.stride, self.offset),
                                      _positions(*self.geometry[:3])).all()
        if a.flags.c_contiguous and storage_array(a) is a and inside:
            steps = ((AsStrided, dict(self.__dict__, geometry=_geometry(a))),)
        else:
            steps = None
        y._version_cell = x._version_cell
        y._view = (base, steps, [x._version])

    def backward(self, gy):
        from .indexing import GetItem, GetItemGrad

        shape, strides, offset, n = self.geometry
        inside = _positions(shape, strides, offset)
        g = GetItemGrad((_positions(self.size, self.stride, self.offset),), True, (n,))(gy)
        gx = GetItem((inside,), True)(g)
        counts = np.bincount(inside.ravel(), minlength=n)[inside]
        if counts.size and counts.max() > 1:
            gx = gx / Tensor._make(counts.astype(gy.dtype))
        return gx


def _sizes_list(value, name, position):
    """as_strided's size or stride: a tuple or list of ints (one int is PyTorch's TypeError)."""
    if not isinstance(value, tuple | list):
        raise TypeError(f"as_strided(): argument '{name}' (position {position}) must be tuple of "
                        f"ints, not {type_name(value)}")
    return ints_arg(value, "as_strided", name, position)


def as_strided(input, size, stride, storage_offset=None):
    """A view of input's storage (the memory block input lies in; see Tensor.storage_offset)
    with sizes `size` and element strides `stride`, from `storage_offset` (default: input's
    own). Writes through it reach the storage; elements may repeat (stride 0).

    An in-place edit of the view that autograd records needs a base (the tensor input is a
    view of, or input itself) that owns its memory in row-major order, and a view that stays
    within input's elements when input is itself a view; otherwise it is refused."""
    x = require_tensor(input, "as_strided", "input", 1)
    size, stride = _sizes_list(size, "size", 2), _sizes_list(stride, "stride", 3)
    offset = None if storage_offset is None else int_arg(storage_offset, "as_strided",
                                                          "storage_offset", 4)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    geometry = _geometry(x._data)
    offset = geometry[2] if offset is None else offset
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if any(n < 0 for n in size):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                           f"strides={list(stride)}")
    itemsize, elements = x._data.itemsize, geometry[3]
    needed = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    if needed > elements:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {itemsize} requiring a storage size "
                           f"of {needed * itemsize} are out of bounds for storage of size "
                           f"{storage_array(x._data).nbytes}")
    return AsStrided(size, stride, offset, geometry)(x)


def sum_to_size(self, *size):
    """self summed down to `size`, which must expand to self's shape (the inverse of expand:
    dims of size 1 in `size` are summed over, and leading dims are summed away)."""
    from .arithmetic import sum_to

    size = sizes_arg(size, "sum_to_size", "size", 1)
    try:
        ok = np.broadcast_shapes(size, self.shape) == self.shape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size "
                           f"{{{list(self.shape)}}}.")
    return sum_to(self, size)

# ----- the *_copy functions: torch.permute_copy(x, dims) is x.permute(dims), copied -------------
def _slice(input, dim=0, start=None, end=None, step=1):
    """input[..., start:end:step, ...] along dim (a view)."""
    d = dim_arg(dim, input.ndim, "slice_copy", "dim", 2)
    if int_arg(step, "slice_copy", "step", 5) <= 0:
        raise RuntimeError("slice step must be positive")
    return input[(slice(None),) * d + (slice(start, end, step),)]


# each view op with torch's signature for its copy (every argument after input passed on)
_VIEWS = {
    "view_copy": lambda input, size: input.view(size),  # (size may be a dtype, as in view)
    "expand_copy": lambda input, size, *, implicit=False: input.expand(size),
    "permute_copy": lambda input, dims: input.permute(dims),
    "t_copy": lambda input: input.t(),
    "transpose_copy": lambda input, dim0, dim1: input.transpose(dim0, dim1),
    "squeeze_copy": lambda input, dim=None: input.squeeze() if dim is None else input.squeeze(dim),
    "unsqueeze_copy": lambda input, dim: input.unsqueeze(dim),
    "select_copy": lambda input, dim, index: input.select(dim, index),
    "slice_copy": _slice,
    "split_copy": lambda input, split_size, dim=0: input.split(
        int_arg(split_size, "split_copy", "split_size", 2), dim),
    "split_with_sizes_copy": lambda input, split_sizes, dim=0: input.split(
        list(ints_arg(split_sizes, "split_with_sizes_copy", "split_sizes", 2)), dim),
    "unbind_copy": lambda input, dim=0: input.unbind(dim),
    "diagonal_copy": lambda input, offset=0, dim1=0, dim2=1: input.diagonal(offset, dim1, dim2),
    "detach_copy": lambda input: input.detach(),
    "alias_copy": lambda input: input.view(input.shape),
    "narrow_copy": lambda input, dim, start, length: input.narrow(dim, start, length),
    "unfold_copy": lambda input, dimension, size, step: input.unfold(dimension, size, step),
}


def _copy_of(name, view):
    def function(input, *args, **kwargs):
        result = view(require_tensor(input, name, "input", 1), *args, **kwargs)
        if isinstance(result, tuple | list):
            return tuple(r.clone() for r in result)
        return result.clone()

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (f"{name.removesuffix('_copy')} as a new tensor, not a view: a contiguous "
                        "copy of the view's elements (it has the view's gradient).")
    return function


TORCH_FUNCTIONS = {name: _copy_of(name, view) for name, view in _VIEWS.items()}


TENSOR_METHODS = {
    "reshape": reshape, "view": view, "flatten": flatten, "permute": permute,
    "transpose": transpose, "swapaxes": swapaxes, "t": t, "expand": expand,
    "broadcast_to": broadcast_to, "expand_as": expand_as, "reshape_as": reshape_as,
    "view_as": view_as, "contiguous": _contiguous,
    "T": property(_T), "mT": property(lambda self: _matrix_transpose(self, "mT")),
    "mH": property(lambda self: _matrix_transpose(self, "mH")), "H": property(_H),
    "movedim": movedim, "moveaxis": moveaxis, "unflatten": unflatten, "diagonal": diagonal,
    "diag_embed": diag_embed, "diag": diag, "unfold": unfold, "swapdims": swapdims,
    "ravel": ravel, "type_as": _type_as, "select": select, "fliplr": fliplr, "flipud": flipud,
    "rot90": rot90, "diff": diff, "sum_to_size": sum_to_size, "as_strided": as_strided,
    "diagflat": diagflat, "adjoint": adjoint,
}
__all__ = ["reshape", "flatten", "permute", "transpose", "swapaxes", "t", "broadcast_to",
           "movedim", "moveaxis", "unflatten", "broadcast_tensors", "diagonal", "diag_embed",
           "diag", "swapdims", "ravel", "select", "fliplr", "flipud", "rot90", "diff", "atleast_1d",
           "atleast_2d", "atleast_3d", "broadcast_shapes", "as_strided", "diagflat", "gradient",
           "adjoint"]
