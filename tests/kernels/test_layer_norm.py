"""layer_norm kernels: fast == reference (forward and backward) on the suite's cases, the same
bits on any number of threads, and F.layer_norm against PyTorch on either backend."""

import numpy as np
import pytest
import torch
from kernel_cases import (
    assert_same,
    cases,
    every_backend,
    rows_with_specials,
    run_both,
    same_bits_on_threads,
)
from torch_compare import RTOL, check_fused

import numpy2gpt as n2g
import numpy2gpt.kernels as K
import numpy2gpt.nn.functional as F
from numpy2gpt.kernels.layer_norm import layer_norm_backward, layer_norm_forward


@pytest.mark.parametrize("shape", [(7, 5), (3, 65), (1, 1), (0, 6), (4, 384)])
@pytest.mark.parametrize("weight,bias", [(True, True), (True, False), (False, True),
                                         (False, False)])
def test_fast_equals_reference(shape, weight, bias):
    for label, x in cases(shape, scale=3.0):
        rng = np.random.default_rng(1)
        d = shape[-1]
        w = rng.standard_normal(d).astype(x.dtype) if weight else None
        b = rng.standard_normal(d).astype(x.dtype) if bias else None
        fast, ref = run_both(layer_norm_forward, x, w, b, 1e-5)
        assert_same(fast, ref, label=label)
        _, xhat, rstd = ref
        gy = rng.standard_normal(shape).astype(x.dtype)
        for needs in ((True, weight, bias), (False, weight, False), (True, False, False)):
            fast, ref = run_both(layer_norm_backward, gy, xhat, rstd, w, needs)
            assert_same(fast, ref, label=f"{label} {needs}")
            assert [g is None for g in fast] == [not needs[0], not (needs[1] and weight),
                                                 not needs[2]]


def test_a_row_holding_nan_or_inf_is_nan_and_the_others_are_untouched():
    x = np.random.default_rng(2).standard_normal((4, 6)).astype(np.float32)
    x[0, 1], x[2, 3] = np.nan, -np.inf
    for kernel in (layer_norm_forward.fast, layer_norm_forward.reference):
        y, _, _ = kernel(x, None, None, 1e-5)
        expected = torch.nn.functional.layer_norm(torch.tensor(x), (6,)).numpy()
        np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6, equal_nan=True)
        assert np.isnan(y[[0, 2]]).all() and np.isfinite(y[[1, 3]]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [128, 192])
def test_threaded_gives_the_same_bits_as_one_thread(monkeypatch, d, dtype):
    """Forward and backward (dL/dw and dL/db are sums over every row block) on several blocks,
    the last one short, with NaN and +-inf rows: the bytes of one thread on 2 and 3."""
    x = rows_with_specials(d, dtype)
    rng = np.random.default_rng(1)
    w, b = (rng.standard_normal(d).astype(dtype) for _ in range(2))
    gy = rng.standard_normal(x.shape).astype(dtype)

    def run():
        y, xhat, rstd = layer_norm_forward.fast(x, w, b, 1e-5)
        return (y, xhat, rstd,
                *layer_norm_backward.fast(gy, xhat, rstd, w, (True, True, True)),
                *layer_norm_backward.fast(gy, xhat, rstd, None, (True, False, True)))

    same_bits_on_threads(monkeypatch, run)


CASES = [((7,), (7,)), ((3, 7), (7,)), ((2, 3, 8), (8,)), ((2, 3, 4, 5), (4, 5)),
         ((2, 3, 4), (2, 3, 4)), ((0, 6), (6,))]


def _arrays(x_shape, norm_shape, dtype, weight=True, bias=True, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(x_shape) * 3 + 1).astype(dtype)
    w = rng.standard_normal(norm_shape).astype(dtype) if weight else None
    b = rng.standard_normal(norm_shape).astype(dtype) if bias else None
    return [x, w, b]


@pytest.mark.parametrize("name", every_backend())
@pytest.mark.parametrize("x_shape,norm_shape", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weight,bias", [(True, True), (True, False), (False, True),
                                         (False, False)])
def test_layer_norm_matches_torch(name, x_shape, norm_shape, dtype, weight, bias):
    arrays = _arrays(x_shape, norm_shape, dtype, weight, bias)
    with K.backend(name):
        check_fused(lambda x, w, b: F.layer_norm(x, norm_shape, w, b),
                    lambda x, w, b: torch.nn.functional.layer_norm(x, norm_shape, w, b),
                    torch, arrays, RTOL[dtype])


@pytest.mark.parametrize("name", every_backend())
def test_layer_norm_large_offset_float32(name):
    """Rows with a large common offset: the two-pass variance keeps float32 accurate to the input's
    own resolution (ulp(1000) = 6e-5; a one-pass E[x^2] - E[x]^2 would be off by ~0.1)."""
    x = (np.random.default_rng(4).standard_normal((8, 64)) + 1000).astype(np.float32)
    with K.backend(name):
        ours = F.layer_norm(n2g.tensor(x), (64,)).numpy()
    exact = torch.nn.functional.layer_norm(torch.tensor(x.astype(np.float64)), (64,)).numpy()
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, exact, rtol=0, atol=1e-4)


@pytest.mark.parametrize("forward,backward", [("reference", "fast"), ("fast", "reference")])
def test_a_forward_on_one_backend_and_its_backward_on_the_other(forward, backward):
    """Both forwards save the same kind of objects, so a backend switched between forward and
    backward still gives PyTorch's gradients (here for layer_norm feeding a linear)."""
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((3, 4, 8)), rng.standard_normal(8), rng.standard_normal(8)
    lw, gy = rng.standard_normal((5, 8)), rng.standard_normal((3, 4, 5))
    ours = [n2g.tensor(a, requires_grad=True) for a in (x, w, b, lw)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b, lw)]
    with K.backend(forward):
        y = F.linear(F.layer_norm(ours[0], (8,), ours[1], ours[2]), ours[3])
    with K.backend(backward):
        y.backward(n2g.tensor(gy))
    torch.nn.functional.linear(torch.nn.functional.layer_norm(
        theirs[0], (8,), theirs[1], theirs[2]), theirs[3]).backward(torch.tensor(gy))
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
