"""Joining and splitting: cat, stack, split, chunk, unbind, (un)squeeze, repeat, flip, roll, narrow;
tensor_split, hstack / vstack / dstack / column_stack, meshgrid and cartesian_prod.

These ops move elements without changing them, so each backward moves the gradient back:
`cat` and `split`, and `stack` and `unbind`, are each other's backward (pairs of Functions, so
any order of derivative works); flip and roll are undone by flipping / rolling back; repeat sums
the gradients of the copies; the rest are built from reshape, expand, cat, split and slicing,
whose gradients are known.
"""

import functools
import warnings

import numpy as np

from .. import dtypes
from ..autograd.function import _TENSOR_TYPES, Function
from ..tensor import Tensor, _check_dim, as_tensor, type_name
from ._util import _is_int, dim_arg, int_arg, ints_arg, normalize_dims, result_dtype, sizes_arg
from .shape import BroadcastTo, Reshape, reshape


class Cat(Function):
    def __init__(self, dim, skipped=None):
        self.dim, self.skipped = dim, skipped  # skipped: legacy 1-D empty inputs, left out

    def forward(self, *xs):
        if self.skipped:
            xs = [x for x, s in zip(xs, self.skipped) if not s]
        return np.concatenate(xs, axis=self.dim)

    def backward(self, gy):
        # each input gets back the block of the gradient that sits where it was placed
        kept = [x for i, x in enumerate(self.inputs) if not (self.skipped and self.skipped[i])]
        pieces = iter(Split([x.shape[self.dim] for x in kept], self.dim)(gy))
        if not self.skipped:
            return tuple(pieces)
        return tuple(Tensor._make(np.zeros(0, dtype=gy.dtype)) if s else next(pieces)
                     for s in self.skipped)


class Split(Function):
    """Cut x along `dim` into pieces of the given sizes (views of x)."""

    saves_outputs = True  # so an unused piece can get a zero gradient
    is_view = True  # the pieces are views of x

    def __init__(self, sizes, dim, grad_fn_name="SplitWithSizesBackward0"):  # (or "SplitBackward0")
        self.sizes, self.dim, self.grad_fn_name = list(sizes), dim, grad_fn_name

    def forward(self, x):
        return tuple(np.split(x, np.cumsum(self.sizes)[:-1], axis=self.dim))

    def backward(self, *gys):
        return Cat(self.dim)(*gys)


class Stack(Function):
    """Join same-shaped tensors along a new dim."""

    def __init__(self, dim):
        self.dim = dim

    def forward(self, *xs):
        return np.stack(xs, axis=self.dim)

    def backward(self, gy):
        return Unbind(self.dim)(gy)  # input i gets back slice i of the gradient


class Unbind(Function):
    """The slices of x along `dim`, that dim removed (views of x); Stack's inverse."""

    saves_outputs = True  # so an unused slice can get a zero gradient
    is_view = True

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        m = np.moveaxis(x, self.dim, 0)
        # m[i, ...], not iter(m): a 1-D m would yield NumPy scalars, copies, where the slices
        # must be 0-d views of x
        return tuple(m[i, ...] for i in range(m.shape[0]))

    def backward(self, *gys):
        return Stack(self.dim)(*gys)


def _tensor_list(tensors, op):
    if isinstance(tensors, Tensor) or not isinstance(tensors, list | tuple):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return list(tensors)


def _common_dtype(tensors):
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = result_dtype(dt, t.dtype)
    return [t if t.dtype == dt else t.to(dt) for t in tensors]


def cat(tensors, dim=0):
    """Join tensors along an existing dim; all other dims must match."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    # PyTorch's legacy rule: 1-D empty tensors are skipped, whatever the others' shape
    skipped = [t.shape == (0,) for t in tensors]
    if all(skipped):
        skipped = [False] * len(tensors)
    first = next(t for t, s in zip(tensors, skipped) if not s)
    d = dim_arg(dim, first.ndim, "cat", "dim", 2)
    for i, t in enumerate(tensors):
        if skipped[i]:
            continue
        if t.ndim != first.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {first.ndim} and "
                               f"{t.ndim}")
        for k in range(first.ndim):
            if k != d and t.shape[k] != first.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{first.shape[k]} but got size {t.shape[k]} for tensor number {i} in the "
                    f"list (shapes {list(first.shape)} and {list(t.shape)}).")
    return Cat(d, skipped if any(skipped) else None)(*_common_dtype(tensors))


concat = concatenate = cat


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dim."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(tensors[0].shape)} at entry 0 and {list(t.shape)} at "
                               f"entry {i}")
    d = dim_arg(dim, tensors[0].ndim + 1, "stack", "dim", 2)
    return Stack(d)(*_common_dtype(tensors))


def split(tensor, split_size_or_sections, dim=0):
    """Cut into pieces of `split_size` (the last may be smaller) or of the listed sizes."""
    x = as_tensor(tensor)
    if x.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = dim_arg(dim, x.ndim, "split", "dim", 3)
    n = x.shape[d]
    if isinstance(split_size_or_sections, int | np.integer) and not isinstance(
            split_size_or_sections, bool):
        size = int(split_size_or_sections)
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size="
                               f"{size}")
        if size == 0 and n != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [size] * (n // size) + [n % size] * (n % size > 0) if size else []
        sizes = sizes or [0]  # an empty dim gives one empty piece
        return Split(sizes, d, "SplitBackward0")(x)
    else:
        # PyTorch's split hands a non-int to split_with_sizes, whose message names that
        sizes = list(ints_arg(split_size_or_sections, "split_with_sizes", "split_sizes", 2))
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sizes}")
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                               f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    return Split(sizes, d)(x)


def chunk(input, chunks, dim=0):
    """Split into `chunks` pieces of equal size ceil(n / chunks) (maybe fewer pieces)."""
    x = as_tensor(input)
    chunks = int_arg(chunks, "chunk", "chunks", 2)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if x.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    n = x.shape[dim_arg(dim, x.ndim, "chunk", "dim", 3)]
    if n == 0:  # PyTorch returns `chunks` empty pieces
        return split(x, [0] * chunks, dim)
    return split(x, -(-n // chunks), dim)


def unbind(input, dim=0):
    """Remove `dim`, returning the tuple of slices along it."""
    x = as_tensor(input)
    if x.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = dim_arg(dim, x.ndim, "unbind", "dim", 2)
    if x.shape[d] == 0:
        return ()
    return Unbind(d)(x)


def unsqueeze(input, dim):
    """Insert a dim of size 1 at `dim` (in [-ndim-1, ndim])."""
    x = as_tensor(input)
    d = dim_arg(dim, x.ndim + 1, "unsqueeze", "dim", 2)
    return Reshape(x.shape[:d] + (1,) + x.shape[d:], "UnsqueezeBackward0")(x)


def squeeze(input, dim=None):
    """Remove dims of size 1 (all of them, or those among `dim` that have size 1)."""
    x = as_tensor(input)
    dims = normalize_dims(dim, x.ndim, "squeeze", 2)
    keep = [s != 1 or (dims is not None and i not in dims) for i, s in enumerate(x.shape)]
    shape = tuple(s for s, k in zip(x.shape, keep) if k)
    # PyTorch's squeeze(), squeeze(dim) and squeeze(dims) are three overloads
    kind = 0 if dim is None else 1 if isinstance(dim, int | np.integer) else 2
    return Reshape(shape, f"SqueezeBackward{kind}")(x)


class Repeat(Function):
    """Tile x `reps[i]` times along dim i (x already has len(reps) dims)."""

    def __init__(self, reps):
        self.reps = reps

    def forward(self, x):
        return np.tile(x, self.reps)

    def backward(self, gy):
        from .reduction import sum

        # view gy as (r0, s0, r1, s1, ...): copy k of x along dim i is gy[..., k, :, ...]; each
        # element of x received the sum of the gradients of all its copies
        shape = self.inputs[0].shape
        pairs = [v for r, s in zip(self.reps, shape) for v in (r, s)]
        return sum(reshape(gy, pairs), dim=tuple(range(0, 2 * len(shape), 2)))


def repeat(input, *sizes):
    """Tile the tensor `sizes[i]` times along dim i (PyTorch's `Tensor.repeat`; always a copy)."""
    x = as_tensor(input)
    if not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    reps = sizes_arg(sizes, "repeat", "repeats", 1)
    if len(reps) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    if any(r < 0 for r in reps):
        out = [r * s for r, s in zip(reps, shape)]
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(out)}: {out}")
    return Repeat(reps)(reshape(x, shape))


def tile(input, dims):
    """Like repeat, but `dims` may be shorter than input.ndim (padded with leading 1s)."""
    x = as_tensor(input)
    dims = ints_arg(dims, "tile", "dims", 2)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


class Flip(Function):
    def __init__(self, dims):
        self.dims = dims

    def forward(self, x):
        return np.array(np.flip(x, self.dims))  # a copy, like PyTorch (np.flip gives a view)

    def backward(self, gy):
        return Flip(self.dims)(gy)  # flipping twice is the identity


def flip(input, *args, dims=None):
    """Reverse the order of elements along `dims` (`flip(x, (0, 1))`, `x.flip(0, 1)`)."""
    x = as_tensor(input)
    dims = sizes_arg(args, "flip", "dims", 2) if dims is None else ints_arg(dims, "flip", "dims")
    dims = normalize_dims(dims, x.ndim)
    return Flip(dims if x.ndim else ())(x)  # (a 0-d tensor's dim 0 or -1: nothing to reverse)


class Roll(Function):
    def __init__(self, shifts, dims):
        self.shifts, self.dims = shifts, dims

    def forward(self, x):
        return np.roll(x, self.shifts, axis=self.dims)

    def backward(self, gy):
        neg = tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple) else -self.shifts
        return Roll(neg, self.dims)(gy)  # rolling back undoes the roll


def roll(input, shifts, dims=None):
    """Shift elements along `dims` cyclically (dims=None: along the flattened tensor)."""
    x = as_tensor(input)
    shifts = ints_arg(shifts, "roll", "shifts", 2)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return Roll(shifts[0], None)(x)
    dims = ints_arg(dims, "roll", "dims", 3)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    return Roll(shifts, tuple(_check_dim(d, x.ndim) for d in dims))(x)


def narrow(input, dim, start, length):
    """The slice [start, start + length) along `dim` (a view, like x[:, start:start+length])."""
    from .indexing import GetItem

    x = as_tensor(input)
    if type(dim) is not int or type(start) is not int or type(length) is not int:
        start, length = _narrow_args(dim, start, length)
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _check_dim(dim, x.ndim)
    n = x.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return GetItem((slice(None),) * d + (slice(start, start + length),), False)(x)


def _narrow_args(dim, start, length):
    """narrow's start and length as ints, or PyTorch's TypeError for arguments of other types
    (start may be a 0-d integer tensor). It lists the types given (as the method's does)."""
    if _is_int(dim) and _is_int(start) and _is_int(length):
        return int(start), int(length)
    got = ", ".join(type_name(v) for v in (dim, start, length))
    raise TypeError(f"narrow() received an invalid combination of arguments - got ({got}), but "
                    "expected one of:\n * (int dim, Tensor start, int length)\n"
                    " * (int dim, int start, int length)\n")


def tensor_split(input, indices_or_sections=None, dim=0, *, sections=None, indices=None,
                 tensor_indices_or_sections=None):
    """Split along `dim` into `sections` pieces as equal as can be (the first n % sections are
    one longer), or at the positions `indices` (Python slice rules: x[:i0], x[i0:i1], ...,
    x[ik:]). The pieces are slices of input (views)."""
    from .indexing import GetItem

    x = as_tensor(input)
    spec = next((v for v in (indices_or_sections, sections, indices, tensor_indices_or_sections)
                 if v is not None), None)
    if spec is None:
        raise TypeError("tensor_split() missing 1 required positional argument: "
                        "'indices_or_sections'")
    if x.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    if isinstance(spec, Tensor):
        if spec.dtype != np.int64:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype "
                               f"of long, but got {_TENSOR_TYPES[spec.dtype.name]}")
        if spec.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {spec.ndim} dims")
        spec = spec.tolist()
    d = _check_dim(dim, x.ndim)
    if isinstance(spec, int | np.integer):
        if spec <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {spec}")
        q, r = divmod(x.shape[d], int(spec))
        bounds = np.cumsum([0] + [q + 1] * r + [q] * (int(spec) - r)).tolist()
    elif isinstance(spec, list | tuple):
        bounds = [0] + list(ints_arg(spec, "tensor_split", "indices", 2)) + [None]
    else:
        raise TypeError(f"tensor_split(): argument 'indices_or_sections' must be an int, a "
                        f"tuple of ints or a Tensor, not {type(spec).__name__}")
    lead = (slice(None),) * d
    return tuple(GetItem(lead + (slice(start, stop),), False)(x)
                 for start, stop in zip(bounds[:-1], bounds[1:]))



def _split_along(name, input, indices_or_sections, dim, min_ndim):
    """hsplit / vsplit / dsplit: tensor_split along `dim`, where an int must divide the dim."""
    x = as_tensor(input)
    if x.ndim < min_ndim:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_ndim} dimension, "
                           f"but got a tensor with {x.ndim} dimensions!")
    if isinstance(indices_or_sections, int | np.integer) and indices_or_sections and \
            x.shape[dim] % indices_or_sections:
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size "
                           f"of the dimension {x.shape[dim]} is not divisible by the split_size "
                           f"{indices_or_sections}!")
    return tensor_split(x, indices_or_sections, dim)


def hsplit(input, indices_or_sections):
    """Split along the columns (dim 1; dim 0 of a vector) into equal sections or at indices."""
    return _split_along("hsplit", input, indices_or_sections, 1 if input.ndim > 1 else 0, 1)


def vsplit(input, indices_or_sections):
    """Split along the rows (dim 0) into equal sections or at indices."""
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):
    """Split along the depth (dim 2) into equal sections or at indices."""
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def split_with_sizes(input, split_sizes, dim=0):
    """Split into pieces of the listed sizes along `dim` (they must add up to its size)."""
    return split(input, list(split_sizes), dim)


def unsafe_split(tensor, split_size_or_sections, dim=0):
    """split (PyTorch's version skips the checks that guard in-place edits of the pieces)."""
    return split(tensor, split_size_or_sections, dim)


def unsafe_chunk(input, chunks, dim=0):
    """chunk (PyTorch's version skips the checks that guard in-place edits of the pieces)."""
    return chunk(input, chunks, dim)

def _at_least(t, ndim):
    """t with size-1 dims added up to `ndim` dims where NumPy's atleast_1d/2d/3d put them:
    a scalar is (1,), (1, 1) or (1, 1, 1); a vector (n,) is (1, n) or (1, n, 1); a matrix
    (m, n) is (m, n, 1)."""
    if t.ndim >= ndim:
        return t
    shape = {0: (1, 1, 1), 1: (1, -1, 1), 2: tuple(t.shape) + (1,)}[t.ndim]
    return reshape(t, shape[:ndim] if t.ndim < 2 else shape)


def _stack_along(tensors, name, ndim, dim):
    tensors = _tensor_list(tensors, name)
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    tensors = [_at_least(t, ndim) for t in tensors]
    return cat(tensors, 0 if dim == 1 and tensors[0].ndim == 1 else dim)


def hstack(tensors):
    """Join horizontally: along dim 1, or dim 0 if the tensors are vectors."""
    return _stack_along(tensors, "hstack", 1, 1)


def vstack(tensors):
    """Join vertically (rows): along dim 0, vectors becoming rows (1, n)."""
    return _stack_along(tensors, "vstack", 2, 0)


def dstack(tensors):
    """Join in depth: along dim 2, after making each tensor at least 3-D."""
    return _stack_along(tensors, "dstack", 3, 2)


def row_stack(tensors):
    """vstack (its older name)."""
    return vstack(tensors)


def column_stack(tensors):
    """Join as columns: vectors (and scalars) become columns (n, 1), then along dim 1."""
    tensors = _tensor_list(tensors, "column_stack")
    if not tensors:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    return cat([reshape(t, -1, 1) if t.ndim <= 1 else t for t in tensors], 1)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids: for vectors of lengths n1, ..., nk, k tensors of shape (n1, ..., nk),
    the i-th holding tensor i's values along dim i (indexing="ij"). indexing="xy" (Cartesian,
    NumPy's default) swaps the first two dims. Each grid is its vector expanded (a view)."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tensors[0]
    tensors = _tensor_list(list(tensors), "meshgrid")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if any(t.dtype != tensors[0].dtype for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    if indexing not in ("ij", "xy"):
        raise RuntimeError('torch.meshgrid: indexing must be one of "xy" or "ij", but received: '
                           f"{indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t}")
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:  # "xy" is "ij" on (y, x, ...), with the first two grids handed back swapped
        tensors[0], tensors[1] = tensors[1], tensors[0]
    shape = tuple(t.numel() for t in tensors)
    grids = [BroadcastTo(shape)(reshape(t, [-1 if k == i else 1 for k in range(len(shape))]))
             for i, t in enumerate(tensors)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    """All combinations of the vectors' elements, one per row, in row-major order (the last
    vector varies fastest): flattened "ij" meshgrids, stacked as columns."""
    for t in tensors:
        if isinstance(t, Tensor) and t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, -1) for g in grids], dim=1)


def combinations(input, r=2, with_replacement=False):
    """The r-element combinations of a vector's elements, one per row, in lexicographic order of
    positions (itertools.combinations; with_replacement: combinations_with_replacement)."""
    import itertools

    from .indexing import index_select

    if not isinstance(input, Tensor) or input.ndim != 1:
        raise RuntimeError("Expect a 1D vector, but got shape "
                           f"{list(input.shape) if isinstance(input, Tensor) else []}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty(0)
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    rows = np.array(list(pick(range(input.shape[0]), r)), np.int64).reshape(-1, r)
    # gathering by position keeps the gradient: each element's gradient adds up over its uses
    return reshape(index_select(input, 0, Tensor._make(rows.reshape(-1))), rows.shape)


def block_diag(*tensors):
    """The tensors (0-d, 1-d or 2-d) as blocks along the diagonal of one zero matrix: a 0-d
    tensor is a 1x1 block, a vector a 1-row block. Each block's rows are the block between
    zeros to its left and right, and the rows are joined top to bottom."""
    from .creation import zeros

    blocks = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.ndim} dimensions")
        blocks.append(reshape(t, 1, -1) if t.ndim < 2 else t)
    dtype = functools.reduce(result_dtype, (b.dtype for b in blocks)) if blocks else \
        dtypes.get_default_dtype()
    cols, left, rows = sum(b.shape[1] for b in blocks), 0, []
    for b in blocks:
        h, w = b.shape
        rows.append(cat([zeros(h, left, dtype=dtype), b.to(dtype),
                         zeros(h, cols - left - w, dtype=dtype)], dim=1))
        left += w
    return cat(rows, dim=0) if rows else zeros(0, 0, dtype=dtype)


def _iter(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(unbind(self, 0))


TENSOR_METHODS = {
    "split": split, "chunk": chunk, "unbind": unbind, "unsqueeze": unsqueeze, "squeeze": squeeze,
    "repeat": repeat, "tile": tile, "flip": flip, "roll": roll, "narrow": narrow,
    "__iter__": _iter, "tensor_split": tensor_split, "hsplit": hsplit, "vsplit": vsplit,
    "dsplit": dsplit, "split_with_sizes": split_with_sizes, "unsafe_split": unsafe_split,
    "unsafe_chunk": unsafe_chunk,
}
__all__ = ["cat", "concat", "concatenate", "stack", "split", "chunk", "unbind", "unsqueeze",
           "squeeze", "tile", "flip", "roll", "narrow", "tensor_split", "hstack", "vstack",
           "dstack", "column_stack", "meshgrid", "cartesian_prod", "combinations", "block_diag",
           "hsplit", "vsplit", "dsplit", "split_with_sizes", "unsafe_split", "unsafe_chunk",
           "row_stack"]
