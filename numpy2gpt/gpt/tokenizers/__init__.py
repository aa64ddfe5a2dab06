"""Tokenizers in pure Python + NumPy (no autograd): text <-> token ids.

- CharTokenizer: one id per character (nanoGPT's shakespeare_char).
- BPETokenizer: byte-level BPE trained from scratch with GPT-2's pre-tokenizer.
- GPT2Tokenizer: GPT-2's vocab.json + merges.txt, identical to Hugging Face's GPT-2 tokenizer.
- load_tokenizer: rebuild any of them from a saved JSON file or dict.

All of them save to JSON (never pickle): tok.save(path), load_tokenizer(path).
"""

import os

from .base import Tokenizer, read_json
from .bpe import BPETokenizer
from .char import CharTokenizer
from .gpt2 import GPT2Tokenizer

TOKENIZER_TYPES = {cls.type_name: cls for cls in (CharTokenizer, BPETokenizer, GPT2Tokenizer)}


def load_tokenizer(path_or_dict):
    """A tokenizer from a dict (tok.to_dict()), a JSON file (tok.save()), a dataset meta.json that
    holds a "tokenizer" dict, or a directory with GPT-2's vocab.json + merges.txt."""
    if isinstance(path_or_dict, dict):
        d = path_or_dict
    elif isinstance(path_or_dict, (str, os.PathLike)):
        path = os.fspath(path_or_dict)
        if os.path.isdir(path):
            return GPT2Tokenizer.from_pretrained(path)
        d = read_json(path)
    else:
        raise TypeError(f"expected a path or a dict, got {type(path_or_dict).__name__}")
    if isinstance(d, dict) and "type" not in d and isinstance(d.get("tokenizer"), dict):
        d = d["tokenizer"]  # a dataset's meta.json
    kind = d.get("type") if isinstance(d, dict) else None
    if kind not in TOKENIZER_TYPES:
        raise ValueError(
            f"unknown tokenizer type {kind!r}; expected one of {sorted(TOKENIZER_TYPES)}"
        )
    return TOKENIZER_TYPES[kind].from_dict(d)


__all__ = [
    "Tokenizer",
    "CharTokenizer",
    "BPETokenizer",
    "GPT2Tokenizer",
    "load_tokenizer",
    "TOKENIZER_TYPES",
]
