"""Sparse @ dense (torch.sparse.mm, torch.mm, @, torch.matmul, torch.spmm, torch.sparse.addmm),
torch.sparse.sum, Tensor.to_sparse, sparse .t() / .transpose(), and the error for a sparse tensor
built from values that require grad, all against real PyTorch."""

import numpy as np
import pytest
import torch
from torch_compare import assert_close, both, check_against_torch, same_error

import numpy2gpt as ng

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")

# an uncoalesced 6 x 5 matrix: entries out of order and repeated coordinates (3, 1) and (0, 4)
INDICES = np.array([[3, 0, 5, 3, 1, 0, 3, 5, 2, 0],
                    [1, 4, 0, 1, 2, 4, 3, 2, 2, 0]])
VALUES = np.random.default_rng(1).standard_normal(10)


def sparse(lib, dtype=np.float32, indices=INDICES, values=VALUES, size=(6, 5)):
    return lib.sparse_coo_tensor(lib.tensor(indices), lib.tensor(values.astype(dtype)), size)


def dense(*shape, dtype=np.float32, seed=2):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def assert_same_sparse(ours, theirs):
    """The same sparse tensor: size, coalesced flag, and the stored entries in order (their
    dtype too: assert_close checks it)."""
    assert ours.is_sparse and theirs.is_sparse
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.is_coalesced() == theirs.is_coalesced()
    assert np.array_equal(ours._indices().numpy(), theirs._indices().numpy())
    assert_close(ours._values(), theirs._values(), rtol=1e-6)


PRODUCTS = {"sparse.mm": (lambda lib, s, d: lib.sparse.mm(s, d), "SparseAddmmBackward0"),
            "mm": (lambda lib, s, d: lib.mm(s, d), "MmBackward0"),
            "method mm": (lambda lib, s, d: s.mm(d), "MmBackward0"),
            "@": (lambda lib, s, d: s @ d, "MmBackward0"),
            "matmul": (lambda lib, s, d: lib.matmul(s, d), "MmBackward0"),
            "spmm": (lambda lib, s, d: lib.spmm(s, d), "MmBackward0")}


@pytest.mark.parametrize("name", PRODUCTS)
def test_float32_product_and_dense_gradient_are_pytorchs_to_the_bit(name):
    """PyTorch adds the entries in stored order with fused multiply-adds: float32 bits equal,
    for the product and for the gradient S^T @ gy of the dense argument."""
    fn, grad_fn = PRODUCTS[name]
    ours, theirs, _, _ = check_against_torch(lambda d: fn(ng, sparse(ng), d),
                                             lambda d: fn(torch, sparse(torch), d),
                                             [dense(5, 7)], rtol=0, atol=0, grad_rtol=0,
                                             grad_atol=0)
    assert ours[0].grad_fn.name() == theirs[0].grad_fn.name() == grad_fn


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_product_in_float64_and_integers(dtype):
    ours, theirs, _, _ = check_against_torch(lambda d: ng.sparse.mm(sparse(ng, dtype), d),
                                             lambda d: torch.sparse.mm(sparse(torch, dtype), d),
                                             [(dense(5, 3) * 4).astype(dtype)])
    assert ours[0].dtype == dtype


def test_product_with_a_vector_and_an_empty_matrix():
    check_against_torch(lambda v: sparse(ng) @ v, lambda v: sparse(torch) @ v, [dense(5)])
    y, ty = both(lambda lib: lib.matmul(sparse(lib), lib.tensor(dense(5), requires_grad=True)))
    assert y.grad_fn.name() == ty.grad_fn.name() == "MvBackward0"
    empty = np.zeros((2, 0), np.int64)
    check_against_torch(lambda d: ng.sparse.mm(sparse(ng, indices=empty, values=np.zeros(0)), d),
                        lambda d: torch.sparse.mm(sparse(torch, indices=empty,
                                                         values=np.zeros(0)), d),
                        [dense(5, 2)])


def test_product_is_differentiable_twice():
    """Its backward is the same product, so create_graph=True gives a second derivative."""
    def second(lib):
        d = lib.tensor(dense(5, 3, dtype=np.float64), requires_grad=True)
        y = lib.sparse.mm(sparse(lib, np.float64), d * d)
        (g,) = lib.autograd.grad(y.sum(), d, create_graph=True)
        (g.square().sum()).backward()
        return d.grad.numpy()

    ours, theirs = both(second)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("beta, alpha", [(1.0, 1.0), (0.5, -2.0), (0, 3)])
def test_sparse_addmm(beta, alpha):
    check_against_torch(
        lambda x, d: ng.sparse.addmm(x, sparse(ng, np.float64), d, beta=beta, alpha=alpha),
        lambda x, d: torch.sparse.addmm(x, sparse(torch, np.float64), d, beta=beta, alpha=alpha),
        [dense(3, dtype=np.float64), dense(5, 3, dtype=np.float64)])


def test_sparse_addmm_float32_bits():
    check_against_torch(lambda x, d: ng.sparse.addmm(x, sparse(ng), d),
                        lambda x, d: torch.sparse.addmm(x, sparse(torch), d),
                        [dense(6, 3, seed=5), dense(5, 3)], rtol=0, atol=0, grad_rtol=0,
                        grad_atol=0)


@pytest.mark.parametrize("call", [
    lambda lib: lib.sparse.mm(sparse(lib), lib.ones(4, 2)),  # rows differ
    lambda lib: lib.mm(sparse(lib), lib.ones(4, 2)),
    lambda lib: sparse(lib) @ lib.ones(4, 2),
    lambda lib: sparse(lib) @ lib.ones(4),
    lambda lib: lib.sparse.mm(sparse(lib), lib.ones(5)),  # a vector
    lambda lib: lib.mm(sparse(lib), lib.ones(5)),
    lambda lib: lib.sparse.mm(sparse(lib), lib.ones(5, 2, 2)),
    lambda lib: lib.matmul(sparse(lib), lib.ones(2, 5, 2)),
    lambda lib: sparse(lib) @ lib.tensor(1.0),
    lambda lib: lib.sparse.mm(sparse(lib), lib.ones(5, 2, dtype=lib.float64)),
    lambda lib: lib.mm(sparse(lib, np.float64), lib.ones(5, 2)),
    lambda lib: sparse(lib) @ lib.ones(5, dtype=lib.float64),
    lambda lib: lib.sparse.mm(sparse(lib, np.int64), lib.ones(5, 2, dtype=lib.int32)),
    lambda lib: lib.sparse.mm(sparse(lib, bool), lib.ones(5, 2, dtype=lib.bool)),
    lambda lib: lib.sparse.mm(sparse(lib), 3),
    lambda lib: lib.mm(sparse(lib), 3),
    lambda lib: lib.matmul(sparse(lib), 3),
    lambda lib: lib.sparse.mm(lib.sparse_coo_tensor(lib.tensor([[0, 1]]), lib.ones(2, 5),
                                                    (2, 5)), lib.ones(5, 2)),  # dense dims
    lambda lib: lib.sparse.addmm(lib.ones(3), sparse(lib), lib.ones(5, 2)),
    lambda lib: lib.sparse.addmm(lib.ones(6, 2, dtype=lib.float64), sparse(lib),
                                 lib.ones(5, 2)),
])
def test_product_errors_are_pytorchs(call):
    same_error(call)


def test_values_that_require_grad_are_an_error_not_a_lost_gradient():
    v = ng.tensor(VALUES, requires_grad=True)
    with pytest.raises(RuntimeError, match="take no part in autograd.*index_put / scatter"):
        ng.sparse_coo_tensor(ng.tensor(INDICES), v, (6, 5))
    with pytest.raises(RuntimeError, match="take no part in autograd"):
        ng.sparse_coo_tensor(ng.tensor(INDICES), v * 2, (6, 5))
    with pytest.raises(RuntimeError, match="take no part in autograd"):
        ng.ones(2, 2, requires_grad=True).to_sparse()


def test_values_that_require_grad_work_detached_or_under_no_grad():
    v, tv = both(lambda lib: lib.tensor(VALUES, requires_grad=True))
    with ng.no_grad():
        s = ng.sparse_coo_tensor(ng.tensor(INDICES), v, (6, 5))
        w = ng.ones(2, 2, requires_grad=True).to_sparse()
    assert w.to_dense().tolist() == [[1.0, 1.0], [1.0, 1.0]]
    with torch.no_grad():
        ts = torch.sparse_coo_tensor(torch.tensor(INDICES), tv, (6, 5))
    assert_same_sparse(s, ts)
    assert_same_sparse(ng.sparse_coo_tensor(ng.tensor(INDICES), v.detach(), (6, 5)), ts)


@pytest.mark.parametrize("array, args", [
    (np.array([[0.0, 1.5, 0.0], [np.nan, 0.0, -0.0]]), ()),
    (np.array([[0.0, 1.5, 0.0], [np.nan, 0.0, -0.0]]), (1,)),
    (np.array([[0.0, 1.5, 0.0], [0.0, 0.0, -0.0]]), (2,)),
    (np.array([[[1, 0], [0, 0]], [[0, 0], [0, 3]]], np.int32), (2,)),
    (np.array([True, False, True]), ()),
    (np.zeros((2, 3)), ()),
    (np.array(3.0), ()),
    (np.array(0.0), ()),
])
def test_to_sparse(array, args):
    ours, theirs = both(lambda lib: lib.tensor(array).to_sparse(*args))
    assert_same_sparse(ours, theirs)
    assert ours.to_sparse() is ours


@pytest.mark.parametrize("call", [
    lambda lib: lib.ones(2, 3).to_sparse(0),
    lambda lib: lib.ones(2, 3).to_sparse(3),
    lambda lib: lib.ones(2, 3).to_sparse(-1),
    lambda lib: lib.ones(2, 3).to_sparse().to_sparse(1),
])
def test_to_sparse_errors(call):
    same_error(call)


@pytest.mark.parametrize("coalesce", [False, True])
def test_transpose(coalesce):
    s, ts = both(lambda lib: sparse(lib).coalesce() if coalesce else sparse(lib))
    for ours, theirs in [(s.t(), ts.t()), (s.transpose(1, 0), ts.transpose(1, 0)),
                         (s.transpose(-1, -1), ts.transpose(-1, -1))]:
        assert_same_sparse(ours, theirs)
    for nnz in (0, 1):
        one = both(lambda lib, n=nnz: sparse(lib, indices=INDICES[:, :n], values=VALUES[:n]))
        assert one[0].t().is_coalesced() == one[1].t().is_coalesced()


@pytest.mark.parametrize("call", [
    lambda lib: sparse(lib).transpose(0, 2),
    lambda lib: lib.sparse_coo_tensor(lib.tensor([[0, 1]]), lib.ones(2, 2), (2, 2)).t(),
    lambda lib: lib.sparse_coo_tensor(lib.tensor([[0, 1]]), lib.ones(2, 2), (2, 2))
    .transpose(0, 1),
])
def test_transpose_errors(call):
    same_error(call)


HYBRID = (np.array([[0, 1, 1, 0], [1, 0, 2, 1]]), np.arange(8.0).reshape(4, 2) - 3, (2, 3, 2))


@pytest.mark.parametrize("make, dim, dtype", [
    (lambda lib: sparse(lib), None, None),
    (lambda lib: sparse(lib), 0, None),
    (lambda lib: sparse(lib), -1, None),
    (lambda lib: sparse(lib), (0, 1), None),
    (lambda lib: sparse(lib), (), None),
    (lambda lib: sparse(lib), None, "float64"),
    (lambda lib: sparse(lib), 1, "float64"),
    (lambda lib: sparse(lib, np.int32), None, None),
    (lambda lib: sparse(lib, np.int32), 0, None),
    (lambda lib: sparse(lib, bool), None, None),
    (lambda lib: sparse(lib, bool), [1], None),
    (lambda lib: sparse(lib, np.float32, *HYBRID), None, None),
    (lambda lib: sparse(lib, np.float32, *HYBRID), (0, 1), None),
    (lambda lib: sparse(lib, np.float32, *HYBRID), 1, None),
    (lambda lib: sparse(lib, np.float32, *HYBRID), 2, None),
    (lambda lib: sparse(lib, np.float32, *HYBRID), (0, 2), None),
])
def test_sparse_sum(make, dim, dtype):
    ours, theirs = both(lambda lib: lib.sparse.sum(
        make(lib), dim, None if dtype is None else getattr(lib, dtype)))
    assert ours.is_sparse == theirs.is_sparse
    if theirs.is_sparse:
        assert_same_sparse(ours, theirs)
    else:
        assert_close(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("call", [
    lambda lib: lib.sparse.sum(sparse(lib), 2),
    lambda lib: lib.sparse.sum(sparse(lib), (0, 0)),
    lambda lib: lib.sparse.sum(lib.ones(2, 3)),
])
def test_sparse_sum_errors(call):
    same_error(call)
