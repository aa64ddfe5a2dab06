"""Train a GPT: nanoGPT's train.py on numpy2gpt, with exact resume and clean Ctrl-C.

    from numpy2gpt.gpt.train import train
    result = train(max_iters=200, out_dir="out")        # or train(TrainConfig(...)), train({...})
    result.best_val_loss, result.train_losses[199]

The loop, one iteration `iter_num` at a time (the state at its start is what a checkpoint holds):
  1. set the learning rate (linear warmup, then cosine decay to min_lr);
  2. every eval_interval iterations and at the end: estimate train/val loss on eval_iters batches
     (model.eval(), no_grad), log it, plot it, and save a checkpoint if val improved (or always);
  3. gradient_accumulation_steps micro-batches: forward, loss / steps, backward;
  4. clip the gradient norm, AdamW step, zero the gradients; log loss, lr, ms/iter, tokens/s, MFU.
It runs exactly max_iters steps (nanoGPT runs one more after its last eval). Everything random
comes from numpy2gpt's generator seeded with `seed`, in nanoGPT's order: the initial weights, then
each iteration's first batch (nanoGPT prefetches it during the previous step, so it is drawn
before that iteration's eval), the eval batches, and the further micro-batches, each right after
the forward of the one before. numpy2gpt's generator is PyTorch's (numpy2gpt/random.py), so the
default run starts from nanoGPT's weights and sees nanoGPT's batches. A checkpoint holds the
generator's state and the start positions of a batch already drawn, so a run stopped and resumed
gives the same losses, bit for bit, as one that never stopped.

Started by `mpiexec -n N`, N processes run this loop together (data parallel, see ranks.py):
each takes its share of every batch the one-process run draws, DistributedDataParallel averages
their gradients, evaluations are split and summed, and rank 0 alone prints and writes.

init_from picks the starting weights: 'scratch' (random), 'resume' (out_dir's checkpoint) or a
pretrained GPT-2 to fine-tune (a Hugging Face folder, or a cached name such as 'gpt2'). As in
nanoGPT, a pretrained model brings its own n_layer, n_head, n_embd, vocabulary and bias; dropout
may be set, and block_size crops the position table when it is smaller than the checkpoint's (by
default the checkpoint's is kept). The dataset is tokenized with the checkpoint's tokenizer.
nanoGPT's finetune_shakespeare config uses learning_rate 3e-5 and decay_lr false; the defaults
here are for training from scratch.
"""

import contextlib
import dataclasses
import difflib
import hashlib
import json
import math
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

import numpy2gpt
from numpy2gpt.nn.utils import clip_grad_norm_
from numpy2gpt.optim.lr_scheduler import warmup_cosine_lr
from numpy2gpt.profiler import record_function
from numpy2gpt.random import Generator, use_rng
from numpy2gpt.utils import release_malloc, tune_malloc

from . import data as datamod
from .checkpoint import (
    CheckpointError,
    build_tokenizer,
    checkpoint_path,
    ensure_writable,
    first_non_finite,
    load_checkpoint,
    quiet,
    save_checkpoint,
)
from .config import ConfigError, TrainConfig, check_out_dir, no_effect_notes
from .mfu import MFUMeter
from .ranks import Ranks, check_split, launched
from .tokenizers import load_tokenizer

MODEL_KEYS = ("n_layer", "n_head", "n_embd", "bias")  # the model's shape, from model_args
# every setting a resumed run cannot change, and what fixes it
FIXED_ON_RESUME = {
    **{key: "the model's shape" for key in MODEL_KEYS},
    "tokenizer": "the tokenizer (the data is tokenized with the checkpoint's)",
    "vocab_size": "the tokenizer (the data is tokenized with the checkpoint's)",
    "dtype": "the dtype of the weights and AdamW's moments",
    "seed": "the random state (it continues from the checkpoint's)",
}
METRICS_NAME = "metrics.jsonl"
PLOT_NAME = "loss.png"
LOCK_NAME = "train.lock"


class TrainingDiverged(RuntimeError):
    """The loss (or a weight) became NaN or infinite: the run stops and saves nothing."""


@dataclass
class TrainResult:
    """What `train` returns (the model and tokenizer are the trained ones, in memory)."""

    out_dir: str
    iter_num: int  # iterations done
    best_val_loss: float
    train_losses: dict = field(default_factory=dict)  # iter -> mean loss of that step's batches
    evals: list = field(default_factory=list)  # {"iter", "train_loss", "val_loss"} per eval
    interrupted: bool = False  # stopped by Ctrl-C (a checkpoint was saved)
    checkpoint: str | None = None  # path of the last checkpoint written by this run
    wall_s: float = 0.0
    model: object = None
    tokenizer: object = None
    config: TrainConfig = None


# ---------------------------------------------------------------------- configuration
def make_config(config=None, **overrides):
    """A TrainConfig from None / a TrainConfig / a dict / a .toml or .json path, plus overrides."""
    from .config import load_config_file

    if config is None:
        config = TrainConfig()
    elif isinstance(config, (str, os.PathLike)):
        config = TrainConfig.from_dict(load_config_file(config), where=f"config file {config}")
    elif isinstance(config, dict):
        config = TrainConfig.from_dict(config)
    elif not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, dict or path, got {type(config).__name__}")
    config = TrainConfig.from_dict(overrides, base=config, where="train() arguments")
    # keys given on purpose: recorded by the parsers, or simply different from the defaults
    defaults = TrainConfig()
    config._explicit |= {k for k in TrainConfig.keys()
                         if getattr(config, k) != getattr(defaults, k)}
    return config


def _from_pretrained(config, log):
    """(model, tokenizer, folder) of the pretrained GPT-2 named by config.init_from.

    nanoGPT's init_from='gpt2*': the model's shape (n_layer, n_head, n_embd, bias) and its
    vocabulary come from the checkpoint and are written into `config`; a flag that asks for a
    different shape is an error. block_size is the checkpoint's unless a smaller one was asked
    for (train() then crops the model). The tokenizer must be in the folder: the dataset is
    tokenized with it.
    """
    from .pretrained import load_pretrained, resolve

    given = [k for k in ("tokenizer", "vocab_size") if k in config.explicit]
    if given:
        raise ConfigError(
            f"{', '.join(given)} cannot be set with init_from={config.init_from!r}: the dataset "
            "is tokenized with the pretrained model's own tokenizer (drop the setting)")
    close = difflib.get_close_matches(config.init_from, ["scratch", "resume"], n=1, cutoff=0.7)
    if close and not os.path.exists(config.init_from):
        raise ConfigError(f"init_from {config.init_from!r} is neither 'scratch', 'resume' nor a "
                          f"pretrained GPT-2 folder: did you mean {close[0]!r}?")
    try:
        folder = resolve(config.init_from)
    except FileNotFoundError as e:
        raise FileNotFoundError(f"init_from: {e}") from None
    dtype = numpy2gpt.float64 if config.dtype == "float64" else numpy2gpt.float32
    with quiet(log):
        model, tok = load_pretrained(folder, dtype=dtype, dropout=config.dropout)
    if tok is None:
        raise ConfigError(
            f"{folder} holds no tokenizer (GPT-2's vocab.json + merges.txt, or "
            "numpy2gpt_tokenizer.json): fine-tuning tokenizes the dataset with the pretrained "
            "model's tokenizer, so it must come with the checkpoint")
    mc = model.config
    if tok.vocab_size > mc.vocab_size:
        raise ConfigError(f"{folder}: the tokenizer has {tok.vocab_size} tokens but the model "
                          f"only {mc.vocab_size} (vocab_size in config.json)")
    for key in ("n_layer", "n_head", "n_embd", "bias"):
        if key in config.explicit and getattr(config, key) != getattr(mc, key):
            raise ConfigError(
                f"{key}={getattr(config, key)!r} does not match the pretrained model's {key}="
                f"{getattr(mc, key)!r}: the model's shape comes from {folder} (drop the flag)")
        setattr(config, key, getattr(mc, key))
    if "block_size" not in config.explicit:
        config.block_size = mc.block_size
    elif config.block_size > mc.block_size:
        raise ConfigError(
            f"block_size overflow: the pretrained model has {mc.block_size} positions, so "
            f"block_size {config.block_size} cannot be used with it (use <= {mc.block_size}; "
            "a smaller one crops the model)")
    log(f"initializing from pretrained GPT-2 {folder}: n_layer {mc.n_layer}, n_head "
        f"{mc.n_head}, n_embd {mc.n_embd}, vocab {mc.vocab_size}, block_size {config.block_size}"
        f" (of {mc.block_size}), dropout {mc.dropout}")
    return model, tok, folder


def _resume_config(config, ckpt):
    """The checkpoint's config with the keys the user set on purpose applied on top.

    A key of FIXED_ON_RESUME given with another value than the checkpoint's is an error.
    """
    saved = {k: v for k, v in (ckpt.get("config") or {}).items() if k in TrainConfig.keys()}
    try:
        merged = TrainConfig.from_dict(saved, where=f"checkpoint {ckpt['path']} config")
    except ConfigError as e:
        raise CheckpointError(f"checkpoint {ckpt['path']} holds an impossible config: {e} "
                              "(was it edited by hand?)") from None
    args = ckpt["model_args"]
    explicit = config.explicit
    kept = {key: args[key] if key in MODEL_KEYS else getattr(merged, key)
            for key in FIXED_ON_RESUME}
    wrong = [f"{key}={getattr(config, key)!r} does not match the checkpoint's {key}="
             f"{kept[key]!r}: {FIXED_ON_RESUME[key]} is fixed when resuming"
             for key in FIXED_ON_RESUME if key in explicit and getattr(config, key) != kept[key]]
    if wrong:
        raise CheckpointError("; ".join(wrong) + " (drop the flag)")
    for key in explicit:
        setattr(merged, key, getattr(config, key))
    for key, value in kept.items():
        setattr(merged, key, value)
    merged.out_dir, merged.init_from = config.out_dir, "resume"
    merged._explicit = set(explicit)
    if merged.block_size > args["block_size"]:
        raise CheckpointError(
            f"block_size overflow: the checkpoint's model has {args['block_size']} positions, "
            f"so block_size {merged.block_size} cannot be used with it (use <= "
            f"{args['block_size']}; a smaller one crops the model)")
    merged.validate()
    return merged


def check_training_state(ckpt):
    """CheckpointError for training state that no run writes (e.g. a hand-edited checkpoint):
    resuming from it would train with a wrong learning rate or fail deep inside the loop."""
    def is_int(v):
        return isinstance(v, int) and not isinstance(v, bool)

    iter_num, best = ckpt["iter_num"], ckpt.get("best_val_loss", math.inf)
    last_eval = ckpt.get("last_eval_iter")
    next_batch = (ckpt.get("rng") or {}).get("next_batch")
    problems = []
    if not is_int(iter_num) or iter_num < 0:
        problems.append(f"iter_num {iter_num!r} (expected an integer >= 0)")
    elif last_eval is not None and (not is_int(last_eval) or not 0 <= last_eval <= iter_num):
        problems.append(f"last_eval_iter {last_eval!r} (expected none or an iteration in "
                        f"[0, {iter_num}])")
    if not isinstance(best, (int, float)) or isinstance(best, bool) or not best >= 0:
        problems.append(f"best_val_loss {best!r} (expected a loss >= 0, or inf)")
    if next_batch is not None and not (isinstance(next_batch, list) and all(
            is_int(i) and i >= 0 for i in next_batch)):
        problems.append(f"rng.next_batch {next_batch!r} (expected a list of start positions)")
    if problems:
        raise CheckpointError(f"checkpoint {ckpt['path']} holds impossible training state: "
                              + "; ".join(problems) + " (was it edited by hand?)")


# ---------------------------------------------------------------------- data
def prepare_dataset(config, data_dir, tokenizer=None, reuse=False, log=print):
    """Make sure data_dir holds config's text tokenized (train.bin, val.bin, meta.json).

    tokenizer: a fixed tokenizer (on resume, the checkpoint's) instead of training
        config.tokenizer on the text.
    reuse: with a fixed tokenizer, a dataset already made with it is used without reading the
        text again (the original file may be gone); not when $NUMPY2GPT_DATA names the text.
    A prepared dataset of the same text and tokenizer is always reused. A config.dataset that is
    a folder made by `numpy2gpt prepare` (like nanoGPT's data/<dataset>) is used as it is,
    instead of data_dir. Returns (meta, tokenizer, train tokens, val tokens).
    """
    data_dir = Path(data_dir)
    fixed = tokenizer.to_dict() if tokenizer is not None else None
    resolved = False  # resolve_text has announced the text (and the fallback, if it was that)
    if config.data is None and config.dataset not in datamod.DATASETS:
        data_dir = Path(config.dataset).expanduser()
        meta = _prepared_folder(data_dir, config, fixed)
        log(f"data: using the dataset prepared in {data_dir} ({meta.get('source', '?')})")
    else:
        meta = _read_meta(data_dir)
        env_text = config.data is None and os.environ.get("NUMPY2GPT_DATA")
        if reuse and not env_text and fixed is not None and meta is not None \
                and meta.get("tokenizer") == fixed:
            log(f"data: using the dataset already prepared in {data_dir}")
        else:
            text, source = datamod.resolve_text(config.data, config.dataset, log=log)
            resolved = True
            sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
            if meta is not None and _same_dataset(meta, sha, config, fixed):
                log(f"data: using the dataset already prepared in {data_dir}")
            else:
                vocab_size = None if tokenizer is not None or config.tokenizer == "char" \
                    else config.vocab_size
                meta = datamod.prepare(text, data_dir, tokenizer=tokenizer or config.tokenizer,
                                       vocab_size=vocab_size, source=source, log=log)
    if not resolved and meta.get("text_sha256") == datamod.GUT_TEXT_SHA256:
        log(datamod.fallback_notice(meta["text_chars"], meta["text_sha256"]))
    tok = load_tokenizer(meta["tokenizer"], where=f"the tokenizer in {data_dir / 'meta.json'}")
    splits = {s: datamod.load_split(data_dir, s) for s in datamod.SPLITS}
    for split, tokens in splits.items():
        if len(tokens) < config.block_size + 1:
            raise ValueError(
                f"the {split} split has only {len(tokens)} tokens, but block_size="
                f"{config.block_size} needs at least {config.block_size + 1}: use more text or "
                f"a smaller --block_size")
    return meta, tok, splits["train"], splits["val"]


def _prepared_folder(folder, config, fixed_tokenizer):
    """The meta.json of a dataset folder given as config.dataset, checked against the config."""
    if not (folder / "meta.json").is_file():
        raise ConfigError(
            f"dataset {config.dataset!r} is neither a built-in dataset "
            f"({', '.join(datamod.DATASETS)}) nor a folder made by `numpy2gpt prepare` (with "
            f"train.bin, val.bin and meta.json); for a text file use --data")
    try:
        meta = datamod.load_meta(folder)
        tokenizer = meta["tokenizer"]
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise ConfigError(f"{folder / 'meta.json'} is not a dataset's meta.json "
                          f"({type(e).__name__}: {e}); make it again with `numpy2gpt prepare`"
                          ) from None
    given = [k for k in ("tokenizer", "vocab_size") if k in config.explicit]
    if given:
        raise ConfigError(f"{', '.join(given)} cannot be set with dataset {config.dataset!r}: "
                          "the folder was tokenized by `numpy2gpt prepare` (drop the setting, "
                          "or prepare it again with another --tokenizer)")
    if fixed_tokenizer is not None and tokenizer != fixed_tokenizer:
        raise ConfigError(f"the dataset in {folder} was tokenized with another tokenizer than "
                          "the model's: prepare it with the model's (numpy2gpt prepare FILE "
                          "--tokenizer TOKENIZER_JSON_OR_GPT2_FOLDER)")
    return meta


def _read_meta(data_dir):
    """data_dir/meta.json as a dict, or None when there is none (or it is unreadable)."""
    if not (data_dir / "meta.json").is_file():
        return None
    try:
        meta = datamod.load_meta(data_dir)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and isinstance(meta.get("tokenizer"), dict) else None


def _same_dataset(meta, text_sha256, config, fixed_tokenizer):
    """Was this dataset made from this text with the tokenizer we want?"""
    if meta.get("text_sha256") != text_sha256:
        return False
    if fixed_tokenizer is not None:
        return meta["tokenizer"] == fixed_tokenizer
    return meta["tokenizer"].get("type") == config.tokenizer and (
        config.vocab_size is None or meta.get("vocab_size") == config.vocab_size)


def draw_batch(split_tokens, config, rng=None):
    """The start positions of one random batch (what a checkpoint keeps of a drawn batch)."""
    return datamod.sample_starts(len(split_tokens), config.batch_size, config.block_size, rng)


def get_batch(split_tokens, config, rng=None, starts=None):
    """One (x, y) batch of int64 tensors (B, T): the one at `starts`, or a new draw with `rng`."""
    if starts is None:
        starts = draw_batch(split_tokens, config, rng)
    x, y = datamod.batch_at(split_tokens, starts, config.block_size)
    return numpy2gpt.from_numpy(x), numpy2gpt.from_numpy(y)


def estimate_loss(model, splits, config, rng=None, ranks=None):
    """Mean loss over eval_iters batches of each split, in eval mode and without a graph.

    With several `ranks`, every rank draws each whole batch, evaluates its rows and weights
    their mean loss by its share of the batch: the sum over the ranks is the batch's loss.
    """
    ranks = ranks or Ranks()
    out = {}
    model.eval()
    with numpy2gpt.no_grad():
        for split, tokens in splits.items():
            losses = np.zeros(config.eval_iters)
            for k in range(config.eval_iters):
                starts = draw_batch(tokens, config, rng)
                lo, hi = ranks.rows(len(starts))
                if hi > lo:
                    x, y = get_batch(tokens, config, starts=starts[lo:hi])
                    _, loss = model(x, y)
                    losses[k] = loss.item() * ((hi - lo) / len(starts))
            out[split] = float(ranks.sum(losses).mean())
    model.train()
    return out


def train_step(model, optimizer, train_data, config, rng=None, first=None, ranks=None,
               dropout_rng=None):
    """One optimisation step; returns the mean loss of its micro-batches (a float).

    gradient_accumulation_steps micro-batches each run forward and backward (their gradients
    add up in .grad), then the gradient norm is clipped, AdamW steps and the gradients are reset.
    `first` holds the start positions of the first micro-batch if the caller drew it already;
    each further one is drawn right after the previous forward, where nanoGPT draws it.
    With several `ranks` (model is then the DistributedDataParallel one), see _ranks_backward.
    """
    if ranks is not None and ranks.size > 1:
        loss = _ranks_backward(model, train_data, config, rng, first, ranks, dropout_rng)
        _update(model, optimizer, config)
        return loss
    steps = config.gradient_accumulation_steps
    loss_sum = 0.0
    x, y = get_batch(train_data, config, rng, starts=first)
    for micro in range(steps):
        _, loss = model(x, y)
        if micro + 1 < steps:
            x, y = get_batch(train_data, config, rng)
        loss_sum += loss.item()
        # scaled, so that the summed gradient is the gradient of the mean over micro-batches
        (loss / steps).backward()
    _update(model, optimizer, config)
    return loss_sum / steps


def _ranks_backward(model, train_data, config, rng, first, ranks, dropout_rng):
    """This rank's forward + backward of its pieces of the global batch (see ranks.py); returns
    the global batch's mean loss, the same on every rank.

    Every rank draws all the micro-batches, as one process does, and keeps its rows. A piece of
    r rows of the share of S sequences is weighted r / S: the rank's gradient is then the mean
    over its share, and DDP's average over the equal shares is the global batch's mean. Only
    the last backward all-reduces (the others run under no_sync and just accumulate).
    Dropout masks come from `dropout_rng`, the rank's own generator: the shared one must draw
    exactly the batches one process draws.
    """
    b, steps = config.batch_size, config.gradient_accumulation_steps
    batches = [first if first is not None else draw_batch(train_data, config, rng)]
    batches += [draw_batch(train_data, config, rng) for _ in range(steps - 1)]
    pieces = ranks.pieces(b, steps)
    share = b * steps // ranks.size
    loss_sum = 0.0
    for i, (m, lo, hi) in enumerate(pieces):
        x, y = get_batch(train_data, config, starts=batches[m][lo:hi])
        last = i == len(pieces) - 1
        with (contextlib.nullcontext() if last else model.no_sync()), use_rng(dropout_rng):
            _, loss = model(x, y)
            (loss / (share / (hi - lo))).backward()
        loss_sum += loss.item() * ((hi - lo) / b)  # the piece's part of a micro-batch's loss
    return float(ranks.sum([loss_sum])[0]) / steps


def _update(model, optimizer, config):
    """Clip the gradient norm, take the AdamW step, reset the gradients."""
    if config.grad_clip != 0.0:
        with record_function("clip_grad_norm_"):
            clip_grad_norm_(model.parameters(), config.grad_clip)
    with record_function("optimizer.step"):
        optimizer.step()
    with record_function("optimizer.zero_grad"):
        optimizer.zero_grad(set_to_none=True)


def get_lr(it, config):
    """The learning rate of iteration `it`."""
    if not config.decay_lr:
        return config.learning_rate
    return warmup_cosine_lr(it, config.learning_rate, config.warmup_iters, config.lr_decay_iters,
                            config.min_lr)


# ---------------------------------------------------------------------- metrics and plot
class MetricsLog:
    """OUT_DIR/metrics.jsonl: one JSON object a line, appended and flushed as training goes."""

    def __init__(self, out_dir, keep_until=None, keep_eval_at=False, warn=None):
        """Start fresh, or (resume) keep the records of iterations before `keep_until`.

        out_dir None keeps the records in memory only (eval_only runs leave the file alone).
        A damaged line (e.g. cut short by a crash, or edited) is dropped, with a warning to `warn`.
        """
        self.path = Path(out_dir) / METRICS_NAME if out_dir is not None else None
        self.records = []
        if self.path is None:
            return
        if keep_until is not None and self.path.is_file():
            lines = self.path.read_bytes().splitlines()
            for number, line in enumerate(lines, 1):
                try:
                    r = json.loads(line)
                    it = int(r["iter"])
                    needed = ("train_loss", "val_loss") if r["kind"] == "eval" else ("train_loss",)
                    if r["kind"] not in ("log", "eval") or any(k not in r for k in needed):
                        raise ValueError
                except (ValueError, KeyError, TypeError, IndexError, OverflowError,
                        RecursionError):
                    if warn is not None and line.strip():
                        warn(f"warning: {self.path} line {number} is not a metrics record; "
                             "skipping it")
                    continue
                if it < keep_until or (keep_eval_at and it == keep_until
                                       and r.get("kind") == "eval"):
                    self.records.append(r)
        text = "".join(json.dumps(r) + "\n" for r in self.records).encode("utf-8")
        datamod.atomic_write({self.path: lambda f: f.write(text)})

    def write(self, **record):
        self.records.append(record)
        if self.path is None:
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


def plot_losses(records, path):
    """Draw train (per log line and per eval) and val loss against iteration into a PNG.

    Returns False when matplotlib is not installed (it is an optional dependency).
    """
    try:
        from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend
    except ImportError:
        return False
    logs = [r for r in records if r.get("kind") == "log"]
    evals = [r for r in records if r.get("kind") == "eval"]
    fig = Figure(figsize=(7, 4.5), dpi=100)
    ax = fig.add_subplot()
    if logs:
        ax.plot([r["iter"] for r in logs], [r["train_loss"] for r in logs], color="tab:blue",
                alpha=0.35, lw=1, label="train (batch)")
    if evals:
        its = [r["iter"] for r in evals]
        ax.plot(its, [r["train_loss"] for r in evals], "o-", color="tab:blue", label="train")
        ax.plot(its, [r["val_loss"] for r in evals], "o-", color="tab:orange", label="val")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cross-entropy loss")
    ax.grid(alpha=0.3)
    ax.legend()
    # temp file + rename, like the data files: a reader never sees a half-written picture
    datamod.atomic_write({path: lambda f: fig.savefig(f, format="png")})
    return True


def _update_plot(records, out_dir, say, noted):
    """Redraw OUT_DIR/loss.png; say once that matplotlib is missing. Returns `noted`."""
    if not plot_losses(records, Path(out_dir) / PLOT_NAME) and not noted:
        say("note: matplotlib is not installed, so no loss plot (pip install matplotlib)")
        return True
    return noted


# ---------------------------------------------------------------------- Ctrl-C
class _StopRequest:
    """The first Ctrl-C asks the loop to stop at the end of the current step (so a consistent
    state is saved); a second one raises KeyboardInterrupt at once, as usual."""

    def __init__(self, say):
        self.requested = False
        self.say = say
        self.previous = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.say("\ninterrupt: finishing this step and saving a checkpoint "
                 "(Ctrl-C again to quit without saving)")

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


# ---------------------------------------------------------------------- out_dir and memory
@contextlib.contextmanager
def hold_out_dir(out_dir):
    """Hold out_dir for one run: OUT_DIR/train.lock holds the pid and is locked (flock) while
    the run lasts, so a second run into the same folder is refused instead of mixing its
    checkpoint and metrics with ours. The kernel drops the lock when the process ends, however
    it ends, so a lock file left behind by a dead process is simply taken over."""
    out_dir = ensure_writable(out_dir)
    path = out_dir / LOCK_NAME
    fd = _lock(path, out_dir) if fcntl is not None else None  # Windows: no flock, no guard
    try:
        yield
    finally:
        if fd is not None:
            path.unlink(missing_ok=True)  # while still locked: no one else holds this file
            os.close(fd)


def _lock(path, out_dir):
    """The descriptor of `path`, locked and holding our pid (None where flock is unsupported)."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise ConfigError(f"out_dir {out_dir} is in use by another run (pid {pid}, lock "
                              f"file {path}): wait for it to end or choose another "
                              "--out_dir") from None
        except OSError:  # a file system without flock (some network mounts): no guard
            os.close(fd)
            path.unlink(missing_ok=True)
            return None
        try:  # the holder may have removed the file between our open and flock: retry
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    return fd


def check_model_fits(config, vocab_size):
    """ConfigError, before anything is allocated, when training the model would need more than
    the machine's memory: its weights, their gradients and AdamW's two moments."""
    d, n_layer = config.n_embd, config.n_layer
    params = 12 * n_layer * d * d + (vocab_size + config.block_size) * d  # nanoGPT's count
    itemsize = 8 if config.dtype == "float64" else 4
    need = 4 * params * itemsize
    try:
        have = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: cannot tell
        return
    if need > have:
        raise ConfigError(
            f"the model is too big for this machine: n_layer={n_layer}, n_embd={d} is about "
            f"{params:.3g} parameters, and training it needs about {need / 2**30:,.3g} GiB "
            f"({config.dtype} weights, gradients and AdamW's two moments) of the "
            f"{have / 2**30:,.1f} GiB of memory here: use a smaller --n_embd or --n_layer")


# ---------------------------------------------------------------------- the training loop
def train(config=None, *, log=print, progress=None, callback=None, **overrides):
    """Train a GPT as `config` says (TrainConfig, dict, config file path or keywords).

    log: a function taking one line (default print; None is silent).
    progress: show a tqdm bar (None: when stderr is a terminal).
    callback: called after every step with a dict (iter_num, loss, lr, model, optimizer).
    Returns a TrainResult. Ctrl-C stops after the current step and saves a checkpoint.
    Started by `mpiexec -n N`, the N processes train together (ranks.py): only rank 0 logs,
    shows progress and writes to out_dir.
    """
    t_start = time.perf_counter()
    config = make_config(config, **overrides)
    log = log or (lambda line: None)
    if launched()[0] != 0:
        log, progress = (lambda line: None), False
    ranks = Ranks.join()  # one process, or this one's place in the MPI job
    with contextlib.ExitStack() as held:
        with ranks.together():  # a check failing on any rank stops every rank, with its line
            for note in no_effect_notes(config):
                log(note)
            profiler = _ProfileWindow() if config.profile else None  # fails now if unavailable
            config, ckpt = _check_before_writing(config)
            check_split(config, ranks.size)
            if ranks.main:  # rank 0 writes, so it holds out_dir
                held.enter_context(hold_out_dir(config.out_dir))
        if ranks.size > 1:
            log(ranks.describe())
        return _run(config, ckpt, log, progress, callback, profiler, t_start, ranks)


def _check_before_writing(config):
    """(config, checkpoint or None) once every check that needs no write has passed, so that a
    refused run leaves the disk as it was (a mistyped --out_dir creates no folder)."""
    out_dir = check_out_dir(config.out_dir)
    ckpt = None
    vocab_size = config.vocab_size or 0  # a char vocabulary is only known from the text
    if config.init_from == "resume":
        ckpt = load_checkpoint(out_dir)
        check_training_state(ckpt)
        config = _resume_config(config, ckpt)
        vocab_size = ckpt["model_args"]["vocab_size"]
        if ckpt["iter_num"] > config.max_iters and not config.eval_only:
            raise ConfigError(
                f"the checkpoint in {out_dir} is at iteration {ckpt['iter_num']}, already past "
                f"max_iters={config.max_iters}: nothing to do, nothing changed (give a larger "
                "--max_iters to train on)")
    if config.init_from in ("scratch", "resume"):  # a pretrained model's size is its own
        check_model_fits(config, vocab_size)
    return config, ckpt


def _run(config, ckpt, log, progress, callback, profiler, t_start, ranks):
    """train() once out_dir is held: nanoGPT's loop, around the run's setup (_Run)."""
    run = _Run(config, ckpt, log, progress, ranks)  # data, model, optimizer, restored state
    config, optimizer = run.config, run.optimizer
    tune_malloc()  # reuse freed activation buffers instead of page-faulting fresh ones (the
    # process keeps its peak heap until the loop ends: see numpy2gpt/utils/memory.py)
    try:
        # a diverging run overflows inside NumPy: _check_finite_loss says so, in one line
        with _StopRequest(run.say) as stop, np.errstate(over="ignore", invalid="ignore"):
            while True:
                if ranks.any(stop.requested):  # all ranks stop at the same iteration
                    run.result.interrupted = True
                    break
                lr = get_lr(run.iter_num, config)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                if run.next_batch is None:  # nanoGPT draws it before the eval (it prefetches)
                    run.next_batch = draw_batch(run.train_data, config)

                # --- evaluate (and checkpoint) at the start of every eval_interval-th step
                if run.eval_due():
                    run.evaluate(lr)
                if config.eval_only or run.iter_num >= config.max_iters:
                    break

                # --- one optimisation step
                t0 = time.perf_counter()
                lossf = train_step(run.step_model, optimizer, run.train_data, config,
                                   first=run.next_batch, ranks=ranks,
                                   dropout_rng=_dropout_rng(config, run.iter_num, ranks))
                run.next_batch = None
                run.log_step(lossf, lr, time.perf_counter() - t0)

                run.iter_num += 1
                run.local_iter += 1
                if profiler is not None:
                    profiler.after_step(run.local_iter, run.say)
                if callback is not None:
                    callback({"iter_num": run.iter_num, "loss": lossf, "lr": lr,
                              "model": run.model, "optimizer": optimizer})
    except KeyboardInterrupt:
        run.bar.close()
        log(f"interrupted again: quitting at once, without saving; {_kept(run.ckpt_file)}")
        raise
    finally:
        run.bar.close()
        release_malloc()  # a Python session that trained gets its memory back
        if profiler is not None:
            profiler.close(run.say)  # a run shorter than the profiling window

    run.save_final()  # where --init_from resume continues
    result = run.result
    result.iter_num, result.best_val_loss = run.iter_num, run.best_val_loss
    result.wall_s = time.perf_counter() - t_start
    return result


class _Run:
    """One training run: its data, model and optimizer, the state at the start of iteration
    `iter_num` (what a checkpoint holds), and the helpers the loop calls to evaluate, log a
    step and save."""

    def __init__(self, config, ckpt, log, progress, ranks):
        self.config, self.ckpt, self.log, self.ranks = config, ckpt, log, ranks
        self.out_dir = Path(config.out_dir).expanduser()
        self.ckpt_file = checkpoint_path(self.out_dir)
        self.meta, self.tok, self.splits, pretrained = _setup_data(config, ckpt, self.out_dir,
                                                                   log, ranks)
        self.train_data = self.splits["train"]
        self.model, self.model_args, self.optimizer = _setup_model(config, ckpt, self.meta,
                                                                   pretrained, log)
        self.iter_num, self.best_val_loss, self.last_eval_iter = 0, math.inf, None
        self.next_batch = None  # start positions of iteration iter_num's first batch, once drawn
        if ckpt is not None:
            self._restore_state(ckpt)
        self.metrics = MetricsLog(None if config.eval_only or not ranks.main else self.out_dir,
                                  keep_until=self.iter_num if ckpt is not None else None,
                                  keep_eval_at=self.last_eval_iter == self.iter_num, warn=log)
        self.model.train()
        self.step_model = self.model  # what the training step runs: under mpiexec, the DDP wrapper
        if ranks.size > 1:
            from numpy2gpt.nn.parallel import DistributedDataParallel

            # rank 0's weights are broadcast to every rank; backward averages the gradients
            self.step_model = DistributedDataParallel(self.model)

        self.result = TrainResult(out_dir=str(self.out_dir), iter_num=self.iter_num,
                                  best_val_loss=self.best_val_loss, model=self.model,
                                  tokenizer=self.tok, config=config)
        self.tokens_per_iter = (config.gradient_accumulation_steps * config.batch_size
                                * config.block_size)
        log(f"tokens per iteration: {self.tokens_per_iter:,}; training to iteration "
            f"{config.max_iters}")
        self.show_bar = progress if progress is not None else sys.stderr.isatty()
        self.bar = tqdm(total=config.max_iters, initial=min(self.iter_num, config.max_iters),
                        desc="train", unit="it", disable=not self.show_bar, dynamic_ncols=True,
                        file=sys.stderr)
        self.say = self.bar.write if (self.show_bar and log is print) else log
        self.saved_at, self.running_mfu, self.local_iter = None, None, 0
        self.mfu_meter = MFUMeter(log=self.say)  # measures the matmul peak at the first MFU
        self.plot_note = False

    def _restore_state(self, ckpt):
        """Continue from a checkpoint: AdamW's moments, the counters, the random state."""
        config, optimizer, model = self.config, self.optimizer, self.model
        if "optimizer" in ckpt:
            optimizer.load_state_dict(_crop_moments(ckpt["optimizer"], optimizer,
                                                    model.transformer.wpe.weight,
                                                    model.config.block_size))
        self.iter_num = int(ckpt["iter_num"])
        self.best_val_loss = float(ckpt.get("best_val_loss", math.inf))
        self.last_eval_iter = ckpt.get("last_eval_iter")
        rng = ckpt.get("rng") or {}
        try:
            numpy2gpt.set_rng_state(rng["numpy2gpt"])
            next_batch = rng.get("next_batch")
            if next_batch is not None and (len(next_batch) != config.batch_size or max(
                    next_batch, default=0) > len(self.train_data) - config.block_size - 1):
                next_batch = None  # batch_size or the data changed on resume: draw it anew
            self.next_batch = next_batch
        except (KeyError, ValueError):  # a checkpoint of an older numpy2gpt (another generator)
            self.log("the checkpoint holds no random state of this numpy2gpt: batches continue "
                     f"from a stream seeded with {config.seed}")

    # ----- evaluation
    def eval_due(self):
        """Evaluate now? At every eval_interval-th iteration and at the end, once each."""
        config, iter_num = self.config, self.iter_num
        due = iter_num % config.eval_interval == 0 or iter_num >= config.max_iters
        return config.eval_only or (due and self.last_eval_iter != iter_num)

    def evaluate(self, lr):
        """Estimate train/val loss, log and plot it; save a checkpoint if val improved (or
        always, with always_save_checkpoint)."""
        config, iter_num, say = self.config, self.iter_num, self.say
        losses = estimate_loss(self.model, self.splits, config, ranks=self.ranks)
        for split, loss in losses.items():
            _check_finite_loss(loss, f"{split} loss", iter_num, config, self.ckpt_file)
        self.last_eval_iter = iter_num
        say(f"step {iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
        self.metrics.write(kind="eval", iter=iter_num, train_loss=losses["train"],
                           val_loss=losses["val"], lr=lr, ms_per_iter=None, tokens_per_s=None)
        self.result.evals.append({"iter": iter_num,
                                  **{f"{k}_loss": v for k, v in losses.items()}})
        if config.plot and not config.eval_only and self.ranks.main:
            self.plot_note = _update_plot(self.metrics.records, self.out_dir, say,
                                          self.plot_note)
        improved = losses["val"] < self.best_val_loss
        self.best_val_loss = min(self.best_val_loss, losses["val"])
        if (improved or config.always_save_checkpoint) and iter_num > 0 \
                and not config.eval_only:
            self.save("val loss improved" if improved else "eval")

    # ----- logging
    def log_step(self, lossf, lr, dt):
        """Stop if the step's loss is not finite; else record it, and every log_interval steps
        log loss, lr, ms/iter, tokens/s and MFU (a metrics line, and a log line or the bar)."""
        config, iter_num = self.config, self.iter_num
        _check_finite_loss(lossf, "training loss", iter_num, config, self.ckpt_file)
        self.result.train_losses[iter_num] = lossf
        tokens_per_s = self.tokens_per_iter / dt
        if self.local_iter >= 5 and self.ranks.main:  # let the first steps warm up, like nanoGPT
            mfu = _mfu(self.model, config, dt, self.mfu_meter, self.ranks.size)
            if mfu is not None:
                self.running_mfu = mfu if self.running_mfu is None or self.mfu_meter.changed \
                    else 0.9 * self.running_mfu + 0.1 * mfu
        running_mfu = self.running_mfu
        if iter_num % config.log_interval == 0:
            self.metrics.write(kind="log", iter=iter_num, train_loss=lossf, val_loss=None, lr=lr,
                               ms_per_iter=dt * 1000, tokens_per_s=tokens_per_s, mfu=running_mfu)
            if not self.show_bar:
                mfu_text = f"{running_mfu * 100:.2f}%" if running_mfu is not None else "n/a"
                self.log(f"iter {iter_num}: loss {lossf:.4f}, lr {lr:.2e}, time "
                         f"{dt * 1000:.2f}ms, {tokens_per_s:,.0f} tok/s, mfu {mfu_text}")
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{lossf:.4f}", lr=f"{lr:.1e}", ms=f"{dt * 1000:.1f}",
                             tok_s=f"{tokens_per_s:,.0f}",
                             mfu="n/a" if running_mfu is None else f"{running_mfu:.1%}",
                             refresh=False)

    # ----- checkpoints
    def snapshot(self):
        """Everything the next iteration depends on (see checkpoint.py)."""
        return {
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "model_args": self.model_args, "config": self.config.to_dict(),
            "tokenizer": self.tok.to_dict(),
            "iter_num": self.iter_num, "best_val_loss": self.best_val_loss,
            "last_eval_iter": self.last_eval_iter,
            "rng": {"numpy2gpt": numpy2gpt.get_rng_state(),
                    "next_batch": None if self.next_batch is None
                    else [int(i) for i in self.next_batch]},
            "data": {"source": self.meta.get("source"),
                     "text_sha256": self.meta.get("text_sha256")},
        }

    def save(self, why):
        """Write the checkpoint (rank 0; every rank checks that the state is finite)."""
        state = self.snapshot()
        # every rank checks: all stop together
        _check_finite_state(state, self.iter_num, self.config, self.ckpt_file)
        if self.ranks.main:  # every rank holds the same state: one writes it
            path = save_checkpoint(self.out_dir, state)
            self.result.checkpoint = str(path)
            self.say(f"saving checkpoint to {path} ({why}, iteration {self.iter_num})")
        self.saved_at = self.iter_num

    def save_final(self):
        """The last checkpoint, unless this iteration's is already saved: on Ctrl-C always; at
        the end unless the final val loss is worse than the best (always_save_checkpoint=False
        keeps the best model)."""
        config, iter_num, result = self.config, self.iter_num, self.result
        if config.eval_only or self.saved_at == iter_num:
            return
        final_val = result.evals[-1]["val_loss"] if result.evals and \
            result.evals[-1]["iter"] == iter_num else None
        if result.interrupted:
            try:
                self.save("interrupted")
            except OSError as e:
                raise CheckpointError(f"interrupted at iteration {iter_num}: the training state "
                                      f"was NOT saved: {e}") from None
            self.log(f"stopped at iteration {iter_num}; continue with `numpy2gpt train "
                     f"--init_from resume --out_dir {self.out_dir}`")
        elif (config.always_save_checkpoint or final_val is None
              or final_val <= self.best_val_loss
              or (self.saved_at is None and self.ckpt is None)):  # the best was iteration 0
            self.save("end of training")
        else:
            self.say(f"final val loss {final_val:.4f} is worse than the best "
                     f"{self.best_val_loss:.4f}: the checkpoint keeps the best model "
                     "(always_save_checkpoint=False)")


def _setup_data(config, ckpt, out_dir, log, ranks):
    """(meta, tokenizer, {"train", "val"} tokens, pretrained) once the run may start: a scratch
    run refuses a checkpoint it would replace, a fine-tuning run loads its pretrained GPT-2
    ((model, tokenizer, folder), else None), and the dataset is tokenized with the checkpoint's
    or the pretrained model's tokenizer, or a new one trained on the text."""
    ckpt_file = checkpoint_path(out_dir)
    with ranks.together():  # a setup step failing on any rank stops every rank, with its line
        if ckpt is not None:
            log(f"resuming from {ckpt_file} at iteration {ckpt['iter_num']}")
        elif ckpt_file.exists() and not config.overwrite and not config.eval_only:
            raise CheckpointError(
                f"{out_dir} already holds a checkpoint ({ckpt_file.name}); continue it with "
                "--init_from resume, start over with --overwrite (the old checkpoint is "
                "replaced at the first save), or choose another --out_dir")
        pretrained = None  # (model, tokenizer, folder) when fine-tuning a pretrained GPT-2
        if config.init_from not in ("scratch", "resume"):
            pretrained = _from_pretrained(config, log)

        fixed_tok = build_tokenizer(ckpt) if ckpt is not None else None
        if pretrained is not None:
            fixed_tok = pretrained[1]
        data_changed = ckpt is not None and any(
            k in config.explicit and getattr(config, k) != (ckpt.get("config") or {}).get(k)
            for k in ("data", "dataset"))
        if ranks.main:  # rank 0 first: it tokenizes the text if needed
            dataset = prepare_dataset(config, out_dir / "data", tokenizer=fixed_tok,
                                      reuse=not data_changed, log=log)
    with ranks.together():  # then the other ranks read what rank 0 prepared
        if not ranks.main:
            dataset = prepare_dataset(config, out_dir / "data", tokenizer=fixed_tok,
                                      reuse=not data_changed, log=log)
    meta, tok, train_data, val_data = dataset
    return meta, tok, {"train": train_data, "val": val_data}, pretrained


def _setup_model(config, ckpt, meta, pretrained, log):
    """(model, model_args, optimizer): the GPT - seeded with config.seed, then a checkpoint's
    or the pretrained weights loaded into it - and its AdamW."""
    from .model import GPT, GPTConfig

    numpy2gpt.manual_seed(config.seed)
    if ckpt is not None:
        model_args = dict(ckpt["model_args"])
        model_args["dropout"] = config.dropout  # dropout may change on resume, like nanoGPT
    elif pretrained is not None:
        model_args = dataclasses.asdict(pretrained[0].config)  # gelu='tanh' included
    else:
        model_args = dict(n_layer=config.n_layer, n_head=config.n_head, n_embd=config.n_embd,
                          block_size=config.block_size, bias=config.bias,
                          vocab_size=meta["vocab_size"], dropout=config.dropout)
    with quiet(log):
        # from_pretrained leaves the global RNG alone: dropout draws as in a scratch run
        model = pretrained[0] if pretrained is not None else GPT(GPTConfig(**model_args))
        if config.dtype == "float64":
            model.double()
        if ckpt is not None:
            model.load_state_dict(ckpt["model"])
        if config.block_size < model.config.block_size:
            model.crop_block_size(config.block_size)  # like nanoGPT: shrink the position table
            model_args["block_size"] = config.block_size
        optimizer = model.configure_optimizers(config.weight_decay, config.learning_rate,
                                               (config.beta1, config.beta2))
    return model, model_args, optimizer


def _check_finite_loss(loss, what, iter_num, config, ckpt_file):
    """TrainingDiverged when a loss is NaN or infinite: training on it only spreads the NaN."""
    if not math.isfinite(loss):
        raise TrainingDiverged(
            f"the {what} is {loss} at iteration {iter_num}: training diverged, so it stopped "
            f"without saving ({_kept(ckpt_file)}); {_what_to_try(config)}")


def _check_finite_state(state, iter_num, config, ckpt_file):
    """TrainingDiverged instead of saving weights or optimizer moments that are not finite."""
    for part in ("model", "optimizer"):
        name = first_non_finite(state[part])
        if name is not None:
            raise TrainingDiverged(
                f"{part} tensor {name} holds NaN or infinite values at iteration {iter_num}: "
                f"refusing to save it ({_kept(ckpt_file)}); {_what_to_try(config)}")


def _what_to_try(config):
    clip = " or clip the gradient norm (--grad_clip 1.0)" if config.grad_clip == 0 else ""
    return f"try a lower --learning_rate (it is {config.learning_rate:g}){clip}"


def _kept(ckpt_file):
    return (f"the last checkpoint, {ckpt_file}, is kept" if ckpt_file.exists() else
            "no checkpoint was written")


def _dropout_rng(config, iter_num, ranks):
    """Under mpiexec with dropout, this rank's generator of the dropout masks of iteration
    iter_num (seeded from seed, iter_num and rank, so a resumed run draws the same); None (the
    shared generator) otherwise. The shared generator must draw the batches in lockstep on every
    rank, which masks drawn from it for a share of the batch would break. So with dropout the
    masks, and the batches one process would draw after them, differ from a one-process run's."""
    if ranks.size == 1 or config.dropout == 0:
        return None
    seed = np.random.SeedSequence([config.seed % 2**64, iter_num, ranks.rank])
    return Generator().manual_seed(int(seed.generate_state(1, np.uint64)[0]))


def _crop_moments(state_dict, optimizer, wpe, block_size):
    """After crop_block_size, AdamW's saved moments of the position table must shrink with it
    (before loading them: the optimizer refuses state of another shape than its parameter's)."""
    for mine, saved in zip(optimizer.param_groups, state_dict["param_groups"]):
        for p, idx in zip(mine["params"], saved["params"]):
            if p is not wpe:
                continue
            entry = state_dict["state"].get(idx, state_dict["state"].get(str(idx), {}))
            for key, value in entry.items():
                if getattr(value, "ndim", 0) == 2 and value.shape[0] > block_size:
                    entry[key] = value[:block_size]
    return state_dict


def _mfu(model, config, dt, meter, processes=1):
    """Model FLOPs utilization of a step of dt seconds against the machine's matmul peak
    (mfu.MFUMeter: at most 1, the peak logged); None when it cannot be had. With several
    processes, it is one rank's: its share of the batch against the peak of its threads."""
    try:
        sequences = config.batch_size * config.gradient_accumulation_steps // processes
        return meter(model, sequences, dt)
    except Exception:  # MFU is a diagnostic: never let it stop training
        return None


# ---------------------------------------------------------------------- profiler hook
class _ProfileWindow:
    """profile=True: profile PROFILE_STEPS steps after PROFILE_WARMUP, then print the table."""

    WARMUP, STEPS = 2, 5

    def __init__(self):
        from numpy2gpt import profiler

        self.profiler, self.ctx, self.prof = profiler, None, None

    def after_step(self, steps_done, say):
        if steps_done == self.WARMUP:
            self.ctx = self.profiler.profile()
            self.prof = self.ctx.__enter__()
        elif steps_done == self.WARMUP + self.STEPS:
            self.close(say)

    def close(self, say):
        if self.ctx is not None:
            self.ctx.__exit__(None, None, None)
            self.ctx = None
            say(self.prof.table())


# ---------------------------------------------------------------------- the graph picture
def write_training_graph(path, n_layer=1, n_head=2, n_embd=16, block_size=8, vocab_size=16,
                         batch_size=2, bias=True, verbose=False, seed=0):
    """Draw the autograd graph of one forward + loss of a tiny GPT, one cluster per module.

    Parameters are labelled with their state-dict names. `path` ends in .dot (DOT text, no
    Graphviz needed), .svg, .png or .pdf (rendered with Graphviz's `dot`).
    """
    from numpy2gpt.utils.graph import plot_dot_graph

    from .model import GPT, GPTConfig

    numpy2gpt.manual_seed(seed)
    with quiet():
        model = GPT(GPTConfig(n_layer=n_layer, n_head=n_head, n_embd=n_embd,
                              block_size=block_size, vocab_size=vocab_size, bias=bias))
    for name, p in model.named_parameters():
        p.name = name
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, vocab_size, size=(batch_size, block_size))
    targets = rng.integers(0, vocab_size, size=(batch_size, block_size))
    _, loss = model(numpy2gpt.from_numpy(idx), numpy2gpt.from_numpy(targets))
    loss.name = "loss"
    return plot_dot_graph(loss, os.fspath(path), verbose=verbose, cluster_modules=True)


__all__ = ["train", "TrainResult", "TrainConfig", "train_step", "estimate_loss", "get_lr",
           "make_config", "plot_losses", "prepare_dataset", "write_training_graph"]
