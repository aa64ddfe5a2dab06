"""Chapter 01 exercise: derivatives of one number, measured and by the chain rule.

Fill in the two functions, then run `pytest docs/course/exercises -k ch01`.
"""


def numerical_diff(f, x, eps=1e-4):
    """The derivative of `f` (a function of one float) at `x`, by the central difference:
    (f(x + eps) - f(x - eps)) / (2 eps)."""
    raise NotImplementedError("ch01: numerical_diff")


def chain_grad(steps, x):
    """Reverse-mode differentiation of a chain of functions.

    `steps` is a list of pairs `(f, df)`: `f` a function of one float, `df` its derivative.
    The chain computes y = fn(...f2(f1(x))). Return `(y, dy/dx)`.

    Do it as autograd does: a forward pass that remembers each step's input, then a backward pass
    from the last step to the first that multiplies the gradient (starting at dy/dy = 1) by each
    step's local derivative at the input it saw.
    """
    raise NotImplementedError("ch01: chain_grad")
