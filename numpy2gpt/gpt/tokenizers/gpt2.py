"""GPT2Tokenizer: GPT-2's vocab.json + merges.txt, encoded exactly like Hugging Face's GPT-2.

In those files every token is text: its bytes spelled with bytes_to_unicode() (a space is 'Ġ').
merges.txt lists the merges by rank, one "left right" pair a line, after a '#version' header.
"""

import json
import os
from pathlib import Path

from .base import check_dict, read_json
from .bytelevel import ByteLevelBPE
from .pretokenize import bytes_to_unicode, unicode_to_bytes

EOT = "<|endoftext|>"


def token_to_text(data):
    """Token bytes -> their vocab.json spelling, e.g. b' the' -> 'Ġthe'."""
    table = bytes_to_unicode()
    return "".join(table[b] for b in data)


def text_to_token(text):
    """vocab.json spelling -> token bytes. Like Hugging Face's ByteLevel decoder, a token with a
    character outside the byte alphabet (a hand-added '☃', say) stands for its own UTF-8."""
    table = unicode_to_bytes()
    if all(ch in table for ch in text):
        return bytes(table[ch] for ch in text)
    return text.encode("utf-8")


def read_merges(path):
    """merges.txt -> list of (left, right) token strings, in rank order."""
    merges = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if (n == 1 and line.startswith("#version")) or not line:
                continue
            parts = line.split(" ")
            if len(parts) != 2:
                raise ValueError(f"{path}:{n}: a merge is two tokens and one space, got {line!r}")
            merges.append((parts[0], parts[1]))
    return merges


class GPT2Tokenizer(ByteLevelBPE):
    """Byte-level BPE with GPT-2's vocab and merges (e.g. the files of openai-community/gpt2).

        tok = GPT2Tokenizer.from_pretrained("path/to/gpt2")   # a local dir: vocab.json, merges.txt
        tok.encode("Hello world<|endoftext|>")                  # [15496, 995, 50256]
    """

    type_name = "gpt2"

    def __init__(self, vocab, merges, special_tokens=(EOT,)):
        """vocab: token text -> id; merges: ranked (left, right) token texts; special_tokens: texts
        matched before BPE. A special token missing from vocab gets the next free id, as in HF."""
        self.vocab = dict(vocab)
        triples = []
        for rank, (a, b) in enumerate(merges):
            for t in (a, b, a + b):
                if t not in self.vocab:
                    raise ValueError(f"merge {rank} ({a!r} {b!r}): token {t!r} is not in the vocab")
            triples.append((self.vocab[a], self.vocab[b], self.vocab[a + b]))
        specials = {}
        next_id = max(self.vocab.values(), default=-1) + 1
        for s in special_tokens:
            if s in self.vocab:
                specials[s] = self.vocab[s]
            else:
                specials[s] = next_id
                next_id += 1
        id_to_bytes = {i: text_to_token(t) for t, i in self.vocab.items()}
        id_to_bytes.update({i: text_to_token(s) for s, i in specials.items()})
        byte_ids = [self.vocab.get(ch) for ch in bytes_to_unicode().values()]
        self.merge_texts = [tuple(m) for m in merges]
        super().__init__(id_to_bytes, triples, specials, byte_ids)

    @classmethod
    def from_files(cls, vocab_json, merges_txt, special_tokens=(EOT,)):
        """Load GPT-2 style vocab.json and merges.txt."""
        for path in (vocab_json, merges_txt):
            if not os.path.isfile(path):
                raise FileNotFoundError(f"GPT-2 tokenizer file not found: {path}")
        vocab = read_json(vocab_json)
        if not isinstance(vocab, dict):
            raise ValueError(f"{vocab_json} is not a GPT-2 vocab.json: expected a JSON object "
                             "token -> id")
        return cls(vocab, read_merges(merges_txt), special_tokens)

    @classmethod
    def from_pretrained(cls, directory, special_tokens=(EOT,)):
        """Load vocab.json + merges.txt from a local directory (nothing is downloaded)."""
        directory = Path(directory)
        if not directory.is_dir():
            raise FileNotFoundError(
                f"{directory} is not a directory; from_pretrained reads vocab.json and merges.txt "
                "from a local directory (it never downloads)"
            )
        return cls.from_files(directory / "vocab.json", directory / "merges.txt", special_tokens)

    def save_pretrained(self, directory):
        """Write vocab.json + merges.txt in the layout Hugging Face writes for GPT-2."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        vocab = dict(self.vocab)
        vocab.update(self.special_tokens)
        with open(directory / "vocab.json", "w", encoding="utf-8") as f:
            f.write(json.dumps(vocab, ensure_ascii=False) + "\n")
        with open(directory / "merges.txt", "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n")
            f.writelines(f"{a} {b}\n" for a, b in self.merge_texts)

    def to_dict(self):
        return {
            "type": self.type_name,
            "version": 1,
            "vocab": self.vocab,
            "merges": [f"{a} {b}" for a, b in self.merge_texts],
            "special_tokens": list(self.special_tokens),
        }

    @classmethod
    def from_dict(cls, d):
        check_dict(d, cls)
        merges = []
        for rank, m in enumerate(d["merges"]):
            if not isinstance(m, str) or m.count(" ") != 1:
                raise ValueError(f"merge {rank} must be a string 'left right', got {m!r}")
            merges.append(tuple(m.split(" ")))
        return cls(d["vocab"], merges, d.get("special_tokens", ()))
