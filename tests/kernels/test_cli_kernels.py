"""The kernel switch on the command line: `--kernels reference|fast` and NUMPY2GPT_KERNELS for
`numpy2gpt train` and `numpy2gpt sample`; a run on the reference kernels agrees with the fast
one."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import numpy2gpt.kernels as K
from numpy2gpt.cli import main
from numpy2gpt.gpt.checkpoint import load_checkpoint

pytestmark = pytest.mark.usefixtures("isolated_training")

REPO = Path(__file__).resolve().parents[2]
TINY = ["--n_layer", "1", "--n_head", "2", "--n_embd", "16", "--block_size", "16",
        "--batch_size", "4", "--eval_iters", "2", "--warmup_iters", "2", "--lr_decay_iters", "12",
        "--plot", "false", "--max_iters", "6", "--eval_interval", "3", "--log_interval", "100"]


def numpy2gpt(argv, kernels, cwd, cache):
    """`python -m numpy2gpt argv` with NUMPY2GPT_KERNELS=kernels: (status, stdout, stderr)."""
    env = {**os.environ, "NUMPY2GPT_KERNELS": kernels, "NUMPY2GPT_CACHE": str(cache),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.pop("NUMPY2GPT_TRACEBACK", None)
    r = subprocess.run([sys.executable, "-m", "numpy2gpt", *map(str, argv)], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout, r.stderr


def evals(out):
    """The (train, val) losses of every evaluation in out/metrics.jsonl."""
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [(m["train_loss"], m["val_loss"]) for m in lines if m.get("val_loss") is not None]


def test_the_reference_kernels_train_the_same_run_within_0_01(corpus, tmp_path, capsys):
    fast = tmp_path / "fast"
    assert main(["train", "--data", str(corpus), "--out_dir", str(fast), *TINY]) == 0
    code, _, err = numpy2gpt(["train", "--data", corpus, "--out_dir", tmp_path / "ref", *TINY],
                             "reference", tmp_path, tmp_path / "cache")
    assert code == 0, err
    flag = tmp_path / "flag"
    assert main(["train", "--data", str(corpus), "--out_dir", str(flag), "--kernels",
                 "reference", *TINY]) == 0
    assert K.get_backend() == "fast"  # the flag lasts for its command only
    ours, ref = evals(fast), evals(tmp_path / "ref")
    assert len(ours) == len(ref) == 3
    for a, b in zip(ours, ref):
        assert a == pytest.approx(b, abs=0.01)
    weights = [load_checkpoint(out)["model"]["lm_head.weight"].numpy()
               for out in (fast, flag, tmp_path / "ref")]
    assert not np.array_equal(weights[0], weights[2])  # the reference kernels did run, and
    np.testing.assert_array_equal(weights[1], weights[2])  # --kernels is NUMPY2GPT_KERNELS

    code, text, err = numpy2gpt(["sample", "--out_dir", flag, "--num_samples", 1,
                                 "--max_new_tokens", 20, "--kernels", "reference"], "fast",
                                tmp_path, tmp_path / "cache")
    assert code == 0, err
    assert len(text.split("\n---------------\n")[0]) == 1 + 20  # the prompt "\n" + 20 tokens


@pytest.mark.parametrize("command", ["train", "sample"])
def test_a_bad_kernels_value_is_a_one_line_error(command, tmp_path, capsys):
    code = main([command, "--kernels", "slow", "--out_dir", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == "error: --kernels must be one of reference, fast, got 'slow'\n"
    assert not (tmp_path / "out").exists()

    code, out, err = numpy2gpt([command, "--out_dir", tmp_path / "out"], "bad", tmp_path,
                               tmp_path / "cache")
    assert code == 2 and out == ""
    assert err == "error: NUMPY2GPT_KERNELS must be one of reference, fast, got 'bad'\n"
    assert list(tmp_path.iterdir()) == []  # nothing written
