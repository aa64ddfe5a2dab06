"""The shared row helpers (numpy2gpt/kernels/rows.py) equal NumPy's own reductions, and
on_row_blocks cuts rows into blocks that depend on the shape alone."""

import threading
import warnings

import numpy as np
import pytest
from torch_compare import rand

import numpy2gpt.kernels.threads as T
from numpy2gpt.kernels.rows import THREADED_SIZE, on_row_blocks, row_max, row_sum


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(7,), (5, 65), (2, 3, 9), (3, 2000)])  # 2000: x.max's path
def test_row_max_and_row_sum_equal_numpy(dtype, shape):
    x = rand(*shape, seed=3).astype(dtype)
    if x.ndim > 1:
        x[0, 1] = np.nan  # a NaN row: NaN, like x.max
        x[1, :] = -np.inf
        x[-1, 0] = np.inf
    for a in (x, x[..., ::2], np.swapaxes(x, 0, -1)):  # contiguous and strided views
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # inf - inf in the sums
            np.testing.assert_array_equal(row_max(a), a.max(axis=-1, keepdims=True))
            np.testing.assert_allclose(row_sum(a), a.sum(axis=-1), rtol=1e-5, equal_nan=True)
            assert row_max(a).dtype == row_sum(a).dtype == dtype


def blocks_and_threads(n_rows, row_len):
    """The (lo, hi) blocks on_row_blocks hands out, sorted, and the threads that ran them."""
    blocks, threads, lock = [], set(), threading.Lock()

    def work(todo):
        for block in todo:
            with lock:
                blocks.append(block)
                threads.add(threading.get_ident())

    on_row_blocks(n_rows, row_len, work)
    return sorted(blocks), threads


@pytest.mark.parametrize("shape", [(0, 5), (3, 7), (THREADED_SIZE // 64 - 1, 64),
                                   (THREADED_SIZE // 65 + 1000, 65), (5, THREADED_SIZE)])
def test_row_blocks_depend_on_the_shape_alone(monkeypatch, shape):
    """Every row in exactly one block of whole rows; the same blocks on 1, 2 and 3 threads; an
    input under THREADED_SIZE elements is one block on the calling thread, a larger one several."""
    n_rows, row_len = shape
    seen = []
    for n in (1, 2, 3):
        monkeypatch.setattr(T, "_num_threads", n)
        blocks, threads = blocks_and_threads(n_rows, row_len)
        seen.append(blocks)
        if n_rows * row_len < THREADED_SIZE:
            assert blocks == [(0, n_rows)] and threads == {threading.get_ident()}
        else:
            assert len(blocks) > 1
    assert seen[0] == seen[1] == seen[2]
    los, his = [lo for lo, _ in seen[0]], [hi for _, hi in seen[0]]
    assert los[0] == 0 and his[-1] == n_rows and los[1:] == his[:-1]  # no gap, no overlap
