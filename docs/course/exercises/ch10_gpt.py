"""Chapter 10 exercises: LayerNorm from tensor ops, and the GPT's parameter count by hand.

Fill in the two functions, then run `pytest docs/course/exercises -k ch10`.
"""

import numpy2gpt as torch  # noqa: F401 - tensor ops: mean, sqrt, ...


def layer_norm(x, weight, bias, eps=1e-5):
    """LayerNorm over the last dimension of the tensor x: each row (x[..., :]) minus its mean,
    divided by sqrt(its variance + eps), then times `weight` and plus `bias` (tensors of the last
    dimension's size). The variance is the biased one (divide by n, not n - 1).

    Use tensor ops, so that backward gives gradients for x, weight and bias.
    """
    raise NotImplementedError("ch10: normalise each row, then scale and shift")


def num_params(n_layer, n_embd, vocab_size, block_size, bias=True):
    """The number of parameters of GPT(GPTConfig(...)) with these settings (an int): wte (tied
    to lm_head, so counted once), wpe, n_layer Blocks and ln_f. With bias=False no Linear and no
    LayerNorm has a bias."""
    raise NotImplementedError("ch10: the parameter count, worked out")
