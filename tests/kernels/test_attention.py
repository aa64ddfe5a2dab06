"""attention kernels: fast == reference, forward (output, P, dropout multiplier) and backward
(dQ, dK, dV, dS), for scaled dot-product attention (no mask, causal, float mask, fully masked
rows, broadcast batch dims, dropout) and for the packed causal self-attention of a GPT block; odd
shapes, strided and Fortran layouts, float32 and float64, NaN and +-inf inputs. The references
against PyTorch's scaled_dot_product_attention."""

import math

import numpy as np
import pytest
import torch
from kernel_cases import assert_same, cases, run_both

import numpy2gpt as nt
from numpy2gpt.kernels import attention as A

# (q shape, k shape, v shape): odd sizes, one query, one key, batch dims that broadcast
SHAPES = [((1, 1, 1), (1, 1, 1), (1, 1, 1)), ((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6)),
          ((3, 9, 5), (1, 9, 5), (3, 9, 2)), ((2, 1, 4, 8), (1, 3, 6, 8), (2, 3, 6, 3))]


def gradient(shape, dtype, seed=9):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def masks(n_q, n_k, dtype):
    """The biases attention meets: none, causal, a float mask with one fully masked row."""
    float_mask = np.random.default_rng(5).standard_normal((n_q, n_k)).astype(dtype)
    float_mask[-1] = -np.inf  # a query that may see no key: P = 0, like PyTorch
    return {"none": None, "causal": A.causal_bias(n_q, n_k, np.dtype(dtype)), "float": float_mask}


def check_attention(q, k, v, bias, scale, label, dropout_p=0.0):
    nt.manual_seed(3)
    out, saved = A.attention_forward.fast(q, k, v, bias, scale, dropout_p)
    nt.manual_seed(3)  # the same dropout draw for both
    rout, rsaved = A.attention_forward.reference(q, k, v, bias, scale, dropout_p)
    assert_same((out,) + saved[:1], (rout,) + rsaved[:1], label=label)
    if dropout_p:
        np.testing.assert_array_equal(saved[1], rsaved[1], err_msg=label)
        assert 0 < np.count_nonzero(rsaved[1]) < rsaved[1].size
    g = gradient(rout.shape, rout.dtype)
    assert_same(*run_both(A.attention_backward, rsaved, q, k, v, rout, g, scale), label=label)


@pytest.mark.parametrize("bias", ["none", "causal", "float"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_attention_fast_equals_reference(shapes, bias):
    q_shape, k_shape, v_shape = shapes
    for (label, q), (_, k), (_, v) in zip(cases(q_shape), cases(k_shape, seed=1),
                                          cases(v_shape, seed=2)):
        b = masks(q_shape[-2], k_shape[-2], q.dtype)[bias]
        check_attention(q, k, v, b, 1 / math.sqrt(q_shape[-1]), f"{label} {bias}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_attention_dropout_draws_the_same_mask(dtype):
    (label, q), (_, k), (_, v) = (cases(s, seed=i)[0 if dtype == np.float32 else 4]
                                  for i, s in enumerate(SHAPES[1]))
    check_attention(q, k, v, None, 0.5, label, dropout_p=0.4)


@pytest.mark.parametrize("shape,n_head", [((1, 1, 3), 1), ((2, 5, 12), 2), ((3, 9, 24), 4),
                                          ((1, 17, 18), 3)])
def test_causal_attention_fast_equals_reference(shape, n_head):
    for label, qkv in cases(shape):
        for dropout_p in (0.0, 0.3):
            nt.manual_seed(4)
            y, saved = A.causal_attention_forward.fast(qkv, n_head, dropout_p)
            nt.manual_seed(4)
            ry, rsaved = A.causal_attention_forward.reference(qkv, n_head, dropout_p)
            assert_same((y, saved[0]), (ry, rsaved[0]), label=label)
            if dropout_p:
                np.testing.assert_array_equal(saved[1], rsaved[1], err_msg=label)
            g = gradient(ry.shape, ry.dtype)
            assert_same(*run_both(A.causal_attention_backward, rsaved, qkv, n_head, ry, g),
                        label=label)


@pytest.mark.parametrize("bias", ["none", "causal", "float"])
def test_reference_equals_torch(bias):
    """softmax(Q K^T * scale + mask) V and its gradients, as PyTorch computes them (float64)."""
    q, k, v = (np.random.default_rng(i).standard_normal(s) for i, s in enumerate(SHAPES[1]))
    b = masks(5, 7, np.float64)[bias]
    out, saved = A.attention_forward.reference(q, k, v, b, 0.3, 0.0)
    g = gradient(out.shape, out.dtype)
    gq, gk, gv, _ = A.attention_backward.reference(saved, q, k, v, out, g, 0.3)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    tout = torch.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=None if b is None else torch.tensor(b), scale=0.3)
    tout.backward(torch.tensor(g))
    for ours, theirs in ((out, tout), (gq, tq.grad), (gk, tk.grad), (gv, tv.grad)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
