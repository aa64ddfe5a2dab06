"""nanoGPT's own, unmodified prepare.py, train.py and sample.py run under `numpy2gpt run`.

The files are read from ../shared/clients/nanoGPT (never kept in this project) and run from a
temporary folder, as nanoGPT's README runs them on a CPU: prepare.py on the Shakespeare text,
train.py with the README's CPU flags and a short --max_iters, then sample.py on its checkpoint.
train.py's evaluations must equal `numpy2gpt train`'s with the same flags, to the 4 decimals
both print. The scripts import `requests` and `tiktoken` at the top: small stand-ins that refuse
to be used are put on the path, so nothing is downloaded.
"""

import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from torch_compare import isolate_training, tinyshakespeare_path

from numpy2gpt.cli import main

REPO = Path(__file__).resolve().parents[1]
# beside the repository (../shared), or beside the folder of a git worktree
NANOGPT = next((p / "shared" / "clients" / "nanoGPT" for p in REPO.parents[:2]
                if (p / "shared" / "clients" / "nanoGPT" / "train.py").is_file()), None)

# nanoGPT README's CPU run, with fewer iterations and an evaluation every 10
README_CPU_FLAGS = ["--device=cpu", "--compile=False", "--eval_iters=20", "--log_interval=1",
                    "--block_size=64", "--batch_size=12", "--n_layer=4", "--n_head=4",
                    "--n_embd=128", "--max_iters=20", "--lr_decay_iters=2000", "--dropout=0.0",
                    "--eval_interval=10"]
EVALUATION = re.compile(r"^step (\d+): train loss (\d+\.\d{4}), val loss (\d+\.\d{4})$", re.M)

STUBS = {  # the third-party imports at the top of the scripts, never used on this path
    "requests.py": "def get(url, *args, **kwargs):\n"
                   "    raise RuntimeError(f'prepare.py has input.txt: not fetching {url}')\n",
    "tiktoken.py": "def get_encoding(name):\n"
                   "    raise RuntimeError('sample.py should decode with meta.pkl')\n",
}


def _needs_nanogpt():
    if NANOGPT is None:
        pytest.skip("nanoGPT's files not found: clone karpathy/nanoGPT (commit 3adf61e) into "
                    "../shared/clients/nanoGPT beside the repository to run this")


def run_script(folder, *args):
    """`python -m numpy2gpt run *args` in `folder`; its stdout (the test fails on a bad status)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(folder / "stubs")]),
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "numpy2gpt", "run", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def nanogpt(tmp_path_factory):
    """A temporary copy of nanoGPT's files, with prepare.py run on the Shakespeare text."""
    _needs_nanogpt()
    text = tinyshakespeare_path()
    folder = tmp_path_factory.mktemp("nanogpt")
    shutil.copytree(NANOGPT, folder, dirs_exist_ok=True)
    (folder / "stubs").mkdir()
    for name, code in STUBS.items():
        (folder / "stubs" / name).write_text(code)
    shutil.copyfile(text, folder / "data" / "shakespeare_char" / "input.txt")  # prepare.py's input
    out = run_script(folder, "data/shakespeare_char/prepare.py")
    assert "vocab size: 65" in out and "train has 1,003,854 tokens" in out
    return folder


def _train_needs_distributed():
    """train.py imports DistributedDataParallel and init_process_group even on one process."""
    try:
        import numpy2gpt.distributed  # noqa: F401
        import numpy2gpt.nn.parallel  # noqa: F401
    except ImportError as e:
        pytest.skip(f"nanoGPT's train.py imports torch.distributed and torch.nn.parallel, which "
                    f"this checkout of numpy2gpt lacks ({e})")


def test_prepare_writes_nanogpts_files(nanogpt):
    data = nanogpt / "data" / "shakespeare_char"
    with open(data / "meta.pkl", "rb") as f:
        meta = pickle.load(f)
    assert meta["vocab_size"] == 65
    assert (data / "train.bin").stat().st_size == 2 * 1_003_854
    assert (data / "val.bin").stat().st_size == 2 * 111_540


@pytest.fixture(scope="module")
def trained(nanogpt):
    """train.py's printed output, its checkpoint left in out-shakespeare-char/ckpt.pt."""
    _train_needs_distributed()
    return run_script(nanogpt, "train.py", "config/train_shakespeare_char.py", *README_CPU_FLAGS)


def test_train_py_evaluates_as_numpy2gpt_train(trained, tmp_path, monkeypatch, capsys):
    theirs = EVALUATION.findall(trained)
    assert [step for step, _, _ in theirs] == ["0", "10", "20"]
    assert "saving checkpoint to out-shakespeare-char" in trained

    isolate_training(monkeypatch, tmp_path / "cache")
    monkeypatch.setenv("NUMPY2GPT_DATA", str(tinyshakespeare_path()))
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    config = str(NANOGPT / "config" / "train_shakespeare_char.py")
    assert main(["train", config, *README_CPU_FLAGS]) == 0
    ours = EVALUATION.findall(capsys.readouterr().out)
    print("train.py under numpy2gpt run:", theirs, "\nnumpy2gpt train:", ours)
    assert theirs == ours


def test_sample_py_loads_the_checkpoint_and_writes_decoded_text(trained, nanogpt):
    out = run_script(nanogpt, "sample.py", "--out_dir=out-shakespeare-char", "--device=cpu",
                     "--num_samples=2", "--max_new_tokens=100")
    assert "Loading meta from data/shakespeare_char/meta.pkl..." in out
    with open(nanogpt / "data" / "shakespeare_char" / "meta.pkl", "rb") as f:
        vocab = set(pickle.load(f)["stoi"])
    samples = out.split("Loading meta from data/shakespeare_char/meta.pkl...\n", 1)[1]
    samples = samples.split("\n---------------\n")
    assert samples[-1] == "" and len(samples) == 3
    for sample in samples[:2]:  # the prompt "\n", then 100 characters of Shakespeare's alphabet
        assert len(sample) == 101 and sample[0] == "\n" and set(sample) <= vocab
