"""Tests of the chapter 06 exercise: `pytest docs/course/exercises -k ch06`."""

import numpy as np
from ch06_memory import saved_bytes, sgd_step

import numpy2gpt as torch


def test_saved_bytes_of_a_layer():
    x = torch.zeros(4, 8, requires_grad=True)    # 128 bytes
    W = torch.zeros(8, 8, requires_grad=True)    # 256 bytes
    y = torch.tanh(x @ W)                        # MatMul holds x, W; Tanh holds x @ W (128)
    assert saved_bytes(y) == 128 + 256 + 128


def test_saved_bytes_counts_a_shared_tensor_once():
    x = torch.zeros(1000, dtype=torch.float64, requires_grad=True)   # 8000 bytes
    y = x * x + x                                # Mul holds x twice, Add holds x and x * x
    assert saved_bytes(y) == 8000 + 8000


def test_saved_bytes_grows_with_depth():
    x = torch.zeros(10, requires_grad=True)      # 40 bytes
    h = x
    for _ in range(5):
        h = torch.sin(h)                         # each Sin holds its input
    assert saved_bytes(h) == 5 * 40


def test_sgd_step_updates_in_place_and_records_nothing():
    torch.manual_seed(0)
    w = torch.randn(3, requires_grad=True)
    b = torch.randn(2, requires_grad=True)
    start_w, start_b = w.detach().numpy().copy(), b.detach().numpy().copy()
    ((w * w).sum() + (3 * b).sum()).backward()
    gw, gb = w.grad.numpy().copy(), b.grad.numpy().copy()
    memory = w.detach().numpy()
    sgd_step([w, b], lr=0.1)
    np.testing.assert_allclose(w.detach().numpy(), start_w - 0.1 * gw, rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), start_b - 0.1 * gb, rtol=1e-6)
    assert np.shares_memory(w.detach().numpy(), memory)  # in place: the same array
    assert w.grad is None and b.grad is None
    assert w.is_leaf and w.grad_fn is None and w.requires_grad and torch.is_grad_enabled()
