"""Reference solution of docs/course/exercises/ch09_attention.py."""

import numpy2gpt as torch
import numpy2gpt.nn.functional as F


def causal_mask(T):
    return torch.tril(torch.ones(T, T, dtype=torch.bool))


def causal_attention(q, k, v):
    T, head_size = q.shape[-2], q.shape[-1]
    scores = q @ k.transpose(-2, -1) * head_size ** -0.5
    scores = scores.masked_fill(~causal_mask(T), float("-inf"))
    return F.softmax(scores, dim=-1) @ v
