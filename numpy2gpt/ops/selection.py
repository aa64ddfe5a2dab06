"""Selection ops: clamp, maximum/minimum, fmax/fmin, max/min/amax/amin/aminmax, argmax/argmin,
sort, topk, median, kthvalue; and the ops that find elements: nonzero/argwhere, masked_select,
unique, unique_consecutive, searchsorted/bucketize, isin.

Every output element *is* one of the inputs (an element of `x` or a bound), so the gradient flows
only to the element that was selected and everything else gets zero. The backwards are built from
small linear Functions that hold a constant choice (a mask, or indices along a dim):

  * `_Mask(mask, scale)`: y = where(mask, x * scale, 0). Diagonal, so it is its own adjoint.
  * indexing's `Gather(dim, idx)` picks elements by index along `dim`; its backward scatters them
    back into zeros (`ScatterAdd`), and each is the other's adjoint.

Since the choice is constant (it does not move for an infinitesimal change of x), these backwards
are exact and differentiable again (double backward works).

Ties follow PyTorch: `maximum`/`minimum` split the gradient in half, `fmax`/`fmin` give it to
`input`; `amax`/`amin`, `aminmax` and a full `max()`/`min()`/`median()` share it evenly among the
tied elements; `max(dim)`, `sort`, `topk`, `median(dim)` and `kthvalue` send it to the element
whose index they return.

unique and unique_consecutive have no derivative in PyTorch: their outputs require grad when the
input does, and backward through them raises PyTorch's error (`_NoDerivative`).
"""

from collections import namedtuple

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..dtypes import dtype_name
from ..tensor import Tensor, _check_dim, as_tensor
from ._util import (
    broadcast_shape,
    dim_arg,
    fill_value_array,
    int_arg,
    not_implemented_for,
    numpy_names,
    promote,
    reduction_dims,
    renamed,
    require_tensor,
    result_type,
)
from .indexing import Gather


# ----- building blocks for the backwards --------------------------------------------------------
class _Mask(Function):
    """y = where(mask, x * scale, 0) for a constant mask (and optional constant scale)."""

    def __init__(self, mask, scale=None):
        self.mask, self.scale = mask, scale

    def forward(self, x):
        v = x if self.scale is None else x * self.scale
        return np.where(self.mask, v, np.zeros((), x.dtype))

    def backward(self, gy):
        return _Mask(self.mask, self.scale)(gy)  # a diagonal linear map is its own adjoint


def _masked(g, mask, scale=None):
    """The gradient `g` kept where `mask` holds (scaled), zero elsewhere."""
    from .shape import broadcast_to

    return _Mask(mask, scale)(broadcast_to(g, mask.shape))


def _spread(gy, shape, dims, keepdim):
    from .reduction import _spread as spread

    return spread(gy, shape, dims, keepdim)


# ----- PyTorch-style named tuples (torch.return_types.max(values=..., indices=...)) ------------
def _return_type(name, fields=("values", "indices")):
    base = namedtuple(name, fields)

    def __repr__(self):
        items = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"numpy2gpt.return_types.{name}(\n{items})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__})
    cls.__module__ = "numpy2gpt.return_types"
    return cls


class return_types:
    """Namespace of the (values, indices) result types, like `torch.return_types`."""

    max = _return_type("max")
    min = _return_type("min")
    sort = _return_type("sort")
    topk = _return_type("topk")
    median = _return_type("median")
    kthvalue = _return_type("kthvalue")
    cummax = _return_type("cummax")
    cummin = _return_type("cummin")
    aminmax = _return_type("aminmax", ("min", "max"))
    nanmedian = _return_type("nanmedian")
    mode = _return_type("mode")


# ----- clamp ------------------------------------------------------------------------------------
class Clamp(Function):
    """clamp with Python-number bounds: the gradient passes where lo <= x <= hi."""

    grad_fn_name = "ClampBackward1"

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        y = x
        if self.lo is not None:
            y = np.maximum(y, fill_value_array(self.lo, x.dtype))
        if self.hi is not None:
            y = np.minimum(y, fill_value_array(self.hi, x.dtype))
        return y

    def backward(self, gy):
        x = self.saved_tensors[0]._data
        mask = np.ones(x.shape, bool)
        if self.lo is not None:
            mask &= x >= self.lo
        if self.hi is not None:
            mask &= x <= self.hi
        return _masked(gy, mask)


class ClampTensor(Function):
    """clamp(x, lo, hi) with tensor bounds (either may be absent: `has` says which are inputs).

    Forward is min(max(x, lo), hi), so when lo > hi the result is hi. PyTorch's gradient rule:
    x gets it where lo <= x <= hi; lo where x < lo (and lo < hi); hi where x > hi (or hi < lo).
    """

    grad_fn_name = "ClampBackward0"

    def __init__(self, has_lo, has_hi):
        self.has_lo, self.has_hi = has_lo, has_hi

    def _bounds(self, arrays):
        it = iter(arrays)
        return (next(it) if self.has_lo else None), (next(it) if self.has_hi else None)

    def forward(self, x, *bounds):
        lo, hi = self._bounds(bounds)
        y = x if lo is None else np.maximum(x, lo)
        return y if hi is None else np.minimum(y, hi)

    def backward(self, gy):
        from .arithmetic import sum_to

        tensors = self.saved_tensors
        x = tensors[0]._data
        lo, hi = self._bounds(t._data for t in tensors[1:])
        shape = gy.shape
        if lo is not None and hi is not None:
            masks = [(x >= lo) & (x <= hi), (x < lo) & (lo < hi), (x > hi) | (hi < lo)]
        elif lo is not None:
            masks = [x >= lo, x < lo]
        else:
            masks = [x <= hi, x > hi]
        return tuple(sum_to(_masked(gy, np.broadcast_to(m, shape)), t.shape) if need else None
                     for t, m, need in zip(tensors, masks, self.needs_input_grad))


def check_clamp_bounds(op, min, max):
    """PyTorch's errors for clamp's bounds: at least one; each a number or a tensor; not one of
    each (its two overloads take two tensors or two numbers)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    for name, b in (("min", min), ("max", max)):
        if b is not None and not isinstance(b, Tensor | np.ndarray | int | float | np.number):
            raise TypeError(f"{op}(): argument '{name}' must be a Number or a Tensor, not "
                            f"{type(b).__name__}")
    if min is not None and max is not None and \
            isinstance(min, Tensor | np.ndarray) != isinstance(max, Tensor | np.ndarray):
        kinds = ", ".join("Tensor" if isinstance(b, Tensor | np.ndarray) else type(b).__name__
                          for b in (min, max))
        raise TypeError(f"{op}() received an invalid combination of arguments - got (Tensor, "
                        f"{kinds}): min and max must be both tensors or both numbers")


def clamp(input, min=None, max=None):
    """Limit every element to [min, max]; bounds are Python numbers or tensors (broadcast)."""
    x = as_tensor(input)
    check_clamp_bounds("clamp", min, max)
    bounds = [None if b is None else as_tensor(b) if isinstance(b, Tensor | np.ndarray) else b
              for b in (min, max)]
    dt = result_type(x, *(b for b in bounds if b is not None))
    tensor_bounds = any(isinstance(b, Tensor) for b in bounds)
    if dt == dtypes.bool and (not tensor_bounds or (min is not None and max is not None)):
        # PyTorch clamps bools only by one tensor bound
        kernel = "clamp" + ("" if min is not None and max is not None else
                            "_min" if max is None else "_max")
        kernel += "_cpu" if tensor_bounds else "_scalar_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    if not tensor_bounds:
        return Clamp(min, max)(x.to(dt))  # (a bound dt cannot hold is PyTorch's error)
    present = [(b if isinstance(b, Tensor) else Tensor._make(np.asarray(b, dt))).to(dt)
               for b in bounds if b is not None]
    for b in present:
        broadcast_shape(x.shape, b.shape)
    return ClampTensor(min is not None, max is not None)(x.to(dt), *present)


def clamp_min(input, min):
    name = "ClampMinBackward1" if isinstance(min, Tensor | np.ndarray) else "ClampMinBackward0"
    return renamed(clamp(input, min=min), name)


def clamp_max(input, max):
    name = "ClampMaxBackward1" if isinstance(max, Tensor | np.ndarray) else "ClampMaxBackward0"
    return renamed(clamp(input, max=max), name)


clip = clamp


# ----- maximum / minimum (elementwise, two tensors) ---------------------------------------------
class _Extremum(Function):
    """maximum (sign=+1) or minimum (sign=-1) of two tensors; ties split the gradient in half."""

    def __init__(self, sign):
        self.sign = sign
        self.grad_fn_name = "MaximumBackward0" if sign > 0 else "MinimumBackward0"

    def forward(self, a, b):
        return np.maximum(a, b) if self.sign > 0 else np.minimum(a, b)

    def backward(self, gy):
        from .arithmetic import sum_to

        a_t, b_t = self.saved_tensors
        a, b = a_t._data, b_t._data
        # PyTorch: where(a == b, g / 2, g), zeroed where the *other* input won.
        half = np.where(a == b, 0.5, 1.0).astype(gy.dtype)
        a_lost, b_lost = (a < b, a > b) if self.sign > 0 else (a > b, a < b)
        shape = gy.shape
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to(_masked(gy, np.broadcast_to(~a_lost, shape),
                                np.broadcast_to(half, shape)), a_t.shape)
        if self.needs_input_grad[1]:
            gb = sum_to(_masked(gy, np.broadcast_to(~b_lost, shape),
                                np.broadcast_to(half, shape)), b_t.shape)
        return ga, gb


def _binary_extremum(name, sign, input, other, fn_cls=_Extremum):
    a, b = promote(require_tensor(input, name, "input", 1), require_tensor(other, name, "other", 2))
    broadcast_shape(a.shape, b.shape)
    return fn_cls(sign)(a, b)


def maximum(input, other):
    """Elementwise max of two tensors (NaN propagates)."""
    return _binary_extremum("maximum", 1, input, other)


def minimum(input, other):
    """Elementwise min of two tensors (NaN propagates)."""
    return _binary_extremum("minimum", -1, input, other)


class _FExtremum(Function):
    """fmax (sign=+1) / fmin (sign=-1): maximum / minimum where a NaN loses to a number (NaN only
    when both are NaN). The gradient goes whole to the input whose value was taken: `input` where
    it wins or ties or `other` is NaN, `other` elsewhere (PyTorch's rule)."""

    def __init__(self, sign):
        self.sign = sign
        self.grad_fn_name = "FmaxBackward0" if sign > 0 else "FminBackward0"

    def forward(self, a, b):
        return np.fmax(a, b) if self.sign > 0 else np.fmin(a, b)

    def backward(self, gy):
        from .arithmetic import sum_to

        a_t, b_t = self.saved_tensors
        a, b = a_t._data, b_t._data
        took_a = np.broadcast_to(((a >= b) if self.sign > 0 else (a <= b)) | np.isnan(b),
                                 gy.shape)
        ga = sum_to(_masked(gy, took_a), a_t.shape) if self.needs_input_grad[0] else None
        gb = sum_to(_masked(gy, ~took_a), b_t.shape) if self.needs_input_grad[1] else None
        return ga, gb


def fmax(input, other):
    """Elementwise max of two tensors that ignores NaN: fmax(NaN, 1) = 1 (maximum gives NaN)."""
    return _binary_extremum("fmax", 1, input, other, _FExtremum)


def fmin(input, other):
    """Elementwise min of two tensors that ignores NaN: fmin(NaN, 1) = 1 (minimum gives NaN)."""
    return _binary_extremum("fmin", -1, input, other, _FExtremum)


# ----- reductions that pick: max / min / amax / amin / argmax / argmin --------------------------
class _Amax(Function):
    """amax (sign=+1) / amin (sign=-1) over `dims`: ties share the gradient evenly.

    Also the full `max()` / `min()`, whose only difference (PyTorch's evenly_distribute_backward)
    is that a NaN result sends the gradient to the NaN elements (`nan_aware`).
    """

    saves_outputs = True

    def __init__(self, sign, dims, keepdim, nan_aware=False):
        self.sign, self.dims, self.keepdim, self.nan_aware = sign, dims, keepdim, nan_aware
        name = "Max" if sign > 0 else "Min"
        self.grad_fn_name = name + "Backward1" if nan_aware else f"A{name.lower()}Backward0"

    def forward(self, x):
        op = np.max if self.sign > 0 else np.min
        return np.asarray(op(x, axis=self.dims, keepdims=self.keepdim))

    def backward(self, gy):
        x = self.saved_tensors[0]._data
        y = self.saved_output()._data
        y = y if self.keepdim else np.expand_dims(y, self.dims if self.dims is not None
                                                  else tuple(range(x.ndim)))
        g = _spread(gy, x.shape, self.dims, self.keepdim)
        if self.nan_aware:
            mask = np.isnan(x) if np.isnan(y).any() else x == y
            return _Mask(mask, np.asarray(1.0 / mask.sum(), x.dtype))(g)
        # PyTorch's scale_grad_by_count: (g / count) * mask, a product (NaN max gives NaN grads).
        mask = x == y
        with np.errstate(divide="ignore", invalid="ignore"):
            weight = (mask / mask.sum(axis=self.dims, keepdims=True)).astype(x.dtype)
        return g * Tensor._make(weight)


def _reduce_dims_check(name, x, dims, error=RuntimeError):
    """PyTorch refuses to pick from an empty set (there is no identity for max)."""
    if dims is None:
        if x.numel() == 0:
            raise error(f"{name}(): Expected reduction dim to be specified for input.numel() "
                        "== 0. Specify the reduction dim with the 'dim' argument.")
        return
    for d in dims:
        if x.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _amax(name, sign, input, dim, keepdim):
    x = as_tensor(input)
    dims = reduction_dims(dim, x.ndim, name, 2)
    _reduce_dims_check(name, x, dims)
    return _Amax(sign, dims, keepdim)(x)


@numpy_names
def amax(input, dim=(), keepdim=False):
    """Max over `dim` (int or tuple; () = all dims). Tied maxima share the gradient evenly."""
    return _amax("amax", 1, input, dim, keepdim)


@numpy_names
def amin(input, dim=(), keepdim=False):
    """Min over `dim` (int or tuple; () = all dims). Tied minima share the gradient evenly."""
    return _amax("amin", -1, input, dim, keepdim)


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over all elements, or over one int `dim`, in one call. Tied extremes share the
    gradient evenly, as in amin / amax."""
    x = as_tensor(input)
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                               "operation has no identity.")
        dims = None
    else:
        if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
            raise TypeError(f"aminmax(): argument 'dim' must be int, not {type(dim).__name__}")
        d = _check_dim(int(dim), x.ndim)
        dims = (d,) if x.ndim else None
        if x.ndim and x.shape[d] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
    return return_types.aminmax(_Amax(-1, dims, keepdim)(x), _Amax(1, dims, keepdim)(x))


def _arg_index(x, d, sign):
    """Index of the max/min along dim d, keepdims (first occurrence; NaN counts as the extreme)."""
    return np.expand_dims((np.argmax if sign > 0 else np.argmin)(x, axis=d), d)


def _select_along(x, idx, d, keepdim, grad_fn_name):
    """Differentiable values x[idx] along dim d, and the indices as an int64 tensor."""
    pick = Gather(d, idx, keepdim)
    pick.grad_fn_name = grad_fn_name  # PyTorch names the node after the op (MaxBackward0, ...)
    values = pick(x)
    if not keepdim:
        idx = np.squeeze(idx, d)
    return values, Tensor._make(idx.astype(np.int64, copy=False))


def _max_min(name, sign, input, dim, keepdim, other):
    if other is not None or isinstance(dim, Tensor):  # max(a, b): the elementwise form
        return _binary_extremum("maximum" if sign > 0 else "minimum", sign, input,
                                other if other is not None else dim)
    x = as_tensor(input)
    if dim is None:
        _reduce_dims_check(name, x, None)
        return _Amax(sign, None, False, nan_aware=True)(x)
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    if x.ndim == 0:  # a 0-d tensor has one element, at index 0
        v, i = _max_min(name, sign, x.reshape(1), 0, False, None)
        return getattr(return_types, name)(v, i)
    d = _check_dim(int(dim), x.ndim)
    _reduce_dims_check(name, x, (d,))
    values, indices = _select_along(x, _arg_index(x._data, d, sign), d, keepdim,
                                    name.capitalize() + "Backward0")
    return getattr(return_types, name)(values, indices)


@numpy_names
def max(input, dim=None, keepdim=False, *, other=None):
    """max(x) -> 0-d value; max(x, dim, keepdim) -> (values, indices); max(x, other) = maximum."""
    return _max_min("max", 1, input, dim, keepdim, other)


@numpy_names
def min(input, dim=None, keepdim=False, *, other=None):
    """min(x) -> 0-d value; min(x, dim, keepdim) -> (values, indices); min(x, other) = minimum."""
    return _max_min("min", -1, input, dim, keepdim, other)


def _argextreme(name, sign, input, dim, keepdim):
    x = as_tensor(input)
    if x.dtype == np.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        _reduce_dims_check(name, x, None, IndexError)  # (PyTorch's argmax raises IndexError)
        flat = (np.argmax if sign > 0 else np.argmin)(x._data.reshape(-1))
        shape = (1,) * x.ndim if keepdim else ()
        return Tensor._make(np.full(shape, flat, np.int64))
    d = dim_arg(dim, x.ndim, name, "dim", 2)
    if x.ndim == 0:
        return Tensor._make(np.zeros((), np.int64))
    _reduce_dims_check(name, x, (d,))
    idx = _arg_index(x._data, d, sign).astype(np.int64, copy=False)
    return Tensor._make(idx if keepdim else np.squeeze(idx, d))


@numpy_names
def argmax(input, dim=None, keepdim=False):
    """Index of the max (first one if tied); dim=None indexes the flattened tensor."""
    return _argextreme("argmax", 1, input, dim, keepdim)


@numpy_names
def argmin(input, dim=None, keepdim=False):
    """Index of the min (first one if tied); dim=None indexes the flattened tensor."""
    return _argextreme("argmin", -1, input, dim, keepdim)


# ----- sort / argsort / topk --------------------------------------------------------------------
def _sort_index(a, d, descending):
    """Stable sort order along axis d; NaN sorts as the largest value (PyTorch's rule).

    Descending and stable: reverse, sort ascending (stable), reverse again. Equal values then
    keep their original order, and NaN (last when ascending) comes first.
    """
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    n = a.shape[d]
    rev = np.flip(np.argsort(np.flip(a, d), axis=d, kind="stable"), d)
    return (n - 1) - rev


def _check_sort_args(name, x, dim):
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{name}(): unsupported dtype {dtype_name(x.dtype)}")
    return _check_dim(int(dim), x.ndim)


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along `dim`. Always stable (ties keep their order); values are
    differentiable (the gradient goes back to where each value came from)."""
    x = as_tensor(input)
    d = _check_sort_args("sort", x, dim)
    if x.ndim == 0:
        v, i = sort(x.reshape(1), 0, descending)
        return return_types.sort(v.reshape(()), i.reshape(()))
    idx = _sort_index(x._data, d, descending)
    values, indices = _select_along(x, idx, d, True, "SortBackward0")
    return return_types.sort(values, indices)


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort `input` along `dim` (stable)."""
    x = as_tensor(input)
    d = _check_sort_args("argsort", x, dim)
    if x.ndim == 0:
        return Tensor._make(np.zeros((), np.int64))
    return Tensor._make(_sort_index(x._data, d, descending).astype(np.int64, copy=False))


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) elements along `dim` as (values, indices), in order.

    Among equal values the earlier index is taken (PyTorch leaves ties unspecified). Done with a
    full stable sort: O(n log n) per row, simple and deterministic.
    """
    x = as_tensor(input)
    if x.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    d = _check_sort_args("topk", x, dim)
    if not isinstance(k, int | np.integer) or isinstance(k, bool):
        raise TypeError(f"topk(): argument 'k' must be int, not {type(k).__name__}")
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range (k={k}, size of dim {dim} is {n})")
    if x.ndim == 0:  # the element itself, for k = 0 too (as PyTorch)
        v, i = topk(x.reshape(1), 1, 0, largest)
        return return_types.topk(v.reshape(()), i.reshape(()))
    idx = np.take(_sort_index(x._data, d, largest), np.arange(k), axis=d)
    values, indices = _select_along(x, idx, d, True, "TopkBackward0")
    return return_types.topk(values, indices)


# ----- median / kthvalue ------------------------------------------------------------------------
class _Median(Function):
    """The median of all elements (the lower of the two middle ones for an even count; NaN if
    there is one). Elements equal to it share the gradient evenly (the NaNs, for a NaN median),
    as PyTorch's evenly_distribute_backward."""

    saves_outputs = True
    grad_fn_name = "MedianBackward0"

    def __init__(self, ignore_nan=False):
        self.ignore_nan = ignore_nan  # nanmedian: the median of the non-NaN elements
        if ignore_nan:
            self.grad_fn_name = "NanmedianBackward0"

    def forward(self, x):
        flat = x.reshape(-1)
        if self.ignore_nan:
            flat = flat[~np.isnan(flat)]
        if flat.size == 0 or np.isnan(flat).any():
            return np.asarray(np.nan, x.dtype)
        return np.asarray(np.partition(flat, (flat.size - 1) // 2)[(flat.size - 1) // 2])

    def backward(self, gy):
        x, y = self.saved_tensors[0]._data, self.saved_output()._data
        mask = np.isnan(x) if np.isnan(y) else x == y
        return _Mask(mask, np.asarray(1.0 / mask.sum(), x.dtype))(_spread(gy, x.shape, None,
                                                                          False))


def _kth_index(x, d, k):
    """Index (keepdims) of the k-th smallest (k from 0) along dim d: NaN sorts as the largest,
    and equal values keep their order (PyTorch leaves the index of tied values unspecified)."""
    return np.take(_sort_index(x, d, False), [k], axis=d)


def median(input, dim=None, keepdim=False):
    """median(x): the lower middle value of all elements (NaN if any is NaN), a 0-d tensor.
    median(x, dim, keepdim): (values, indices) along `dim`; a slice with a NaN gives its first
    NaN."""
    x = as_tensor(input)
    not_implemented_for(x, "median_cpu", "b")
    if dim is None:
        if keepdim:
            raise TypeError('median() missing 1 required positional arguments: "dim"')
        if x.numel() == 0 and x.dtype.kind != "f":  # (PyTorch returns an arbitrary number)
            raise RuntimeError("median(): an empty integer tensor has no median")
        return _Median()(x)
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"median(): argument 'dim' must be int, not {type(dim).__name__}")
    if x.ndim == 0:
        _check_dim(int(dim), 0)
        return return_types.median(*_select_along(x.reshape(1), np.zeros(1, np.int64), 0, False,
                                                  "MedianBackward1"))
    d = _check_dim(int(dim), x.ndim)
    _reduce_dims_check("median", x, (d,))
    a = x._data
    idx = _kth_index(a, d, (a.shape[d] - 1) // 2)
    if a.dtype.kind == "f":  # where a slice has a NaN, its first NaN is the median
        nan = np.isnan(a)
        idx = np.where(nan.any(axis=d, keepdims=True), _arg_index(nan, d, 1), idx)
    return return_types.median(*_select_along(x, idx, d, keepdim, "MedianBackward1"))


def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices) of the k-th smallest element (k from 1) along `dim`; NaN counts as the
    largest value."""
    x = as_tensor(input)
    not_implemented_for(x, "kthvalue_cpu", "b")
    if not isinstance(k, int | np.integer) or isinstance(k, bool):
        raise TypeError(f"kthvalue(): argument 'k' (position 2) must be int, not "
                        f"{type(k).__name__}")
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"kthvalue(): argument 'dim' must be int, not {type(dim).__name__}")
    d = _check_dim(int(dim), x.ndim)
    if x.ndim:
        _reduce_dims_check("kthvalue", x, (d,))
    n = x.shape[d] if x.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if x.ndim == 0:
        return return_types.kthvalue(*_select_along(x.reshape(1), np.zeros(1, np.int64), 0,
                                                    False, "KthvalueBackward0"))
    idx = _kth_index(x._data, d, int(k) - 1)
    return return_types.kthvalue(*_select_along(x, idx, d, keepdim, "KthvalueBackward0"))



def nanmedian(input, dim=None, keepdim=False):
    """median that ignores NaN: the lower middle value of the non-NaN elements (NaN only where
    all are NaN). With `dim`: (values, indices) along it."""
    x = as_tensor(input)
    not_implemented_for(x, "median_cpu", "b")
    if dim is None:
        if keepdim:
            raise TypeError('nanmedian() missing 1 required positional arguments: "dim"')
        if x.numel() == 0 and x.dtype.kind != "f":
            raise RuntimeError("nanmedian(): an empty integer tensor has no median")
        return _Median(ignore_nan=True)(x)
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"nanmedian(): argument 'dim' must be int, not {type(dim).__name__}")
    d = _check_dim(int(dim), x.ndim)
    if x.ndim == 0:
        return return_types.nanmedian(*_select_along(x.reshape(1), np.zeros(1, np.int64), 0,
                                                     False, "NanmedianBackward1"))
    _reduce_dims_check("median", x, (d,))
    a = x._data
    order = _sort_index(a, d, False)  # NaN last
    valid = (~np.isnan(a)).sum(axis=d, keepdims=True) if a.dtype.kind == "f" else a.shape[d]
    k = np.maximum(valid - 1, 0) // 2  # (a row of NaNs: its first, a NaN)
    idx = np.take_along_axis(order, np.broadcast_to(k, order.shape[:d] + (1,) +
                                                    order.shape[d + 1:]), axis=d)
    return return_types.nanmedian(*_select_along(x, idx, d, keepdim, "NanmedianBackward1"))


def _mode_index(row):
    """Index of the most frequent value of a 1-D array (the smallest of equally frequent ones;
    its last occurrence). Each NaN counts as a value of its own, as NaN != NaN."""
    order = np.argsort(row, kind="stable")
    s = row[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    lengths = np.diff(np.append(starts, s.size))
    best = np.argmax(lengths)  # the first longest run: the smallest value
    return order[starts[best] + lengths[best] - 1]


def mode(input, dim=-1, keepdim=False):
    """(values, indices): the most frequent value along `dim` (the smallest if several are as
    frequent) and the index of its last occurrence. The gradient goes to that element."""
    x = as_tensor(input)
    d = dim_arg(dim, x.ndim, "mode", "dim", 2)
    if x.ndim == 0:
        return return_types.mode(*_select_along(x.reshape(1), np.zeros(1, np.int64), 0, False,
                                                "ModeBackward0"))
    _reduce_dims_check("mode", x, (d,))
    a = np.moveaxis(x._data, d, -1)
    idx = np.zeros(a.shape[:-1], np.int64)
    for i in np.ndindex(a.shape[:-1]):
        idx[i] = _mode_index(a[i])
    return return_types.mode(*_select_along(x, np.expand_dims(idx, d), d, keepdim,
                                            "ModeBackward0"))


def msort(input):
    """input sorted along its first dim (sort(input, dim=0).values)."""
    x = require_tensor(input, "msort", "input", 1)
    return sort(x, dim=0).values

# ----- finding elements: nonzero, masked_select, unique -----------------------------------------
def nonzero(input, *, as_tuple=False):
    """The indices of the nonzero elements: an int64 tensor with one row per element and one
    column per dim, or (as_tuple=True) one 1-D tensor per dim (a 0-d input counts as 1-D)."""
    x = as_tensor(input)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(x._data)))
    if x.ndim == 0:
        return Tensor._make(np.zeros((int(x._data != 0), 0), np.int64))
    return Tensor._make(np.argwhere(x._data).astype(np.int64))


def nonzero_static(input, *, size, fill_value=-1):
    """nonzero(input) with exactly `size` rows: cut after `size`, or filled up with
    fill_value (a shape known in advance, whatever the values)."""
    found = nonzero(require_tensor(input, "nonzero_static", "input", 1))._data
    size = int_arg(size, "nonzero_static", "size")
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, but got "
                           f"size: {size}")
    out = np.full((size, found.shape[1]), fill_value, np.int64)
    kept = found[:size]  # (this module's min is the tensor op)
    out[:len(kept)] = kept
    return Tensor._make(out)


def unravel_index(indices, shape):
    """The coordinates in a tensor of `shape` of each flat (row-major) index: one int64 tensor
    per dim, shaped as indices. As PyTorch's, indices wrap around: -1 is the last element."""
    if not isinstance(indices, Tensor):
        indices = as_tensor(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got "
                        f"{dtype_name(indices.dtype)}")
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    if any(n < 0 for n in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    if 0 in shape:
        raise RuntimeError("ZeroDivisionError")
    flat, coords = indices._data.astype(np.int64), []
    for n in reversed(shape):  # the last dim varies fastest
        coords.append(Tensor._make(flat % n))
        flat = flat // n
    return tuple(reversed(coords))


def argwhere(input):
    """The indices of the nonzero elements, one row each: nonzero(input)."""
    return nonzero(input)


def masked_select(input, mask):
    """The elements of `input` where the bool `mask` is True, as a 1-D tensor (input and mask are
    broadcast together first). The gradient goes back to the selected elements."""
    from .indexing import GetItem
    from .shape import broadcast_to

    for pos, (arg, v) in enumerate((("input", input), ("mask", mask)), start=1):
        if not isinstance(v, Tensor):
            raise TypeError(f"masked_select(): argument '{arg}' (position {pos}) must be Tensor, "
                            f"not {type(v).__name__}")
    if mask.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shape(input.shape, mask.shape) or (1,)  # 0-d: as one element
    x = broadcast_to(input, shape) if input.shape != shape else input
    pick = GetItem(np.nonzero(np.broadcast_to(mask._data, shape)), True)
    pick.grad_fn_name = "MaskedSelectBackward0"
    return pick(x)


class _NoDerivative(Function):
    """An output PyTorch computes but has no derivative for (unique): it requires grad when the
    input does, and backward through it raises PyTorch's NotImplementedError."""

    materialize_grads = False

    def __init__(self, op, grad_fn_name, result):
        self.op, self.grad_fn_name, self.result = op, grad_fn_name, result

    def forward(self, x):
        return self.result

    def backward(self, *grads):
        raise NotImplementedError(f"the derivative for '{self.op}' is not implemented.")


def _unique_result(x, arrays, flags, op, grad_fn_name):
    """(values, inverse?, counts?) as PyTorch returns them: a tensor when only values are asked
    for, else a tuple; values linked to x in the graph (without a derivative)."""
    values = _NoDerivative(op, grad_fn_name, arrays[0])(x)
    extra = [Tensor._make(a.astype(np.int64)) for a, wanted in zip(arrays[1:], flags) if wanted]
    return (values, *extra) if extra else values


def _unique_dim_check(x, dim, op, position=None):
    dim = int_arg(dim, op, "dim", position)
    if x.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _check_dim(dim, x.ndim)
    if any(n == 0 for k, n in enumerate(x.shape) if k != d):
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique "
                           "cannot be applied")
    return d


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements in ascending order (or distinct slices along `dim`, in
    lexicographic order); optionally `inverse` (where each element went) and `counts`.

    Always sorted (PyTorch's CPU result for sorted=False is sorted too). Each NaN is distinct.
    """
    x = as_tensor(input)
    if dim is None:
        values, inverse, counts = np.unique(x._data.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)
        arrays = (values, inverse.reshape(x.shape), counts)
        return _unique_result(x, arrays, (return_inverse, return_counts), "_unique2",
                              "Unique2Backward0")
    d = _unique_dim_check(x, dim, "unique_dim", 2)
    if x.shape[d] == 0:
        arrays = (x._data.copy(), np.zeros(0, np.int64), np.zeros(0, np.int64))
    else:
        values, inverse, counts = np.unique(x._data, return_inverse=True, return_counts=True,
                                            axis=d)
        arrays = (values, inverse.reshape(-1), counts)
    return _unique_result(x, arrays, (return_inverse, return_counts), "unique_dim",
                          "UniqueDimBackward0")


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Keep the first of every run of equal consecutive elements (of equal consecutive slices
    along `dim`); optionally `inverse` (each element's run) and `counts` (each run's length)."""
    x = as_tensor(input)
    if dim is None:
        a, d = x._data.reshape(-1), 0
    else:
        d = _unique_dim_check(x, dim, "unique_consecutive")
        a = x._data
    n = a.shape[d]
    # a run starts where a slice differs from the one before it (NaN differs from everything)
    changed = np.not_equal(np.take(a, np.arange(1, n), axis=d), np.take(a, np.arange(n - 1), d))
    if a.ndim > 1:
        changed = changed.any(axis=tuple(k for k in range(a.ndim) if k != d))
    first = np.concatenate([np.ones(int(n > 0), bool), changed])  # is slice i a run's first?
    starts = np.flatnonzero(first)
    inverse = np.cumsum(first) - 1
    counts = np.diff(np.append(starts, n))
    arrays = (np.take(a, starts, axis=d), inverse.reshape(x.shape) if dim is None else inverse,
              counts)
    return _unique_result(x, arrays, (return_inverse, return_counts), "unique_consecutive",
                          "UniqueConsecutiveBackward0")


# ----- searchsorted, bucketize, isin: where values fall, whether they occur (no gradient) ---------
def _values_array(v):
    return v._data if isinstance(v, Tensor) else np.asarray(v)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """For each value, the index at which it would be inserted into the sorted last dim of
    `sorted_sequence` to keep it sorted: before equal values (left), or after them
    (`right=True` / `side="right"`). Leading dims of a batch of sequences match input's."""
    seq = require_tensor(sorted_sequence, "searchsorted", "sorted_sequence", 1)
    if side is not None and side not in ("left", "right"):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got "
                           f"{side}")
    if side == "left" and right:
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got "
                           "side of left while right was True")
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    values = _values_array(input)
    if seq.ndim > 1 and seq.shape[:-1] != values.shape[:-1]:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the "
                           "first N-1 dimensions of boundaries tensor and input value tensor "
                           f"must match, but we got boundaries tensor {list(seq.shape)} and input "
                           f"value tensor {list(values.shape)}")
    side = "right" if right or side == "right" else "left"
    rows = seq._data if sorter is None else np.take_along_axis(seq._data, sorter._data, -1)
    if rows.dtype.kind == "f" and np.isnan(rows).any():
        out = _pytorch_search(rows, values, side == "right")
    elif rows.ndim == 1:
        out = np.searchsorted(rows, values, side)
    else:  # one search per sequence
        out = np.empty(values.shape, np.int64)
        for i in np.ndindex(rows.shape[:-1]):
            out[i] = np.searchsorted(rows[i], values[i], side)
    return Tensor._make(np.asarray(out, np.int32 if out_int32 else np.int64))


def _pytorch_search(rows, values, right):
    """PyTorch's binary search (its lower or upper bound) over the last dim of rows, one per
    value. It differs from NumPy's where the sequence holds NaN: every comparison with NaN is
    false, so the search moves right past a NaN (NumPy orders NaN above +inf)."""
    n = rows.shape[-1]
    lo, hi = np.zeros(values.shape, np.int64), np.full(values.shape, n, np.int64)
    with np.errstate(invalid="ignore"):
        while True:
            active = lo < hi
            if not active.any():
                return lo
            mid = (lo + hi) // 2
            at = np.minimum(mid, n - 1)
            mid_value = rows[at] if rows.ndim == 1 else np.take_along_axis(rows, at, -1)
            # lower bound: right while not (mid >= value); upper bound: while not (mid > value)
            go_right = ~(mid_value > values) if right else ~(mid_value >= values)
            lo = np.where(active & go_right, mid + 1, lo)
            hi = np.where(active & ~go_right, mid, hi)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value among the sorted 1-D `boundaries`: i with b[i-1] < x <= b[i]
    (or b[i-1] <= x < b[i] with right=True)."""
    b = require_tensor(boundaries, "bucketize", "boundaries", 2)
    if b.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    return searchsorted(b, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of `elements` occurs in `test_elements` (either may be a number)."""
    if not (isinstance(elements, Tensor) or isinstance(test_elements, Tensor)):
        raise TypeError("isin() received an invalid combination of arguments: one of elements "
                        "and test_elements must be a Tensor")
    a, b = _values_array(elements), _values_array(test_elements)
    return Tensor._make(np.isin(a, b, assume_unique=assume_unique, invert=invert))


TENSOR_METHODS = {
    "clamp": clamp, "clip": clamp, "clamp_min": clamp_min, "clamp_max": clamp_max,
    "maximum": maximum, "minimum": minimum, "max": max, "min": min, "amax": amax, "amin": amin,
    "argmax": argmax, "argmin": argmin, "sort": sort, "argsort": argsort, "topk": topk,
    "fmax": fmax, "fmin": fmin, "aminmax": aminmax, "median": median, "kthvalue": kthvalue,
    "nonzero": nonzero, "argwhere": argwhere, "masked_select": masked_select, "unique": unique,
    "unique_consecutive": unique_consecutive, "nanmedian": nanmedian, "mode": mode,
    "msort": msort, "nonzero_static": nonzero_static,
}
__all__ = ["clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "max", "min", "amax",
           "amin", "argmax", "argmin", "sort", "argsort", "topk", "return_types", "fmax", "fmin",
           "aminmax", "median", "kthvalue", "nonzero", "argwhere", "masked_select", "unique",
           "unique_consecutive", "searchsorted", "bucketize", "isin", "nanmedian", "mode",
           "msort", "nonzero_static", "unravel_index"]
