"""Chapter 12 exercise: the top-k and top-p (nucleus) filters of sampling.

Fill in the two functions, then run `pytest docs/course/exercises -k ch12`.
"""

import numpy2gpt as torch  # noqa: F401 - topk, sort, cumsum, gather, masked_fill, ...


def top_k_filter(logits, k):
    """Logits (a tensor (B, V)) with every entry below the row's k-th largest set to -inf (a new
    tensor; entries tied with the k-th largest are kept)."""
    raise NotImplementedError("ch12: find each row's k-th largest logit, drop what is below it")


def top_p_filter(logits, p):
    """Logits (B, V) with the tail set to -inf: in each row keep the fewest most likely tokens
    whose probabilities (softmax of the row) add up to at least p, i.e. drop a token when the
    tokens more likely than it already reach p. The most likely token is always kept."""
    raise NotImplementedError("ch12: sort the probabilities, add them up, drop the tail, and put "
                              "the verdicts back in vocabulary order (argsort, gather)")
