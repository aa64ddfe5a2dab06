"""Reference solution of docs/course/exercises/ch13_kernels.py."""

import numpy as np


def softmax_rows_reference(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_rows_fast(x):
    out = x - x.max(axis=1, keepdims=True)  # the one full-size array
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out
