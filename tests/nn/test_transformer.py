"""TransformerEncoderLayer, TransformerDecoderLayer, their stacks and nn.Transformer against
PyTorch's: PyTorch's state dict loaded into numpy2gpt's module, outputs and the gradients of the
inputs and of every parameter compared in eval mode in float64 and float32 (post- and pre-norm,
relu / gelu / callable / Module activations, masks of each kind, batch_first both ways,
unbatched); seeded initialisation, reprs, state dict keys, deep-copied layers, PyTorch's
warnings and errors; the inference fast paths' results (NaN for a fully masked query, 0 at the
encoder's padded positions); dropout in training."""

import warnings

import numpy as np
import pytest
import torch
from test_multihead_attention import bool_mask, compare_module, float_mask
from torch_compare import assert_close, rand

import numpy2gpt as ng

D, H, FF = 8, 2, 16  # d_model, nhead, dim_feedforward
S, T, N = 5, 4, 2  # source and target lengths, batch
SRC, TGT = rand(S, N, D, seed=1), rand(T, N, D, seed=2)
SRC_BF, TGT_BF = SRC.transpose(1, 0, 2).copy(), TGT.transpose(1, 0, 2).copy()
CAUSAL_S = np.triu(np.full((S, S), -np.inf), 1)
CAUSAL_T = np.triu(np.full((T, T), -np.inf), 1)


def quiet(make):
    """make(lib) without the enable_nested_tensor warning (tested on its own below)."""
    def build(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return make(lib)
    return build


def enc_layer(**kw):
    return lambda lib: lib.nn.TransformerEncoderLayer(D, H, FF, **kw)


def dec_layer(**kw):
    return lambda lib: lib.nn.TransformerDecoderLayer(D, H, FF, **kw)


def activation(name):
    """An activation given as a function or a Module of the library."""
    return {"silu": lambda lib: lib.nn.functional.silu,
            "tanh-GELU module": lambda lib: lib.nn.GELU(approximate="tanh")}[name]


def with_activation(layer, name, **kw):
    return lambda lib: layer(activation=activation(name)(lib), **kw)(lib)


ENCODER_LAYERS = {  # name -> (make, inputs, call)
    "default": (enc_layer(), [SRC], lambda m, x: m(x)),
    "batch_first, bool masks": (
        enc_layer(batch_first=True), [SRC_BF, bool_mask((S, S), 3), bool_mask((N, S), 4)],
        lambda m, x, am, kp: m(x, src_mask=am, src_key_padding_mask=kp)),
    "norm_first, gelu, float masks": (
        enc_layer(norm_first=True, activation="gelu"),
        [SRC, float_mask((S, S), 5), float_mask((N, S), 6)],
        lambda m, x, am, kp: m(x, src_mask=am, src_key_padding_mask=kp)),
    "callable activation, is_causal": (
        lambda lib: with_activation(lambda **kw: enc_layer(**kw), "silu")(lib),
        [SRC, CAUSAL_S], lambda m, x, am: m(x, src_mask=am, is_causal=True)),
    "Module activation, bias=False, eps": (
        lambda lib: with_activation(lambda **kw: enc_layer(**kw), "tanh-GELU module",
                                    bias=False, layer_norm_eps=1e-3)(lib),
        [SRC, bool_mask((N * H, S, S), 7)], lambda m, x, am: m(x, src_mask=am)),
    "unbatched": (enc_layer(batch_first=True, norm_first=True), [SRC[:, 0], bool_mask((S,), 8)],
                  lambda m, x, kp: m(x, src_key_padding_mask=kp)),
}

DECODER_LAYERS = {
    "default, causal": (dec_layer(), [TGT, SRC, CAUSAL_T],
                        lambda m, x, mem, am: m(x, mem, tgt_mask=am, tgt_is_causal=True)),
    "batch_first, all masks": (
        dec_layer(batch_first=True),
        [TGT_BF, SRC_BF, bool_mask((T, T), 9), bool_mask((T, S), 10), bool_mask((N, T), 11),
         bool_mask((N, S), 12)],
        lambda m, x, mem, tm, mm, tk, mk: m(x, mem, tgt_mask=tm, memory_mask=mm,
                                            tgt_key_padding_mask=tk,
                                            memory_key_padding_mask=mk)),
    "norm_first, gelu, float masks": (
        dec_layer(norm_first=True, activation="gelu"),
        [TGT, SRC, float_mask((N * H, T, T), 13), float_mask((N, S), 14)],
        lambda m, x, mem, tm, mk: m(x, mem, tgt_mask=tm, memory_key_padding_mask=mk)),
    "callable activation, bias=False": (
        lambda lib: with_activation(lambda **kw: dec_layer(**kw), "silu", bias=False)(lib),
        [TGT, SRC], lambda m, x, mem: m(x, mem)),
    "unbatched, Module activation": (
        lambda lib: with_activation(lambda **kw: dec_layer(**kw), "tanh-GELU module")(lib),
        [TGT[:, 0], SRC[:, 0], bool_mask((T,), 15)],
        lambda m, x, mem, tk: m(x, mem, tgt_key_padding_mask=tk)),
}

STACKS = {
    "encoder with norm, detected causal mask": (
        quiet(lambda lib: lib.nn.TransformerEncoder(enc_layer()(lib), 2, lib.nn.LayerNorm(D))),
        [SRC, CAUSAL_S, np.where(bool_mask((N, S), 16), -np.inf, 0.0)],
        lambda m, x, am, kp: m(x, mask=am, src_key_padding_mask=kp)),
    "encoder, norm_first, batch_first": (
        quiet(lambda lib: lib.nn.TransformerEncoder(
            enc_layer(norm_first=True, batch_first=True)(lib), 3, enable_nested_tensor=False)),
        [SRC_BF, float_mask((N, S), 17)], lambda m, x, kp: m(x, src_key_padding_mask=kp)),
    "decoder with norm, bool causal mask": (
        lambda lib: lib.nn.TransformerDecoder(dec_layer()(lib), 2, lib.nn.LayerNorm(D)),
        [TGT, SRC, np.triu(np.ones((T, T), bool), 1), bool_mask((N, S), 18)],
        lambda m, x, mem, tm, mk: m(x, mem, tgt_mask=tm, memory_key_padding_mask=mk)),
    "Transformer": (
        quiet(lambda lib: lib.nn.Transformer(D, H, 2, 2, FF)),
        [SRC, TGT, np.triu(np.ones((T, T), bool), 1), bool_mask((N, S), 19),
         bool_mask((N, T), 20)],
        lambda m, s, t, tm, sk, tk: m(s, t, tgt_mask=tm, src_key_padding_mask=sk,
                                      tgt_key_padding_mask=tk, memory_key_padding_mask=sk)),
    "Transformer, batch_first, norm_first, gelu, all masks": (
        quiet(lambda lib: lib.nn.Transformer(D, H, 1, 2, FF, activation="gelu",
                                             batch_first=True, norm_first=True)),
        [SRC_BF, TGT_BF, float_mask((S, S), 21), float_mask((T, T), 22),
         float_mask((T, S), 23)],
        lambda m, s, t, sm, tm, mm: m(s, t, src_mask=sm, tgt_mask=tm, memory_mask=mm)),
    "Transformer, unbatched, causal hints": (
        quiet(lambda lib: lib.nn.Transformer(D, H, 1, 1, FF, bias=False)),
        [SRC[:, 0], TGT[:, 0], CAUSAL_S, CAUSAL_T],
        lambda m, s, t, sm, tm: m(s, t, src_mask=sm, tgt_mask=tm, src_is_causal=True,
                                  tgt_is_causal=True)),
}

ALL = {f"encoder layer: {k}": v for k, v in ENCODER_LAYERS.items()}
ALL |= {f"decoder layer: {k}": v for k, v in DECODER_LAYERS.items()}
ALL |= STACKS


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(ALL))
def test_matches_pytorch_in_eval_mode(name, dtype):
    make, arrays, call = ALL[name]
    (out,) = compare_module(make, arrays, call, dtype, eval_mode=True)
    assert out.dtype == dtype and np.isfinite(out.detach().numpy()).all()


@pytest.mark.parametrize("name", ["Transformer", "encoder layer: norm_first, gelu, float masks",
                                  "decoder layer: batch_first, all masks"])
def test_seeded_init_repr_and_state_dict_keys(name):
    make = ALL[name][0]
    ours, theirs = [], []
    for lib, out in ((ng, ours), (torch, theirs)):
        lib.manual_seed(3)
        out.append(make(lib))
    ours, theirs = ours[0], theirs[0]
    assert repr(ours) == repr(theirs)
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for k in tsd:
        assert_close(sd[k], tsd[k], 0.0, 0.0, what=k)


def test_stacks_hold_independent_copies():
    layer = ng.nn.TransformerDecoderLayer(D, H, FF)
    dec = ng.nn.TransformerDecoder(layer, 3)
    assert len(dec.layers) == dec.num_layers == 3 and dec.norm is None
    assert len({id(m) for m in dec.layers} | {id(layer)}) == 4
    w = [m.linear1.weight for m in dec.layers]
    assert all(np.array_equal(a.detach().numpy(), layer.linear1.weight.detach().numpy())
               for a in w)
    with ng.no_grad():
        w[0].add_(1.0)
    assert not np.array_equal(w[0].detach().numpy(), w[1].detach().numpy())


@pytest.mark.parametrize("case", ["norm_first", "batch_first False", "odd heads",
                                  "custom activation", "bias=False", "eps", "not a layer",
                                  "no warning", "disabled"])
def test_nested_tensor_warnings_match_pytorchs(case):
    def make(lib):
        kw = {"batch_first": case != "batch_first False"}
        kw |= {"norm_first": {"norm_first": True}, "bias=False": {"bias": False},
               "custom activation": {"activation": lib.nn.functional.silu}}.get(case, {})
        layer = lib.nn.TransformerEncoderLayer(D, 1 if case == "odd heads" else H, FF, **kw)
        if case == "eps":
            layer.norm2.eps = 1e-3
        if case == "not a layer":
            layer = lib.nn.Linear(D, D)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            enc = lib.nn.TransformerEncoder(layer, 2, enable_nested_tensor=case != "disabled")
        return [str(x.message) for x in w], enc.use_nested_tensor, enc.enable_nested_tensor

    ours, theirs = make(ng), make(torch)
    assert ours == theirs
    assert bool(ours[0]) == (case not in ("no warning", "disabled"))


def test_generate_square_subsequent_mask():
    for kw in ({}, {"dtype": "float64"}, {"dtype": "bool"}):
        ours, theirs = (lib.nn.Transformer.generate_square_subsequent_mask(
            4, **{k: getattr(lib, v) for k, v in kw.items()}) for lib in (ng, torch))
        assert_close(ours, theirs, 0.0, 0.0)


def test_errors_match_pytorchs():
    def err(call):
        raised = []
        for lib in (ng, torch):
            with pytest.raises(RuntimeError) as e:
                call(lib)
            raised.append(str(e.value))
        assert raised[0] == raised[1]

    err(lambda lib: lib.nn.TransformerEncoderLayer(D, H, activation="tanh"))
    err(lambda lib: lib.nn.TransformerDecoderLayer(D, H, activation="silu"))
    for src, tgt in (((S, N, D), (T, N + 1, D)), ((S, N, D), (T, N, D + 2))):
        err(lambda lib: quiet(lambda lib: lib.nn.Transformer(D, H, 1, 1, FF))(lib)(
            lib.zeros(src), lib.zeros(tgt)))  # noqa: B023 (called at once)
    same = []
    for lib in (ng, torch):
        with pytest.raises(AssertionError) as e:
            lib.nn.TransformerEncoderLayer(D, 3)
        same.append(str(e.value))
    assert same[0] == same[1]


@pytest.mark.parametrize("case", ["nested, left aligned", "not left aligned", "src mask too",
                                  "no nested tensors", "norm_first layer", "grad", "training",
                                  "odd heads", "hook"])
def test_inference_paths(case):
    """Eval mode without autograd: PyTorch runs the encoder on nested tensors (padded positions
    come out as 0) when the padding is at the end of each sequence and there is no src mask, and
    batch_first layers with an even number of heads and no hooks on a fused kernel (a fully
    padded sequence gives NaN); otherwise the usual path (0 for it)."""
    kpm = np.zeros((N + 1, S), bool)
    kpm[0, 3:] = True
    kpm[2] = True  # a fully padded sequence
    if case == "not left aligned":
        kpm[1, 1] = True
    x = rand(N + 1, S, D, seed=24)
    outs = []
    for lib in (ng, torch):
        lib.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            enc = lib.nn.TransformerEncoder(
                lib.nn.TransformerEncoderLayer(D, 1 if case == "odd heads" else H, FF,
                                               dropout=0.0, batch_first=True,
                                               norm_first=case == "norm_first layer"),
                2, lib.nn.LayerNorm(D),
                enable_nested_tensor=case not in ("no nested tensors", "hook"))
            enc.double().train(case == "training")
            if case == "hook":  # a forward hook anywhere in a layer: no fused kernel
                for layer in enc.layers:
                    layer.linear1.register_forward_hook(lambda *args: None)
            kw = {"mask": lib.zeros(S, S, dtype=lib.bool)} if case == "src mask too" else {}
            xt = lib.tensor(x, requires_grad=case == "grad")
            with lib.set_grad_enabled(case == "grad"):
                outs.append(enc(xt, src_key_padding_mask=lib.tensor(kpm), **kw))
    assert_close(outs[0], outs[1], 1e-10)
    nan = np.isnan(outs[1].detach().numpy()[2]).all()
    assert nan == (case in ("not left aligned", "src mask too", "no nested tensors",
                            "norm_first layer"))


def test_dropout_in_training():
    """Train mode draws dropout masks (outputs vary, the shape and dtype stay); eval is exact."""
    ng.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ng.nn.Transformer(D, H, 1, 1, FF, dropout=0.5)
    src, tgt = ng.tensor(SRC.astype(np.float32)), ng.tensor(TGT.astype(np.float32))
    a, b = model(src, tgt), model(src, tgt)
    a, b = a.detach().numpy(), b.detach().numpy()
    assert a.shape == (T, N, D) and a.dtype == np.float32 and np.isfinite(a).all()
    assert not np.allclose(a, b)
    layer = model.encoder.layers[0]
    h = layer.dropout(ng.ones(1000, 100))
    assert 0.48 < (h.numpy() == 0).mean() < 0.52 and abs(h.numpy().mean() - 1.0) < 0.02
    model.eval()
    np.testing.assert_array_equal(model(src, tgt).detach().numpy(),
                                  model(src, tgt).detach().numpy())
