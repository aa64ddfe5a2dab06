"""Kernels: the math of the fused ops as plain functions on NumPy arrays (no Tensor, no autograd).

Each op family has one file here. In it, the *reference* kernel comes first: the textbook formula
in a few lines of NumPy, what a learner reads (softmax subtracts the row max; GELU is x * Phi(x)
with Phi through erf). Its *fast* kernel stands beside it, with a docstring that says what it does
differently and why (fewer passes over memory, work in place, threads). A reference kernel and its
fast kernel take the same arguments and return the same things, so either can run the library.

One switch chooses which set runs, everywhere (training, evaluation, sampling, the CLI):

    NUMPY2GPT_KERNELS=reference numpy2gpt train     # the environment (default: fast)
    numpy2gpt train --kernels reference              # the command line
    numpy2gpt.kernels.set_backend("reference")       # Python, like a torch.backends flag
    with numpy2gpt.kernels.backend("reference"):     # ... or for one block
        loss = model(x, y)[1]

The autograd Functions in numpy2gpt.nn.functional call these kernels (and so does generation in
numpy2gpt.gpt.decode): a Function keeps only its checks, what it saves for backward, and the calls.
"""

import contextlib
import functools
import os

BACKENDS = ("reference", "fast")
ENV_VAR = "NUMPY2GPT_KERNELS"


def checked(name, where):
    """`name` if it is one of BACKENDS, else a one-line ValueError naming `where` it came from."""
    if name not in BACKENDS:
        raise ValueError(f"{where} must be one of {', '.join(BACKENDS)}, got {name!r}")
    return name


def _from_environment():
    """The backend NUMPY2GPT_KERNELS names (fast when unset); a bad value is kept as its error,
    raised at the first kernel call, so that `import numpy2gpt` itself never fails."""
    try:
        return checked(os.environ.get(ENV_VAR, "fast"), ENV_VAR), None
    except ValueError as e:
        return None, e


_backend, _env_error = _from_environment()


def get_backend():
    """The name of the kernels in use: "reference" or "fast"."""
    if _env_error is not None:
        raise _env_error
    return _backend


def set_backend(name):
    """Run every fused op on the `name` kernels ("reference" or "fast") from now on."""
    global _backend, _env_error
    _backend, _env_error = checked(name, "the kernel backend"), None


@contextlib.contextmanager
def backend(name):
    """`with backend("reference"):` runs the block on the reference kernels, then restores."""
    previous, previous_error = _backend, _env_error
    set_backend(name)
    try:
        yield
    finally:
        globals().update(_backend=previous, _env_error=previous_error)


def switch(reference, fast):
    """One kernel with two implementations: a function that calls the one the switch selects.

    `kernel.reference` and `kernel.fast` stay reachable, so tests compare them directly.
    """
    @functools.wraps(reference)
    def kernel(*args, **kwargs):
        if _backend == "fast":
            return fast(*args, **kwargs)
        get_backend()  # raises for a bad NUMPY2GPT_KERNELS
        return reference(*args, **kwargs)

    kernel.reference, kernel.fast = reference, fast
    return kernel


__all__ = ["BACKENDS", "backend", "checked", "get_backend", "set_backend", "switch"]
