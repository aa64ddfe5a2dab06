"""Sample text from a trained GPT: nanoGPT's sample.py, streaming tokens as they are drawn.

    from numpy2gpt.gpt.sample import sample
    texts = sample("out-shakespeare-char", start="ROMEO:", num_samples=2, max_new_tokens=200)
    sample("out", start="FILE:prompt.txt", stream=sys.stdout)   # print while generating
    sample(init_from="path/to/gpt2", start="Hello")               # a Hugging Face GPT-2 folder

Each sample is the prompt followed by max_new_tokens generated tokens. The KV cache is on by
default; it gives the same tokens as recomputing the whole context, only faster.
"""

import math
from pathlib import Path

import numpy as np

import numpy2gpt

from . import data as datamod
from .checkpoint import CheckpointError, build_model, build_tokenizer, load_checkpoint, quiet

SEPARATOR = "---------------"


class PromptError(ValueError):
    """The prompt cannot be used with this model (unknown characters, empty, ...)."""


def read_prompt(start):
    """`start` as text: 'FILE:path' reads a UTF-8 file (like nanoGPT), anything else is the text."""
    if not isinstance(start, str):
        raise TypeError(f"start must be a str, got {type(start).__name__}")
    if not start.startswith("FILE:"):
        return start
    path = Path(start[5:]).expanduser()
    if not str(start[5:]).strip():
        raise PromptError("--start FILE: needs a path after 'FILE:', e.g. FILE:prompt.txt")
    if not path.exists():
        raise PromptError(f"--start {start}: prompt file not found: {path}")
    if not path.is_file():
        what = "a directory" if path.is_dir() else "not a regular file"
        raise PromptError(f"--start {start}: {path} is {what}; FILE: needs a text file")
    return datamod.read_text(path)  # a clear error for non-UTF-8 files


def encode_prompt(tokenizer, text, block_size, log=None):
    """Token ids of the prompt, with errors that say what is wrong with it.

    A prompt longer than block_size is kept whole (the sample starts with it), but the model
    only sees its last block_size tokens, as in nanoGPT; `log` is told so.
    """
    try:
        ids = tokenizer.encode(text)
    except ValueError as e:
        raise PromptError(f"the prompt cannot be encoded with the model's tokenizer: {e}") \
            from None
    if len(ids) == 0:
        raise PromptError("the prompt is empty: give at least one character (e.g. --start "
                          "'\\n', nanoGPT's default)")
    if len(ids) > block_size and log is not None:
        log(f"the prompt is {len(ids)} tokens, longer than block_size={block_size}: the model "
            f"sees its last {block_size} tokens")
    return ids


def _check_args(num_samples, max_new_tokens, temperature, top_k, top_p):
    """Refuse bad settings before any work, naming the setting (as its command-line flag)."""
    def integer(value):
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

    def finite(value):
        return (integer(value) or isinstance(value, (float, np.floating))) and \
            math.isfinite(value)

    for name, value in (("num_samples", num_samples), ("max_new_tokens", max_new_tokens)):
        if not integer(value) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not finite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be finite and >= 0 (0 = always the most likely "
                         f"token), got {temperature!r}")
    if top_k is not None and (not integer(top_k) or top_k < 1):
        raise ValueError(f"top_k must be an integer >= 1 (or None for no limit), got {top_k!r}")
    if top_p is not None and not (finite(top_p) and 0.0 < top_p <= 1.0):
        raise ValueError(f"top_p must be in (0, 1] (or None), got {top_p!r}")


class _StreamDecoder:
    """Turns token ids into text as they arrive.

    A byte-level BPE token can hold part of a UTF-8 character, so text is only emitted once it
    decodes without a trailing replacement character (U+FFFD); the rest waits for later tokens.
    """

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.ids = []
        self.emitted = 0  # characters already written

    def push(self, token_id):
        self.ids.append(token_id)
        text = self.tokenizer.decode(self.ids)
        if text.endswith("\ufffd"):
            return ""
        new, self.emitted = text[self.emitted:], len(text)
        return new

    def flush(self):
        text = self.tokenizer.decode(self.ids)
        new, self.emitted = text[self.emitted:], len(text)
        return new


def _token_id(step):
    """The single token id in what generate_stream yields (a (1, 1) tensor)."""
    return int(np.asarray(step).reshape(-1)[0])


def load_for_sampling(out_dir="out-shakespeare-char", init_from="resume", log=None):
    """(model, tokenizer) to sample from, as nanoGPT's sample.py picks them with init_from:

    'resume': the training checkpoint in out_dir;
    anything else: a pretrained GPT-2, a Hugging Face folder (config.json + model.safetensors,
        with the tokenizer's vocab.json + merges.txt) or a model name in the local Hugging Face
        cache, such as 'gpt2' (see gpt/pretrained.py).
    """
    if not isinstance(init_from, str) or not init_from.strip() or init_from == "scratch":
        raise ValueError(f"init_from must be 'resume' (the checkpoint in out_dir) or a "
                         f"pretrained GPT-2 folder or name, got {init_from!r}")
    if init_from == "resume":
        ckpt = load_checkpoint(out_dir)
        tokenizer = build_tokenizer(ckpt)
        model = build_model(ckpt, log=log)
        if log is not None:
            log(f"loaded {ckpt['path']} (iteration {ckpt['iter_num']}, best val loss "
                f"{ckpt.get('best_val_loss', float('nan')):.4f})")
        return model, tokenizer

    from .pretrained import load_pretrained, resolve

    try:
        folder = resolve(init_from)
    except FileNotFoundError as e:
        raise FileNotFoundError(f"init_from: {e}") from None
    with quiet(log):
        model, tokenizer = load_pretrained(folder)
    if tokenizer is None:
        raise CheckpointError(
            f"{folder} holds no tokenizer (GPT-2's vocab.json + merges.txt, or "
            "numpy2gpt_tokenizer.json), so a prompt cannot be turned into tokens")
    if log is not None:
        c = model.config
        log(f"loaded pretrained GPT-2 {folder} (n_layer {c.n_layer}, n_head {c.n_head}, n_embd "
            f"{c.n_embd}, vocab {c.vocab_size}, block_size {c.block_size})")
    return model, tokenizer


def sample(out_dir="out-shakespeare-char", start="\n", num_samples=10, max_new_tokens=500,
           temperature=0.8, top_k=200, top_p=None, seed=1337, use_cache=True, stream=None,
           log=None, init_from="resume"):
    """Generate `num_samples` texts from a model; return them as a list.

    The model is the checkpoint in out_dir (init_from='resume'), or a pretrained GPT-2 folder
    or cached name given as init_from (see load_for_sampling).
    start: the prompt, or 'FILE:path' to read it from a file.
    stream: a text file (e.g. sys.stdout) to write tokens to as they are generated, with
        nanoGPT's '---------------' line after each sample.
    log: where loading messages go (None: nowhere).
    """
    _check_args(num_samples, max_new_tokens, temperature, top_k, top_p)
    prompt = read_prompt(start)  # a bad --start fails before the checkpoint is loaded
    model, tokenizer = load_for_sampling(out_dir, init_from, log)
    model.eval()
    ids = encode_prompt(tokenizer, prompt, model.config.block_size, log)

    numpy2gpt.manual_seed(seed)
    x = numpy2gpt.tensor(np.array([ids], dtype=np.int64))
    texts = []
    for _ in range(num_samples):
        decoder = _StreamDecoder(tokenizer)
        prompt_text = tokenizer.decode(ids)
        if stream is not None:
            stream.write(prompt_text)
            stream.flush()
        for step in model.generate_stream(x, max_new_tokens, temperature=temperature,
                                          top_k=top_k, top_p=top_p, use_cache=use_cache):
            piece = decoder.push(_token_id(step))
            if stream is not None and piece:
                stream.write(piece)
                stream.flush()
        rest = decoder.flush()
        if stream is not None:
            stream.write(rest + "\n" + SEPARATOR + "\n")
            stream.flush()
        texts.append(prompt_text + tokenizer.decode(decoder.ids))
    return texts


__all__ = ["sample", "load_for_sampling", "read_prompt", "encode_prompt", "PromptError",
           "SEPARATOR"]
