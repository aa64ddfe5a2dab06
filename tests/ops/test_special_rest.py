"""torch.special's zeta, Bessel functions (J, Y, I, K, spherical j0), airy_ai and orthogonal
polynomials against PyTorch: values on random and edge points in float32 and float64, NaN / inf
behaviour, integer inputs, numbers in place of tensors, broadcasting, zeta's gradient in q, and
PyTorch's errors (no gradient for the rest, float16, bad arguments)."""

import numpy as np
import pytest
import torch
from torch_compare import assert_close, both, check_against_torch, same_error

import numpy2gpt as ng
import numpy2gpt.special as special

INF, NAN = np.inf, np.nan


def _rtol(dtype):
    return 1e-11 if dtype == np.float64 else 2e-5


# ----- zeta -------------------------------------------------------------------------------------
S_EDGES = np.array([1.0, 1.0, 0.5, 2.0, 3.0, 2.0, 2.5, NAN, INF, 2.0, 2.0, 4.0, 1.5])
Q_EDGES = np.array([1.0, NAN, 2.0, 0.0, -1.0, -1.5, -1.5, 1.0, 2.0, INF, -INF, -2.0, 1e-3])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zeta_values(dtype):
    rng = np.random.default_rng(1)
    s = np.concatenate([rng.uniform(1.01, 12, 200), S_EDGES]).astype(dtype)
    q = np.concatenate([rng.uniform(-6, 12, 200), Q_EDGES]).astype(dtype)
    ours, theirs = both(lambda lib: lib.special.zeta(lib.tensor(s), lib.tensor(q)))
    assert_close(ours, theirs, rtol=_rtol(dtype), atol=0)
    assert np.isinf(ours.numpy()[200]) and np.isnan(ours.numpy()[202])  # s = 1, s < 1


def test_zeta_numbers_integers_and_broadcasting():
    s, q = np.array([[2.0], [3.5]]), np.array([0.5, 1.0, 4.0])
    for fn in (lambda lib: lib.special.zeta(lib.tensor(s), lib.tensor(q)),
               lambda lib: lib.special.zeta(2.5, lib.tensor(q)),
               lambda lib: lib.special.zeta(lib.tensor(s), 3),
               lambda lib: lib.special.zeta(lib.tensor([2, 3]), lib.tensor([1, 2])),
               lambda lib: lib.special.zeta(lib.tensor(s, dtype=lib.float32), lib.tensor(q))):
        ours, theirs = both(fn)
        assert_close(ours, theirs, rtol=1e-12, atol=0)


def test_zeta_gradient_in_q_only():
    rng = np.random.default_rng(2)
    s, q = rng.uniform(1.5, 5, (3, 4)), rng.uniform(0.2, 5, (3, 4))
    check_against_torch(special.zeta, torch.special.zeta, [s, q], requires_grad=[False, True])
    check_against_torch(lambda q: special.zeta(3.0, q), lambda q: torch.special.zeta(3.0, q),
                        [q.astype(np.float32)])
    # q broadcast against s: the gradient is summed back to q's shape
    check_against_torch(special.zeta, torch.special.zeta, [s, q[:1]], requires_grad=[False, True])
    for lib in (ng, torch):
        y = lib.special.zeta(lib.tensor(q[0], requires_grad=True), 2.0)
        assert repr(y.grad_fn).startswith("<SpecialZetaBackward2")
    same_error(lambda lib: lib.special.zeta(lib.tensor(s, requires_grad=True),
                                            lib.tensor(q)).sum().backward())


def test_zeta_errors():
    same_error(lambda lib: lib.special.zeta(lib.tensor([2.0], dtype=lib.float16), 1.0))
    # (numpy2gpt's broadcasting error also names both shapes)
    same_error(lambda lib: lib.special.zeta(lib.ones(2), lib.ones(3)), same_message=False)
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        special.zeta(2.0, 3.0)
    with pytest.raises(TypeError):
        torch.special.zeta(2.0, 3.0)


# ----- Bessel functions and airy_ai (no gradient) -----------------------------------------------
UNARY = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
         "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
         "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
         "airy_ai"]
X_EDGES = np.array([0.0, -0.0, 1e-6, -1e-6, 0.5, -0.5, 2.0, -2.0, 2.09, -2.09, 5.0, -5.0, 8.0,
                    -8.0, 2.404825557695773, 103.0, 104.0, 700.0, 1e4, -1e4, INF, -INF, NAN])


def _unary_points(dtype):
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.standard_normal(300) * 3, rng.standard_normal(300) * 30,
                        rng.uniform(-3, 3, 200), X_EDGES]).astype(dtype)
    return np.concatenate([x, np.nextafter(x[-23:-3], dtype(INF))])  # either side of the edges


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", UNARY)
def test_unary_values(name, dtype):
    x = _unary_points(dtype)
    ours, theirs = both(lambda lib: getattr(lib.special, name)(lib.tensor(x)))
    assert ours.numpy().dtype == theirs.numpy().dtype and ours.shape == theirs.shape
    atol = 1e-44  # (PyTorch's i1 rounds its subnormal result at x = 1e-45 the other way)
    if not name.startswith(("modified", "scaled")):
        # J, Y, j0 and Ai oscillate (decaying like |x|^-1/2 or 1/x): next to their zeros, an
        # absolute error of a few ulps of that envelope
        with np.errstate(invalid="ignore"):
            envelope = np.where(np.abs(x) > 1, np.abs(x), 1.0).astype(np.float64) ** -0.5
        atol = (1e-15 if dtype == np.float64 else 3e-7) * np.nan_to_num(envelope, nan=1.0)
    a, b = ours.numpy(), theirs.numpy()
    bad = ~np.isclose(a, b, rtol=_rtol(dtype), atol=atol, equal_nan=True)
    assert not bad.any(), list(zip(x[bad], a[bad], b[bad]))[:5]


@pytest.mark.parametrize("name", UNARY)
def test_unary_dtypes_no_gradient_and_errors(name):
    for x in (np.array([0, 1, -3, 7]), np.array([True, False])):
        ours, theirs = both(lambda lib, x=x: getattr(lib.special, name)(lib.tensor(x)))
        assert_close(ours, theirs, rtol=2e-5)
    ours, theirs = both(lambda lib: getattr(lib.special, name)(
        lib.tensor(np.array([[0.5, 3.0], [7.0, 1.0]]), requires_grad=True)))
    assert ours.requires_grad is theirs.requires_grad is False and ours.grad_fn is None
    assert_close(ours, theirs)
    same_error(lambda lib: getattr(lib.special, name)(lib.tensor([1.0], requires_grad=True))
               .sum().backward())
    same_error(lambda lib: getattr(lib.special, name)(lib.tensor([1.0], dtype=lib.float16)))
    same_error(lambda lib: getattr(lib.special, name)(1.0))


# ----- orthogonal polynomials -------------------------------------------------------------------
CHEBYSHEV = [f"{shift}chebyshev_polynomial_{k}" for shift in ("", "shifted_") for k in "tuvw"]
POLYNOMIALS = CHEBYSHEV + ["hermite_polynomial_h", "hermite_polynomial_he",
                           "laguerre_polynomial_l", "legendre_polynomial_p"]
DEGREES = np.array([-3, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 30, 100, 129, 513, 1000, NAN,
                    INF, -INF, 2.7, -0.5])
# PyTorch leaves the result unset for NaN x in these (an uninitialised variable): not compared
NAN_X_GARBAGE = {"chebyshev_polynomial_u", "chebyshev_polynomial_w", "laguerre_polynomial_l",
                 "legendre_polynomial_p"} | {f"shifted_chebyshev_polynomial_{k}" for k in "tuw"}


def _polynomial_points(dtype, name):
    one, rng = dtype(1), np.random.default_rng(4)
    x = np.concatenate([rng.uniform(-1.2, 1.2, 40), rng.uniform(-0.2, 1.2, 20),
                        rng.standard_normal(10) * 3,
                        [0.0, 1.0, -1.0, 0.5, -0.5, 1e-9, INF, -INF]]).astype(dtype)
    x = np.concatenate([x, [np.nextafter(one, 2 * one), np.nextafter(one, 0 * one),
                            np.nextafter(-one, 0 * one)]]).astype(dtype)
    if name not in NAN_X_GARBAGE:
        x = np.append(x, dtype(NAN))
    return x


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_values(name, dtype):
    x = _polynomial_points(dtype, name)
    ours, theirs = both(lambda lib: getattr(lib.special, name)(
        lib.tensor(x[None, :]), lib.tensor(DEGREES[:, None].astype(dtype))))
    assert ours.shape == theirs.shape == (len(DEGREES), len(x))
    # row by row (one degree each): judged against the row's scale, as recurrences in float32
    # cancel, and PyTorch's compiled loop rounds differently (it may fuse multiply-adds): after
    # a thousand float32 steps the two drift apart by some 1e-3
    for k, degree in enumerate(DEGREES):
        rtol = 1e-9 if dtype == np.float64 else 5e-3 if degree >= 1000 else 2e-4
        assert_close(ours[k], theirs[k], rtol=rtol, what=f"degree {degree}")


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_numbers_integers_and_no_gradient(name):
    x = np.array([[-0.7, 0.3, 0.9], [1.5, -2.0, 0.0]])
    n = np.array([0, 3, 7])
    for fn in (lambda f, lib: f(lib.tensor(x), 4), lambda f, lib: f(0.6, lib.tensor(n)),
               lambda f, lib: f(lib.tensor(x), lib.tensor(n)),
               lambda f, lib: f(lib.tensor([2, -1, 0]), lib.tensor(n)),
               lambda f, lib: f(lib.tensor(x, dtype=lib.float32), lib.tensor(n)),
               lambda f, lib: f(lib.tensor(x), 2.9)):
        ours, theirs = both(lambda lib, fn=fn: fn(getattr(lib.special, name), lib))
        assert_close(ours, theirs, rtol=1e-5)
    ours, theirs = both(lambda lib: getattr(lib.special, name)(
        lib.tensor(x, requires_grad=True), 3))
    assert ours.requires_grad is theirs.requires_grad is False and ours.grad_fn is None
    same_error(lambda lib: getattr(lib.special, name)(lib.tensor([0.5], dtype=lib.float16), 2))
    same_error(lambda lib: getattr(lib.special, name)(lib.ones(2), lib.ones(3)),
               same_message=False)
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        getattr(special, name)(0.5, 3)
    with pytest.raises(TypeError):
        getattr(torch.special, name)(0.5, 3)
