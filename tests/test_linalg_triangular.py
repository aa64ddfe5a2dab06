"""linalg.solve_triangular and cholesky_inverse against PyTorch: values, gradients (only the
triangle read gets one), second derivatives, dtypes, broadcasting, zero pivots, errors."""

import numpy as np
import pytest
import torch
from torch_compare import check_against_torch, check_double_backward, rand, same_error

import numpy2gpt as ng


def _triangular_system(upper, left, seed=0):
    """A well-conditioned random A (both triangles filled: only one may be read) and B with
    broadcasting batch dims."""
    a = rand(2, 4, 4, seed=seed) + 4 * np.eye(4)
    b = rand(3, 1, 4, 2, seed=seed + 1) if left else rand(3, 1, 2, 4, seed=seed + 1)
    return a, b


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_solve_triangular_matches_torch(upper, left, unitriangular, dtype):
    a, b = (x.astype(dtype) for x in _triangular_system(upper, left))
    kw = {"upper": upper, "left": left, "unitriangular": unitriangular}
    check_against_torch(lambda A, B: ng.linalg.solve_triangular(A, B, **kw),
                        lambda A, B: torch.linalg.solve_triangular(A, B, **kw), [a, b])


@pytest.mark.parametrize("upper", [True, False])
def test_solve_triangular_second_derivatives_and_gradcheck(upper):
    a, b = _triangular_system(upper, True)
    assert ng.autograd.gradgradcheck(
        lambda A, B: ng.linalg.solve_triangular(A, B, upper=upper),
        (ng.tensor(a[0], requires_grad=True), ng.tensor(b[0, 0], requires_grad=True)))


def test_solve_triangular_zero_pivot_gives_inf_like_torch_and_dtype_follows_a():
    ours, theirs = (lib.linalg.solve_triangular(lib.tensor([[2.0, 0], [1, 0]]), lib.ones(2, 1),
                                                upper=False) for lib in (ng, torch))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for a_dtype, b_dtype in (("float64", "float32"), ("float32", "float64")):
        ours, theirs = (lib.linalg.solve_triangular(lib.eye(3, dtype=getattr(lib, a_dtype)),
                                                    lib.ones(3, 1, dtype=getattr(lib, b_dtype)),
                                                    upper=True) for lib in (ng, torch))
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]


@pytest.mark.parametrize("call", [
    lambda lib: lib.linalg.solve_triangular(lib.ones(3), lib.ones(3, 1), upper=True),
    lambda lib: lib.linalg.solve_triangular(lib.ones(3, 3), lib.ones(2, 1), upper=True),
    lambda lib: lib.linalg.solve_triangular(lib.ones(3, 3), lib.ones(2, 1), upper=True,
                                            left=False),
    lambda lib: lib.linalg.solve_triangular(lib.ones(3, 2), lib.ones(3, 1), upper=True),
    lambda lib: lib.linalg.solve_triangular(lib.ones(3, 3), lib.ones(3), upper=True),
    lambda lib: lib.linalg.solve_triangular(lib.ones(3, 3, dtype=lib.int64),
                                            lib.ones(3, 1, dtype=lib.int64), upper=True),
    lambda lib: lib.cholesky_inverse(lib.ones(3)),
    lambda lib: lib.cholesky_inverse(lib.ones(3, 2)),
    lambda lib: lib.cholesky_inverse(lib.ones(3, 3, dtype=lib.int64)),
])
def test_errors_are_torchs(call):
    same_error(call)


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cholesky_inverse_matches_torch(upper, dtype):
    factor = np.tril(rand(2, 3, 3, seed=4)) + 3 * np.eye(3)
    factor = (np.swapaxes(factor, -1, -2) if upper else factor).astype(dtype)
    check_against_torch(lambda L: ng.cholesky_inverse(L, upper),
                        lambda L: torch.cholesky_inverse(L, upper), [factor])
    check_against_torch(lambda L: L.cholesky_inverse(upper), lambda L: L.cholesky_inverse(upper),
                        [factor])


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_inverse_second_derivatives_are_torchs(upper):
    """PyTorch's gradient treats the whole factor as the input (its forward reads one triangle),
    so gradcheck fails on PyTorch's own op: the second derivatives are compared with its."""
    factor = np.tril(rand(3, 3, seed=5)) + 3 * np.eye(3)
    factor = factor.T.copy() if upper else factor
    check_double_backward(lambda L: ng.cholesky_inverse(L, upper),
                          lambda L: torch.cholesky_inverse(L, upper), factor)
