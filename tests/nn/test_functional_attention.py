"""scaled_dot_product_attention (one fused Function, hand-derived backward) against PyTorch under
both kernel backends, fast against reference at the library level, and against numerical
gradients: causal, bool and float masks (the float mask gets a gradient), custom scale, batch
broadcasting, GQA, dropout, fully masked rows; plus dtypes and bad input. (The kernels themselves,
fast against reference on odd shapes and layouts: tests/kernels/test_attention.py.)"""

import sys

import numpy as np
import pytest
import torch
from torch_compare import RTOL, assert_close_ulps, rand, same_error

import numpy2gpt as nt
import numpy2gpt.kernels as kernels
import numpy2gpt.nn.functional as F
from numpy2gpt.autograd import gradcheck

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # no NumPy warnings leak
SDPA = F.scaled_dot_product_attention
TSDPA = torch.nn.functional.scaled_dot_product_attention


@pytest.fixture(params=kernels.BACKENDS)
def backend(request):
    """Run the test under each kernel backend."""
    with kernels.backend(request.param):
        yield request.param


def run(lib, fn, arrays, dtype, mask=None, mask_grad=False, **kw):
    """Output and gradients of q, k, v (and a float mask) under a random upstream gradient."""
    q, k, v = (lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays)
    m = None
    if mask is not None:
        m = lib.tensor(mask if mask.dtype == bool else mask.astype(dtype), requires_grad=mask_grad)
    out = fn(q, k, v, attn_mask=m, **kw)
    out.backward(lib.tensor(rand(*out.shape, seed=9).astype(dtype)))
    to_np = (lambda a: a.detach().numpy()) if lib is torch else (lambda a: a._data)
    grads = [to_np(t.grad) for t in (q, k, v)] + ([to_np(m.grad)] if mask_grad else [])
    return to_np(out), grads, out.dtype, [t.grad.dtype for t in (q, k, v)]


def qkv(batch, n_q, n_k, e, ev, seed=0):
    return (rand(*batch, n_q, e, seed=seed), rand(*batch, n_k, e, seed=seed + 1),
            rand(*batch, n_k, ev, seed=seed + 2))


def _bool_mask(shape, seed=5):
    m = np.random.default_rng(seed).random(shape) > 0.4
    m[..., 0] = True  # keep at least one key per row (fully masked rows are tested apart)
    return m


# (q/k/v shapes, mask, whether the float mask requires grad, kwargs)
CASES = [
    (qkv((2,), 4, 6, 8, 5), None, False, {}),
    (qkv((2, 3), 5, 5, 4, 4), None, False, dict(is_causal=True)),
    (qkv((2, 3), 3, 6, 4, 2), None, False, dict(is_causal=True)),  # L != S: top-left aligned
    (qkv((2, 3), 4, 6, 8, 5), _bool_mask((4, 6)), False, {}),
    (qkv((2, 3), 4, 6, 8, 5), _bool_mask((2, 1, 4, 6)), False, dict(scale=0.7)),
    (qkv((2, 3), 4, 6, 8, 5), rand(3, 4, 6, seed=6), True, {}),
    (qkv((2, 3), 4, 6, 8, 5), rand(4, 6, seed=6), True, dict(scale=0.25)),
    (qkv((), 4, 6, 3, 5), None, False, {}),  # 2-D inputs
    ((rand(2, 3, 4, 8), rand(1, 3, 6, 8, seed=1), rand(2, 1, 6, 5, seed=2)), None, False, {}),
    ((rand(2, 4, 5, 8), rand(2, 2, 6, 8, seed=1), rand(2, 2, 6, 3, seed=2)), None, False,
     dict(enable_gqa=True, is_causal=True)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_matches_torch(dtype, case, backend):
    arrays, mask, mask_grad, kw = CASES[case]
    out, grads, odt, gdts = run(nt, SDPA, arrays, dtype, mask, mask_grad, **kw)
    tout, tgrads, _, _ = run(torch, TSDPA, arrays, dtype, mask, mask_grad, **kw)
    assert out.shape == tout.shape and odt == dtype and all(g == dtype for g in gdts)
    assert_close_ulps(out, tout, RTOL[dtype])
    for g, tg in zip(grads, tgrads):
        assert g.shape == tg.shape
        assert_close_ulps(g, tg, RTOL[dtype])


@pytest.mark.parametrize("case", range(len(CASES)))
def test_fast_equals_reference(case):
    arrays, mask, mask_grad, kw = CASES[case]
    out, grads, _, _ = run(nt, SDPA, arrays, np.float64, mask, mask_grad, **kw)
    with kernels.backend("reference"):
        cout, cgrads, _, _ = run(nt, SDPA, arrays, np.float64, mask, mask_grad, **kw)
    np.testing.assert_allclose(out, cout, rtol=1e-10, atol=1e-14)
    for g, cg in zip(grads, cgrads):
        np.testing.assert_allclose(g, cg, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("mask,kw", [(None, dict(is_causal=True)), (_bool_mask((3, 4)), {}),
                                     (rand(2, 3, 4, seed=3), {}), (None, dict(dropout_p=0.4))])
def test_gradcheck(mask, kw):
    q, k, v = (nt.tensor(a, requires_grad=True) for a in qkv((2,), 3, 4, 2, 3, seed=11))
    inputs = (q, k, v)
    if mask is not None and mask.dtype != bool:
        inputs += (nt.tensor(mask, requires_grad=True),)  # the float mask's gradient too
    elif mask is not None:
        kw = dict(kw, attn_mask=nt.tensor(mask))

    def fn(q, k, v, m=None):
        nt.manual_seed(0)  # the same dropout mask on every call
        return SDPA(q, k, v, **(kw if m is None else dict(kw, attn_mask=m)))

    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fully_masked_rows_give_zeros_like_torch(dtype, backend):
    arrays = qkv((2,), 4, 5, 3, 2)
    bool_mask = _bool_mask((4, 5))
    bool_mask[1] = False
    float_mask = rand(2, 4, 5, seed=4)
    float_mask[0, 2] = -np.inf
    for mask in (bool_mask, float_mask):
        out, grads, _, _ = run(nt, SDPA, arrays, dtype, mask)
        tout, tgrads, _, _ = run(torch, TSDPA, arrays, dtype, mask)
        assert_close_ulps(out, tout, RTOL[dtype])
        for g, tg in zip(grads, tgrads):
            assert_close_ulps(g, tg, RTOL[dtype])
        row = (slice(None), 1) if mask.dtype == bool else (0, 2)
        assert not out[row].any() and not grads[0][row].any()  # exactly 0, not NaN


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rows_far_below_the_block_max(dtype):
    """A row whose scores all sit far below the rest of its (L, S) block underflows with the
    block shift; it must be redone with its own max (softmax ignores a per-row offset)."""
    arrays = qkv((2,), 4, 5, 3, 2)
    mask = rand(2, 4, 5, seed=4)
    mask[0, 1] -= 3000.0  # a per-row offset: the answer equals the unshifted one
    mask[1, 3] += 900.0
    out, grads, _, _ = run(nt, SDPA, arrays, dtype, mask, True)
    tout, tgrads, _, _ = run(torch, TSDPA, arrays, dtype, mask, True)
    assert np.isfinite(out).all()
    assert_close_ulps(out, tout, RTOL[dtype])
    for g, tg in zip(grads, tgrads):
        assert_close_ulps(g, tg, RTOL[dtype])


def test_dropout_uses_the_generator_and_matches_the_reference():
    arrays = qkv((2, 2), 4, 6, 3, 6)
    eye = np.broadcast_to(np.eye(6), (2, 2, 6, 6)).copy()
    nt.manual_seed(3)
    probs = SDPA(*(nt.tensor(a) for a in arrays[:2]), nt.tensor(eye))._data  # V = I: O = P
    nt.manual_seed(3)
    dropped = SDPA(*(nt.tensor(a) for a in arrays[:2]), nt.tensor(eye), dropout_p=0.5)._data
    kept = dropped != 0
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(dropped[kept], 2 * probs[kept], rtol=1e-12)  # scaled by 1/(1-p)
    nt.manual_seed(3)
    again = SDPA(*(nt.tensor(a) for a in arrays[:2]), nt.tensor(eye), dropout_p=0.5)._data
    np.testing.assert_array_equal(again, dropped)  # reproducible from the seed
    # the fast and the reference kernels draw the same mask from the same generator state
    nt.manual_seed(7)
    out, grads, _, _ = run(nt, SDPA, arrays, np.float64, dropout_p=0.3, is_causal=True)
    nt.manual_seed(7)
    with kernels.backend("reference"):
        cout, cgrads, _, _ = run(nt, SDPA, arrays, np.float64, dropout_p=0.3, is_causal=True)
    np.testing.assert_allclose(out, cout, rtol=1e-10, atol=1e-14)
    for g, cg in zip(grads, cgrads):
        np.testing.assert_allclose(g, cg, rtol=1e-10, atol=1e-14)
    zero = SDPA(*(nt.tensor(a) for a in arrays), dropout_p=1.0)._data
    assert not zero.any()  # like PyTorch


def test_a_float64_mask_with_float32_queries_is_refused_as_in_torch():
    arrays = [a.astype(np.float32) for a in qkv((2,), 3, 4, 2, 3)]
    same_error(lambda lib: lib.nn.functional.scaled_dot_product_attention(
        *(lib.tensor(a) for a in arrays), attn_mask=lib.tensor(rand(3, 4), dtype=lib.float64)))


@pytest.mark.parametrize("n_q,n_k", [(0, 4), (3, 0)])
def test_empty_sequences_like_torch(n_q, n_k, backend):
    arrays = qkv((2,), n_q, n_k, 3, 2)
    out, grads, _, _ = run(nt, SDPA, arrays, np.float32)
    tout, tgrads, _, _ = run(torch, TSDPA, arrays, np.float32)
    assert out.shape == tout.shape
    np.testing.assert_array_equal(out, tout)  # zeros when there are no keys
    for g, tg in zip(grads, tgrads):
        np.testing.assert_array_equal(g, tg)


def test_retain_graph_twice_and_output_edits_are_detected():
    q, k, v = (nt.tensor(a, requires_grad=True) for a in qkv((2,), 3, 4, 2, 3))
    out = SDPA(q, k, v, is_causal=True, dropout_p=0.2)
    w = nt.tensor(rand(*out.shape, seed=3))
    (out * w).sum().backward(retain_graph=True)
    first = [t.grad._data.copy() for t in (q, k, v)]
    (out * w).sum().backward()
    for t, g in zip((q, k, v), first):
        np.testing.assert_allclose(t.grad._data, 2 * g, rtol=1e-14)
    out2 = SDPA(q, k, v)
    with nt.no_grad():
        out2.mul_(2.0)  # backward reads the output: the edit must be noticed
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out2.sum().backward()


# ----- bad input ---------------------------------------------------------------------------------
Q, K, V = (nt.tensor(a) for a in qkv((2,), 3, 5, 4, 6))


@pytest.mark.parametrize("args,kw,err,match", [
    ((Q, nt.randn(2, 5, 3, dtype=nt.float64), V), {}, RuntimeError,
     r"query \[2, 3, 4\] and key \[2, 5, 3\] must have the same embedding size"),
    ((Q, K, nt.randn(2, 4, 6, dtype=nt.float64)), {}, RuntimeError,
     r"key \[2, 5, 4\] and value \[2, 4, 6\] must have the same sequence length"),
    ((Q, nt.randn(3, 5, 4, dtype=nt.float64), nt.randn(3, 5, 6, dtype=nt.float64)), {},
     RuntimeError, r"batch dims of query \[2, 3, 4\], key \[3, 5, 4\] and value \[3, 5, 6\] are "
                   r"not broadcastable"),
    ((nt.randn(4), nt.randn(4), nt.randn(4)), {}, RuntimeError, "at least 2-D"),
    ((Q, K.float(), V), {}, RuntimeError, "Expected query, key, and value to have the same dtype"),
    ((Q.long(), K.long(), V.long()), {}, RuntimeError, "expected floating point query"),
    ((Q, K, V), dict(attn_mask=nt.ones(3, 4, dtype=nt.bool)), RuntimeError,
     r"attn_mask of shape \[3, 4\] does not broadcast to the attention weights' shape \[2, 3, 5\]"),
    ((Q, K, V), dict(attn_mask=nt.ones(3, 3, 5, dtype=nt.bool)), RuntimeError,
     r"attn_mask of shape \[3, 3, 5\] does not broadcast"),
    ((Q, K, V), dict(attn_mask=nt.ones(3, 5, dtype=nt.int64)), RuntimeError,
     "Expected attn_mask dtype to be bool or float"),
    ((Q, K, V), dict(attn_mask=nt.ones(3, 5, dtype=nt.bool), is_causal=True), RuntimeError,
     "Explicit attn_mask should not be set when is_causal=True"),
    ((Q, K, V), dict(dropout_p=1.5), RuntimeError, "dropout probability has to be between 0 and 1"),
    ((nt.randn(2, 6, 3, 4), nt.randn(2, 4, 5, 4), nt.randn(2, 4, 5, 4)), dict(enable_gqa=True),
     RuntimeError, r"must divide the query's; got query \[2, 6, 3, 4\], key \[2, 4, 5, 4\]"),
    ((nt.randn(2, 4, 3, 4), nt.randn(2, 2, 5, 4), nt.randn(2, 2, 5, 4)), {}, RuntimeError,
     "not broadcastable"),  # different head counts need enable_gqa
])
def test_bad_input(args, kw, err, match):
    with pytest.raises(err, match=match):
        SDPA(*args, **kw)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_non_contiguous_heads_like_a_gpt(dtype, backend):
    """q, k, v as (B, T, H, hs) -> (B, H, T, hs) transposed views, as a GPT block makes them."""
    x = rand(2, 5, 3, 4, seed=8).astype(dtype)
    seed = rand(2, 3, 5, 4, seed=9).astype(dtype)
    results = []
    for lib, fn in ((nt, SDPA), (torch, TSDPA)):
        leaves = [lib.tensor(x * (i + 1), requires_grad=True) for i in range(3)]
        out = fn(*(t.transpose(1, 2) for t in leaves), is_causal=True)
        out.backward(lib.tensor(seed))
        results.append([np.asarray(out.detach() if lib is torch else out._data)] +
                       [np.asarray(t.grad.detach() if lib is torch else t.grad._data)
                        for t in leaves])
    for a, b in zip(*results):
        assert a.dtype == dtype
        assert_close_ulps(a, b, RTOL[dtype])


# ----- causal_self_attention: a GPT block's attention from the packed (B, T, 3C) projection ----
def split_path(lib, qkv, n_head, dropout_p=0.0):
    """nanoGPT's lines: split q | k | v, heads forward, SDPA (causal), heads merged back."""
    b, t, c3 = qkv.shape
    c = c3 // 3
    q, k, v = (x.reshape(b, t, n_head, c // n_head).transpose(1, 2) for x in qkv.split(c, dim=2))
    fn = SDPA if lib is nt else TSDPA
    y = fn(q, k, v, dropout_p=dropout_p, is_causal=True)
    return y.transpose(1, 2).contiguous().view(b, t, c)


def run_packed(lib, fn, a, dtype, n_head, **kw):
    x = lib.tensor(a.astype(dtype), requires_grad=True)
    y = fn(lib, x, n_head, **kw)
    y.backward(lib.tensor(rand(*y.shape, seed=4).astype(dtype)))
    to_np = (lambda t: t.detach().numpy()) if lib is torch else (lambda t: t._data)
    return to_np(y), to_np(x.grad), y.dtype, x.grad.dtype


def packed(lib, x, n_head, **kw):
    return F.causal_self_attention(x, n_head, **kw)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,n_head", [((2, 5, 24), 2), ((3, 7, 36), 3), ((1, 1, 6), 1)])
def test_causal_self_attention_matches_torch_and_the_split_path(dtype, shape, n_head, backend):
    a = rand(*shape, seed=2)
    y, g, ydt, gdt = run_packed(nt, packed, a, dtype, n_head)
    assert ydt == gdt == dtype and y.shape == shape[:2] + (shape[2] // 3,) and g.shape == shape
    ty, tg, _, _ = run_packed(torch, split_path, a, dtype, n_head)
    assert_close_ulps(y, ty, RTOL[dtype])
    assert_close_ulps(g, tg, RTOL[dtype])
    sy, sg, _, _ = run_packed(nt, split_path, a, dtype, n_head)  # the same math, op by op
    if dtype == np.float64:
        np.testing.assert_allclose(y, sy, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(g, sg, rtol=1e-10, atol=1e-14)
    else:
        assert_close_ulps(y, sy, RTOL[dtype])
        assert_close_ulps(g, sg, RTOL[dtype])


def test_causal_self_attention_dropout_draws_like_the_split_path():
    a = rand(2, 6, 12, seed=3)
    nt.manual_seed(5)
    y, g, _, _ = run_packed(nt, packed, a, np.float64, 2, dropout_p=0.3)
    nt.manual_seed(5)
    sy, sg, _, _ = run_packed(nt, split_path, a, np.float64, 2, dropout_p=0.3)
    np.testing.assert_allclose(y, sy, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(g, sg, rtol=1e-10, atol=1e-14)
    nt.manual_seed(5)
    plain, _, _, _ = run_packed(nt, packed, a, np.float64, 2)
    assert not np.allclose(y, plain)  # dropout really happened


@pytest.mark.parametrize("dropout_p", [0.0, 0.4])
def test_causal_self_attention_gradcheck(dropout_p):
    x = nt.tensor(rand(2, 4, 12, seed=6), requires_grad=True)

    def fn(x):
        nt.manual_seed(0)  # the same dropout mask on every call
        return F.causal_self_attention(x, 2, dropout_p)

    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("dtype,big", [(np.float64, 40.0), (np.float32, 10.0)])
def test_causal_self_attention_rows_far_below_the_block_max(dtype, big, monkeypatch):
    """Rows whose scores all sit far below their block's max: the block shift underflows them
    (sum of exps < sqrt(tiny)), so they are recomputed with their own max."""
    a = rand(2, 5, 12, seed=7)  # C = 4, 2 heads of 2 channels: q = [0:4], k = [4:8], v = [8:12]
    a[:, :, 4:6] = [big, 0.0]  # head 0: every key is (big, 0), so query i's scores are all
    a[0, 3, :2] = [big, 0.0]  # ~ big q_i0 / sqrt(2): query 3 scores big^2 / sqrt(2), query 2
    a[0, 2, :2] = [-big, 0.0]  # minus that, the rest ~ +-big: far below query 3's
    softmax_module = sys.modules["numpy2gpt.kernels.softmax"]
    exact_rows, redone = softmax_module.exact_rows, []
    monkeypatch.setattr(softmax_module, "exact_rows",
                        lambda x, **kw: redone.append(x.shape) or exact_rows(x, **kw))
    y, g, _, _ = run_packed(nt, packed, a, dtype, 2)
    assert redone  # the exact path really ran
    ty, tg, _, _ = run_packed(torch, split_path, a, dtype, 2)
    assert np.isfinite(y).all() and np.isfinite(g).all()
    assert_close_ulps(y, ty, RTOL[dtype])
    assert_close_ulps(g, tg, RTOL[dtype])


def test_causal_self_attention_is_one_node_and_checks_its_input():
    x = nt.randn(2, 3, 12, requires_grad=True)
    y = F.causal_self_attention(x, 2)
    assert y.grad_fn.inputs[0] is x  # one node between qkv and y
    with pytest.raises(RuntimeError, match=r"qkv of shape \(B, T, 3 \* C\), got \[2, 3, 13\]"):
        F.causal_self_attention(nt.randn(2, 3, 13), 1)
    with pytest.raises(RuntimeError, match=r"expected qkv of shape .* got \[3, 12\]"):
        F.causal_self_attention(nt.randn(3, 12), 2)
    with pytest.raises(RuntimeError, match="n_head must be a positive integer that divides C = 4"):
        F.causal_self_attention(x, 3)
    with pytest.raises(RuntimeError, match="n_head must be a positive integer"):
        F.causal_self_attention(x, 0)
    with pytest.raises(RuntimeError, match="expected a floating point qkv, got numpy2gpt.int64"):
        F.causal_self_attention(nt.ones(2, 3, 12, dtype=nt.int64), 2)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.causal_self_attention(x, 2, dropout_p=1.5)


@pytest.mark.parametrize("causal", [False, True])
def test_float16_is_computed_in_float32_like_pytorch(causal):
    """PyTorch's CPU kernel computes float16 attention in float32 and rounds once: outputs and
    gradients within a float16 rounding or two of its (in float16 throughout, long rows of
    scores were a hundred times further off)."""
    rng = np.random.default_rng(3)
    q16, k16, v16, g16 = ((rng.standard_normal((2, 3, 40, 64)) * s).astype(np.float16)
                          for s in (2.0, 2.0, 1.0, 1.0))
    out = []
    for lib in (nt, torch):
        q, k, v = (lib.tensor(a, requires_grad=True) for a in (q16, k16, v16))
        y = lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)
        y.backward(lib.tensor(g16))
        out.append([y.detach().numpy()] + [t.grad.numpy() for t in (q, k, v)])
    for ours, theirs in zip(*out, strict=True):
        assert ours.dtype == theirs.dtype == np.float16
        scale = np.abs(theirs.astype(np.float64)).max()
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-3 * scale)
