"""`mpiexec -n N numpy2gpt train`: real MPI jobs of the command, against the one-process run.

Each test starts `mpiexec` (or plain Python for the one-process side) in a subprocess with a
timeout, on a tiny model and a generated text. They skip only where no MPI is installed.
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from mpi_jobs import find_mpiexec
from torch_compare import generated_play

from numpy2gpt.gpt.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[2]
MPIEXEC = find_mpiexec()
pytestmark = pytest.mark.skipif(
    MPIEXEC is None or importlib.util.find_spec("mpi4py") is None,
    reason="needs MPI: pip install '.[mpi]' (mpi4py and MPICH, which brings mpiexec)")

TINY = ["--n_layer", "1", "--n_head", "2", "--n_embd", "16", "--block_size", "16",
        "--eval_iters", "3", "--warmup_iters", "2", "--lr_decay_iters", "12", "--plot", "false",
        "--eval_interval", "2", "--log_interval", "1"]
TIMEOUT = 120  # seconds for a whole tiny job: a hang fails the test instead of blocking CI


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "play.txt"
    path.write_text(generated_play(20_000), encoding="utf-8")
    return path


def env(tmp_path):
    """The children's environment: this checkout's package, caches under tmp_path."""
    e = {k: v for k, v in os.environ.items()
         if k not in ("NUMPY2GPT_DATA", "NUMPY2GPT_TRACEBACK", "OMP_NUM_THREADS")}
    e.update(PYTHONPATH=str(REPO), NUMPY2GPT_CACHE=str(tmp_path / "cache"))
    return e


def command(n, flags):
    """`numpy2gpt train FLAGS` on one process (n=None) or under `mpiexec -n n`."""
    launcher = [] if n is None else [MPIEXEC, "-n", str(n)]
    return [*launcher, sys.executable, "-m", "numpy2gpt", "train", *map(str, flags)]


def train(n, tmp_path, flags):
    """Run the command to the end; returns the CompletedProcess."""
    return run_job(command(n, flags), tmp_path)


def run_job(cmd, tmp_path):
    """Run `cmd` to the end. A job still running after TIMEOUT is killed whole (mpiexec, its
    proxies and the ranks: its own session) and fails the test."""
    with popen(cmd, tmp_path) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            pytest.fail(f"still running after {TIMEOUT} s (killed): {stdout}\n{stderr}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def records(out_dir, kind):
    lines = (Path(out_dir) / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def assert_same_run(a, b, rel):
    """Two out_dirs hold the same evaluations and step losses, up to `rel`."""
    evals_a, evals_b = records(a, "eval"), records(b, "eval")
    assert [e["iter"] for e in evals_a] == [e["iter"] for e in evals_b]
    for ea, eb in zip(evals_a, evals_b):
        for key in ("train_loss", "val_loss"):
            assert eb[key] == pytest.approx(ea[key], rel=rel), (ea, eb)
    losses_a = [r["train_loss"] for r in records(a, "log")]
    assert [r["train_loss"] for r in records(b, "log")] == pytest.approx(losses_a, rel=rel)


# ---------------------------------------------------------------------- the same run
@pytest.mark.parametrize("n, batch, steps", [
    (2, 4, 1),  # each rank takes half of every batch
    (3, 3, 2),  # 6 sequences over 3 ranks: a share straddles the two micro-batches
    (2, 3, 2),  # a micro-batch each; evaluation batches of 3 rows split 1 + 2
])
def test_ranks_run_the_one_process_run(text, tmp_path, n, batch, steps):
    flags = [*TINY, "--data", text, "--dtype", "float64", "--max_iters", "4",
             "--batch_size", batch, "--gradient_accumulation_steps", steps]
    one = train(None, tmp_path, [*flags, "--out_dir", tmp_path / "one"])
    assert one.returncode == 0, one.stderr
    many = train(n, tmp_path, [*flags, "--out_dir", tmp_path / "many"])
    assert many.returncode == 0, many.stderr
    # float64: the only difference is the order in which the ranks' sums are added
    assert_same_run(tmp_path / "one", tmp_path / "many", rel=1e-10)
    assert many.stdout.count("done: 4 iterations") == 1  # rank 0 alone reports
    assert f"data parallel over {n} MPI processes" in many.stdout
    assert "each uses 1 thread" in many.stdout
    a, b = load_checkpoint(tmp_path / "one"), load_checkpoint(tmp_path / "many")
    assert a["rng"] == b["rng"]  # the same batches drawn, the next one included
    for name, w in a["model"].items():
        np.testing.assert_allclose(b["model"][name].numpy(), w.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_float32_ranks_match_within_rounding(text, tmp_path):
    flags = [*TINY, "--data", text, "--max_iters", "4", "--batch_size", "4"]
    assert train(None, tmp_path, [*flags, "--out_dir", tmp_path / "one"]).returncode == 0
    assert train(2, tmp_path, [*flags, "--out_dir", tmp_path / "two"]).returncode == 0
    assert_same_run(tmp_path / "one", tmp_path / "two", rel=1e-5)


# ---------------------------------------------------------------------- resume
@pytest.mark.parametrize("first, then", [(None, 2), (2, None), (2, 3)])
def test_resume_across_world_sizes(text, tmp_path, first, then):
    """A checkpoint written under one world size continues under another as if never stopped."""
    flags = [*TINY, "--data", text, "--dtype", "float64", "--batch_size", "6"]
    whole = train(None, tmp_path, [*flags, "--max_iters", "4", "--out_dir", tmp_path / "whole"])
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "split"
    begun = train(first, tmp_path, [*flags, "--max_iters", "2", "--out_dir", out])
    assert begun.returncode == 0, begun.stderr
    resumed = train(then, tmp_path, [*flags, "--max_iters", "4", "--out_dir", out,
                                     "--init_from", "resume"])
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stdout
    assert_same_run(tmp_path / "whole", out, rel=1e-10)


def test_dropout_masks_are_the_same_after_a_resume(text, tmp_path):
    """Under mpiexec each rank draws its dropout masks from its own generator, seeded from the
    seed, the iteration and the rank: a resumed run draws the masks the whole run drew."""
    flags = [*TINY, "--data", text, "--dtype", "float64", "--batch_size", "4",
             "--gradient_accumulation_steps", "3", "--dropout", "0.2"]
    assert train(2, tmp_path, [*flags, "--max_iters", "4", "--out_dir", tmp_path / "whole"]
                 ).returncode == 0
    out = tmp_path / "split"
    assert train(2, tmp_path, [*flags, "--max_iters", "2", "--out_dir", out]).returncode == 0
    resumed = train(2, tmp_path, [*flags, "--max_iters", "4", "--out_dir", out,
                                  "--init_from", "resume"])
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(tmp_path / "whole", out, rel=1e-12)


# ---------------------------------------------------------------------- refused runs
def one_error_line(result):
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_a_batch_the_ranks_cannot_share_is_refused(text, tmp_path):
    out = tmp_path / "out"
    r = train(3, tmp_path, [*TINY, "--data", text, "--batch_size", "4",
                            "--gradient_accumulation_steps", "2", "--out_dir", out])
    assert r.returncode == 2
    line = one_error_line(r)
    for fragment in ("batch_size x gradient_accumulation_steps = 4 x 2 = 8", "mpiexec -n 3",
                     "--batch_size", "--gradient_accumulation_steps"):
        assert fragment in line
    assert r.stdout == "" and not out.exists()  # nothing said or written but the error


def test_a_setup_step_failing_on_rank_0_stops_every_rank_with_its_line(text, tmp_path):
    """Rank 0 alone takes out_dir's lock: when another run holds it, the ranks agree that the
    step failed (Ranks.together) and all stop, with rank 0's one line."""
    from numpy2gpt.gpt.train import hold_out_dir

    out = tmp_path / "out"
    with hold_out_dir(out):
        r = train(2, tmp_path, [*TINY, "--data", text, "--out_dir", out, "--max_iters", "2"])
    assert r.returncode == 2
    line = one_error_line(r)
    assert line.startswith(f"error: out_dir {out} is in use by another run"), line


@pytest.mark.parametrize("what", ["data", "checkpoint"])
def test_a_setup_step_failing_on_rank_1_stops_every_rank_with_its_line(text, tmp_path, what):
    """Rank 1 alone cannot read the data, or the checkpoint to resume (as on a host where they
    are missing): it says so, rank by name, and every rank stops there."""
    flags = [*TINY, "--max_iters", "4"]
    if what == "data":
        ok = command(None, ["--data", text, "--out_dir", tmp_path / "out", *flags])
        bad = command(None, ["--data", tmp_path / "missing.txt", "--out_dir", tmp_path / "out",
                             *flags])
        expected = f"error: rank 1: data file not found: {tmp_path}/missing.txt"
    else:
        assert train(None, tmp_path, ["--data", text, "--out_dir", tmp_path / "out", *TINY,
                                      "--max_iters", "2"]).returncode == 0
        ok = command(None, ["--init_from", "resume", "--out_dir", tmp_path / "out", *flags])
        bad = command(None, ["--init_from", "resume", "--out_dir", tmp_path / "none", *flags])
        expected = f"error: rank 1: no checkpoint found at {tmp_path}/none/ckpt.safetensors"
    # mpiexec's MPMD form: rank 0 runs the first command, rank 1 the second
    job = run_job([MPIEXEC, "-n", "1", *ok, ":", "-n", "1", *bad], tmp_path)
    assert job.returncode == 2
    assert one_error_line(job).startswith(expected)


def test_a_rank_failing_alone_mid_run_ends_the_job(text, tmp_path):
    """Rank 0 alone writes checkpoints: when it cannot (here a folder is in the way), it must
    end the job (MPI_Abort) instead of leaving rank 1 waiting forever in the next all-reduce."""
    out = tmp_path / "out"
    (out / "ckpt.safetensors" / "in-the-way").mkdir(parents=True)
    t0 = time.monotonic()
    r = train(2, tmp_path, [*TINY, "--data", text, "--out_dir", out, "--max_iters", "4",
                            "--batch_size", "4", "--overwrite"])
    assert time.monotonic() - t0 < 60
    assert r.returncode == 2
    assert r.stderr.count("error: ") == 1  # and MPI's own line about the abort
    assert f"error: could not write {out / 'ckpt.safetensors'}" in r.stderr


def test_a_diverging_run_stops_every_rank_with_one_line(text, tmp_path):
    out = tmp_path / "out"
    flags = [*TINY, "--data", text, "--batch_size", "4", "--out_dir", out]
    assert train(None, tmp_path, [*flags, "--max_iters", "2"]).returncode == 0
    saved = (out / "ckpt.safetensors").read_bytes()
    r = train(2, tmp_path, [*flags, "--init_from", "resume", "--learning_rate", "1e30",
                            "--max_iters", "40", "--always_save_checkpoint"])
    assert r.returncode == 1
    line = one_error_line(r)
    assert " loss is nan at iteration " in line and "training diverged" in line
    assert (out / "ckpt.safetensors").read_bytes() == saved


# ---------------------------------------------------------------------- Ctrl-C and dead ranks
def start(n, tmp_path, flags):
    return popen(command(n, flags), tmp_path)


def popen(cmd, tmp_path):
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env(tmp_path), cwd=tmp_path, start_new_session=True)


def wait_for_training(out_dir, proc, deadline=60):
    """Until the job has logged a training step (metrics.jsonl has a "log" record)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end and proc.poll() is None:
        path = Path(out_dir) / "metrics.jsonl"
        if path.exists() and '"kind": "log"' in path.read_text():
            return
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"the job did not start training: {proc.communicate()}")


def ranks_of(tmp_path):
    """{rank: pid} of the job's ranks: the processes whose environment holds this test's
    NUMPY2GPT_CACHE (mpiexec passes it on) and a rank (read from /proc)."""
    marker = f"NUMPY2GPT_CACHE={tmp_path / 'cache'}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # not a process, or not ours
            continue
        if marker not in environ:
            continue
        for var in environ:
            if var.startswith((b"PMI_RANK=", b"OMPI_COMM_WORLD_RANK=")):  # MPICH, Open MPI
                found[int(var.split(b"=")[1])] = int(entry.name)
    return found


LONG = [*TINY, "--batch_size", "4", "--max_iters", "100000", "--eval_interval", "1000000"]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the ranks' pids in /proc (Linux)")
def test_a_killed_rank_ends_the_job_quickly(text, tmp_path):
    proc = start(2, tmp_path, [*LONG, "--data", text, "--out_dir", tmp_path / "out"])
    try:
        wait_for_training(tmp_path / "out", proc)
        ranks = ranks_of(tmp_path)
        assert sorted(ranks) == [0, 1], ranks
        os.kill(ranks[1], signal.SIGKILL)
        t0 = time.monotonic()
        code = proc.wait(timeout=30)
        assert time.monotonic() - t0 < 30
        assert code != 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


def test_ctrl_c_saves_once_and_every_rank_exits(text, tmp_path):
    out = tmp_path / "out"
    proc = start(2, tmp_path, [*LONG, "--data", text, "--out_dir", out])
    try:
        wait_for_training(out, proc)
        proc.send_signal(signal.SIGINT)  # mpiexec forwards it to every rank
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, stderr
    assert stdout.count("(interrupted, iteration") == 1, stdout
    ckpt = load_checkpoint(out)
    assert ckpt["iter_num"] == len(records(out, "log"))  # every step done was saved
