"""Training checkpoints: everything needed to continue a run exactly, in one safetensors file.

A checkpoint is a dict saved with `numpy2gpt.save` (arrays in safetensors, the rest as JSON in its
header; nothing is pickled) at OUT_DIR/ckpt.safetensors. nanoGPT's keys, plus what an *exact*
resume needs:

    model          the model's state dict (nanoGPT's parameter names)
    optimizer      AdamW's state dict (moments and step counts)
    model_args     the GPTConfig fields, to rebuild the model
    config         the TrainConfig of the run (a plain dict)
    tokenizer      the tokenizer as a JSON dict (so `sample` needs nothing else)
    iter_num       iterations done: the run continues with iteration `iter_num`
    best_val_loss  the best validation loss seen so far
    last_eval_iter the iteration whose evaluation already ran (not repeated on resume)
    rng            {"numpy2gpt": global generator state (dropout), "batch": batch sampler state}

`numpy2gpt.save` writes atomically (temp file + rename), so a crash while saving leaves the
previous checkpoint intact.

export_pretrained writes a checkpoint's model and tokenizer as a Hugging Face GPT-2 folder
(`numpy2gpt export`), which transformers and `--init_from PATH` load.
"""

import contextlib
import io
import os
from pathlib import Path

import numpy as np

import numpy2gpt
from numpy2gpt.nn.utils import skip_init

from .tokenizers import load_tokenizer

CKPT_NAME = "ckpt.safetensors"
FORMAT = "numpy2gpt-gpt-checkpoint"
VERSION = 1
REQUIRED_KEYS = ("model", "model_args", "tokenizer", "iter_num")


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, corrupt or does not fit the request."""


def checkpoint_path(out_dir):
    """OUT_DIR/ckpt.safetensors (a path to a file is returned as it is)."""
    p = Path(out_dir).expanduser()
    return p if p.suffix == ".safetensors" else p / CKPT_NAME


def save_checkpoint(out_dir, ckpt):
    """Write `ckpt` (a dict with the keys above) atomically to OUT_DIR/ckpt.safetensors."""
    path = checkpoint_path(out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    numpy2gpt.save({"format": FORMAT, "version": VERSION, **ckpt}, path)
    return path


def load_checkpoint(out_dir):
    """Read and check a checkpoint; CheckpointError (never a deep traceback) when it is bad."""
    path = checkpoint_path(out_dir)
    if not path.is_file():
        where = path.parent
        hint = (f"train one with `numpy2gpt train --out_dir {where}`" if where.is_dir() else
                f"{where} is a file; out_dir is the directory that holds {CKPT_NAME}"
                if where.exists() else f"the directory {where} does not exist")
        raise CheckpointError(f"no checkpoint found at {path}: {hint}")
    try:
        ckpt = numpy2gpt.load(path)
    except (RuntimeError, ValueError, OSError, KeyError, TypeError) as e:
        raise CheckpointError(f"checkpoint {path} is corrupt or unreadable: {e}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a safetensors file but not a numpy2gpt training "
                              "checkpoint (written by `numpy2gpt train`)")
    if ckpt.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {ckpt.get('version')!r}; this "
                              f"numpy2gpt reads version {VERSION}")
    missing = [k for k in REQUIRED_KEYS if k not in ckpt]
    if missing:
        raise CheckpointError(f"checkpoint {path} is incomplete: missing {', '.join(missing)}")
    name = first_non_finite({"model": ckpt["model"], "optimizer": ckpt.get("optimizer")})
    if name is not None:
        raise CheckpointError(
            f"checkpoint {path} holds non-finite values (NaN or inf) in {name}: a model "
            "cannot be sampled from or trained on from there (the run diverged or the file "
            "was damaged); use an earlier copy or train again")
    ckpt["path"] = str(path)
    return ckpt


def first_non_finite(tree, name=""):
    """The dotted name of the first floating-point tensor in nested dicts and lists (a state
    dict, say) that holds a NaN or an infinity; None when all are finite."""
    if isinstance(tree, dict):
        items = tree.items()
    elif isinstance(tree, list | tuple):
        items = enumerate(tree)
    else:
        array = tree._data if isinstance(tree, numpy2gpt.Tensor) else tree
        bad = isinstance(array, np.ndarray) and array.dtype.kind == "f" and \
            not np.isfinite(array).all()
        return name if bad else None
    for key, value in items:
        found = first_non_finite(value, f"{name}.{key}" if name else str(key))
        if found is not None:
            return found
    return None


def build_model(ckpt, log=None):
    """The GPT of a checkpoint, with its weights loaded (in train mode, like a fresh model)."""
    from .model import GPT, GPTConfig  # the model module is heavy; import when needed

    try:
        model_args = dict(ckpt["model_args"])
        with quiet(log):
            model = skip_init(GPT, GPTConfig(**model_args))  # the weights are loaded below
        state = ckpt["model"]
        if any(t.dtype == np.float64 for t in state.values()):
            with np.errstate(invalid="ignore"):  # casting the not-yet-loaded arbitrary values
                model.double()  # a float64 run stays float64
        model.load_state_dict(state)
    except (TypeError, ValueError, KeyError, RuntimeError) as e:
        raise CheckpointError(f"checkpoint {ckpt.get('path', '')} does not fit a GPT: "
                              f"{type(e).__name__}: {e}") from None
    return model


def build_tokenizer(ckpt):
    """The tokenizer stored in a checkpoint."""
    where = f"the tokenizer record of checkpoint {ckpt.get('path', '')}"
    record = ckpt.get("tokenizer")
    if not isinstance(record, dict):
        raise CheckpointError(f"{where} is a {type(record).__name__}, not a tokenizer dict")
    try:
        return load_tokenizer(record, where=where)
    except ValueError as e:
        raise CheckpointError(str(e)) from None


def export_pretrained(out_dir, path, overwrite=False, log=None):
    """Write the checkpoint in out_dir as a Hugging Face GPT-2 folder at `path`; return the path.

    The folder holds config.json + model.safetensors (transformers' GPT2LMHeadModel loads it) and
    the tokenizer: GPT-2's vocab.json + merges.txt for BPE tokenizers, numpy2gpt_tokenizer.json
    for a char tokenizer (which GPT-2's files cannot hold). An existing non-empty folder is only
    written into with overwrite=True.
    """
    from .pretrained import save_pretrained

    ckpt = load_checkpoint(out_dir)
    dest = Path(path).expanduser()
    if dest.exists() and not dest.is_dir():
        raise CheckpointError(f"cannot export to {dest}: it is a file (a Hugging Face "
                              "checkpoint is a folder)")
    if dest.is_dir() and any(dest.iterdir()) and not overwrite:
        raise CheckpointError(f"cannot export to {dest}: the folder is not empty (pass "
                              "--overwrite to write into it anyway)")
    model = build_model(ckpt, log=log)
    tokenizer = build_tokenizer(ckpt)
    try:
        save_pretrained(model, dest, tokenizer=tokenizer)
    except ValueError as e:
        raise CheckpointError(f"cannot export {ckpt['path']} as GPT-2: {e}") from None
    if log is not None:
        log(f"exported {ckpt['path']} (iteration {ckpt['iter_num']}) to {dest}")
    return dest


@contextlib.contextmanager
def quiet(log=None):
    """Capture what the model prints while it is built (parameter counts) and pass it to `log`.

    Keeps stdout clean for `numpy2gpt sample`, whose stdout is the generated text.
    """
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        yield
    if log is not None:
        for line in buf.getvalue().splitlines():
            log(line)


def ensure_writable(out_dir):
    """Create out_dir if needed and prove a file can be written there (before any training)."""
    out_dir = Path(out_dir).expanduser()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".write-test-{os.getpid()}"
        with open(probe, "wb") as f:
            f.write(b"ok")
        probe.unlink()
    except OSError as e:
        raise CheckpointError(f"out_dir {out_dir} is not writable: {e.strerror or e}") from None
    return out_dir
