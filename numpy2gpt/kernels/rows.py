"""Row helpers that several kernel families share: sums and maxima over the last axis.

NumPy reduces a short last axis one row at a time, which costs more than the arithmetic around it;
these helpers turn such reductions into one BLAS call or one vectorised pass over all rows.
`on_row_blocks` runs a row-wise kernel on blocks of whole rows, on every core.
"""

import functools
import math

import numpy as np

from .threads import BLOCK, parallel_blocks


@functools.lru_cache(maxsize=64)
def ones_vector(n, dtype):
    """A read-only vector of ones: `a @ ones_vector(n)` sums rows ~8x faster than a.sum(-1)."""
    v = np.ones(n, dtype=dtype)
    v.flags.writeable = False
    return v


def row_sum(a):
    """Sum over the last axis (as a matrix-vector product when the rows are contiguous).

    A C-contiguous stack of rows is one tall matrix: one BLAS call for all of them, where
    `np.matmul` on the N-D array would make one call per leading index.
    """
    n = a.shape[-1] if a.ndim else 0
    if n and a.flags.c_contiguous:
        return (a.reshape(-1, n) @ ones_vector(n, a.dtype)).reshape(a.shape[:-1])
    if n and a.strides[-1] == a.itemsize:
        return np.matmul(a, ones_vector(n, a.dtype))
    return a.sum(axis=-1)


def row_max(x):
    """The max over the last axis (keepdims), NaN for rows holding NaN, like `x.max(-1)`.

    For short rows, `argmax` (vectorised across rows) plus a gather is 2-4x faster than
    `x.max(axis=-1)`, which reduces one short row at a time.
    """
    n = x.shape[-1]
    if 0 < n <= 1024 and x.size:
        i = x.argmax(axis=-1)
        if x.ndim == 2 and x.flags.c_contiguous:  # a flat gather: no take_along_axis overhead
            i += np.arange(0, x.size, n)
            return x.reshape(-1).take(i)[:, None]
        return np.take_along_axis(x, i[..., None], axis=-1)
    return x.max(axis=-1, keepdims=True)


def as_rows(a):
    """a (ndim >= 1) as a C-contiguous (rows, n) matrix: a view when a is C-contiguous, else a
    copy (which row blocks then read with unit stride)."""
    return np.ascontiguousarray(a).reshape(math.prod(a.shape[:-1]), a.shape[-1])


THREADED_SIZE = 8 * BLOCK  # elements from which a row-wise kernel runs on blocks, on threads


def on_row_blocks(n_rows, row_len, work):
    """Run `work(blocks)` on `parallel_blocks`' threads, each block (lo, hi) a run of whole rows
    (`rows_per_block` of them): a block's temporaries stay in cache while its rows are finished.

    The block boundaries depend only on the shape, never on the number of threads, so a kernel
    whose blocks do the same calls gives the same bits on any number of threads. `work` may keep
    per-block results in a list indexed by lo // rows_per_block(n_rows, row_len)."""
    per_block = rows_per_block(n_rows, row_len)
    if per_block >= n_rows:
        work([(0, n_rows)])  # one block: no pool
    else:
        parallel_blocks(n_rows, per_block, work)


def rows_per_block(n_rows, row_len):
    """Rows per block of `on_row_blocks`, from the shape alone.

    An input under THREADED_SIZE elements is one block, run on the calling thread: each block
    costs a dozen NumPy calls of a few microseconds whatever its size, and handing blocks to
    another thread costs tens of microseconds (more on a busy core, where that thread may be
    descheduled holding the GIL): more than a second thread saves on such a kernel. Larger
    inputs are cut into blocks of about 2 * BLOCK elements (at least one row): four or more per
    thread of two, small enough to stay in cache and for BLAS to run each block's matrix-vector
    products on the thread that calls it (OpenBLAS threads only larger ones)."""
    if n_rows * row_len < THREADED_SIZE:
        return max(1, n_rows)
    return max(1, 2 * BLOCK // max(1, row_len))
