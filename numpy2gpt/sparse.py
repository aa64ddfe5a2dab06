"""Sparse COO tensors: the few that nn.Embedding(sparse=True) needs (PyTorch's torch.sparse_coo).

A sparse tensor of shape (5, 3) that holds rows 1 and 4 keeps only those: `indices` (sparse_dim,
nnz) int64, the coordinates of each stored entry, and `values` (nnz, *dense shape), the entry
itself. For an embedding's gradient sparse_dim is 1 and each entry is a whole row, so a table of
a million rows gets a gradient as large as the batch, not as the table.

The same coordinate may appear more than once ("uncoalesced"): the entries then add up. That is
how an embedding's gradient comes out (one entry per looked-up id, repeats included) and how two
gradients are summed cheaply. `coalesce()` sorts the coordinates and sums the repeats, which an
update that is not linear in the gradient (SparseAdam's) needs first.

The subset here: building one (`sparse_coo_tensor`), its facts (shape, dtype, `_nnz()`,
`sparse_dim()`, `_indices()`, `_values()`, ...), `coalesce()`, `to_dense()`, adding two (as a
gradient accumulates), `dense + sparse`, negation and scaling by a number, `zero_()`, and
PyTorch's print. Sparse tensors take no part in autograd (no grad_fn, no requires_grad). Any other
op is PyTorch's NotImplementedError for the 'SparseCPU' backend: call `.to_dense()` first.
"""

import numbers

import numpy as np

from . import dtypes
from .dtypes import dtype_name
from .tensor import (
    CPU,
    PRINT_OPTS,
    NamedConstant,
    Size,
    Tensor,
    _check_dim,
    _float_formatter,
    _int_arg,
    _nested_str,
    _plain_formatter,
    _shown,
    _to_array,
    check_device,
    type_name,
)


class layout(NamedConstant):
    """How a tensor's elements are laid out in memory: `strided` (every element stored, the
    usual) or `sparse_coo` (coordinates and values of the stored ones only)."""

    __slots__ = ()


strided = layout("strided")
sparse_coo = layout("sparse_coo")

_NO_DENSE_OP = ("Could not run this operation with arguments from the 'SparseCPU' backend: "
                "numpy2gpt's sparse tensors support only to_dense(), coalesce(), addition and "
                "scaling (call .to_dense() first)")


class SparseTensor(Tensor):
    """A sparse COO tensor (see the module docstring); make one with `sparse_coo_tensor`.

    `_idx` (sparse_dim, nnz) int64 and `_vals` (nnz, *dense shape) are its two arrays, which are
    never edited in place (an update makes new ones), so tensors may share them; `_size` is the
    full shape; `_coalesced` says that the coordinates are sorted and unique.
    """

    __slots__ = ("_idx", "_vals", "_size", "_coalesced")

    def __init__(self, indices, values, size, coalesced):
        self._idx, self._vals, self._size = indices, values, Size(size)
        self._coalesced = bool(coalesced)
        self._requires_grad, self._grad, self.grad_fn, self._output_nr = False, None, None, 0
        self._retains_grad, self.name, self._version_cell, self._view = False, None, [0], None

    @property
    def _data(self):
        """A dense op reads a tensor's array: a sparse tensor has none (PyTorch's error)."""
        raise NotImplementedError(_NO_DENSE_OP)

    # ----- facts -----------------------------------------------------------------------------
    is_sparse = True
    layout = sparse_coo

    @property
    def shape(self):
        return self._size

    def size(self, dim=None):
        if dim is None:
            return self._size
        if type(dim) is not int:
            _int_arg(dim, "size", "dim")
        return self._size[_check_dim(dim, len(self._size))]

    @property
    def dtype(self):
        return self._vals.dtype

    @property
    def device(self):
        return CPU

    @property
    def ndim(self):
        return len(self._size)

    def dim(self):
        return len(self._size)

    def numel(self):
        return self._size.numel()

    def __len__(self):
        if not self._size:
            raise TypeError("len() of a 0-d tensor")
        return self._size[0]

    def is_floating_point(self):
        return self._vals.dtype.kind == "f"

    def _nnz(self):
        """How many entries are stored (repeated coordinates counted each time)."""
        return self._idx.shape[1]

    def sparse_dim(self):
        """How many leading dims the coordinates index (1 for an embedding's gradient)."""
        return self._idx.shape[0]

    def dense_dim(self):
        """How many trailing dims each stored entry has (1 for an embedding's gradient)."""
        return self._vals.ndim - 1

    def is_coalesced(self):
        return self._coalesced

    def _indices(self):
        """The coordinates (sparse_dim, nnz), as stored (repeats and order included)."""
        return Tensor._make(self._idx)

    def _values(self):
        """The entries (nnz, *dense shape), as stored."""
        return Tensor._make(self._vals)

    def indices(self):
        """The coordinates of a coalesced tensor (an uncoalesced one has no definite ones)."""
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._indices()

    def values(self):
        """The entries of a coalesced tensor."""
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._values()

    # ----- autograd state: none ----------------------------------------------------------------
    @property
    def requires_grad(self):
        return False

    @requires_grad.setter
    def requires_grad(self, requires_grad):
        if requires_grad:
            raise NotImplementedError("numpy2gpt's sparse tensors take no part in autograd: "
                                      "they cannot require grad")

    @property
    def data(self):
        return self.detach()

    def detach(self):
        return SparseTensor(self._idx, self._vals, self._size, self._coalesced)

    def clone(self, *, memory_format=None):
        return SparseTensor(self._idx.copy(), self._vals.copy(), self._size, self._coalesced)

    def __deepcopy__(self, memo):
        return self.clone()

    def numpy(self, force=False):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() "
                        "first.")

    # ----- coalesce and to_dense --------------------------------------------------------------
    def coalesce(self):
        """The same tensor with sorted, unique coordinates: repeated ones are summed, in the
        order they are stored (as PyTorch's CPU kernel sums them). Itself if already so."""
        if self._coalesced:
            return self
        if self._nnz() < 2:
            return SparseTensor(self._idx.copy(), self._vals.copy(), self._size, True)
        order = np.argsort(self._linear_index(), kind="stable")
        keys = self._linear_index()[order]
        first = np.r_[True, keys[1:] != keys[:-1]]  # where a new coordinate starts
        values = np.zeros((int(first.sum()), *self._vals.shape[1:]), self._vals.dtype)
        # unbuffered: each entry is added into its coordinate's sum one at a time, in order
        np.add.at(values, np.cumsum(first) - 1, self._vals[order])
        return SparseTensor(self._idx[:, order[first]], values, self._size, True)

    def _linear_index(self):
        """Each entry's coordinates as one number (row-major over the sparse dims): sorting these
        sorts the coordinates lexicographically."""
        sparse_shape = self._size[:self.sparse_dim()]
        if self._nnz() == 0 or not sparse_shape:
            return np.zeros(self._nnz(), np.int64)
        return np.ravel_multi_index(tuple(self._idx), sparse_shape)

    def to_dense(self, dtype=None, *, masked_grad=None):
        """The ordinary tensor it stands for: zeros, plus each entry at its coordinates."""
        dense = np.zeros(self._size, self._vals.dtype)
        add_sparse_into(dense, self)
        t = Tensor._make(dense)
        return t if dtype is None else t.to(dtype)

    # ----- arithmetic -------------------------------------------------------------------------
    def __add__(self, other):
        return self.add(other)

    def add(self, other, *, alpha=1):
        """sparse + sparse is sparse (see `_merge`); sparse + dense is PyTorch's error."""
        if not isinstance(other, SparseTensor):
            if isinstance(other, Tensor):
                raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                                   "instead.")
            raise TypeError(f"add(): argument 'other' (position 1) must be Tensor, not "
                            f"{type_name(other)}")
        return _add_sparse(self, other, alpha)

    def add_(self, other, *, alpha=1):
        """self += other (sparse), in place: self takes the sum's arrays."""
        total = self.add(other, alpha=alpha)
        if total.dtype != self.dtype and not np.can_cast(total.dtype, self.dtype, "same_kind"):
            raise RuntimeError(f"result type {dtype_name(total.dtype)} can't be cast to the "
                               f"desired output type {dtype_name(self.dtype)}")
        self._idx, self._vals = total._idx, total._vals.astype(self.dtype, copy=False)
        self._coalesced = total._coalesced
        self._version += 1
        return self

    def __radd__(self, other):
        """dense + sparse: a new dense tensor (the sparse one coalesced, then added row by row,
        as PyTorch does)."""
        if not isinstance(other, Tensor):
            return NotImplemented
        if tuple(other.shape) != tuple(self._size):
            raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has "
                               f"size {list(other.shape)} while other has size "
                               f"{list(self._size)} (FYI: dense-sparse addition does not "
                               f"currently support broadcasting)")
        dense = other._data.astype(dtypes.promote_types(other.dtype, self.dtype), copy=True)
        add_sparse_into(dense, self)
        return Tensor._make(dense)

    def __neg__(self):
        return SparseTensor(self._idx, -self._vals, self._size, self._coalesced)

    def neg(self):
        return -self

    def __mul__(self, other):
        """Scaling by a number (or a 0-d tensor): the entries are scaled, the coordinates kept."""
        if isinstance(other, Tensor) and not other.is_sparse and other.dim() == 0:
            other = other._data.item()
        elif not isinstance(other, numbers.Number):
            raise NotImplementedError(_NO_DENSE_OP)
        from .ops._util import result_type  # (ops import autograd, which imports this module)

        dtype = result_type(Tensor._make(self._vals), other)  # (2.5 * int entries: float32)
        with np.errstate(all="ignore"):
            values = (self._vals * other).astype(dtype, copy=False)
        return SparseTensor(self._idx, values, self._size, self._coalesced)

    __rmul__ = __mul__
    mul = __mul__

    def zero_(self):
        """Drop every entry (nnz becomes 0), as PyTorch's zero_ of a sparse tensor does."""
        self._idx = np.zeros((self.sparse_dim(), 0), np.int64)
        self._vals = np.zeros((0, *self._vals.shape[1:]), self._vals.dtype)
        self._coalesced = True
        self._version += 1
        return self

    # ----- print ------------------------------------------------------------------------------
    def __repr__(self):
        """PyTorch's print: indices, values, then size, nnz, a dtype that is not the default,
        and the layout (the first of these on a line of its own)."""
        indent = len("tensor(")
        indices = _body(self._idx, indent + len("indices=tensor("))
        values = _body(self._vals, indent + len("values=tensor("))
        out = (f"tensor(indices=tensor({indices}),\n" + " " * indent + f"values=tensor({values})")
        suffixes = [f"size={tuple(self._size)}", f"nnz={self._nnz()}"]
        if self.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool):
            suffixes.append(f"dtype={dtype_name(self.dtype)}")
        suffixes.append(f"layout={sparse_coo!r}")
        last_line = len(out) - out.rfind("\n") + 1  # (PyTorch's arithmetic, as tensor.py's)
        for k, suffix in enumerate(suffixes):
            if k == 0 or last_line + len(suffix) + 2 > PRINT_OPTS.linewidth:
                out += ",\n" + " " * indent + suffix
                last_line = indent + len(suffix)
            else:
                out += ", " + suffix
                last_line += len(suffix) + 2
        return out + ")"


def _body(a, indent):
    """The elements of array `a` as tensor.py prints them, lines indented by `indent`; an empty
    one says its size."""
    if a.size == 0:
        return f"[], size={tuple(a.shape)}"
    summarize = a.size > PRINT_OPTS.threshold
    shown = _shown(a) if summarize else a
    fmt, width = (_float_formatter if a.dtype.kind == "f" else _plain_formatter)(shown)
    return _nested_str(a, indent, summarize, fmt, width)


def add_sparse_into(dense, s):
    """dense += s, in place on the array `dense`: s coalesced, then each entry added at its
    coordinates (unique ones, so one fancy-indexed add does it)."""
    c = s.coalesce()
    if c._nnz():
        dense[tuple(c._idx)] += c._vals


def _add_sparse(t, s, alpha=1):
    """t + alpha * s for two sparse tensors of one shape, as PyTorch's CPU kernel does it: the
    two lists of entries are merged like two sorted lists (the smaller coordinate first; equal
    ones become one entry with the sum), so two coalesced tensors give a coalesced sum, and
    uncoalesced ones an uncoalesced sum in PyTorch's order."""
    if t._size != s._size:
        raise RuntimeError(f"add: expected sizes of 'self' and 'other' to match, but "
                           f"{list(t._size)} != {list(s._size)}")
    dtype = dtypes.promote_types(t.dtype, s.dtype)
    if s._nnz() == 0:
        return SparseTensor(t._idx, t._vals.astype(dtype), t._size, t._coalesced)
    if t._nnz() == 0:
        return SparseTensor(s._idx, (s._vals * alpha).astype(dtype), s._size, s._coalesced)
    if t.sparse_dim() != s.sparse_dim():
        raise RuntimeError(f"add: expected 'self' and 'other' to have same density, but 'self' "
                           f"has {t.sparse_dim()} sparse dimensions while 'other' has "
                           f"{s.sparse_dim()} sparse dimensions")
    tk, sk = t._linear_index().tolist(), s._linear_index().tolist()
    from_t, from_s = [], []  # output position of each entry of t, of s
    i = j = n = 0
    while i < len(tk) or j < len(sk):
        take_t = j == len(sk) or (i < len(tk) and tk[i] <= sk[j])
        take_s = i == len(tk) or (j < len(sk) and sk[j] <= tk[i])
        if take_t:
            from_t.append(n)
            i += 1
        if take_s:
            from_s.append(n)
            j += 1
        n += 1
    indices = np.empty((t.sparse_dim(), n), np.int64)
    indices[:, from_t], indices[:, from_s] = t._idx, s._idx
    values = np.zeros((n, *t._vals.shape[1:]), dtype)
    values[from_t] += t._vals
    values[from_s] += s._vals * np.asarray(alpha, dtype) if alpha != 1 else s._vals
    return SparseTensor(indices, values, t._size, t._coalesced and s._coalesced)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    """A sparse COO tensor with `values[k]` at coordinates `indices[:, k]` (see the module doc).

    indices: (sparse_dim, nnz) integers; values: (nnz, *dense shape); size: the full shape
    (default: just large enough for the coordinates). The coordinates are always checked to be
    within size (PyTorch checks them only with check_invariants=True).
    """
    check_device(device)
    if requires_grad:
        raise NotImplementedError("numpy2gpt's sparse tensors take no part in autograd: "
                                  "sparse_coo_tensor(requires_grad=True) is not supported")
    idx = _to_array(indices).astype(np.int64)  # (cast as PyTorch casts them)
    if idx.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(idx.shape)}")
    vals = np.array(_to_array(values, dtype), copy=True)
    if vals.ndim == 0:
        vals = vals.reshape(1)
    if idx.shape[1] != vals.shape[0]:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{idx.shape[1]}, nnz from values: {vals.shape[0]}")
    sparse_dim, dense_shape = idx.shape[0], vals.shape[1:]
    if size is None:
        counts = idx.max(axis=1) + 1 if idx.shape[1] else np.zeros(sparse_dim, np.int64)
        size = (*counts.tolist(), *dense_shape)
    elif not isinstance(size, tuple | list):
        raise TypeError(f"sparse_coo_tensor(): argument 'size' must be tuple of ints, not "
                        f"{type_name(size)}")
    size = tuple(int(s) for s in size)
    if len(size) != sparse_dim + len(dense_shape):
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = "
                           f"{len(size)}, sparse_dim = {sparse_dim}, dense_dim = "
                           f"{len(dense_shape)}")
    if size[sparse_dim:] != dense_shape:
        expected = [vals.shape[0], *size[sparse_dim:]]
        raise RuntimeError(f"values has incorrect size, expected {expected}, got "
                           f"{list(vals.shape)}")
    for d in range(sparse_dim if idx.shape[1] else 0):
        low, high = int(idx[d].min()), int(idx[d].max())
        if low < 0:
            raise RuntimeError(f"found negative index {low} for dim {d}")
        if high >= size[d]:
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is "
                               f"{size[d]} but found index {high}")
    coalesced = idx.shape[1] < 2 if is_coalesced is None else is_coalesced
    return SparseTensor(idx, vals, size, coalesced)


def embedding_grad(gy, indices, num_embeddings, padding_idx):
    """The gradient of weight[indices] as PyTorch's embedding(sparse=True) gives it: one entry
    per looked-up index (repeats kept, so uncoalesced), whose value is that output row's
    gradient; lookups of the padding row are left out."""
    dim = gy.shape[-1]
    rows = indices.reshape(-1).astype(np.int64)
    values = gy.reshape(-1, dim)
    if padding_idx is not None:
        keep = rows != padding_idx
        rows, values = rows[keep], values[keep]
    if values.base is not None:  # .grad must own its memory (optimizers keep it)
        values = values.copy()
    return SparseTensor(rows.reshape(1, -1), values, (num_embeddings, dim), rows.size < 2)


def _dense_to_dense(self, dtype=None, *, masked_grad=None):
    """A dense tensor's to_dense(): itself (or a copy in `dtype`)."""
    return self if dtype is None else self.to(dtype)


# Every tensor has a layout: a dense one is strided.
Tensor.is_sparse = False
Tensor.layout = strided
Tensor.to_dense = _dense_to_dense

__all__ = ["layout", "strided", "sparse_coo", "sparse_coo_tensor"]
