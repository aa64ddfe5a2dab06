"""Reference solution of docs/course/exercises/ch10_gpt.py."""

import math

import numpy2gpt as torch


def gelu_tanh(x):
    inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
    return 0.5 * x * (1 + torch.tanh(inner))


def num_params(n_layer, n_embd, vocab_size, block_size, bias=True):
    C = n_embd
    per_block = 12 * C * C + (13 * C if bias else 2 * C)  # biases: 3C+C+4C+C, LN: 2 x (w [+ b])
    final_ln = 2 * C if bias else C
    return vocab_size * C + block_size * C + n_layer * per_block + final_ln
