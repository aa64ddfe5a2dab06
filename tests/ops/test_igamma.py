"""The regularized incomplete gamma functions P(a, x) (igamma, special.gammainc) and
Q(a, x) = 1 - P (igammac, special.gammaincc) against PyTorch: values over the series, the
continued fraction and the large-a expansion, special values, the gradient in x (PyTorch has none
in a), dtypes and errors."""

import numpy as np
import pytest
from torch_compare import both, same_error

import numpy2gpt as ng

rng = np.random.default_rng(0)
A = np.concatenate([rng.uniform(0.01, 5, 300), rng.uniform(5, 500, 200),
                    [0.5, 2.0, 0.0, -1.0, 1.0, 1.0, 3e6, 3e6, 50.0, 0.1, 0.0, np.nan]])
X = np.concatenate([rng.uniform(0, 10, 300), rng.uniform(0, 800, 200),
                    [1.0, 3.0, 1.0, 1.0, 0.0, np.inf, 3e6 + 5000, 3e6 - 5000, 150.0, 1e-5, 0.0,
                     1.0]])


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_values_float64_and_float32(name):
    """float64 within PyTorch's own error (up to ~1.4e-9 relatively for a in [5, 500]; see the
    next test), Q far in its tail too (1 - P would lose it); NaN where PyTorch has NaN. float32
    is the float64 value rounded; PyTorch's float32 agrees to a few ulp except in far tails
    (values below ~1e-7, where its float32 arithmetic loses digits): compared absolutely there."""
    for dtype, rtol, atol in ((np.float64, 5e-9, 1e-300), (np.float32, 4e-6, 1e-7)):
        a, x = A.astype(dtype), X.astype(dtype)
        ours, theirs = both(lambda lib, a=a, x=x: getattr(lib.special, name)(
            lib.tensor(a), lib.tensor(x)).numpy())
        assert ours.dtype == theirs.dtype == dtype
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
        big = A > 1e5
        np.testing.assert_allclose(ours[~big], theirs[~big], rtol=rtol, atol=atol)
        np.testing.assert_allclose(ours[big], theirs[big], rtol=1e-6, atol=10 * atol)
    a32, x32 = A.astype(np.float32), X.astype(np.float32)  # float32 = float64 rounded
    f32 = getattr(ng.special, name)(ng.tensor(a32), ng.tensor(x32)).numpy()
    f64 = getattr(ng.special, name)(ng.tensor(a32.astype(np.float64)),
                                    ng.tensor(x32.astype(np.float64))).numpy()
    np.testing.assert_array_equal(f32, f64.astype(np.float32))


def test_float64_to_a_few_ulp_of_the_exact_values():
    """Against 40-digit mpmath (PyTorch's own float64 is off by up to 1.4e-9 here)."""
    mpmath = pytest.importorskip("mpmath", reason="mpmath comes with torch's sympy; "
                                 "pip install mpmath")
    mpmath.mp.dps = 40
    a, x = A[:500:5], X[:500:5]
    p = ng.special.gammainc(ng.tensor(a), ng.tensor(x)).numpy()
    q = ng.special.gammaincc(ng.tensor(a), ng.tensor(x)).numpy()
    exact_p = [float(mpmath.gammainc(u, 0, v, regularized=True)) for u, v in zip(a, x)]
    exact_q = [float(mpmath.gammainc(u, v, mpmath.inf, regularized=True)) for u, v in zip(a, x)]
    np.testing.assert_allclose(p, exact_p, rtol=2e-12, atol=1e-300)
    np.testing.assert_allclose(q, exact_q, rtol=2e-12, atol=1e-300)


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_gradient_in_x_and_none_in_a(name):
    def run(lib):
        x = lib.tensor(X[:500], requires_grad=True)
        y = getattr(lib, name)(lib.tensor(A[:500]), x)
        y.backward(lib.ones_like(y) * 0.7)
        return x.grad.numpy(), y.grad_fn.name()

    (g, fn), (tg, tfn) = both(run)
    assert fn == tfn
    np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-300)

    def grad_in_a(lib):
        a = lib.tensor([1.5], requires_grad=True)
        getattr(lib, name)(a, lib.tensor([2.0])).sum().backward()

    same_error(grad_in_a)


def test_methods_in_place_and_promotion():
    for make in (lambda lib: lib.tensor([1.0, 2.5]).igamma(lib.tensor([0.5, 3.0])),
                 lambda lib: lib.tensor([1.0, 2.5]).igammac_(lib.tensor([0.5, 3.0])),
                 lambda lib: lib.igamma(lib.tensor([1, 2]), lib.tensor([0.5, 3.0])),
                 lambda lib: lib.special.gammaincc(lib.tensor([2.0], dtype=lib.float64),
                                                   lib.tensor([0.5]))):
        ours, theirs = both(make)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    same_error(lambda lib: lib.igamma(lib.tensor([1, 2]), lib.tensor([1, 3])))
    same_error(lambda lib: lib.special.gammainc([1.0], lib.tensor([1.0])))
