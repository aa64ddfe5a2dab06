"""cross_entropy kernels: fast == reference, forward (loss per row and what backward keeps) and
backward, with and without label smoothing and class weights, ignored rows (weight 0), on odd
shapes, strided and Fortran layouts, float32 and float64, NaN and +-inf logits; the same bits
on any number of threads; the reference against PyTorch's cross_entropy; and F.cross_entropy on
(N, C, d1, ...) logits against PyTorch on either backend."""

import numpy as np
import pytest
import torch
from kernel_cases import assert_same, cases, rows_with_specials, run_both, same_bits_on_threads
from torch_compare import RTOL, check_fused

import numpy2gpt
import numpy2gpt.kernels as K
import numpy2gpt.nn.functional as F
from numpy2gpt.kernels import cross_entropy as CE

SHAPES = [(1, 1), (7, 5), (33, 65), (4, 1030)]


def weights(n, dtype, smoothing, class_weight, seed=2):
    """(target, hard, soft, weight) for n rows: row 1 ignored (hard = soft = 0)."""
    rng = np.random.default_rng(seed)
    c = class_weight
    target = rng.integers(0, c if isinstance(c, int) else len(c), n)
    hard = rng.uniform(0.5, 2.0, n).astype(dtype)
    soft = rng.uniform(0.0, 0.1, n).astype(dtype) if smoothing else None
    if n > 1:
        hard[1] = 0
        if soft is not None:
            soft[1] = 0
    return target, hard, soft


@pytest.mark.parametrize("smoothing", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_fast_equals_reference(shape, weighted, smoothing):
    n, c = shape
    for label, x in cases(shape, scale=3.0):
        w = np.random.default_rng(3).uniform(0.2, 2.0, c).astype(x.dtype) if weighted else None
        target, hard, soft = weights(n, x.dtype, smoothing, c)
        if c > 1:
            target[n // 2] = 1  # not the -inf planted at [n // 2, 0]: a finite loss there
        (loss, saved), (rloss, rsaved) = run_both(CE.cross_entropy_forward, x, target, hard,
                                                  soft, w)
        assert_same((loss,) + saved, (rloss,) + rsaved, label=label)
        g = np.random.default_rng(4).uniform(0.5, 1.5, n).astype(x.dtype)
        g_soft = None if soft is None else g * soft
        assert_same(*run_both(CE.cross_entropy_backward, rsaved, target, g * hard, g_soft, w),
                    label=label)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reference_equals_torch(dtype, smoothing):
    """hard = 1 - eps and soft = eps / C: PyTorch's per-row cross_entropy with label_smoothing,
    value and gradient."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((6, 5)) * 3).astype(dtype)
    target = rng.integers(0, 5, 6)
    hard, soft = np.full(6, 1 - smoothing, dtype), np.full(6, smoothing / 5, dtype)
    loss, saved = CE.cross_entropy_forward.reference(x, target, hard, soft if smoothing else None)
    g = rng.uniform(0.5, 1.5, 6).astype(dtype)
    gx = CE.cross_entropy_backward.reference(saved, target, g * hard,
                                             g * soft if smoothing else None)
    t = torch.tensor(x, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(t, torch.tensor(target), reduction="none",
                                              label_smoothing=smoothing)
    tloss.backward(torch.tensor(g))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss, tloss.detach().numpy(), rtol=rtol)
    np.testing.assert_allclose(gx, t.grad.numpy(), rtol=rtol, atol=rtol / 10)


@pytest.mark.parametrize("smoothing", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threaded_gives_the_same_bits_as_one_thread(monkeypatch, dtype, smoothing):
    """Forward and backward on several row blocks (the last one short), with NaN and +-inf
    logits: the bytes of one thread on 2 and 3."""
    x = rows_with_specials(65, dtype)
    n, c = x.shape
    target, hard, soft = weights(n, dtype, smoothing, c)
    g = np.random.default_rng(4).uniform(0.5, 1.5, n).astype(dtype)

    def run():
        loss, saved = CE.cross_entropy_forward.fast(x, target, hard, soft)
        gx = CE.cross_entropy_backward.fast(saved, target, g * hard,
                                            None if soft is None else g * soft)
        return loss, *saved, gx

    same_bits_on_threads(monkeypatch, run)


N_C_D = [(3, 5, 7), (2, 65, 3, 4), (4, 6, 1)]  # (N, C, d1, ...): targets (N, d1, ...)
OPTIONS = [dict(), dict(reduction="none"), dict(reduction="sum", label_smoothing=0.1),
           dict(ignore_index=2, weight=True), dict(ignore_index=1, label_smoothing=0.2,
                                                   weight=True, reduction="none")]


@pytest.mark.parametrize("name", K.BACKENDS)
@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("shape", N_C_D)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_n_c_d_logits_match_torch(name, shape, options, dtype):
    """F.cross_entropy on (N, C, d1, ...) logits with (N, d1, ...) class targets (classes along
    dim 1, every other position a row of the kernels): PyTorch's loss and gradient, with
    reductions, ignore_index, class weights and label smoothing."""
    rng = np.random.default_rng(5)
    n, c, *rest = shape
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    target = rng.integers(0, c, (n, *rest))
    kwargs = dict(options)
    if kwargs.pop("weight", False):
        kwargs["weight"] = rng.uniform(0.2, 2.0, c).astype(dtype)

    def call(lib_f, tensor):
        w = kwargs.get("weight")
        extra = {**kwargs, "weight": None if w is None else tensor(w)}
        return lambda x, t: lib_f.cross_entropy(x, t, **extra)

    with K.backend(name):
        check_fused(call(F, numpy2gpt.tensor), call(torch.nn.functional, torch.tensor), torch,
                    [x, target], RTOL[dtype])
