"""Parameter: a Tensor that a Module registers as one of its learnable weights.

Assigning a Parameter to a Module attribute (`self.weight = Parameter(...)`) is what makes it show
up in `module.parameters()` (and so in the optimizer) and in `module.state_dict()`. Otherwise it is
an ordinary leaf Tensor, with `requires_grad=True` by default.
"""

import numpy as np

from ..dtypes import get_default_dtype
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor marked as a module weight. `Parameter(t)` shares `t`'s memory, like PyTorch."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, get_default_dtype())
        if isinstance(data, Tensor) and data.grad_fn is not None:
            data = data._data  # a Parameter is always a leaf: keep the values, drop the history
        super().__init__(data, requires_grad=requires_grad, dtype=getattr(data, "dtype", None))

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(self._data.copy(), self.requires_grad)
        if self.grad is not None:
            result.grad = Tensor._make(self.grad._data.copy())
        result.name = self.name
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        # Rebuild from (array, requires_grad): plain pickling of a __slots__ Tensor subclass would
        # otherwise need Tensor's private state layout.
        return (Parameter, (self._data, self.requires_grad))
