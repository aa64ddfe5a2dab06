"""Small PyTorch programs as learners write them (tests/pytorch_scripts/: a CIFAR-style CNN with
BatchNorm, a character LSTM/GRU with packed sequences, a Transformer-encoder classifier with
MultiheadAttention, a VAE, a DCGAN-style GAN, a small ResNet with a resumed checkpoint,
seq2seq GRUs with attention, dropout and teacher forcing, word2vec with sparse embeddings, a toy
diffusion model, REINFORCE with a baseline, a RealNVP flow, a small U-Net, a tiny ViT, graph
convolution networks (index_add_ and sparse adjacency), a packed bidirectional LSTM tagger,
custom autograd Functions, LBFGS curve fitting, k-means and EM, knowledge distillation, SimCLR,
MAML, GRU forecasting and weight/spectral norm parametrizations), run unchanged on real PyTorch
and on numpy2gpt (`numpy2gpt run`): the same seed gives the same losses, step after step, and
the same final numbers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((REPO / "tests" / "pytorch_scripts").glob("*.py"))


def _numbers(*command):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, *command], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return [float(v) for v in proc.stdout.split()]


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_the_script_prints_pytorchs_numbers_on_numpy2gpt(script):
    theirs = _numbers(str(script))
    ours = _numbers("-m", "numpy2gpt", "run", str(script))
    assert len(ours) == len(theirs) > 5
    assert ours == pytest.approx(theirs, rel=2e-5, abs=2e-5)
