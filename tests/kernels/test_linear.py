"""linear kernels: fast == reference (forward and backward) on the suite's cases, and F.linear
against PyTorch on either backend."""

import numpy as np
import pytest
import torch
from kernel_cases import assert_same, cases, every_backend, run_both
from torch_compare import RTOL, check_fused

import numpy2gpt.kernels as K
import numpy2gpt.nn.functional as F
from numpy2gpt.kernels.linear import linear_backward, linear_forward

SHAPES = [(7, 5), (2, 3, 9), (1, 1), (0, 4)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("bias_shape", [(6,), (1,), (), None])
def test_fast_equals_reference(shape, bias_shape):
    for label, x in cases(shape):
        rng = np.random.default_rng(1)
        w = rng.standard_normal((6, shape[-1])).astype(x.dtype)
        b = None if bias_shape is None else rng.standard_normal(bias_shape).astype(x.dtype)
        (y, x2), (y_ref, x2_ref) = run_both(linear_forward, x, w, b)
        assert_same((y, x2), (y_ref, x2_ref), label=label)
        gy = rng.standard_normal(y.shape).astype(x.dtype)
        for needs in ((True, True, True), (False, True, False), (True, False, True)):
            fast, ref = run_both(linear_backward, gy, x2, w, x.shape, bias_shape, needs)
            assert_same(fast, ref, label=f"{label} {needs}")
            assert [g is None for g in fast] == [not n for n in needs[:2]] + [
                bias_shape is None or not needs[2]]


@pytest.mark.parametrize("name", every_backend())
@pytest.mark.parametrize("lead", [(), (6,), (2, 3), (2, 1, 3), (0,), (2, 0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_matches_torch(name, lead, dtype, with_bias):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(lead + (4,)).astype(dtype),
              rng.standard_normal((5, 4)).astype(dtype)]
    if with_bias:
        arrays.append(rng.standard_normal(5).astype(dtype))
    with K.backend(name):
        check_fused(F.linear, torch.nn.functional.linear, torch, arrays, RTOL[dtype])


@pytest.mark.parametrize("name", every_backend())
def test_linear_broadcast_bias_and_partial_grads(name):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4))
    with K.backend(name):
        for b in (rng.standard_normal(1), np.array(0.5)):  # a bias broadcast over out_features
            check_fused(F.linear, torch.nn.functional.linear, torch, [x, w, b], 1e-8)
        # only some inputs require grad: the others get None
        check_fused(F.linear, torch.nn.functional.linear, torch, [x, w, rng.standard_normal(5)],
                    1e-8, grad_mask=[False, True, False])
        check_fused(F.linear, torch.nn.functional.linear, torch, [x, w], 1e-8,
                    grad_mask=[True, False])
