"""ByteLevelBPE: encode/decode shared by our trained BPETokenizer and the GPT-2 file loader.

Encoding, as in GPT-2:
  1. cut out special tokens ('<|endoftext|>'),
  2. split the rest into chunks with the GPT-2 regex (pretokenize.py),
  3. turn each chunk into its UTF-8 bytes, one token per byte,
  4. apply the merges: repeatedly merge the adjacent pair learned earliest (lowest rank).
Decoding concatenates the bytes of every token and decodes them as UTF-8 (invalid sequences,
e.g. half of a multi-byte character, become U+FFFD like in Hugging Face).
"""

import functools

from .base import SpecialSplitter, Tokenizer, as_id_list, check_text, unknown_ids_error
from .pretokenize import bytes_to_unicode, pretokenize

_NO_MERGE = (float("inf"), -1)


def merge_pair(parts, pair, new):
    """Replace every non-overlapping occurrence of `pair` in `parts`, left to right, by `new`."""
    out, i, n = [], 0, len(parts)
    while i < n:
        if i + 1 < n and parts[i] == pair[0] and parts[i + 1] == pair[1]:
            out.append(new)
            i += 2
        else:
            out.append(parts[i])
            i += 1
    return out


def merge_word(parts, merges):
    """GPT-2's bpe(): merge the lowest-rank adjacent pair, everywhere, until none is mergeable.

    `merges` maps a pair of ids to (rank, id of the merged token).
    """
    while len(parts) > 1:
        best = min(zip(parts, parts[1:]), key=lambda pair: merges.get(pair, _NO_MERGE))
        if best not in merges:
            break
        parts = merge_pair(parts, best, merges[best][1])
    return parts


class ByteLevelBPE(Tokenizer):
    """Byte-level BPE from four tables (subclasses build them):

    id_to_bytes:    token id -> the bytes it stands for (special tokens: their UTF-8 text)
    merges:         ranked list of (left id, right id, merged id); later duplicates win, like GPT-2
    special_tokens: text -> id, matched in the input before anything else
    byte_ids:       byte value -> id of its single-byte token (None where the vocab has none)
    """

    def __init__(self, id_to_bytes, merges, special_tokens, byte_ids):
        self.id_to_bytes = dict(id_to_bytes)
        self.merges = {(a, b): (rank, new) for rank, (a, b, new) in enumerate(merges)}
        self.special_tokens = dict(special_tokens)
        self.byte_ids = list(byte_ids)
        self._vocab_size = max(self.id_to_bytes, default=-1) + 1
        self._splitter = SpecialSplitter(self.special_tokens)
        # Text repeats the same words over and over: cache the BPE of each chunk.
        self._bpe = functools.lru_cache(maxsize=1 << 16)(self._bpe_uncached)

    @property
    def vocab_size(self):
        """Number of ids an embedding table needs: largest id + 1."""
        return self._vocab_size

    @property
    def eot_token(self):
        return self.special_tokens.get("<|endoftext|>")

    def encode(self, text):
        """Text -> list of token ids; a special token in `text` ('<|endoftext|>') is one id."""
        check_text(text)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:  # a lone surrogate, e.g. from '\ud800' or surrogateescape
            raise ValueError(
                f"text has a lone surrogate {text[e.start]!r} at index {e.start}, which is not "
                "valid Unicode text and has no UTF-8 bytes to tokenize"
            ) from None
        ids = []
        for piece, is_special in self._splitter.split(text):
            if is_special:
                ids.append(self.special_tokens[piece])
            else:
                for chunk in pretokenize(piece):
                    ids.extend(self._bpe(chunk))
        return ids

    def _bpe_uncached(self, chunk):
        data = chunk.encode("utf-8")
        parts = [self.byte_ids[b] for b in data]
        if None in parts:
            missing = sorted({b for b in data if self.byte_ids[b] is None})
            shown = ", ".join(f"0x{b:02x} ({bytes_to_unicode()[b]!r})" for b in missing)
            raise ValueError(
                f"cannot encode {chunk!r}: the vocabulary has no token for byte(s) {shown}"
            )
        return tuple(merge_word(parts, self.merges))

    def decode(self, ids, skip_special_tokens=False):
        """Token ids -> text; byte sequences that are not valid UTF-8 decode to U+FFFD."""
        ids = as_id_list(ids)
        if skip_special_tokens:
            specials = set(self.special_tokens.values())
            ids = [i for i in ids if i not in specials]
        try:
            data = b"".join([self.id_to_bytes[i] for i in ids])
        except KeyError:
            raise unknown_ids_error(
                [i for i in ids if i not in self.id_to_bytes], self.vocab_size
            ) from None
        return data.decode("utf-8", errors="replace")

    def token_bytes(self, token_id):
        """The bytes one token stands for (handy to inspect a vocabulary)."""
        return self.id_to_bytes[token_id]
