"""F.layer_norm: eps, one-element rows, gradcheck, dtypes, one graph node, errors. (Against
PyTorch on either kernel backend, and fast == reference: tests/kernels/test_layer_norm.py.)"""

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_fused, run_backward, same_error

import numpy2gpt as n2g
import numpy2gpt.nn.functional as F
from numpy2gpt.autograd import gradcheck


def test_layer_norm_eps_and_one_element_rows():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5))
    check_fused(lambda x: F.layer_norm(x, (5,), eps=0.5),
                lambda x: torch.nn.functional.layer_norm(x, (5,), eps=0.5), torch, [x], 1e-8)
    # rows of one element normalise to xhat = 0 exactly (var = 0): y = bias, and the gradients
    # w.r.t. x and weight are exactly 0 (PyTorch leaves ~1e-14 of rounding there)
    arrays = [rng.standard_normal((3, 1)), rng.standard_normal(1), rng.standard_normal(1)]
    y1, (gx1, gw1, gb1) = run_backward(n2g, lambda x, w, b: F.layer_norm(x, (1,), w, b), arrays)
    y2, (gx2, gw2, gb2) = run_backward(torch, lambda x, w, b: torch.nn.functional.layer_norm(
        x, (1,), w, b), arrays)
    assert np.all(gx1 == 0) and np.all(gw1 == 0)
    assert np.abs(gx2).max() < 1e-12 and np.abs(gw2).max() < 1e-12
    for ours, ref in ((y1, y2), (gb1, gb2)):
        assert_close(ours, ref, 1e-8)


def test_layer_norm_gradcheck():
    rng = np.random.default_rng(3)
    x = n2g.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    w = n2g.tensor(rng.standard_normal(4), requires_grad=True)
    b = n2g.tensor(rng.standard_normal(4), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (4,), w, b), (x, w, b))
    assert gradcheck(lambda x: F.layer_norm(x, (3, 4)), (x,))
    # only some inputs require grad
    w2 = n2g.tensor(rng.standard_normal(4))
    assert gradcheck(lambda x, b: F.layer_norm(x, (4,), w2, b), (x, b))
    x2 = n2g.tensor(rng.standard_normal((3, 4)))
    assert gradcheck(lambda w, b: F.layer_norm(x2, (4,), w, b), (w, b))


def test_layer_norm_float32_stays_float32_and_is_one_node():
    x = n2g.randn(4, 6, requires_grad=True)
    w = n2g.randn(6, requires_grad=True)
    b = n2g.randn(6, requires_grad=True)
    y = F.layer_norm(x, (6,), w, b)
    assert all(t.grad_fn is None for t in y.grad_fn.inputs)
    (y * y).sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == b.grad.dtype == n2g.float32


def test_layer_norm_bad_input():
    x = n2g.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[5\], expected input with "
                                           r"shape \[\*, 5\], but got input of size\[2, 3, 4\]"):
        F.layer_norm(x, (5,))
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[2, 3, 4, 5\]"):
        F.layer_norm(x, (2, 3, 4, 5))
    with pytest.raises(RuntimeError, match=r"weight of shape \[5\] and normalized_shape = \[4\]"):
        F.layer_norm(x, (4,), n2g.randn(5))
    with pytest.raises(RuntimeError, match=r"bias of shape \[3\] and normalized_shape = \[4\]"):
        F.layer_norm(x, (4,), None, n2g.randn(3))
    with pytest.raises(RuntimeError, match="at least 1-dimensional"):
        F.layer_norm(x, ())
    with pytest.raises(RuntimeError, match="same dtype"):
        F.layer_norm(x, (4,), n2g.randn(4, dtype=n2g.float64))
    same_error(lambda lib: lib.nn.functional.layer_norm(lib.tensor([[1, 2]]), (2,)))
