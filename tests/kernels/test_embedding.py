"""embedding kernels: the fast backward (one-hot GEMM or sorting) == the reference scatter-add,
and F.embedding against PyTorch on either backend."""

import numpy as np
import pytest
import torch
from kernel_cases import assert_same, every_backend, run_both
from torch_compare import RTOL, check_fused

import numpy2gpt as n2g
import numpy2gpt.kernels as K
import numpy2gpt.kernels.embedding as embedding_kernels
import numpy2gpt.nn.functional as F
from numpy2gpt.kernels.embedding import embedding_backward

IDX = [np.array(3), np.array([1, 4, 1, 1]), np.array([[0, 2, 2], [4, 0, 2]]),
       np.zeros((2, 0), dtype=np.int64), np.array([[[1], [3]]], dtype=np.int32)]


def gradients(idx, dim, dtype, seed=0):
    """A gradient for the lookup of idx, strided (every other column of a wider array), and the
    same with NaN, +inf and -inf planted in three rows."""
    wide = np.random.default_rng(seed).standard_normal(idx.shape + (2 * dim,)).astype(dtype)
    out = [("contiguous", np.ascontiguousarray(wide[..., ::2])), ("strided", wide[..., 1::2])]
    if idx.size >= 3:
        special = out[0][1].copy().reshape(-1, dim)
        special[0, 0], special[-1, -1], special[1, 1] = np.nan, np.inf, -np.inf
        out.append(("nan/inf", special.reshape(idx.shape + (dim,))))
    return out


@pytest.mark.parametrize("idx", IDX, ids=lambda a: str(a.shape))
@pytest.mark.parametrize("num", [5, 300])  # 300 rows: beyond ONE_HOT_MAX_ROWS, the sorting path
@pytest.mark.parametrize("padding_idx", [None, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_backward_equals_reference(idx, num, padding_idx, dtype):
    for label, gy in gradients(idx, 3, dtype):
        fast, ref = run_both(embedding_backward, gy, idx, num, padding_idx)
        assert_same(fast, ref, label=label)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_both_fast_gradient_paths_equal_the_reference(dtype, monkeypatch):
    """Small tables sum gradients with a one-hot GEMM, large ones by sorting: same answer; a
    non-finite gradient takes the sorting path (inf stays in its own row)."""
    rng = np.random.default_rng(8)
    idx = rng.integers(0, 7, (6, 9))
    gy = rng.standard_normal((6, 9, 5)).astype(dtype)
    ref = embedding_backward.reference(gy, idx, 7, None)
    for max_rows in (256, 0):  # one-hot, then sorting
        monkeypatch.setattr(embedding_kernels, "ONE_HOT_MAX_ROWS", max_rows)
        assert_same(embedding_backward.fast(gy, idx, 7, None), ref)
    monkeypatch.setattr(embedding_kernels, "ONE_HOT_MAX_ROWS", 256)
    gy[0, 0, 1] = np.inf  # token idx[0, 0]'s row gets inf in column 1, the others stay finite
    gw = embedding_backward.fast(gy, idx, 7, None)
    assert_same(gw, embedding_backward.reference(gy, idx, 7, None))
    assert np.isinf(gw).sum() == 1


@pytest.mark.parametrize("name", every_backend())
@pytest.mark.parametrize("idx", IDX, ids=lambda a: str(a.shape))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(name, idx, dtype, padding_idx):
    w = np.random.default_rng(4).standard_normal((5, 3)).astype(dtype)
    with K.backend(name):
        check_fused(lambda i, w: F.embedding(i, w, padding_idx=padding_idx),
                    lambda i, w: torch.nn.functional.embedding(i, w, padding_idx=padding_idx),
                    torch, [idx, w], RTOL[dtype])


@pytest.mark.parametrize("name", every_backend())
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_embedding_gradient_with_inf_matches_torch(name, dtype):
    rng = np.random.default_rng(8)
    idx = rng.integers(0, 7, (6, 9))
    w = rng.standard_normal((7, 5)).astype(dtype)
    gy = rng.standard_normal((6, 9, 5)).astype(dtype)
    gy[0, 0, 1] = np.inf
    wt = n2g.tensor(w, requires_grad=True)
    with K.backend(name):
        F.embedding(n2g.tensor(idx), wt).backward(n2g.tensor(gy))
    tw = torch.tensor(w, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(idx), tw).backward(torch.tensor(gy))
    assert wt.grad.dtype == dtype
    np.testing.assert_allclose(wt.grad.numpy(), tw.grad.numpy(), rtol=RTOL[dtype], atol=1e-6)
