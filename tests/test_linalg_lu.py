"""The LU family (linalg.lu, lu_factor, lu_factor_ex, lu_solve, torch.lu, lu_unpack, lu_solve),
matrix_exp and the _ex functions (solve_ex, inv_ex, cholesky_ex) against PyTorch: values,
pivots, dtypes, gradients (random upstream gradients, float64 and float32, gradcheck), batches,
broadcasting, singular matrices and PyTorch's errors."""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, rand, same_error

import numpy2gpt as ng

pytestmark = pytest.mark.filterwarnings("ignore:torch.lu")  # (torch.lu is deprecated)
RTOL = {np.float64: 1e-9, np.float32: 1e-4}
SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]])


def compare(fn, arrays, dtype=np.float64, **kwargs):
    """fn(lib, *leaves) on both libraries: outputs, and the gradient of every floating input."""
    rtol = RTOL[dtype]
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    return check_against_torch(lambda *xs: fn(ng, *xs), lambda *xs: fn(torch, *xs), arrays,
                               rtol=rtol, atol=rtol, grad_rtol=rtol * 10, grad_atol=rtol * 10,
                               **kwargs)


def factor(a):
    """(LU, pivots) of `a` from PyTorch, as arrays (the inputs of lu_solve and lu_unpack)."""
    LU, pivots = torch.linalg.lu_factor(torch.tensor(a))
    return LU.numpy(), pivots.numpy()


SHAPES = [(3, 3), (2, 4, 4), (3, 5), (5, 3), (2, 1, 4, 2)]


# ----- factorizations ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
def test_lu_and_lu_factor_values_pivots_and_gradients(shape, dtype):
    a = rand(*shape, seed=len(shape))
    compare(lambda lib, x: tuple(lib.linalg.lu(x)), [a], dtype)
    compare(lambda lib, x: tuple(lib.linalg.lu_factor(x)), [a], dtype)
    compare(lambda lib, x: tuple(lib.linalg.lu_factor_ex(x)), [a], dtype)


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
def test_lu_gradient_of_l_or_u_alone(shape):
    """A gradient that reaches only L, or only U, drops the other's terms (PyTorch's formula)."""
    a = rand(*shape, seed=3)
    compare(lambda lib, x: lib.linalg.lu(x).L, [a])
    compare(lambda lib, x: lib.linalg.lu(x).U, [a])


def test_lu_gradcheck_and_second_derivatives():
    for shape in [(3, 3), (2, 4), (4, 2)]:
        x = ng.tensor(rand(*shape, seed=5), requires_grad=True)
        assert ng.autograd.gradcheck(lambda t: tuple(ng.linalg.lu(t))[1:], (x,))
        assert ng.autograd.gradcheck(lambda t: ng.linalg.lu_factor(t).LU, (x,))
    x = ng.tensor(rand(3, 3, seed=6), requires_grad=True)
    assert ng.autograd.gradgradcheck(lambda t: ng.linalg.lu_factor(t).LU, (x,))


def test_lu_pivots_ties_take_the_first_largest_row():
    a = np.array([[1.0, 2.0, 0.0], [-1.0, 5.0, 1.0], [1.0, 1.0, 3.0]])  # |1| three times
    compare(lambda lib, x: tuple(lib.linalg.lu_factor_ex(x)), [a])
    compare(lambda lib, x: tuple(lib.linalg.lu(x)), [np.array([[0.0, 1.0], [0.0, 2.0]])],
            check_grad=False)
    # idamax skips a NaN unless it comes first
    for a in ([[2.0, 1, 0], [np.nan, 1, 1], [5, 1, 1]], [[np.nan, 2.0], [3, 1]]):
        compare(lambda lib, x: tuple(lib.linalg.lu_factor_ex(x)), [np.array(a)],
                check_grad=False)


def test_singular_matrices_info_and_errors():
    batch = np.stack([np.eye(3), SINGULAR, np.zeros((3, 3))])
    compare(lambda lib, x: tuple(lib.linalg.lu_factor_ex(x)), [batch], check_grad=False)
    compare(lambda lib, x: tuple(lib.linalg.lu(x)), [batch], check_grad=False)
    info = ng.linalg.lu_factor_ex(ng.tensor(batch)).info
    assert info.dtype == ng.int32 and info.tolist() == [0, 3, 1]
    same_error(lambda lib: lib.linalg.lu_factor(lib.tensor(batch)))
    same_error(lambda lib: lib.linalg.lu_factor(lib.tensor(SINGULAR)))
    same_error(lambda lib: lib.linalg.lu_factor_ex(lib.tensor(batch), check_errors=True))


def test_empty_matrices():
    for shape in [(0, 3), (2, 0, 0), (2, 0, 3)]:
        compare(lambda lib, x: tuple(lib.linalg.lu_factor_ex(x)), [np.zeros(shape)],
                check_grad=False)
        compare(lambda lib, x: tuple(lib.linalg.lu(x)), [np.zeros(shape)], check_grad=False)


def test_named_tuples_and_grad_fn_names():
    a = ng.tensor(rand(3, 3), requires_grad=True)
    P, L, U = r = ng.linalg.lu(a)
    assert type(r).__name__ == "linalg_lu" and r.P is P and r.L is L and r.U is U
    assert not P.requires_grad and L.grad_fn.name() == "LinalgLuBackward0"
    r = ng.linalg.lu_factor_ex(a)
    assert type(r).__name__ == "linalg_lu_factor_ex" and r._fields == ("LU", "pivots", "info")
    assert r.LU.grad_fn.name() == "LinalgLuFactorExBackward0" and not r.pivots.requires_grad
    assert type(ng.linalg.lu_factor(a)).__name__ == "linalg_lu_factor"
    r = ng.lu_unpack(*ng.linalg.lu_factor(a))
    assert type(r).__name__ == "lu_unpack" and r.L.grad_fn.name() == "LuUnpackBackward0"
    X = ng.linalg.lu_solve(*ng.linalg.lu_factor(a), ng.ones(3, 1, dtype=ng.float64))
    assert X.grad_fn.name() == "LinalgLuSolveBackward0"


# ----- lu_unpack --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (3, 5), (5, 3)])
def test_lu_unpack(shape):
    lu, pivots = factor(rand(*shape, seed=2))
    compare(lambda lib, x, p: tuple(lib.lu_unpack(x, p)), [lu, pivots])
    compare(lambda lib, x, p: tuple(lib.lu_unpack(x, p))[1:], [lu, pivots], np.float32)
    compare(lambda lib, x, p: lib.lu_unpack(x, p).U, [lu, pivots])
    for flags in [(False, True), (True, False), (False, False)]:
        compare(lambda lib, x, p, f=flags: tuple(lib.lu_unpack(x, p, *f)), [lu, pivots],
                check_grad=False)
    compare(lambda lib, x, p: tuple(lib.lu_unpack(x, p)),  # integer LU data unpacks too
            [np.arange(9).reshape(3, 3), np.array([2, 3, 3], np.int32)])


# ----- lu_solve ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve_values_and_gradients(left, adjoint, dtype):
    lu, pivots = factor(rand(2, 4, 4, seed=7))
    b = rand(3, 1, 4, 2, seed=8) if left else rand(3, 1, 2, 4, seed=8)  # batches broadcast
    compare(lambda lib, x, p, y: lib.linalg.lu_solve(x, p, y, left=left, adjoint=adjoint),
            [lu.astype(dtype), pivots, b], dtype)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve_through_the_factorization_gradcheck(left, adjoint):
    """A -> lu_factor -> lu_solve: the gradient of A is that of solve."""
    a, b = rand(3, 3, seed=9) + 2 * np.eye(3), rand(3, 3, seed=10)
    compare(lambda lib, x, y: lib.linalg.lu_solve(*lib.linalg.lu_factor(x), y, left=left,
                                                  adjoint=adjoint), [a, b])
    x, y = (ng.tensor(v, requires_grad=True) for v in (a, b))
    assert ng.autograd.gradcheck(
        lambda s, t: ng.linalg.lu_solve(*ng.linalg.lu_factor(s), t, left=left, adjoint=adjoint),
        (x, y))
    assert ng.autograd.gradgradcheck(
        lambda s, t: ng.linalg.lu_solve(*ng.linalg.lu_factor(s), t, left=left, adjoint=adjoint),
        (x, y))


def test_old_api_torch_lu_lu_solve_and_tensor_methods():
    a, b = rand(2, 3, 3, seed=11), rand(2, 3, 2, seed=12)
    for call in (lambda lib, x: lib.lu(x), lambda lib, x: x.lu(),
                 lambda lib, x: x.lu(get_infos=True)):
        compare(lambda lib, x, c=call: tuple(c(lib, x)), [a])
        assert type(call(ng, ng.tensor(a))) is tuple
    r = ng.lu(ng.tensor(a), get_infos=True)
    assert type(r).__name__ == "_lu_with_info" and r.info.tolist() == [0, 0]
    compare(lambda lib, x, y: lib.lu_solve(y, *lib.linalg.lu_factor(x)), [a, b])
    compare(lambda lib, x, y: y.lu_solve(*lib.linalg.lu_factor(x)), [a, b])
    with pytest.warns(UserWarning, match="torch.lu is deprecated"):
        ng.lu(ng.tensor(a))
    with pytest.warns(UserWarning, match="torch.lu_solve is deprecated"):
        ng.lu_solve(ng.tensor(b), *ng.linalg.lu_factor(ng.tensor(a)))


def _errors(lib):
    f32, i32 = lib.float32, lib.int32
    lu, pivots = lib.linalg.lu_factor(lib.eye(3))
    return [
        lambda: lib.linalg.lu(lib.ones(3)),
        lambda: lib.linalg.lu_factor(lib.ones(3)),
        lambda: lib.linalg.lu_factor_ex(lib.ones(3)),
        lambda: lib.linalg.lu(lib.ones(3, 3, dtype=lib.int64)),
        lambda: lib.linalg.lu_factor(lib.ones(3, 3, dtype=lib.bool)),
        lambda: lib.linalg.lu_factor(lib.ones(3, 3, dtype=lib.float16)),
        lambda: lib.linalg.lu(lib.ones(3, 3), pivot=False),
        lambda: lib.linalg.lu_factor([[1.0]]),
        lambda: lib.linalg.lu_solve(lu, pivots, lib.ones(3)),
        lambda: lib.linalg.lu_solve(lu, pivots, lib.ones(4, 2)),
        lambda: lib.linalg.lu_solve(lu, pivots, lib.ones(3, 2), left=False),
        lambda: lib.linalg.lu_solve(lu, pivots.long(), lib.ones(3, 2)),
        lambda: lib.linalg.lu_solve(lu, pivots[:2], lib.ones(3, 2)),
        lambda: lib.linalg.lu_solve(lu, pivots, lib.ones(3, 2, dtype=lib.float64)),
        lambda: lib.linalg.lu_solve(lu[:2], pivots, lib.ones(3, 2)),
        lambda: lib.linalg.lu_solve(lu.expand(4, 3, 3), pivots, lib.ones(3, 2)),
        lambda: lib.linalg.lu_solve(lu.long(), pivots, lib.ones(3, 2, dtype=lib.int64)),
        lambda: lib.linalg.lu_solve(lu.half(), pivots, lib.ones(3, 2, dtype=lib.float16)),
        lambda: lib.linalg.lu_solve(lu, lib.tensor([4, 2, 3], dtype=i32), lib.ones(3, 2)),
        lambda: lib.linalg.lu_solve(lu, lib.tensor([0, 2, 3], dtype=i32), lib.ones(3, 2)),
        lambda: lib.linalg.lu_solve(lu, [1, 2, 3], lib.ones(3, 2)),
        lambda: lib.lu_unpack(lu, pivots.long()),
        lambda: lib.lu_unpack(lu[0], pivots),
        lambda: lib.lu_unpack(lu, lib.tensor([4, 2, 3], dtype=i32)),
        lambda: lib.lu_unpack([[1.0]], pivots),
        lambda: lib.linalg.matrix_exp(lib.ones(3, 3, dtype=lib.int64)),
        lambda: lib.linalg.matrix_exp(lib.ones(3, 3, dtype=lib.bool)),
        lambda: lib.linalg.matrix_exp(lib.ones(3, 2, dtype=f32)),
        lambda: lib.linalg.matrix_exp(lib.ones(3)),
        lambda: lib.linalg.matrix_exp([[1.0]]),
        lambda: lib.matrix_exp([[1.0]]),
        lambda: lib.linalg.solve_ex(lib.ones(3, 3, dtype=lib.int64), lib.ones(3, 1)),
        lambda: lib.linalg.solve_ex(lib.ones(3, 3), lib.ones(2, 1)),
        lambda: lib.linalg.solve_ex([[1.0]], lib.ones(2, 1)),
        lambda: lib.linalg.inv_ex(lib.ones(3, 2)),
        lambda: lib.linalg.inv_ex([[1.0]]),
        lambda: lib.linalg.cholesky_ex(lib.ones(3, 3, dtype=lib.int64)),
        lambda: lib.linalg.cholesky_ex([[1.0]]),
    ]


@pytest.mark.parametrize("k", range(len(_errors(torch))))
def test_errors_like_torch(k):
    same_error(lambda lib: _errors(lib)[k]())


# ----- matrix_exp -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matrix_exp_every_degree_and_scaling(dtype):
    """Norms from below the degree-1 bound to far beyond degree 18's (scaling and squaring), in
    one batch: each matrix gets its own degree, as in PyTorch."""
    scales = [1e-9, 1e-6, 1e-3, 0.03, 0.2, 0.7, 2.0, 20.0]
    a = np.stack([rand(4, 4, seed=k) * s for k, s in enumerate(scales)])
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    ours, theirs, *_ = compare(lambda lib, x: lib.linalg.matrix_exp(x), [a], dtype)
    for o, t in zip(ours[0].detach().numpy(), theirs[0].detach().numpy()):
        np.testing.assert_allclose(o, t, rtol=rtol, atol=rtol * np.abs(t).max())


def test_matrix_exp_values_known_and_small_cases():
    rotation = ng.linalg.matrix_exp(ng.tensor([[0.0, -np.pi / 3], [np.pi / 3, 0.0]],
                                              dtype=ng.float64))
    c, s = np.cos(np.pi / 3), np.sin(np.pi / 3)
    np.testing.assert_allclose(rotation.numpy(), [[c, -s], [s, c]], rtol=1e-14, atol=1e-15)
    for shape in [(2, 1, 1), (2, 0, 0), (3, 3)]:
        compare(lambda lib, x: lib.linalg.matrix_exp(x), [rand(*shape, seed=4)])
    compare(lambda lib, x: lib.matrix_exp(x), [rand(2, 3, 3, seed=4)])
    compare(lambda lib, x: x.matrix_exp(), [rand(3, 3, seed=4)], np.float32)
    x = ng.tensor(rand(3, 3), requires_grad=True)
    assert ng.linalg.matrix_exp(x).grad_fn.name() == "LinalgMatrixExpBackward0"


def test_matrix_exp_gradcheck_and_second_derivatives():
    x = ng.tensor(rand(3, 3, seed=13), requires_grad=True)
    assert ng.autograd.gradcheck(ng.linalg.matrix_exp, (x,))
    assert ng.autograd.gradgradcheck(ng.linalg.matrix_exp, (x,))
    ours, theirs = (lib.autograd.grad(lib.linalg.matrix_exp(y).sum(), y, create_graph=True)[0]
                    for lib, y in ((ng, x), (torch, torch.tensor(x.detach().numpy(),
                                                                 requires_grad=True))))
    assert_close(ours, theirs.detach(), 1e-10, what="gradient")


# ----- solve_ex, inv_ex, cholesky_ex ------------------------------------------------------------
def test_ex_functions_match_their_plain_versions():
    a, b = rand(2, 3, 3, seed=14) + 3 * np.eye(3), rand(3, 2, seed=15)
    spd = a @ np.swapaxes(a, -1, -2)
    compare(lambda lib, x, y: tuple(lib.linalg.solve_ex(x, y)), [a, b])
    compare(lambda lib, x, y: tuple(lib.linalg.solve_ex(x, y[:, 0])), [a, b])
    compare(lambda lib, x, y: tuple(lib.linalg.solve_ex(x, y, left=False)), [a, rand(4, 3)])
    compare(lambda lib, x: tuple(lib.linalg.inv_ex(x)), [a], np.float32)
    compare(lambda lib, x: tuple(lib.linalg.cholesky_ex(x)), [spd])
    compare(lambda lib, x: tuple(lib.linalg.cholesky_ex(x, upper=True)), [spd])
    r = ng.linalg.solve_ex(ng.tensor(a), ng.tensor(b))
    assert type(r).__name__ == "linalg_solve_ex" and r._fields == ("result", "info")
    assert ng.linalg.inv_ex(ng.tensor(a))._fields == ("inverse", "info")
    assert ng.linalg.cholesky_ex(ng.tensor(spd))._fields == ("L", "info")


def test_ex_functions_report_failures_in_info():
    batch = np.stack([np.eye(3), SINGULAR])
    rhs = np.ones((5, 1, 3, 1))  # broadcast batch: info keeps A's batch shape
    for call in (lambda lib, x: lib.linalg.inv_ex(x).info,
                 lambda lib, x: lib.linalg.solve_ex(x, lib.tensor(rhs)).info,
                 lambda lib, x: lib.linalg.cholesky_ex(x).info,
                 lambda lib, x: lib.linalg.cholesky_ex(-x, upper=True).info):
        ours, theirs = (call(lib, lib.tensor(batch)) for lib in (ng, torch))
        assert_close(ours, theirs)
    # LAPACK's partial factor of a matrix that is not positive-definite
    compare(lambda lib, x: lib.linalg.cholesky_ex(x).L, [batch], check_grad=False)
    compare(lambda lib, x: lib.linalg.cholesky_ex(-x, upper=True).L, [batch], check_grad=False)
    # the inverse of a singular matrix holds inf or NaN, as PyTorch's does
    ours = ng.linalg.inv_ex(ng.tensor(batch)).inverse.numpy()
    assert not np.isfinite(ours[1]).all() and np.array_equal(ours[0], np.eye(3))
    for call in (lambda lib: lib.linalg.inv_ex(lib.tensor(batch), check_errors=True),
                 lambda lib: lib.linalg.solve_ex(lib.tensor(batch), lib.tensor(rhs),
                                                 check_errors=True),
                 lambda lib: lib.linalg.cholesky_ex(lib.tensor(batch), check_errors=True)):
        messages = []
        for lib in (ng, torch):  # each library raises its own LinAlgError
            with pytest.raises(lib.linalg.LinAlgError) as e:
                call(lib)
            messages.append(str(e.value))
        assert messages[0] == messages[1]


def test_names_are_exported():
    for name in ["lu", "lu_factor", "lu_factor_ex", "lu_solve", "matrix_exp", "solve_ex",
                 "inv_ex", "cholesky_ex"]:
        assert callable(getattr(ng.linalg, name)) and name in ng.linalg.__all__
    for name in ["lu", "lu_unpack", "lu_solve", "matrix_exp"]:
        assert callable(getattr(ng, name))
    for name in ["lu", "lu_solve", "matrix_exp"]:
        assert callable(getattr(ng.Tensor, name))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new linalg functions do not warn
        ng.linalg.lu_factor(ng.eye(2))


_RNG = np.random.default_rng(7)
_SQUARE = _RNG.standard_normal((3, 4, 4))
_FOUR = _RNG.standard_normal((2, 2, 2, 2)) + np.eye(4).reshape(2, 2, 2, 2) * 3
_MORE = {
    "cond": lambda T, a: T.linalg.cond(a),
    "cond -2": lambda T, a: T.linalg.cond(a, -2),
    "vander": lambda T, a: T.linalg.vander(a[0, 0]),
    "vander N": lambda T, a: T.linalg.vander(a[0], N=3),
    "tensorinv": lambda T, a: T.linalg.tensorinv(a[0].reshape(2, 2, 2, 2) + T.tensor(_FOUR)),
    "tensorsolve": lambda T, a: T.linalg.tensorsolve(T.tensor(_FOUR) + a[0].reshape(2, 2, 2, 2),
                                                     a[1, :2, :2]),
    "tensorsolve dims": lambda T, a: T.linalg.tensorsolve(
        (T.tensor(_FOUR) + a[0].reshape(2, 2, 2, 2)).permute(2, 3, 0, 1), a[1, :2, :2],
        dims=(0, 1)),
}


@pytest.mark.parametrize("case", _MORE)
def test_cond_vander_tensorinv_tensorsolve_like_torch(case):
    """Values and gradients (float64) against torch."""
    out = []
    for lib in (ng, torch):
        a = lib.tensor(_SQUARE, requires_grad=True)
        y = _MORE[case](lib, a)
        y.backward(lib.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape))))
        out.append((y.detach().numpy(), a.grad.numpy()))
    for ours, theirs in zip(*out, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-10)


def test_cond_of_singular_and_non_square_and_errors():
    for lib in (ng, torch):
        singular = lib.tensor([[1.0, 2.0], [2.0, 4.0]])
        assert lib.linalg.cond(singular, "fro").item() == np.inf
        assert lib.linalg.cond(lib.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])).item() == np.inf
        # PyTorch 2.13's backward of the norm-based ones raises an in-place error: values
        # against torch, gradients by gradcheck
        for p in ("fro", "nuc", float("inf"), -float("inf"), 1, -1):
            ours = ng.linalg.cond(ng.tensor(_SQUARE), p).numpy()
            np.testing.assert_allclose(ours, lib.linalg.cond(lib.tensor(_SQUARE), p).numpy(),
                                       rtol=1e-12)
            if lib is ng:
                assert ng.autograd.gradcheck(lambda a, p=p: ng.linalg.cond(a, p),
                                             (ng.tensor(_SQUARE, requires_grad=True),))
    for call in (lambda T: T.linalg.cond(T.ones(3)), lambda T: T.linalg.cond(T.ones(2, 3), "fro"),
                 lambda T: T.linalg.cond(T.ones(2, 2), "abc"),
                 lambda T: T.linalg.tensorinv(T.ones(2, 3, 6), ind=0),
                 lambda T: T.linalg.tensorinv(T.ones(2, 3, 4), ind=1),
                 lambda T: T.linalg.tensorsolve(T.ones(2, 3, 6), T.ones(4)),
                 lambda T: T.linalg.vander(T.ones(3), N=1)):
        same_error(call)
