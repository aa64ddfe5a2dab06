"""TrainConfig: every setting of `numpy2gpt train`, named like nanoGPT's config keys.

The defaults are nanoGPT's CPU "baby" run of shakespeare_char (its README's
`python train.py config/train_shakespeare_char.py --device=cpu --compile=False --eval_iters=20
--block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --max_iters=2000
--lr_decay_iters=2000 --dropout=0.0`), so `numpy2gpt train` with no arguments is that run.

Settings come from three places, later ones winning: the defaults, an optional config file
(TOML or JSON, flat `key = value`, or a nanoGPT config .py file of `key = value` lines, read
without running it), and command-line flags (`--max_iters 100`, `--max-iters 100` or
`--max_iters=100`). An unknown key is an error that lists the close matches, never ignored.
nanoGPT's keys that mean nothing here (wandb_*, backend) are accepted with a note, so a nanoGPT
config file runs unchanged.
"""

import argparse
import ast
import dataclasses
import difflib
import json
import math
import operator
import os
import typing
from dataclasses import dataclass, fields
from pathlib import Path


class ConfigError(ValueError):
    """A bad setting: unknown key, wrong type or a value out of range."""


SEED_MIN, SEED_MAX = -0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF  # torch.manual_seed's range


@dataclass
class TrainConfig:
    # ---- I/O
    out_dir: str = "out-shakespeare-char"
    eval_interval: int = 250  # estimate train/val loss every this many iterations
    log_interval: int = 10  # one metrics.jsonl line (and log line) every this many iterations
    eval_iters: int = 20  # batches per split in each loss estimate
    eval_only: bool = False  # evaluate once and exit
    always_save_checkpoint: bool = False  # False: save at an eval only if val loss improved
    # 'scratch' (a new model), 'resume' (out_dir's checkpoint) or a pretrained GPT-2 to fine-tune:
    # a Hugging Face folder (config.json + model.safetensors) or a cached name such as 'gpt2'
    init_from: str = "scratch"
    overwrite: bool = False  # allow 'scratch' to replace a checkpoint already in out_dir
    # ---- data
    # a built-in dataset, or a folder made by `numpy2gpt prepare` (train.bin, val.bin, meta.json)
    dataset: str = "shakespeare_char"
    data: str | None = None  # or your own UTF-8 text file (wins over dataset)
    tokenizer: str = "char"  # 'char' or 'bpe' (trained on the text)
    vocab_size: int | None = None  # BPE vocabulary size (char: taken from the text)
    gradient_accumulation_steps: int = 1
    batch_size: int = 12
    block_size: int = 64
    # ---- model
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False  # nanoGPT's train.py default (GPTConfig's own default is True)
    # ---- AdamW
    learning_rate: float = 1e-3
    max_iters: int = 2000
    weight_decay: float = 1e-1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0  # clip the gradient norm at this value; 0 disables
    # ---- learning-rate schedule (linear warmup, cosine decay to min_lr)
    decay_lr: bool = True
    warmup_iters: int = 100
    lr_decay_iters: int = 2000
    min_lr: float = 1e-4
    # ---- system
    device: str = "cpu"  # accepted for nanoGPT compatibility; only 'cpu' exists
    dtype: str = "float32"  # 'float32' or 'float64'
    compile: bool = False  # accepted for nanoGPT compatibility; there is nothing to compile
    seed: int = 1337
    # ---- nanoGPT keys with no effect here (accepted so its config files run unchanged)
    wandb_log: bool = False
    wandb_project: str = "owt"
    wandb_run_name: str = "gpt2"
    backend: str = "nccl"
    plot: bool = True  # write out_dir/loss.png at each eval (needs matplotlib)
    # ---- numpy2gpt's own: speed and diagnostics
    profile: bool = False  # print an op profile of a few steps (needs numpy2gpt.profiler)

    def __post_init__(self):
        self._explicit = set()  # keys set by the user (file or flags), not just defaults

    # ------------------------------------------------------------------ construction
    @classmethod
    def keys(cls):
        return [f.name for f in fields(cls)]

    @classmethod
    def from_dict(cls, d, base=None, where="config", prefix=""):
        """A config from `base` (or the defaults) with the keys of `d` replaced, type-checked."""
        config = dataclasses.replace(base) if base is not None else cls()
        config._explicit = set(getattr(base, "_explicit", set()))
        check_keys(d.keys(), where, prefix)
        for key, value in d.items():
            setattr(config, key, coerce(key, value, prefix + key))
            config._explicit.add(key)
        config.validate()
        return config

    def to_dict(self):
        """Plain dict of every key (JSON-able)."""
        return dataclasses.asdict(self)

    @property
    def explicit(self):
        """The keys that were set on purpose (by a config file, a flag or a keyword)."""
        return frozenset(self._explicit)

    # ------------------------------------------------------------------ checks
    def validate(self):
        """Raise ConfigError for values that cannot work (before any data or model is touched)."""
        for key, (base, _) in _field_types().items():
            value = getattr(self, key)
            if base is float and value is not None and not math.isfinite(value):
                raise ConfigError(f"{key} must be a finite number, got {value}")
        if not SEED_MIN <= self.seed <= SEED_MAX:
            raise ConfigError(f"seed must be in [{SEED_MIN}, {SEED_MAX}] (the range of "
                              f"PyTorch's manual_seed), got {self.seed}")
        if not self.out_dir.strip():
            raise ConfigError("out_dir must not be empty (it is the folder the checkpoint, data/ "
                              "and metrics.jsonl are written to)")
        positive = ("eval_interval", "log_interval", "eval_iters", "gradient_accumulation_steps",
                    "batch_size", "block_size", "n_layer", "n_head", "n_embd")
        for key in positive:
            if getattr(self, key) < 1:
                raise ConfigError(f"{key} must be >= 1, got {getattr(self, key)}")
        for key in ("max_iters", "warmup_iters", "lr_decay_iters"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key} must be >= 0, got {getattr(self, key)}")
        for key in ("learning_rate", "min_lr", "weight_decay", "grad_clip"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key} must be >= 0, got {getattr(self, key)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        for key in ("beta1", "beta2"):
            if not 0.0 <= getattr(self, key) < 1.0:
                raise ConfigError(f"{key} must be in [0, 1), got {getattr(self, key)}")
        if self.n_embd % self.n_head:
            raise ConfigError(f"n_embd ({self.n_embd}) must be divisible by n_head "
                              f"({self.n_head})")
        if not self.init_from.strip():
            raise ConfigError("init_from must be 'scratch', 'resume' or a pretrained GPT-2 "
                              "(a Hugging Face folder or a cached name such as gpt2), got ''")
        if self.tokenizer not in ("char", "bpe"):
            raise ConfigError(f"tokenizer must be 'char' or 'bpe', got {self.tokenizer!r}")
        if self.tokenizer == "bpe" and self.vocab_size is None:
            raise ConfigError("tokenizer 'bpe' needs vocab_size (e.g. --vocab_size 512)")
        if self.tokenizer == "char" and self.vocab_size is not None:
            raise ConfigError("vocab_size is only for tokenizer 'bpe' (char's vocab comes from "
                              "the text)")
        if self.device != "cpu":
            raise ConfigError(f"device {self.device!r} is not available: numpy2gpt runs on "
                              "the CPU (device 'cpu')")
        if self.dtype not in ("float32", "float64"):
            raise ConfigError(f"dtype must be 'float32' or 'float64', got {self.dtype!r} "
                              "(nanoGPT's bfloat16/float16 are GPU-only)")
        if self.warmup_iters > self.lr_decay_iters and self.decay_lr:
            raise ConfigError(f"warmup_iters ({self.warmup_iters}) must not exceed "
                              f"lr_decay_iters ({self.lr_decay_iters})")


# nanoGPT's keys that mean nothing in numpy2gpt, and why: accepted, with one note line each
_NO_METRICS_SERVICE = "no Weights & Biases logging: metrics go to OUT_DIR/metrics.jsonl"
NO_EFFECT = {
    "wandb_log": _NO_METRICS_SERVICE, "wandb_project": _NO_METRICS_SERVICE,
    "wandb_run_name": _NO_METRICS_SERVICE,
    "backend": "processes train together over MPI: mpiexec -n N numpy2gpt train",
    "compile": "there is nothing to compile",
}


def no_effect_notes(config):
    """One note line per key of NO_EFFECT that `config` sets to something else than the default."""
    defaults = TrainConfig()
    return [f"note: {key}={getattr(config, key)!r} has no effect in numpy2gpt ({why})"
            for key, why in NO_EFFECT.items()
            if key in config.explicit and getattr(config, key) != getattr(defaults, key)]


# one line of `numpy2gpt train --help` per key (nanoGPT's meaning; the default is added)
HELP = {
    "out_dir": "folder for ckpt.safetensors, metrics.jsonl, loss.png and the prepared data/",
    "eval_interval": "estimate train/val loss (and maybe checkpoint) every N iterations",
    "log_interval": "log the loss (and a metrics.jsonl line) every N iterations",
    "eval_iters": "batches per split in each loss estimate",
    "eval_only": "evaluate once and exit, writing nothing",
    "always_save_checkpoint": "save at every eval (false: only when val loss improved)",
    "init_from": "scratch, resume (out_dir's checkpoint), or a pretrained GPT-2 to fine-tune "
                 "(a Hugging Face folder or a cached name such as gpt2)",
    "overwrite": "let a scratch run replace the checkpoint already in out_dir",
    "dataset": "built-in dataset to train on",
    "data": "your own UTF-8 text file to train on (wins over --dataset)",
    "tokenizer": "char (one token per character) or bpe (trained on the text)",
    "vocab_size": "BPE vocabulary size (tokenizer bpe only)",
    "gradient_accumulation_steps": "micro-batches per optimisation step (simulates a bigger "
                                   "batch)",
    "batch_size": "sequences per micro-batch",
    "block_size": "context length in tokens",
    "n_layer": "transformer blocks",
    "n_head": "attention heads per block",
    "n_embd": "embedding width (divisible by n_head)",
    "dropout": "dropout probability in [0, 1); 0 for pretraining, 0.1+ for fine-tuning",
    "bias": "use biases in Linear and LayerNorm layers",
    "learning_rate": "AdamW's peak learning rate",
    "max_iters": "total training iterations",
    "weight_decay": "AdamW weight decay (on matrices only)",
    "beta1": "AdamW beta1",
    "beta2": "AdamW beta2",
    "grad_clip": "clip the gradient norm at this value; 0 disables",
    "decay_lr": "linear warmup then cosine decay to min_lr (false: constant learning_rate)",
    "warmup_iters": "iterations of linear learning-rate warmup",
    "lr_decay_iters": "iteration where the cosine decay reaches min_lr (~= max_iters)",
    "min_lr": "learning rate after the decay (~= learning_rate / 10)",
    "device": "cpu (the only device numpy2gpt has; accepted for nanoGPT's configs)",
    "dtype": "float32 or float64 (nanoGPT's bfloat16/float16 are GPU-only)",
    "compile": "accepted for nanoGPT's configs; has no effect",
    "seed": "seed of the random weights, batches and dropout",
    "wandb_log": "accepted for nanoGPT's configs; has no effect (see metrics.jsonl)",
    "wandb_project": "accepted for nanoGPT's configs; has no effect",
    "wandb_run_name": "accepted for nanoGPT's configs; has no effect",
    "backend": "accepted for nanoGPT's configs (DDP backend); has no effect",
    "plot": "redraw out_dir/loss.png at each eval (needs matplotlib)",
    "profile": "print an op profile of a few steps",
}


# ---------------------------------------------------------------------- keys and values
_TYPES = {}  # key -> (base type, accepts None)


def _field_types():
    if not _TYPES:
        for f in fields(TrainConfig):
            args = typing.get_args(f.type) or (f.type,)  # `int | None` -> (int, NoneType)
            base = next(a for a in args if a is not type(None))
            _TYPES[f.name] = (base, type(None) in args)
    return _TYPES


# common names from other trainers, only used to suggest the right key in an error
_ALIASES = {"lr": "learning_rate", "iters": "max_iters", "steps": "max_iters",
            "max_steps": "max_iters", "context_length": "block_size", "seq_len": "block_size",
            "n_heads": "n_head", "n_layers": "n_layer", "d_model": "n_embd", "clip": "grad_clip",
            "warmup": "warmup_iters", "output_dir": "out_dir", "min_learning_rate": "min_lr"}
# keys numpy2gpt had and no longer has, and what to use instead
_REMOVED = {"threads": "use mpiexec -n N numpy2gpt train"}


def check_keys(keys, where="config", prefix=""):
    """ConfigError for every key that TrainConfig does not have, with the close matches.

    `prefix` ("--" for command-line flags) is put before every name in the message.
    """
    known = TrainConfig.keys()
    unknown = [k for k in keys if k not in known]
    if not unknown:
        return
    lines = []
    for key in unknown:
        close = difflib.get_close_matches(str(key), known, n=3, cutoff=0.6)
        alias = _ALIASES.get(str(key).lower())
        if alias:
            close = [alias] + [c for c in close if c != alias]
        hint = f" (did you mean {', '.join(prefix + c for c in close)}?)" if close else ""
        if key in _REMOVED:
            hint = f" ({prefix}{key} was removed: {_REMOVED[key]})"
        lines.append(f"{prefix}{key}{hint}")
    noun = ("flag" if prefix else "key") + ("s" if len(unknown) > 1 else "")
    raise ConfigError(f"{where}: unknown {noun} " + "; ".join(lines)
                      + ". Valid keys: " + ", ".join(known))


def parse_bool(text):
    """'true/false/1/0/yes/no/on/off' (any case) -> bool."""
    if isinstance(text, bool):
        return text
    s = str(text).strip().lower()
    if s in ("1", "true", "yes", "on", "y", "t"):
        return True
    if s in ("0", "false", "no", "off", "n", "f"):
        return False
    raise ValueError(f"expected a boolean (true/false), got {text!r}")


_TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def coerce(key, value, name=None):
    """`value` as the type of `key` (strings from the command line are parsed).

    `name` is how the key is shown in errors (e.g. "--max_iters").
    """
    base, nullable = _field_types()[key]
    name = name or key
    expected = _TYPE_WORDS[base] + (" or none" if nullable else "")
    if value is None or (nullable and isinstance(value, str) and value.lower() == "none"):
        if nullable:
            return None
        raise ConfigError(f"{name} cannot be none: expected {expected}")
    try:
        if base is bool:
            return parse_bool(value)
        if isinstance(value, bool):
            raise ValueError
        if base is int:
            number = value
            if isinstance(value, str):  # "12" exactly (even beyond float precision), "2e3" too
                try:
                    return int(value)
                except ValueError:
                    number = float(value)
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            return int(number)
        if base is float:
            return float(value)
        if not isinstance(value, (str, os.PathLike)):
            raise ValueError
        return os.fspath(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"bad value {value!r} for {name}: expected {expected}") from None


# ---------------------------------------------------------------------- config files
def load_config_file(path):
    """The flat dict of settings in a .toml or .json file (checked against TrainConfig's keys)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte offset {e.start})") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"config file {path} is not valid JSON: {e}") from None
    elif suffix == ".toml":
        toml = _toml_module()
        try:
            d = toml.loads(text)
        except toml.TOMLDecodeError as e:
            raise ConfigError(f"config file {path} is not valid TOML: {e}") from None
    elif suffix == ".py":
        d = _python_config(path, text)
    else:
        raise ConfigError(f"config file {path}: use a .toml or .json file (or a nanoGPT .py "
                          "config)")
    if not isinstance(d, dict):
        raise ConfigError(f"config file {path} must hold a table/object of key = value settings")
    for key, value in d.items():
        if isinstance(value, (dict, list)):
            raise ConfigError(f"config file {path}: {key!r} is a nested table or list; settings "
                              "are flat `key = value` pairs")
    check_keys(d.keys(), where=f"config file {path}")
    return d


_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
               ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv}


def _plain_value(node):
    """A literal, or + - * / // on numbers (train_gpt2's `gradient_accumulation_steps = 5 * 8`)."""
    def number(node):
        value = _plain_value(node)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError("arithmetic on numbers only")
        return value

    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](number(node.left), number(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return -number(node.operand) if isinstance(node.op, ast.USub) else number(node.operand)
    return ast.literal_eval(node)


def _python_config(path, text):
    """The settings of a nanoGPT config .py file, read without running it: every statement is a
    `key = value` line, the value a literal or arithmetic on numbers (imports and docstrings are
    skipped). A no-effect key whose value is any other expression (finetune_shakespeare's
    `wandb_run_name = 'ft-' + str(time.time())`) is dropped."""
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as e:
        raise ConfigError(f"config file {path} is not valid Python (line {e.lineno}): "
                          f"{e.msg}") from None
    d = {}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or (
                isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            continue
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 \
            else None
        where = f"config file {path}, line {node.lineno}"
        if not isinstance(target, ast.Name):
            raise ConfigError(f"{where}: only `key = value` lines can be read (numpy2gpt reads "
                              "a .py config without running it)")
        try:
            d[target.id] = _plain_value(node.value)
        except (ValueError, TypeError, SyntaxError, RecursionError, ZeroDivisionError):
            if target.id not in NO_EFFECT:
                raise ConfigError(f"{where}: the value of {target.id} is an expression, not a "
                                  "plain value (numpy2gpt reads a .py config without running "
                                  "it)") from None
    return d


def _toml_module():
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ConfigError("reading TOML needs Python 3.11+ (or `pip install tomli`); "
                              "or write the config as JSON") from None
    return tomllib


# ---------------------------------------------------------------------- command-line flags
def add_config_flags(parser):
    """Add `--key VALUE` and `--key-with-dashes VALUE` for every TrainConfig key."""
    defaults = TrainConfig()
    group = parser.add_argument_group("settings (nanoGPT's config keys)")
    for f in fields(TrainConfig):
        flags = [f"--{f.name}"]
        if "_" in f.name:
            flags.append(f"--{f.name.replace('_', '-')}")
        base, _ = _field_types()[f.name]
        default = getattr(defaults, f.name)
        kwargs = dict(dest=f.name, default=argparse.SUPPRESS, metavar=base.__name__.upper(),
                      help=f"{HELP[f.name]} (default: {default})")
        if base is bool:  # `--decay_lr` alone means true; `--decay_lr false` turns it off
            kwargs.update(nargs="?", const="true")
        group.add_argument(*flags, **kwargs)


def config_from_args(args, base=None):
    """The TrainConfig from parsed flags: defaults < args.config file < flags."""
    config = base if base is not None else TrainConfig()
    config_path = getattr(args, "config", None)
    if config_path:
        config = TrainConfig.from_dict(load_config_file(config_path), base=config,
                                       where=f"config file {config_path}")
    flags = {k: v for k, v in vars(args).items() if k in set(TrainConfig.keys())}
    return TrainConfig.from_dict(flags, base=config, where="command line", prefix="--")


def check_out_dir(path, flag="--out_dir"):
    """ConfigError when the folder to write into is empty text or an existing file."""
    if not str(path).strip():
        raise ConfigError(f"{flag} must not be empty: give the folder to write into")
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path} is a file, not a folder: give a folder to write into")
    return path


def unknown_flag_error(extras):
    """ConfigError for command-line words that are not flags we know (with close matches)."""
    names, stray, after_flag = [], [], False
    for word in extras:
        if word.startswith("--"):
            names.append(word[2:].split("=", 1)[0].replace("-", "_"))
            after_flag = "=" not in word
        elif after_flag:  # the value of an unknown flag
            after_flag = False
        else:
            stray.append(word)
    if names:
        check_keys(names, where="command line", prefix="--")
    raise ConfigError(f"unexpected argument(s) {stray or extras}: settings are given as "
                      "--key VALUE")
