"""Variable: PyTorch's old name for a tensor that records gradients, kept for old tutorials.

`Variable(t, requires_grad=True)` is `t.detach().requires_grad_(True)`: a new leaf on t's
memory. Every Tensor is a Variable (`isinstance(t, Variable)`), as in PyTorch since 0.4.
"""

import warnings

from ..tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """Variable(data, requires_grad=False): a leaf on data's memory (see the module docstring)."""

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` "
                          "instead.", stacklevel=2)
        if data is None:
            from ..ops.creation import empty

            return empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if requires_grad and data.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        return data.detach().requires_grad_(requires_grad)


__all__ = ["Variable"]
