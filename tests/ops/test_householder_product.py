"""linalg.householder_product (torch.orgqr) and torch.geqrf against PyTorch: values and gradients
(tall, square, fewer reflectors than columns, batches; float32 and float64), gradcheck, the Q of
geqrf's output, geqrf's missing derivative, and PyTorch's errors."""

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, run_gradcheck, same_error

import numpy2gpt as ng
from numpy2gpt.ops.householder import geqrf, householder_product, orgqr

# the same functions in both libraries, for same_error
HOUSEHOLDER = {ng: householder_product, torch: torch.linalg.householder_product}
GEQRF = {ng: geqrf, torch: torch.geqrf}

SHAPES = [((5, 3), 3), ((4, 4), 4), ((6, 4), 2), ((2, 5, 3), 3), ((2, 3, 4, 2), 1), ((4, 0), 0)]


def _inputs(shape, k, dtype, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal(shape).astype(dtype)
    tau = rng.uniform(0.5, 2.0, shape[:-2] + (k,)).astype(dtype)
    return A, tau


@pytest.mark.parametrize("shape,k", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_and_gradients(shape, k, dtype):
    A, tau = _inputs(shape, k, dtype)
    ours, theirs, *_ = check_against_torch(householder_product, torch.linalg.householder_product,
                                           [A, tau], requires_grad=[k > 0, k > 0],
                                           atol=1e-6 if dtype == np.float32 else 1e-13,
                                           grad_atol=1e-5 if dtype == np.float32 else 1e-12)
    assert ours[0].dtype == {np.float32: ng.float32, np.float64: ng.float64}[dtype]


def test_orgqr_is_householder_product():
    A, tau = _inputs((5, 3), 2, np.float64)
    check_against_torch(orgqr, torch.orgqr, [A, tau], rtol=1e-12, atol=1e-14)


def test_grad_fn_name():
    A, tau = _inputs((4, 3), 3, np.float64)
    Q = householder_product(ng.tensor(A, requires_grad=True), ng.tensor(tau))
    assert Q.grad_fn.name() == "LinalgHouseholderProductBackward0"


@pytest.mark.parametrize("shape,k", [((4, 3), 3), ((2, 4, 2), 1)])
def test_gradcheck(shape, k):
    A, tau = _inputs(shape, k, np.float64, seed=1)
    assert run_gradcheck(householder_product, [A, tau])


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 6, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_geqrf(shape, dtype):
    A = np.random.default_rng(2).standard_normal(shape).astype(dtype)
    ours, theirs = geqrf(ng.tensor(A)), torch.geqrf(torch.tensor(A))
    assert type(ours).__name__ == "geqrf" and ours._fields == ("a", "tau")
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert_close(ours.a, theirs.a, rtol, atol=rtol)
    assert_close(ours.tau, theirs.tau, rtol, atol=rtol)


def test_geqrf_then_householder_product_is_qr_q():
    A = np.random.default_rng(3).standard_normal((3, 6, 4))
    a, tau = geqrf(ng.tensor(A))
    assert_close(householder_product(a, tau), torch.linalg.qr(torch.tensor(A)).Q, 1e-12, 1e-13)


def test_geqrf_has_no_derivative():
    def call(lib):
        a, _ = GEQRF[lib](lib.ones(3, 2, requires_grad=True))
        assert a.requires_grad
        a.sum().backward()

    same_error(call)


ERRORS = [
    lambda lib: HOUSEHOLDER[lib](lib.randn(4, 3), lib.randn(4)),
    lambda lib: HOUSEHOLDER[lib](lib.randn(3, 4), lib.randn(3)),
    lambda lib: HOUSEHOLDER[lib](lib.randn(4), lib.randn(1)),
    lambda lib: HOUSEHOLDER[lib](lib.randn(4, 3), lib.randn(2, 3)),
    lambda lib: HOUSEHOLDER[lib](lib.randn(2, 4, 3), lib.randn(3, 3)),
    lambda lib: HOUSEHOLDER[lib](lib.randn(2, 4, 3), lib.randn(3)),
    lambda lib: HOUSEHOLDER[lib](lib.randn(4, 3), lib.randn(3).double()),
    lambda lib: HOUSEHOLDER[lib](lib.randn(4, 3).long(), lib.randn(3).long()),
    lambda lib: HOUSEHOLDER[lib](lib.randn(4, 3).half(), lib.randn(3).half()),
    lambda lib: HOUSEHOLDER[lib](lib.randn(4, 3), 1.0),
    lambda lib: HOUSEHOLDER[lib]([[1.0]], lib.randn(1)),
    lambda lib: HOUSEHOLDER[lib](lib.randn(4, 3), lib.randn(())),
    lambda lib: GEQRF[lib](lib.randn(4)),
    lambda lib: GEQRF[lib](lib.randn(4, 3).long()),
    lambda lib: GEQRF[lib](lib.randn(4, 3).half()),
    lambda lib: GEQRF[lib](1.0),
    lambda lib: (orgqr if lib is ng else torch.orgqr)(lib.randn(4, 3), 1),
]


@pytest.mark.parametrize("call", ERRORS)
def test_errors(call):
    same_error(call)
