"""Chapter 9 exercise: one head of causal self-attention, in numpy2gpt's tensor ops.

Fill in the two functions, then run `pytest docs/course/exercises -k ch09`.
"""

import numpy2gpt as torch  # noqa: F401 - torch.tril, torch.ones, ...
import numpy2gpt.nn.functional as F  # noqa: F401 - F.softmax


def causal_mask(T):
    """A (T, T) bool tensor, True where query i may look at key j (j <= i), False elsewhere."""
    raise NotImplementedError("ch09: the lower triangle (diagonal included) is True")


def causal_attention(q, k, v):
    """One head of causal attention: q, k, v are (..., T, head_size) tensors; returns
    softmax(q k^T / sqrt(head_size), masked so query i sees keys 0..i only) @ v, (..., T, hs).

    Use tensor ops (matmul, transpose, masked_fill, F.softmax) so that gradients flow to q, k, v.
    """
    raise NotImplementedError("ch09: scores, mask the future with -inf, softmax, weighted sum")
