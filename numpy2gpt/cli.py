"""The `numpy2gpt` command (also `python -m numpy2gpt`).

    numpy2gpt train   [CONFIG.toml|.json|.py] [--key value ...]  train a GPT (nanoGPT's keys)
    numpy2gpt train   --init_from gpt2|PATH [--key value ...]  fine-tune a pretrained GPT-2
    numpy2gpt sample  --out_dir DIR [--start TEXT|FILE:path] ...   stream text from a checkpoint
    numpy2gpt sample  --init_from gpt2|PATH [--start ...] ...   ... or from a pretrained GPT-2
    numpy2gpt export  --out_dir DIR --to PATH                 checkpoint -> Hugging Face folder
    numpy2gpt prepare [FILE] [--out_dir DIR] [--tokenizer char|bpe|PATH]  text -> .bin files
    numpy2gpt graph   [--out graph.svg]                       draw one training step's graph
    numpy2gpt run     SCRIPT.py [ARGS ...]     run a PyTorch script with numpy2gpt as `torch`

A pretrained GPT-2 (PATH) is a Hugging Face folder with config.json + model.safetensors (and the
tokenizer's vocab.json + merges.txt), or a model name such as gpt2 in the local Hugging Face
cache; nothing is downloaded.

Every flag is accepted with underscores or dashes (--max_iters, --max-iters). Bad input ends with
one line `error: ...` on stderr and exit status 2, never a traceback (set NUMPY2GPT_TRACEBACK=1
to see one). A training run whose loss turns NaN or infinite stops with status 1, saving nothing;
Ctrl-C exits with status 130.

`mpiexec -n N numpy2gpt train ...` trains on N processes (numpy2gpt/gpt/ranks.py); rank 0 prints.
An error in a step the ranks check together (the flags, out_dir, the data: Ranks.together) ends
them all with the usual line, printed by the rank that failed, and status; a rank that fails
alone later ends the whole MPI job (MPI_Abort) with its status, since the others would wait for
it forever.
"""

import argparse
import contextlib
import difflib
import os
import re
import sys

from . import kernels
from .gpt.checkpoint import CheckpointError
from .gpt.config import (
    ConfigError,
    TrainConfig,
    add_config_flags,
    check_out_dir,
    config_from_args,
    parse_bool,
    unknown_flag_error,
)
from .gpt.ranks import FailedOnAnotherRank, launched


class UsageError(Exception):
    """Raised instead of argparse's print-and-exit, so main() decides how to report it."""

    def __init__(self, message, parser):
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # a word such as -1e-3, -.5 or -inf is a (negative) value, not a flag: argparse only
        # recognises -1 and -0.5, and "expected one argument" for the rest
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message):
        raise UsageError(message, self)


_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$",
                              re.IGNORECASE)


def _flag(parser, name, **kwargs):
    """Add --name, and --name-with-dashes when the name has underscores."""
    flags = [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else [])
    return parser.add_argument(*flags, dest=name, **kwargs)


def _optional(type_):
    """An argparse type that also accepts 'none' (for top_k / top_p / vocab_size)."""
    def convert(text):
        return None if text.lower() == "none" else type_(text)
    convert.__name__ = type_.__name__
    return convert


def _kernels_from(args):
    """`--kernels reference|fast`: a context in which every fused op runs on those kernels (with
    no flag, NUMPY2GPT_KERNELS decides, fast by default)."""
    if args.kernels is None:
        return contextlib.nullcontext()
    return kernels.backend(kernels.checked(args.kernels, "--kernels"))


def _kernels_flag(parser):
    _flag(parser, "kernels", default=None, metavar="|".join(kernels.BACKENDS),
          help="the kernels every fused op runs on: the textbook reference formulas or the fast "
               "ones (default: $NUMPY2GPT_KERNELS, else fast)")


def _bool(text):
    try:
        return parse_bool(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


# ---------------------------------------------------------------------- subcommands
def cmd_train(args, extras):
    from .gpt.train import TrainingDiverged, train

    if extras:
        unknown_flag_error(extras)
    if args.config_file and args.config:
        raise ConfigError("give the config file once: either as the argument or with --config")
    if args.config_file and not args.config_file.lower().endswith((".toml", ".json", ".py")):
        raise ConfigError(f"unexpected argument {args.config_file!r}: settings are given as "
                          "--key VALUE, and a config file ends in .toml, .json or .py")
    args.config = args.config or args.config_file
    config = config_from_args(args)
    try:
        with _kernels_from(args):
            result = train(config, log=print)
    except TrainingDiverged as e:  # not bad input: the run itself failed
        if os.environ.get("NUMPY2GPT_TRACEBACK"):
            raise
        return _fail(e, 1, every_rank=True)
    if result.interrupted:  # train() said where the checkpoint is and how to continue
        return 130
    if config.eval_only or launched()[0] != 0:  # under mpiexec, rank 0 reports
        return 0
    saved = (f"checkpoint {result.checkpoint}" if result.checkpoint else
             "this run saved no checkpoint (the one in the out_dir keeps the best model)")
    print(f"done: {result.iter_num} iterations in {result.wall_s:.1f}s, best val loss "
          f"{result.best_val_loss:.4f}; {saved}")
    print(f"sample from it with: numpy2gpt sample --out_dir {result.out_dir}")
    print(f"or export it for transformers: numpy2gpt export --out_dir {result.out_dir} --to "
          f"{result.out_dir}-hf")
    return 0


def cmd_export(args, extras):
    from .gpt.checkpoint import export_pretrained

    if extras:
        _unknown_flags(extras, args.parser)
    if args.to is None:
        raise UsageError("the following arguments are required: --to (the Hugging Face folder "
                         "to write)", args.parser)
    path = export_pretrained(args.out_dir, args.to, overwrite=args.overwrite,
                             log=lambda line: print(line, file=sys.stderr))
    print(f"wrote a Hugging Face GPT-2 folder to {path}; load it with "
          f"`numpy2gpt sample --init_from {path}` or transformers' "
          f"GPT2LMHeadModel.from_pretrained")
    return 0


def cmd_sample(args, extras):
    from .gpt.sample import sample

    if extras:
        _unknown_flags(extras, args.parser)
    kernels_in_use = _kernels_from(args)

    def log(line):
        print(line, file=sys.stderr)

    with kernels_in_use:
        sample(args.out_dir, start=args.start, num_samples=args.num_samples,
               max_new_tokens=args.max_new_tokens, temperature=args.temperature, top_k=args.top_k,
               top_p=args.top_p, seed=args.seed, use_cache=args.use_cache, stream=sys.stdout,
               log=log, init_from=args.init_from)
    return 0


def cmd_prepare(args, extras):
    from .gpt import data

    if extras:
        _unknown_flags(extras, args.parser)
    if args.input is not None and args.dataset is not None:
        raise ConfigError("give either a text FILE or --dataset, not both")
    dataset = args.dataset or "shakespeare_char"
    text, source = data.resolve_text(args.input, dataset)
    name = dataset if args.input is None else os.path.splitext(os.path.basename(args.input))[0]
    out_dir = check_out_dir(os.path.join("data", name) if args.out_dir is None else args.out_dir)
    tokenizer = args.tokenizer
    if tokenizer not in ("char", "bpe"):
        if args.vocab_size is not None:
            raise ConfigError("--vocab_size is only for --tokenizer bpe (a given tokenizer "
                              "has its own vocabulary)")
        tokenizer = _load_given_tokenizer(tokenizer)
    data.prepare(text, out_dir, tokenizer=tokenizer, vocab_size=args.vocab_size,
                 val_fraction=args.val_fraction, source=source)
    return 0


def _load_given_tokenizer(where):
    """`prepare --tokenizer PATH`: a tokenizer JSON file (tok.save), or the tokenizer of a
    pretrained GPT-2 (a Hugging Face folder or cached name), e.g. to fine-tune that model."""
    from .gpt.pretrained import load_tokenizer_from, resolve
    from .gpt.tokenizers import load_tokenizer

    if os.path.isfile(where):
        return load_tokenizer(where)
    close = difflib.get_close_matches(where, ["char", "bpe"], n=1, cutoff=0.6)
    if close and not os.path.exists(where):
        raise ConfigError(f"--tokenizer {where!r}: did you mean {close[0]!r}? (or give a "
                          "tokenizer JSON file or a pretrained GPT-2 folder)")
    folder = resolve(where)
    tokenizer = load_tokenizer_from(folder)
    if tokenizer is None:
        raise ConfigError(f"--tokenizer {where}: {folder} holds no tokenizer (GPT-2's "
                          "vocab.json + merges.txt, or numpy2gpt_tokenizer.json)")
    return tokenizer


def cmd_graph(args, extras):
    from .gpt.train import write_training_graph

    if extras:
        _unknown_flags(extras, args.parser)
    try:
        path = write_training_graph(args.out, n_layer=args.n_layer, n_head=args.n_head,
                                    n_embd=args.n_embd, block_size=args.block_size,
                                    vocab_size=args.vocab_size, batch_size=args.batch_size,
                                    verbose=args.verbose)
    except RuntimeError as e:  # Graphviz missing or failing: say so plainly
        raise ConfigError(str(e)) from None
    print(f"wrote the training graph of a {args.n_layer}-layer GPT to {path}")
    return 0


def _unknown_flags(extras, parser):
    """A UsageError for unrecognised words, suggesting the flags they resemble."""
    known = [s for a in parser._actions for s in a.option_strings]
    parts = []
    for word in extras:
        flag = word.split("=", 1)[0]
        close = difflib.get_close_matches(flag, known, n=3, cutoff=0.6)
        parts.append(f"{word!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
    raise UsageError("unrecognized arguments: " + "; ".join(parts), parser)


def cmd_run(argv):
    """`numpy2gpt run SCRIPT [ARGS...]`: the script runs as under `python`, its own errors with
    their traceback; a missing file, real PyTorch already loaded or an import of a torch module
    numpy2gpt does not cover ends with one line and status 2."""
    from .torch_hook import NotCoveredError, as_torch, run_script

    if not argv or argv[0] in ("-h", "--help"):
        print(_RUN_USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    try:
        if not os.path.isfile(argv[0]):
            raise ConfigError(f"can't open file {argv[0]!r}: no such file")
        as_torch()
    except (ConfigError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        run_script(argv[0], argv[1:])
    except SystemExit as e:  # the script's sys.exit(): its status, as `python` would give
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    except NotCoveredError as e:
        if os.environ.get("NUMPY2GPT_TRACEBACK"):
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


_RUN_USAGE = ("usage: numpy2gpt run SCRIPT.py [ARGS ...]\n\nRun a PyTorch script unchanged, "
              "with numpy2gpt standing in for torch and every torch.* module it covers.")


# ---------------------------------------------------------------------- the parser
def build_parser():
    parser = _Parser(prog="numpy2gpt", allow_abbrev=False,
                     description="Train and sample GPTs with numpy2gpt (NumPy autograd).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("train", allow_abbrev=False, help="train a GPT",
                       description="Train a GPT. Settings: defaults < config file < flags. "
                                   "Defaults are nanoGPT's CPU baby shakespeare_char run.")
    p.add_argument("config_file", nargs="?", default=None,
                   help="optional TOML or JSON file of settings, or a nanoGPT config .py (read "
                        "without running it)")
    p.add_argument("--config", default=None, help="the same config file, as a flag")
    add_config_flags(p)
    _kernels_flag(p)
    p.set_defaults(func=cmd_train, parser=p)

    p = sub.add_parser("sample", allow_abbrev=False, help="generate text from a checkpoint")
    _flag(p, "out_dir", default="out-shakespeare-char", help="folder holding ckpt.safetensors")
    _flag(p, "init_from", default="resume",
          help="resume (the checkpoint in --out_dir) or a pretrained GPT-2: a Hugging Face "
               "folder or a cached name such as gpt2 (default: resume)")
    _flag(p, "start", default="\n",
          help="the prompt, or FILE:path to read it from a file (default: a newline)")
    _flag(p, "num_samples", type=int, default=10, help="(default: 10)")
    _flag(p, "max_new_tokens", type=int, default=500, help="(default: 500)")
    _flag(p, "temperature", type=float, default=0.8,
          help="< 1 more predictable, > 1 more random, 0 greedy (default: 0.8)")
    _flag(p, "top_k", type=_optional(int), default=200,
          help="keep the k most likely tokens, or none (default: 200)")
    _flag(p, "top_p", type=_optional(float), default=None,
          help="nucleus sampling threshold in (0, 1], or none (default: none)")
    _flag(p, "seed", type=int, default=1337, help="(default: 1337)")
    _flag(p, "use_cache", type=_bool, nargs="?", const=True, default=True,
          help="use the KV cache (default: true)")
    _kernels_flag(p)
    p.set_defaults(func=cmd_sample, parser=p)

    p = sub.add_parser("export", allow_abbrev=False,
                       help="write a checkpoint as a Hugging Face GPT-2 folder",
                       description="Write the checkpoint in --out_dir as a Hugging Face GPT-2 "
                                   "folder (config.json, model.safetensors, tokenizer files) "
                                   "that transformers and `--init_from PATH` load.")
    _flag(p, "out_dir", default="out-shakespeare-char", help="folder holding ckpt.safetensors")
    _flag(p, "to", default=None, help="the folder to write (required)")
    _flag(p, "overwrite", type=_bool, nargs="?", const=True, default=False,
          help="write into a folder that is not empty")
    p.set_defaults(func=cmd_export, parser=p)

    p = sub.add_parser("prepare", allow_abbrev=False,
                       help="tokenize a text into train.bin / val.bin / meta.json")
    p.add_argument("input", nargs="?", default=None,
                   help="a UTF-8 text file (default: the shakespeare_char dataset)")
    _flag(p, "dataset", default=None, help="a built-in dataset (shakespeare_char)")
    _flag(p, "out_dir", default=None, help="where to write (default: data/<name>)")
    _flag(p, "tokenizer", default="char",
          help="char, bpe (trained on the text), a tokenizer JSON file, or a pretrained GPT-2 "
               "folder or cached name whose tokenizer to use (default: char)")
    _flag(p, "vocab_size", type=_optional(int), default=None, help="BPE vocabulary size")
    _flag(p, "val_fraction", type=float, default=0.1, help="(default: 0.1)")
    p.set_defaults(func=cmd_prepare, parser=p)

    p = sub.add_parser("graph", allow_abbrev=False,
                       help="draw the autograd graph of one GPT training step")
    _flag(p, "out", default="gpt_graph.svg",
          help="output file: .svg, .png, .pdf (need Graphviz) or .dot (default: gpt_graph.svg)")
    for name, default in (("n_layer", 1), ("n_head", 2), ("n_embd", 16), ("block_size", 8),
                          ("vocab_size", 16), ("batch_size", 2)):
        _flag(p, name, type=int, default=default, help=f"(default: {default})")
    _flag(p, "verbose", type=_bool, nargs="?", const=True, default=False,
          help="label tensors with shape and dtype")
    p.set_defaults(func=cmd_graph, parser=p)

    # listed for --help only: main() hands `run ...` to cmd_run before argparse sees it
    sub.add_parser("run", help="run a PyTorch script with numpy2gpt standing in for torch",
                   add_help=False)
    return parser


def main(argv=None):
    """Run the command line `argv` (default sys.argv[1:]); return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["run"]:  # the script's own flags go to the script, untouched by argparse
        return cmd_run(argv[1:])
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
        if getattr(args, "kernels", None) is None:
            kernels.get_backend()  # a bad NUMPY2GPT_KERNELS: one line now, not mid-run
        return args.func(args, extras)
    except UsageError as e:
        e.parser.print_usage(sys.stderr)
        print(f"error: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 0
    except FailedOnAnotherRank:  # under mpiexec: that rank said why
        return 2
    except KeyboardInterrupt:
        if launched()[0] == 0:
            print("\ninterrupted", file=sys.stderr)
        return 130
    except (ConfigError, CheckpointError, ValueError, OSError) as e:
        if os.environ.get("NUMPY2GPT_TRACEBACK"):
            raise
        return _fail(e, 2)


def _fail(error, status, every_rank=False):
    """Print `error: ...` and return `status`; under mpiexec, as the module docstring says.

    every_rank: the error is one all ranks meet at the same step (a diverged loss: the losses
    and weights are the same on every rank), so they can all simply exit; rank 0 says it."""
    from .gpt.ranks import abort

    rank, size = launched()
    joined = size > 1 and "numpy2gpt.distributed" in sys.modules and \
        sys.modules["numpy2gpt.distributed"].is_initialized()
    told = getattr(error, "told_all_ranks", False)  # the others know and stop (Ranks.together)
    if rank == 0:
        print(f"error: {error}", file=sys.stderr, flush=True)
    elif joined and not every_rank and not getattr(error, "rank_0_says_it", False):
        print(f"error: rank {rank}: {error}", file=sys.stderr, flush=True)
    if joined and not every_rank and not told:
        abort(status)
    return status


__all__ = ["main", "build_parser", "TrainConfig"]
