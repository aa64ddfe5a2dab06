"""numpy2gpt.linalg (torch.linalg) and the torch-level linear algebra functions against PyTorch:
values, dtypes, shapes, gradients (float64, random upstream gradients), second derivatives, and
PyTorch's errors for bad input."""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, check_double_backward, rand

import numpy2gpt as ng

RTOL = {np.float64: 1e-8, np.float32: 1e-4}


def torch_level(name):
    """numpy2gpt.<name> once exported, else the torch-level function from numpy2gpt.linalg."""
    return getattr(ng, name, None) or ng.linalg.TORCH_FUNCTIONS[name]


def lin(lib):
    return lib.linalg


def square(*batch, n=3, seed=0):
    return rand(*batch, n, n, seed=seed) + 2 * np.eye(n)


def spd(*batch, n=3, seed=0):
    a = rand(*batch, n, n, seed=seed)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def symmetric(*batch, n=3, seed=0):
    a = rand(*batch, n, n, seed=seed)
    return a + np.swapaxes(a, -1, -2)


def compare(fn, arrays, dtype=np.float64, grad=True, **kwargs):
    """fn(lib, *leaves) on both libraries: outputs and (grad=True) every input's gradient."""
    rtol = RTOL[dtype]
    return check_against_torch(lambda *xs: fn(ng, *xs), lambda *xs: fn(torch, *xs),
                               [a.astype(dtype) for a in arrays],
                               requires_grad=[grad] * len(arrays), rtol=rtol, atol=rtol,
                               grad_rtol=rtol * 10, grad_atol=rtol * 10, check_grad=grad,
                               **kwargs)


def outputs(r):
    """A named tuple's floating tensors as a plain tuple (check_against_torch compares those)."""
    return tuple(r)


# ----- inverse, determinants, solve -------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch", [(), (2,), (2, 1)])
def test_inv_det_slogdet(dtype, batch):
    a = square(*batch)
    compare(lambda lib, x: lin(lib).inv(x), [a], dtype)
    compare(lambda lib, x: lin(lib).det(x), [a], dtype)
    compare(lambda lib, x: outputs(lin(lib).slogdet(x)), [a], dtype)


def test_det_and_slogdet_of_negative_and_singular_matrices():
    neg = np.array([[0.0, 1.0], [1.0, 0.0]])
    compare(lambda lib, x: outputs(lin(lib).slogdet(x)), [neg])
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]])
    compare(lambda lib, x: lin(lib).det(x), [square(seed=1)[None]])
    # at an exactly singular matrix PyTorch's first derivative of det is zero; numpy2gpt's is
    # the cofactor matrix, the true derivative (tests/ops/test_fuzz5_fixes.py)
    dets = [lin(lib).det(lib.tensor(singular)).item() for lib in (ng, torch)]
    assert dets[0] == pytest.approx(dets[1], abs=1e-12)
    ours, theirs = (lin(lib).slogdet(lib.tensor(singular)) for lib in (ng, torch))
    assert_close(ours.logabsdet, theirs.logabsdet)
    assert ours.sign.item() == 0 and ours.logabsdet.item() == -np.inf


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_solve(dtype):
    a, b = square(2), rand(2, 3, 4, seed=1)
    compare(lambda lib, x, y: lin(lib).solve(x, y), [a, b], dtype)
    compare(lambda lib, x, y: lin(lib).solve(x, y), [a, b[..., 0]], dtype)  # a vector each
    compare(lambda lib, x, y: lin(lib).solve(x, y), [a[0], b], dtype)  # A broadcast
    compare(lambda lib, x, y: lin(lib).solve(x, y), [a, b[0]], dtype)  # B broadcast
    compare(lambda lib, x, y: lin(lib).solve(x, y, left=False), [a, b.swapaxes(-1, -2)], dtype)


# ----- decompositions ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(dtype, upper):
    compare(lambda lib, x: lin(lib).cholesky(x, upper=upper), [spd(2)], dtype)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)])
@pytest.mark.parametrize("mode", ["reduced", "complete"])
def test_qr(shape, mode):
    if mode == "complete" and shape[-2] > shape[-1]:  # not differentiable: values only
        compare(lambda lib, x: outputs(lin(lib).qr(x, mode)), [rand(*shape)], grad=False)
        return
    compare(lambda lib, x: outputs(lin(lib).qr(x, mode)), [rand(*shape)])
    compare(lambda lib, x: lin(lib).qr(x, mode).R, [rand(*shape)])  # Q gets no gradient
    compare(lambda lib, x: lin(lib).qr(x, mode).Q, [rand(*shape)])


def test_qr_mode_r_and_its_errors():
    x = rand(4, 3)
    compare(lambda lib, t: lin(lib).qr(t, mode="r").R, [x], grad=False)
    for lib in (ng, torch):
        q, r = lin(lib).qr(lib.tensor(x, requires_grad=True), mode="r")
        assert tuple(q.shape) == (0,)
        with pytest.raises(RuntimeError, match="depends on Q, which is not computed"):
            r.sum().backward()
        q, r = lin(lib).qr(lib.tensor(x, requires_grad=True), mode="complete")
        with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
            q.sum().backward()


def _sign_free(v):
    """Eigen- and singular vectors are unique up to sign: compare their squares."""
    return v * v


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh(dtype, uplo):
    a = rand(2, 3, 3)  # not symmetric: only the UPLO triangle counts
    compare(lambda lib, x: (lin(lib).eigh(x, uplo)[0], _sign_free(lin(lib).eigh(x, uplo)[1])),
            [a], dtype)
    compare(lambda lib, x: lin(lib).eigvalsh(x, UPLO=uplo), [a], dtype)


def test_eigh_repeated_eigenvalues_as_pytorch():
    a = np.diag([1.0, 1.0, 2.0])  # eigvalsh's gradient is finite; the eigenvectors' is not
    compare(lambda lib, x: lin(lib).eigvalsh(x), [a])
    grads = []
    for lib in (ng, torch):
        x = lib.tensor(a, requires_grad=True)
        lin(lib).eigh(x).eigenvectors.sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(np.isfinite(grads[0]), np.isfinite(grads[1]))
    assert not np.isfinite(grads[0]).all()


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
@pytest.mark.parametrize("full_matrices", [False, True])
def test_svd(shape, full_matrices):
    def fn(lib, x):
        u, s, vh = lin(lib).svd(x, full_matrices=full_matrices)
        k = s.shape[-1]  # (U's and Vh's extra columns / rows are not unique)
        return s, _sign_free(u[..., :k]), _sign_free(vh[..., :k, :])

    compare(fn, [rand(*shape)])
    compare(fn, [rand(*shape)], np.float32)
    compare(lambda lib, x: lin(lib).svdvals(x), [rand(*shape)])
    # a loss that depends on U and Vh only through U diag(S) Vh = A
    compare(lambda lib, x: (lambda u, s, vh: (u * s.unsqueeze(-2)) @ vh)(
        *lin(lib).svd(x, full_matrices=False)), [rand(*shape)])


def test_svdvals_of_repeated_singular_values_is_finite():
    compare(lambda lib, x: lin(lib).svdvals(x), [np.eye(3)])


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
def test_pinv(shape):
    compare(lambda lib, x: lin(lib).pinv(x), [rand(*shape)])
    compare(lambda lib, x: lin(lib).pinv(x), [rand(*shape)], np.float32)


def test_pinv_tolerances_and_rank():
    d = np.diag([1.0, 0.3, 0.01])
    rank_one = np.outer([1.0, 2.0, 3.0], [1.0, 0.0, -1.0])
    compare(lambda lib, x: lin(lib).pinv(x), [rank_one])
    compare(lambda lib, x: lin(lib).pinv(x + x.mT, hermitian=True), [rand(2, 3, 3)])
    for kwargs in ({}, {"atol": 0.1}, {"rtol": 0.1}, {"atol": 0.2, "rtol": 0.5},
                   {"atol": 0.0}):
        compare(lambda lib, x, kw=kwargs: lin(lib).pinv(x, **kw), [d])
        ours, theirs = (lin(lib).matrix_rank(lib.tensor(d), **kwargs) for lib in (ng, torch))
        assert_close(ours, theirs)
    compare(lambda lib, x: lib.linalg.pinv(x, atol=lib.tensor([0.5, 0.1])), [np.stack([d, d])])
    for args in ((0.5,), (0.5, True)):  # the older positional tol, hermitian
        ours, theirs = (lin(lib).matrix_rank(lib.tensor(d), *args) for lib in (ng, torch))
        assert_close(ours, theirs)
    ours, theirs = (lin(lib).matrix_rank(lib.tensor(np.stack([d, rank_one]))) for lib in
                    (ng, torch))
    assert_close(ours, theirs)
    compare(lambda lib, x: torch_level("pinverse")(x) if lib is ng else torch.pinverse(x),
            [rand(4, 3)])


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
def test_lstsq(driver):
    a, b = rand(2, 5, 3), rand(2, 5, 2, seed=1)

    def fn(lib, x, y):
        r = lin(lib).lstsq(x, y, driver=driver)
        assert r.rank.dtype == lib.int64 and tuple(r.rank.shape) in {(0,), (2,)}
        return r.solution, r.residuals, r.singular_values

    compare(fn, [a, b])
    compare(lambda lib, x, y: lin(lib).lstsq(x, y, driver=driver).solution, [a, b[..., 0]])
    ours, theirs = (lin(lib).lstsq(lib.tensor(a), lib.tensor(b), driver=driver).rank
                    for lib in (ng, torch))
    assert_close(ours, theirs)


# ----- products and powers ----------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 2, 3, 6, -1, -3])
def test_matrix_power(n):
    compare(lambda lib, x: lin(lib).matrix_power(x, n), [square(2)])
    compare(lambda lib, x: torch_level("matrix_power")(x, n) if lib is ng else x.matrix_power(n),
            [square()])


def test_matrix_power_of_integers():
    a = np.arange(9).reshape(3, 3)
    ours, theirs = (lin(lib).matrix_power(lib.tensor(a), 3) for lib in (ng, torch))
    assert_close(ours, theirs)


def test_multi_dot_and_chain_matmul():
    a, b, c, d = rand(10, 3), rand(3, 8, seed=1), rand(8, 2, seed=2), rand(2, 6, seed=3)
    compare(lambda lib, *xs: lin(lib).multi_dot(xs), [a, b, c, d])
    compare(lambda lib, *xs: lin(lib).multi_dot(xs), [a[0], b, c[:, 0]])
    compare(lambda lib, *xs: lin(lib).multi_dot(xs), [a[0], b])
    compare(lambda lib, *xs: lin(lib).multi_dot(xs), [a, b[:, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        compare(lambda lib, *xs: (torch_level("chain_matmul") if lib is ng else
                                  torch.chain_matmul)(*xs), [a, b, c])
    with pytest.warns(UserWarning, match="chain_matmul is deprecated"):
        torch_level("chain_matmul")(ng.tensor(a), ng.tensor(b))


def _multi_dot_order(mats):
    """The same product, left to right: multi_dot's order must not change the value."""
    out = mats[0]
    for m in mats[1:]:
        out = out @ m
    return out


def test_multi_dot_picks_the_cheap_order():
    a, b, c = rand(40, 2), rand(2, 40, seed=1), rand(40, 2, seed=2)
    xs = [ng.tensor(m, requires_grad=True) for m in (a, b, c)]
    y = ng.linalg.multi_dot(xs)
    np.testing.assert_allclose(y.detach().numpy(), _multi_dot_order([a, b, c]), rtol=1e-10)
    # (a @ (b @ c)) costs 2 * 40 * 2 * 2 = 320 multiplications, (a @ b) @ c 2 * 40 * 40 * 2:
    # the graph holds a 2 x 2 product, never a 40 x 40 one
    node = y.grad_fn
    assert [tuple(x.shape) for x in node.inputs] == [(40, 2), (2, 2)]


def test_cross_vecdot_diagonal():
    a, b = rand(2, 1, 3), rand(1, 4, 3, seed=1)
    compare(lambda lib, x, y: lin(lib).cross(x, y), [a, b])
    compare(lambda lib, x, y: lin(lib).cross(x, y, dim=0), [rand(3, 2), rand(3, 2, seed=1)])
    compare(lambda lib, x, y: lin(lib).vecdot(x, y), [rand(2, 3), rand(3, seed=1)])
    compare(lambda lib, x, y: lin(lib).vecdot(x, y, dim=0), [rand(3, 2), rand(3, 2, seed=1)])
    compare(lambda lib, x: lin(lib).diagonal(x, offset=1), [rand(2, 3, 4)])
    compare(lambda lib, x: lin(lib).diagonal(x, dim1=0, dim2=2), [rand(3, 2, 3)])
    ints = np.array([1, 2, 3]), np.array([4, 5, 7])
    ours, theirs = (lin(lib).cross(*map(lib.tensor, ints)) for lib in (ng, torch))
    assert_close(ours, theirs)


def test_torch_cross_dim_none_is_the_first_dim_of_size_3():
    a, b = rand(2, 3, 3), rand(2, 3, 3, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        compare(lambda lib, x, y: (torch_level("cross") if lib is ng else torch.cross)(x, y),
                [a, b])
        compare(lambda lib, x, y: x.cross(y), [a, b])
    compare(lambda lib, x, y: x.cross(y, dim=2), [a, b])
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        torch_level("cross")(ng.tensor(a), ng.tensor(b))


def test_kron_and_inner():
    pairs = [(rand(2, 3), rand(2, 2, 3, seed=1)), (rand(3), rand(2, 2, seed=1)),
             (rand(), rand(2, 2, seed=1))]
    for a, b in pairs:
        compare(lambda lib, x, y: (torch_level("kron") if lib is ng else torch.kron)(x, y), [a, b])
        compare(lambda lib, x, y: x.kron(y), [a, b])
    for a, b in [(rand(2, 3), rand(4, 2, 3, seed=1)), (rand(3), rand(3, seed=1)),
                 (rand(), rand(2, 3, seed=1))]:
        compare(lambda lib, x, y: (torch_level("inner") if lib is ng else torch.inner)(x, y),
                [a, b])
        compare(lambda lib, x, y: x.inner(y), [a, b])
    ints = np.array([[1, 2], [3, 4]]), np.array([[0, 1], [1, 0]])
    ours = torch_level("kron")(*map(ng.tensor, ints))
    assert_close(ours, torch.kron(*map(torch.tensor, ints)))


@pytest.mark.parametrize("p", [2.0, 1.0, 0.5, 3.0, float("inf"), 0.0])
def test_cdist(p):
    x1, x2 = rand(2, 4, 3), rand(5, 3, seed=1)
    compare(lambda lib, a, b: (torch_level("cdist") if lib is ng else torch.cdist)(a, b, p),
            [x1, x2])
    compare(lambda lib, a, b: (torch_level("cdist") if lib is ng else torch.cdist)(a, b, p),
            [x1, x2], np.float32)


def test_cdist_at_distance_zero_has_gradient_zero():
    x = rand(3, 2)
    compare(lambda lib, a, b: (torch_level("cdist") if lib is ng else torch.cdist)(a, b),
            [x, x.copy()])


# ----- norms ------------------------------------------------------------------------------------
@pytest.mark.parametrize("ord", [2, 1, float("inf"), -float("inf"), 0.5, 3, 0, -1])
def test_vector_norm(ord):
    x = rand(2, 3, 4)
    compare(lambda lib, t: lin(lib).vector_norm(t, ord), [x])
    compare(lambda lib, t: lin(lib).vector_norm(t, ord, dim=(0, 2), keepdim=True), [x])
    compare(lambda lib, t: lin(lib).vector_norm(t, ord, dim=-1), [x], np.float32)


def test_vector_norm_dtype():
    x = rand(2, 3).astype(np.float32)
    ours, theirs = (lin(lib).vector_norm(lib.tensor(x), dtype=lib.float64) for lib in (ng, torch))
    assert_close(ours, theirs)


@pytest.mark.parametrize("ord", ["fro", "nuc", float("inf"), -float("inf"), 1, -1, 2, -2])
def test_matrix_norm(ord):
    x = rand(2, 3, 4)
    compare(lambda lib, t: lin(lib).matrix_norm(t, ord), [x])
    compare(lambda lib, t: lin(lib).matrix_norm(t, ord, dim=(2, 0), keepdim=True), [x])
    compare(lambda lib, t: lin(lib).matrix_norm(t, ord, dim=(0, 1)), [x])
    compare(lambda lib, t: lin(lib).matrix_norm(t, ord), [x], np.float32)


def test_norm_dispatch():
    x = rand(3, 4)
    for args, kwargs in [((), {}), ((2,), {}), (("nuc",), {}), ((), {"dim": 1}),
                         ((3,), {"dim": (1,)}), ((-1,), {"dim": (1, 0), "keepdim": True})]:
        compare(lambda lib, t, a=args, kw=kwargs: lin(lib).norm(t, *a, **kw), [x])
    compare(lambda lib, t: lin(lib).norm(t, 3), [x[0]])
    compare(lambda lib, t: lin(lib).norm(t), [rand(2, 3, 4)])


# ----- torch-level aliases and Tensor methods ---------------------------------------------------
def test_torch_level_det_inverse_logdet_slogdet():
    a = np.stack([square(), -square(seed=1)[::-1]])  # the second has det < 0: logdet NaN
    for name in ("det", "inverse", "logdet"):
        compare(lambda lib, x, f=name: torch_level(f)(x) if lib is ng else getattr(torch, f)(x),
                [a])
        compare(lambda lib, x, f=name: getattr(x, f)(), [a])
    compare(lambda lib, x: outputs((torch_level("slogdet") if lib is ng else torch.slogdet)(x)),
            [a])
    compare(lambda lib, x: outputs(x.slogdet()), [a])
    assert type(torch_level("slogdet")(ng.tensor(a))).__name__ == "slogdet"
    assert type(ng.linalg.slogdet(ng.tensor(a))).__name__ == "linalg_slogdet"
    compare(lambda lib, x: x.pinverse(), [rand(4, 3)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        compare(lambda lib, x: x.cholesky(), [spd()])
        compare(lambda lib, x: x.cholesky(True), [spd()])


# ----- second derivatives and gradcheck ---------------------------------------------------------
@pytest.mark.parametrize("name, fn, make", [
    ("inv", lambda lib, x: lib.linalg.inv(x), square),
    ("det", lambda lib, x: lib.linalg.det(x), square),
    ("slogdet", lambda lib, x: lib.linalg.slogdet(x).logabsdet, square),
    ("solve", lambda lib, x: lib.linalg.solve(x, x[..., :2].sin()), square),
    ("cholesky", lambda lib, x: lib.linalg.cholesky(x @ x.mT + 3 * lib.eye(3, dtype=x.dtype)),
     square),
    ("qr", lambda lib, x: (lambda q, r: q ** 2 @ r)(*lib.linalg.qr(x[..., :2])), square),
    ("eigh", lambda lib, x: lib.linalg.eigh(x + x.mT).eigenvalues, square),
    ("eigh vectors", lambda lib, x: lib.linalg.eigh(x + x.mT).eigenvectors ** 2, square),
    ("svd", lambda lib, x: lib.linalg.svd(x, full_matrices=False).U ** 2, square),
    ("svdvals", lambda lib, x: lib.linalg.svdvals(x), square),
    ("pinv", lambda lib, x: lib.linalg.pinv(x[..., :2]), square),
    ("matrix_norm nuc", lambda lib, x: lib.linalg.matrix_norm(x, "nuc"), square),
])
def test_second_derivatives(name, fn, make):
    check_double_backward(lambda x: fn(ng, x), lambda x: fn(torch, x), make(2))


@pytest.mark.parametrize("fn", [
    lambda x: ng.linalg.inv(x), lambda x: ng.linalg.det(x),
    lambda x: ng.linalg.cholesky(x @ x.mT + ng.eye(3, dtype=ng.float64)),
    lambda x: ng.linalg.qr(x).Q, lambda x: ng.linalg.svd(x).S,
    lambda x: ng.linalg.pinv(x[:, :2]), lambda x: ng.linalg.eigh(x + x.mT).eigenvectors.abs(),
])
def test_gradcheck(fn):
    x = ng.tensor(square(), requires_grad=True)
    assert ng.autograd.gradcheck(fn, [x])


def test_float32_stays_float32():
    x = ng.tensor(spd().astype(np.float32), requires_grad=True)
    outs = [ng.linalg.inv(x), ng.linalg.det(x), ng.linalg.cholesky(x), *ng.linalg.eigh(x),
            *ng.linalg.svd(x), ng.linalg.pinv(x), *ng.linalg.qr(x), ng.linalg.matrix_norm(x, 2),
            ng.linalg.slogdet(x).logabsdet, ng.linalg.solve(x, x)]
    total = ng.zeros((), dtype=ng.float32)
    for o in outs:
        assert o.dtype == ng.float32
        total = total + o.sum()
    total.backward()
    assert x.grad.dtype == ng.float32


# ----- errors -----------------------------------------------------------------------------------
def both_raise(call, exc=RuntimeError):
    """call(lib) raises the same message on both libraries, of type `exc` (numpy2gpt) and
    PyTorch's (checked by name: LinAlgError is torch._C._LinAlgError)."""
    messages = []
    for lib in (ng, torch):
        with pytest.raises(Exception) as e:
            call(lib)
        messages.append(str(e.value))
        assert isinstance(e.value, exc), (lib.__name__, type(e.value), e.value)
    assert messages[0] == messages[1]


def test_singular_matrix_errors():
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]])
    second_pivot = np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]])
    batch = np.stack([np.eye(3), singular])
    for a in (singular, second_pivot, np.zeros((3, 3)), batch):
        both_raise(lambda lib, a=a: lib.linalg.inv(lib.tensor(a)), lib_linalg_error())
        both_raise(lambda lib, a=a: lib.linalg.matrix_power(lib.tensor(a), -2),
                   lib_linalg_error())
    both_raise(lambda lib: lib.linalg.solve(lib.tensor(batch), lib.tensor(rand(2, 3))),
               lib_linalg_error())
    both_raise(lambda lib: lib.linalg.solve(lib.tensor(singular), lib.tensor(rand(3))),
               lib_linalg_error())
    assert issubclass(ng.linalg.LinAlgError, RuntimeError)


def lib_linalg_error():
    """numpy2gpt's LinAlgError or PyTorch's (each library must raise its own)."""
    return (ng.linalg.LinAlgError, torch.linalg.LinAlgError)


def test_not_positive_definite_errors():
    for a in (-np.eye(3), np.array([[1.0, 2.0], [2.0, 1.0]]),
              np.stack([np.eye(2), np.array([[1.0, 2.0], [2.0, 1.0]])])):
        for upper in (False, True):
            both_raise(lambda lib, a=a, up=upper: lib.linalg.cholesky(lib.tensor(a), upper=up),
                       lib_linalg_error())


@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh",
                                  "matrix_power", "qr", "svd", "svdvals", "pinv",
                                  "matrix_rank", "matrix_norm"])
def test_bad_matrix_arguments(name):
    def call(lib, a):
        f = getattr(lib.linalg, name)
        return f(lib.tensor(a), 2) if name == "matrix_power" else f(lib.tensor(a))

    square_only = name in ("inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh",
                           "matrix_power")
    for a in (rand(3), np.ones((3, 3), dtype=np.int64)) + ((rand(2, 3),) if square_only else ()):
        if name == "matrix_power" and a.dtype == np.int64:
            continue  # integer powers are fine
        error = NotImplementedError if name in ("eigh", "eigvalsh") and a.ndim == 2 and \
            a.dtype == np.int64 else RuntimeError
        both_raise(lambda lib, a=a: call(lib, a), error)
    with pytest.raises(TypeError, match=r"argument 'A' \(position 1\) must be Tensor, not list"):
        getattr(ng.linalg, name)([[1.0, 2.0], [3.0, 4.0]], *[2][:name == "matrix_power"])


def test_argument_errors():
    a, v = rand(3, 3), rand(3)
    cases = [
        lambda lib: lib.linalg.solve(lib.tensor(a), lib.tensor(rand(4))),
        lambda lib: lib.linalg.solve(lib.tensor(a), lib.tensor(rand(4, 2))),
        lambda lib: lib.linalg.solve(lib.tensor(a), lib.tensor(v), left=False),
        lambda lib: lib.linalg.solve(lib.tensor(a), lib.tensor(v.astype(np.float32))),
        lambda lib: lib.linalg.solve(lib.tensor(a.astype(np.int64)), lib.tensor(v)),
        lambda lib: lib.linalg.qr(lib.tensor(a), mode="foo"),
        lambda lib: lib.linalg.eigh(lib.tensor(a), UPLO="X"),
        lambda lib: lib.linalg.inv(lib.tensor(a.astype(np.float16))),
        lambda lib: lib.linalg.cross(lib.tensor(rand(4)), lib.tensor(rand(4))),
        lambda lib: lib.linalg.cross(lib.tensor(v), lib.tensor(rand(2, 3))),
        lambda lib: lib.linalg.cross(lib.tensor(v), lib.tensor(v.astype(np.float32))),
        lambda lib: lib.linalg.vecdot(lib.tensor(v), lib.tensor(v.astype(np.float32))),
        lambda lib: lib.linalg.vecdot(lib.tensor(np.ones(3, np.int64)), lib.tensor(v)),
        lambda lib: lib.linalg.multi_dot([lib.tensor(a)]),
        lambda lib: lib.linalg.multi_dot([lib.tensor(a), lib.tensor(rand(2, 3))]),
        lambda lib: lib.linalg.multi_dot([lib.tensor(rand(2, 3, 3)), lib.tensor(a)]),
        lambda lib: lib.linalg.multi_dot([lib.tensor(a), lib.tensor(v), lib.tensor(a)]),
        lambda lib: lib.linalg.multi_dot([lib.tensor(a), lib.tensor(a.astype(np.float32))]),
        lambda lib: lib.linalg.vector_norm(lib.tensor(np.ones(3, np.int64))),
        lambda lib: lib.linalg.vector_norm(lib.tensor(v), dtype=lib.float32),
        lambda lib: lib.linalg.vector_norm(lib.tensor(np.ones(0)), float("inf")),
        lambda lib: lib.linalg.matrix_norm(lib.tensor(v)),
        lambda lib: lib.linalg.matrix_norm(lib.tensor(a), 3),
        lambda lib: lib.linalg.matrix_norm(lib.tensor(a), "foo"),
        lambda lib: lib.linalg.matrix_norm(lib.tensor(a), dim=(0,)),
        lambda lib: lib.linalg.matrix_norm(lib.tensor(a), dim=(0, 0)),
        lambda lib: lib.linalg.matrix_norm(lib.tensor(a), dtype=lib.int64),
        lambda lib: lib.linalg.norm(lib.tensor(rand(2, 2, 2)), 2),
        lambda lib: lib.linalg.norm(lib.tensor(v), "fro"),
        lambda lib: lib.linalg.norm(lib.tensor(a), dim=(0, 1, 1)),
        lambda lib: lib.linalg.lstsq(lib.tensor(a), lib.tensor(rand(4, 3))),
        lambda lib: lib.linalg.lstsq(lib.tensor(a), lib.tensor(a), driver="foo"),
        lambda lib: lib.linalg.lstsq(lib.tensor(v), lib.tensor(v)),
        lambda lib: lib.linalg.svd(lib.tensor(a), driver="gesvd"),
        lambda lib: lib.logdet(lib.tensor(rand(2, 3))) if lib is torch else
        torch_level("logdet")(ng.tensor(rand(2, 3))),
        lambda lib: lib.inner(lib.tensor(v), lib.tensor(rand(4))) if lib is torch else
        torch_level("inner")(ng.tensor(v), ng.tensor(rand(4))),
    ]
    for call in cases:
        both_raise(call)
    cdist = [(rand(3), rand(3)), (rand(3, 2), rand(4, 3)), (np.ones((2, 2), np.int64),) * 2,
             (rand(3, 2), rand(3, 2).astype(np.float32))]
    for x1, x2 in cdist:
        both_raise(lambda lib, x1=x1, x2=x2: (torch.cdist if lib is torch else
                                              torch_level("cdist"))(lib.tensor(x1), lib.tensor(x2)))
    both_raise(lambda lib: (torch.cdist if lib is torch else torch_level("cdist"))(
        lib.tensor(a), lib.tensor(a), p=-1))
    both_raise(lambda lib: lib.linalg.vector_norm(lib.tensor(v), "fro"), TypeError)
    both_raise(lambda lib: lib.linalg.matrix_power(lib.tensor(a), 2.0), TypeError)
