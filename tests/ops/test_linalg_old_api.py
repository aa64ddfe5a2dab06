"""The older torch-level linear algebra (torch.svd's (U, S, V), torch.qr(some), triangular_solve,
cholesky_solve, frobenius_norm, nuclear_norm) against PyTorch: values, named tuples, gradients,
warnings, errors."""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import check_against_torch, rand, same_error

import numpy2gpt as ng

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:UserWarning")


def _spd(n, seed=0):
    a = rand(n, n, seed=seed)
    return a @ a.T + n * np.eye(n)


def _lower(n, seed=0):
    return np.tril(rand(n, n, seed=seed)) + 3 * np.eye(n)


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
@pytest.mark.parametrize("some", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_svd_returns_v(shape, some, dtype):
    """S, and U V^T (the same whichever signs LAPACK picks for a pair of singular vectors), with
    their gradients; U and V themselves up to those signs, V not transposed."""
    def gauge_free(lib):
        def fn(a):
            U, S, V = lib.svd(a, some=some)
            k = S.shape[-1]
            return S, U[..., :k] @ V[..., :k].mT
        return fn

    check_against_torch(gauge_free(ng), gauge_free(torch), [rand(*shape, seed=4).astype(dtype)])
    a = rand(*shape, seed=4).astype(dtype)
    ours, theirs = ng.svd(ng.tensor(a), some), torch.svd(torch.tensor(a), some)
    assert type(ours).__name__ == "svd" and ours._fields == ("U", "S", "V")
    k = min(shape[-2:])
    for o, t in ((ours.U, theirs.U), (ours.V, theirs.V)):
        assert o.shape == t.shape and o.dtype == ng.float32 if dtype == np.float32 else True
        o, t = o.numpy()[..., :k], t.numpy()[..., :k]
        np.testing.assert_allclose(np.abs(o), np.abs(t), rtol=1e-4, atol=1e-5)


def test_svd_without_uv():
    a = rand(4, 3, seed=1)
    ours, theirs = ng.svd(ng.tensor(a), compute_uv=False), torch.svd(torch.tensor(a),
                                                                      compute_uv=False)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-12)
        assert o.shape == t.shape


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)])
@pytest.mark.parametrize("some", [True, False])
def test_qr_some(shape, some):
    if not some and shape[-2] < shape[-1]:
        grad = True
    else:
        grad = some or shape[-2] <= shape[-1]  # PyTorch has no gradient for a complete Q, m > n
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_against_torch(lambda a: tuple(ng.qr(a, some)), lambda a: tuple(torch.qr(a, some)),
                            [rand(*shape, seed=2)], check_grad=grad)
    assert any("torch.qr is deprecated" in str(w.message) for w in caught)
    assert ng.qr(ng.tensor(rand(*shape)))._fields == ("Q", "R")


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("transpose", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
def test_triangular_solve(upper, transpose, unitriangular):
    A = _lower(4, seed=3)
    A = A.T.copy() if upper else A
    out = check_against_torch(
        lambda b, a: tuple(ng.triangular_solve(b, a, upper, transpose, unitriangular)),
        lambda b, a: tuple(torch.triangular_solve(b, a, upper, transpose, unitriangular)),
        [rand(2, 4, 3, seed=5), A])
    assert out[0][1] is not out[2][1] and out[0][0].dtype == ng.float64
    assert type(ng.triangular_solve(ng.ones(2, 1), ng.eye(2))).__name__ == "triangular_solve"


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cholesky_solve(upper, dtype):
    L = np.linalg.cholesky(_spd(4, seed=6))
    L = L.T.copy() if upper else L
    check_against_torch(lambda b, f: ng.cholesky_solve(b, f, upper),
                        lambda b, f: torch.cholesky_solve(b, f, upper),
                        [rand(4, 2, seed=7).astype(dtype), L.astype(dtype)],
                        grad_rtol=1e-4 if dtype == np.float32 else None)


@pytest.mark.parametrize("call", [
    lambda lib: lib.frobenius_norm(lib.tensor(rand(3, 4)), (0, 1)),
    lambda lib: lib.frobenius_norm(lib.tensor(rand(3, 4)), 1, True),
    lambda lib: lib.nuclear_norm(lib.tensor(rand(3, 4))),
    lambda lib: lib.nuclear_norm(lib.tensor(rand(2, 3, 4)), (0, 2)),
    lambda lib: lib.nuclear_norm(lib.tensor(rand(2, 3, 4)), (-2, -1), True),
])
def test_norms(call):
    def make(lib):
        return lambda: call(lib)

    check_against_torch(lambda: make(ng)(), lambda: make(torch)(), [], check_grad=False)


def test_norm_gradients():
    check_against_torch(lambda a: ng.frobenius_norm(a, (0, 1)),
                        lambda a: torch.frobenius_norm(a, (0, 1)), [rand(3, 4)])
    check_against_torch(lambda a: ng.nuclear_norm(a), lambda a: torch.nuclear_norm(a),
                        [rand(3, 4)])


@pytest.mark.parametrize("call", [
    lambda lib: lib.svd(lib.tensor([[1, 2], [3, 4]])),
    lambda lib: lib.svd(lib.ones(3)),
    lambda lib: lib.qr(lib.ones(3)),
    lambda lib: lib.frobenius_norm(lib.ones(2, 3, 4), (0, 1, 2)),
    lambda lib: lib.triangular_solve(3, lib.eye(2)),
    lambda lib: lib.cholesky_solve(lib.ones(2, 1), 3),
])
def test_errors(call):
    same_error(call, same_message=False)
