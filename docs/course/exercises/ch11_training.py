"""Chapter 11 exercise: gradient clipping by the global norm.

Fill in the function (without calling numpy2gpt.nn.utils.clip_grad_norm_), then run
`pytest docs/course/exercises -k ch11`.
"""


def clip_grad_norm(parameters, max_norm):
    """Scale the gradients of `parameters` in place so that their global 2-norm is at most
    `max_norm`, and return the global norm measured before clipping (a float).

    The global norm is sqrt(sum over all parameters of sum(p.grad ** 2)), as if every gradient
    were one long vector. Parameters whose .grad is None take no part. As PyTorch does, the
    gradients are multiplied by max_norm / (norm + 1e-6) when that factor is below 1, and left
    alone otherwise.
    """
    parameters = list(parameters)
    raise NotImplementedError("ch11: measure the global norm, then scale every gradient by one "
                              "factor")
