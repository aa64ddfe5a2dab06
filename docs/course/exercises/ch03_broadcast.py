"""Chapter 03 exercise: broadcasting's backward, and a linear layer's gradients.

Work on NumPy arrays only (no numpy2gpt inside). Fill in the two functions, then run
`pytest docs/course/exercises -k ch03`.
"""


def sum_to(g, shape):
    """Sum the array `g` down to `shape`, the shape of a tensor that was broadcast to g.shape:
    over the leading axes broadcasting added, and over the axes where `shape` has size 1
    (keeping them, with size 1). Return an array of exactly `shape`."""
    raise NotImplementedError("ch03: sum_to")


def linear_backward(x, W, gy):
    """Gradients of y = x @ W.T + bias, for x of shape (..., in), W of shape (out, in), a bias of
    shape (out,), and gy = dL/dy of shape (..., out). Return (dL/dx, dL/dW, dL/dbias), each of
    its tensor's shape. (x may have several leading batch axes.)"""
    raise NotImplementedError("ch03: linear_backward")
