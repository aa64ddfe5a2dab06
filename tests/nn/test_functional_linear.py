"""F.linear and F.embedding: gradcheck, dtypes, one graph node, errors. (Against PyTorch on
either kernel backend, and fast == reference: tests/kernels/test_linear.py, test_embedding.py.)"""


import numpy as np
import pytest

import numpy2gpt as n2g
import numpy2gpt.nn.functional as F
from numpy2gpt.autograd import gradcheck


# ----- linear ------------------------------------------------------------------------------------
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
    with pytest.raises(TypeError, match="argument 'max_norm' \\(position 3\\) must be float"):
        F.embedding(n2g.tensor([0]), w, max_norm="1.0")
