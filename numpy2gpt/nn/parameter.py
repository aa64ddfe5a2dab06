"""Parameter: a Tensor that a Module registers as one of its learnable weights.

Assigning a Parameter to a Module attribute (`self.weight = Parameter(...)`) is what makes it show
up in `module.parameters()` (and so in the optimizer) and in `module.state_dict()`. Otherwise it is
an ordinary leaf Tensor, with `requires_grad=True` by default.

Buffer is the same for state that is not learned (BatchNorm's running_mean): assigning one to a
Module attribute registers it as a buffer, persistent (in `state_dict`) or not as it says.

UninitializedParameter and UninitializedBuffer are the placeholders a lazy module (nn.LazyLinear,
...) holds until its first forward call shows the input's size.
"""

import numpy as np

from ..dtypes import get_default_dtype, to_dtype
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
        result = Parameter(self._data.copy(), self.requires_grad)  # (no .grad, as in PyTorch)
        result.name = self.name
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        # Rebuild from (array, requires_grad): plain pickling of a __slots__ Tensor subclass would
        # otherwise need Tensor's private state layout.
        return (Parameter, (self._data, self.requires_grad))


class Buffer(Tensor):
    """A Tensor marked as module state that is not learned: `self.mask = Buffer(m)` registers it
    like `self.register_buffer("mask", m, persistent)`. `Buffer(t)` shares `t`'s memory, as a
    leaf (t's history dropped) that keeps t's requires_grad.

    PyTorch's Buffer(t) is a plain torch.Tensor carrying a flag; a numpy2gpt Tensor has no room
    for one (it has __slots__), so here it is an instance of this subclass."""

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent=True):
        if data is None:
            data = Tensor._make(np.empty(0, get_default_dtype()))
        if not isinstance(data, Tensor):  # PyTorch's error: it calls data.detach()
            raise AttributeError(f"'{type(data).__name__}' object has no attribute 'detach'")
        super().__init__(data._data, requires_grad=data.requires_grad, dtype=data.dtype)
        self.persistent = persistent


class _Uninitialized:
    """What UninitializedParameter and UninitializedBuffer share: no values (an empty array), no
    `.shape`, and `materialize(shape)`, which gives the object an (uninitialised) array of that
    shape and turns this very object into `cls_to_become`, so a module or an optimizer that
    already holds it keeps working. `device` is accepted for PyTorch's signatures (numpy2gpt has
    only the cpu)."""

    __slots__ = ()

    def materialize(self, shape, device=None, dtype=None):
        """Become a `cls_to_become` (Parameter or Buffer) of `shape`, in this dtype (or `dtype`);
        its values are garbage until the module's reset_parameters (or load_state_dict) fills
        them."""
        self._data = np.empty(shape, self._data.dtype if dtype is None else to_dtype(dtype))
        self.__class__ = self.cls_to_become

    def share_memory_(self):
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
            "initialize the parameters before calling `module.share_memory()`.")

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
            "initialized one. Call `forward` to initialize the parameters before accessing their "
            "attributes.")

    def __repr__(self):
        return f"<{type(self).__name__}>"


class UninitializedParameter(_Uninitialized, Parameter):
    """A Parameter whose shape is not known yet (see _Uninitialized)."""

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        dtype = get_default_dtype() if dtype is None else to_dtype(dtype)
        super().__init__(np.empty(0, dtype), requires_grad)

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, dtype=self._data.dtype)
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        return (type(self), (self.requires_grad, None, self._data.dtype))


class UninitializedBuffer(_Uninitialized, Buffer):
    """A buffer whose shape is not known yet (see _Uninitialized), e.g. a lazy BatchNorm's running
    statistics. It materializes into a Buffer (PyTorch's into a flagged plain Tensor)."""

    __slots__ = ()
    cls_to_become = Buffer

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        dtype = get_default_dtype() if dtype is None else to_dtype(dtype)
        super().__init__(Tensor._make(np.empty(0, dtype)), persistent=persistent)
        if requires_grad:
            self.requires_grad_(True)

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, dtype=self._data.dtype,
                                        persistent=self.persistent)
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        return (type(self), (self.requires_grad, None, self._data.dtype, self.persistent))


def is_lazy(param):
    """Whether `param` is still uninitialized (PyTorch's nn.parameter.is_lazy)."""
    return isinstance(param, _Uninitialized)
