"""GELU's kernels (numpy2gpt/kernels/gelu.py): the fast kernels equal the textbook references on
every input case, forward and backward; special values as in PyTorch; the float32 table's
accuracy; and the same bits on any number of threads."""

import math

import numpy as np
import pytest
import torch
from kernel_cases import assert_same, cases, run_both

import numpy2gpt.kernels.gelu as G
import numpy2gpt.kernels.threads as T
from numpy2gpt.kernels.gelu import gelu_backward, gelu_forward
from numpy2gpt.kernels.threads import BLOCK

APPROXIMATE = ["none", "tanh"]
SHAPES = [(1,), (7,), (3, 5), (2, 3, 9), (4, 1031), (3, BLOCK // 2 + 17)]  # the last: 2+ blocks


@pytest.fixture
def threads(monkeypatch):
    """Set the kernel pool's size for one test (BLAS is left alone)."""
    return lambda n: monkeypatch.setattr(T, "_num_threads", n)


@pytest.mark.parametrize("approximate", APPROXIMATE)
@pytest.mark.parametrize("shape", SHAPES)
def test_fast_equals_reference_forward_and_backward(shape, approximate):
    """y and the derivative d it hands to backward, then backward's dL/dx = dL/dy * d, on
    contiguous, strided and Fortran-order inputs with NaN and +-inf, in float32 and float64
    (NaN where the reference has NaN; no NumPy warning)."""
    grads = dict(cases(shape, seed=1, special=False))
    for label, x in cases(shape, scale=2.0):
        fast, ref = run_both(gelu_forward, x, approximate, True)
        assert_same(fast, ref, label=f"forward {label}")
        assert fast[0].shape == fast[1].shape == x.shape
        gy = grads[label.replace("nan/inf", "contiguous")]
        assert_same(gelu_backward.fast(gy, fast[1]), gelu_backward.reference(gy, ref[1]),
                    label=f"backward {label}")


@pytest.mark.parametrize("approximate", APPROXIMATE)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_without_grad_no_derivative_and_the_same_values(approximate, dtype):
    """need_grad=False: no derivative (None), and y bit for bit as with it; float16 is computed
    in float32 and returned as float16 by both kernels."""
    x = np.random.default_rng(2).standard_normal((5, 300)).astype(dtype)
    for kernel in (gelu_forward.fast, gelu_forward.reference):
        y, d = kernel(x, approximate, False)
        y_grad, d_grad = kernel(x, approximate, True)
        assert d is None and y.dtype == d_grad.dtype == dtype
        np.testing.assert_array_equal(y, y_grad)
    fast, ref = (kernel(x, approximate, True) for kernel in (gelu_forward.fast,
                                                             gelu_forward.reference))
    for a, b in zip(fast, ref):
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64),
                                   rtol=2e-3 if dtype == np.float16 else 2e-5, atol=1e-6)


@pytest.mark.parametrize("approximate", APPROXIMATE)
@pytest.mark.parametrize("kernel", ["fast", "reference"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_special_values_like_pytorch(kernel, approximate, dtype):
    """NaN gives NaN; gelu(+inf) = inf, gelu(-inf) = NaN (-inf * 0); the derivative is NaN at
    +-inf; +-0 give +-0 and slope 1/2: PyTorch's float64 values."""
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30], dtype)
    y, d = getattr(gelu_forward, kernel)(x, approximate, True)
    tx = torch.tensor(x.astype(np.float64), requires_grad=True)
    ty = torch.nn.functional.gelu(tx, approximate=approximate)
    (td,) = torch.autograd.grad(ty.sum(), tx)
    np.testing.assert_array_equal(y, ty.detach().numpy().astype(dtype))
    np.testing.assert_array_equal(np.signbit(y), np.signbit(ty.detach().numpy()))
    np.testing.assert_array_equal(d, td.numpy().astype(dtype))


def _exact_gelu(x):
    """gelu(x), its derivative Phi + x phi and the size of that sum's terms, |Phi| + |x phi|, in
    float64 from math.erfc (accurate also far in the left tail, where 1 + erf(x / sqrt 2)
    cancels)."""
    xd = np.asarray(x, np.float64)
    cdf = 0.5 * np.array([math.erfc(-v / math.sqrt(2)) for v in xd.ravel()]).reshape(xd.shape)
    pdf = np.exp(-0.5 * xd * xd) / math.sqrt(2 * math.pi)
    return xd * cdf, cdf + xd * pdf, cdf + np.abs(xd) * pdf


def test_fast_float32_is_within_a_few_ulp_everywhere():
    """float32's fast exact GELU comes from a table of cubic pieces of Phi (not from erf). On a
    dense grid over the table's range and past it: gelu is within 8 ulp of the exact value down
    to x = -13, where Phi(x) ~ 1e-39 leaves float32's normal range (PyTorch's own float32 GELU,
    like the reference kernel, loses all digits below x = -5, where 1 + erf cancels). The
    derivative Phi + x phi is within 8 ulp of the size of its terms, |Phi| + |x phi|, for
    x >= -4.5, and within 1e-5 of it, relatively, down to x = -12 (where it is about 1e-32)."""
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-17, 17, 200_001),
                        rng.standard_normal(20_000) * 4.0]).astype(np.float32)
    y, d = gelu_forward.fast(x, "none", True)
    ey, ed, terms = _exact_gelu(x)
    ulp_y = np.spacing(np.abs(ey).astype(np.float32)).astype(np.float64)
    assert np.max((np.abs(y - ey) / ulp_y)[x > -13]) <= 8
    err_d = np.abs(d - ed)
    ulp_terms = np.spacing(terms.astype(np.float32)).astype(np.float64)
    assert np.max((err_d / ulp_terms)[x >= -4.5]) <= 8
    assert np.max((err_d / terms)[x > -12]) <= 1e-5
    # past +-16 the end pieces: Phi is 1 and 0 exactly
    far = np.array([-1e30, -20.0, -16.5, 16.5, 20.0, 1e30], np.float32)
    yf, df = gelu_forward.fast(far, "none", True)
    np.testing.assert_array_equal(yf, np.where(far > 0, far, 0))
    np.testing.assert_array_equal(df, [0, 0, 0, 1, 1, 1])


@pytest.mark.parametrize("approximate", APPROXIMATE)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_threaded_gives_the_same_bits_as_one_thread(threads, monkeypatch, approximate, dtype):
    """The fast kernels on 2 and 3 threads (blocks handed out to whichever thread is free) give
    exactly the bytes of one thread, forward and backward, on sizes around block multiples;
    float32's exact GELU gives them whichever way it gathers its table (rows or columns, the
    faster on this CPU, measured once), so any CPU gets the same bits."""
    rng = np.random.default_rng(3)
    ways = [True, False] if (approximate, dtype) == ("none", np.float32) else [None]
    for n in (BLOCK - 1, 2 * BLOCK, 5 * BLOCK + 123):
        x = (rng.standard_normal(n) * 3).astype(dtype)
        x[[0, n // 2, -1]] = np.nan, np.inf, -np.inf
        gy = rng.standard_normal(n).astype(dtype)
        results = []
        for k in (1, 2, 3):
            for rows in ways:
                threads(k)
                monkeypatch.setattr(G, "_gather_rows", lambda rows=rows: rows)
                y, d = gelu_forward.fast(x, approximate, True)
                results.append([y, d, gelu_backward.fast(gy, d)])
        for other in results[1:]:
            for a, b in zip(results[0], other):
                assert a.tobytes() == b.tobytes()


def test_the_table_gather_is_measured_once_and_is_one_of_the_two():
    """Which way float32's exact GELU gathers its table is measured once per process (it is
    cached) and is a plain choice between the two layouts."""
    G._gather_rows.cache_clear()
    choice = G._gather_rows()
    assert choice in (True, False) and G._gather_rows() is choice
    assert G._gather_rows.cache_info().misses == 1
