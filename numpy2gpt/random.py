"""The global random number generator (`manual_seed`), a NumPy Generator.

numpy2gpt draws from its own PCG64 stream, so the same seed gives the same numbers on every run
(but not the same numbers as PyTorch's Mersenne Twister).
"""

import contextlib
import threading

import numpy as np

_state = threading.local()
_global = {"rng": np.random.default_rng(0), "seed": 0}


def manual_seed(seed):
    """Seed the global generator (returns it, like PyTorch returns its Generator)."""
    seed = int(seed)
    _global["rng"] = np.random.default_rng(seed)
    _global["seed"] = seed
    return _global["rng"]


seed = manual_seed


def initial_seed():
    return _global["seed"]


def get_rng():
    """The generator in use (a thread may install its own with `use_rng`)."""
    return getattr(_state, "rng", None) or _global["rng"]


@contextlib.contextmanager
def use_rng(generator):
    """Make `generator` (a numpy.random.Generator) the one `get_rng()` returns in this thread.

    Other threads keep the global generator. The data-parallel trainer gives each worker its own
    generator this way, so dropout masks do not depend on which thread draws first.
    """
    if not isinstance(generator, np.random.Generator):
        raise TypeError("use_rng expects a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(generator).__name__}")
    previous = getattr(_state, "rng", None)
    _state.rng = generator
    try:
        yield generator
    finally:
        _state.rng = previous


def get_rng_state():
    """A JSON-serialisable snapshot of the generator (for exact checkpoint resume)."""
    return get_rng().bit_generator.state


def set_rng_state(state):
    get_rng().bit_generator.state = state
