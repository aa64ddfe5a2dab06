"""matmul / @ / mm / bmm against PyTorch: 1-D, 2-D, batched and broadcasting batch dims; values,
gradients (float64 and float32), gradcheck, hypothesis over random batch shapes, and errors."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from torch_compare import check_against_torch, run_gradcheck

import numpy2gpt as ng

SHAPES = [  # (a, b): every rule of np.matmul / torch.matmul
    ((3,), (3,)),  # dot
    ((2, 3), (3,)),  # matrix @ vector
    ((3,), (3, 4)),  # vector @ matrix
    ((2, 3), (3, 4)),  # matrix @ matrix
    ((5, 2, 3), (5, 3, 4)),  # batched
    ((5, 2, 3), (3, 4)),  # batched @ shared matrix (a linear layer)
    ((2, 3), (5, 3, 4)),  # shared matrix @ batched
    ((2, 1, 2, 3), (4, 3, 2)),  # broadcasting batch dims
    ((5, 2, 3), (3,)),  # batched @ vector
    ((3,), (5, 3, 4)),  # vector @ batched
]


def _pair(shapes, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matmul_matches_torch(shapes, dtype):
    check_against_torch(lambda a, b: a @ b, lambda a, b: a @ b, _pair(shapes, dtype))


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matmul_gradcheck(shapes):
    assert run_gradcheck(ng.matmul, _pair(shapes))


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4))],
                         ids=str)
def test_matmul_second_order(shapes):
    a, b = _pair(shapes)
    x, y = ng.tensor(a, requires_grad=True), ng.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    gx, _ = ng.autograd.grad(((x @ y) ** 2).sum(), (x, y), create_graph=True)
    tgx, _ = torch.autograd.grad(((tx @ ty) ** 2).sum(), (tx, ty), create_graph=True)
    np.testing.assert_allclose(gx.data, tgx.detach().numpy(), rtol=1e-10)
    gy2 = ng.autograd.grad(gx.sum(), y)[0]
    tgy2 = torch.autograd.grad(tgx.sum(), ty)[0]
    np.testing.assert_allclose(gy2.data, tgy2.numpy(), rtol=1e-8)


def test_only_one_operand_requires_grad():
    a, b = _pair(((2, 3), (3, 4)))
    check_against_torch(ng.matmul, torch.matmul, [a, b], requires_grad=[True, False])
    check_against_torch(ng.matmul, torch.matmul, [a, b], requires_grad=[False, True])


def test_mm_bmm_and_reflected_ndarray():
    a, b = _pair(((2, 3), (3, 4)))
    check_against_torch(ng.mm, torch.mm, [a, b])
    c, d = _pair(((2, 2, 3), (2, 3, 4)))
    check_against_torch(ng.bmm, torch.bmm, [c, d])
    check_against_torch(lambda x, y: x.mm(y), lambda x, y: x.mm(y), [a, b])
    y = a @ ng.tensor(b, requires_grad=True)  # ndarray @ Tensor -> Tensor.__rmatmul__
    assert isinstance(y, ng.Tensor) and y.requires_grad
    np.testing.assert_allclose(y.data, a @ b)


def test_integer_matmul():
    a = np.arange(6).reshape(2, 3)
    assert (ng.tensor(a) @ ng.tensor(a.T)).tolist() == (a @ a.T).tolist()


@settings(max_examples=20, deadline=None)
@given(batch=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
       m=st.integers(1, 3), k=st.integers(1, 3), n=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_matmul_random_broadcast_batches(batch, m, k, n, seed):
    (sa, sb) = batch.input_shapes
    a, b = _pair((sa + (m, k), sb + (k, n)), seed=seed)
    ours, *_ = check_against_torch(ng.matmul, torch.matmul, [a, b])
    assert ours[0].shape == batch.result_shape + (m, n)


@pytest.mark.parametrize("a,b,msg", [
    ((2, 3), (4, 5), r"cannot be multiplied \(2x3 and 4x5\)"),
    ((3,), (4,), r"cannot be multiplied \(3 and 4\)"),
    ((2, 2, 3), (2, 4), r"cannot be multiplied \(2x2x3 and 2x4\)"),
    ((2, 2, 3), (3, 3, 4), r"batch dimensions of \[2, 2, 3\] and \[3, 3, 4\]"),
    ((), (3,), "at least 1D"),
])
def test_matmul_shape_errors_name_both_shapes(a, b, msg):
    with pytest.raises(RuntimeError, match=msg):
        ng.zeros(a) @ ng.zeros(b)


def test_mm_bmm_reject_wrong_ranks():
    with pytest.raises(RuntimeError, match="mm: expected 2-D"):
        ng.mm(ng.zeros(2, 2, 2), ng.zeros(2, 2))
    with pytest.raises(RuntimeError, match="bmm: expected 3-D"):
        ng.bmm(ng.zeros(2, 2), ng.zeros(2, 2))


@pytest.mark.parametrize("a,b", [((2, 3), (3, 4)), ((3,), (3,)), ((2, 3), (3,))])
def test_grad_fn_name_matches_torch(a, b):
    ours = ng.zeros(*a, requires_grad=True) @ ng.zeros(*b)
    theirs = torch.zeros(*a, requires_grad=True) @ torch.zeros(*b)
    assert ours.grad_fn.name() == type(theirs.grad_fn).__name__
