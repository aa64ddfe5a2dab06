"""Tests for the `numpy2gpt` command line: train / sample / prepare / graph / export via
main(argv), and one real `python -m numpy2gpt train` process stopped with Ctrl-C (SIGINT).

GPT-2 interop (`--init_from PATH`, `export`) is checked against transformers on a tiny random
GPT2LMHeadModel with a GPT-2 tokenizer trained here with Hugging Face `tokenizers`.
Bad input must end in one `error: ...` line and exit status 2, never a traceback.
"""

import hashlib
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: a hub call hangs here

import numpy as np
import pytest
from torch_compare import generated_play, isolate_training, offline_with_fallback, requires_dot

from numpy2gpt.cli import main
from numpy2gpt.gpt.checkpoint import build_model, load_checkpoint

REPO = Path(__file__).resolve().parents[1]
TINY = ["--n_layer", "1", "--n_head", "2", "--n_embd", "16", "--block_size", "16",
        "--batch_size", "4", "--eval_iters", "2", "--warmup_iters", "2", "--lr_decay_iters", "12",
        "--plot", "false"]


@pytest.fixture(autouse=True)
def _isolated(isolated_training, monkeypatch):
    monkeypatch.delenv("NUMPY2GPT_TRACEBACK", raising=False)


def run(argv, capsys):
    """main(argv) -> (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean_error(code, err, *fragments):
    assert code == 2, err
    assert "Traceback" not in err
    assert "error: " in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


# ---------------------------------------------------------------------- train
def test_train_with_underscore_dash_and_equals_flags(corpus, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, err = run(["train", "--data", corpus, "--out-dir", out, *TINY,
                             "--max-iters", "3", "--eval_interval=2", "--log-interval", "1",
                             "--always-save-checkpoint", "true"], capsys)
    assert code == 0, err
    assert "step 0: train loss" in stdout and "iter 2: loss" in stdout
    assert "done: 3 iterations" in stdout and f"numpy2gpt sample --out_dir {out}" in stdout
    ckpt = load_checkpoint(out)
    assert ckpt["iter_num"] == 3 and ckpt["config"]["eval_interval"] == 2
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3 + 3  # logs + evals 0, 2, 3

    # resume to 5 iterations; the remaining settings come from the checkpoint
    code, stdout, err = run(["train", "--out_dir", out, "--init_from", "resume",
                             "--max_iters", "5", "--always_save_checkpoint"], capsys)
    assert code == 0, err
    assert f"resuming from {out / 'ckpt.safetensors'} at iteration 3" in stdout
    assert load_checkpoint(out)["iter_num"] == 5


def test_train_config_files_and_flag_precedence(corpus, tmp_path, capsys):
    toml = tmp_path / "run.toml"
    toml.write_text(f'data = "{corpus}"\nmax_iters = 2\nn_layer = 1\nn_head = 2\nn_embd = 16\n'
                    'block_size = 16\nbatch_size = 4\neval_iters = 2\nplot = false\n'
                    'warmup_iters = 1\nlr_decay_iters = 10\n')
    code, _, err = run(["train", toml, "--out_dir", tmp_path / "a", "--max_iters", "1"], capsys)
    assert code == 0, err
    assert load_checkpoint(tmp_path / "a")["iter_num"] == 1  # the flag beats the file

    js = tmp_path / "run.json"
    js.write_text(json.dumps({"data": str(corpus), "max_iters": 2, "n_layer": 1, "n_head": 2,
                              "n_embd": 16, "block_size": 16, "batch_size": 4, "eval_iters": 2,
                              "plot": False, "warmup_iters": 1, "lr_decay_iters": 10}))
    code, _, err = run(["train", "--config", js, "--out_dir", tmp_path / "b"], capsys)
    assert code == 0, err
    assert load_checkpoint(tmp_path / "b")["config"]["n_embd"] == 16

    bad = tmp_path / "bad.toml"
    bad.write_text("max_itres = 3\n")
    code, _, err = run(["train", bad], capsys)
    assert_clean_error(code, err, "unknown key max_itres (did you mean max_iters")


def test_train_bad_input_is_a_clear_error(corpus, tmp_path, capsys):
    cases = [
        (["--max_iter", "3", "--lr", "1e-3"],
         ["unknown flags --max_iter (did you mean --max_iters", "--lr (did you mean "
                                                                "--learning_rate"]),
        (["--threads", "2"],
         ["unknown flag --threads (--threads was removed: use mpiexec -n N numpy2gpt train)"]),
        (["--max_iters", "many"], ["bad value 'many' for --max_iters: expected an integer"]),
        (["--n_embd", "15"], ["n_embd (15) must be divisible by n_head (2)"]),
        (["--max_iters", "3", "7"], ["unexpected argument '7'"]),
        (["--init_from", "resume"], ["no checkpoint found at"]),
    ]
    for flags, fragments in cases:
        code, _, err = run(["train", "--data", corpus, "--out_dir", tmp_path / "x", *TINY,
                            *flags], capsys)
        assert_clean_error(code, err, *fragments)

    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Fran\xe7ois ".encode("latin-1") * 100)
    code, _, err = run(["train", "--data", latin1, "--out_dir", tmp_path / "y", *TINY], capsys)
    assert_clean_error(code, err, "is not UTF-8 text: byte 0xe7 at byte offset 4")

    code, _, err = run(["train", "--data", tmp_path / "missing.txt", "--out_dir",
                        tmp_path / "y", *TINY], capsys)
    assert_clean_error(code, err, "data file not found")

    small = tmp_path / "small.txt"
    small.write_text("To be, or not to be.\n" * 3, encoding="utf-8")
    code, _, err = run(["train", "--data", small, "--out_dir", tmp_path / "y", *TINY], capsys)
    assert_clean_error(code, err, "split has only", "block_size=16 needs at least 17")

    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code, _, err = run(["train", "--data", corpus, "--out_dir", blocker / "out", *TINY], capsys)
    assert_clean_error(code, err, "is not writable")


def files_under(folder):
    """{relative path: bytes (None for a folder)} of everything under `folder`."""
    return {p.relative_to(folder): p.read_bytes() if p.is_file() else None
            for p in Path(folder).rglob("*")}


def assert_refused(argv, fragment, where, capsys):
    """`numpy2gpt train ...` run inside `where` exits 2 with one line naming `fragment`, and
    writes nothing there."""
    before = files_under(where)
    code, out, err = run(argv, capsys)
    assert_clean_error(code, err, fragment)
    assert len(err.strip().splitlines()) == 1, err
    assert files_under(where) == before


@pytest.mark.parametrize("flags, fragment", [
    (["--grad_clip", "nan"], "grad_clip must be a finite number, got nan"),
    (["--min_lr", "nan"], "min_lr must be a finite number, got nan"),
    (["--weight_decay", "nan"], "weight_decay must be a finite number, got nan"),
    (["--learning_rate", "inf"], "learning_rate must be a finite number, got inf"),
    (["--learning_rate", "-1e-3"], "learning_rate must be >= 0, got -0.001"),  # a value, not a flag
    (["--beta2", "-5e-1"], "beta2 must be in [0, 1), got -0.5"),
    (["--min_lr", "-inf"], "min_lr must be a finite number, got -inf"),
    (["--seed", str(2**70)], "seed must be in [-9223372036854775808, 18446744073709551615]"),
    (["--n_embd", str(10**12)], "the model is too big for this machine: n_layer=1, "
                                "n_embd=1000000000000 is about 1.2e+25 parameters"),
    (["--out_dir", ""], "out_dir must not be empty"),
    (["--init_from", "resume", "--out_dir", "out-typo"],
     "no checkpoint found at out-typo/ckpt.safetensors: the directory out-typo does not exist"),
])
def test_train_refuses_bad_values_before_writing_anything(flags, fragment, corpus,
                                                          tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert_refused(["train", "--data", corpus, *TINY, "--max_iters", "2", *flags],
                   fragment, tmp_path, capsys)


def test_out_dir_that_is_a_file_or_empty_is_refused(corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out.txt").write_text("not a folder")
    assert_refused(["train", "--data", corpus, *TINY, "--out_dir", "out.txt"],
                   "--out_dir out.txt is a file, not a folder", tmp_path, capsys)
    assert_refused(["prepare", corpus, "--out_dir", "out.txt"],
                   "--out_dir out.txt is a file, not a folder", tmp_path, capsys)
    assert_refused(["prepare", corpus, "--out_dir", ""], "--out_dir must not be empty",
                   tmp_path, capsys)


def test_train_help_describes_every_flag(capsys):
    parser = main.__globals__["build_parser"]()
    train_parser = parser._subparsers._group_actions[0].choices["train"]
    for action in train_parser._actions:
        if action.option_strings and action.dest != "help":
            assert action.help and not action.help.startswith("("), action.option_strings
    code, out, _ = run(["train", "--help"], capsys)
    assert "--grad-clip FLOAT clip the gradient norm at this value; 0 disables (default: 1.0)" \
        in " ".join(out.split())


def test_warmup_equal_to_lr_decay_iters_trains(corpus, tmp_path, capsys):
    for n in (2, 0):
        out = tmp_path / f"out{n}"
        code, _, err = run(["train", "--data", corpus, "--out_dir", out, *TINY,
                            "--warmup_iters", n, "--lr_decay_iters", n, "--max_iters", 4,
                            "--log_interval", 1], capsys)
        assert code == 0, err
        lrs = [json.loads(line)["lr"] for line in (out / "metrics.jsonl").read_text().splitlines()
               if json.loads(line)["kind"] == "log"]
        assert lrs[n:] == [1e-4] * (4 - n)  # min_lr from lr_decay_iters on


def test_a_nanogpt_config_file_runs_unchanged(corpus, tmp_path, capsys):
    cfg = tmp_path / "train_tiny_char.py"
    cfg.write_text("import time\nout_dir = 'out-tiny'\nwandb_log = False\n"
                   "wandb_project = 'tiny-char'\nwandb_run_name = 'mini-' + str(time.time())\n"
                   "backend = 'nccl'\ndevice = 'cpu'\ncompile = False\nmax_iters = 2\n")
    code, out, err = run(["train", cfg, "--data", corpus, "--out_dir", tmp_path / "o",
                          *TINY], capsys)
    assert code == 0, err
    assert out.count("has no effect in numpy2gpt") == 1  # wandb_project; the rest are defaults
    assert load_checkpoint(tmp_path / "o")["iter_num"] == 2


def test_resume_past_max_iters_and_fixed_settings_change_nothing(corpus, tmp_path,
                                                                capsys):
    out = tmp_path / "out"
    assert run(["train", "--data", corpus, "--out_dir", out, *TINY, "--max_iters", 4],
               capsys)[0] == 0
    resume = ["train", "--init_from", "resume", "--out_dir", out]
    assert_refused([*resume, "--max_iters", 2], "the checkpoint in " + str(out) + " is at "
                   "iteration 4, already past max_iters=2: nothing to do", tmp_path, capsys)
    assert_refused([*resume, "--tokenizer", "bpe", "--vocab_size", 500],
                   "tokenizer='bpe' does not match the checkpoint's tokenizer='char': the "
                   "tokenizer (the data is tokenized with the checkpoint's) is fixed when "
                   "resuming; vocab_size=500 does not match", tmp_path, capsys)
    assert_refused([*resume, "--n_layer", 2, "--seed", 7],
                   "n_layer=2 does not match the checkpoint's n_layer=1: the model's shape is "
                   "fixed when resuming; seed=7 does not match", tmp_path, capsys)


def test_done_line_names_no_missing_checkpoint(corpus, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert run(["train", "--data", corpus, "--out_dir", out, *TINY, "--max_iters", 2,
                "--eval_interval", 2], capsys)[0] == 0
    train_module = importlib.import_module("numpy2gpt.gpt.train")
    monkeypatch.setattr(train_module, "estimate_loss", lambda *a, **k: {"train": 9.0, "val": 9.0})
    code, stdout, err = run(["train", "--init_from", "resume", "--out_dir", out,
                             "--max_iters", 4], capsys)  # worse at 4: the best is kept
    assert code == 0, err
    assert "None" not in stdout
    assert "this run saved no checkpoint (the one in the out_dir keeps the best model)" in stdout


def test_a_second_run_into_a_held_out_dir_is_refused(corpus, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["train", "--data", corpus, "--out_dir", out, *TINY, "--max_iters", 4,
            "--log_interval", 1]
    second = {}

    def start_a_second_run(info):  # while the first run holds out_dir
        if info["iter_num"] == 2:
            second["code"] = main([str(a) for a in argv + ["--overwrite"]])
            second["err"] = capsys.readouterr().err

    train_module = importlib.import_module("numpy2gpt.gpt.train")
    train = train_module.train
    first = train_module.train = lambda config, **kw: train(config, callback=start_a_second_run,
                                                            **kw)
    try:
        code = main([str(a) for a in argv])
    finally:
        train_module.train = train
    assert first and code == 0
    assert second["code"] == 2 and second["err"].count("\n") == 1
    assert f"error: out_dir {out} is in use by another run (pid {os.getpid()}, lock file " \
        f"{out / 'train.lock'}): wait for it to end or choose another --out_dir" in second["err"]
    assert load_checkpoint(out)["iter_num"] == 4  # the first run's, complete
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["iter"] for r in metrics if r["kind"] == "log"] == [0, 1, 2, 3]
    assert not (out / "train.lock").exists()  # released at the end

    # a lock file left by a process that died is taken over
    (out / "train.lock").write_text("999999999\n")
    code, _, err = run([*argv[:-4], "--init_from", "resume", "--max_iters", 5], capsys)
    assert code == 0, err
    assert not (out / "train.lock").exists()


def test_a_diverging_run_stops_and_keeps_the_last_good_checkpoint(corpus, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["train", "--data", corpus, "--out_dir", out, *TINY, "--max_iters", 2],
               capsys)[0] == 0
    before = files_under(out)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # none may leak from NumPy
        code, _, err = run(["train", "--init_from", "resume", "--out_dir", out,
                            "--learning_rate", "1e30", "--max_iters", 40,
                            "--always_save_checkpoint"], capsys)
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "error: the training loss is nan at iteration " in err
    ckpt = out / "ckpt.safetensors"
    assert f"training diverged, so it stopped without saving (the last checkpoint, {ckpt}, is " \
        "kept); try a lower --learning_rate (it is 1e+30)" in err
    assert files_under(out)[Path("ckpt.safetensors")] == before[Path("ckpt.safetensors")]
    metrics = (out / "metrics.jsonl").read_text()
    assert "NaN" not in metrics and "Infinity" not in metrics
def test_train_offline_says_which_text_it_trains_on(corpus, tmp_path, capsys, monkeypatch):
    plays = Path(corpus).read_text(encoding="utf-8")
    offline_with_fallback(monkeypatch, plays)
    code, stdout, err = run(["train", "--out_dir", tmp_path / "out", *TINY, "--max_iters", "1"],
                            capsys)  # the README's command: the built-in shakespeare_char
    assert code == 0, err
    warning = stdout.index("WARNING: the training text is NOT tinyshakespeare")
    assert warning < stdout.index("step 0: train loss")
    sha256 = hashlib.sha256(plays.encode("utf-8")).hexdigest()
    assert f"{len(plays):,} characters, sha256 {sha256}" in stdout
    assert "differ from the README's" in stdout


# ---------------------------------------------------------------------- sample
@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "out"
    with pytest.MonkeyPatch.context() as mp:
        isolate_training(mp, out.parent / "cache")
        assert main(["train", "--data", str(corpus), "--out_dir", str(out), *TINY,
                     "--max_iters", "3"]) == 0
    return out


def test_sample_streams_text_to_stdout(trained, capsys):
    code, out, err = run(["sample", "--out_dir", trained, "--start", "ROMEO:",
                          "--num-samples", "2", "--max_new_tokens", "25", "--seed", "3",
                          "--top_k", "none", "--top_p", "0.95"], capsys)
    assert code == 0, err
    samples = out.split("\n---------------\n")
    assert len(samples) == 3 and samples[2] == ""
    assert all(s.startswith("ROMEO:") and len(s) == 6 + 25 for s in samples[:2])
    assert "number of parameters" in err and "number of parameters" not in out  # stdout: text
    code, again, _ = run(["sample", "--out_dir", trained, "--start", "ROMEO:",
                          "--num_samples", "2", "--max-new-tokens", "25", "--seed", "3",
                          "--top-k", "none", "--top-p", "0.95", "--use_cache", "false"], capsys)
    assert again == out  # same seed, no KV cache: the same text


def test_sample_bad_input_is_a_clear_error(trained, tmp_path, capsys):
    code, _, err = run(["sample", "--out_dir", trained, "--start", "Zebra{"], capsys)
    assert_clean_error(code, err, "characters not in the vocabulary: 'Z', '{'")
    code, _, err = run(["sample", "--out_dir", trained, "--start", "FILE:nope.txt"], capsys)
    assert_clean_error(code, err, "prompt file not found: nope.txt")
    code, _, err = run(["sample", "--out_dir", tmp_path], capsys)
    assert_clean_error(code, err, "no checkpoint found")
    (tmp_path / "ckpt.safetensors").write_bytes(b"garbage" * 20)
    code, _, err = run(["sample", "--out_dir", tmp_path], capsys)
    assert_clean_error(code, err, "corrupt or unreadable")
    code, _, err = run(["sample", "--out_dir", trained, "--temprature", "0.5"], capsys)
    assert_clean_error(code, err, "'--temprature' (did you mean --temperature")
    code, _, err = run(["sample", "--out_dir", trained, "--num_samples", "x"], capsys)
    assert_clean_error(code, err, "invalid int value: 'x'")


@pytest.mark.parametrize("flag, value, message", [
    ("--temperature", "nan", "temperature must be finite and >= 0"),
    ("--temperature", "inf", "temperature must be finite and >= 0"),
    ("--top_p", "nan", "top_p must be in (0, 1]"),
    ("--top_k", "-3", "top_k must be an integer >= 1"),
])
def test_sample_settings_are_refused_before_any_work(trained, flag, value, message, capsys):
    code, out, err = run(["sample", "--out_dir", trained, flag, value], capsys)
    assert_clean_error(code, err, f"{message}", f"got {value}")
    assert out == "" and len(err.splitlines()) == 1  # refused before loading the checkpoint


def test_sample_says_what_is_wrong_with_a_path(trained, tmp_path, capsys):
    code, out, err = run(["sample", "--out_dir", trained, "--start", f"FILE:{tmp_path}"], capsys)
    assert_clean_error(code, err, f"{tmp_path} is a directory; FILE: needs a text file")
    assert "not found" not in err and out == ""
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    code, out, err = run(["sample", "--out_dir", a_file], capsys)
    assert_clean_error(code, err, f"{a_file} is a file; out_dir is the directory that holds "
                                  "ckpt.safetensors")
    assert "does not exist" not in err and out == ""


def test_sample_crops_a_prompt_longer_than_block_size(trained, capsys):
    code, out, err = run(["sample", "--out_dir", trained, "--start", "x" * 20, "--num_samples",
                          "1", "--max_new_tokens", "5"], capsys)
    assert code == 0, err
    assert "the prompt is 20 tokens, longer than block_size=16: the model sees its last 16 " \
        "tokens" in err.splitlines()
    assert out.startswith("x" * 20) and len(out) == 20 + 5 + len("\n---------------\n")


# ---------------------------------------------------------------------- prepare and graph
def test_prepare(corpus, tmp_path, capsys):
    code, out, err = run(["prepare", corpus, "--out_dir", tmp_path / "d"], capsys)
    assert code == 0, err
    meta = json.loads((tmp_path / "d" / "meta.json").read_text())
    vocab_size = len(set(Path(corpus).read_text(encoding="utf-8")))
    assert meta["vocab_size"] == vocab_size and meta["train_tokens"] == 18_000
    assert (tmp_path / "d" / "train.bin").stat().st_size == 2 * 18_000
    code, _, err = run(["prepare", corpus, "--out_dir", tmp_path / "b", "--tokenizer", "bpe",
                        "--vocab-size", "280"], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "b" / "meta.json").read_text())["vocab_size"] == 280
    code, _, err = run(["prepare", tmp_path / "missing.txt", "--out_dir", tmp_path / "c"], capsys)
    assert_clean_error(code, err, "data file not found")
    assert not (tmp_path / "c").exists()


def test_graph_dot(tmp_path, capsys):
    code, out, err = run(["graph", "--out", tmp_path / "g.dot"], capsys)
    assert code == 0, err
    dot = (tmp_path / "g.dot").read_text()
    assert dot.startswith("digraph") and "CrossEntropy" in dot
    assert "transformer.wte.weight" in dot and 'label="loss"' in dot  # named parameters
    code, _, err = run(["graph", "--out", tmp_path / "noext"], capsys)
    assert_clean_error(code, err, "cannot tell the output format")


@requires_dot
def test_graph_svg(tmp_path, capsys):
    code, _, err = run(["graph", "--out", tmp_path / "g.svg", "--verbose"], capsys)
    assert code == 0, err
    assert "<svg" in (tmp_path / "g.svg").read_text()


def test_graph_without_graphviz_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code, _, err = run(["graph", "--out", tmp_path / "g.svg"], capsys)
    assert_clean_error(code, err, "`dot` program was not found", "apt-get install graphviz",
                       "brew install graphviz", "conda install graphviz")
    assert not (tmp_path / "g.svg").exists()


def test_graph_is_clustered_by_module(tmp_path, capsys):
    assert main(["graph", "--out", str(tmp_path / "g.dot")]) == 0
    dot = (tmp_path / "g.dot").read_text()
    for cluster in ("transformer.h.0.attn", "transformer.h.0.mlp", "transformer.ln_f"):
        assert f'label="{cluster}"' in dot  # one box per module


def test_usage_errors_and_help(capsys):
    code, _, err = run([], capsys)
    assert code == 2 and "usage: numpy2gpt" in err
    code, _, err = run(["trian"], capsys)
    assert code == 2 and "invalid choice: 'trian'" in err
    code, out, _ = run(["train", "--help"], capsys)
    assert code == 0 and "--max_iters" in out and "--max-iters" in out


# ---------------------------------------------------------------------- GPT-2 checkpoints
EOT = "<|endoftext|>"


@pytest.fixture(scope="module")
def hf(tmp_path_factory):
    """(folder, transformers model, `tokenizers` tokenizer): a tiny random GPT2LMHeadModel and a
    byte-level BPE tokenizer trained on a generated play, saved together as a Hugging Face
    folder."""
    torch = pytest.importorskip("torch")
    tokenizers = pytest.importorskip("tokenizers")
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    folder = tmp_path_factory.mktemp("hf_tiny")
    tok = tokenizers.ByteLevelBPETokenizer(add_prefix_space=False)
    tok.train_from_iterator([generated_play(50_000)], vocab_size=400,
                            min_frequency=2, special_tokens=[EOT], show_progress=False)
    tok.save_model(str(folder))  # vocab.json + merges.txt
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=tok.get_vocab_size(), n_positions=64, n_embd=32,
                                     n_layer=2, n_head=2, bos_token_id=None, eos_token_id=None)
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():  # move every weight off its init, so no mapping error can hide
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    model.save_pretrained(str(folder))
    return folder, model, tok


def _hf_greedy(model, ids, n):
    import torch

    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=n, do_sample=False,
                             pad_token_id=0)
    return out[0].tolist()


def _hf_logits(folder, idx):
    """All-position logits of the Hugging Face folder, computed by transformers."""
    import torch
    import transformers

    model = transformers.GPT2LMHeadModel.from_pretrained(str(folder)).eval()
    with torch.no_grad():
        return model(torch.from_numpy(idx)).logits.numpy()


def _our_logits(model, idx):
    model.eval()
    logits, _ = model(idx, targets=idx)  # with targets: every position's logits
    return logits.detach().numpy()


def _greedy_argv(*where):
    return ["sample", *where, "--start", "ROMEO:", "--max_new_tokens", "10", "--temperature",
            "0", "--num_samples", "1"]


def test_sample_init_from_folder_equals_transformers_greedy(hf, capsys):
    folder, model, tok = hf
    code, out, err = run(_greedy_argv("--init_from", folder), capsys)
    assert code == 0, err
    ids = _hf_greedy(model, tok.encode("ROMEO:").ids, 10)
    assert len(ids) == len(tok.encode("ROMEO:").ids) + 10
    assert out == tok.decode(ids, skip_special_tokens=False) + "\n---------------\n"
    assert f"loaded pretrained GPT-2 {folder}" in err and "n_layer 2" in err


def test_train_init_from_folder_fine_tunes_with_its_tokenizer(hf, corpus, tmp_path, capsys):
    folder, model, tok = hf
    out = tmp_path / "ft"
    flags = ["--data", corpus, "--batch_size", "2", "--eval_iters", "2", "--plot", "false",
             "--warmup_iters", "1", "--lr_decay_iters", "3", "--learning_rate", "1e-2"]
    code, stdout, err = run(["train", "--init_from", folder, "--out_dir", out, "--block_size",
                             "32", "--dropout", "0.1", "--max_iters", "3", *flags], capsys)
    assert code == 0, err
    assert f"initializing from pretrained GPT-2 {folder}" in stdout
    assert "block_size 32 (of 64), dropout 0.1" in stdout
    ckpt = load_checkpoint(out)
    assert ckpt["iter_num"] == 3 and ckpt["tokenizer"]["type"] == "gpt2"
    assert ckpt["model_args"] == dict(block_size=32, vocab_size=400, n_layer=2, n_head=2,
                                      n_embd=32, dropout=0.1, bias=True, gelu="tanh")
    assert ckpt["config"]["init_from"] == str(folder) and ckpt["config"]["n_layer"] == 2
    assert ckpt["model"]["transformer.wpe.weight"].shape == (32, 32)  # cropped to block_size
    # the dataset was tokenized with the checkpoint's tokenizer (Hugging Face's encoding)
    text = Path(corpus).read_text(encoding="utf-8")
    train_ids = np.fromfile(out / "data" / "train.bin", dtype=np.uint16)
    assert train_ids.tolist() == tok.encode(text[:int(len(text) * 0.9)]).ids
    # fine-tuning moved the weights
    hf_wte = model.transformer.wte.weight.detach().numpy()
    assert not np.allclose(ckpt["model"]["transformer.wte.weight"], hf_wte)

    # sample from the fine-tuned checkpoint: GPT-2 tokenizer, same text as transformers on the
    # exported model
    code, sampled, err = run(_greedy_argv("--out_dir", out), capsys)
    assert code == 0, err
    code, _, err = run(["export", "--out_dir", out, "--to", tmp_path / "ft-hf"], capsys)
    assert code == 0, err
    import transformers

    exported = transformers.GPT2LMHeadModel.from_pretrained(str(tmp_path / "ft-hf")).eval()
    ids = _hf_greedy(exported, tok.encode("ROMEO:").ids, 10)
    assert sampled == tok.decode(ids, skip_special_tokens=False) + "\n---------------\n"
    idx = np.random.default_rng(0).integers(0, 400, (2, 32))
    ours = build_model(load_checkpoint(out))
    assert np.abs(_our_logits(ours, idx) - _hf_logits(tmp_path / "ft-hf", idx)).max() < 1e-5
    hf_tok = transformers.GPT2Tokenizer.from_pretrained(str(tmp_path / "ft-hf"))
    assert hf_tok.encode(text[:500]) == tok.encode(text[:500]).ids

    # resume continues the fine-tuning run (the model keeps GPT-2's tanh GELU and shape)
    code, _, err = run(["train", "--out_dir", out, "--init_from", "resume", "--max_iters", "4",
                        "--always_save_checkpoint"], capsys)
    assert code == 0, err
    ckpt = load_checkpoint(out)
    assert ckpt["iter_num"] == 4 and ckpt["model_args"]["gelu"] == "tanh"

    # without --block_size the checkpoint's 64 positions are kept (nanoGPT's default)
    code, stdout, err = run(["train", "--init_from", folder, "--out_dir", tmp_path / "full",
                             "--max_iters", "0", *flags], capsys)
    assert code == 0, err
    assert load_checkpoint(tmp_path / "full")["model_args"]["block_size"] == 64


def test_init_from_bad_checkpoints_are_clear_errors(hf, corpus, tmp_path, capsys):
    folder = hf[0]
    missing = tmp_path / "missing"
    for argv in (["train", "--data", corpus, "--out_dir", tmp_path / "o"], _greedy_argv()):
        code, _, err = run([*argv, "--init_from", missing], capsys)
        assert_clean_error(code, err, f"init_from: no such folder: {missing}")

    llama = tmp_path / "llama"
    shutil.copytree(folder, llama)
    cfg = json.loads((llama / "config.json").read_text())
    (llama / "config.json").write_text(json.dumps({**cfg, "model_type": "llama"}))
    for argv in (["train", "--data", corpus, "--out_dir", tmp_path / "o"], _greedy_argv()):
        code, _, err = run([*argv, "--init_from", llama], capsys)
        assert_clean_error(code, err, "model_type is 'llama', not 'gpt2'")

    no_tok = tmp_path / "no_tok"
    shutil.copytree(folder, no_tok)
    (no_tok / "vocab.json").unlink()
    for argv in (["train", "--data", corpus, "--out_dir", tmp_path / "o"], _greedy_argv()):
        code, _, err = run([*argv, "--init_from", no_tok], capsys)
        assert_clean_error(code, err, f"{no_tok} holds no tokenizer")

    train = ["train", "--data", corpus, "--out_dir", tmp_path / "o", "--init_from"]
    cases = [
        (["scrach"], "did you mean 'scratch'?"),
        ([folder, "--n_layer", "3"], "n_layer=3 does not match the pretrained model's n_layer=2"),
        ([folder, "--bias", "false"], "bias=False does not match the pretrained model's bias="),
        ([folder, "--block_size", "65"], "block_size overflow: the pretrained model has 64 "
                                         "positions"),
        ([folder, "--tokenizer", "bpe", "--vocab_size", "300"],
         "tokenizer, vocab_size cannot be set with init_from="),
    ]
    for flags, fragment in cases:
        code, _, err = run([*train, *flags], capsys)
        assert_clean_error(code, err, fragment)
    assert not (tmp_path / "o" / "ckpt.safetensors").exists()
    code, _, err = run(_greedy_argv("--init_from", "scratch"), capsys)
    assert_clean_error(code, err, "init_from must be 'resume'")


def test_prepare_with_a_pretrained_tokenizer(hf, corpus, tmp_path, capsys):
    folder, _, tok = hf
    code, _, err = run(["prepare", corpus, "--out_dir", tmp_path / "d", "--tokenizer", folder],
                       capsys)
    assert code == 0, err
    text = Path(corpus).read_text(encoding="utf-8")
    val = np.fromfile(tmp_path / "d" / "val.bin", dtype=np.uint16)
    assert val.tolist() == tok.encode(text[int(len(text) * 0.9):]).ids
    meta = json.loads((tmp_path / "d" / "meta.json").read_text())
    assert meta["vocab_size"] == 400 and meta["tokenizer"]["type"] == "gpt2"
    code, _, err = run(["prepare", corpus, "--out_dir", tmp_path / "e", "--tokenizer", "chr"],
                       capsys)
    assert_clean_error(code, err, "did you mean 'char'?")
    code, _, err = run(["prepare", corpus, "--out_dir", tmp_path / "e", "--tokenizer", folder,
                        "--vocab_size", "300"], capsys)
    assert_clean_error(code, err, "--vocab_size is only for --tokenizer bpe")


def test_export_round_trips_through_transformers(trained, tmp_path, capsys):
    pytest.importorskip("transformers")
    # the char model trained from scratch: exact GELU, no biases, a char tokenizer
    dest = tmp_path / "char-hf"
    code, out, err = run(["export", "--out_dir", trained, "--to", dest], capsys)
    assert code == 0, err
    assert f"wrote a Hugging Face GPT-2 folder to {dest}" in out
    assert sorted(p.name for p in dest.iterdir()) == [
        "config.json", "model.safetensors", "numpy2gpt_tokenizer.json", "tokenizer.json",
        "tokenizer_config.json"]
    ours = build_model(load_checkpoint(trained))
    idx = np.random.default_rng(0).integers(0, ours.config.vocab_size, (2, 16))
    assert np.abs(_our_logits(ours, idx) - _hf_logits(dest, idx)).max() < 1e-5
    # and back: sampling the exported folder gives the checkpoint's text
    args = ["--start", "ROMEO:", "--num_samples", "2", "--max_new_tokens", "12", "--seed", "7"]
    code, from_ckpt, err = run(["sample", "--out_dir", trained, *args], capsys)
    assert code == 0, err
    code, from_hf, err = run(["sample", "--init_from", dest, *args], capsys)
    assert code == 0, err
    assert from_hf == from_ckpt

    # errors: a folder already in use, no --to, no checkpoint
    code, _, err = run(["export", "--out_dir", trained, "--to", dest], capsys)
    assert_clean_error(code, err, f"cannot export to {dest}: the folder is not empty")
    code, _, err = run(["export", "--out_dir", trained, "--to", dest, "--overwrite"], capsys)
    assert code == 0, err
    code, _, err = run(["export", "--out_dir", trained], capsys)
    assert_clean_error(code, err, "the following arguments are required: --to")
    code, _, err = run(["export", "--out_dir", tmp_path, "--to", tmp_path / "x"], capsys)
    assert_clean_error(code, err, "no checkpoint found")
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------------- a real process
def test_python_m_numpy2gpt_train_ctrl_c_saves_and_resumes(corpus, tmp_path):
    """`python -m numpy2gpt train` in a real process; Ctrl-C saves a checkpoint, exit 130."""
    out = tmp_path / "out"
    env = {**os.environ, "NUMPY2GPT_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "numpy2gpt", "train", "--data", str(corpus), "--out_dir",
           str(out), *TINY, "--max_iters", "1000000", "--lr_decay_iters", "1000000",
           "--eval_interval", "1000000", "--log_interval", "1"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        metrics = out / "metrics.jsonl"
        while time.monotonic() < deadline and proc.poll() is None:
            if metrics.is_file() and metrics.read_text().count('"kind": "log"') >= 3:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        # a second run into the folder this process holds is refused, and writes nothing
        second = subprocess.run([*cmd, "--overwrite"], cwd=REPO, env=env, capture_output=True,
                                text=True, timeout=120)
        assert second.returncode == 2 and second.stderr == (
            f"error: out_dir {out} is in use by another run (pid {proc.pid}, lock file "
            f"{out / 'train.lock'}): wait for it to end or choose another --out_dir\n")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "(interrupted, iteration" in stdout  # the checkpoint was saved
    hint = f"continue with `numpy2gpt train --init_from resume --out_dir {out}`"
    assert (stdout + stderr).count("--init_from resume") == 1 and hint in stdout
    assert "iter 2: loss" in stdout
    stopped_at = load_checkpoint(out)["iter_num"]
    assert stopped_at >= 3
    code = main(["train", "--out_dir", str(out), "--init_from", "resume", "--max_iters",
                 str(stopped_at + 2)])
    assert code == 0
    assert load_checkpoint(out)["iter_num"] == stopped_at + 2
