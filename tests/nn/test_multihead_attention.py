"""nn.MultiheadAttention and F.multi_head_attention_forward against PyTorch's: for each
configuration (batch_first, masks of each kind, kdim/vdim, add_bias_kv, add_zero_attn,
need_weights / average_attn_weights, unbatched, bias=False) PyTorch's state dict is loaded into
numpy2gpt's module and the outputs and the gradients of the inputs and of every parameter are
compared in float64 and float32; plus fully masked rows (NaN with need_weights, 0 without, NaN on
PyTorch's inference fast path), seeded initialisation, reprs, dropout statistics and PyTorch's
errors and warnings for bad input."""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import assert_close, rand

import numpy2gpt as ng

RTOL = {np.float64: (1e-10, 1e-9), np.float32: (1e-5, 2e-5)}  # values, gradients
L, S, N, E = 3, 4, 2, 8  # target and source lengths, batch, embed_dim


def copy_weights(ours, theirs):
    """Load PyTorch module `theirs`'s state dict into numpy2gpt module `ours`."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def run(lib, module, arrays, call, dtype, grad=True):
    """call(module, *leaves) on leaves made from `arrays` (floating ones require grad unless
    grad=False; bool arrays stay as they are); backward of a fixed random gradient of every
    output. Returns the outputs, the leaves' gradients and the parameters' gradients by name."""
    leaves = [None if a is None else
              lib.tensor(a if a.dtype == bool else a.astype(dtype),
                         requires_grad=grad and a.dtype != bool) for a in arrays]
    outs = call(module, *leaves)
    outs = outs if isinstance(outs, tuple) else (outs,)
    pairs = [(o, lib.tensor(rand(*o.shape, seed=10 + i).astype(dtype)))
             for i, o in enumerate(outs) if o is not None and o.requires_grad]
    if pairs:
        lib.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
    leaf_grads = [None if t is None or t.grad is None else t.grad for t in leaves]
    param_grads = {} if module is None else {k: p.grad for k, p in module.named_parameters()}
    return outs, leaf_grads, param_grads


def compare_module(make, arrays, call, dtype=np.float64, eval_mode=False, grad=True):
    """make(lib) on both libraries (PyTorch's weights copied into ours), then run `call` and
    compare outputs and all gradients. Returns numpy2gpt's outputs."""
    theirs = make(torch).to(getattr(torch, np.dtype(dtype).name))
    ours = make(ng).to(getattr(ng, np.dtype(dtype).name))
    copy_weights(ours, theirs)
    if eval_mode:
        ours.eval(), theirs.eval()
    (o, og, opg), (t, tg, tpg) = (run(lib, m, arrays, call, dtype, grad)
                                  for lib, m in ((ng, ours), (torch, theirs)))
    rtol, grad_rtol = RTOL[dtype]
    assert len(o) == len(t)
    for i, (a, b) in enumerate(zip(o, t)):
        assert (a is None) == (b is None), f"output {i}: None on one side only"
        if b is not None:
            assert a.requires_grad == b.requires_grad
            assert_close(a, b, rtol, what=f"output {i}")
    for i, (a, b) in enumerate(zip(og, tg)):
        assert (a is None) == (b is None), f"input {i}: gradient on one side only"
        if b is not None:
            assert_close(a, b, grad_rtol, what=f"gradient of input {i}")
    assert list(opg) == list(tpg)
    for name in tpg:
        assert (opg[name] is None) == (tpg[name] is None), name
        if tpg[name] is not None:
            assert_close(opg[name], tpg[name], grad_rtol, what=f"gradient of {name}")
    return o


def bool_mask(shape, seed, p=0.3):
    """A bool mask with about a fraction p True (masked), never a fully masked last axis."""
    m = np.random.default_rng(seed).random(shape) < p
    m[..., 0] = False
    return m


def float_mask(shape, seed):
    return np.where(bool_mask(shape, seed), -np.inf, rand(*shape, seed=seed + 1))


QKV = [rand(L, N, E, seed=1), rand(S, N, E, seed=2), rand(S, N, E, seed=3)]
QKV_BF = [a.transpose(1, 0, 2).copy() for a in QKV]
QKV_UNBATCHED = [a[:, 0] for a in QKV]

CONFIGS = {  # name -> (constructor kwargs, inputs, forward kwargs, masks (attn, key padding))
    "plain": ({}, QKV, {}, (None, None)),
    "batch_first": ({"batch_first": True}, QKV_BF, {}, (None, None)),
    "bool attn_mask 2-D": ({}, QKV, {}, (bool_mask((L, S), 4), None)),
    "float attn_mask 2-D": ({}, QKV, {}, (float_mask((L, S), 5), None)),
    "bool attn_mask 3-D": ({}, QKV, {}, (bool_mask((N * 2, L, S), 6), None)),
    "float attn_mask 3-D, batch_first": ({"batch_first": True}, QKV_BF, {},
                                         (float_mask((N * 2, L, S), 7), None)),
    "bool key_padding_mask": ({}, QKV, {}, (None, bool_mask((N, S), 8))),
    "float key_padding_mask": ({}, QKV, {}, (None, float_mask((N, S), 9))),
    "both masks, bool": ({}, QKV, {}, (bool_mask((L, S), 10), bool_mask((N, S), 11))),
    "both masks, float": ({}, QKV, {}, (float_mask((L, S), 12), float_mask((N, S), 13))),
    "kdim, vdim": ({"kdim": 5, "vdim": 3}, [QKV[0], rand(S, N, 5, seed=14),
                                           rand(S, N, 3, seed=15)], {}, (None, None)),
    "kdim, vdim, batch_first, masks": (
        {"kdim": 5, "vdim": 3, "batch_first": True},
        [QKV_BF[0], rand(N, S, 5, seed=14), rand(N, S, 3, seed=15)], {},
        (bool_mask((L, S), 16), bool_mask((N, S), 17))),
    "add_bias_kv": ({"add_bias_kv": True}, QKV, {}, (None, None)),
    "add_zero_attn": ({"add_zero_attn": True}, QKV, {}, (None, None)),
    "add_bias_kv, add_zero_attn, masks": (
        {"add_bias_kv": True, "add_zero_attn": True}, QKV, {},
        (float_mask((N * 2, L, S), 18), float_mask((N, S), 19))),
    "need_weights=False": ({}, QKV, {"need_weights": False}, (None, None)),
    "need_weights=False, masks": ({}, QKV, {"need_weights": False},
                                  (bool_mask((N * 2, L, S), 20), bool_mask((N, S), 21))),
    "need_weights=False, float masks, batch_first": (
        {"batch_first": True}, QKV_BF, {"need_weights": False},
        (float_mask((L, S), 22), float_mask((N, S), 23))),
    "per-head weights": ({}, QKV, {"average_attn_weights": False}, (bool_mask((L, S), 24), None)),
    "unbatched": ({}, QKV_UNBATCHED, {}, (None, None)),
    "unbatched, batch_first, masks": ({"batch_first": True}, QKV_UNBATCHED, {},
                                      (bool_mask((L, S), 25), bool_mask((S,), 26))),
    "unbatched, 3-D mask, per head": ({}, QKV_UNBATCHED, {"average_attn_weights": False},
                                      (float_mask((2, L, S), 27), None)),
    "unbatched, need_weights=False": ({"add_bias_kv": True}, QKV_UNBATCHED,
                                      {"need_weights": False}, (None, float_mask((S,), 28))),
    "bias=False": ({"bias": False}, QKV, {}, (None, bool_mask((N, S), 29))),
    "4 heads, kdim=vdim": ({"num_heads": 4, "kdim": 6, "vdim": 6},
                           [QKV[0], rand(S, N, 6, seed=30), rand(S, N, 6, seed=31)], {},
                           (bool_mask((N * 4, L, S), 32), None)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_config_matches_pytorch(name, dtype):
    kwargs, qkv, fkw, (attn_mask, kpm) = CONFIGS[name]
    kwargs = {"embed_dim": E, "num_heads": 2} | kwargs
    out, weights = compare_module(
        lambda lib: lib.nn.MultiheadAttention(**kwargs), qkv + [attn_mask, kpm],
        lambda m, q, k, v, am, kp: m(q, k, v, attn_mask=am, key_padding_mask=kp, **fkw), dtype)
    assert out.dtype == dtype and (weights is None) == (fkw.get("need_weights") is False)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("batch_first", [True, False])
def test_self_and_cross_attention_with_shared_inputs(batch_first, need_weights):
    """query is key is value (one packed projection) and key is value (two): the same results."""
    x, mem = (QKV_BF if batch_first else QKV)[:2]
    for call in (lambda m, x, mem: m(x, x, x, need_weights=need_weights),
                 lambda m, x, mem: m(x, mem, mem, need_weights=need_weights)):
        compare_module(lambda lib: lib.nn.MultiheadAttention(E, 2, batch_first=batch_first),
                       [x, mem], call)


@pytest.mark.parametrize("need_weights", [True, False])
def test_causal_hint(need_weights):
    """is_causal with the causal mask: the mask alone (need_weights), or SDPA's is_causal; with
    a padding mask too, the merged mask."""
    x = QKV[0]
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L).numpy()
    for kpm in (None, bool_mask((N, L), 33)):
        compare_module(lambda lib: lib.nn.MultiheadAttention(E, 2),
                       [x, causal, None if kpm is None else np.where(kpm, -np.inf, 0.0)],
                       lambda m, x, am, kp: m(x, x, x, attn_mask=am, key_padding_mask=kp,
                                              is_causal=True, need_weights=need_weights))


@pytest.mark.parametrize("need_weights", [True, False])
def test_float_masks_get_gradients(need_weights):
    """A float attn_mask or key_padding_mask that requires grad gets PyTorch's gradient."""
    masks = [rand(L, S, seed=34), rand(N, S, seed=35)]
    compare_module(lambda lib: lib.nn.MultiheadAttention(E, 2), QKV + masks,
                       lambda m, q, k, v, am, kp: m(q, k, v, attn_mask=am, key_padding_mask=kp,
                                                    need_weights=need_weights))


@pytest.mark.parametrize("need_weights", [True, False])
def test_fully_masked_rows(need_weights):
    """A query whose keys are all masked: NaN with need_weights (the softmax of -inf only, as
    PyTorch's), 0 without (PyTorch's scaled_dot_product_attention)."""
    kpm = np.zeros((N, S), bool)
    kpm[1] = True  # every key of the second sequence is padding
    attn_mask = np.zeros((L, S), bool)
    attn_mask[1] = True  # and query 1 may see no key at all
    out, weights = compare_module(
        lambda lib: lib.nn.MultiheadAttention(E, 2), QKV + [attn_mask, kpm],
        lambda m, q, k, v, am, kp: m(q, k, v, attn_mask=am, key_padding_mask=kp,
                                     need_weights=need_weights))
    rows = out.detach().numpy()
    assert np.isnan(rows[:, 1]).all() == need_weights and np.isnan(rows[1]).all() == need_weights
    if not need_weights:
        assert (rows[:, 1] == 0).all() and np.isfinite(rows[0, 0]).all()


@pytest.mark.parametrize("config", [
    {}, {"need_weights": False}, {"average_attn_weights": False},
    {"float masks": True, "need_weights": False},
    {"is_causal": True}, {"is_causal": True, "no masks": True},
    {"odd heads": True, "need_weights": False}, {"grad": True, "need_weights": False}])
def test_inference_fast_path(config):
    """Eval mode, no autograd, batch_first self-attention, bool masks: PyTorch's fused kernel,
    where a fully masked query gives NaN even without need_weights and the is_causal hint is not
    used (not even required); float masks, an odd number of heads or autograd take the usual
    path instead."""
    heads = 1 if config.get("odd heads") else 2
    x = QKV_BF[0]
    kpm = np.zeros((N, L), bool)
    kpm[1] = True
    am = bool_mask((L, L), 36)
    if config.get("float masks"):
        kpm, am = np.where(kpm, -np.inf, 0.0), np.where(am, -np.inf, 0.0)
    fkw = {k: v for k, v in config.items() if k in ("need_weights", "average_attn_weights",
                                                     "is_causal")}
    results = []
    for lib in (ng, torch):
        lib.manual_seed(0)
        m = lib.nn.MultiheadAttention(E, heads, batch_first=True).double().eval()
        xt = lib.tensor(x, requires_grad=bool(config.get("grad")))
        with lib.set_grad_enabled(bool(config.get("grad"))):
            masks = {} if config.get("no masks") else {"key_padding_mask": lib.tensor(kpm),
                                                        "attn_mask": lib.tensor(am)}
            out, w = m(xt, xt, xt, **masks, **fkw)
        results.append((out, w))
    (o, w), (to, tw) = results
    assert_close(o, to, 1e-10)
    assert (w is None) == (tw is None)
    if tw is not None:
        assert_close(w, tw, 1e-10)


def make_seeded(lib, kwargs):
    lib.manual_seed(7)
    return lib.nn.MultiheadAttention(
        E, 4, **{k: (getattr(lib, v) if k == "dtype" else v) for k, v in kwargs.items()})


def test_seeded_init_equals_pytorchs():
    for kwargs in ({}, {"kdim": 5, "vdim": 3}, {"add_bias_kv": True}, {"bias": False},
                   {"add_bias_kv": True, "kdim": 4, "bias": False, "dtype": "float64"}):
        ours, theirs = (make_seeded(lib, kwargs) for lib in (ng, torch))
        sd, tsd = ours.state_dict(), theirs.state_dict()
        assert list(sd) == list(tsd)
        for k in tsd:
            assert_close(sd[k], tsd[k], 0.0, 0.0, what=k)
        assert repr(ours) == repr(theirs)
        for attr in ("embed_dim", "kdim", "vdim", "num_heads", "head_dim", "dropout",
                     "batch_first", "add_zero_attn", "_qkv_same_embed_dim"):
            assert getattr(ours, attr) == getattr(theirs, attr), attr
        assert (ours.bias_k is None) == (theirs.bias_k is None)


def test_pytorch_state_dict_loads_strictly():
    theirs = torch.nn.MultiheadAttention(E, 2, kdim=5, vdim=3, add_bias_kv=True)
    ours = ng.nn.MultiheadAttention(E, 2, kdim=5, vdim=3, add_bias_kv=True)
    result = ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    assert ours.in_proj_weight is None and ours.q_proj_weight.shape == (E, E)


def test_dropout_in_training():
    """dropout on the attention weights: about a fraction p zeroed, the rest scaled by 1/(1-p);
    eval mode turns it off."""
    ng.manual_seed(0)
    m = ng.nn.MultiheadAttention(E, 2, dropout=0.5)
    q = ng.tensor(rand(40, 8, E, seed=37).astype(np.float32))
    out, w = m(q, q, q, average_attn_weights=False)
    assert out.shape == (40, 8, E) and w.shape == (8, 2, 40, 40) and w.dtype == np.float32
    w = w.detach().numpy()
    assert 0.45 < (w == 0).mean() < 0.55
    assert abs(w.sum(-1).mean() - 1.0) < 0.05  # kept weights are doubled: rows still sum to ~1
    m.eval()
    _, w = m(q, q, q)
    np.testing.assert_allclose(w.detach().numpy().sum(-1), 1.0, rtol=1e-5)


def test_functional_with_static_kv():
    """F.multi_head_attention_forward with static_k / static_v (already projected heads)."""
    w_in, b_in = rand(3 * E, E, seed=38), rand(3 * E, seed=39)
    w_out, b_out = rand(E, E, seed=40), rand(E, seed=41)
    sk, sv = rand(N * 2, S, E // 2, seed=42), rand(N * 2, S, E // 2, seed=43)

    def call(lib):
        def f(q, k, v, w_in, b_in, w_out, b_out, sk, sv):
            return lib.nn.functional.multi_head_attention_forward(
                q, k, v, E, 2, w_in, b_in, None, None, False, 0.0, w_out, b_out,
                training=False, static_k=sk, static_v=sv, average_attn_weights=False)
        return f

    arrays = QKV + [w_in, b_in, w_out, b_out, sk, sv]
    outs = [run(lib, None, arrays, lambda _, *a, lib=lib: call(lib)(*a), np.float64)
            for lib in (ng, torch)]
    for a, b in zip(outs[0][0] + tuple(outs[0][1]), outs[1][0] + tuple(outs[1][1])):
        assert (a is None) == (b is None)
        if b is not None:
            assert_close(a, b, 1e-9)


def same_error(call, error):
    """call(lib) raises `error` on both libraries with the same message (torch.Size printed as
    numpy2gpt.Size)."""
    messages = []
    for lib in (ng, torch):
        with pytest.raises(error) as e:
            call(lib)
        messages.append(str(e.value))
    assert messages[0] == messages[1].replace("torch.Size", "numpy2gpt.Size")


def t(lib, shape, dtype=None, seed=0):
    a = rand(*shape, seed=seed)
    return lib.tensor(a.astype(dtype) if dtype else a.astype(np.float32))


@pytest.mark.parametrize("case", [
    "divisible", "zero heads", "4-D query", "key rank", "2-D padding mask", "mask rank",
    "unbatched 3-D mask", "2-D mask shape", "3-D mask shape", "padding mask shape",
    "int mask", "causal without mask", "key/value shapes", "embed_dim"])
def test_errors_match_pytorchs(case):
    q = lambda lib: t(lib, (L, N, E))  # noqa: E731
    kv = lambda lib: t(lib, (S, N, E))  # noqa: E731
    mha = lambda lib, **kw: lib.nn.MultiheadAttention(E, 2, **kw)  # noqa: E731
    calls = {
        "divisible": (AssertionError, lambda lib: lib.nn.MultiheadAttention(E, 3)),
        "zero heads": (ValueError, lambda lib: lib.nn.MultiheadAttention(E, 0)),
        "4-D query": (AssertionError, lambda lib: mha(lib)(*[t(lib, (1, L, N, E))] * 3)),
        "key rank": (AssertionError, lambda lib: mha(lib)(q(lib), t(lib, (S, E)), kv(lib))),
        "2-D padding mask": (AssertionError, lambda lib: mha(lib)(
            t(lib, (L, E)), t(lib, (S, E)), t(lib, (S, E)),
            key_padding_mask=lib.zeros(N, S, dtype=lib.bool))),
        "mask rank": (AssertionError, lambda lib: mha(lib)(
            q(lib), kv(lib), kv(lib), attn_mask=lib.zeros(1, 2, L, S))),
        "unbatched 3-D mask": (AssertionError, lambda lib: mha(lib)(
            t(lib, (L, E)), t(lib, (S, E)), t(lib, (S, E)), attn_mask=lib.zeros(3, L, S))),
        "2-D mask shape": (RuntimeError, lambda lib: mha(lib)(
            q(lib), kv(lib), kv(lib), attn_mask=lib.zeros(L, L))),
        "3-D mask shape": (RuntimeError, lambda lib: mha(lib)(
            q(lib), kv(lib), kv(lib), attn_mask=lib.zeros(N, L, S))),
        "padding mask shape": (AssertionError, lambda lib: mha(lib)(
            q(lib), kv(lib), kv(lib), key_padding_mask=lib.zeros(N, L, dtype=lib.bool))),
        "int mask": (AssertionError, lambda lib: mha(lib)(
            q(lib), kv(lib), kv(lib), attn_mask=lib.zeros(L, S, dtype=lib.int64))),
        "causal without mask": (RuntimeError, lambda lib: mha(lib)(
            q(lib), q(lib), q(lib), is_causal=True)),
        "key/value shapes": (AssertionError, lambda lib: mha(lib)(
            q(lib), kv(lib), t(lib, (L, N, E)))),
        "embed_dim": (AssertionError, lambda lib: mha(lib)(*[t(lib, (L, N, 4))] * 3)),
    }
    error, call = calls[case]
    same_error(call, error)


def test_mismatched_mask_types_warn_as_pytorch():
    messages = []
    for lib in (ng, torch):
        m = lib.nn.MultiheadAttention(E, 2)
        x = t(lib, (L, N, E))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m(x, x, x, key_padding_mask=lib.zeros(N, L, dtype=lib.bool),
              attn_mask=lib.zeros(L, L))
        messages.append([str(x.message) for x in w if "mismatched" in str(x.message)])
    assert messages[0] == messages[1] and len(messages[0]) == 1
