"""Chapter 06 exercise: what a graph holds, and an update that is not recorded.

Fill in the two functions, then run `pytest docs/course/exercises -k ch06`.
"""

import numpy2gpt as torch  # noqa: F401 - torch.no_grad ...


def saved_bytes(y):
    """Bytes of the arrays held by the Functions of y's graph, before backward: the array of
    every tensor in some Function's `inputs` (walk from y.grad_fn through `next_functions`), each
    distinct tensor counted once (`t.nbytes`)."""
    raise NotImplementedError("ch06: saved_bytes")


def sgd_step(params, lr):
    """Plain gradient descent, in place: p <- p - lr * p.grad for each parameter (the same tensor
    objects keep their new values), then p.grad = None. Nothing may be recorded in a graph:
    afterwards every p is still a leaf without grad_fn."""
    raise NotImplementedError("ch06: sgd_step")
