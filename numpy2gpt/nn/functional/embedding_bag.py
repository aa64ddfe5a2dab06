"""embedding_bag: sums, means or maxima of bags of embeddings.

A bag is a run of indices; its output row reduces the rows of `weight` it looks up, without ever
building the (num_indices, dim) tensor of embedding(). The bags come from a 2-D input (one bag
per row, all of the same size) or from a 1-D input cut at `offsets` (bag b is
input[offsets[b]:offsets[b + 1]]; an empty bag gives a row of zeros).

sum and mean are one weighted scatter-add: element i of bag b adds coef[i] * weight[input[i]] to
out[b], with coef = per_sample_weights (or 1) for sum and 1 / (size of the bag) for mean, and 0
for the padding index. So their gradient w.r.t. weight is the embedding gradient of the rows
coef[i] * gy[b], and the reuse of embedding_backward below is exact. With sparse=True that
gradient is a sparse tensor of the same rows instead (numpy2gpt/sparse.py's embedding_grad, as
for embedding), and with scale_grad_by_freq each coef[i] is divided by how often input[i] occurs.

max_norm rescales the looked-up rows of `weight` in place before the lookup (embedding_renorm_,
in linear.py beside embedding, which shares it), as PyTorch does: not a differentiable step, an
edit of the table itself.
"""

import numpy as np

from ...autograd.function import FusedFunction
from ...dtypes import dtype_name
from ...kernels.embedding import embedding_backward
from ...sparse import embedding_grad
from ...tensor import Tensor, as_tensor
from .linear import SPARSE_FREQ_ERROR, embedding_renorm_, freq_scaled_grad

_MODES = ("sum", "mean", "max")


class EmbeddingBagFunction(FusedFunction):
    """out[b] = the sum, mean or max of weight[input[i]] over the elements i of bag b.

    `bag_of` (n,) is the bag of each element of the flat `indices`, `num_bags` the number of
    output rows; padding elements take no part. `scale_grad_by_freq` and `sparse` shape only the
    weight's gradient (see the module docstring); neither goes with mode "max".
    """

    grad_fn_name = "EmbeddingBagBackward0"

    def __init__(self, bag_of, num_bags, mode, padding_idx, scale_grad_by_freq=False,
                 sparse=False):
        self.bag_of, self.num_bags, self.mode = bag_of, num_bags, mode
        self.padding_idx = padding_idx
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse

    def forward(self, indices, weight, per_sample_weights=None):
        self.indices, self.num_embeddings = indices, weight.shape[0]
        keep = np.ones(indices.shape, dtype=bool) if self.padding_idx is None else (
            indices != self.padding_idx)
        if self.mode == "max":
            return self._max_forward(indices, weight, keep)
        if per_sample_weights is not None:
            coef = per_sample_weights * keep
        else:
            coef = keep.astype(weight.dtype)
        self.scale = self.sizes = None
        if self.mode == "mean":  # padding elements do not count in a bag's size
            sizes = np.bincount(self.bag_of[keep], minlength=self.num_bags)
            self.sizes = np.maximum(sizes, 1)[self.bag_of]  # each element's bag size
            self.scale = (1 / self.sizes).astype(weight.dtype)
            coef = coef * self.scale
        self.coef, self.weight, self.keep = coef, weight, keep
        self.per_sample_weights = per_sample_weights
        rows = weight[indices] * coef[:, None]
        # Adding row i into out[bag_of[i]] is the embedding gradient's scatter-add, bags as rows.
        return embedding_backward(rows, self.bag_of, self.num_bags, None)

    def _max_forward(self, indices, weight, keep):
        """Column by column the largest value of each bag, and which table row it came from
        (the first of equal maxima, as PyTorch); -1 for an empty bag, whose output is 0."""
        dim = weight.shape[1]
        out = np.zeros((self.num_bags, dim), dtype=weight.dtype)
        self.argmax = np.full((self.num_bags, dim), -1, dtype=np.int64)
        for b in range(self.num_bags):
            members = indices[(self.bag_of == b) & keep]
            if members.size:
                rows = weight[members]
                best = np.argmax(rows, axis=0)
                out[b] = rows[best, np.arange(dim)]
                self.argmax[b] = members[best]
        return out

    def backward(self, gy):
        if self.mode == "max":  # only the row that held a bag's maximum gets that gradient
            gw = np.zeros((self.num_embeddings, gy.shape[1]), dtype=gy.dtype)
            bag, col = np.nonzero(self.argmax >= 0)
            np.add.at(gw, (self.argmax[bag, col], col), gy[bag, col])
            return None, gw
        g_rows = gy[self.bag_of]  # dL/d(row added into its bag), one per element
        gw = None
        if self.needs_input_grad[1]:
            scaled = g_rows * self._weight_coef()[:, None]
            if self.sparse:  # one entry per element, padding left out, as embedding's
                if self.scale_grad_by_freq:
                    raise RuntimeError(SPARSE_FREQ_ERROR)
                gw = embedding_grad(scaled, self.indices, self.num_embeddings, self.padding_idx)
            else:
                gw = embedding_backward(scaled, self.indices, self.num_embeddings, None)
        if len(self.needs_input_grad) == 2:
            return None, gw
        # d out[b] / d psw[i] = weight[input[i]]: the dot product with the bag's gradient;
        # padding elements took no part, so their weight gets 0.
        g_psw = None
        if self.needs_input_grad[2]:
            g_psw = (g_rows * self.weight[self.indices]).sum(axis=1) * self.keep
        return None, gw, g_psw

    def _check_versions(self):
        """Backward reads the weight's values only for per_sample_weights' gradient (and for
        double backward): otherwise an in-place edit of the weight since the forward (another
        lookup's max_norm, an optimizer step) is no error, as in PyTorch."""
        self.saved_input(0)
        if len(self.needs_input_grad) == 3 and self.needs_input_grad[2]:
            self.saved_input(1)

    def _weight_coef(self):
        """coef[i], the factor of element i's row in the weight's gradient. With
        scale_grad_by_freq it is divided by how often input[i] occurs among the bags' elements:
        PyTorch's arithmetic, psw / count / bag size in float64, rounded once to the dtype."""
        if not self.scale_grad_by_freq:
            return self.coef
        counts = self._counts()
        psw = self.per_sample_weights
        scale = np.ones(self.indices.shape) if psw is None else psw.astype(np.float64)
        scale = scale / counts[self.indices]
        if self.sizes is not None:
            scale = scale / self.sizes
        return np.where(self.keep, scale, 0).astype(self.coef.dtype)

    def _counts(self):
        """How often each row of the table is looked up by the bags' elements."""
        return np.bincount(self.indices, minlength=self.num_embeddings)

    def composed(self, indices, weight, per_sample_weights=None):
        """The same bags from differentiable ops (for higher derivatives): each element's row,
        scaled, added into its bag (index_add); for max, each bag's row that held the maximum
        (zero for an empty bag)."""
        from ...ops.creation import zeros

        if self.mode == "max":
            held = Tensor._make((self.argmax >= 0).astype(weight.dtype))
            rows = Tensor._make(np.maximum(self.argmax, 0))
            return weight[rows, Tensor._make(np.arange(weight.shape[1]))] * held
        if self.scale_grad_by_freq:  # the same values; each row's gradient divided by its count
            weight = freq_scaled_grad(weight, self._counts())
        coef = Tensor._make(self.keep.astype(weight.dtype))
        if per_sample_weights is not None:
            coef = per_sample_weights * coef
        if self.scale is not None:
            coef = coef * Tensor._make(self.scale)
        rows = weight[indices] * coef.unsqueeze(1)
        return zeros(self.num_bags, weight.shape[1], dtype=weight.dtype).index_add(
            0, Tensor._make(self.bag_of), rows)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """The sum, mean or max of the embeddings in each bag (PyTorch's
    `torch.nn.functional.embedding_bag`): output (num_bags, embedding_dim).

    input 2-D (B, N): B bags of N indices, offsets must be None. input 1-D: bags cut at
    `offsets` (1-D, starting at 0); with include_last_offset the last offset is the end of the
    last bag rather than the start of one more. `per_sample_weights` (input's shape, sum mode
    only) scales each looked-up row. `padding_idx` elements are left out of their bag (and of
    mean's count). `max_norm`: every row the input looks up whose `norm_type`-norm is above it is
    first scaled down to that norm, in place (see embedding_renorm_). `scale_grad_by_freq`: the
    weight's gradient from element i is divided by how often input[i] occurs in the bags.
    `sparse`: the weight's gradient is a sparse tensor with one row per element (sum and mean).
    """
    idx, w = as_tensor(input), as_tensor(weight)
    psw = None if per_sample_weights is None else as_tensor(per_sample_weights)
    if psw is not None and idx.shape != psw.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({psw.shape}) is not None, "
                         f"then it must have the same shape as the input ({idx.shape})")
    if w.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {w.ndim}")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is "
                             "a mini-batch of fixed length sequences. However, found offsets of "
                             f"type {type(offsets)}")
        if idx.shape[1] == 0 and idx.shape[0]:
            raise RuntimeError("step must be nonzero")
        starts = np.arange(0, idx.numel(), max(idx.shape[1], 1))
        include_last_offset = False
        idx = idx.reshape(-1)
        psw = None if psw is None else psw.reshape(-1)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        offsets = as_tensor(offsets)
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts = offsets._data
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{idx.ndim}")
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if max_norm is not None:  # before any other check, as PyTorch (even with a bad offset)
        embedding_renorm_(w.detach(), idx, max_norm, norm_type)
    if psw is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    for name, t in (("indices", idx), ("offsets", starts)):
        if t.dtype.kind not in "iu":
            raise RuntimeError(f"embedding_bag: expected integer {name} (numpy2gpt.int64 or "
                               f"int32), but got {dtype_name(t.dtype)}")
    if w.dtype.kind != "f":
        raise RuntimeError(f"embedding_bag: expected a floating point weight, but got "
                           f"{dtype_name(w.dtype)}")
    if psw is not None and psw.dtype != w.dtype:
        raise RuntimeError(f"embedding_bag: expected per_sample_weights to have the weight's "
                           f"dtype {dtype_name(w.dtype)}, but got {dtype_name(psw.dtype)}")
    n, num = idx.shape[0], w.shape[0]
    if starts.size:
        if starts[0] != 0:
            raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                               f"has to start from position 0. However, got {int(starts[0])}")
        if starts[-1] > n:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got "
                               f"offsets[-1] of {int(starts[-1])}")
        if np.any(np.diff(starts) < 0):
            raise RuntimeError("embedding_bag: offsets must be non-decreasing")
    if n:
        lo, hi = int(idx._data.min()), int(idx._data.max())
        if lo < 0 or hi >= num:
            raise RuntimeError(f"embedding_bag: index {lo if lo < 0 else hi} is out of range for "
                               f"num_embeddings = {num} (valid indices are 0 to {num - 1})")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -{num} "
                               f"through {num - 1}, but got {padding_idx}")
        padding_idx %= num
    # With include_last_offset the last offset only closes the last bag.
    num_bags = max(starts.size - 1, 0) if include_last_offset else starts.size
    ends = np.r_[starts[1:], n][:num_bags] if not include_last_offset else starts[1:]
    starts = starts[:num_bags]
    bag_of = np.repeat(np.arange(num_bags), ends - starts)
    if bag_of.size < n:  # indices past the last bag's end (include_last_offset) are left out
        idx = idx[:bag_of.size]
        psw = None if psw is None else psw[:bag_of.size]
    fn = EmbeddingBagFunction(bag_of, num_bags, mode, padding_idx, bool(scale_grad_by_freq),
                              bool(sparse))
    return fn(idx, w) if psw is None else fn(idx, w, psw)


__all__ = ["embedding_bag"]
