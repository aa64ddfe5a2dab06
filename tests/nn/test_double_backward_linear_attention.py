"""Second derivatives through the fused embedding, attention and parameters_to_vector ops (their
`composed` methods, see autograd.engine), against PyTorch in float64: a gradient penalty
differentiated w.r.t. every input that requires grad (weights and float masks too), for each
mode (padding_idx; is_causal, bool and float masks, scale, broadcast batch dims, grouped heads,
dropout with the mask the forward drew). Then a whole GPT's Hessian-vector product against
nanoGPT's, and float32 staying float32.

PyTorch's CPU flash-attention kernel has no double backward, so its oracle runs under the MATH
backend (the same formula in differentiable ops). With dropout, PyTorch cannot draw numpy2gpt's
mask: the oracle there is the textbook formula in PyTorch ops with the mask numpy2gpt drew.
"""

import math

import numpy as np
import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch_compare import assert_close, check_double_backward, rand

import numpy2gpt as ng
import numpy2gpt.kernels as kernels
import numpy2gpt.nn.functional as F
from numpy2gpt.gpt.model import GPT, GPTConfig
from numpy2gpt.nn.utils import parameters_to_vector
from tests.gpt.reference_nanogpt import RefGPT

TF = torch.nn.functional
RTOL = 1e-9  # float64 second derivatives (a few hundred flops deep)


def penalty_grads(lib, f, arrays, needs, seed=20):
    """Leaves from `arrays` (float64; `needs[i]`: requires grad), L = <r, f(*leaves)>, the
    gradients g_i of L (create_graph=True) and d/d(leaves) of sum_i <w_i, g_i>, as arrays."""
    leaves = [lib.tensor(a, requires_grad=n) if a.dtype.kind == "f" else lib.tensor(a)
              for a, n in zip(arrays, needs)]
    wanted = [t for t, n in zip(leaves, needs) if n]
    y = f(*leaves)
    r = lib.tensor(rand(*y.shape, seed=seed))
    first = lib.autograd.grad((y * r).sum(), wanted, create_graph=True)
    pen = sum((g * lib.tensor(rand(*g.shape, seed=seed + 1 + i))).sum()
              for i, g in enumerate(first))
    second = lib.autograd.grad(pen, wanted, allow_unused=True)
    as_np = [t.detach().numpy() for t in (y, *first)]
    return as_np + [np.zeros(t.shape) if g is None else g.detach().numpy()
                    for t, g in zip(wanted, second)]


def assert_matches_torch(f, tf, arrays, needs, rtol=RTOL):
    ours = penalty_grads(ng, f, arrays, needs)
    theirs = penalty_grads(torch, tf, arrays, needs)
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.dtype == b.dtype == np.float64
        atol = rtol * max(np.abs(b).max(initial=0.0), 1.0)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"result {i}")
    n = sum(needs)
    assert any(np.abs(a).max() > 0 for a in ours[-n:])  # a second derivative to compare


def assert_composed_equals_forward(y, rtol):
    """The node's `composed`, re-run on its inputs, gives the fused forward's values."""
    fn = y.grad_fn
    with ng.no_grad():
        again = fn.composed(*fn.inputs)
    assert again.dtype == y.dtype and again.shape == y.shape
    np.testing.assert_allclose(again.numpy(), y.detach().numpy(), rtol=rtol, atol=rtol)


# ----- embedding ---------------------------------------------------------------------------------
IDX = np.array([[0, 3, 3, 1], [4, 1, 0, 3]])  # repeated rows: their gradients add up


@pytest.mark.parametrize("padding_idx", [None, 3, -2])
def test_embedding_second_derivatives(padding_idx):
    w = rand(5, 3, seed=1)
    assert_matches_torch(lambda i, w: F.embedding(i, w, padding_idx=padding_idx) ** 3,
                         lambda i, w: TF.embedding(i, w, padding_idx=padding_idx) ** 3,
                         [IDX, w], [False, True])
    check_double_backward(lambda w: F.embedding(ng.tensor(IDX), w, padding_idx=padding_idx),
                          lambda w: TF.embedding(torch.tensor(IDX), w, padding_idx=padding_idx),
                          w)


# ----- scaled_dot_product_attention --------------------------------------------------------------
def _bool_mask(shape, seed=5):
    m = np.random.default_rng(seed).random(shape) > 0.4
    m[..., 0] = True
    return m


def _float_mask(shape, seed=6):
    m = rand(*shape, seed=seed)
    m[..., 1, :] = -np.inf  # a query that may see no key: P = 0 there
    m[..., 2, 3] = -np.inf
    return m


def _qkv(batch, n_q, n_k, e, ev, seed=0):
    return [rand(*batch, n_q, e, seed=seed), rand(*batch, n_k, e, seed=seed + 1),
            rand(*batch, n_k, ev, seed=seed + 2)]


# (q, k, v arrays, mask array or None, whether the float mask requires grad, kwargs)
SDPA_CASES = {
    "plain": (_qkv((2,), 4, 6, 5, 3), None, False, {}),
    "causal": (_qkv((2, 3), 4, 6, 5, 3), None, False, dict(is_causal=True)),
    "bool_mask_scale": (_qkv((2, 3), 4, 6, 5, 3), _bool_mask((2, 1, 4, 6)), False,
                        dict(scale=0.7)),
    "float_mask_grad": (_qkv((2, 3), 4, 6, 5, 3), _float_mask((3, 4, 6)), True, {}),
    "float_mask_const": (_qkv((2,), 4, 6, 5, 3), _float_mask((4, 6)), False, dict(scale=0.3)),
    "broadcast": ([rand(2, 3, 4, 5), rand(1, 3, 6, 5, seed=1), rand(2, 1, 6, 3, seed=2)], None,
                  False, {}),
    "gqa_causal": ([rand(2, 4, 5, 3), rand(2, 2, 5, 3, seed=1), rand(2, 2, 5, 4, seed=2)], None,
                   False, dict(enable_gqa=True, is_causal=True)),
}


def _sdpa(lib, kw):
    def f(q, k, v, m=None):
        if lib is ng:
            return F.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw)
        with sdpa_kernel(SDPBackend.MATH):  # the CPU flash kernel has no double backward
            return TF.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw)
    return f


@pytest.mark.parametrize("case", list(SDPA_CASES))
def test_sdpa_second_derivatives(case):
    arrays, mask, mask_grad, kw = SDPA_CASES[case]
    arrays = arrays + ([] if mask is None else [mask])
    needs = [True, True, True] + ([] if mask is None else [mask_grad])
    assert_matches_torch(_sdpa(ng, kw), _sdpa(torch, kw), arrays, needs)


def test_sdpa_check_double_backward_wrt_query():
    q, k, v = _qkv((2,), 4, 6, 5, 3)
    mask = _float_mask((4, 6))
    check_double_backward(
        lambda q: F.scaled_dot_product_attention(q, ng.tensor(k), ng.tensor(v),
                                                 attn_mask=ng.tensor(mask)),
        lambda q: _sdpa(torch, {})(q, torch.tensor(k), torch.tensor(v), torch.tensor(mask)), q)


def _attention_with_mask(lib, q, k, v, bias, drop, scale):
    """The textbook formula, softmax(Q K^T * scale + bias) * drop @ V, in `lib`'s ops."""
    s = q @ k.transpose(-2, -1) * scale
    if bias is not None:
        s = s + lib.tensor(bias)
    return (s.softmax(-1) * lib.tensor(drop)) @ v


def test_sdpa_dropout_uses_the_saved_mask():
    q, k, v = _qkv((2, 3), 4, 6, 5, 3)
    bias = np.triu(np.full((4, 6), -np.inf), 1)
    drawn = {}

    def ours(q, k, v):
        ng.manual_seed(3)
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4, is_causal=True)
        drawn["mask"] = y.grad_fn.saved[1]
        return y

    ours(*(ng.tensor(a, requires_grad=True) for a in (q, k, v)))
    assert (drawn["mask"] == 0).any()  # some weights were dropped

    def theirs(q, k, v):
        return _attention_with_mask(torch, q, k, v, bias, drawn["mask"], 1 / math.sqrt(5))

    assert_matches_torch(ours, theirs, [q, k, v], [True] * 3)


# ----- a GPT block's fused causal self-attention -------------------------------------------------
def _torch_causal_self_attention(n_head, drop=None):
    def f(qkv):
        b, t, c3 = qkv.shape
        c = c3 // 3
        q, k, v = (a.view(b, t, n_head, c // n_head).transpose(1, 2) for a in qkv.split(c, 2))
        if drop is None:
            with sdpa_kernel(SDPBackend.MATH):
                y = TF.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            y = _attention_with_mask(torch, q, k, v, np.triu(np.full((t, t), -np.inf), 1),
                                     drop, 1 / math.sqrt(c // n_head))
        return y.transpose(1, 2).reshape(b, t, c)
    return f


@pytest.mark.parametrize("n_head", [1, 2])
def test_causal_self_attention_second_derivatives(n_head):
    qkv = rand(2, 5, 12, seed=7)
    assert_matches_torch(lambda x: F.causal_self_attention(x, n_head),
                         _torch_causal_self_attention(n_head), [qkv], [True])
    check_double_backward(lambda x: F.causal_self_attention(x, n_head),
                          _torch_causal_self_attention(n_head), qkv)


def test_causal_self_attention_dropout_uses_the_saved_mask():
    qkv = rand(2, 5, 12, seed=7)
    drawn = {}

    def ours(x):
        ng.manual_seed(1)
        y = F.causal_self_attention(x, 2, dropout_p=0.3)
        drawn["mask"] = y.grad_fn.saved[1]
        return y

    ours(ng.tensor(qkv, requires_grad=True))
    assert (drawn["mask"] == 0).any()
    assert_matches_torch(ours, lambda x: _torch_causal_self_attention(2, drawn["mask"])(x),
                         [qkv], [True])


# ----- composed gives the fused forward's values, in float32 and float64 ------------------------
def _fused_calls(dtype):
    """(name, build) pairs: build() returns the output of one fused call on `dtype` leaves."""
    def t(a):
        return ng.tensor(a.astype(dtype), requires_grad=True)

    calls = [("embedding", lambda: F.embedding(ng.tensor(IDX), t(rand(5, 3)), padding_idx=3)),
             ("causal_self_attention", lambda: F.causal_self_attention(t(rand(2, 5, 12)), 2)),
             ("causal_self_attention_dropout",
              lambda: F.causal_self_attention(t(rand(2, 5, 12)), 2, dropout_p=0.3)),
             ("parameters_to_vector",
              lambda: parameters_to_vector([t(rand(2, 3)), t(rand(4, seed=1))])),
             ("sdpa_dropout", lambda: F.scaled_dot_product_attention(
                 *(t(a) for a in _qkv((2,), 4, 6, 5, 3)), dropout_p=0.5)),
             ("sdpa_large_scores", lambda: F.scaled_dot_product_attention(  # exp would overflow
                 *(t(a) for a in _qkv((2,), 4, 6, 5, 3)), scale=200.0))]  # without the row max
    for name, (arrays, mask, mask_grad, kw) in SDPA_CASES.items():
        def build(arrays=arrays, mask=mask, mask_grad=mask_grad, kw=kw):
            m = None
            if mask is not None:
                m = ng.tensor(mask) if mask.dtype == bool else t(mask).requires_grad_(mask_grad)
            return F.scaled_dot_product_attention(*(t(a) for a in arrays), attn_mask=m, **kw)
        calls.append((f"sdpa_{name}", build))
    return calls


@pytest.mark.parametrize("backend", kernels.BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_composed_gives_the_forward_values(dtype, backend):
    with kernels.backend(backend):
        for name, build in _fused_calls(dtype):
            ng.manual_seed(0)
            y = build()
            assert y.grad_fn.composed is not None, name
            assert_composed_equals_forward(y, 1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("name", [n for n, _ in _fused_calls(np.float32)])
def test_float32_stays_float32_through_second_derivatives(name):
    build = dict(_fused_calls(np.float32))[name]
    ng.manual_seed(0)
    y = build()
    leaves = [x for x in y.grad_fn.inputs if x.requires_grad]
    first = ng.autograd.grad((y * y).sum(), leaves, create_graph=True)
    second = ng.autograd.grad(sum((g * g).sum() for g in first), leaves, allow_unused=True)
    for g in (*first, *second):
        assert g is None or g.dtype == ng.float32, name


# ----- parameters_to_vector ----------------------------------------------------------------------
def test_parameters_to_vector_second_derivatives():
    arrays = [rand(2, 3, seed=1), rand(4, seed=2), rand(seed=3)]

    def cube(lib, to_vector):
        return lambda *ps: to_vector(list(ps)) ** 3

    assert_matches_torch(cube(ng, parameters_to_vector),
                         cube(torch, torch.nn.utils.parameters_to_vector), arrays, [True] * 3)


# ----- a whole GPT: Hessian-vector product -------------------------------------------------------
def test_gpt_hessian_vector_product_matches_nanogpt():
    """H v = d/dθ <dL/dθ, v> (create_graph=True through every fused op of the model) against
    nanoGPT's in PyTorch, float64, same weights and batch."""
    cfg = dict(block_size=6, vocab_size=11, n_layer=1, n_head=2, n_embd=8, dropout=0.0)
    ng.manual_seed(0)
    ours = GPT(GPTConfig(**cfg)).double()
    ref = RefGPT(GPTConfig(**cfg)).double()
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                         for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.integers(0, 11, (2, 6))
    y = (3 * x + 1) % 11
    y[0, :2] = -1  # ignored targets

    def hvp(lib, model):
        params = list(model.parameters())
        vs = [lib.tensor(rand(*p.shape, seed=100 + i)) for i, p in enumerate(params)]
        _, loss = model(lib.tensor(x), lib.tensor(y))
        grads = lib.autograd.grad(loss, params, create_graph=True)
        gv = sum((g * v).sum() for g, v in zip(grads, vs))
        return grads, lib.autograd.grad(gv, params)

    grads, hv = hvp(ng, ours)
    with sdpa_kernel(SDPBackend.MATH):
        tgrads, thv = hvp(torch, ref)
    names = [n for n, _ in ours.named_parameters()]
    assert names == [n for n, _ in ref.named_parameters()]
    wrong = []  # every parameter that disagrees, to point at the op behind it
    for name, g, tg, h, th in zip(names, grads, tgrads, hv, thv):
        for what, a, b, rtol in ((f"grad {name}", g, tg, 1e-9), (f"Hv {name}", h, th, 1e-8)):
            try:
                assert_close(a, b, rtol, what=what)
            except AssertionError as e:
                worst = [line for line in str(e).splitlines() if "Max relative" in line]
                wrong.append(f"{what}: {(worst or [str(e)])[0].strip()}")
    assert not wrong, "\n".join(wrong)
    assert max(float(np.abs(h.numpy()).max()) for h in hv) > 0
