"""The shared row helpers (numpy2gpt/kernels/rows.py) equal NumPy's own reductions."""

import warnings

import numpy as np
import pytest
from torch_compare import rand

from numpy2gpt.kernels.rows import row_max, row_sum


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
