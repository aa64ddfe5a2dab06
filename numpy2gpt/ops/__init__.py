"""The op families. Each module defines Functions (forward/backward), their lowercase functional
wrappers (listed in its `__all__`, exported as `numpy2gpt.<name>`) and a `TENSOR_METHODS` table
that is installed on `Tensor` here, so `x.exp()` and `numpy2gpt.exp(x)` are the same op."""

import functools
import re

from ..tensor import Tensor
from . import (
    arithmetic,
    creation,
    elementwise,
    householder,
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

FAMILIES = [arithmetic, creation, elementwise, householder, indexing, inplace, join, linalg,
            reduction, selection, shape, special, stats]


def _counting_from_self(fn, name):
    """`fn(input, ...)` as the method `x.name(...)`. PyTorch's messages for a wrong argument of a
    method count from the argument after self ("index_add(): argument 'index' (position 2)"),
    those of the function from input (position 3): the method renumbers its own messages."""
    own = re.compile(rf"^{re.escape(name)}\(\): argument '(\w+)' \(position (\d+)\)")

    @functools.wraps(fn)
    def method(self, *args, **kwargs):
        try:
            return fn(self, *args, **kwargs)
        except TypeError as e:
            message = str(e)
            found = own.match(message)
            if found and len(e.args) == 1:
                e.args = (f"{name}(): argument '{found[1]}' (position {int(found[2]) - 1})"
                          f"{message[found.end():]}",)
            raise

    return method


def _install():
    """Put each family's methods on Tensor; a method that is the family's public function itself
    (`numpy2gpt.index_add` as `x.index_add`) counts its arguments from the one after self."""
    for module in FAMILIES:
        public = set(getattr(module, "__all__", ()))
        for name, fn in module.TENSOR_METHODS.items():
            if name in public and getattr(module, name, None) is fn and not name.startswith("_"):
                fn = _counting_from_self(fn, name)
            setattr(Tensor, name, fn)


_install()
