"""Tests of chapter 13's exercise (your ch13_kernels.py): both kernels against PyTorch's softmax,
and the fast one's memory."""

import tracemalloc

import numpy as np
import pytest
import torch
from ch13_kernels import softmax_rows_fast, softmax_rows_reference

KERNELS = [softmax_rows_reference, softmax_rows_fast]


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_pytorch(kernel, dtype):
    x = (np.random.default_rng(0).standard_normal((7, 13)) * 3).astype(dtype)
    x[2, 5] = -np.inf  # a token that was filtered out: probability 0
    x[3] += 1000.0  # large logits: exp would overflow without the max
    out = kernel(x)
    assert out.dtype == dtype and out.shape == x.shape
    expected = torch.softmax(torch.from_numpy(x), dim=1).numpy()
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)
    assert out[2, 5] == 0


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
def test_leaves_its_input_alone(kernel):
    x = np.random.default_rng(1).standard_normal((4, 6))
    before = x.copy()
    kernel(x)
    np.testing.assert_array_equal(x, before)


def peak_bytes(kernel, x):
    tracemalloc.start()
    try:
        kernel(x)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_fast_allocates_one_full_size_array():
    x = np.random.default_rng(2).standard_normal((2000, 256))
    peak = peak_bytes(softmax_rows_fast, x)
    assert peak < 1.25 * x.nbytes, (
        f"softmax_rows_fast held {peak / x.nbytes:.2f} arrays of x's size at once; the fast "
        "kernel makes one and finishes the formula in place")
    np.testing.assert_allclose(softmax_rows_fast(x), softmax_rows_reference(x), rtol=1e-12)
