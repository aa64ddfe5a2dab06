"""clip_grad_norm_'s total-norm kernels: fast == reference on the suite's cases, and
clip_grad_norm_ against PyTorch on either backend."""

import math

import numpy as np
import pytest
import torch
from kernel_cases import assert_same, cases, every_backend, run_both

import numpy2gpt as n2g
import numpy2gpt.kernels as K
from numpy2gpt import nn
from numpy2gpt.kernels.clip import total_norm
from numpy2gpt.nn.utils import clip_grad_norm_

NORMS = [2.0, math.inf, 1.0, 3.0]


@pytest.mark.parametrize("norm_type", NORMS)
@pytest.mark.parametrize("special", [False, True])
def test_fast_equals_reference(norm_type, special):
    for dtype in ("float32", "float64"):
        arrays = [a for shape in [(7, 5), (3,), (2, 3, 4)]
                  for label, a in cases(shape, special=special) if label.startswith(dtype)]
        with np.errstate(over="ignore"):  # inf ** 3
            fast, ref = run_both(total_norm, arrays, norm_type)
        assert_same(np.array(fast), np.array(ref), np.dtype(dtype), label=dtype)
        assert math.isnan(fast) == special  # NaN in any gradient: a NaN norm, as in PyTorch


def test_the_empty_list_and_empty_arrays_have_norm_zero():
    for norm_type in NORMS:
        assert total_norm.fast([], norm_type) == total_norm.reference([], norm_type) == 0
        if norm_type != math.inf:  # a maximum has no identity: PyTorch's error, below
            arrays = [np.zeros((0, 3), np.float32), np.zeros(0, np.float32)]
            assert total_norm.fast(arrays, norm_type) == \
                total_norm.reference(arrays, norm_type) == 0


@pytest.mark.parametrize("name", every_backend())
@pytest.mark.parametrize("dtype,rtol", [("float32", 1e-6), ("float64", 1e-13)])
@pytest.mark.parametrize("norm_type", NORMS)
@pytest.mark.parametrize("planted", [None, np.inf, np.nan])
def test_clip_grad_norm_matches_torch(name, dtype, rtol, norm_type, planted):
    rng = np.random.default_rng(0)
    grads = [np.asarray(rng.standard_normal(s), dtype) for s in [(3, 4), (5,), (2, 3, 2), ()]]
    grads[0] = grads[0].T  # a strided gradient
    if planted is not None:
        grads[2][1, 1, 0] = planted
    ours = [nn.Parameter(n2g.tensor(np.zeros_like(g))) for g in grads]
    theirs = [torch.nn.Parameter(torch.zeros(g.shape, dtype=getattr(torch, dtype)))
              for g in grads]
    for p, t, g in zip(ours, theirs, grads):
        p.grad, t.grad = n2g.Tensor._make(g.copy()), torch.tensor(np.array(g))
    with K.backend(name), np.errstate(over="ignore"):
        total = clip_grad_norm_(ours, 0.5, norm_type=norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type=norm_type)
    assert total.dtype == np.dtype(dtype)
    np.testing.assert_allclose(total.item(), ref.item(), rtol=rtol)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=0)


@pytest.mark.parametrize("name", every_backend())
def test_float16_gradients_are_summed_in_a_wider_type(name):
    """70000 ones: the sum of squares overflows float16 but not the float32 PyTorch sums in."""
    ours = nn.Parameter(n2g.zeros(70000, dtype=n2g.float16))
    theirs = torch.nn.Parameter(torch.zeros(70000, dtype=torch.float16))
    ours.grad, theirs.grad = n2g.ones(70000, dtype=n2g.float16), torch.ones(70000,
                                                                            dtype=torch.float16)
    with K.backend(name):
        total = clip_grad_norm_([ours], 1.0)
    ref = torch.nn.utils.clip_grad_norm_([theirs], 1.0)
    assert total.dtype == np.float16 and total.item() == ref.item() == 264.5
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("name", every_backend())
@pytest.mark.parametrize("norm_type", [-math.inf, 0, -1.0, -0.5, 0.5])
@pytest.mark.parametrize("max_norm", [0.1, 1e3])
def test_orders_below_one_are_the_norm_of_the_gradients_norms(name, norm_type, max_norm):
    """PyTorch's total is the norm of the per-gradient norms: for order 0 the number of
    gradients with a nonzero element, for -inf the smallest |element|, for p < 0 zero as soon
    as an element is zero."""
    for grads in ([[3.0, -0.5, 2.0]], [[3.0, 0.0, 2.0], [0.0, 0.0, 1.0], [0.0, 0.0]],
                  [[3.0, 1.0, -2.0], [5.0, 0.5, 1.0], [0.25]]):
        ours = [nn.Parameter(n2g.zeros(len(g))) for g in grads]
        theirs = [torch.nn.Parameter(torch.zeros(len(g))) for g in grads]
        for p, t, g in zip(ours, theirs, grads):
            p.grad, t.grad = n2g.tensor(g), torch.tensor(g)
        with K.backend(name):
            total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
        ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
        np.testing.assert_allclose(total.item(), ref.item(), rtol=1e-6)
        for p, t in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-6)
        arrays = [np.array(g) for g in grads]
        assert total_norm.fast(arrays, norm_type) == pytest.approx(
            total_norm.reference(arrays, norm_type), rel=1e-12)


@pytest.mark.parametrize("name", every_backend())
@pytest.mark.parametrize("norm_type", [-math.inf, -1.0, math.inf])
def test_a_negative_or_infinity_order_of_an_empty_gradient_is_pytorchs_error(name, norm_type):
    t = torch.nn.Parameter(torch.zeros(0))
    t.grad = torch.zeros(0)
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.utils.clip_grad_norm_([t], 1.0, norm_type=norm_type)
    p = nn.Parameter(n2g.zeros(0))
    p.grad = n2g.zeros(0)
    with K.backend(name), pytest.raises(RuntimeError) as ours:
        clip_grad_norm_([p], 1.0, norm_type=norm_type)
    assert str(ours.value) == str(theirs.value)
