"""Chapter 10 exercises: GPT-2's tanh GELU, and the GPT's parameter count by hand.

Fill in the two functions, then run `pytest docs/course/exercises -k ch10`.
"""

import math  # noqa: F401 - for sqrt(2 / pi)

import numpy2gpt as torch  # noqa: F401 - torch.tanh and friends


def gelu_tanh(x):
    """0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3))), elementwise, for a tensor x.

    Use tensor ops, so that x.grad comes out of backward.
    """
    raise NotImplementedError("ch10: GPT-2's tanh approximation of GELU")


def num_params(n_layer, n_embd, vocab_size, block_size, bias=True):
    """The number of parameters of GPT(GPTConfig(...)) with these settings (an int): wte (tied
    to lm_head, so counted once), wpe, n_layer Blocks and ln_f. With bias=False no Linear and no
    LayerNorm has a bias."""
    raise NotImplementedError("ch10: the parameter count, worked out")
