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
        arrays = [np.zeros((0, 3), np.float32), np.zeros(0, np.float32)]
        assert total_norm.fast(arrays, norm_type) == total_norm.reference(arrays, norm_type) == 0


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
