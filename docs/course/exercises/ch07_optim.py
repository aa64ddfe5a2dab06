"""Chapter 07 exercise: a Module of your own, and the AdamW update written out.

Fill in TwoLayerMLP and adamw_step, then run `pytest docs/course/exercises -k ch07`.
"""

from numpy2gpt import nn


class TwoLayerMLP(nn.Module):
    """x -> fc2(gelu(fc1(x))): fc1 an nn.Linear(n_in, n_hidden), fc2 an nn.Linear(n_hidden,
    n_out), both with bias, GELU the exact one (nn.GELU()). Its parameters are then named
    fc1.weight, fc1.bias, fc2.weight, fc2.bias."""

    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        raise NotImplementedError("ch07: TwoLayerMLP.__init__")

    def forward(self, x):
        raise NotImplementedError("ch07: TwoLayerMLP.forward")


def adamw_step(p, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """One AdamW step at step number t (1 for the first step) on NumPy arrays: p the parameter,
    g its gradient, m and v the running means (zeros before the first step). Return the new
    (p, m, v); see numpy2gpt/kernels/adamw.py's module docstring for the algorithm."""
    raise NotImplementedError("ch07: adamw_step")
