"""linear and embedding: the two ops that hold most of a transformer's parameters.

linear:    y = x @ W^T + b over any leading dims.
embedding: y = W[idx], a row lookup. Its backward adds each output row's gradient into the row of
           W it came from (rows looked up twice get both gradients); with sparse=True it is a
           sparse tensor of just those rows (numpy2gpt/sparse.py). Two options of PyTorch's:
           max_norm first scales the looked-up rows of W down in place (embedding_renorm_, an
           edit of the table, not a step of the graph), and scale_grad_by_freq divides each
           row's gradient by how often the batch looks it up.
Both are FusedFunctions: argument checks here, the math in numpy2gpt/kernels/linear.py and
numpy2gpt/kernels/embedding.py (the textbook formulas and the fast kernels beside them).
"""

import numpy as np

from ...autograd.function import _TENSOR_TYPES, FusedFunction
from ...dtypes import dtype_name
from ...kernels.embedding import embedding_backward, embedding_forward
from ...kernels.linear import linear_backward, linear_forward
from ...ops._util import require_tensor
from ...ops.creation import arange
from ...ops.indexing import where
from ...ops.inplace import _check_inplace, _record, _records
from ...ops.linalg import check_same_dtype
from ...ops.selection import _NoDerivative
from ...ops.stats import _vector_norm_array
from ...sparse import embedding_grad
from ...tensor import Tensor, type_name
from .batchnorm import _number

SPARSE_FREQ_ERROR = "embedding_backward: scale_grad_by_freq not supported with sparse gradients"


class LinearFunction(FusedFunction):
    """y = x @ W^T (+ b): x (..., in), W (out, in), optional b (out,) (or broadcastable)."""

    def __init__(self, x, bias):
        self.grad_fn_name = _linear_node_name(x, bias)

    def forward(self, x, weight, bias=None):
        y, self.x2 = linear_forward(x, weight, bias)
        self.weight = weight
        return y

    def backward(self, gy):
        need = self.needs_input_grad
        bias_shape = self.inputs[2].shape if len(need) == 3 else None
        gx, gw, gb = linear_backward(gy, self.x2, self.weight, self.inputs[0].shape, bias_shape,
                                     need + (False,) * (3 - len(need)))
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)

    def composed(self, x, weight, bias=None):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        y = x @ weight.mT
        return y if bias is None else y + bias


def linear(input, weight, bias=None):
    """Apply y = x W^T + b (PyTorch's `torch.nn.functional.linear`)."""
    x = require_tensor(input, "linear", "input", 1)
    w = require_tensor(weight, "linear", "weight", 2)
    params = (x, w) if bias is None else (x, w, require_tensor(bias, "linear", "bias", 3))
    if x.ndim == 0 or w.ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                           f"{x.ndim}D and {w.ndim}D")
    if bias is None:
        check_same_dtype(x, w)
    else:  # PyTorch's addmm: the bias ("self") against the weight first, then the input
        for name, t in (("self", params[2]), ("mat1", x)):
            if t.dtype != w.dtype:
                raise RuntimeError(f"{name} and mat2 must have the same dtype, but got "
                                   f"{_TENSOR_TYPES[t.dtype.name]} and "
                                   f"{_TENSOR_TYPES[w.dtype.name]}")
    for name, t in zip(("input", "weight", "bias"), params):
        if t.dtype.kind != "f":
            raise RuntimeError(f"linear: expected floating point tensors, but {name} has dtype "
                               f"{dtype_name(t.dtype)}")
    if w.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                           f"{list(w.shape)}")
    if x.shape[-1] != w.shape[1]:
        n = int(np.prod(x.shape[:-1], dtype=np.int64))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{x.shape[-1]} and "
                           f"{w.shape[1]}x{w.shape[0]})")
    if bias is not None and (params[2].ndim > 1 or params[2].numel() not in (1, w.shape[0])):
        raise RuntimeError(f"linear: bias of shape {list(params[2].shape)} does not match "
                           f"out_features = {w.shape[0]} (expected shape [{w.shape[0]}])")
    return LinearFunction(x, bias)(*params)


def _linear_node_name(x, bias):
    """PyTorch's node for linear, named after the last kernel it runs: x @ W^T is an mm (a
    vector's result squeezed back, a batch's viewed back); with a bias, an addmm (a batch or a
    vector viewed back, when contiguous and with a 1-D bias), else the matmul plus an add."""
    if bias is None:
        return {1: "SqueezeBackward4", 2: "MmBackward0"}.get(x.ndim, "UnsafeViewBackward0")
    if x.ndim == 2:
        return "AddmmBackward0"
    return "ViewBackward0" if bias.ndim == 1 and x.is_contiguous() else "AddBackward0"


class EmbeddingFunction(FusedFunction):
    """y = weight[indices]: one row of `weight` per index; indices may have any shape."""

    grad_fn_name = "EmbeddingBackward0"

    def __init__(self, padding_idx=None, sparse=False, scale_grad_by_freq=False):
        self.padding_idx, self.sparse = padding_idx, sparse
        self.scale_grad_by_freq = scale_grad_by_freq

    def forward(self, indices, weight):
        self.indices, self.num_embeddings = indices, weight.shape[0]
        return embedding_forward(indices, weight)

    def backward(self, gy):
        if self.scale_grad_by_freq:
            if self.sparse:  # PyTorch's sparse kernel has no frequency scaling
                raise RuntimeError(SPARSE_FREQ_ERROR)
            # Output row i adds gy[i] / count(indices[i]) to its row: PyTorch's factor, 1 / count
            # in float64 rounded to the dtype once, applied to each term of the sum.
            gy = gy * (1 / self._counts()[self.indices]).astype(gy.dtype)[..., None]
        if self.sparse:  # only the looked-up rows: a sparse COO gradient (numpy2gpt/sparse.py)
            return None, embedding_grad(gy, self.indices, self.num_embeddings, self.padding_idx)
        return None, embedding_backward(gy, self.indices, self.num_embeddings, self.padding_idx)

    def _counts(self):
        """How often each row of the table is looked up."""
        return np.bincount(self.indices.reshape(-1), minlength=self.num_embeddings)

    def _check_versions(self):
        """Backward reads the indices and only the shape of the weight: an in-place edit of the
        weight since the lookup (another lookup's max_norm, an optimizer step) is no error, as
        in PyTorch."""
        self.saved_input(0)

    def composed(self, indices, weight):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        if self.scale_grad_by_freq:
            if self.sparse:
                raise RuntimeError(SPARSE_FREQ_ERROR)
            weight = freq_scaled_grad(weight, self._counts())
        if self.padding_idx is not None:  # the padding row takes part, but gets no gradient
            is_pad = arange(weight.shape[0]).unsqueeze(1) == self.padding_idx
            weight = where(is_pad, weight.detach(), weight)
        return weight[indices]


def freq_scaled_grad(weight, counts):
    """`weight` with the same values, whose gradient reaching row r is divided by counts[r]
    (rows never looked up keep theirs): scale_grad_by_freq in differentiable ops, as
    w.detach() + (w - w.detach()) / count, whose value is exactly w."""
    inv = Tensor._make((1 / np.maximum(counts, 1)).astype(weight.dtype)[:, None])
    return weight.detach() + (weight - weight.detach()) * inv


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Look up rows of `weight` (num_embeddings, dim) for integer `input` of any shape.

    Output shape: input.shape + (dim,). `padding_idx` (may be negative) names a row that gets no
    gradient. `max_norm`: each row the input looks up whose `norm_type`-norm is above max_norm
    is first scaled down to that norm, in place (see embedding_renorm_). `scale_grad_by_freq`:
    each row's gradient is divided by how often the input looks it up. With `sparse=True` the
    weight's gradient is a sparse COO tensor that holds only the looked-up rows (for
    optim.SparseAdam or SGD); it does not go with scale_grad_by_freq (an error in backward, as
    in PyTorch).
    """
    idx = require_tensor(input, "embedding", "indices", 2)
    w = require_tensor(weight, "embedding", "weight", 1)
    if padding_idx is not None and w.ndim and not -w.shape[0] <= padding_idx < w.shape[0]:
        raise AssertionError("Padding_idx must be within num_embeddings")
    if max_norm is not None:  # PyTorch renormalises before torch.embedding checks its arguments
        embedding_renorm_(w.detach(), idx, max_norm, norm_type)
    if padding_idx is not None and not isinstance(padding_idx, int | np.integer):
        raise TypeError(f"embedding(): argument 'padding_idx' (position 3) must be int, not "
                        f"{type(padding_idx).__name__}")
    for name, flag, position in (("scale_grad_by_freq", scale_grad_by_freq, 4),
                                 ("sparse", sparse, 5)):
        if type(flag) is not bool:  # PyTorch's parser takes a bool, not 0/1 nor numpy.bool
            raise TypeError(f"embedding(): argument '{name}' (position {position}) must be "
                            f"bool, not {type_name(flag)}")
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"embedding: expected integer indices (numpy2gpt.int64 or int32) as "
                           f"input, but got {dtype_name(idx.dtype)}")
    if w.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D (num_embeddings, embedding_dim), got "
                           f"shape {list(w.shape)}")
    num = w.shape[0]
    if idx.numel():
        lo, hi = int(idx._data.min()), int(idx._data.max())
        if lo < 0 or hi >= num:
            bad = lo if lo < 0 else hi
            raise IndexError(f"embedding: index {bad} is out of range for num_embeddings = {num} "
                             f"(valid indices are 0 to {num - 1})")
    if padding_idx is not None:
        padding_idx %= num
    return EmbeddingFunction(padding_idx, sparse, scale_grad_by_freq)(idx, w)


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Scale down, in place, each row of `input` that `indices` looks up and whose
    norm_type-norm is above max_norm, to norm max_norm (PyTorch's torch.embedding_renorm_, which
    F.embedding and F.embedding_bag call on the detached weight for max_norm): the row is
    multiplied by max_norm / (norm + 1e-7), the guard against a zero norm. The table's version
    counts one edit, however many rows change. Returns input.

    PyTorch walks the distinct indices in sorted order and selects each row, so an index below
    -num_embeddings fails before any change, one above the last row after the rows before it
    have been rescaled, and a negative index in range rescales the row it selects from the end.
    On a tensor in a graph (not a leaf) the edit is recorded with no derivative, as PyTorch's.
    """
    w = require_tensor(input, "embedding_renorm_", "input", 1)
    idx = require_tensor(indices, "embedding_renorm_", "indices", 2)
    max_norm, norm_type = (_number(v, "embedding_renorm_", name, pos) for v, name, pos in
                           ((max_norm, "max_norm", 3), (norm_type, "norm_type", 4)))
    _check_inplace(w)  # a leaf that requires grad is refused in grad mode
    if w.ndim != 2:
        raise RuntimeError(f"Expected 2-dimensional tensor, but got {w.ndim}-dimensional tensor "
                           "for argument #1 'self' (while checking arguments for "
                           "embedding_renorm_)")
    if idx.dtype not in (np.int64, np.int32):
        kind = _TENSOR_TYPES.get(idx.dtype.name, idx.dtype.name)
        raise RuntimeError("Expected tensor for argument #2 'indices' to have one of the following "
                           f"scalar types: Long, Int; but got torch.{kind}Tensor instead (while "
                           "checking arguments for embedding_renorm_)")
    ids = np.unique(idx._data)  # the distinct indices, sorted: PyTorch's walk
    if _records(w):
        return _record(w, lambda old: _NoDerivative(
            "embedding_renorm", "EmbeddingRenormBackward0",
            _renorm_rows(old._data.copy(), ids, max_norm, norm_type))(old))
    _renorm_rows(w._data, ids, max_norm, norm_type)
    w._version += 1
    return w


def _renorm_rows(w, ids, max_norm, norm_type):
    """embedding_renorm_'s work on the array w, in place, for the sorted distinct indices ids."""
    num = w.shape[0]
    if ids.size and not -num <= ids[0] < num:
        raise IndexError(_select_error(ids[0], w))
    if ids.size and w.dtype.kind != "f":
        raise RuntimeError("norm(): input dtype should be either floating point or complex. Got "
                           f"{_TENSOR_TYPES.get(w.dtype.name, w.dtype.name)} instead.")
    for rows in (ids[ids < 0] + num, ids[(ids >= 0) & (ids < num)]):  # each part: distinct rows
        norms = _vector_norm_array(w[rows], norm_type, 1, False).astype(np.float64)
        over = norms > max_norm
        rows, scale = rows[over], max_norm / (norms[over] + 1e-7)
        w[rows] *= scale.astype(w.dtype)[:, None]  # PyTorch's `row *= scale`, in w's dtype
    if ids.size and ids[-1] >= num:
        raise IndexError(_select_error(ids[ids >= num][0], w))
    return w


def _select_error(index, w):
    return (f"select(): index {index} out of range for tensor of size {list(w.shape)} at "
            "dimension 0")


__all__ = ["linear", "embedding"]
