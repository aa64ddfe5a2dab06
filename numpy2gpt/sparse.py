"""Sparse COO tensors: what nn.Embedding(sparse=True) and a graph's adjacency matrix need.

A sparse tensor of shape (5, 3) that holds rows 1 and 4 keeps only those: `indices` (sparse_dim,
nnz) int64, the coordinates of each stored entry, and `values` (nnz, *dense shape), the entry
itself. For an embedding's gradient sparse_dim is 1 and each entry is a whole row, so a table of
a million rows gets a gradient as large as the batch, not as the table.

The same coordinate may appear more than once ("uncoalesced"): the entries then add up. That is
how an embedding's gradient comes out (one entry per looked-up id, repeats included) and how two
gradients are summed cheaply. `coalesce()` sorts the coordinates and sums the repeats, which an
update that is not linear in the gradient (SparseAdam's) needs first.

The subset here: building one (`sparse_coo_tensor`, `Tensor.to_sparse()`), its facts (shape,
dtype, `_nnz()`, `sparse_dim()`, `_indices()`, `_values()`, ...), `coalesce()`, `to_dense()`,
`.t()` / `.transpose()`, adding two (as a gradient accumulates), `dense + sparse`, negation and
scaling by a number, `zero_()`, `torch.sparse.sum`, PyTorch's print, and the product of a 2-D
sparse matrix with a dense one (`torch.sparse.mm`, `torch.mm`, `@`, `torch.matmul`,
`torch.spmm`, `torch.sparse.addmm`: a graph network's "aggregate over the neighbours").

Sparse tensors take no part in autograd (no grad_fn, no requires_grad), but the product is
differentiable in its dense argument: dL/dD of S @ D is S^T @ dL/dy. So a sparse tensor cannot be
built from values that require grad (PyTorch would differentiate through it; here the gradient
would be lost silently, so it is an error): detach them, or build the dense matrix with
index_put / scatter, which numpy2gpt differentiates. Any other op is PyTorch's
NotImplementedError for the 'SparseCPU' backend: call `.to_dense()` first.
"""

import numbers

import numpy as np

from . import dtypes
from .autograd.function import Function
from .autograd.grad_mode import is_grad_enabled
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
                "numpy2gpt's sparse tensors support only to_dense(), coalesce(), addition, "
                "scaling and a 2-D one times a dense matrix (call .to_dense() first)")

# PyTorch differentiates through building a sparse tensor; numpy2gpt's would drop the gradient
_LOST_GRAD = ("{op} grad, but numpy2gpt's sparse tensors take no part in autograd, so the "
              "gradient would be lost: use .detach() (or torch.no_grad()) if none is needed, or "
              "build the dense matrix with index_put / scatter, which numpy2gpt differentiates")


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

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        """Itself: it is sparse already (with as many sparse dims)."""
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError("to_sparse: conversion from Sparse to Sparse with sparse_dim "
                               "argument !=self.sparse_dim() is not supported")
        return self

    # ----- transpose --------------------------------------------------------------------------
    def transpose(self, dim0, dim1):
        """The two sparse dims swapped: only the rows of `indices` (and the size) swap, the
        entries keep their order, so the result is no longer sorted (not coalesced)."""
        for position, d in ((1, dim0), (2, dim1)):
            if type(d) is not int:
                _int_arg(d, "transpose", f"dim{position - 1}", position)
        d0, d1 = _check_dim(dim0, self.dim()), _check_dim(dim1, self.dim())
        if max(d0, d1) >= self.sparse_dim():
            raise RuntimeError(f"sparse transpose: transposed dimensions must be sparse Got "
                               f"sparse_dim: {self.sparse_dim()}, d0: {d0}, d1: {d1}")
        order = list(range(self.sparse_dim()))
        order[d0], order[d1] = d1, d0
        size = list(self._size)
        size[d0], size[d1] = size[d1], size[d0]
        coalesced = self._coalesced if d0 == d1 else self._nnz() == 0
        return SparseTensor(self._idx[order], self._vals, size, coalesced)

    def t(self):
        """A 2-D sparse matrix transposed (a 0-d or 1-d one as it is)."""
        if self.sparse_dim() > 2 or self.dense_dim() > 0:
            raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, "
                               f"but got {self.sparse_dim()} sparse and {self.dense_dim()} dense "
                               f"dimensions")
        return self.transpose(0, 1) if self.dim() == 2 else self.detach()

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
    if isinstance(values, Tensor) and values.requires_grad and is_grad_enabled():
        raise RuntimeError(_LOST_GRAD.format(op="sparse_coo_tensor(): values require"))
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


# ----- sparse @ dense ---------------------------------------------------------------------------
def _product_into(out, rows, cols, values, dense):
    """out[rows[k]] += values[k] * dense[cols[k]] for every stored entry k, as PyTorch's CPU
    kernel adds them: in stored order (repeated coordinates one at a time, not summed first),
    each step one multiply-add rounded once (its BLAS axpy fuses them: float32 through float64,
    where the product is exact; other dtypes unfused). The k-th entries of different rows touch
    different rows, so they are added at once: as many steps as the fullest row has entries."""
    if rows.size == 0:
        return out
    by_row = np.argsort(rows, kind="stable")
    sorted_rows = rows[by_row]
    new_row = np.r_[True, sorted_rows[1:] != sorted_rows[:-1]]
    row_start = np.maximum.accumulate(np.where(new_row, np.arange(rows.size), 0))
    rank = np.empty(rows.size, np.int64)  # entry k is the rank[k]-th of its row
    rank[by_row] = np.arange(rows.size) - row_start
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_rank], np.arange(rank.max() + 2))
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        k = by_rank[lo:hi]
        r, v, d = rows[k], values[k, None], dense[cols[k]]
        if out.dtype == np.float32:
            out[r] = (out[r].astype(np.float64) + v.astype(np.float64) * d).astype(np.float32)
        else:
            out[r] = out[r] + v * d
    return out


class SparseAddmm(Function):
    """y = beta * input + alpha * (S @ dense) for a 2-D sparse matrix S that the node holds (it
    takes no part in autograd); `input` (already broadcast to y's shape) is optional.

    y is linear in both inputs: dL/dinput = beta * dL/dy, and dL/ddense = alpha * S^T @ dL/dy,
    the same product with S transposed (its entries in the same stored order, as PyTorch's).
    """

    grad_fn_name = "SparseAddmmBackward0"
    saves_values = False  # backward needs S, which the node holds, not the inputs

    def __init__(self, sparse, beta=0, alpha=1):
        self.sparse, self.beta, self.alpha = sparse.detach(), beta, alpha

    def forward(self, dense, input=None):
        s = self.sparse
        dtype = dense.dtype
        if input is None or self.beta == 0:  # (beta 0 ignores input, NaN and inf included)
            out = np.zeros((s.shape[0], dense.shape[1]), dtype)
        else:
            out = input * np.asarray(self.beta).astype(dtype)
        values = s._vals if self.alpha == 1 else s._vals * np.asarray(self.alpha).astype(dtype)
        return _product_into(out, s._idx[0], s._idx[1], values, dense)

    def backward(self, gy):
        from .ops.arithmetic import mul

        g_dense = g_input = None
        if self.needs_input_grad[0]:
            g_dense = SparseAddmm(self.sparse.t(), 0, self.alpha)(gy)
        if len(self.inputs) == 1:
            return g_dense
        if self.needs_input_grad[1]:
            g_input = mul(gy, self.beta)
        return g_dense, g_input


def _check_product(sparse, dense, op, position=2, name="dense"):
    """PyTorch's errors for sparse @ dense: a 2-D sparse matrix of numbers times a 2-D dense
    matrix of the same dtype whose rows match the sparse matrix's columns."""
    from .ops.linalg import _type

    if not isinstance(dense, Tensor) or dense.is_sparse:
        if isinstance(dense, SparseTensor):
            raise NotImplementedError("numpy2gpt multiplies a sparse matrix by a dense one only "
                                      "(call .to_dense() on the second)")
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not "
                        f"{type_name(dense)}")
    if sparse.sparse_dim() != 2:
        raise RuntimeError(f"addmm: matrices expected, got {sparse.sparse_dim()}D tensor")
    if sparse.dense_dim() != 0:
        raise RuntimeError(f"addmm: scalar values expected, got {sparse.dense_dim()}D values")
    if dense.ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(dense.ndim, 1)}, {max(dense.ndim, 1) - 1}], but got 1)")
    if dense.ndim > 2:
        raise RuntimeError(f"addmm: matrices expected, got {dense.ndim}D tensor")
    if dense.shape[0] != sparse.shape[1]:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {sparse.shape[1]}, "
                           f"got {dense.shape[0]}")
    if dense.dtype != sparse.dtype:
        raise RuntimeError(f"expected scalar type {_type(sparse)} but found {_type(dense)}")
    if sparse.dtype == dtypes.bool:
        raise NotImplementedError("\"addmm_sparse_dense\" not implemented for 'Bool'")


def mm(sparse, dense):
    """torch.sparse.mm: the 2-D sparse matrix times a dense matrix, a dense matrix.
    Differentiable in `dense` (see SparseAddmm)."""
    if not isinstance(sparse, SparseTensor):
        from .ops.linalg import mm as dense_mm

        return dense_mm(sparse, dense)
    _check_product(sparse, dense, "_sparse_mm")
    return SparseAddmm(sparse)(dense)


def addmm(input, mat1, mat2, *, beta=1.0, alpha=1.0):
    """torch.sparse.addmm: beta * input + alpha * (mat1 @ mat2) for a sparse mat1, input
    broadcast to the product's shape. Differentiable in input and mat2."""
    from .ops.linalg import _type
    from .ops.shape import broadcast_to

    if not isinstance(mat1, SparseTensor):
        from .ops.linalg import addmm as dense_addmm

        return dense_addmm(input, mat1, mat2, beta=beta, alpha=alpha)
    if not isinstance(input, Tensor):
        raise TypeError(f"_sparse_addmm(): argument 'input' (position 1) must be Tensor, not "
                        f"{type_name(input)}")
    _check_product(mat1, mat2, "_sparse_addmm", 3, "mat2")
    if input.dtype != mat1.dtype:
        raise RuntimeError(f"expected scalar type {_type(mat1)} but found {_type(input)}")
    beta, alpha = (v.item() if isinstance(v, Tensor) else v for v in (beta, alpha))
    input = broadcast_to(input, (mat1.shape[0], mat2.shape[1]))
    return SparseAddmm(mat1, beta, alpha)(mat2, input)


def sparse_matmul(sparse, other, op):
    """sparse @ dense for torch.mm ("mm") and torch.matmul / @ ("matmul"): the product of
    torch.sparse.mm, its node named as PyTorch names these (MmBackward0, MvBackward0). matmul
    also takes a vector (a one-column matrix)."""
    from .ops._util import renamed

    if op == "matmul" and sparse.dim() != 2:
        raise NotImplementedError(_NO_DENSE_OP)
    if op == "matmul" and isinstance(other, Tensor) and not other.is_sparse and other.ndim != 2:
        if other.ndim == 0:
            raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                               f"{sparse.dim()}D and 0D")
        if other.ndim > 2:
            raise RuntimeError("expand is unsupported for Sparse tensors")
        if other.shape[0] != sparse.shape[1]:
            raise RuntimeError("mv: expected self.size(-1) == vec.size(-1)")
        return renamed(sparse_matmul(sparse, other.unsqueeze(1), op).squeeze(1), "MvBackward0")
    _check_product(sparse, other, op, name="other" if op == "matmul" else "mat2")
    return renamed(SparseAddmm(sparse)(other), "MmBackward0")


def spmm(input, mat2):
    """torch.spmm: torch.mm under its older name (for a sparse or a dense input)."""
    from .ops.linalg import mm as any_mm

    return any_mm(input, mat2)


# ----- sum --------------------------------------------------------------------------------------
def sum(input, dim=None, dtype=None):
    """torch.sparse.sum: the sum of all entries (a dense 0-d tensor), or over the dims `dim`.
    Summing every sparse dim gives a dense tensor (of the dense dims left), else a sparse one
    (coalesced). Repeated coordinates are summed first (coalesce), as PyTorch does."""
    from .ops._util import normalize_dims

    if not isinstance(input, SparseTensor):
        raise RuntimeError("coalesce expected sparse coordinate tensor layout but got Strided")
    if dim is None:
        return Tensor._make(input.coalesce()._vals).sum(dtype=dtype)
    if isinstance(dim, numbers.Number) and not isinstance(dim, numbers.Integral):
        raise TypeError(f"_sparse_sum(): argument 'dim' must be tuple of ints, not "
                        f"{type_name(dim)}")
    dims = normalize_dims(dim, input.dim(), "_sparse_sum", 2)
    values = input._vals if dtype is None else input._vals.astype(dtype)
    sparse_dim = input.sparse_dim()
    summed_sparse = [d for d in dims if d < sparse_dim]
    dense_axes = tuple(d - sparse_dim + 1 for d in dims if d >= sparse_dim)
    if dense_axes:  # (a sum promotes integers to int64)
        values = Tensor._make(values).sum(dense_axes)._data
    if len(summed_sparse) == sparse_dim:
        return Tensor._make(values).sum(0)
    kept = [d for d in range(input.dim()) if d not in dims]
    size = [input._size[d] for d in kept]
    indices = input._idx[[d for d in kept if d < sparse_dim]]
    return SparseTensor(indices, values, size, False).coalesce()


# ----- dense -> sparse --------------------------------------------------------------------------
def _dense_to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """A dense tensor's to_sparse(): a coalesced COO tensor of its nonzero entries (along the
    first `sparse_dim` dims: an entry is a slice of the rest that is not all zero)."""
    if layout is strided:
        return self
    if layout not in (None, sparse_coo) or blocksize is not None:
        raise NotImplementedError("numpy2gpt's to_sparse() makes sparse COO tensors only")
    if self.requires_grad and is_grad_enabled():
        raise RuntimeError(_LOST_GRAD.format(op="to_sparse(): the tensor requires"))
    ndim = self.dim()
    if sparse_dim is None:
        sparse_dim = ndim if dense_dim is None else ndim - dense_dim
    elif type(sparse_dim) is not int:
        raise TypeError(f"to_sparse(): argument 'sparse_dim' (position 1) must be int, not "
                        f"{type_name(sparse_dim)}")
    if not 0 <= sparse_dim <= ndim:
        raise RuntimeError(f"dense_to_sparse: sparse_dim argument must be in [0,{ndim}] range, "
                           f"but {sparse_dim} is given")
    if sparse_dim == 0 and ndim > 0:
        raise RuntimeError("dense_to_sparse: sparse_dim argument must be in >0 when "
                           "self.dim()>0")
    a = self._data
    if ndim == 0:  # one entry, or none if it is zero
        values = a.reshape(1)[:int(a != 0)]
        return SparseTensor(np.zeros((0, values.size), np.int64), values, (), True)
    nonzero = (a != 0).reshape(*a.shape[:sparse_dim], -1).any(-1)  # (NaN is nonzero)
    coords = np.nonzero(nonzero)  # in row-major order: sorted, so coalesced
    return SparseTensor(np.array(coords, np.int64), a[coords], a.shape, True)


def _dense_to_dense(self, dtype=None, *, masked_grad=None):
    """A dense tensor's to_dense(): itself (or a copy in `dtype`)."""
    return self if dtype is None else self.to(dtype)


# Every tensor has a layout: a dense one is strided.
Tensor.is_sparse = False
Tensor.layout = strided
Tensor.to_dense = _dense_to_dense
Tensor.to_sparse = _dense_to_sparse

__all__ = ["layout", "strided", "sparse_coo", "sparse_coo_tensor"]
