"""softmax and log_softmax kernels: fast == reference, forward and backward, on odd shapes,
strided and Fortran layouts, float32 and float64, rows holding NaN and +-inf, and rows far below
their block's max (the fast kernel's exact-path fallback); the references against PyTorch; the
same bits on any number of threads."""

import numpy as np
import pytest
import torch
from kernel_cases import assert_same, cases, rows_with_specials, run_both, same_bits_on_threads
from torch_compare import rand

from numpy2gpt.kernels import softmax as S

SHAPES = [(1, 1), (3, 7), (2, 5, 33), (4, 1, 9), (2, 3, 130), (5, 1030)]  # 1030: x.max's path


def gradient(x, seed=1):
    """An upstream gradient of x's shape and dtype."""
    return np.random.default_rng(seed).standard_normal(x.shape).astype(x.dtype)


@pytest.mark.parametrize("scale", [1.0, 300.0])  # 300: rows far below their block's max
@pytest.mark.parametrize("shape", SHAPES)
def test_softmax_fast_equals_reference(shape, scale):
    for label, x in cases(shape, scale=scale):
        assert_same(*run_both(S.softmax_forward, x), label=label)
        y = S.softmax_forward.reference(x)
        assert_same(*run_both(S.softmax_backward, y, gradient(x)), label=label)


@pytest.mark.parametrize("scale", [1.0, 300.0])
@pytest.mark.parametrize("shape", SHAPES)
def test_log_softmax_fast_equals_reference(shape, scale):
    for label, x in cases(shape, scale=scale):
        (z, saved), (rz, rsaved) = run_both(S.log_softmax_forward, x)
        assert_same((z,) + saved, (rz,) + rsaved, label=label)
        assert_same(*run_both(S.log_softmax_backward, rsaved, gradient(x)), label=label)


@pytest.mark.parametrize("shape", [(3, 7), (2, 5, 33)])
def test_references_equal_torch_with_nan_and_inf(shape):
    """The references are the textbook formulas: PyTorch's values, NaN/inf rows included."""
    for label, x in cases(shape, scale=3.0):
        t = torch.tensor(x)
        np.testing.assert_allclose(S.softmax_forward.reference(x), torch.softmax(t, -1).numpy(),
                                   rtol=1e-5, atol=1e-7, equal_nan=True, err_msg=label)
        np.testing.assert_allclose(S.log_softmax_forward.reference(x)[0],
                                   torch.log_softmax(t, -1).numpy(), rtol=1e-5, atol=1e-6,
                                   equal_nan=True, err_msg=label)


def test_all_minus_inf_rows_are_nan_in_both():
    x = np.array([[-np.inf, -np.inf, -np.inf], [0.0, 1.0, -np.inf]], np.float32)
    for kernel in (S.softmax_forward.fast, S.softmax_forward.reference):
        y = kernel(x)
        assert np.isnan(y[0]).all() and np.isfinite(y[1]).all() and y[1, 2] == 0


def test_exp_rows_contract():
    """e / s is softmax and x - shift - log(s) is log_softmax, with and without the exact path."""
    x = rand(3, 5, 7)
    x[1, 2] -= 800.0
    for arr, shift_shape in ((rand(3, 5, 7), (3, 1, 1)), (x, (3, 5, 1))):
        e, s, shift = S.exp_rows(arr)
        assert shift.shape == shift_shape  # one shift per block, or per row after the exact path
        ref = torch.softmax(torch.tensor(arr), -1).numpy()
        np.testing.assert_allclose(e / s[..., None], ref, rtol=1e-12)
        np.testing.assert_allclose(arr - shift - np.log(s)[..., None],
                                   torch.log_softmax(torch.tensor(arr), -1).numpy(), rtol=1e-12)
    # in place, with a recompute callback for the exact path
    buf = x.copy()
    e, s, _ = S.exp_rows(buf, out=buf, recompute=lambda: x.copy())
    assert e is buf
    np.testing.assert_allclose(e / s[..., None], torch.softmax(torch.tensor(x), -1).numpy(),
                               rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("row_len", [65, 128])
def test_threaded_gives_the_same_bits_as_one_thread(monkeypatch, row_len, dtype):
    """softmax and log_softmax, forward and backward, on several row blocks (the last one short)
    holding NaN, +-inf and a row on the exact path: the bytes of one thread on 2 and 3."""
    x = rows_with_specials(row_len, dtype)[None]  # (1, rows, row_len)
    gy = gradient(x)

    def run():
        y = S.softmax_forward.fast(x)
        z, saved = S.log_softmax_forward.fast(x)
        return (y, S.softmax_backward.fast(y, gy), z, *saved,
                S.log_softmax_backward.fast(saved, gy))

    same_bits_on_threads(monkeypatch, run)
