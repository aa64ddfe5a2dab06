r"""GPT-2's byte-level building blocks, stdlib only: the pre-tokenizer regex, bytes_to_unicode.

GPT-2 first splits text into chunks ("words") with a regex, then runs BPE inside each chunk, so no
token ever spans a word boundary:

    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+

The stdlib `re` has no \p{L} (letters) or \p{N} (numbers), so we build those character classes
from `unicodedata` general categories (L* and N*). Its \s also differs from the one Hugging Face
`tokenizers` uses (Oniguruma): Python counts U+001C..U+001F as whitespace, Oniguruma does not, so
\s is spelled out as well. With these classes the split is identical to Hugging Face's for every
character that this Python's Unicode database (`unicodedata.unidata_version`) knows; characters
assigned only by a later Unicode version look unassigned here (neither letter nor number).
"""

import functools
import re
import sys
import unicodedata

# The contractions and the optional leading space are literal text; only the classes are generated.
_GPT2_TEMPLATE = (
    r"'s|'t|'re|'ve|'m|'ll|'d"
    r"| ?[{L}]+| ?[{N}]+| ?[^{S}{L}{N}]+"
    r"|[{S}]+(?![^{S}])|[{S}]+"  # \s+(?!\S): a whitespace run, minus the space before a word
)

# Python's str.isspace() also accepts these four "information separator" controls; Oniguruma's \s,
# which Hugging Face uses, does not.
_NOT_SPACE_IN_ONIGURUMA = frozenset(chr(c) for c in range(0x1C, 0x20))


def _class_body(codepoints):
    """Sorted code points -> a character-class body of ranges, e.g. '\\U00000041-\\U0000005a'."""
    parts, start, prev = [], None, None
    for c in codepoints:
        if start is None:
            start = prev = c
        elif c == prev + 1:
            prev = c
        else:
            parts.append((start, prev))
            start = prev = c
    if start is not None:
        parts.append((start, prev))
    # \UXXXXXXXX escapes keep the pattern plain ASCII and never clash with regex syntax.
    return "".join(
        f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in parts
    )


@functools.cache
def unicode_classes():
    """{'L': letters, 'N': numbers, 'S': whitespace} as class bodies; built once, then cached."""
    letters, numbers, spaces = [], [], []
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        major = unicodedata.category(ch)[0]
        if major == "L":
            letters.append(cp)
        elif major == "N":
            numbers.append(cp)
        elif ch.isspace() and ch not in _NOT_SPACE_IN_ONIGURUMA:
            spaces.append(cp)
    return {"L": _class_body(letters), "N": _class_body(numbers), "S": _class_body(spaces)}


@functools.cache
def gpt2_pattern():
    """The compiled GPT-2 pre-tokenizer regex (stdlib `re`, exact \\p{L}/\\p{N}/\\s classes)."""
    return re.compile(_GPT2_TEMPLATE.format(**unicode_classes()))


def pretokenize(text):
    """Split `text` into GPT-2 chunks; they concatenate back to `text` (every char is matched)."""
    return gpt2_pattern().findall(text)


@functools.cache
def bytes_to_unicode():
    """GPT-2's reversible map from the 256 byte values to printable unicode characters.

    vocab.json / merges.txt store tokens as text, so each byte needs a visible, non-whitespace
    character: printable Latin-1 bytes map to themselves, the other 68 (controls, space, ...) to
    chr(256), chr(257), ... in order. That is why a space shows up as 'Ġ' (chr(288)) in GPT-2 files.
    """
    printable = (
        set(range(ord("!"), ord("~") + 1))
        | set(range(ord("¡"), ord("¬") + 1))
        | set(range(ord("®"), ord("ÿ") + 1))
    )
    mapping, extra = {}, 0
    for b in range(256):
        if b in printable:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


@functools.cache
def unicode_to_bytes():
    """The inverse of bytes_to_unicode(): one character -> one byte value."""
    return {ch: b for b, ch in bytes_to_unicode().items()}
