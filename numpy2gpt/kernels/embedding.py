"""embedding: y = W[idx], one row of the table W per index, and its gradient.

The forward is a row lookup, which NumPy's fancy indexing already does in one pass: it has one
version. The backward adds each output row's gradient into the row of W it came from (a row looked
up twice gets both gradients); the padding row, if any, gets none.
"""

import numpy as np

from . import switch


def embedding_forward(indices, weight):
    """weight[indices]: shape indices.shape + (dim,), a fresh array."""
    return weight[indices]


def embedding_backward_reference(gy, indices, num_embeddings, padding_idx):
    """dL/dW[r] = the sum of the gradient rows gy[i] whose index is r: a scatter-add
    (np.add.at adds once per index, repeated indices included)."""
    dim = gy.shape[-1]
    gw = np.zeros((num_embeddings, dim), dtype=gy.dtype)
    np.add.at(gw, indices.reshape(-1), gy.reshape(-1, dim))
    if padding_idx is not None:
        gw[padding_idx] = 0  # the padding row is never trained
    return gw


# Embedding tables with at most this many rows get their gradient from one one-hot GEMM.
ONE_HOT_MAX_ROWS = 256


def embedding_backward_fast(gy, indices, num_embeddings, padding_idx):
    """np.add.at is unbuffered (one index at a time). Instead: a small table (a character
    vocabulary, positions) takes one GEMM, onehot^T @ gy with onehot[i, idx[i]] = 1 - about 2x
    faster than sorting; a large one sorts the indices, so that equal ones sit next to each other
    and one np.add.reduceat sums each run - several times faster than np.add.at."""
    idx = indices.reshape(-1)
    dim = gy.shape[-1]
    g2 = gy.reshape(idx.size, dim)
    gw = None
    if idx.size and num_embeddings <= ONE_HOT_MAX_ROWS:
        onehot = np.zeros((idx.size, num_embeddings), dtype=gy.dtype)
        onehot[np.arange(idx.size), idx] = 1
        # A non-finite gy would leak 0 * inf = NaN into every row, so such a gradient takes the
        # sorting path.
        with np.errstate(invalid="ignore"):  # 0 * inf: checked just below
            gw = onehot.T @ g2
        if not np.isfinite(gw).all():
            gw = None
    if gw is None:
        gw = np.zeros((num_embeddings, dim), dtype=gy.dtype)
        if idx.size:
            order = np.argsort(idx, kind="stable")
            sorted_idx = idx[order]
            starts = np.flatnonzero(np.r_[True, sorted_idx[1:] != sorted_idx[:-1]])
            gw[sorted_idx[starts]] = np.add.reduceat(g2[order], starts, axis=0)
    if padding_idx is not None:
        gw[padding_idx] = 0  # the padding row is never trained
    return gw


embedding_backward = switch(embedding_backward_reference, embedding_backward_fast)
