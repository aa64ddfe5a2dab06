"""Creating tensors: zeros, ones, arange, randn, ... (PyTorch's factory functions)."""

import numpy as np

from .. import dtypes
from ..random import get_rng
from ..tensor import Tensor, as_tensor, tensor  # noqa: F401  (re-exported)


def _size(size):
    """`zeros(2, 3)` and `zeros((2, 3))` both mean shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], tuple | list):
        size = size[0]
    out = tuple(int(s) for s in size)
    if any(s < 0 for s in out):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(out)}")
    return out


def _leaf(array, requires_grad=False):
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype):
    return dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _leaf(np.zeros(_size(size), _float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None):
    return _leaf(np.ones(_size(size), _float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None):
    return _leaf(np.empty(_size(size), _float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    if dtype is None:
        dtype = (dtypes.bool if isinstance(fill_value, bool) else dtypes.int64
                 if isinstance(fill_value, int) else dtypes.get_default_dtype())
    return _leaf(np.full(_size((size,)), fill_value, dtypes.to_dtype(dtype)), requires_grad)


def zeros_like(input, dtype=None, requires_grad=False):
    return _leaf(np.zeros(input.shape, dtypes.to_dtype(dtype) or input.dtype), requires_grad)


def ones_like(input, dtype=None, requires_grad=False):
    return _leaf(np.ones(input.shape, dtypes.to_dtype(dtype) or input.dtype), requires_grad)


def empty_like(input, dtype=None, requires_grad=False):
    return _leaf(np.empty(input.shape, dtypes.to_dtype(dtype) or input.dtype), requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False):
    return _leaf(np.full(input.shape, fill_value, dtypes.to_dtype(dtype) or input.dtype),
                 requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Like PyTorch: integer arguments give int64, any float argument gives the default dtype."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        ints = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    n = max(int(np.ceil((end - start) / step)), 0)
    arr = (start + step * np.arange(n, dtype=np.float64)).astype(dtypes.to_dtype(dtype))
    return _leaf(arr, requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    arr = np.linspace(start, end, int(steps)).astype(_float_dtype(dtype))
    return _leaf(arr, requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    return _leaf(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Uniform on [0, 1)."""
    rng = generator if generator is not None else get_rng()
    return _leaf(rng.random(_size(size), dtype=np.float64).astype(_float_dtype(dtype)),
                 requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Standard normal."""
    rng = generator if generator is not None else get_rng()
    return _leaf(rng.standard_normal(_size(size)).astype(_float_dtype(dtype)), requires_grad)


def randint(low=0, high=None, size=None, dtype=None, generator=None, requires_grad=False,
            device=None):
    """Integers uniform in [low, high); `randint(high, size)` and `randint(low, high, size)`."""
    if size is None:
        if isinstance(high, tuple | list):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing required argument 'size' (a tuple of ints)")
    rng = generator if generator is not None else get_rng()
    arr = rng.integers(low, high, size=_size((size,)), dtype=np.int64)
    return _leaf(arr.astype(dtypes.to_dtype(dtype) or dtypes.int64), requires_grad)


def rand_like(input, dtype=None, requires_grad=False):
    return rand(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad=False):
    return randn(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def from_numpy(ndarray):
    """A tensor sharing memory with `ndarray`."""
    return Tensor._make(ndarray) if ndarray.dtype in dtypes._NAMES else Tensor(ndarray)


__all__ = ["zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
           "arange", "linspace", "eye", "rand", "randn", "randint", "rand_like", "randn_like",
           "from_numpy", "tensor", "as_tensor"]
TENSOR_METHODS = {}
