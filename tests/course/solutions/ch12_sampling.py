"""Reference solution of docs/course/exercises/ch12_sampling.py."""

import numpy2gpt.nn.functional as F


def top_k_filter(logits, k):
    kth = logits.topk(k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits, p):
    probs = F.softmax(logits, dim=-1)
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    before = sorted_probs.cumsum(dim=-1) - sorted_probs  # mass of the more likely tokens
    drop_sorted = before >= p
    # back to the original order: token j sits at sorted position rank[j]
    rank = order.argsort(dim=-1)
    drop = drop_sorted.gather(-1, rank)
    return logits.masked_fill(drop, float("-inf"))
