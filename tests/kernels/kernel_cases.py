"""Inputs for the kernel suite: every kernel's fast version must equal its reference on them.

`cases(shape)` gives the arrays a kernel meets in practice and the ones it must not get wrong:
float32 and float64, contiguous and strided views, odd sizes, and rows holding NaN and +-inf.
"""

import warnings

import numpy as np

import numpy2gpt.kernels as K
import numpy2gpt.kernels.threads as T
from numpy2gpt.kernels.rows import THREADED_SIZE, rows_per_block


def cases(shape, seed=0, scale=1.0, special=True):
    """[(label, array)]: float32/float64, contiguous, strided (every other column of a wider
    array), transposed-then-copied layout, and (special=True) NaN, +inf and -inf planted."""
    rng = np.random.default_rng(seed)
    out = []
    for dtype in (np.float32, np.float64):
        wide = (rng.standard_normal((*shape[:-1], 2 * shape[-1])) * scale).astype(dtype)
        x = np.ascontiguousarray(wide[..., ::2])
        out += [(f"{np.dtype(dtype).name} contiguous", x),
                (f"{np.dtype(dtype).name} strided", wide[..., 1::2])]
        if x.ndim >= 2:
            out.append((f"{np.dtype(dtype).name} fortran", np.asfortranarray(x)))
        if special and x.size >= 3:
            y = x.copy().reshape(-1, shape[-1])
            y[0, 0], y[-1, -1] = np.nan, np.inf
            y[len(y) // 2, 0] = -np.inf
            out.append((f"{np.dtype(dtype).name} nan/inf", y.reshape(shape)))
    return out


def tolerance(dtype):
    """rtol, atol for fast vs reference: a few ulps of the dtype, scaled for summed rows."""
    return (2e-5, 1e-6) if np.dtype(dtype) == np.float32 else (1e-12, 1e-14)


def assert_same(fast, ref, dtype=None, label=""):
    """Equal within `tolerance`, NaN where the other has NaN, same dtype and shape."""
    fast_t, ref_t = (fast if isinstance(fast, tuple) else (fast,)), \
        (ref if isinstance(ref, tuple) else (ref,))
    assert len(fast_t) == len(ref_t), label
    for a, b in zip(fast_t, ref_t):
        if not isinstance(b, np.ndarray):
            assert a == b or (a != a and b != b), label
            continue
        assert a.shape == b.shape and a.dtype == b.dtype, (label, a.shape, b.shape, b.dtype)
        rtol, atol = tolerance(dtype or b.dtype)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=label)


def run_both(kernel, *args, **kwargs):
    """(fast result, reference result) of a switch()ed kernel on copies of the same inputs."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no NumPy warning may leak
        return kernel.fast(*args, **kwargs), kernel.reference(*copies, **kwargs)


def every_backend():
    """For pytest.mark.parametrize: run a library-level test under each kernel backend."""
    return list(K.BACKENDS)


def same_bits_on_threads(monkeypatch, run, counts=(1, 2, 3)):
    """Asserts that run() (arrays, or None for absent results) gives exactly the same bytes
    with the kernel pool at each of `counts` threads (blocks go to whichever thread is free)."""
    results = []
    for n in counts:
        monkeypatch.setattr(T, "_num_threads", n)
        results.append(run())
    for n, other in zip(counts[1:], results[1:]):
        for k, (a, b) in enumerate(zip(results[0], other)):
            assert (a is None) == (b is None), (n, k)
            if a is not None:
                assert a.dtype == b.dtype and a.shape == b.shape, (n, k)
                assert a.tobytes() == b.tobytes(), f"result {k} differs on {n} threads"


def rows_with_specials(row_len, dtype, seed=0, scale=3.0):
    """Enough rows of `row_len` for a row-wise fast kernel to run on several blocks (the last one
    short), on threads: normal values with NaN, +inf, -inf and a row far below the others
    (softmax's exact path) planted in different rows."""
    n_rows = 5 * rows_per_block(THREADED_SIZE, row_len) + 3
    x = (np.random.default_rng(seed).standard_normal((n_rows, row_len)) * scale).astype(dtype)
    x[1, 2], x[n_rows // 2, 0], x[-2, -1] = np.nan, np.inf, -np.inf
    x[n_rows // 3] -= 500
    return x
