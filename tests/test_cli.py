"""Tests for the `numpy2gpt` command line: train / sample / prepare / graph via main(argv), and
one real `python -m numpy2gpt train` process stopped with Ctrl-C (SIGINT).

Bad input must end in one `error: ...` line and exit status 2, never a traceback.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from numpy2gpt.cli import main
from numpy2gpt.gpt.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[1]
SHARED_TEXT = Path(os.environ.get("NUMPY2GPT_DATA")
                   or REPO / ".." / "shared" / "data" / "tinyshakespeare.txt")
TINY = ["--n_layer", "1", "--n_head", "2", "--n_embd", "16", "--block_size", "16",
        "--batch_size", "4", "--eval_iters", "2", "--warmup_iters", "2", "--lr_decay_iters", "12",
        "--plot", "false"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMPY2GPT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("NUMPY2GPT_DATA", raising=False)
    monkeypatch.delenv("NUMPY2GPT_TRACEBACK", raising=False)
    monkeypatch.setattr("numpy2gpt.gpt.mfu.measure_matmul_peak", lambda *a, **k: 1e11)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    if not SHARED_TEXT.is_file():
        pytest.skip(f"shared text not found: {SHARED_TEXT}")
    path = tmp_path_factory.mktemp("corpus") / "shakespeare_20k.txt"
    path.write_text(SHARED_TEXT.read_text(encoding="utf-8")[:20_000], encoding="utf-8")
    return path


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
                             "--max-iters", "3", "--eval_interval=2", "--log-interval", "1"],
                            capsys)
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


# ---------------------------------------------------------------------- sample
@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "out"
    mp = pytest.MonkeyPatch()
    mp.setenv("NUMPY2GPT_CACHE", str(out.parent / "cache"))
    mp.setattr("numpy2gpt.gpt.mfu.measure_matmul_peak", lambda *a, **k: 1e11)
    try:
        assert main(["train", "--data", str(corpus), "--out_dir", str(out), *TINY,
                     "--max_iters", "3"]) == 0
    finally:
        mp.undo()
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
    code, _, err = run(["sample", "--out_dir", trained, "--start", "x" * 17], capsys)
    assert_clean_error(code, err, "block_size overflow")
    code, _, err = run(["sample", "--out_dir", tmp_path], capsys)
    assert_clean_error(code, err, "no checkpoint found")
    (tmp_path / "ckpt.safetensors").write_bytes(b"garbage" * 20)
    code, _, err = run(["sample", "--out_dir", tmp_path], capsys)
    assert_clean_error(code, err, "corrupt or unreadable")
    code, _, err = run(["sample", "--out_dir", trained, "--temprature", "0.5"], capsys)
    assert_clean_error(code, err, "'--temprature' (did you mean --temperature")
    code, _, err = run(["sample", "--out_dir", trained, "--num_samples", "x"], capsys)
    assert_clean_error(code, err, "invalid int value: 'x'")


# ---------------------------------------------------------------------- prepare and graph
def test_prepare(corpus, tmp_path, capsys):
    code, out, err = run(["prepare", corpus, "--out_dir", tmp_path / "d"], capsys)
    assert code == 0, err
    meta = json.loads((tmp_path / "d" / "meta.json").read_text())
    assert meta["vocab_size"] == 58 and meta["train_tokens"] == 18_000
    assert (tmp_path / "d" / "train.bin").stat().st_size == 2 * 18_000
    code, _, err = run(["prepare", corpus, "--out_dir", tmp_path / "b", "--tokenizer", "bpe",
                        "--vocab-size", "280"], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "b" / "meta.json").read_text())["vocab_size"] == 280
    code, _, err = run(["prepare", tmp_path / "missing.txt", "--out_dir", tmp_path / "c"], capsys)
    assert_clean_error(code, err, "data file not found")
    assert not (tmp_path / "c").exists()


def test_graph_dot_and_svg(tmp_path, capsys):
    code, out, err = run(["graph", "--out", tmp_path / "g.dot"], capsys)
    assert code == 0, err
    dot = (tmp_path / "g.dot").read_text()
    assert dot.startswith("digraph") and "CrossEntropy" in dot
    assert "transformer.wte.weight" in dot and 'label="loss"' in dot  # named parameters
    if shutil.which("dot"):
        code, _, err = run(["graph", "--out", tmp_path / "g.svg", "--verbose"], capsys)
        assert code == 0, err
        assert "<svg" in (tmp_path / "g.svg").read_text()
    code, _, err = run(["graph", "--out", tmp_path / "noext"], capsys)
    assert_clean_error(code, err, "cannot tell the output format")


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
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "checkpoint saved to" in stderr and "--init_from resume" in stderr
    assert "iter 2: loss" in stdout
    stopped_at = load_checkpoint(out)["iter_num"]
    assert stopped_at >= 3
    code = main(["train", "--out_dir", str(out), "--init_from", "resume", "--max_iters",
                 str(stopped_at + 2)])
    assert code == 0
    assert load_checkpoint(out)["iter_num"] == stopped_at + 2
