"""Tests for numpy2gpt.gpt.tokenizers: CharTokenizer, BPETokenizer, GPT2Tokenizer, load_tokenizer.

GPT-2 interop is checked against Hugging Face: byte-level BPE tokenizers are trained locally with
`tokenizers` (no downloads), saved as vocab.json + merges.txt, and loaded both by our GPT2Tokenizer
and by transformers' GPT2Tokenizer; encode/decode must agree exactly.
"""

import json
import os
import random
import sys
import unicodedata

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch_compare import generated_play

from numpy2gpt.gpt.tokenizers import (
    BPETokenizer,
    CharTokenizer,
    GPT2Tokenizer,
    load_tokenizer,
)
from numpy2gpt.gpt.tokenizers.pretokenize import bytes_to_unicode, pretokenize

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before transformers is imported: never download

EOT = "<|endoftext|>"


def slow_ok(max_examples=100):
    """Hypothesis settings for tests that call Hugging Face or train: no per-example deadline."""
    return settings(deadline=None, max_examples=max_examples,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def shakespeare():
    """100,000 characters of a generated play (conftest.py): English-like text to train BPE on,
    the same on every machine."""
    return generated_play(100_000)


# Characters that this Python's Unicode database knows. Hugging Face's regex engine (Oniguruma) may
# know a newer Unicode version: a character assigned only there is a letter for it and unassigned
# (category Cn) here, so the HF comparisons draw from assigned characters (see pretokenize.py).
ASSIGNED = st.characters(exclude_categories=("Cs", "Cn"))
FAMILY = "\U0001F469\u200d\U0001F469\u200d\U0001F467"  # one emoji made of three, joined by ZWJ
FRAGMENTS = [EOT, "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", " 123", "4,567.89", "   ",
             "\n\n", "\t \n", " \u00a0 ", "🤖", FAMILY, "e\u0301", "\x00", "\x1c\x1d",
             "ǅ", "Ⅻ", "²"]
MIXED_TEXT = st.lists(st.one_of(st.text(ASSIGNED, max_size=12), st.sampled_from(FRAGMENTS)),
                      max_size=12).map("".join)
HAND_PICKED = [
    "", " ", "  ", "\n", "Hello world", " Hello world", "Hello  world  ", "it's I'm we'll they'd",
    "DON'T 'S 's's", "x = 1234567890 + 3.14e-10", "tabs\tand\n\n\nnewlines \n \n", "   leading",
    "trailing   ", f"emoji 🤖🚀 and ZWJ {FAMILY} and flags 🇫🇷", "ça déjà vu, naïve façade",
    "e\u0301 a\u0308 combining", "日本語のテキスト、中文。", "Ελληνικά русский עברית العربية",
    "\x00nul\x00 and \x1c\x1f controls", f"a{EOT}b", f"{EOT}{EOT} {EOT}\n", "<|endoftext|",
    "¹²³ ½ Ⅻ ① ٣", "\u00a0\u2003\u3000 odd spaces", "!!!???...", "a" * 300,
]


# ----------------------------------------------------------------------------- CharTokenizer


def test_char_vocab_is_sorted_unique_chars():
    tok = CharTokenizer.from_text("hello world")
    assert [tok.itos[i] for i in range(tok.vocab_size)] == sorted(set("hello world"))
    assert tok.vocab_size == 8
    assert tok.stoi == {c: i for i, c in tok.itos.items()}
    assert tok.encode("hole") == [tok.stoi[c] for c in "hole"]
    assert tok.eot_token is None


def test_char_round_trip_on_shakespeare(shakespeare):
    tok = CharTokenizer.from_text(shakespeare)
    ids = tok.encode(shakespeare)
    assert len(ids) == len(shakespeare) and max(ids) < tok.vocab_size
    assert tok.decode(ids) == shakespeare
    assert tok.decode(np.array(ids, dtype=np.int64)) == shakespeare
    assert tok.decode(np.array(ids[:50], dtype=np.uint16)) == shakespeare[:50]


@given(st.text(min_size=1))
def test_char_round_trip_any_text(text):
    tok = CharTokenizer.from_text(text)
    assert tok.decode(tok.encode(text)) == text


def test_char_unknown_characters_are_named():
    tok = CharTokenizer.from_text("abc ")
    with pytest.raises(ValueError, match="characters not in the vocabulary") as e:
        tok.encode("a cab Zé Z")
    msg = str(e.value)
    assert "'Z'" in msg and "'é'" in msg and "'a'" not in msg


def test_char_bad_ids_and_inputs():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=r"not in the vocabulary.*: 3, 7"):
        tok.decode([0, 7, 3])
    with pytest.raises(ValueError, match=r"not in the vocabulary.*-1"):
        tok.decode([-1])
    with pytest.raises(TypeError, match="integers"):
        tok.decode([0.0, 1.0])
    with pytest.raises(TypeError, match="integers"):
        tok.decode(np.array([0.0]))
    with pytest.raises(ValueError, match="1-D"):
        tok.decode(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(TypeError, match="str"):
        tok.encode(b"abc")
    with pytest.raises(ValueError, match="empty"):
        CharTokenizer.from_text("")
    with pytest.raises(ValueError, match="duplicate"):
        CharTokenizer(["a", "b", "a"])


def test_char_save_load(tmp_path):
    tok = CharTokenizer.from_text("To be, or not to be: \n é🤖\x00")
    path = tmp_path / "sub" / "char.json"
    tok.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "char"
    for loaded in (CharTokenizer.load(path), load_tokenizer(path), load_tokenizer(data),
                   CharTokenizer.from_dict(tok.to_dict())):
        assert isinstance(loaded, CharTokenizer)
        assert loaded.itos == tok.itos
        assert loaded.encode("be é🤖") == tok.encode("be é🤖")


# ----------------------------------------------------------------------------- BPETokenizer


@pytest.fixture(scope="module")
def bpe_shakespeare(shakespeare):
    return BPETokenizer.train(shakespeare, 512)


def test_bpe_training_by_hand():
    # "aaabdaaabac" (Wikipedia's example) is one chunk. Pair counts: aa 4, ab 2, ... -> aa=256.
    # Then (a,b) and (256,a) both occur twice: the tie goes to the smaller pair (97, 98) -> 257.
    # Then (256, 257) occurs twice -> 258; no pair occurs twice after that, the rest are ties of 1.
    tok = BPETokenizer.train("aaabdaaabac", 259, special_tokens=())
    assert tok.merge_list == [(97, 97), (97, 98), (256, 257)]
    assert tok.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    assert tok.token_bytes(258) == b"aaab"
    assert tok.vocab_size == 259 and tok.eot_token is None


def test_bpe_merges_stay_inside_chunks(bpe_shakespeare):
    with pytest.warns(UserWarning, match="only allows 2 merges"):  # 'ab', then ' ab'
        tok = BPETokenizer.train("ab ab ab ab. ab, ab!", 270, special_tokens=())
    assert [tok.token_bytes(i) for i in (256, 257)] == [b"ab", b" ab"]
    for i in range(256, 256 + len(bpe_shakespeare.merges)):  # e.g. never 'e,' or 'd\n'
        chunk = bpe_shakespeare.token_bytes(i).decode("utf-8")
        assert len(pretokenize(chunk)) == 1, chunk


def test_bpe_train_deterministic_and_compresses(shakespeare, bpe_shakespeare):
    tok = bpe_shakespeare
    assert tok.vocab_size == 512 and tok.eot_token == 511
    assert BPETokenizer.train(shakespeare, 512).merge_list == tok.merge_list  # deterministic
    n_bytes = len(shakespeare.encode("utf-8"))
    n_small = len(BPETokenizer.train(shakespeare, 300).encode(shakespeare))
    n_512 = len(tok.encode(shakespeare))
    assert n_512 < n_small < n_bytes
    assert n_512 < 0.6 * n_bytes  # 255 merges of English text: roughly 2 bytes a token
    tokens = [tok.token_bytes(i) for i in range(256 + len(tok.merges))]
    assert len(set(tokens)) == len(tokens)  # every token has distinct bytes
    assert tok.decode(tok.encode(shakespeare)) == shakespeare


def test_bpe_counts_every_occurrence_of_a_pair():
    """The first merge is the pair seen most often in the text, a chunk counted each time it
    occurs: " pq" (5 times) beats " a"/"ab", which stand in more distinct chunks (3)."""
    tok = BPETokenizer.train(" pq" * 5 + " abc abd abe", 258)
    assert [tok.token_bytes(256 + i) for i in range(len(tok.merges))] == [b" p"]


def test_bpe_special_tokens(bpe_shakespeare):
    tok = bpe_shakespeare
    ids = tok.encode(f"First{EOT}Second {EOT}")
    assert ids.count(511) == 2 and ids[-1] == 511
    assert tok.decode(ids) == f"First{EOT}Second {EOT}"
    assert tok.decode(ids, skip_special_tokens=True) == "FirstSecond "
    # "<|endoftext|>" in training text is a separator, never learned as merges
    with pytest.warns(UserWarning, match="only allows"):
        tok2 = BPETokenizer.train(f"{EOT}" * 50 + "abab", 300)
    assert all(b"|" not in tok2.token_bytes(i) for i in range(256, 256 + len(tok2.merges)))


@slow_ok(300)
@given(st.text())
def test_bpe_round_trip_random_unicode(bpe_shakespeare, text):
    ids = bpe_shakespeare.encode(text)
    assert all(0 <= i < bpe_shakespeare.vocab_size for i in ids)
    assert bpe_shakespeare.decode(ids) == text


@slow_ok()
@given(MIXED_TEXT)
def test_bpe_round_trip_mixed_text(bpe_shakespeare, text):
    assert bpe_shakespeare.decode(bpe_shakespeare.encode(text)) == text


def test_bpe_trained_on_unicode_round_trips():
    rng = random.Random(0)
    text = "".join(chr(rng.choice([rng.randrange(0x80, 0x3000), 0x1F916, 0x301, 32, 10]))
                   for _ in range(5000))
    tok = BPETokenizer.train(text, 400)
    assert any(len(tok.token_bytes(i)) > 2 for i in range(256, 399))  # multi-byte merges
    assert tok.decode(tok.encode(text)) == text
    assert tok.decode(tok.encode(text[::-1])) == text[::-1]


def test_bpe_errors_and_edge_cases():
    with pytest.raises(ValueError, match="vocab_size >= 257"):
        BPETokenizer.train("abc", 256)
    assert BPETokenizer.train("abc", 256, special_tokens=()).vocab_size == 256
    with pytest.warns(UserWarning, match="only allows 2 merges"):
        tok = BPETokenizer.train("abc", 300)
    assert tok.vocab_size == 259 and tok.eot_token == 258
    with pytest.raises(ValueError, match="lone surrogate '\\\\ud800' at index 1"):
        tok.encode("a\ud800b")
    with pytest.raises(ValueError, match=r"not in the vocabulary \(vocab_size 259\): 259"):
        tok.decode([259])
    with pytest.raises(ValueError, match="merge 0"):
        BPETokenizer([(0, 256)])
    with pytest.raises(TypeError, match="vocab_size must be an int"):
        BPETokenizer.train("abc", 300.0)
    assert tok.encode("") == [] and tok.decode([]) == ""


def test_bpe_save_load(tmp_path, bpe_shakespeare, shakespeare):
    path = tmp_path / "bpe.json"
    bpe_shakespeare.save(path)
    assert json.loads(path.read_text())["type"] == "bpe"
    sample = shakespeare[:2000] + f"🤖 é{EOT}"
    for loaded in (BPETokenizer.load(path), load_tokenizer(path), load_tokenizer(str(path)),
                   load_tokenizer(bpe_shakespeare.to_dict())):
        assert isinstance(loaded, BPETokenizer)
        assert loaded.merge_list == bpe_shakespeare.merge_list
        assert loaded.encode(sample) == bpe_shakespeare.encode(sample)
    with pytest.raises(ValueError, match="expects a dict with type 'char'"):
        CharTokenizer.load(path)
    # a dataset meta.json holding the tokenizer dict
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"vocab_size": 512, "tokenizer": bpe_shakespeare.to_dict()}))
    assert load_tokenizer(meta).merge_list == bpe_shakespeare.merge_list
    with pytest.raises(ValueError, match="unknown tokenizer type 'nope'"):
        load_tokenizer({"type": "nope"})
    with pytest.raises(FileNotFoundError, match="not found"):
        load_tokenizer(tmp_path / "missing.json")


def test_bpe_to_gpt2_rejects_duplicate_tokens(tmp_path):
    tok = BPETokenizer([(98, 99), (97, 256), (97, 98), (258, 99)])  # 'abc' twice
    assert tok.token_bytes(257) == tok.token_bytes(259) == b"abc"
    with pytest.raises(ValueError, match="same bytes"):
        tok.save_gpt2_format(tmp_path)


# ----------------------------------------------------------------------------- GPT-2 format


def test_bytes_to_unicode_is_gpt2s():
    table = bytes_to_unicode()
    assert len(set(table.values())) == 256
    assert table[ord(" ")] == "Ġ" and table[ord("\n")] == "Ċ" and table[ord("a")] == "a"
    assert all(not ch.isspace() and ch.isprintable() for ch in table.values())


def test_pretokenizer_matches_hf_on_every_assigned_character():
    """Our stdlib-`re` GPT-2 regex splits exactly like HF's, char class by char class."""
    pre_tokenizers = pytest.importorskip("tokenizers.pre_tokenizers")
    table = bytes_to_unicode()
    cps = []
    for cp in range(sys.maxunicode + 1):
        cat = unicodedata.category(chr(cp))
        if cat in ("Cs", "Cn") or (cat == "Co" and cp % 97):  # private use: a sample
            continue
        cps.append(cp)
    # For each character c: "x"c joins iff c is a letter, "1"c iff a number, "!"c iff neither
    # letter, number nor whitespace; so any class that differs changes the split.
    text = "".join(f"x{c}1{c}!{c}" for c in map(chr, cps))
    hf = [w for w, _ in pre_tokenizers.ByteLevel(add_prefix_space=False).pre_tokenize_str(text)]
    ours = ["".join(table[b] for b in w.encode("utf-8")) for w in pretokenize(text)]
    assert ours == hf


@pytest.fixture(scope="module")
def hf_dirs(tmp_path_factory, shakespeare):
    """Byte-level BPE tokenizers trained by HF `tokenizers`, saved as vocab.json + merges.txt."""
    tokenizers = pytest.importorskip("tokenizers")
    rng = random.Random(1234)
    pool = [rng.randrange(0x20, 0x2FFF) for _ in range(300)] + [0x1F916, 0x1F680, 0x301, 32, 10]
    unicode_text = "".join(chr(rng.choice(pool)) + rng.choice(["", "", " ", "7"])
                           for _ in range(30_000))
    dirs = {}
    for name, text, vocab_size in [("shakespeare", shakespeare, 1000),
                                   ("unicode", unicode_text, 800)]:
        hf = tokenizers.ByteLevelBPETokenizer(add_prefix_space=False)
        hf.train_from_iterator([text], vocab_size=vocab_size, min_frequency=1,
                               special_tokens=[EOT], show_progress=False)
        d = tmp_path_factory.mktemp(f"hf_{name}")
        hf.save_model(str(d))
        dirs[name] = (d, hf)
    return dirs


@pytest.fixture(scope="module")
def hf_gpt2_class():
    pytest.importorskip("transformers")
    from transformers import GPT2Tokenizer as HFGPT2Tokenizer

    return HFGPT2Tokenizer


@pytest.fixture(scope="module", params=["shakespeare", "unicode"])
def pair(request, hf_dirs, hf_gpt2_class):
    """(ours, transformers' GPT2Tokenizer, the `tokenizers` object) for the same files."""
    d, raw = hf_dirs[request.param]
    return GPT2Tokenizer.from_pretrained(d), hf_gpt2_class.from_pretrained(str(d)), raw


def _check_same_encoding(pair, text):
    ours, hf, raw = pair
    ids = ours.encode(text)
    assert ids == hf.encode(text) == raw.encode(text).ids, repr(text)
    assert ours.decode(ids) == hf.decode(ids) == text


def test_gpt2_matches_hf_hand_picked(pair, shakespeare):
    ours, hf, _ = pair
    assert ours.eot_token == hf.eos_token_id == hf.convert_tokens_to_ids(EOT)
    assert ours.vocab_size == len(hf)
    for text in HAND_PICKED + [shakespeare[:3000]]:
        _check_same_encoding(pair, text)


@slow_ok(500)
@given(text=MIXED_TEXT)
def test_gpt2_matches_hf_random_text(pair, text):
    _check_same_encoding(pair, text)


@slow_ok(300)
@given(data=st.data())
def test_gpt2_decode_matches_hf_on_any_ids(pair, data):
    """Random ids (and random bytes) make invalid UTF-8: both must put U+FFFD in the same places."""
    ours, hf, _ = pair
    ids = data.draw(st.lists(st.integers(0, ours.vocab_size - 1), max_size=20))
    assert ours.decode(ids) == hf.decode(ids)
    raw = data.draw(st.binary(max_size=12))
    byte_ids = [ours.byte_ids[b] for b in raw]
    assert ours.decode(byte_ids) == hf.decode(byte_ids) == raw.decode("utf-8", errors="replace")


def test_our_trained_bpe_encodes_identically_through_hf(tmp_path, shakespeare, hf_gpt2_class):
    rng = random.Random(7)
    unicode_text = "".join(chr(rng.choice([rng.randrange(0x80, 0x800), 0x1F916, 32, 10, 97]))
                           for _ in range(20_000))
    texts = HAND_PICKED + [shakespeare[-2000:], unicode_text[:3000]]
    for i, corpus in enumerate([shakespeare, unicode_text]):
        ours = BPETokenizer.train(corpus, 600)
        ours.save_gpt2_format(tmp_path / str(i))
        assert sorted(os.listdir(tmp_path / str(i))) == ["merges.txt", "vocab.json"]
        gpt2 = GPT2Tokenizer.from_pretrained(tmp_path / str(i))
        hf = hf_gpt2_class.from_pretrained(str(tmp_path / str(i)))
        assert gpt2.eot_token == hf.eos_token_id == ours.eot_token == 599
        assert gpt2.vocab_size == len(hf) == ours.vocab_size
        for text in texts:
            ids = ours.encode(text)
            assert ids == gpt2.encode(text) == hf.encode(text), repr(text)
            assert hf.decode(ids) == text


def test_gpt2_save_load_and_errors(tmp_path, bpe_shakespeare, shakespeare):
    gpt2 = bpe_shakespeare.to_gpt2()
    sample = shakespeare[:1000] + EOT + "🤖"
    for loaded in (load_tokenizer(gpt2.to_dict()), GPT2Tokenizer.from_dict(gpt2.to_dict())):
        assert isinstance(loaded, GPT2Tokenizer)
        assert loaded.encode(sample) == bpe_shakespeare.encode(sample)
    gpt2.save(tmp_path / "gpt2.json")
    assert load_tokenizer(tmp_path / "gpt2.json").encode(sample) == bpe_shakespeare.encode(sample)
    gpt2.save_pretrained(tmp_path / "dir")
    assert load_tokenizer(tmp_path / "dir").encode(sample) == bpe_shakespeare.encode(sample)
    assert GPT2Tokenizer.from_files(tmp_path / "dir" / "vocab.json",
                                    tmp_path / "dir" / "merges.txt").vocab == gpt2.vocab

    with pytest.raises(FileNotFoundError, match="never downloads"):
        GPT2Tokenizer.from_pretrained(tmp_path / "gpt2-not-here")
    with pytest.raises(FileNotFoundError, match="merges.txt"):
        GPT2Tokenizer.from_files(tmp_path / "dir" / "vocab.json", tmp_path / "merges.txt")
    with pytest.raises(ValueError, match="token 'ab' is not in the vocab"):
        GPT2Tokenizer({"a": 0, "b": 1}, [("a", "b")])
    bad = tmp_path / "merges_bad.txt"
    bad.write_text("#version: 0.2\na b c\n", encoding="utf-8")
    with pytest.raises(ValueError, match="merges_bad.txt:2"):
        GPT2Tokenizer.from_files(tmp_path / "dir" / "vocab.json", bad)
    # A vocab without a token for some byte: a clear error instead of silently dropping it.
    small = GPT2Tokenizer({"a": 0, "b": 1, "ab": 2}, [("a", "b")])
    assert small.encode("abab") == [2, 2] and small.eot_token == 3 and small.vocab_size == 4
    with pytest.raises(ValueError, match=r"no token for byte\(s\) 0x20 \('Ġ'\), 0x63"):
        small.encode("ab c")


def test_gpt2_odd_vocab_matches_hf(tmp_path, hf_gpt2_class):
    """A vocab token outside the byte alphabet decodes to its own UTF-8 text, and an
    '<|endoftext|>' missing from vocab.json gets the next id: both as in Hugging Face."""
    vocab = {ch: i for i, ch in enumerate(bytes_to_unicode().values())}
    vocab.update({"☃x": 256, "Ġa": 257})
    (tmp_path / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (tmp_path / "merges.txt").write_text("#version: 0.2\nĠ a\n", encoding="utf-8")
    ours = GPT2Tokenizer.from_pretrained(tmp_path)
    hf = hf_gpt2_class.from_pretrained(str(tmp_path))
    assert ours.eot_token == hf.eos_token_id == 258 and ours.vocab_size == len(hf) == 259
    for ids in ([256], [97, 256, 0xE9, 257, 258], [226, 152]):
        assert ours.decode(ids) == hf.decode(ids)
    assert ours.decode([256, 257]) == "☃x a"
    assert ours.encode(f" a{EOT} a é") == hf.encode(f" a{EOT} a é")
