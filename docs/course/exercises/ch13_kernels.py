"""Chapter 13 exercise: a reference kernel and its fast kernel, softmax over rows.

Both take a 2-D NumPy float array x (N, D) and return softmax(x) row by row, in x's dtype:
out[i, j] = exp(x[i, j] - m_i) / sum_k exp(x[i, k] - m_i), with m_i the row's maximum (subtracting
it changes nothing mathematically, and keeps exp from overflowing for large logits).

Fill in both, then run `pytest docs/course/exercises -k ch13`.
"""

import numpy as np  # noqa: F401 - np.exp, np.max, out=...


def softmax_rows_reference(x):
    """The textbook formula, written the obvious way (any number of temporary arrays)."""
    raise NotImplementedError("ch13: subtract the row max, exponentiate, divide by the row sum")


def softmax_rows_fast(x):
    """The same numbers, allocating only ONE array of x's size (the result) and working in
    place in it: out= arguments and in-place operators (-=, /=), small (N, 1) vectors allowed."""
    raise NotImplementedError("ch13: one fresh array, then finish the formula in place")
