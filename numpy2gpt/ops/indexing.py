"""Indexing: `x[...]`, `x[...] = v`, gather, index_select, take, index_add/index_copy/index_fill,
repeat_interleave, masked_fill, where, tril/triu.

Picking and scattering are each other's gradients. `y = x[idx]` *picks* elements of x (some maybe
twice, some never), so dL/dx *scatters* dL/dy back: zeros of x's shape, plus every gradient element
added at the position it was picked from (`np.add.at`, so an element picked twice gets both
contributions). The scatter is linear, and its own gradient is the pick again. So each op comes
as a pair of Functions whose backwards call each other (DeZero's GetItem / GetItemGrad), and
gradients of any order work:

    GetItem   (pick)     <->  GetItemGrad (scatter into zeros)
    Gather    (pick)     <->  ScatterAdd  (scatter, plus an input to add to)

masked_fill, where and tril/triu keep some elements and zero the others' gradient; their
backward is the same masking applied to the gradient.

`np.add.at` is slow (an element-by-element loop), so the common `x[:, idx]` / index_select
pattern scatters whole rows with a sort + `np.add.reduceat` instead (`_add_rows`).
"""

import warnings

import numpy as np

from ..autograd.function import _TENSOR_TYPES, Function
from ..autograd.grad_mode import is_grad_enabled
from ..dtypes import get_default_dtype
from ..tensor import Tensor, _check_dim, as_tensor, type_name
from ._util import (
    CPP_TYPE_NAMES,
    _argument_type,
    broadcast_shape,
    dim_arg,
    fill_value_array,
    int_arg,
    promote,
    require_tensor,
    result_dtype,
)


# ----- x[index] ---------------------------------------------------------------------------------
def _index_array(item):
    """A Tensor / array / list index as a NumPy array (an empty list means an empty int index)."""
    arr = item._data if isinstance(item, Tensor) else np.asarray(item)
    if arr.size == 0 and arr.dtype.kind == "f" and not isinstance(item, Tensor | np.ndarray):
        arr = arr.astype(np.int64)  # `x[[]]`: NumPy would read [] as a float array
    if arr.dtype.kind not in "biu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if arr.dtype == np.uint8:  # PyTorch reads byte tensors as masks
        arr = arr.astype(bool)
    return arr


def _normalize_index(index, shape):
    """Check a user index against `shape` and return it as a NumPy index tuple.

    Returns (index_tuple, advanced): `advanced` is True when it holds integer arrays (bool masks
    are converted to the integer arrays of their True positions, which NumPy treats the same way),
    i.e. when an element may be picked more than once.
    """
    items = index if isinstance(index, tuple) else (index,)
    parsed = []  # (kind, value)
    for item in items:
        if item is None or item is Ellipsis:
            parsed.append(("none" if item is None else "ellipsis", item))
        elif isinstance(item, bool | np.bool_):
            parsed.append(("bool", bool(item)))  # x[True] adds a dim, like None
        elif isinstance(item, int | np.integer):
            parsed.append(("int", int(item)))
        elif isinstance(item, slice):
            if item.step is not None and int(item.step) <= 0:
                raise ValueError("step must be greater than zero" if int(item.step) < 0
                                 else "slice step cannot be zero")
            parsed.append(("slice", item))
        elif isinstance(item, Tensor | np.ndarray | list | tuple):
            arr = _index_array(item)
            if arr.dtype == bool and arr.ndim == 0:
                parsed.append(("bool", bool(arr)))
            else:
                parsed.append(("mask" if arr.dtype == bool else "array", arr))
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                             f"Variables are valid indices (got {type(item).__name__})")

    used = sum(v.ndim if k == "mask" else k in ("int", "slice", "array") for k, v in parsed)
    if used > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    out, arrays, dim = [], [], 0  # dim: the input dimension the next item indexes
    for k, v in parsed:
        if k == "ellipsis":  # spelled out as full slices, so every entry indexes one dim
            # (PyTorch lets a later `...` skip as many dims again, past the end if need be)
            skip = len(shape) - used
            out.extend([slice(None)] * min(skip, len(shape) - dim))
            dim += skip
            continue
        if dim > len(shape) or (dim == len(shape) and k not in ("none", "bool")):
            if k == "slice" and v == slice(None):
                continue  # a full slice past the end selects nothing more
            if k == "int":
                raise IndexError(f"index {v} is out of bounds for dimension {dim} with size 0")
            raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
        if k == "int":
            if not -shape[dim] <= v < shape[dim]:
                raise IndexError(f"index {v} is out of bounds for dimension {dim} with size "
                                 f"{shape[dim]}")
            dim += 1
        elif k == "slice":
            dim += 1
        elif k == "array":
            if v.size:
                bad = v[(v < -shape[dim]) | (v >= shape[dim])]
                if bad.size:
                    raise IndexError(f"index {bad.flat[0]} is out of bounds for dimension {dim} "
                                     f"with size {shape[dim]}")
            arrays.append(v)
            dim += 1
        elif k == "mask":
            if v.shape != tuple(shape[dim:dim + v.ndim]):
                raise IndexError(f"The shape of the mask {list(v.shape)} at index {dim} does not "
                                 f"match the shape of the indexed tensor {list(shape)} at index "
                                 f"{dim}")
            nz = v.nonzero()  # a mask picks exactly the positions of its True entries
            arrays.extend(nz)
            out.extend(nz)
            dim += v.ndim
            continue
        out.append(v)
    if len(arrays) > 1:
        try:
            np.broadcast_shapes(*[a.shape for a in arrays])
        except ValueError:
            shapes = ", ".join(str(list(a.shape)) for a in arrays)
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                             f"with shapes {shapes}") from None
    return tuple(out), bool(arrays)


class GetItem(Function):
    """y = x[index] (basic indexing returns a view of x, like PyTorch)."""

    is_view = True  # slicing shares memory (and so the version counter) with x

    def __init__(self, index, advanced):
        self.index, self.advanced = index, advanced
        self.grad_fn_name = "IndexBackward0" if advanced else "SliceBackward0"
        self.saves_values = advanced  # (PyTorch's IndexBackward0 saves the indices)

    def forward(self, x):
        y = x[self.index]
        if not isinstance(y, np.ndarray):  # x[0, 0]: a 0-d view of that element, not a copy
            y = x[self.index + (Ellipsis,)]
        return y

    def backward(self, gy):
        return GetItemGrad(self.index, self.advanced, self.inputs[0].shape)(gy)


class GetItemGrad(Function):
    """Scatter gy into zeros of the indexed tensor's shape: the gradient of GetItem."""

    def __init__(self, index, advanced, shape):
        self.index, self.advanced, self.shape = index, advanced, tuple(shape)

    def forward(self, gy):
        gx = np.zeros(self.shape, dtype=gy.dtype)
        if not self.advanced:
            gx[self.index] = gy  # basic indexing never picks an element twice
        elif (axis := _single_row_index(self.index)) is not None:
            _add_rows(np.moveaxis(gx, axis, 0), self.index[axis], np.moveaxis(gy, axis, 0))
        else:
            np.add.at(gx, self.index, gy)  # repeated indices accumulate (plain `+=` would not)
        return gx

    def backward(self, ggx):
        return GetItem(self.index, self.advanced)(ggx)


def _single_row_index(index):
    """The axis d if `index` is `(:, ..., :, 1-D int array, :, ...)` (index_select's pattern)."""
    arrays = [d for d, i in enumerate(index) if isinstance(i, np.ndarray)]
    if len(arrays) == 1 and index[arrays[0]].ndim == 1 and all(
            i == slice(None) for d, i in enumerate(index) if d != arrays[0]):
        return arrays[0]
    return None


def _add_rows(g, idx, rows):
    """g[idx[k]] += rows[k] for every k, repeats included: a faster np.add.at(g, idx, rows).

    Sort the rows by target, sum each run of equal targets (np.add.reduceat), then add each sum
    once - vectorised, instead of add.at's element-by-element loop.
    """
    if idx.size == 0:
        return
    idx = np.where(idx < 0, idx + g.shape[0], idx)  # -1 and n-1 are the same row
    order = np.argsort(idx, kind="stable")
    sorted_idx = idx[order]
    starts = np.flatnonzero(np.r_[True, sorted_idx[1:] != sorted_idx[:-1]])
    g[sorted_idx[starts]] += np.add.reduceat(rows[order], starts, axis=0)


def _ints_first(index):
    """The index as the steps PyTorch applies: an index that holds both ints and tensors (or
    lists) takes its ints first, as a basic index, then the rest: `x[:, 1, :, idx]` is
    `x[:, 1][:, :, idx]`, shape (2, 4, 3) for x of shape (2, 3, 4, 5). (NumPy would broadcast the
    int with idx and, the two being apart, put their dim first: (3, 2, 4).) Otherwise (index,).
    A 0-d integer tensor counts as an int, as in PyTorch."""
    items = index if isinstance(index, tuple) else (index,)
    ints, arrays = [], []
    for item in items:
        if isinstance(item, Tensor | np.ndarray | list | tuple):
            arr = _index_array(item)
            is_int = arr.ndim == 0 and arr.dtype.kind in "iu"
        else:
            arr, is_int = None, isinstance(item, int | np.integer) and not isinstance(item, bool)
        ints.append(is_int)
        arrays.append(None if is_int else arr)
    if not any(ints) or all(a is None for a in arrays):
        return (index,)
    first, rest = [], []
    for item, is_int, arr in zip(items, ints, arrays):
        if is_int:
            first.append(int(item))
            continue
        rest.append(item)
        if item is Ellipsis or isinstance(item, slice):
            first.append(item if item is Ellipsis else slice(None))
        elif arr is not None:  # the dims it indexes (a mask: its ndim), kept whole for now
            first.extend([slice(None)] * (arr.ndim if arr.dtype == bool else 1))
    return tuple(first), tuple(rest)


def getitem(input, index):
    """`input[index]` with ints, slices, None, ..., integer tensors/lists and bool masks."""
    x = as_tensor(input)
    for part in _ints_first(index):
        idx, advanced = _normalize_index(part, x.shape)
        pick = GetItem(idx, advanced)
        if not advanced:
            pick.grad_fn_name = _basic_index_name(part, idx, x.shape)
        x = pick(x)
    return x


def _basic_index_name(part, idx, shape):
    """PyTorch's node for a basic index: it applies the items one by one (an int: select, None:
    unsqueeze, a slice: slice, a bool: index), skipping `...` and, among several items, a slice
    that keeps the whole dim, so the node is the last step's (x[0, :] is SelectBackward0)."""
    lone = isinstance(part, slice) or isinstance(part, tuple) and len(part) == 1
    name, dim = "AliasBackward0", 0
    for item in idx:
        if item is None:
            name = "UnsqueezeBackward0"
        elif isinstance(item, bool | np.bool_):
            return "IndexBackward0"
        elif isinstance(item, slice):
            if lone or dim < len(shape) and item.indices(shape[dim]) != (0, shape[dim], 1):
                name = "SliceBackward0"
            dim += 1
        else:
            name, dim = "SelectBackward0", dim + 1
    return name


def _is_masked_fill(index, value):
    """`x[mask] = v` with one bool mask, no integer-array index and a one-element v: PyTorch runs
    it as masked_fill, which casts v to x's dtype; every other advanced write (index_put) needs
    v's dtype to be x's."""
    items = index if isinstance(index, tuple) else (index,)
    arrays = [_index_array(i) for i in items if isinstance(i, Tensor | np.ndarray | list | tuple)]
    masks = [a for a in arrays if a.dtype == bool and a.ndim > 0]
    return value.numel() == 1 and len(masks) == 1 and len(arrays) == 1


def setitem(input, index, value):
    """`input[index] = value`: an in-place write of the indexed region (ops/inplace.py).

    When a gradient is needed it is recorded as CopySlices (ops/inplace.py): the region's old
    values get no gradient, `value` gets the region's.
    """
    from .inplace import _check_inplace, _check_overlap, _records, _region, _writable, record_write

    if is_grad_enabled() and input.requires_grad and input.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    # the region is region[idx] after the ints-first steps (see _ints_first), if any
    region, steps, parts = input._data, (), _ints_first(index)
    for part in parts[:-1]:
        idx, _ = _normalize_index(part, region.shape)
        region, steps = region[idx], steps + ((GetItem, vars(GetItem(idx, False))),)
    idx, advanced = _normalize_index(parts[-1], region.shape)
    steps += ((GetItem, vars(GetItem(idx, advanced))),)
    if advanced and isinstance(value, Tensor) and value.dtype != input.dtype \
            and not _is_masked_fill(index, value):
        names = [_TENSOR_TYPES.get(t.dtype.name, t.dtype.name) for t in (input, value)]
        raise RuntimeError("Index put requires the source and destination dtypes match, got "
                           f"{names[0]} for the destination and {names[1]} for the source.")
    v = value._data if isinstance(value, Tensor) else np.asarray(value)
    target = region[idx].shape
    v_shape = v.shape
    while len(v_shape) > len(target) and v_shape[0] == 1:  # leading 1s are dropped, like PyTorch
        v_shape = v_shape[1:]
    try:
        np.broadcast_shapes(v_shape, target)
        if len(v_shape) > len(target):
            raise ValueError
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(v.shape)} cannot be "
                           f"broadcast to indexing result of shape {list(target)}") from None
    recording = _records(input, value)
    # An expanded region is refused, except by an unrecorded index write (index_put_), which
    # writes the positions one after the other, as in PyTorch.
    if recording or not advanced:
        _check_overlap(region if advanced else region[idx])
    _check_inplace(input, recording)
    a, i = _region(_writable(input), steps)
    a[i] = v.reshape(v_shape)
    if not recording:
        input._version += 1
        return
    src = value if isinstance(value, Tensor) else Tensor._make(v)
    record_write(input, steps, src.reshape(v_shape))


# ----- gather / scatter_add ---------------------------------------------------------------------
def _scatter_index(index, dim):
    """The full NumPy index that sends element i of `index` to `out[..., index[i], ...]`."""
    idx = list(np.ix_(*[np.arange(n) for n in index.shape]))
    idx[dim] = index
    return tuple(idx)


class Gather(Function):
    """out[i][j][k] = x[i][index[i][j][k]][k]  (for dim=1).

    keepdim=False drops `dim` from the result (index has size 1 there): max(x, dim) picks its
    values that way. selection.py's max/sort/topk pick with Gather too.
    """

    def __init__(self, dim, index, keepdim=True):
        self.dim, self.index, self.keepdim = dim, index, keepdim

    def forward(self, x):
        # gather reads only the first index.shape[d] entries of x along every other dim d
        x = x[tuple(slice(None) if d == self.dim else slice(0, n)
                    for d, n in enumerate(self.index.shape))]
        y = np.take_along_axis(x, self.index, axis=self.dim)
        return y if self.keepdim else np.squeeze(y, self.dim)

    def backward(self, gy):
        from .join import unsqueeze

        if not self.keepdim:
            gy = unsqueeze(gy, self.dim)
        zeros = Tensor._make(np.zeros(self.inputs[0].shape, dtype=gy.dtype))
        return ScatterAdd(self.dim, self.index)(zeros, gy)


class ScatterAdd(Function):
    """out = x.clone(); out[i][index[i][j][k]][k] += src[i][j][k]  (for dim=1)."""

    def __init__(self, dim, index):
        self.dim, self.index = dim, index

    def forward(self, x, src):
        out = x.copy()
        src = src[tuple(slice(0, n) for n in self.index.shape)]  # only this part is read
        np.add.at(out, _scatter_index(self.index, self.dim), src)
        return out

    def backward(self, gy):
        x, src = self.inputs
        gsrc = None
        if self.needs_input_grad[1]:
            gsrc = Gather(self.dim, self.index)(gy)
            if gsrc.shape != src.shape:  # src entries beyond index's shape were never read
                pad = tuple(slice(0, n) for n in self.index.shape)
                gsrc = GetItemGrad(pad, False, src.shape)(gsrc)
        return gy, gsrc


def _int_index(index, op, allowed="int32/int64", position=3):
    """index's array: a tensor of int32 / int64 (or, from the ops' own calls, an array)."""
    if not isinstance(index, Tensor | np.ndarray):
        require_tensor(index, op, "index", position)
    index = as_tensor(index)
    if index.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{op}(): Expected dtype {allowed} for index")
    return index._data


def _check_in_range(index, dim, size):
    bad = index[(index < 0) | (index >= size)]
    if bad.size:
        raise RuntimeError(f"index {bad.flat[0]} is out of bounds for dimension {dim} with size "
                           f"{size}")


def gather(input, dim, index, *, sparse_grad=False):
    """Pick along `dim`: out[i][j] = input[i][index[i][j]] (dim=1); index has input's ndim."""
    x = as_tensor(input)
    idx = _int_index(index, "gather")
    d = dim_arg(dim, x.ndim, "gather", "dim", 2)
    if idx.ndim != max(x.ndim, 1) and not (x.ndim == 0 and idx.ndim == 0):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    if x.ndim == 0:  # a 0-d tensor is gathered as a 1-element vector
        return gather(x.reshape(1), 0, idx.reshape(1)).reshape(())
    for k in range(x.ndim):
        if k != d and idx.shape[k] > x.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{list(idx.shape)} to be no larger than self {list(x.shape)} "
                               f"apart from dimension {d}")
    _check_in_range(idx, d, x.shape[d])
    return Gather(d, idx)(x)


def scatter_add(input, dim, index, src):
    """out = input.clone(); out[i][index[i][j]] += src[i][j] (dim=1); repeated indices add up."""
    if not isinstance(src, Tensor | np.ndarray):
        require_tensor(src, "scatter_add", "src", 4)
    x, s = as_tensor(input), as_tensor(src)
    idx = _int_index(index, "scatter_add", "int64")
    d = dim_arg(dim, x.ndim, "scatter_add", "dim", 2)
    _check_scatter(x, d, idx, s)
    return ScatterAdd(d, idx)(x, s)


def _check_scatter(x, d, idx, src=None):
    """PyTorch's checks of scatter and scatter_add along dim d: src's dtype, the number of
    dimensions, index's sizes (within x's, and src's), and index's values."""
    other = x if src is None else src
    if src is not None and x.dtype != src.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if not idx.ndim == x.ndim == other.ndim:
        and_src = "" if src is None else f" and src ({src.ndim})"
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor "
                           f"({x.ndim}){and_src}, got {idx.ndim}")
    if any((k != d and n > x.shape[k]) or n > other.shape[k] for k, n in enumerate(idx.shape)):
        raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self "
                           f"{list(x.shape)} apart from dimension {d} and to be no larger size "
                           f"than src {list(other.shape)}")
    _check_in_range(idx, d, x.shape[d])


class Scatter(Function):
    """out = x.clone(); out[i][index[i][j][k]][k] = src[i][j][k]  (for dim=1), or = value.

    Where index names a position twice, one of the values lands there (which one is unspecified,
    as in PyTorch)."""

    grad_fn_name = "ScatterBackward0"

    def __init__(self, dim, index, value=None):
        self.dim, self.index, self.value = dim, index, value
        if value is not None:
            self.grad_fn_name = "ScatterBackward1"

    def forward(self, x, src=None):
        out = x.copy()
        where = _scatter_index(self.index, self.dim)
        if src is None:
            out[where] = self.value
        else:
            out[where] = src[tuple(slice(0, n) for n in self.index.shape)]
        return out

    def backward(self, gy):
        # the overwritten positions of x reach the output no more: their gradient is 0
        written = np.zeros(gy.shape, dtype=bool)
        written[_scatter_index(self.index, self.dim)] = True
        gx = masked_fill(gy, written, 0.0) if self.needs_input_grad[0] else None
        if self.value is not None:
            return gx
        gsrc = None
        if self.needs_input_grad[1]:  # each src element's gradient: the output's where it went
            src = self.inputs[1]
            gsrc = Gather(self.dim, self.index)(gy)
            if gsrc.shape != src.shape:  # src entries beyond index's shape were never read
                pad = tuple(slice(0, n) for n in self.index.shape)
                gsrc = GetItemGrad(pad, False, src.shape)(gsrc)
        return gx, gsrc


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """out = input.clone(); out[i][index[i][j]] = src[i][j] (dim=1), or `value` there.

    `scatter(dim, index, src)` or `scatter(dim, index, value)`; reduce="add" / "multiply"
    combines with what is there instead (as scatter_add does for "add")."""
    x = as_tensor(input)
    if (src is None) == (value is None):
        raise TypeError("scatter() needs exactly one of src (a tensor) and value (a number)")
    if value is None and not isinstance(src, Tensor):
        src, value = None, src  # scatter(dim, index, 2.0): the number is the value
    if value is not None and isinstance(value, Tensor):
        raise TypeError("scatter(): value must be a number; pass a tensor as src")
    idx = _int_index(index, "scatter")
    d = dim_arg(dim, x.ndim, "scatter", "dim", 2)
    if x.ndim == 0:  # a 0-d tensor is scattered as a 1-element vector
        s = None if src is None else as_tensor(src).reshape(1)
        return scatter(x.reshape(1), 0, idx.reshape(1), s, value, reduce=reduce).reshape(())
    src = None if src is None else as_tensor(src)
    _check_scatter(x, d, idx, src)
    if reduce is None:
        if value is not None:
            value = fill_value_array(value, x.dtype)  # a float value into ints is truncated
        return Scatter(d, idx, value)(x) if src is None else Scatter(d, idx)(x, src)
    if reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if src is None:
        src = Tensor._make(np.full(idx.shape, value, dtype=x.dtype))
    if reduce == "add":
        return ScatterAdd(d, idx)(x, src)
    from .arithmetic import NotDifferentiable

    def multiplied(a, b):  # (PyTorch has no derivative for it: backward raises its error)
        out = a.copy()
        np.multiply.at(out, _scatter_index(idx, d), b[tuple(slice(0, n) for n in idx.shape)])
        return out

    return NotDifferentiable("scatter", multiplied)(x, src)


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    """In-place scatter (recorded as scatter when a gradient is needed)."""
    from .inplace import _check_overlap, _record, _records, _write

    if _records(self, src):
        return _record(self, lambda old: scatter(old, dim, index, src, value, reduce=reduce))
    _check_overlap(self._data)  # an expanded self is refused, as in PyTorch
    plain = src.detach() if isinstance(src, Tensor) else src
    return _write(self, scatter(self.detach(), dim, index, plain, value, reduce=reduce)._data)


def take_along_dim(input, indices, dim=None):
    """gather with broadcasting over the other dims (dim=None: along the flattened input)."""
    from .shape import broadcast_to, reshape

    if not isinstance(indices, Tensor | np.ndarray):
        require_tensor(indices, "take_along_dim", "indices", 2)
    x, idx = as_tensor(input), as_tensor(indices)
    if dim is None:  # (PyTorch gathers from the flattened input, with gather's check)
        if idx.dtype not in (np.int32, np.int64):
            raise RuntimeError("gather(): Expected dtype int32/int64 for index")
        return gather(reshape(x, -1), 0, idx._data.reshape(-1).astype(np.int64))
    if x.ndim != idx.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same number "
                           f"of dimensions, but got {x.ndim} dimensions for input, and {idx.ndim} "
                           "dimensions for indices")
    if idx.dtype != np.int64:
        raise RuntimeError("torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_TENSOR_TYPES.get(idx.dtype.name, idx.dtype.name)}")
    d = dim_arg(dim, x.ndim, "take_along_dim", "dim", 3)
    one = lambda s: s[:d] + (1,) + s[d + 1:]  # noqa: E731  (the shape with dim d set to 1)
    common = broadcast_shape(one(x.shape), one(idx.shape))
    x = broadcast_to(x, common[:d] + (x.shape[d],) + common[d + 1:])
    i = np.broadcast_to(idx._data, common[:d] + (idx.shape[d],) + common[d + 1:])
    return gather(x, d, i.astype(np.int64))


def index_select(input, dim, index):
    """Select whole slices along `dim`: index_select(x, 1, [2, 0]) == x[:, [2, 0]]."""
    x = as_tensor(input)
    if not isinstance(index, Tensor | np.ndarray):
        require_tensor(index, "index_select", "index", 3)
    idx = as_tensor(index)
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    d = dim_arg(dim, x.ndim, "index_select", "dim", 2)
    if x.ndim == 0:
        return index_select(x.reshape(1), 0, idx).reshape(())
    idx = idx._data.reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= x.shape[d]):
        raise IndexError("index out of range in self")  # (PyTorch's words)
    pick = GetItem((slice(None),) * d + (idx,), True)
    pick.grad_fn_name = "IndexSelectBackward0"
    return pick(x)


def take(input, index):
    """The elements of `input` at the given positions of its flattened form; the result has
    index's shape (negative positions count from the end)."""
    from .shape import reshape

    x = as_tensor(input)
    require_tensor(input, "take", "input", 1)
    require_tensor(index, "take", "index", 2)
    if index.dtype != np.int64:
        raise RuntimeError("take(): Expected a long tensor for index, but got "
                           f"{_TENSOR_TYPES.get(index.dtype.name, index.dtype.name)}")
    idx, n = index._data, x.numel()
    if idx.size and n == 0:
        raise IndexError("take(): tried to take from an empty tensor")
    bad = idx[(idx < -n) | (idx >= n)]
    if bad.size:
        raise IndexError(f"out of range: tried to access index {bad.flat[0]} on a tensor of {n} "
                         "elements.")
    pick = GetItem((idx,), True)
    pick.grad_fn_name = "TakeBackward0"
    return pick(reshape(x, -1))


# ----- index_add / index_copy / index_fill: whole slices along a dim ----------------------------
def _along(d, idx):
    """The NumPy index of the slices `idx` along dim d."""
    return (slice(None),) * d + (idx,)


class IndexAdd(Function):
    """out = x.clone(); out[..., index[i], ...] += alpha * source[..., i, ...] along dim d
    (repeated indices add up). Linear: x's gradient is gy, source's is alpha * gy's slices."""

    def __init__(self, dim, index, alpha):
        self.dim, self.index, self.alpha = dim, index, alpha

    def forward(self, x, source):
        if x.dtype == np.bool_:  # adding bools is a logical or
            return self.forward(x.astype(np.int64), source.astype(np.int64)).astype(bool)
        out = x.copy()
        src = source if self.alpha == 1 else source * self.alpha
        _add_rows(np.moveaxis(out, self.dim, 0), self.index, np.moveaxis(src, self.dim, 0))
        return out

    def backward(self, gy):
        g_src = None
        if self.needs_input_grad[1]:
            g_src = GetItem(_along(self.dim, self.index), True)(gy)
            if self.alpha != 1:
                g_src = g_src * Tensor._make(self.alpha)
        return gy, g_src


class IndexCopy(Function):
    """out = x.clone(); out[..., index[i], ...] = source[..., i, ...] along dim d. The copied-over
    slices of x get no gradient; source's slices get the gradient of where they went."""

    def __init__(self, dim, index):
        self.dim, self.index = dim, index

    def forward(self, x, source):
        out = x.copy()
        out[_along(self.dim, self.index)] = source
        return out

    def backward(self, gy):
        where = _along(self.dim, self.index)
        gx = g_src = None
        if self.needs_input_grad[0]:
            keep = np.ones(gy.shape, bool)
            keep[where] = False
            gx = masked_fill(gy, ~keep, 0)
        if self.needs_input_grad[1]:
            g_src = GetItem(where, True)(gy)
        return gx, g_src


def _index_args(op, input, dim, index, source=None, arg=("index", "source")):
    """Check index_add / index_copy / index_fill's operands; returns (x, d, index array)."""
    for pos, name, v in ((1, "input", input), (3, arg[0], index), (4, arg[1], source)):
        if v is not None:
            require_tensor(v, op, name, pos)
    d = dim_arg(dim, input.ndim, op, "dim", 2)
    return d, index._data.reshape(-1)


def _check_index_bounds(idx, d, size, error=RuntimeError, prefix=""):
    bad = idx[(idx < 0) | (idx >= size)]
    if bad.size:
        raise error(f"{prefix}index {bad.flat[0]} is out of bounds for dimension {d} with size "
                    f"{size}")


def _index_source(op, input, d, index, idx, source):
    """index_add / index_reduce's checks of index and source (PyTorch's errors, in its order):
    (input, source), a 0-d pair as one slice each."""
    if index.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{op}_(): Expected dtype int32/int64 for index but got: "
                           f"{_TENSOR_TYPES.get(index.dtype.name, index.dtype.name)}")
    if index.ndim > 1:
        raise IndexError(f"{op}_(): Index is supposed to be a vector, but got dim: "
                         f"{index.ndim} with type: {_TENSOR_TYPES[index.dtype.name]} and size: "
                         f"{list(index.shape)}")
    n_src = source.shape[d] if source.ndim else 1
    if idx.size != n_src:
        raise RuntimeError(f"{op}_(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim): ({n_src}), for dim: {d}")
    if input.dtype != source.dtype:
        names = [_TENSOR_TYPES.get(t.dtype.name, t.dtype.name) for t in (input, source)]
        raise RuntimeError(f"{op}_(): self ({names[0]}) and source ({names[1]}) must have "
                           "the same scalar type")
    x, src = input, source
    if x.ndim == 0 and src.ndim == 0:  # a 0-d tensor is one slice
        x, src = x.reshape(1), src.reshape(1)
    if src.shape[:d] + src.shape[d + 1:] != x.shape[:d] + x.shape[d + 1:] or src.ndim != x.ndim:
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(input.shape)} "
                           f"source.shape = {list(source.shape)}")
    return x, src


def index_add(input, dim, index, source, *, alpha=1):
    """out = input.clone(); out[..., index[i], ...] += alpha * source[..., i, ...] along `dim`;
    repeated indices add up."""
    d, idx = _index_args("index_add", input, dim, index, source)
    x, src = _index_source("index_add", input, d, index, idx, source)
    if x.ndim == 1:  # PyTorch's 1-D kernel words it otherwise
        if idx.size and (idx.min() < 0 or idx.max() >= x.shape[0]):
            raise IndexError("index out of range in self")
    _check_index_bounds(idx, d, x.shape[d])
    alpha = np.asarray(alpha).astype(x.dtype)  # an int tensor truncates a float alpha
    out = IndexAdd(d, idx, alpha)(x, src)
    return out if input.ndim else out.reshape(())  # (a 0-d input was one slice of 1)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """out = input.clone(), then each slice source[..., i, ...] reduced into out[..., index[i],
    ...] along `dim` by `reduce` ("prod", "mean", "amax" or "amin"; include_self: whether out's
    own values take part): scatter_reduce with index[i] spread over all of slice i."""
    d, idx = _index_args("index_reduce", input, dim, index, source)
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    x, src = _index_source("index_reduce", input, d, index, idx, source)
    if idx.size and (idx.min() < 0 or idx.max() >= x.shape[d]):
        raise IndexError("index out of range in self")
    warnings.warn("index_reduce() is in beta and the API may change at any time.", stacklevel=2)
    where = [1] * src.ndim
    where[d] = -1  # index[i] along d, the same for every element of slice i
    spread = np.broadcast_to(idx.reshape(where), src.shape)
    out = scatter_reduce(x, d, Tensor._make(spread.astype(np.int64)), src, reduce,
                         include_self=include_self)
    return out.reshape(input.shape)


def index_copy(input, dim, index, source):
    """out = input.clone(); out[..., index[i], ...] = source[..., i, ...] along `dim` (for a
    repeated index, which of its slices lands is unspecified, as in PyTorch)."""
    d, idx = _index_args("index_copy", input, dim, index, source)
    if index.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {index.ndim})")
    if index.dtype != np.int64:
        raise RuntimeError("index_copy_(): Expected a long tensor for index, but got "
                           f"{_TENSOR_TYPES.get(index.dtype.name, index.dtype.name)}")
    if input.dtype != source.dtype:
        names = [_TENSOR_TYPES.get(t.dtype.name, t.dtype.name) for t in (input, source)]
        raise RuntimeError("index_copy_(): self and source expected to have the same dtype, but "
                           f"got (self) {names[0]} and (source) {names[1]}")
    x, src = input, source
    if x.ndim == 0:
        x = x.reshape(1)
    if src.ndim == 0 and x.ndim == 1:  # one slice of a vector is one number
        src = src.reshape(1)
    n_src = src.shape[d] if src.ndim > d else 0
    if idx.size != n_src:
        raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to "
                         f"source.size(dim) ({n_src})")
    if src.ndim != x.ndim:
        raise IndexError("index_copy_(): When source and destination are not scalars, their "
                         "dimensionality must match. Source dimensionality "
                         f"({src.ndim}), destination dimensionality ({x.ndim})")
    x_slice, src_slice = x.shape[:d] + x.shape[d + 1:], src.shape[:d] + src.shape[d + 1:]
    for k, (a, b) in enumerate(zip(x_slice, src_slice)):
        if a != b:
            raise RuntimeError("index_copy_(): Source/destination tensor must have same slice "
                               f"shapes. Destination slice shape: {a} at dimension {k} and "
                               f"source slice shape: {b} at dimension {k}.")
    _check_index_bounds(idx, d, x.shape[d], IndexError, "index_copy_(): ")
    out = IndexCopy(d, idx)(x, src)
    return out if input.ndim else out.reshape(())  # (a 0-d input was one slice of 1)


def index_fill(input, dim, index, value):
    """A copy of `input` with `value` (a number or a 0-d tensor) in the slices `index` along
    `dim`; negative indices count from the end. A tensor value gets the slices' gradient."""
    if not isinstance(value, Tensor | int | float | np.number):
        raise TypeError(f"index_fill(): argument 'value' (position 4) must be Number or Tensor, "
                        f"not {type(value).__name__}")
    d, idx = _index_args("index_fill", input, dim, index)
    if index.dtype != np.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    size = input.shape[d] if input.ndim else 1
    bad = idx[(idx < -size) | (idx >= size)]
    if bad.size:
        raise IndexError(f"index {bad.flat[0]} is out of bounds for dimension {d} with size "
                         f"{size}")
    mask = np.zeros(size, bool)
    mask[idx] = True
    mask = mask.reshape((size,) + (1,) * (input.ndim - d - 1)) if input.ndim else mask[0]
    out = masked_fill(input, mask, value)
    if out.grad_fn is not None:
        out.grad_fn.grad_fn_name = "IndexFillBackward" + ("1" if isinstance(value, Tensor)
                                                          else "0")
    return out


def _index_in_place(fn):
    """index_add_ / index_copy_ / index_fill_: fn's result written into `self` (recorded as fn
    when a gradient is needed, like scatter_)."""
    def in_place(self, dim, index, operand, *args, **kwargs):
        from .inplace import _check_overlap, _record, _records, _write

        if _records(self, operand):
            return _record(self, lambda old: fn(old, dim, index, operand, *args, **kwargs))
        plain = operand.detach() if isinstance(operand, Tensor) else operand
        result = fn(self.detach(), dim, index, plain, *args, **kwargs)._data
        if fn is index_fill:  # only the filled positions are written (self may be expanded)
            filled = index_fill(Tensor._make(np.zeros(self.shape, bool)), dim, index, True)
            return _write(self, result, where=filled._data)
        _check_overlap(self._data)  # PyTorch refuses index_add_ / index_copy_ on an expanded self
        return _write(self, result)

    in_place.__name__ = fn.__name__ + "_"
    in_place.__doc__ = f"In-place {fn.__name__}."
    return in_place


# ----- repeat_interleave ------------------------------------------------------------------------
def _repeat_counts(repeats, n, d):
    """repeats (an int or a 0-d / 1-D integer tensor) as one count per slice, checked."""
    if isinstance(repeats, Tensor):
        r = repeats._data
        if r.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if r.dtype.kind not in "iu":
            raise NotImplementedError('"repeat_interleave_cpu" not implemented for '
                                      f"'{_TENSOR_TYPES.get(r.dtype.name, r.dtype.name)}'")
        if r.size not in (1, n):
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {r.size} and input.size({d}) = {n}")
        if (r < 0).any():
            raise RuntimeError("repeats can not be negative")
        return np.broadcast_to(r.reshape(-1), (n,))
    if not isinstance(repeats, int | np.integer) or isinstance(repeats, bool):
        raise TypeError("repeat_interleave(): argument 'repeats' must be int or Tensor, not "
                        f"{type(repeats).__name__}")
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    return np.full(n, int(repeats))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (each slice along `dim`) `repeats` times, in place:
    [a, b] -> [a, a, b, b]. dim=None flattens first. repeats is an int or one count per slice.

    repeat_interleave(counts) alone, for an integer vector: each index i repeated counts[i]
    times ([2, 1] -> [0, 0, 1]). The gradient sums over each element's copies.
    """
    from .shape import reshape

    if repeats is None:  # the one-argument form
        if dim is not None:
            raise TypeError("repeat_interleave(): the one-argument form "
                            "repeat_interleave(repeats) takes no dim")
        counts = as_tensor(input)
        if counts.dtype.kind not in "iu":
            raise NotImplementedError('"repeat_interleave_cpu" not implemented for '
                                      f"'{_TENSOR_TYPES.get(counts.dtype.name, counts.dtype)}'")
        if counts.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if (counts._data < 0).any():
            raise RuntimeError("repeats can not be negative")
        out = np.repeat(np.arange(counts.shape[0], dtype=np.int64), counts._data)
        _check_output_size(output_size, out.size)
        return Tensor._make(out)
    x = as_tensor(input)
    if dim is None or x.ndim == 0:
        x, d = reshape(x, -1), 0
    else:
        d = _check_dim(dim, x.ndim)
    counts = _repeat_counts(repeats, x.shape[d], d)
    idx = np.repeat(np.arange(x.shape[d], dtype=np.int64), counts)
    _check_output_size(output_size, idx.size)
    pick = GetItem(_along(d, idx), True)
    pick.grad_fn_name = "IndexSelectBackward0"  # PyTorch runs it as index_select
    return pick(x)


def _repeat_interleave_method(self, repeats, dim=None, *, output_size=None):
    """`x.repeat_interleave(repeats, dim)` (the method has no one-argument form)."""
    return repeat_interleave(self, repeats, dim, output_size=output_size)


def _check_output_size(output_size, size):
    if output_size is not None and output_size != size:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {size} but got "
                           f"{output_size}")


# ----- masking ----------------------------------------------------------------------------------
def _bool_mask(mask, op):
    if not isinstance(mask, Tensor | np.ndarray):
        raise TypeError(f"{op}(): argument 'mask' must be a bool Tensor, not {type(mask).__name__}")
    mask = as_tensor(mask)
    if mask.dtype != np.bool_:
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype "
                           f"{CPP_TYPE_NAMES[mask.dtype.name]}")
    return mask._data


class MaskedFill(Function):
    """out = value where mask else x; the gradient reaches x only where the mask is False."""

    def __init__(self, mask):
        self.mask = mask

    def forward(self, x, value):
        return np.where(self.mask, value.astype(x.dtype), x)

    def backward(self, gy):
        from .arithmetic import sum_to
        from .reduction import sum

        x, value = self.inputs
        gx = sum_to(masked_fill(gy, self.mask, 0), x.shape) if self.needs_input_grad[0] else None
        # the value is copied to every masked position, so its gradient is their sum
        gv = sum(masked_fill(gy, ~self.mask, 0)).to(value.dtype) if self.needs_input_grad[1] \
            else None
        return gx, gv


def masked_fill(input, mask, value):
    """Copy of `input` with `value` wherever the bool `mask` (broadcast to input) is True."""
    x = as_tensor(input)
    m = _bool_mask(mask, "masked_fill_")
    fill = MaskedFill(m)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        fill.grad_fn_name = "MaskedFillBackward1"  # PyTorch's name when the value is a tensor
    else:
        value = Tensor._make(fill_value_array(value, x.dtype))
    broadcast_shape(x.shape, m.shape)
    return fill(x, value)


def masked_fill_(self, mask, value):
    """In-place masked_fill (recorded as masked_fill when a gradient is needed)."""
    from .inplace import _record, _records, _write

    m = _bool_mask(mask, "masked_fill_")
    broadcast_shape(self.shape, m.shape)
    if np.broadcast_shapes(self.shape, m.shape) != self.shape:
        raise RuntimeError(f"masked_fill_: mask of shape {list(m.shape)} cannot be broadcast to "
                           f"the tensor's shape {list(self.shape)}")
    if _records(self, value):
        return _record(self, lambda old: masked_fill(old, m, value))
    v = value._data.astype(self.dtype) if isinstance(value, Tensor) else \
        fill_value_array(value, self.dtype)
    return _write(self, v, where=m)


class Where(Function):
    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        return np.where(self.condition, a, b)

    def backward(self, gy):
        from .arithmetic import sum_to

        a, b = self.inputs
        not_condition = np.asarray(~self.condition)  # (an array also when 0-d)
        ga = sum_to(masked_fill(gy, not_condition, 0), a.shape) if self.needs_input_grad[0] \
            else None
        gb = sum_to(masked_fill(gy, self.condition, 0), b.shape) if self.needs_input_grad[1] \
            else None
        return ga, gb


def _where_operands(a, b):
    """PyTorch promotion for where: numbers and 0-d tensors adopt a dimensioned tensor's dtype."""
    def category(v):
        kind = v.dtype.kind if isinstance(v, Tensor) else np.asarray(v).dtype.kind
        return {"b": 0, "u": 1, "i": 1, "f": 2}[kind]

    a, b = (as_tensor(v) if isinstance(v, np.ndarray) else v for v in (a, b))

    if not isinstance(a, Tensor) and not isinstance(b, Tensor):  # two Python numbers
        kind = max(category(a), category(b))
        dt = [np.bool_, np.int64, get_default_dtype()][kind]
        return Tensor._make(np.asarray(a, dtype=dt)), Tensor._make(np.asarray(b, dtype=dt))
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype != b.dtype:
        for big, small in ((a, b), (b, a)):
            if big.ndim > 0 and small.ndim == 0 and category(small) <= category(big):
                return (a.to(big.dtype), b.to(big.dtype))
        dt = result_dtype(a.dtype, b.dtype)
        return a.to(dt), b.to(dt)
    for number, t in ((a, b), (b, a)):
        if isinstance(t, Tensor):
            _check_int_fits(number, t.dtype)
    return promote(a, b)


def _check_int_fits(value, dtype):
    """PyTorch's error for a Python int out of an integer dtype's range, which `where` does not
    wrap around (an unsigned dtype takes down to -max, two's complement: -1 is 255 in uint8)."""
    if isinstance(value, int) and not isinstance(value, bool) and dtype.kind in "iu":
        fill_value_array(value, dtype)


def where(condition, input=None, other=None):
    """Elementwise `input if condition else other`, broadcasting all three (scalars allowed).

    `where(condition)` alone returns the indices of the True entries, one tensor per dim.
    """
    _check_where_types(condition, input, other)
    cond = as_tensor(condition)
    if input is None and other is None:  # (any dtype: the nonzero entries, as nonzero(as_tuple))
        nonzero = np.nonzero(np.atleast_1d(cond._data))
        return tuple(Tensor._make(i.astype(np.int64)) for i in nonzero)
    if cond.dtype != np.bool_:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {_TENSOR_TYPES.get(cond.dtype.name, cond.dtype.name)}")
    if input is None or other is None:
        raise TypeError("where() expects either only condition, or condition, input and other")
    a, b = _where_operands(input, other)
    broadcast_shape(broadcast_shape(cond.shape, a.shape), b.shape)
    return Where(cond._data)(a, b)


def _check_where_types(condition, input, other):
    """PyTorch's TypeError for a condition that is not a tensor, or operands that are neither
    tensors nor numbers (a list, a string)."""
    if isinstance(condition, Tensor | np.ndarray) and all(
            v is None or isinstance(v, Tensor | np.ndarray | int | float | np.number)
            for v in (input, other)):
        return
    if input is None and other is None:
        raise TypeError("where(): argument 'condition' (position 1) must be Tensor, not "
                        f"{type_name(condition)}")
    got = ", ".join(_argument_type(v) for v in (condition, input, other) if v is not None)
    raise TypeError(f"where() received an invalid combination of arguments - got ({got}), but "
                    "expected one of:\n * (Tensor condition)\n"
                    " * (Tensor condition, Tensor input, Tensor other, *, Tensor out = None)\n"
                    " * (Tensor condition, Number self, Tensor other)\n"
                    " * (Tensor condition, Tensor input, Number other)\n"
                    " * (Tensor condition, Number self, Number other)")


def _where_method(self, condition, other):
    return where(condition, self, other)


class Tri(Function):
    """tril / triu: keep the lower (upper) triangle of the last two dims, zero the rest."""

    def __init__(self, diagonal, upper):
        self.diagonal, self.upper = diagonal, upper
        self.grad_fn_name = "TriuBackward0" if upper else "TrilBackward0"

    def forward(self, x):
        return (np.triu if self.upper else np.tril)(x, self.diagonal)

    def backward(self, gy):
        return Tri(self.diagonal, self.upper)(gy)  # the kept elements pass their gradient through


def _tri(input, diagonal, upper):
    x = as_tensor(input)
    if x.ndim < 2:
        raise RuntimeError(f"{'triu' if upper else 'tril'}: input tensor must have at least 2 "
                           "dimensions")
    return Tri(int_arg(diagonal, "triu" if upper else "tril", "diagonal", 2), upper)(x)


def tril(input, diagonal=0):
    """Lower triangle (elements with col - row <= diagonal) of the last two dims."""
    return _tri(input, diagonal, upper=False)


def triu(input, diagonal=0):
    """Upper triangle (elements with col - row >= diagonal) of the last two dims."""
    return _tri(input, diagonal, upper=True)



# ----- index_put / put / masked_scatter: write values at picked positions -----------------------
class IndexPut(Function):
    """out = x.clone(); out[index] = values, or out[index] += values (accumulate: repeated
    positions add up). x's gradient is gy, minus the overwritten positions' (accumulate keeps
    them: x's old values still count); values' gradient is gy picked at index, summed where
    values were broadcast."""

    def __init__(self, index, accumulate, grad_fn_name="IndexPutBackward0"):
        self.index, self.accumulate, self.grad_fn_name = index, accumulate, grad_fn_name

    def forward(self, x, values):
        out = x.copy()
        if self.accumulate:
            np.add.at(out, self.index, values)
        else:
            out[self.index] = values
        return out

    def backward(self, gy):
        from .arithmetic import sum_to

        x, values = self.inputs
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = gy
            if not self.accumulate:
                written = np.zeros(gy.shape, bool)
                written[self.index] = True
                gx = masked_fill(gy, written, 0)
        if self.needs_input_grad[1]:
            gv = sum_to(GetItem(self.index, True)(gy), values.shape)
        return gx, gv


def _check_values_shape(values_shape, target):
    try:
        ok = np.broadcast_shapes(values_shape, target) == tuple(target)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values_shape)} cannot be "
                           f"broadcast to indexing result of shape {list(target)}")


def index_put(input, indices, values, accumulate=False):
    """out = input.clone(); out[indices] = values (`input[indices] = values` out of place), or
    += values with accumulate=True, where a position named twice gets both values."""
    idx = _index_put_args(input, indices, values)
    return IndexPut(idx, bool(accumulate))(input, values.to(input.dtype))


def index_put_(self, indices, values, accumulate=False):
    """In-place index_put. Unrecorded, the values go straight into self's memory one position
    after the other, so an expanded self (elements sharing memory) sees every write, as in
    PyTorch; recorded (a gradient is needed) it is index_put, written into self."""
    from .inplace import _check_inplace, _record, _records, _writable

    if _records(self, values):
        return _record(self, lambda old: index_put(old, indices, values, accumulate),
                       reads_self=True)
    idx = _index_put_args(self, indices, values)
    _check_inplace(self)
    a, v = _writable(self), values._data.astype(self.dtype, copy=False)
    if accumulate:
        np.add.at(a, idx, v)
    else:
        a[idx] = v
    self._version += 1
    return self


def _index_put_args(input, indices, values):
    """index_put's checks, with PyTorch's errors; the NumPy index of `indices`."""
    require_tensor(input, "index_put", "input", 1)
    if not isinstance(indices, tuple | list):
        raise TypeError("index_put(): argument 'indices' (position 2) must be tuple of Tensors, "
                        f"not {type(indices).__name__}")
    for k, i in enumerate(indices):
        if not isinstance(i, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 1, but got "
                            f"{type(i).__name__}")
    require_tensor(values, "index_put", "values", 3)
    used = sum(max(i.ndim, 1) if i.dtype == np.bool_ else 1 for i in indices)
    if used > input.ndim:
        raise IndexError(f"too many indices for tensor of dimension {input.ndim} (got {used})")
    if values.dtype != input.dtype and not _is_masked_fill(tuple(indices), values):
        names = [_TENSOR_TYPES.get(t.dtype.name, t.dtype.name) for t in (input, values)]
        raise RuntimeError("Index put requires the source and destination dtypes match, got "
                           f"{names[0]} for the destination and {names[1]} for the source.")
    idx, _ = _normalize_index(tuple(indices), input.shape)
    _check_values_shape(values.shape, input._data[idx].shape)
    return idx


def put(input, index, source, accumulate=False):
    """out = input.clone(); out.flatten()[index] = source.flatten() (or += with accumulate):
    `index` names positions of the flattened input; negative ones count from the end."""
    from .shape import reshape

    require_tensor(input, "put", "input", 1)
    require_tensor(index, "put", "index", 2)
    require_tensor(source, "put", "source", 3)
    if index.dtype != np.int64:
        raise RuntimeError("put_(): Expected a long tensor for index, but got "
                           f"{_TENSOR_TYPES.get(index.dtype.name, index.dtype.name)}")
    if input.dtype != source.dtype:
        names = [_TENSOR_TYPES.get(t.dtype.name, t.dtype.name) for t in (input, source)]
        raise RuntimeError("put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {names[0]} and source.dtype = {names[1]}")
    if index.numel() != source.numel():
        raise IndexError("put_(): Expected source and index to have the same number of elements, "
                         f"but got source.numel() = {source.numel()}, index.numel() = "
                         f"{index.numel()}")
    n, idx = input.numel(), index._data.reshape(-1)
    if n == 0 and idx.size:
        raise IndexError("put_(): Tried to put elements into an empty tensor")
    bad = idx[(idx < -n) | (idx >= n)]
    if bad.size:
        raise IndexError(f"out of range: tried to access index {bad[0]} on a tensor of {n} "
                         "elements.")
    out = IndexPut((idx,), bool(accumulate), "PutBackward0")(reshape(input, -1),
                                                             reshape(source, -1))
    return reshape(out, input.shape)


def masked_scatter(input, mask, source):
    """Copy of `input` (broadcast with the bool `mask`) whose True positions take source's
    elements in order: the k-th True position (row-major) gets source.flatten()[k]."""
    from .shape import broadcast_to, reshape

    require_tensor(input, "masked_scatter", "input", 1)
    require_tensor(source, "masked_scatter", "source", 3)
    m = as_tensor(require_tensor(mask, "masked_scatter", "mask", 2))
    if m.dtype != np.bool_:
        raise RuntimeError("masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_TENSOR_TYPES.get(m.dtype.name, m.dtype.name)}")
    if input.dtype != source.dtype:
        names = [_TENSOR_TYPES.get(t.dtype.name, t.dtype.name) for t in (input, source)]
        raise RuntimeError("masked_scatter: expected self and source to have same dtypes but "
                           f"got{names[0]} and {names[1]}")
    shape = broadcast_shape(m.shape, input.shape)
    if shape == ():  # one element: as a 1-element vector
        return masked_scatter(input.reshape(1), m.reshape(1), source).reshape(())
    where = np.nonzero(np.broadcast_to(m._data, shape))
    count = where[0].size
    if count > source.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    x = broadcast_to(input, shape) if input.shape != shape else input
    taken = reshape(source, -1)[:count]  # source's first `count` elements, in order
    return IndexPut(where, False, "MaskedScatterBackward0")(x, taken)


def _in_place(fn, op):
    """put_ / masked_scatter_ / scatter_reduce_: fn's result written into
    `self`, recorded as fn when a gradient is needed. The result must keep self's shape."""
    def in_place(self, *args, **kwargs):
        from .inplace import _check_overlap, _record, _records, _write

        operands = [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
        if _records(self, *operands):
            return _record(self, lambda old: _same_shape(fn(old, *args, **kwargs), old, op),
                           reads_self=True)
        _check_overlap(self._data)  # an expanded self is refused, as in PyTorch
        plain = [a.detach() if isinstance(a, Tensor) else a for a in args]
        return _write(self, _same_shape(fn(self.detach(), *plain, **kwargs), self, op)._data)

    in_place.__name__ = op
    in_place.__doc__ = f"In-place {fn.__name__}."
    return in_place


def _same_shape(out, x, op):
    if out.shape != x.shape:
        raise RuntimeError(f"{op}: the result's shape {list(out.shape)} does not match the "
                           f"tensor's shape {list(x.shape)}")
    return out


# ----- scatter_reduce ---------------------------------------------------------------------------
_REDUCTIONS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
               "amin": np.minimum}


def _identity(reduce, dtype):
    """The start value of a reduction that leaves out self: reduce(start, v) == v."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "b":
        return reduce == "amin"  # max starts from False, min from True
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    lowest, highest = (-np.inf, np.inf) if dtype.kind == "f" else (info.min, info.max)
    return lowest if reduce == "amax" else highest


def _same(a, b):
    """a == b elementwise, with NaN equal to NaN."""
    return (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b


class ScatterReduce(Function):
    """out = x.clone(); out[i][index[i][j]] = reduce(out[i][index[i][j]], src[i][j]) (dim=1) for
    every j, with reduce one of sum, prod, mean, amax, amin. include_self=False leaves x's
    values out of the positions that receive some src value."""

    def __init__(self, dim, index, reduce, include_self):
        self.dim, self.index, self.reduce, self.include_self = dim, index, reduce, include_self

    def _counts(self, shape):
        """How many values each output position reduces over (at least 1)."""
        n = np.full(shape, int(self.include_self), np.int64)
        np.add.at(n, _scatter_index(self.index, self.dim), 1)
        return np.maximum(n, 1)

    def forward(self, x, src):
        where = _scatter_index(self.index, self.dim)
        out = x.copy()
        if not self.include_self:
            out[where] = _identity(self.reduce, x.dtype)
        _REDUCTIONS[self.reduce].at(out, where, src)
        if self.reduce == "mean":
            n = self._counts(x.shape)
            out = out // n.astype(x.dtype) if x.dtype.kind in "iu" else out / n.astype(x.dtype)
        return out

    def backward(self, gy):
        """PyTorch's formulas (scatter_reduce_backward)."""
        from .arithmetic import div

        x, src = self.saved_tensors
        d, idx = self.dim, self.index
        gather = lambda t: Gather(d, idx)(t)  # noqa: E731
        if self.reduce == "sum":
            gx, gsrc = gy, gather(gy)
        elif self.reduce == "mean":  # each of the n values of a mean gets 1/n of its gradient
            g = div(gy, Tensor._make(self._counts(gy.shape).astype(gy.dtype)))
            gx, gsrc = g, gather(g)
        elif self.reduce == "prod":
            gx, gsrc = self._prod_backward(gy, x, src, gather)
        else:  # amax / amin: the elements equal to the result share its gradient evenly
            result = ScatterReduce(d, idx, self.reduce, self.include_self)(x, src)._data
            # (a NaN result came from the NaNs: they count as equal to it, and get the gradient)
            x_is = _same(x._data, result)
            src_is = _same(src._data, Gather(d, idx).forward(result))
            n = x_is.astype(gy.dtype)
            np.add.at(n, _scatter_index(idx, d), src_is)
            g = div(gy, Tensor._make(n))
            gx = masked_fill(g, ~x_is, 0)
            gsrc = masked_fill(gather(g), ~src_is, 0)
        if not self.include_self:  # x's values at the scattered positions were not used
            gx = Scatter(d, idx, np.zeros((), gy.dtype))(gx)
        return gx, gsrc

    def _prod_backward(self, gy, x, src, gather):
        """d prod / d v is the product of the others: prod / v, computed without dividing by a
        zero (zeros are replaced by 1 in the product, and a lone zero of src gets the product of
        the others directly)."""
        from .arithmetic import div, mul

        d, idx, reduce, keep = self.dim, self.index, self.reduce, self.include_self
        x_zero = x._data == 0
        masked_x = masked_fill(x, x_zero, 1)
        gx = div(mul(gy, ScatterReduce(d, idx, reduce, keep)(masked_x, src)), masked_x)
        src_zero = src._data == 0
        zeros_there = np.zeros(x.shape, np.int64)
        np.add.at(zeros_there, _scatter_index(idx, d), src_zero)
        single_zero = src_zero & (Gather(d, idx).forward(zeros_there) == 1)
        without_it = ScatterReduce(d, idx, reduce, keep)(x, masked_fill(src, single_zero, 1))
        result = ScatterReduce(d, idx, reduce, keep)(x, src)
        gsrc = where(single_zero, gather(mul(gy, without_it)),
                     div(gather(mul(gy, result)), masked_fill(src, src_zero, 1)))
        return gx, gsrc


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce src's values into a copy of input at the positions index names along `dim`:
    out[i][index[i][j]] = reduce over its own value (unless include_self=False) and every
    src[i][j] sent there. reduce: "sum", "prod", "mean" (integer: floor), "amax", "amin"."""
    require_tensor(input, "scatter_reduce", "input", 1)
    require_tensor(index, "scatter_reduce", "index", 3)
    require_tensor(src, "scatter_reduce", "src", 4)
    if reduce not in _REDUCTIONS:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    idx = _int_index(index, "scatter")
    if input.ndim == 0:  # a 0-d tensor is reduced into as a 1-element vector
        dim_arg(dim, 0, "scatter_reduce", "dim", 2)
        return scatter_reduce(input.reshape(1), 0, index.reshape(1), src.reshape(1), reduce,
                              include_self=include_self).reshape(())
    d = dim_arg(dim, input.ndim, "scatter_reduce", "dim", 2)
    if input.dtype != src.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    _check_scatter(input, d, idx, src)
    if src.shape != idx.shape:  # only the first index.shape elements of src are read
        src = src[tuple(slice(0, n) for n in idx.shape)]
    return ScatterReduce(d, idx, reduce, bool(include_self))(input, src)


def fill_diagonal_(self, fill_value, wrap=False):
    """Write fill_value on the main diagonal (all i equal: x[i, i, ..., i]). Of a tall matrix
    only the top square by default; wrap=True starts again after every N+1 rows, as NumPy's
    fill_diagonal does."""
    from .inplace import _record, _records, _write

    if isinstance(fill_value, Tensor) and fill_value.ndim == 0 and not fill_value.requires_grad:
        fill_value = fill_value.item()  # (a 0-d tensor passes for a number, as in PyTorch)
    if isinstance(fill_value, Tensor) or not isinstance(fill_value, int | float | np.number):
        raise TypeError("fill_diagonal_(): argument 'fill_value' (position 1) must be Number, "
                        f"not {type(fill_value).__name__}")
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) > 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    diagonal = np.zeros(self.shape, bool)
    np.fill_diagonal(diagonal, True, wrap=bool(wrap))
    value = fill_value_array(fill_value, self.dtype)  # a float into an int tensor truncates
    if _records(self):
        return _record(self, lambda old: masked_fill(old, diagonal, Tensor._make(value)))
    return _write(self, value, where=diagonal)


# ----- slice_scatter / select_scatter / diagonal_scatter: a copy of input with one view replaced -
def _scatter_into_view(op, input, src, view):
    """A copy of input whose region view(copy) holds src (cast to input's dtype): src's gradient
    is the region's, input's is zero there. The write is copy_ into the view, so autograd
    records it as any in-place edit of a view."""
    x = require_tensor(input, op, "input", 1)
    s = require_tensor(src, op, "src", 2)
    out = x.clone()
    region = view(out)
    if region.shape != s.shape:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(s.shape)}, slice size = {list(region.shape)}")
    region.copy_(s)
    return out


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """input with input[..., start:end:step, ...] (along dim) replaced by src."""
    from .shape import _slice

    return _scatter_into_view("slice_scatter", input, src,
                              lambda t: _slice(t, dim, start, end, step))


def select_scatter(input, src, dim, index):
    """input with input.select(dim, index) replaced by src."""
    return _scatter_into_view("select_scatter", input, src, lambda t: t.select(dim, index))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """input with input.diagonal(offset, dim1, dim2) replaced by src."""
    return _scatter_into_view("diagonal_scatter", input, src,
                              lambda t: t.diagonal(offset, dim1, dim2))


TENSOR_METHODS = {
    "slice_scatter": slice_scatter, "select_scatter": select_scatter,
    "diagonal_scatter": diagonal_scatter,
    "__getitem__": getitem, "__setitem__": setitem, "gather": gather, "scatter_add": scatter_add,
    "scatter": scatter, "scatter_": scatter_,
    "take_along_dim": take_along_dim, "index_select": index_select, "masked_fill": masked_fill,
    "masked_fill_": masked_fill_, "where": _where_method, "tril": tril, "triu": triu,
    "take": take, "index_add": index_add, "index_copy": index_copy, "index_fill": index_fill,
    "index_add_": _index_in_place(index_add), "index_copy_": _index_in_place(index_copy),
    "index_fill_": _index_in_place(index_fill), "repeat_interleave": _repeat_interleave_method,
    "index_reduce": index_reduce, "index_reduce_": _index_in_place(index_reduce),
    "index_put": index_put, "index_put_": index_put_, "put": put, "put_": _in_place(put, "put_"),
    "masked_scatter": masked_scatter, "masked_scatter_": _in_place(masked_scatter,
                                                                   "masked_scatter_"),
    "scatter_reduce": scatter_reduce, "scatter_reduce_": _in_place(scatter_reduce,
                                                                   "scatter_reduce_"),
    "fill_diagonal_": fill_diagonal_,
}
__all__ = ["gather", "scatter", "scatter_add", "take_along_dim", "index_select", "masked_fill",
           "where", "tril", "triu", "take", "index_add", "index_copy", "index_fill", "index_reduce",
           "repeat_interleave", "index_put", "index_put_", "put", "masked_scatter",
           "scatter_reduce", "slice_scatter", "select_scatter", "diagonal_scatter"]
