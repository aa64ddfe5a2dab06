"""F.linear and F.embedding: fused == composed from primitive ops == PyTorch, values and grads."""

import sys

import numpy as np
import pytest
import torch
from torch_compare import RTOL, check_fused

import numpy2gpt as n2g
import numpy2gpt.nn.functional as F
from numpy2gpt.autograd import gradcheck


def linear_composed(x, w, b=None):
    """The same math from primitive ops: a broadcasting matmul and an add."""
    y = n2g.matmul(x, n2g.transpose(w, 0, 1))
    return y if b is None else y + b


# ----- linear ------------------------------------------------------------------------------------
LEADS = [(), (6,), (2, 3), (2, 1, 3), (0,), (2, 0)]


@pytest.mark.parametrize("lead", LEADS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_matches_torch(lead, dtype, with_bias):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(lead + (4,)).astype(dtype),
              rng.standard_normal((5, 4)).astype(dtype)]
    if with_bias:
        arrays.append(rng.standard_normal(5).astype(dtype))
    check_fused(F.linear, torch.nn.functional.linear, torch, arrays, RTOL[dtype])


@pytest.mark.parametrize("lead", [(), (3,), (2, 3)])
def test_linear_fused_equals_composed(lead):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(lead + (7,)), rng.standard_normal((3, 7)),
              rng.standard_normal(3)]
    check_fused(F.linear, linear_composed, n2g, arrays, 1e-10)
    check_fused(F.linear, linear_composed, n2g, arrays[:2], 1e-10)


def test_linear_broadcast_bias_and_partial_grads():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4))
    for b in (rng.standard_normal(1), np.array(0.5)):  # a bias broadcast over out_features
        check_fused(F.linear, torch.nn.functional.linear, torch, [x, w, b], 1e-8)
    # only some inputs require grad: the others get None
    check_fused(F.linear, torch.nn.functional.linear, torch, [x, w, rng.standard_normal(5)], 1e-8,
                grad_mask=[False, True, False])
    check_fused(F.linear, torch.nn.functional.linear, torch, [x, w], 1e-8, grad_mask=[True, False])


def test_linear_gradcheck():
    rng = np.random.default_rng(3)
    x = n2g.tensor(rng.standard_normal((2, 2, 3)), requires_grad=True)
    w = n2g.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = n2g.tensor(rng.standard_normal(4), requires_grad=True)
    assert gradcheck(F.linear, (x, w, b))
    assert gradcheck(F.linear, (x, w))


def test_linear_float32_stays_float32():
    x = n2g.randn(3, 4, requires_grad=True)
    w = n2g.randn(2, 4, requires_grad=True)
    b = n2g.randn(2, requires_grad=True)
    y = F.linear(x, w, b)
    y.sum().backward()
    assert y.dtype == n2g.float32
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == n2g.float32


def test_linear_is_one_graph_node():
    x = n2g.randn(2, 3, 4, requires_grad=True)
    y = F.linear(x, n2g.randn(5, 4), n2g.randn(5))
    assert all(t.grad_fn is None for t in y.grad_fn.inputs)


def test_linear_bad_input():
    x, w = n2g.randn(2, 3, 4), n2g.randn(5, 3)
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(6x4 and 3x5\)"):
        F.linear(x, w)
    with pytest.raises(RuntimeError, match="same dtype, but got: float != double"):
        F.linear(n2g.randn(2, 4), n2g.randn(5, 4, dtype=n2g.float64))
    with pytest.raises(RuntimeError, match="weight must be 2-D"):
        F.linear(x, n2g.randn(2, 5, 4))
    with pytest.raises(RuntimeError, match=r"bias of shape \[4\] does not match out_features = 5"):
        F.linear(n2g.randn(2, 4), n2g.randn(5, 4), n2g.randn(4))
    with pytest.raises(RuntimeError, match="floating point.*input has dtype numpy2gpt.int64"):
        F.linear(n2g.tensor([[1, 2]]), n2g.ones(3, 2, dtype=n2g.int64))


# ----- embedding ---------------------------------------------------------------------------------
def embedding_composed(idx, w, padding_idx=None):
    """weight[idx] from primitive ops: a constant one-hot matrix times the weight. The padding
    row's contribution goes through `w.detach()`, so it gets no gradient."""
    num = w.shape[0]
    onehot = np.eye(num, dtype=w.dtype)[idx.data.reshape(-1)]
    if padding_idx is None:
        y = n2g.tensor(onehot) @ w
    else:
        pad = np.zeros_like(onehot)
        pad[:, padding_idx] = onehot[:, padding_idx]
        y = n2g.tensor(onehot - pad) @ w + n2g.tensor(pad) @ w.detach()
    return n2g.reshape(y, tuple(idx.shape) + (w.shape[1],))


IDX = [np.array(3), np.array([1, 4, 1, 1]), np.array([[0, 2, 2], [4, 0, 2]]),
       np.zeros((2, 0), dtype=np.int64), np.array([[[1], [3]]], dtype=np.int32)]


@pytest.mark.parametrize("idx", IDX, ids=lambda a: str(a.shape))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(idx, dtype, padding_idx):
    w = np.random.default_rng(4).standard_normal((5, 3)).astype(dtype)
    check_fused(lambda i, w: F.embedding(i, w, padding_idx=padding_idx),
                lambda i, w: torch.nn.functional.embedding(i, w, padding_idx=padding_idx),
                torch, [idx, w], RTOL[dtype])


@pytest.mark.parametrize("idx", IDX, ids=lambda a: str(a.shape))
@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_fused_equals_composed(idx, padding_idx):
    w = np.random.default_rng(5).standard_normal((5, 3))
    check_fused(lambda i, w: F.embedding(i, w, padding_idx=padding_idx),
                lambda i, w: embedding_composed(i, w, padding_idx), n2g, [idx, w], 1e-10)


def test_embedding_repeated_indices_sum_and_gradcheck():
    w = n2g.tensor(np.random.default_rng(6).standard_normal((4, 2)), requires_grad=True)
    idx = n2g.tensor([[3, 3, 0], [3, 1, 0]])
    F.embedding(idx, w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[2, 2], [1, 1], [0, 0], [3, 3]])
    w.grad = None
    assert gradcheck(lambda w: F.embedding(idx, w), (w,))  # (padding_idx is not a derivative)


def test_embedding_float32_stays_float32():
    w = n2g.randn(10, 4, requires_grad=True)
    y = F.embedding(n2g.tensor([1, 2, 1]), w)
    y.sum().backward()
    assert y.dtype == w.grad.dtype == n2g.float32


def test_embedding_bad_input():
    w = n2g.randn(5, 3)
    with pytest.raises(IndexError, match="index 5 is out of range for num_embeddings = 5"):
        F.embedding(n2g.tensor([0, 5]), w)
    with pytest.raises(IndexError, match="index -1 is out of range for num_embeddings = 5"):
        F.embedding(n2g.tensor([0, -1]), w)
    with pytest.raises(RuntimeError, match="integer indices.*got numpy2gpt.float32"):
        F.embedding(n2g.tensor([0.0, 1.0]), w)
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        F.embedding(n2g.tensor([0]), n2g.randn(5))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(n2g.tensor([0]), w, padding_idx=5)
    with pytest.raises(NotImplementedError, match="max_norm"):
        F.embedding(n2g.tensor([0]), w, max_norm=1.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_embedding_gradient_paths_agree(dtype, monkeypatch):
    """Small tables sum gradients with a one-hot GEMM, large ones by sorting: same answer, and
    against PyTorch; a non-finite gradient takes the sorting path (inf stays in its own row)."""
    linear_module = sys.modules["numpy2gpt.nn.functional.linear"]  # (F.linear is the function)
    rng = np.random.default_rng(8)
    idx = rng.integers(0, 7, (6, 9))
    w = rng.standard_normal((7, 5)).astype(dtype)
    gy = rng.standard_normal((6, 9, 5)).astype(dtype)
    grads = []
    for max_rows in (256, 0):  # one-hot, then sorting
        monkeypatch.setattr(linear_module, "ONE_HOT_MAX_ROWS", max_rows)
        wt = n2g.tensor(w, requires_grad=True)
        F.embedding(n2g.tensor(idx), wt).backward(n2g.tensor(gy))
        grads.append(wt.grad.numpy())
    tw = torch.tensor(w, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(idx), tw).backward(torch.tensor(gy))
    for g in grads:
        assert g.dtype == dtype
        np.testing.assert_allclose(g, tw.grad.numpy(), rtol=RTOL[dtype], atol=1e-6)
    monkeypatch.setattr(linear_module, "ONE_HOT_MAX_ROWS", 256)
    gy[0, 0, 1] = np.inf  # token idx[0, 0]'s row gets inf in column 1, the others stay finite
    wt = n2g.tensor(w, requires_grad=True)
    F.embedding(n2g.tensor(idx), wt).backward(n2g.tensor(gy))
    tw.grad = None
    torch.nn.functional.embedding(torch.tensor(idx), tw).backward(torch.tensor(gy))
    np.testing.assert_allclose(wt.grad.numpy(), tw.grad.numpy(), rtol=RTOL[dtype], atol=1e-6)
    assert np.isinf(wt.grad.numpy()).sum() == 1
