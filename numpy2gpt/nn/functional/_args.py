"""PyTorch's parsing of the scalar and int-tuple arguments of the functional ops, with its
TypeErrors for values of the wrong kind."""

import numbers

import numpy as np

from ...tensor import Tensor


def int_tuple(value, op, name, position, n):
    """An int-or-sequence argument as a tuple of ints, an int repeated n times (PyTorch's
    `tuple of ints` argument parsing); TypeError for anything else."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            if not isinstance(v, int | np.integer) or isinstance(v, bool):
                raise TypeError(f"{op}(): argument '{name}' (position {position}) must be tuple "
                                f"of ints, but found element of type {type(v).__name__} at pos "
                                f"{i}")
        return tuple(int(v) for v in value)
    raise TypeError(f"{op}(): argument '{name}' (position {position}) must be tuple of ints, not "
                    f"{type(value).__name__}")


def require_number(value, op, name, position):
    """PyTorch's TypeError for a scalar argument (a slope, a bound) that is not a number."""
    if not isinstance(value, numbers.Number | Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Number, not "
                        f"{type(value).__name__}")
