"""linear and embedding: the two ops that hold most of a transformer's parameters.

linear:    y = x @ W^T + b over any leading dims.
embedding: y = W[idx], a row lookup. Its backward adds each output row's gradient into the row of
           W it came from (rows looked up twice get both gradients); with sparse=True it is a
           sparse tensor of just those rows (numpy2gpt/sparse.py).
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
from ...ops.linalg import check_same_dtype
from ...sparse import embedding_grad


class LinearFunction(FusedFunction):
    """y = x @ W^T (+ b): x (..., in), W (out, in), optional b (out,) (or broadcastable)."""

    grad_fn_name = "LinearBackward0"

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
    return LinearFunction()(*params)


class EmbeddingFunction(FusedFunction):
    """y = weight[indices]: one row of `weight` per index; indices may have any shape."""

    grad_fn_name = "EmbeddingBackward0"

    def __init__(self, padding_idx=None, sparse=False):
        self.padding_idx, self.sparse = padding_idx, sparse

    def forward(self, indices, weight):
        self.indices, self.num_embeddings = indices, weight.shape[0]
        return embedding_forward(indices, weight)

    def backward(self, gy):
        if self.sparse:  # only the looked-up rows: a sparse COO gradient (numpy2gpt/sparse.py)
            return None, embedding_grad(gy, self.indices, self.num_embeddings, self.padding_idx)
        return None, embedding_backward(gy, self.indices, self.num_embeddings, self.padding_idx)

    def composed(self, indices, weight):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        if self.padding_idx is not None:  # the padding row takes part, but gets no gradient
            is_pad = arange(weight.shape[0]).unsqueeze(1) == self.padding_idx
            weight = where(is_pad, weight.detach(), weight)
        return weight[indices]


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Look up rows of `weight` (num_embeddings, dim) for integer `input` of any shape.

    Output shape: input.shape + (dim,). `padding_idx` (may be negative) names a row that gets no
    gradient. With `sparse=True` the weight's gradient is a sparse COO tensor that holds only the
    looked-up rows (for optim.SparseAdam or SGD). `max_norm` and `scale_grad_by_freq` are not
    supported.
    """
    if max_norm is not None or scale_grad_by_freq:
        raise NotImplementedError("embedding: max_norm and scale_grad_by_freq are not supported "
                                  "by numpy2gpt")
    idx = require_tensor(input, "embedding", "indices", 2)
    w = require_tensor(weight, "embedding", "weight", 1)
    if padding_idx is not None and not isinstance(padding_idx, int | np.integer):
        raise TypeError(f"embedding(): argument 'padding_idx' (position 3) must be int, not "
                        f"{type(padding_idx).__name__}")
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
        if not -num <= padding_idx < num:
            raise AssertionError(f"Padding_idx must be within num_embeddings: got padding_idx = "
                                 f"{padding_idx} for num_embeddings = {num}")
        padding_idx %= num
    return EmbeddingFunction(padding_idx, bool(sparse))(idx, w)


__all__ = ["linear", "embedding"]
