"""The op families. Each module defines Functions (forward/backward), their lowercase functional
wrappers (listed in its `__all__`, exported as `numpy2gpt.<name>`) and a `TENSOR_METHODS` table
that is installed on `Tensor` here, so `x.exp()` and `numpy2gpt.exp(x)` are the same op."""

from ..tensor import Tensor
from . import (
    arithmetic,
    creation,
    elementwise,
    indexing,
    inplace,
    join,
    linalg,
    reduction,
    selection,
    shape,
    special,
    stats,
)

FAMILIES = [arithmetic, creation, elementwise, indexing, inplace, join, linalg, reduction,
            selection, shape, special, stats]


def _install():
    for module in FAMILIES:
        for name, fn in module.TENSOR_METHODS.items():
            setattr(Tensor, name, fn)


_install()
