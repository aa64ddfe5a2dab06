"""Creating tensors: zeros, ones, arange, randn, ... (PyTorch's factory functions)."""

import operator

import numpy as np

from .. import dtypes
from ..random import resolve
from ..tensor import Tensor, as_tensor, check_device, tensor  # noqa: F401  (re-exported)


def _size(size, fn="zeros"):
    """`zeros(2, 3)` and `zeros((2, 3))` both mean shape (2, 3); sizes must be integers."""
    if len(size) == 1 and isinstance(size[0], tuple | list):
        size = size[0]
    out = []
    for s in size:
        try:
            out.append(operator.index(s))  # ints, NumPy ints, 1-element int tensors; not 2.5
        except TypeError:
            raise TypeError(f"{fn}(): argument 'size' must be a tuple of ints, but found element "
                            f"of type {type(s).__name__}") from None
    out = tuple(out)
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


def _random_float_dtype(dtype, fn):
    """rand/randn draw floats: an integer dtype is an error (PyTorch's), not a silent cast."""
    d = _float_dtype(dtype)
    if d.kind != "f":
        raise RuntimeError(f"{fn}(): expected a floating point dtype, got {dtypes.dtype_name(d)}")
    return d


def zeros(*size, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _leaf(np.zeros(_size(size, "zeros"), _float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _leaf(np.ones(_size(size, "ones"), _float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _leaf(np.empty(_size(size, "empty"), _float_dtype(dtype)), requires_grad)


def _fill_dtype(fill_value):
    """full(): the dtype follows the fill value (True -> bool, 3 -> int64, 3.0 -> default)."""
    if isinstance(fill_value, bool | np.bool_):
        return dtypes.bool
    if isinstance(fill_value, int | np.integer):
        return dtypes.int64
    return dtypes.get_default_dtype()


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    check_device(device)
    dtype = _fill_dtype(fill_value) if dtype is None else dtypes.to_dtype(dtype)
    return _leaf(np.full(_size((size,), "full"), fill_value, dtype), requires_grad)


def zeros_like(input, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _leaf(np.zeros(input.shape, dtypes.to_dtype(dtype) or input.dtype), requires_grad)


def ones_like(input, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _leaf(np.ones(input.shape, dtypes.to_dtype(dtype) or input.dtype), requires_grad)


def empty_like(input, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _leaf(np.empty(input.shape, dtypes.to_dtype(dtype) or input.dtype), requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _leaf(np.full(input.shape, fill_value, dtypes.to_dtype(dtype) or input.dtype),
                 requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Like PyTorch: integer arguments give int64, any float argument gives the default dtype."""
    check_device(device)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        ints = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    n = max(int(np.ceil((end - start) / step)), 0)
    arr = (start + step * np.arange(n, dtype=np.float64)).astype(dtypes.to_dtype(dtype))
    return _leaf(arr, requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    check_device(device)
    arr = np.linspace(start, end, int(steps)).astype(_float_dtype(dtype))
    return _leaf(arr, requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _leaf(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Uniform on [0, 1) (PyTorch's values for the same seed)."""
    check_device(device)
    dtype = _random_float_dtype(dtype, "rand")
    return _leaf(resolve(generator).uniform(_size(size, "rand"), dtype=dtype), requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Standard normal (PyTorch's values for the same seed)."""
    check_device(device)
    dtype = _random_float_dtype(dtype, "randn")
    return _leaf(resolve(generator).normal(_size(size, "randn"), dtype=dtype), requires_grad)


def randint(low=0, high=None, size=None, dtype=None, generator=None, requires_grad=False,
            device=None):
    """Integers uniform in [low, high); `randint(high, size)` and `randint(low, high, size)`."""
    check_device(device)
    if size is None:
        if isinstance(high, tuple | list):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing required argument 'size' (a tuple of ints)")
    low, high = operator.index(low), operator.index(high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    arr = resolve(generator).randint(low, high, _size((size,), "randint"))
    return _leaf(arr.astype(dtypes.to_dtype(dtype) or dtypes.int64), requires_grad)


def randperm(n, *, generator=None, dtype=None, requires_grad=False, device=None):
    """A random permutation of 0 .. n-1 (PyTorch's for the same seed)."""
    check_device(device)
    n = operator.index(n)
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got {n}")
    arr = resolve(generator).randperm(n)
    return _leaf(arr.astype(dtypes.to_dtype(dtype) or dtypes.int64), requires_grad)


def rand_like(input, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return rand(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return randn(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def from_numpy(ndarray):
    """A tensor sharing memory with `ndarray`."""
    return Tensor._make(ndarray) if ndarray.dtype in dtypes._NAMES else as_tensor(ndarray)


# ----- Tensor.new_*: same dtype as the tensor unless told otherwise ------------------------------
def new_tensor(self, data, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def new_zeros(self, *size, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)


def new_ones(self, *size, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)


def new_empty(self, *size, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)


def new_full(self, size, fill_value, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)


__all__ = ["zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
           "arange", "linspace", "eye", "rand", "randn", "randint", "randperm", "rand_like",
           "randn_like",
           "from_numpy", "tensor", "as_tensor"]
TENSOR_METHODS = {"new_tensor": new_tensor, "new_zeros": new_zeros, "new_ones": new_ones,
                  "new_empty": new_empty, "new_full": new_full}
