"""Tests for numpy2gpt.gpt.sample: streaming, seeds, KV cache, and clear errors for bad prompts."""

import io
import re

import pytest
from torch_compare import generated_play, isolate_training

import numpy2gpt
from numpy2gpt.gpt.checkpoint import CheckpointError
from numpy2gpt.gpt.model import GPT, GPTConfig
from numpy2gpt.gpt.pretrained import load_pretrained, save_pretrained
from numpy2gpt.gpt.sample import SEPARATOR, PromptError, _StreamDecoder, read_prompt, sample
from numpy2gpt.gpt.tokenizers import BPETokenizer
from numpy2gpt.gpt.train import train


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory, corpus):
    """A tiny model trained for 30 steps (once for the module)."""
    root = tmp_path_factory.mktemp("sample")
    with pytest.MonkeyPatch.context() as mp:
        isolate_training(mp, root / "cache")
        train(dict(n_layer=1, n_head=2, n_embd=16, block_size=16, batch_size=8, eval_iters=2,
                   max_iters=30, eval_interval=30, warmup_iters=2, lr_decay_iters=30,
                   learning_rate=1e-2, plot=False, data=str(corpus), out_dir=str(root / "out")),
              log=None)
    return root / "out"


def test_samples_start_with_the_prompt_and_have_the_right_length(out_dir):
    texts = sample(out_dir, start="ROMEO:", num_samples=3, max_new_tokens=40)
    assert len(texts) == 3
    for t in texts:
        assert t.startswith("ROMEO:") and len(t) == len("ROMEO:") + 40  # char tokens
    assert len(set(texts)) == 3  # random samples differ


def test_seed_makes_samples_reproducible(out_dir):
    a = sample(out_dir, start="\n", num_samples=2, max_new_tokens=30, seed=5)
    b = sample(out_dir, start="\n", num_samples=2, max_new_tokens=30, seed=5)
    c = sample(out_dir, start="\n", num_samples=2, max_new_tokens=30, seed=6)
    assert a == b and a != c


def test_kv_cache_gives_the_same_text(out_dir):
    # 40 new tokens with block_size 16: the cache's window slides too
    kw = dict(start="MEN", num_samples=2, max_new_tokens=40, top_k=10, top_p=0.9, seed=3)
    assert sample(out_dir, use_cache=True, **kw) == sample(out_dir, use_cache=False, **kw)


def test_temperature_zero_is_greedy(out_dir):
    a = sample(out_dir, start="The ", num_samples=2, max_new_tokens=20, temperature=0, seed=1)
    b = sample(out_dir, start="The ", num_samples=1, max_new_tokens=20, temperature=0, seed=2)
    assert a[0] == a[1] == b[0]


def test_stream_writes_each_sample_then_the_separator(out_dir):
    buf = io.StringIO()
    texts = sample(out_dir, start="A", num_samples=2, max_new_tokens=15, stream=buf)
    assert buf.getvalue() == "".join(t + "\n" + SEPARATOR + "\n" for t in texts)


def test_stream_is_written_token_by_token(out_dir):
    class Recorder(io.StringIO):
        def __init__(self):
            super().__init__()
            self.writes = []

        def write(self, s):
            self.writes.append(s)
            return super().write(s)

    rec = Recorder()
    sample(out_dir, start="A", num_samples=1, max_new_tokens=12, stream=rec)
    assert rec.writes[0] == "A"  # the prompt first, then one write per (char) token
    assert [len(w) for w in rec.writes[1:13]] == [1] * 12


def test_prompt_from_file(out_dir, tmp_path):
    f = tmp_path / "prompt.txt"
    f.write_text("JULIET:\n", encoding="utf-8")
    assert read_prompt(f"FILE:{f}") == "JULIET:\n"
    texts = sample(out_dir, start=f"FILE:{f}", num_samples=1, max_new_tokens=5)
    assert texts[0].startswith("JULIET:\n")


def test_bad_prompts(out_dir, tmp_path):
    with pytest.raises(PromptError, match="characters not in the vocabulary: 'Z', '{'"):
        sample(out_dir, start="Zebra{", num_samples=1, max_new_tokens=2)
    with pytest.raises(PromptError, match="prompt file not found: .*nope.txt"):
        sample(out_dir, start=f"FILE:{tmp_path / 'nope.txt'}", num_samples=1)
    with pytest.raises(PromptError, match=re.escape(f"{tmp_path} is a directory; FILE: needs a "
                                                    "text file")):
        sample(out_dir, start=f"FILE:{tmp_path}", num_samples=1)
    with pytest.raises(PromptError, match="needs a path after 'FILE:'"):
        sample(out_dir, start="FILE:", num_samples=1)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8 text: byte 0xe9 at byte offset 3"):
        sample(out_dir, start=f"FILE:{latin1}", num_samples=1)
    with pytest.raises(PromptError, match="the prompt is empty"):
        sample(out_dir, start="", num_samples=1)


@pytest.mark.parametrize("use_cache", [True, False])
def test_a_prompt_longer_than_block_size_is_cropped_to_its_last_tokens(out_dir, use_cache):
    long = "ROMEO:\nWhat light through yonder window breaks?"  # 47 tokens, block_size 16
    lines = []
    kw = dict(num_samples=2, max_new_tokens=20, seed=4, use_cache=use_cache)
    texts = sample(out_dir, start=long, log=lines.append, **kw)
    assert lines[-1] == ("the prompt is 47 tokens, longer than block_size=16: the model sees its "
                         "last 16 tokens")
    # the sample keeps the whole prompt, and continues it as it continues the last 16 tokens
    cropped = sample(out_dir, start=long[-16:], **kw)
    assert texts == [long[:-16] + text for text in cropped]


def test_bad_arguments_and_checkpoints(out_dir, tmp_path):
    with pytest.raises(ValueError, match="num_samples must be a positive integer"):
        sample(out_dir, num_samples=0)
    with pytest.raises(ValueError, match="max_new_tokens must be a positive integer"):
        sample(out_dir, max_new_tokens=-1)
    for temperature in (-0.5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=f"temperature must be finite and >= 0 .*, got "
                                             f"{temperature}"):
            sample(out_dir, temperature=temperature)
    for top_p in (1.5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=re.escape(f"top_p must be in (0, 1] (or None), "
                                                       f"got {top_p}")):
            sample(out_dir, top_p=top_p)
    for top_k in (0, -3, 2.5):
        with pytest.raises(ValueError, match=f"top_k must be an integer >= 1 .*, got {top_k}"):
            sample(out_dir, top_k=top_k)
    with pytest.raises(CheckpointError, match="no checkpoint found"):
        sample(tmp_path, num_samples=1)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    with pytest.raises(CheckpointError, match=re.escape(f"{a_file} is a file; out_dir is the "
                                                        "directory that holds ckpt.safetensors")):
        sample(a_file, num_samples=1)
    (tmp_path / "ckpt.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError, match="corrupt or unreadable"):
        sample(tmp_path, num_samples=1)


def test_stream_decoder_waits_for_whole_utf8_characters():
    tok = BPETokenizer.train("plain ascii text", vocab_size=257)  # bytes + <|endoftext|> only
    ids = tok.encode("né✓")  # 'é' is 2 bytes, '✓' is 3: tokens that are parts of a character
    assert len(ids) == 6
    dec = _StreamDecoder(tok)
    pieces = [dec.push(i) for i in ids]
    assert pieces == ["n", "", "é", "", "", "✓"]
    assert "\ufffd" not in "".join(pieces) and dec.flush() == ""
    dec = _StreamDecoder(tok)
    assert dec.push(ids[1]) == "" and dec.flush() == "\ufffd"  # a dangling byte at the end


# ---------------------------------------------------------------------- init_from a GPT-2 folder
@pytest.fixture(scope="module")
def gpt2_folder(tmp_path_factory):
    """A Hugging Face GPT-2 folder (written by save_pretrained) with a GPT-2 tokenizer."""
    tok = BPETokenizer.train(generated_play(5000), 300)
    numpy2gpt.manual_seed(4)
    model = GPT(GPTConfig(block_size=32, vocab_size=300, n_layer=1, n_head=2, n_embd=16,
                          bias=True, gelu="tanh"))
    with numpy2gpt.no_grad():  # larger weights: samples that depend on every one of them
        for p in model.parameters():
            p.mul_(5.0)
    folder = tmp_path_factory.mktemp("gpt2") / "tiny-gpt2"
    save_pretrained(model, folder, tokenizer=tok)
    return folder


def test_sample_init_from_a_pretrained_folder(gpt2_folder):
    texts = sample(init_from=str(gpt2_folder), start="ROMEO:", num_samples=2, max_new_tokens=12,
                   seed=9, top_k=None, temperature=1.0)
    # the same as generating with the loaded model and tokenizer directly
    model, tok = load_pretrained(gpt2_folder)
    model.eval()
    ids = tok.encode("ROMEO:")
    numpy2gpt.manual_seed(9)
    expected = [tok.decode(model.generate(numpy2gpt.tensor([ids]), 12).numpy()[0].tolist())
                for _ in range(2)]
    assert texts == expected and texts[0] != texts[1]
    # the default out_dir plays no part
    assert sample("does-not-exist", init_from=str(gpt2_folder), start="A", num_samples=1,
                  max_new_tokens=3)


def test_sample_init_from_errors(gpt2_folder, out_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="init_from: no such folder"):
        sample(init_from=str(tmp_path / "nope"), num_samples=1)
    with pytest.raises(ValueError, match="init_from must be 'resume'"):
        sample(out_dir, init_from="scratch", num_samples=1)
    no_tok = tmp_path / "no_tok"
    no_tok.mkdir()
    for name in ("config.json", "model.safetensors"):
        (no_tok / name).write_bytes((gpt2_folder / name).read_bytes())
    with pytest.raises(CheckpointError, match="holds no tokenizer"):
        sample(init_from=str(no_tok), num_samples=1)
