"""Indexing: `x[...]`, `x[...] = v`, gather, index_select, masked_fill, where, tril/triu.

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

import numpy as np

from ..autograd.function import _TENSOR_TYPES, Function
from ..autograd.grad_mode import is_grad_enabled
from ..dtypes import dtype_name, get_default_dtype
from ..tensor import Tensor, _check_dim, as_tensor
from ._util import broadcast_shape, promote, result_dtype


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
    if sum(k == "ellipsis" for k, _ in parsed) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")

    out, arrays, dim = [], [], 0  # dim: the input dimension the next item indexes
    for k, v in parsed:
        if k == "ellipsis":  # spelled out as full slices, so every entry indexes one dim
            out.extend([slice(None)] * (len(shape) - used))
            dim += len(shape) - used
            continue
        elif k == "int":
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


def getitem(input, index):
    """`input[index]` with ints, slices, None, ..., integer tensors/lists and bool masks."""
    x = as_tensor(input)
    return GetItem(*_normalize_index(index, x.shape))(x)


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
    idx, advanced = _normalize_index(index, input.shape)
    if advanced and isinstance(value, Tensor) and value.dtype != input.dtype \
            and not _is_masked_fill(index, value):
        names = [_TENSOR_TYPES.get(t.dtype.name, t.dtype.name) for t in (input, value)]
        raise RuntimeError("Index put requires the source and destination dtypes match, got "
                           f"{names[0]} for the destination and {names[1]} for the source.")
    v = value._data if isinstance(value, Tensor) else np.asarray(value)
    target = input._data[idx].shape
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
    _check_overlap(input._data if advanced else input._data[idx])
    steps = ((GetItem, vars(GetItem(idx, advanced))),)
    recording = _records(input, value)
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


def _int_index(index, op, allowed="int32/int64"):
    index = as_tensor(index)
    if index.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{op}(): Expected dtype {allowed} for index, got "
                           f"{dtype_name(index.dtype)}")
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
    d = _check_dim(dim, x.ndim)
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
    x, s = as_tensor(input), as_tensor(src)
    idx = _int_index(index, "scatter_add", "int64")
    d = _check_dim(dim, x.ndim)
    _check_scatter(x, d, idx, s)
    return ScatterAdd(d, idx)(x, s)


def _check_scatter(x, d, idx, src=None):
    """PyTorch's checks of scatter and scatter_add along dim d: src's dtype, the number of
    dimensions, index's sizes (within x's, and src's), and index's values."""
    other = x if src is None else src
    if src is not None and x.dtype != src.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype, got "
                           f"{dtype_name(x.dtype)} and {dtype_name(src.dtype)}")
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
    d = _check_dim(dim, x.ndim)
    if x.ndim == 0:  # a 0-d tensor is scattered as a 1-element vector
        s = None if src is None else as_tensor(src).reshape(1)
        return scatter(x.reshape(1), 0, idx.reshape(1), s, value, reduce=reduce).reshape(())
    src = None if src is None else as_tensor(src)
    _check_scatter(x, d, idx, src)
    if reduce is None:
        if value is not None:
            value = np.asarray(value).astype(x.dtype)  # a float value into ints is truncated
        return Scatter(d, idx, value)(x) if src is None else Scatter(d, idx)(x, src)
    if reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if src is None:
        src = Tensor._make(np.full(idx.shape, value, dtype=x.dtype))
    if reduce == "add":
        return ScatterAdd(d, idx)(x, src)
    if is_grad_enabled() and (x.requires_grad or src.requires_grad):
        raise RuntimeError("scatter(): the gradient of reduce='multiply' is not implemented")
    out = x._data.copy()
    np.multiply.at(out, _scatter_index(idx, d), src._data[tuple(slice(0, n) for n in idx.shape)])
    return Tensor._make(out)


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    """In-place scatter (recorded as scatter when a gradient is needed)."""
    from .inplace import _record, _records, _write

    if _records(self, src):
        return _record(self, lambda old: scatter(old, dim, index, src, value, reduce=reduce))
    plain = src.detach() if isinstance(src, Tensor) else src
    return _write(self, scatter(self.detach(), dim, index, plain, value, reduce=reduce)._data)


def take_along_dim(input, indices, dim=None):
    """gather with broadcasting over the other dims (dim=None: along the flattened input)."""
    from .shape import broadcast_to, reshape

    x, idx = as_tensor(input), as_tensor(indices)
    if idx.dtype.kind not in "iu":
        raise RuntimeError("torch.take_along_dim(): dtype of indices should be int64 but got "
                           f"{dtype_name(idx.dtype)}")
    if dim is None:
        return gather(reshape(x, -1), 0, idx._data.reshape(-1).astype(np.int64))
    if x.ndim != idx.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same number "
                           f"of dimensions, but got {x.ndim} dimensions for input, and {idx.ndim} "
                           "dimensions for indices")
    d = _check_dim(dim, x.ndim)
    one = lambda s: s[:d] + (1,) + s[d + 1:]  # noqa: E731  (the shape with dim d set to 1)
    common = broadcast_shape(one(x.shape), one(idx.shape))
    x = broadcast_to(x, common[:d] + (x.shape[d],) + common[d + 1:])
    i = np.broadcast_to(idx._data, common[:d] + (idx.shape[d],) + common[d + 1:])
    return gather(x, d, i.astype(np.int64))


def index_select(input, dim, index):
    """Select whole slices along `dim`: index_select(x, 1, [2, 0]) == x[:, [2, 0]]."""
    x = as_tensor(input)
    idx = as_tensor(index)
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index, got "
                           f"{dtype_name(idx.dtype)}")
    d = _check_dim(dim, x.ndim)
    if x.ndim == 0:
        return index_select(x.reshape(1), 0, idx).reshape(())
    idx = idx._data.reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= x.shape[d]):
        bad = idx[(idx < 0) | (idx >= x.shape[d])][0]
        raise RuntimeError(f"index_select(): index {bad} is out of bounds for dimension {d} with "
                         f"size {x.shape[d]}")
    return GetItem((slice(None),) * d + (idx,), True)(x)


# ----- masking ----------------------------------------------------------------------------------
def _bool_mask(mask, op):
    if not isinstance(mask, Tensor | np.ndarray):
        raise TypeError(f"{op}(): argument 'mask' must be a bool Tensor, not {type(mask).__name__}")
    mask = as_tensor(mask)
    if mask.dtype != np.bool_:
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype "
                           f"{dtype_name(mask.dtype)}")
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
        value = Tensor._make(np.asarray(value, dtype=x.dtype))
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
    v = value._data if isinstance(value, Tensor) else value
    return _write(self, np.where(m, np.asarray(v, dtype=self.dtype), self._data))


class Where(Function):
    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        return np.where(self.condition, a, b)

    def backward(self, gy):
        from .arithmetic import sum_to

        a, b = self.inputs
        ga = sum_to(masked_fill(gy, ~self.condition, 0), a.shape) if self.needs_input_grad[0] \
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
    return promote(a, b)


def where(condition, input=None, other=None):
    """Elementwise `input if condition else other`, broadcasting all three (scalars allowed).

    `where(condition)` alone returns the indices of the True entries, one tensor per dim.
    """
    cond = as_tensor(condition)
    if cond.dtype != np.bool_:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {dtype_name(cond.dtype)}")
    if input is None and other is None:
        nonzero = np.nonzero(np.atleast_1d(cond._data))
        return tuple(Tensor._make(i.astype(np.int64)) for i in nonzero)
    if input is None or other is None:
        raise TypeError("where() expects either only condition, or condition, input and other")
    a, b = _where_operands(input, other)
    broadcast_shape(broadcast_shape(cond.shape, a.shape), b.shape)
    return Where(cond._data)(a, b)


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
    return Tri(int(diagonal), upper)(x)


def tril(input, diagonal=0):
    """Lower triangle (elements with col - row <= diagonal) of the last two dims."""
    return _tri(input, diagonal, upper=False)


def triu(input, diagonal=0):
    """Upper triangle (elements with col - row >= diagonal) of the last two dims."""
    return _tri(input, diagonal, upper=True)


TENSOR_METHODS = {
    "__getitem__": getitem, "__setitem__": setitem, "gather": gather, "scatter_add": scatter_add,
    "scatter": scatter, "scatter_": scatter_,
    "take_along_dim": take_along_dim, "index_select": index_select, "masked_fill": masked_fill,
    "masked_fill_": masked_fill_, "where": _where_method, "tril": tril, "triu": triu,
}
__all__ = ["gather", "scatter", "scatter_add", "take_along_dim", "index_select", "masked_fill",
           "where", "tril", "triu"]
