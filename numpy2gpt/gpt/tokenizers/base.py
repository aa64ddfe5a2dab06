"""What every tokenizer shares: JSON save/load (never pickle), token-id checking, special tokens."""

import json
import os
import re
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1


class Tokenizer:
    """Base class: text <-> list of int ids, and a JSON-able dict that rebuilds the tokenizer.

    Subclasses set `type_name` (the "type" field of their dict) and implement encode, decode,
    vocab_size, to_dict and from_dict.
    """

    type_name = None

    def encode(self, text):
        raise NotImplementedError

    def decode(self, ids):
        raise NotImplementedError

    @property
    def vocab_size(self):
        raise NotImplementedError

    @property
    def eot_token(self):
        """The id of '<|endoftext|>', or None when this tokenizer has no such token."""
        return None

    def to_dict(self):
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d):
        raise NotImplementedError

    def save(self, path):
        """Write the tokenizer as a JSON file (ASCII-escaped, so any character round-trips)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path):
        """Read a JSON file written by save()."""
        return cls.from_dict(read_json(path))

    def __repr__(self):
        return f"{type(self).__name__}(vocab_size={self.vocab_size})"


def read_json(path):
    """Parse a JSON file, with errors that name the file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"tokenizer file not found: {path}")
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a UTF-8 text file (a tokenizer is saved as JSON)") \
            from None


def check_dict(d, cls):
    """Check that `d` is a dict saved by `cls` (its "type" field matches) and of a known version."""
    if not isinstance(d, dict):
        raise TypeError(f"{cls.__name__}.from_dict expects a dict, got {type(d).__name__}")
    if d.get("type") != cls.type_name:
        raise ValueError(
            f"{cls.__name__} expects a dict with type {cls.type_name!r}, got type "
            f"{d.get('type')!r} (load_tokenizer picks the right class from the type)"
        )
    if d.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise ValueError(f"unsupported tokenizer format version {d.get('version')!r}")


def check_text(text):
    if not isinstance(text, str):
        raise TypeError(f"encode expects a str, got {type(text).__name__}")


def as_id_list(ids):
    """A 1-D sequence of integer token ids (list, tuple, NumPy array, tensor) -> list of int."""
    if isinstance(ids, (str, bytes)):
        raise TypeError(f"decode expects a sequence of int token ids, got {type(ids).__name__}")
    if not isinstance(ids, (list, tuple, range)):
        ids = np.asarray(ids)  # NumPy arrays and anything with __array__ (tensors)
        if ids.ndim != 1:
            raise ValueError(f"decode expects a 1-D sequence of token ids, got shape {ids.shape}")
        if ids.size and ids.dtype.kind not in "iu":
            raise TypeError(f"token ids must be integers, got dtype {ids.dtype}")
        return [int(i) for i in ids.tolist()]
    out = []
    for i in ids:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"token ids must be integers, got {type(i).__name__} {i!r}")
        out.append(int(i))
    return out


def describe_items(items, limit=10):
    """"'a', 'b', ... and 3 more": a short list for error messages."""
    items = list(items)
    shown = ", ".join(repr(x) for x in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def unknown_ids_error(bad, vocab_size):
    return ValueError(
        f"token ids not in the vocabulary (vocab_size {vocab_size}): "
        f"{describe_items(sorted(set(bad)))}"
    )


class SpecialSplitter:
    """Cuts text around special tokens such as '<|endoftext|>', like Hugging Face does.

    At each position the leftmost, then longest, special token wins; the rest of the text is
    ordinary text that goes through the pre-tokenizer and BPE.
    """

    def __init__(self, specials):
        longest_first = sorted(specials, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, longest_first))) if specials else None

    def split(self, text):
        """Yield (piece, is_special) pairs that concatenate back to `text`."""
        if self.pattern is None:
            if text:
                yield text, False
            return
        start = 0
        for m in self.pattern.finditer(text):
            if m.start() > start:
                yield text[start:m.start()], False
            yield m.group(), True
            start = m.end()
        if start < len(text):
            yield text[start:], False
