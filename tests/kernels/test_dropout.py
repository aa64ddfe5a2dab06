"""The dropout mask (one draw for every backend): keep / (1 - p), seeded by numpy2gpt's generator,
in the requested dtype; F.dropout and attention's dropout both draw it."""

import numpy as np
import pytest

import numpy2gpt as nt
import numpy2gpt.nn.functional as F
from numpy2gpt.kernels.dropout import dropout_mask


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.0, 0.25, 0.9, 1.0])
def test_mask_values_rate_and_seed(p, dtype):
    nt.manual_seed(0)
    m = dropout_mask((400, 250), p, dtype)
    assert m.dtype == dtype and m.shape == (400, 250)
    kept = m != 0
    if p < 1:
        np.testing.assert_array_equal(m[kept], dtype(1 / (1 - p)))  # survivors scaled by 1/(1-p)
    assert abs(kept.mean() - (1 - p)) < 0.01
    nt.manual_seed(0)
    np.testing.assert_array_equal(dropout_mask((400, 250), p, dtype), m)  # the seed reproduces it


def test_f_dropout_multiplies_by_the_same_draw():
    x = nt.ones(50, 40, dtype=nt.float64)
    nt.manual_seed(2)
    y = F.dropout(x, 0.3).data
    nt.manual_seed(2)
    np.testing.assert_array_equal(y, dropout_mask((50, 40), 0.3, np.float64))
