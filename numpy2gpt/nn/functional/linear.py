"""linear and embedding: the two ops that hold most of a transformer's parameters.

linear:    y = x @ W^T + b over any leading dims. x is viewed as one (N, in) matrix (N = the
           product of the leading dims), so forward and backward are each a single 2-D GEMM - much
           faster than a batched matmul over (B, T, in).
embedding: y = W[idx], a row lookup. Its backward adds each output row's gradient into the row of
           W it came from (rows looked up twice get both gradients).
Both are FusedFunctions: backward works on NumPy arrays with the formulas written out below.
"""

import math

import numpy as np

from ...autograd.function import FusedFunction
from ...dtypes import dtype_name
from ...kernels.rows import ones_vector
from ...ops._util import sum_to_array
from ...ops.linalg import check_same_dtype
from ...tensor import as_tensor


class Linear(FusedFunction):
    """y = x @ W^T (+ b): x (..., in), W (out, in), optional b (out,) (or broadcastable)."""

    def forward(self, x, weight, bias=None):
        n, k = math.prod(x.shape[:-1]), x.shape[-1]
        x2 = x.reshape(n, k)  # a view for contiguous x: no copy
        y = x2 @ weight.T
        if bias is not None:
            y += bias  # y is our fresh array, so adding in place is safe
        self.x2, self.weight = x2, weight
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    def backward(self, gy):
        gy2 = gy.reshape(-1, gy.shape[-1])  # (N, out)
        need = self.needs_input_grad
        # y = x W^T  =>  dL/dx = gy W,  dL/dW = gy^T x,  dL/db = column sums of gy
        gx = (gy2 @ self.weight).reshape(self.inputs[0].shape) if need[0] else None
        gw = gy2.T @ self.x2 if need[1] else None
        if len(need) == 2:
            return gx, gw
        gb = None
        if need[2]:
            # A vector-matrix product with ones sums the columns several times faster than
            # gy2.sum(axis=0) (it runs in BLAS).
            gb = sum_to_array(ones_vector(gy2.shape[0], gy2.dtype) @ gy2, self.inputs[2].shape)
        return gx, gw, gb


def linear(input, weight, bias=None):
    """Apply y = x W^T + b (PyTorch's `torch.nn.functional.linear`)."""
    x, w = as_tensor(input), as_tensor(weight)
    params = (x, w) if bias is None else (x, w, as_tensor(bias))
    check_same_dtype(x, w)
    for name, t in zip(("input", "weight", "bias"), params):
        if t.dtype.kind != "f":
            raise RuntimeError(f"linear: expected floating point tensors, but {name} has dtype "
                               f"{dtype_name(t.dtype)}")
        if t.dtype != x.dtype:
            raise RuntimeError(f"linear: expected input and {name} to have the same dtype, but "
                               f"got: {dtype_name(x.dtype)} != {dtype_name(t.dtype)}")
    if w.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                           f"{list(w.shape)}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        n = int(np.prod(x.shape[:-1], dtype=np.int64)) if x.ndim else 1
        k = x.shape[-1] if x.ndim else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and "
                           f"{w.shape[1]}x{w.shape[0]}): input of shape {list(x.shape)}, weight "
                           f"of shape {list(w.shape)}")
    if bias is not None and (params[2].ndim > 1 or params[2].numel() not in (1, w.shape[0])):
        raise RuntimeError(f"linear: bias of shape {list(params[2].shape)} does not match "
                           f"out_features = {w.shape[0]} (expected shape [{w.shape[0]}])")
    return Linear()(*params)


# Embedding tables with at most this many rows get their gradient from one one-hot GEMM.
ONE_HOT_MAX_ROWS = 256


class Embedding(FusedFunction):
    """y = weight[indices]: one row of `weight` per index; indices may have any shape."""

    def __init__(self, padding_idx=None):
        self.padding_idx = padding_idx

    def forward(self, indices, weight):
        self.indices, self.weight_shape = indices, weight.shape
        return weight[indices]  # fancy indexing returns a fresh array

    def backward(self, gy):
        # dL/dW[r] = the sum of the gy rows whose index is r.
        idx = self.indices.reshape(-1)
        num, dim = self.weight_shape
        g2 = gy.reshape(idx.size, dim)
        gw = None
        if idx.size and num <= ONE_HOT_MAX_ROWS:
            # A small table (a character vocabulary, positions): one GEMM, onehot^T @ gy, with
            # onehot[i, idx[i]] = 1 - about 2x faster than sorting. A non-finite gy would leak
            # 0 * inf = NaN into every row, so such a gradient takes the sorting path.
            onehot = np.zeros((idx.size, num), dtype=gy.dtype)
            onehot[np.arange(idx.size), idx] = 1
            with np.errstate(invalid="ignore"):  # 0 * inf: checked just below
                gw = onehot.T @ g2
            if not np.isfinite(gw).all():
                gw = None
        if gw is None:
            # Sorting the indices puts equal ones next to each other, so one np.add.reduceat
            # sums each run - several times faster than the unbuffered np.add.at(gw, idx, gy).
            gw = np.zeros(self.weight_shape, dtype=gy.dtype)
            if idx.size:
                order = np.argsort(idx, kind="stable")
                sorted_idx = idx[order]
                starts = np.flatnonzero(np.r_[True, sorted_idx[1:] != sorted_idx[:-1]])
                gw[sorted_idx[starts]] = np.add.reduceat(g2[order], starts, axis=0)
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0  # the padding row is never trained
        return None, gw


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Look up rows of `weight` (num_embeddings, dim) for integer `input` of any shape.

    Output shape: input.shape + (dim,). `padding_idx` (may be negative) names a row that gets no
    gradient. `max_norm`, `scale_grad_by_freq` and `sparse` are not supported.
    """
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not "
                                  "supported by numpy2gpt")
    idx, w = as_tensor(input), as_tensor(weight)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: expected integer indices (numpy2gpt.int64 or int32) as "
                           f"input, but got {dtype_name(idx.dtype)}")
    if w.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D (num_embeddings, embedding_dim), got "
                           f"shape {list(w.shape)}")
    num = w.shape[0]
    if idx.numel():
        lo, hi = int(idx.data.min()), int(idx.data.max())
        if lo < 0 or hi >= num:
            bad = lo if lo < 0 else hi
            raise IndexError(f"embedding: index {bad} is out of range for num_embeddings = {num} "
                             f"(valid indices are 0 to {num - 1})")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError(f"Padding_idx must be within num_embeddings: got padding_idx = "
                                 f"{padding_idx} for num_embeddings = {num}")
        padding_idx %= num
    return Embedding(padding_idx)(idx, w)


__all__ = ["linear", "embedding"]
