"""Chapter 8 exercise: the counting bigram model.

Fill in the two functions, then run `pytest docs/course/exercises -k ch08`.
"""

import numpy as np


def bigram_probs(ids, vocab_size, smoothing=1.0):
    """The (vocab_size, vocab_size) float64 table P[a, b] = P(next = b | current = a).

    Count every adjacent pair (ids[t], ids[t + 1]), add `smoothing` to every count, and divide
    each row by its sum, so each row sums to 1.
    """
    ids = np.asarray(ids)
    raise NotImplementedError("ch08: count the pairs, smooth, normalise each row")


def bigram_nll(probs, ids):
    """The mean of -log probs[ids[t], ids[t + 1]] over all adjacent pairs (a Python float)."""
    raise NotImplementedError("ch08: the mean negative log-likelihood of the next ids")
