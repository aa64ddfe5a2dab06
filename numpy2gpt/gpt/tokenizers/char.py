"""CharTokenizer: one id per character, like nanoGPT's shakespeare_char."""

from .base import Tokenizer, as_id_list, check_dict, check_text, describe_items, unknown_ids_error


class CharTokenizer(Tokenizer):
    """Ids are positions in a list of unique characters (sorted when built from a corpus).

        tok = CharTokenizer.from_text("hello")   # vocab: 'e', 'h', 'l', 'o'
        tok.encode("hole")                       # [1, 3, 2, 0]
        tok.decode([1, 0, 2, 2, 3])              # 'hello'
    """

    type_name = "char"

    def __init__(self, chars):
        chars = list(chars)
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"vocabulary entries must be single characters, got {c!r}")
        if len(set(chars)) != len(chars):
            dups = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"vocabulary has duplicate characters: {describe_items(dups)}")
        self.itos = dict(enumerate(chars))  # id -> char
        self.stoi = {c: i for i, c in enumerate(chars)}  # char -> id

    @classmethod
    def from_text(cls, text):
        """The vocabulary is every distinct character of `text`, sorted by code point."""
        check_text(text)
        if not text:
            raise ValueError("cannot build a character vocabulary from empty text")
        return cls(sorted(set(text)))

    @property
    def vocab_size(self):
        return len(self.itos)

    def encode(self, text):
        check_text(text)
        try:
            return [self.stoi[c] for c in text]
        except KeyError:
            unknown = sorted(set(text) - self.stoi.keys())
            msg = f"characters not in the vocabulary: {describe_items(unknown)}"
            raise ValueError(msg) from None

    def decode(self, ids):
        ids = as_id_list(ids)
        try:
            return "".join(self.itos[i] for i in ids)
        except KeyError:
            bad = [i for i in ids if i not in self.itos]
            raise unknown_ids_error(bad, self.vocab_size) from None

    def to_dict(self):
        return {"type": self.type_name, "version": 1, "chars": list(self.itos.values())}

    def to_hf_tokenizer_json(self):
        """This vocabulary as a Hugging Face tokenizer.json (what `tokenizers` and
        transformers' AutoTokenizer load), encoding text exactly as encode() does: a BPE model
        with no merges splits text into characters and looks each one up. (A character outside
        the vocabulary is dropped there, where encode() raises.)"""
        return {
            "version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
            "normalizer": None, "pre_tokenizer": None, "post_processor": None,
            "decoder": {"type": "Fuse"},  # decode joins the characters, with no spaces between
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": dict(self.stoi), "merges": []},
        }

    @classmethod
    def from_dict(cls, d):
        check_dict(d, cls)
        return cls(d["chars"])
