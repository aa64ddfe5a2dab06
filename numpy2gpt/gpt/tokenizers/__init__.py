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


def load_tokenizer(path_or_dict, where=None):
    """A tokenizer from a dict (tok.to_dict()), a JSON file (tok.save()), a dataset meta.json that
    holds a "tokenizer" dict, or a directory with GPT-2's vocab.json + merges.txt.

    Errors are ValueErrors that name `where` (default: the file, or "tokenizer record" for a
    dict) and say what is wrong with it.
    """
    if isinstance(path_or_dict, dict):
        d = path_or_dict
        where = where or "tokenizer record"
    elif isinstance(path_or_dict, (str, os.PathLike)):
        path = os.fspath(path_or_dict)
        if os.path.isdir(path):
            return GPT2Tokenizer.from_pretrained(path)
        d = read_json(path)
        where = where or path
    else:
        raise TypeError(f"expected a path or a dict, got {type(path_or_dict).__name__}")
    if isinstance(d, dict) and "type" not in d and isinstance(d.get("tokenizer"), dict):
        d = d["tokenizer"]  # a dataset's meta.json
    if not isinstance(d, dict) or "type" not in d:
        hf = isinstance(d, dict) and isinstance(d.get("model"), dict)
        hint = (" (it looks like a Hugging Face tokenizer.json: give the folder holding GPT-2's "
                "vocab.json + merges.txt instead)" if hf else "")
        raise ValueError(f"{where} is not a numpy2gpt tokenizer: it has no \"type\" field "
                         f"(a file written by tok.save() has one of {sorted(TOKENIZER_TYPES)})"
                         f"{hint}")
    kind = d["type"]
    if kind not in TOKENIZER_TYPES:
        raise ValueError(
            f"{where}: unknown tokenizer type {kind!r}; expected one of {sorted(TOKENIZER_TYPES)}"
        )
    try:
        return TOKENIZER_TYPES[kind].from_dict(d)
    except KeyError as e:
        raise ValueError(f"{where} is not a valid {kind!r} tokenizer: it has no "
                         f"{e.args[0]!r} field") from None
    except (TypeError, ValueError, AttributeError) as e:
        raise ValueError(f"{where} is not a valid {kind!r} tokenizer: {e}") from None


__all__ = [
    "Tokenizer",
    "CharTokenizer",
    "BPETokenizer",
    "GPT2Tokenizer",
    "load_tokenizer",
    "TOKENIZER_TYPES",
]
