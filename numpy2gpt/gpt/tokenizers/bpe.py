"""BPETokenizer: a byte-level BPE trained from scratch (GPT-2's algorithm, minbpe-style ids).

Ids 0..255 are the raw bytes, id 256 + k is the token made by merge k, and special tokens such as
'<|endoftext|>' come last. Training starts from bytes and greedily merges the most frequent
adjacent pair of tokens, never across the chunks of the GPT-2 pre-tokenizer regex.
"""

import heapq
import warnings
from collections import Counter, defaultdict

from .base import SpecialSplitter, check_dict, check_text, describe_items
from .bytelevel import ByteLevelBPE, merge_pair
from .pretokenize import pretokenize

EOT = "<|endoftext|>"


def _check_special_tokens(special_tokens):
    special_tokens = list(special_tokens)
    for s in special_tokens:
        if not isinstance(s, str) or not s:
            raise ValueError(f"special tokens must be non-empty strings, got {s!r}")
    if len(set(special_tokens)) != len(special_tokens):
        raise ValueError(f"duplicate special tokens: {describe_items(special_tokens)}")
    return special_tokens


class BPETokenizer(ByteLevelBPE):
    """Byte-level BPE: any Unicode text encodes, and decode(encode(text)) == text.

        tok = BPETokenizer.train(text, vocab_size=512)   # 256 bytes + 255 merges + <|endoftext|>
        ids = tok.encode("To be, or not to be")
        tok.decode(ids)
    """

    type_name = "bpe"

    def __init__(self, merges, special_tokens=(EOT,)):
        """`merges`: ranked list of (left id, right id); merge k creates token 256 + k."""
        id_to_bytes = {b: bytes([b]) for b in range(256)}
        triples = []
        for k, pair in enumerate(merges):
            new = 256 + k
            if len(pair) != 2 or not all(isinstance(i, int) and 0 <= i < new for i in pair):
                raise ValueError(f"merge {k} must be a pair of ids < {new}, got {pair!r}")
            a, b = pair
            id_to_bytes[new] = id_to_bytes[a] + id_to_bytes[b]
            triples.append((a, b, new))
        special_tokens = _check_special_tokens(special_tokens)
        first_special = 256 + len(triples)
        specials = {s: first_special + k for k, s in enumerate(special_tokens)}
        for s, i in specials.items():
            id_to_bytes[i] = s.encode("utf-8")
        super().__init__(id_to_bytes, triples, specials, byte_ids=range(256))

    @classmethod
    def train(cls, text, vocab_size, special_tokens=(EOT,)):
        """Learn vocab_size - 256 - len(special_tokens) merges from `text`.

        Each step merges the most frequent adjacent pair (ties: the smallest pair of ids, so
        training is deterministic). Pairs are counted once per distinct chunk, weighted by how
        often the chunk occurs, and only the chunks that contain the merged pair are updated.
        Every merge makes new bytes: a chunk is always segmented as encode() would segment it, and
        once some bytes became one token, encode() never splits them again.
        """
        check_text(text)
        special_tokens = _check_special_tokens(special_tokens)
        if not isinstance(vocab_size, int) or isinstance(vocab_size, bool):
            raise TypeError(f"vocab_size must be an int, got {type(vocab_size).__name__}")
        n_merges = vocab_size - 256 - len(special_tokens)
        if n_merges < 0:
            raise ValueError(
                f"vocab_size={vocab_size} is too small: byte-level BPE needs 256 byte tokens "
                f"+ {len(special_tokens)} special token(s), so vocab_size >= "
                f"{256 + len(special_tokens)}"
            )

        # Distinct chunks ("words") as lists of ids, with their frequencies.
        chunk_counts = Counter()
        for piece, is_special in SpecialSplitter(special_tokens).split(text):
            if not is_special:
                chunk_counts.update(pretokenize(piece))
        words = [list(chunk.encode("utf-8")) for chunk in chunk_counts]
        freqs = list(chunk_counts.values())

        pair_counts = defaultdict(int)  # pair -> occurrences in the whole text
        where = defaultdict(set)  # pair -> indices of the words that (may) contain it
        for w, word in enumerate(words):
            for pair in zip(word, word[1:]):
                pair_counts[pair] += freqs[w]
                where[pair].add(w)
        # Max-heap of (-count, pair); entries go stale when a count changes and are skipped.
        heap = [(-count, pair) for pair, count in pair_counts.items()]
        heapq.heapify(heap)

        merges = []
        while len(merges) < n_merges and heap:
            neg_count, pair = heapq.heappop(heap)
            if pair_counts.get(pair) != -neg_count:
                continue  # stale heap entry
            new = 256 + len(merges)
            merges.append(pair)

            changed = set()
            for w in where.pop(pair):
                word, f = words[w], freqs[w]
                new_word = merge_pair(word, pair, new)
                if len(new_word) == len(word):
                    continue  # the pair left this word in an earlier merge
                for p in zip(word, word[1:]):  # remove the old pairs of this word...
                    pair_counts[p] -= f
                    changed.add(p)
                for p in zip(new_word, new_word[1:]):  # ...and add the new ones
                    pair_counts[p] += f
                    where[p].add(w)
                    changed.add(p)
                words[w] = new_word
            for p in changed:
                if pair_counts[p] > 0:
                    heapq.heappush(heap, (-pair_counts[p], p))
                else:
                    del pair_counts[p]

        if len(merges) < n_merges:
            warnings.warn(
                f"the text only allows {len(merges)} merges, not {n_merges}: vocab_size is "
                f"{256 + len(merges) + len(special_tokens)} instead of {vocab_size}",
                stacklevel=2,
            )
        return cls(merges, special_tokens)

    @property
    def merge_list(self):
        """The merges as a ranked list of (left id, right id)."""
        return [pair for pair, _ in sorted(self.merges.items(), key=lambda kv: kv[1][0])]

    def to_dict(self):
        return {
            "type": self.type_name,
            "version": 1,
            "pattern": "gpt2",
            "merges": [list(pair) for pair in self.merge_list],
            "special_tokens": list(self.special_tokens),
        }

    @classmethod
    def from_dict(cls, d):
        check_dict(d, cls)
        if d.get("pattern", "gpt2") != "gpt2":
            raise ValueError(f"unknown pre-tokenizer pattern {d['pattern']!r} (only 'gpt2')")
        return cls([tuple(pair) for pair in d["merges"]], d.get("special_tokens", ()))

    def to_gpt2(self):
        """The same tokenizer as a GPT2Tokenizer (GPT-2 / Hugging Face vocab + merges)."""
        from .gpt2 import GPT2Tokenizer, token_to_text

        vocab = {token_to_text(self.id_to_bytes[i]): i for i in range(256 + len(self.merges))}
        if len(vocab) != 256 + len(self.merges):
            raise ValueError("two tokens have the same bytes; GPT-2's vocab.json cannot hold that")
        for s, i in self.special_tokens.items():
            if s in vocab:
                raise ValueError(f"special token {s!r} has the same text as token {vocab[s]}")
            vocab[s] = i
        merges = [
            (token_to_text(self.id_to_bytes[a]), token_to_text(self.id_to_bytes[b]))
            for a, b in self.merge_list
        ]
        return GPT2Tokenizer(vocab, merges, special_tokens=list(self.special_tokens))

    def save_gpt2_format(self, directory):
        """Write vocab.json + merges.txt, loadable by GPT2Tokenizer and Hugging Face's GPT-2."""
        self.to_gpt2().save_pretrained(directory)
