"""Chapter 05 exercise: derivatives of derivatives.

Use numpy2gpt.autograd.grad with create_graph=True. Fill in the two functions, then run
`pytest docs/course/exercises -k ch05`.
"""

import numpy2gpt as torch  # noqa: F401 - torch.autograd.grad, torch.no_grad ...


def nth_derivative(f, x, n):
    """The n-th derivative (n >= 1) of the scalar function `f` at the float `x`, as a float.
    `f` takes and returns a numpy2gpt scalar tensor; compute in float64."""
    raise NotImplementedError("ch05: nth_derivative")


def newton_minimize(f, x0, steps):
    """Run `steps` steps of Newton's method x <- x - f'(x) / f''(x) from the float x0, with both
    derivatives from autograd, and return the final x as a float (float64 throughout)."""
    raise NotImplementedError("ch05: newton_minimize")
