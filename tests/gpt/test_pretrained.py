"""Hugging Face GPT-2 interop (numpy2gpt/gpt/pretrained.py) against transformers itself.

Small random GPT2LMHeadModels are built and saved with transformers, loaded with numpy2gpt (no
PyTorch involved on our side) and compared: logits, greedy generation, the way back through
save_pretrained, tokenizer files, and the errors for bad checkpoints.
"""

import json
import os
import shutil

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: a hub call hangs here

import numpy as np
import pytest
import safetensors.numpy
import torch

import numpy2gpt as ng
from numpy2gpt.gpt import pretrained
from numpy2gpt.gpt.model import GPT, GPTConfig
from numpy2gpt.gpt.pretrained import from_pretrained, load_pretrained, save_pretrained
from numpy2gpt.gpt.tokenizers import BPETokenizer, CharTokenizer, GPT2Tokenizer

transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

SMALL = dict(n_layer=2, n_head=2, n_embd=32, vocab_size=100, n_positions=64)


def _hf_model(seed=0, **overrides):
    """A random GPT2LMHeadModel; every weight perturbed so that no mapping error can hide behind
    LayerNorm's ones and zeros or the small initial scale."""
    torch.manual_seed(seed)
    cfg = transformers.GPT2Config(**{**SMALL, **overrides}, bos_token_id=None, eos_token_id=None)
    model = transformers.GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    return model


def _hf_logits(model, idx):
    with torch.no_grad():
        return model(torch.from_numpy(idx)).logits.numpy()


def _our_logits(model, idx):
    """All positions' logits: forward with targets returns them (without, only the last)."""
    logits, _ = model(idx, targets=idx)
    return logits.detach().numpy()


@pytest.fixture(scope="module")
def hf(tmp_path_factory):
    """(transformers model, its save_pretrained folder, token ids (2, 64))."""
    model = _hf_model()
    folder = tmp_path_factory.mktemp("hf_gpt2")
    model.save_pretrained(folder)  # safetensors by default
    assert (folder / "model.safetensors").is_file()
    idx = np.random.default_rng(0).integers(0, SMALL["vocab_size"], (2, SMALL["n_positions"]))
    return model, folder, idx


@pytest.fixture(scope="module")
def ours(hf):
    return from_pretrained(hf[1])


def _copy(folder, tmp_path, name="copy"):
    dst = tmp_path / name
    shutil.copytree(folder, dst)
    return dst


def _rewrite_weights(folder, edit):
    """Apply `edit(dict name -> array)` to folder/model.safetensors."""
    path = folder / "model.safetensors"
    tensors = dict(safetensors.numpy.load_file(path))
    edit(tensors)
    safetensors.numpy.save_file(tensors, path, {"format": "pt"})


def _rewrite_config(folder, **changes):
    path = folder / "config.json"
    cfg = json.loads(path.read_text())
    cfg.update(changes)
    path.write_text(json.dumps(cfg))


# ----- loading ------------------------------------------------------------------------------
def test_config_is_read(ours):
    c = ours.config
    assert (c.block_size, c.vocab_size, c.n_layer, c.n_head, c.n_embd) == (64, 100, 2, 2, 32)
    assert (c.gelu, c.bias, c.dropout) == ("tanh", True, 0.0)
    assert ours.lm_head.weight is ours.transformer.wte.weight  # still tied after loading
    assert all(p.dtype == np.float32 for p in ours.parameters())


def test_loading_leaves_the_global_rng_alone(hf):
    ng.manual_seed(5)
    expected = ng.rand(4).numpy()
    ng.manual_seed(5)
    from_pretrained(hf[1])
    np.testing.assert_array_equal(ng.rand(4).numpy(), expected)


def test_logits_match_transformers_float32(hf, ours):
    model, _, idx = hf
    expected = _hf_logits(model, idx)
    got = _our_logits(ours, idx)
    assert got.shape == expected.shape == (2, 64, 100) and got.dtype == np.float32
    assert np.abs(got - expected).max() < 1e-4
    # without targets: the last position only
    last, loss = ours(idx)
    assert loss is None
    assert np.abs(last.detach().numpy()[:, 0] - expected[:, -1]).max() < 1e-4


def test_logits_match_transformers_float64(hf):
    model, folder, idx = hf
    ours64 = from_pretrained(folder, dtype=ng.float64)
    assert all(p.dtype == np.float64 for p in ours64.parameters())
    expected = _hf_logits(_hf_model().double(), idx)  # same seed: same weights, in float64
    np.testing.assert_allclose(_our_logits(ours64, idx), expected, rtol=1e-9, atol=1e-9)


def test_greedy_generation_equals_transformers(hf, ours):
    model, _, idx = hf
    prompt = idx[:1, :7]
    with torch.no_grad():
        theirs = model.generate(torch.from_numpy(prompt), max_new_tokens=20, do_sample=False,
                                pad_token_id=0).numpy()
    assert theirs.shape == (1, 27)
    ng.manual_seed(0)
    cached = ours.generate(prompt, 20, temperature=0.0).numpy()
    uncached = ours.generate(prompt, 20, temperature=0.0, use_cache=False).numpy()
    np.testing.assert_array_equal(cached, theirs)
    np.testing.assert_array_equal(uncached, theirs)


def test_unprefixed_keys_mask_buffers_and_lm_head(hf, tmp_path):
    """The original OpenAI upload: no 'transformer.' prefix, mask buffers, sometimes lm_head."""
    model, folder, idx = hf
    folder = _copy(folder, tmp_path)

    def hub_layout(t):
        for k in list(t):
            t[k.removeprefix("transformer.")] = t.pop(k)
        for i in range(SMALL["n_layer"]):
            t[f"h.{i}.attn.bias"] = np.tril(np.ones((1, 1, 64, 64), np.float32))
            t[f"h.{i}.attn.masked_bias"] = np.array(-1e4, np.float32)
        t["lm_head.weight"] = t["wte.weight"].copy()
    _rewrite_weights(folder, hub_layout)
    assert np.abs(_our_logits(from_pretrained(folder), idx) - _hf_logits(model, idx)).max() < 1e-4


def test_bfloat16_and_float16_checkpoints(tmp_path):
    for torch_dtype in (torch.bfloat16, torch.float16):
        model = _hf_model().to(torch_dtype)
        folder = tmp_path / str(torch_dtype)
        model.save_pretrained(folder)
        ours = from_pretrained(folder)
        for name, p in model.named_parameters():
            if name == "lm_head.weight":
                continue
            want = p.detach().float().numpy()
            if name.endswith(pretrained.CONV1D_WEIGHTS):
                want = want.T
            got = ours.get_parameter(name).detach().numpy()
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got, want, err_msg=name)  # the conversion is exact


def test_sharded_checkpoint(hf, tmp_path):
    model, _, idx = hf
    model.save_pretrained(tmp_path, max_shard_size="40KB")
    assert (tmp_path / "model.safetensors.index.json").is_file()
    assert len(list(tmp_path.glob("model-*.safetensors"))) > 1
    assert np.abs(_our_logits(from_pretrained(tmp_path), idx) - _hf_logits(model, idx)).max() < 1e-4


# ----- saving -------------------------------------------------------------------------------
def test_save_pretrained_loads_back_into_transformers(hf, ours, tmp_path):
    model, _, idx = hf
    save_pretrained(ours, tmp_path)
    back, info = transformers.GPT2LMHeadModel.from_pretrained(tmp_path, output_loading_info=True)
    assert not any(info[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys"))
    np.testing.assert_array_equal(_hf_logits(back.eval(), idx), _hf_logits(model, idx))
    # and back into numpy2gpt: every parameter bit for bit
    again = from_pretrained(tmp_path)
    for (name, p), (_, q) in zip(ours.named_parameters(), again.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=name)


@pytest.mark.parametrize("gelu,bias", [("none", False), ("tanh", True)])
def test_our_own_gpt_runs_the_same_in_transformers(tmp_path, gelu, bias):
    """A freshly initialised numpy2gpt GPT (exact GELU, no biases) -> transformers."""
    ng.manual_seed(1)
    cfg = GPTConfig(block_size=16, vocab_size=50, n_layer=2, n_head=4, n_embd=16, gelu=gelu,
                    bias=bias)
    model = GPT(cfg)
    with ng.no_grad():  # LayerNorms away from ones/zeros, so a mix-up would show
        for p in model.parameters():
            p.add_(ng.randn(*p.shape) * 0.2)
    save_pretrained(model, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["activation_function"] == ("gelu" if gelu == "none" else "gelu_new")
    theirs = transformers.GPT2LMHeadModel.from_pretrained(tmp_path).eval()
    idx = np.random.default_rng(1).integers(0, 50, (3, 16))
    assert np.abs(_our_logits(model, idx) - _hf_logits(theirs, idx)).max() < 1e-4


def test_tokenizer_round_trip_through_the_folder(tmp_path):
    text = "To be, or not to be, that is the question: whether 'tis nobler in the mind " * 20
    bpe = BPETokenizer.train(text, vocab_size=280)
    ng.manual_seed(0)
    model = GPT(GPTConfig(block_size=16, vocab_size=290, n_layer=1, n_head=2, n_embd=16))
    save_pretrained(model, tmp_path, tokenizer=bpe)
    assert (tmp_path / "vocab.json").is_file() and (tmp_path / "merges.txt").is_file()
    loaded, tok = load_pretrained(tmp_path)
    assert isinstance(tok, GPT2Tokenizer)
    sample = "Whether 'tis nobler, ünïcödé 🤖 text<|endoftext|>and more"
    ids = bpe.encode(sample)
    assert tok.encode(sample) == ids and tok.decode(ids) == sample
    hf_tok = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert hf_tok.encode(sample) == ids and hf_tok.decode(ids) == sample
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["eos_token_id"] == bpe.eot_token == tok.eot_token
    idx = np.array([ids[:16]])
    np.testing.assert_array_equal(_our_logits(loaded, idx), _our_logits(model, idx))


def test_char_tokenizer_round_trip_and_no_tokenizer(tmp_path):
    char = CharTokenizer.from_text("hello world")
    model = GPT(GPTConfig(block_size=8, vocab_size=char.vocab_size, n_layer=1, n_head=1,
                          n_embd=8))
    save_pretrained(model, tmp_path / "char", tokenizer=char)
    _, tok = load_pretrained(tmp_path / "char")
    assert isinstance(tok, CharTokenizer) and tok.encode("hello") == char.encode("hello")
    save_pretrained(model, tmp_path / "none")
    assert load_pretrained(tmp_path / "none")[1] is None
    with pytest.raises(ValueError, match="tokenizer has 8 tokens but the model's vocab_size is"):
        small = GPT(GPTConfig(block_size=8, vocab_size=4, n_layer=1, n_head=1, n_embd=8))
        save_pretrained(small, tmp_path / "bad", tokenizer=char)


def _char_model(text="ROMEO: hello world!\nFirst Citizen: speak."):
    char = CharTokenizer.from_text(text)
    ng.manual_seed(0)
    return char, GPT(GPTConfig(block_size=16, vocab_size=char.vocab_size, n_layer=1, n_head=2,
                               n_embd=16, dropout=0.0))


def test_char_model_export_gives_transformers_a_tokenizer_that_encodes_like_ours(tmp_path):
    char, model = _char_model()
    save_pretrained(model, tmp_path / "hf", tokenizer=char)
    hf_tok = transformers.AutoTokenizer.from_pretrained(tmp_path / "hf")
    for text in ["ROMEO:", "hello world!\nFirst Citizen:  speak.", " \n\n"]:
        assert hf_tok(text)["input_ids"] == char.encode(text), text
        assert hf_tok.decode(char.encode(text)) == text
    # the text-generation pipeline runs, with a prompt and without one (from a newline, as
    # `numpy2gpt sample` starts), greedily giving our own model's continuation
    generate = transformers.pipeline("text-generation", model=str(tmp_path / "hf"))
    model.eval()
    for prompt in ["ROMEO:", ""]:
        ids = char.encode(prompt or "\n")
        ours = model.generate(ng.tensor([ids]), max_new_tokens=6, top_k=1)[0].tolist()
        theirs = generate(prompt, max_new_tokens=6, do_sample=False)[0]["generated_text"]
        assert theirs == char.decode(ours)


def test_saving_over_an_earlier_export_replaces_all_its_files(tmp_path):
    folder = tmp_path / "hf"
    text = "To be, or not to be, that is the question " * 10
    ng.manual_seed(0)
    bpe_model = GPT(GPTConfig(block_size=16, vocab_size=270, n_layer=1, n_head=2, n_embd=16))
    save_pretrained(bpe_model, folder, tokenizer=BPETokenizer.train(text, vocab_size=270))
    assert (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file()
    char, model = _char_model()
    for extra in [None, "README.md"]:  # a folder of ours only, and one with the user's file
        if extra:
            (folder / extra).write_text("my notes")
        save_pretrained(model, folder, tokenizer=char)
        expected = {"config.json", "model.safetensors", "numpy2gpt_tokenizer.json",
                    "tokenizer.json", "tokenizer_config.json"} | ({extra} if extra else set())
        assert {p.name for p in folder.iterdir()} == expected
        assert {p.name for p in tmp_path.iterdir()} == {"hf"}  # no temporary folder left
        _, tok = load_pretrained(folder)
        assert isinstance(tok, CharTokenizer) and tok.encode("ROMEO") == char.encode("ROMEO")
    assert (folder / "README.md").read_text() == "my notes"


def test_a_failed_export_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    char, model = _char_model()
    save_pretrained(model, tmp_path / "hf", tokenizer=char)
    before = {p.name: p.read_bytes() for p in (tmp_path / "hf").iterdir()}

    def disk_full(fh, arrays, metadata=None):
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pretrained, "write_safetensors", disk_full)
    ng.manual_seed(1)
    other = GPT(GPTConfig(block_size=16, vocab_size=char.vocab_size, n_layer=1, n_head=2,
                          n_embd=16))
    with pytest.raises(OSError, match=r"could not write .*model.safetensors: No space left on "
                                      r"device; nothing was saved \(no file was created\)"):
        save_pretrained(other, tmp_path / "hf", tokenizer=char)
    assert {p.name: p.read_bytes() for p in (tmp_path / "hf").iterdir()} == before
    assert {p.name for p in tmp_path.iterdir()} == {"hf"}


# ----- model names in the local Hugging Face cache ------------------------------------------
@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE", "HF_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


def test_model_names_resolve_in_the_hf_cache(hf, empty_cache, tmp_path, monkeypatch):
    model, folder, idx = hf
    snap = empty_cache / "models--openai-community--gpt2" / "snapshots" / "abc123"
    shutil.copytree(folder, snap)
    (snap.parents[1] / "refs").mkdir()
    (snap.parents[1] / "refs" / "main").write_text("abc123")
    for name in ("gpt2", "openai-community/gpt2"):
        assert pretrained.resolve(name) == snap
    assert np.abs(_our_logits(from_pretrained("gpt2"), idx) - _hf_logits(model, idx)).max() < 1e-4
    # an older cache under HF_HOME, with the bare repo name and no refs/main
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    old = tmp_path / "hf_home" / "hub" / "models--gpt2-medium" / "snapshots" / "def456"
    shutil.copytree(folder, old)
    assert pretrained.resolve("gpt2-medium") == old


def test_unknown_name_lists_where_it_looked(empty_cache, tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        from_pretrained("gpt2-xl")
    msg = str(e.value)
    assert "never downloads" in msg and "gpt2-medium" in msg
    for place in (empty_cache / "models--openai-community--gpt2-xl" / "snapshots",
                  empty_cache / "models--gpt2-xl" / "snapshots",
                  tmp_path / "xdg" / "huggingface" / "hub" / "models--gpt2-xl" / "snapshots",
                  tmp_path / "home" / ".cache" / "huggingface" / "hub"):
        assert str(place) in msg
    with pytest.raises(FileNotFoundError, match="no such folder: ./nowhere/at/all"):
        from_pretrained("./nowhere/at/all")


# ----- bad checkpoints ----------------------------------------------------------------------
def test_missing_files(hf, tmp_path):
    folder = _copy(hf[1], tmp_path)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(FileNotFoundError, match=r"model.safetensors not found.*pytorch_model"
                                                r"\.bin.*only safetensors"):
        from_pretrained(folder)
    (folder / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="config.json not found"):
        from_pretrained(folder)
    with pytest.raises(NotADirectoryError, match="is a file"):
        from_pretrained(folder / "pytorch_model.bin")


def test_shape_mismatch_names_key_and_both_shapes(hf, tmp_path):
    folder = _copy(hf[1], tmp_path)
    key = "transformer.h.1.attn.c_attn.weight"
    _rewrite_weights(folder, lambda t: t.update({key: np.ascontiguousarray(t[key].T)}))
    with pytest.raises(ValueError, match=r"shape mismatch for 'transformer\.h\.1\.attn\.c_attn"
                                         r"\.weight'.*has \(96, 32\).*implies \(32, 96\)"):
        from_pretrained(folder)
    folder = _copy(hf[1], tmp_path, "vocab")
    _rewrite_config(folder, vocab_size=101)
    with pytest.raises(ValueError, match=r"'transformer\.wte\.weight'.*\(100, 32\).*\(101, 32\)"):
        from_pretrained(folder)


def test_missing_and_unused_weights_are_named(hf, tmp_path):
    folder = _copy(hf[1], tmp_path)

    def edit(t):
        del t["transformer.ln_f.bias"]
        t["transformer.h.0.attn.rotary.weight"] = np.zeros(3, np.float32)
    _rewrite_weights(folder, edit)
    with pytest.raises(ValueError, match=r"missing weights for transformer\.ln_f\.bias.*no place "
                                         r"for: transformer\.h\.0\.attn\.rotary\.weight"):
        from_pretrained(folder)
    folder = _copy(hf[1], tmp_path, "three_layers")
    _rewrite_config(folder, n_layer=3)
    with pytest.raises(ValueError, match=r"missing weights for transformer\.h\.2\.ln_1\.weight"):
        from_pretrained(folder)


def test_untied_lm_head_is_refused(hf, tmp_path):
    folder = _copy(hf[1], tmp_path)
    _rewrite_weights(folder, lambda t: t.update(
        {"lm_head.weight": t["transformer.wte.weight"] + 1}))
    with pytest.raises(ValueError, match="lm_head.weight differs from wte.weight"):
        from_pretrained(folder)


@pytest.mark.parametrize("changes,message", [
    (dict(model_type="llama"), "model_type is 'llama', not 'gpt2'"),
    (dict(architectures=["GPT2ForSequenceClassification"]), "not a GPT-2 language model"),
    (dict(activation_function="relu"), "activation_function 'relu' is not supported"),
    (dict(layer_norm_epsilon=1e-6), "layer_norm_epsilon is 1e-06"),
    (dict(n_inner=64), "n_inner is 64"),
    (dict(scale_attn_by_inverse_layer_idx=True), "scale_attn_by_inverse_layer_idx"),
    (dict(n_head=3), "n_embd .32. must be divisible by n_head .3."),
])
def test_unsupported_configs_are_refused(hf, tmp_path, changes, message):
    folder = _copy(hf[1], tmp_path)
    _rewrite_config(folder, **changes)
    with pytest.raises(ValueError, match=message) as e:
        from_pretrained(folder)
    assert "config.json" in str(e.value)


def test_not_a_safetensors_file(hf, tmp_path):
    folder = _copy(hf[1], tmp_path)
    (folder / "model.safetensors").write_bytes(b"PK\x03\x04 a zip, i.e. a torch.save file")
    with pytest.raises(ValueError, match="not a safetensors file .it looks like a PyTorch"):
        from_pretrained(folder)


# ----- the real GPT-2, where a machine has it cached ----------------------------------------
def test_real_gpt2_when_cached():
    folder, _ = pretrained.find_in_hf_cache("gpt2")
    if folder is None or not (folder / "model.safetensors").is_file():
        pytest.skip("no local copy of GPT-2 in the Hugging Face cache (the tests download "
                    "nothing): cache it once, online, with `huggingface-cli download gpt2 "
                    "config.json model.safetensors vocab.json merges.txt`")
    model, tok = load_pretrained("gpt2")
    ids = tok.encode("Hello, my dog is cute") if tok else [15496, 11, 616, 3290, 318, 13779]
    assert ids == [15496, 11, 616, 3290, 318, 13779]
    theirs = transformers.GPT2LMHeadModel.from_pretrained(folder).eval()
    idx = np.array([ids])
    np.testing.assert_allclose(_our_logits(model, idx), _hf_logits(theirs, idx), rtol=1e-4,
                               atol=1e-3)
    with torch.no_grad():
        expected = theirs.generate(torch.from_numpy(idx), max_new_tokens=10, do_sample=False,
                                   pad_token_id=50256).numpy()
    np.testing.assert_array_equal(model.generate(idx, 10, temperature=0.0).numpy(), expected)
