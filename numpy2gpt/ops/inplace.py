"""In-place updates (`p.add_(g, alpha=-lr)`), for optimizers and initialisers.

They write into the tensor's array and bump its version counter, so a backward that needs the old
values notices the edit and raises instead of computing a wrong gradient. On a tensor that takes
part in a recorded graph they are refused (use the out-of-place form, or `with no_grad():`).
"""

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..dtypes import dtype_name
from ..random import resolve
from ..tensor import Tensor


def _check_inplace(t):
    if is_grad_enabled() and t.requires_grad:
        if t.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        raise RuntimeError("in-place operations on tensors that are part of a recorded graph are "
                           "not supported by numpy2gpt; use the out-of-place op instead")


def _value(other, t=None):
    """The operand as an array or number; with `t`, check it broadcasts to t's shape."""
    v = other.data if isinstance(other, Tensor) else other
    if t is not None and np.shape(v) != t.data.shape:
        try:
            ok = np.broadcast_shapes(np.shape(v), t.data.shape) == t.data.shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"output with shape {list(t.shape)} doesn't match the broadcast "
                               f"shape of the in-place operand {list(np.shape(v))}")
    return v


def _check_result_dtype(t, v, floating_result=False):
    """Arithmetic in place can't store a float result into an integer tensor (PyTorch's rule;
    NumPy would silently truncate)."""
    if t.data.dtype.kind in "biu" and (floating_result or np.asarray(v).dtype.kind == "f"):
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{dtype_name(t.dtype)}")


def _write(t, result):
    """Store `result` into t's array (same dtype, same shape) and bump the version."""
    _check_inplace(t)
    if np.shape(result) != t.data.shape:
        result = np.broadcast_to(result, t.data.shape)  # raises for non-broadcastable shapes
    if not t.data.flags.writeable:
        t.data = t.data.copy()
    np.copyto(t.data, result, casting="unsafe")
    t._version += 1
    return t


def add_(self, other, alpha=1):
    _check_inplace(self)
    v = _value(other, self)
    if alpha != 1:
        v = v * alpha
    _check_result_dtype(self, v)
    if not self.data.flags.writeable:
        self.data = self.data.copy()
    np.add(self.data, v, out=self.data, casting="unsafe")
    self._version += 1
    return self


def sub_(self, other, alpha=1):
    return add_(self, other, alpha=-alpha)


def mul_(self, other):
    _check_inplace(self)
    v = _value(other, self)
    _check_result_dtype(self, v)
    if not self.data.flags.writeable:
        self.data = self.data.copy()
    np.multiply(self.data, v, out=self.data, casting="unsafe")
    self._version += 1
    return self


def div_(self, other):
    _check_inplace(self)
    v = _value(other, self)
    _check_result_dtype(self, v, floating_result=True)  # true division
    if not self.data.flags.writeable:
        self.data = self.data.copy()
    np.divide(self.data, v, out=self.data, casting="unsafe")
    self._version += 1
    return self


def zero_(self):
    return _write(self, 0)


def fill_(self, value):
    return _write(self, _value(value))


def copy_(self, src):
    src = _value(src)
    if np.shape(src) != self.data.shape:
        try:
            np.broadcast_shapes(np.shape(src), self.data.shape)
        except ValueError:
            raise RuntimeError(f"copy_: the source shape {list(np.shape(src))} cannot be "
                               f"broadcast to the destination shape {list(self.shape)}") from None
    return _write(self, src)


def clamp_(self, min=None, max=None):
    return _write(self, np.clip(self.data, _value(min), _value(max)))


def normal_(self, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2): PyTorch's values for a contiguous tensor of this shape."""
    _check_float(self, "normal_")
    return _write(self, resolve(generator).normal(self.data.shape, mean, std, self.dtype))


def uniform_(self, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b): PyTorch's values for a contiguous tensor of this shape."""
    _check_float(self, "uniform_")
    return _write(self, resolve(generator).uniform(self.data.shape, a, b, self.dtype))


def _check_float(t, fn):
    if t.dtype.kind != "f":
        raise RuntimeError(f"{fn} only supports floating-point dtypes, got {dtype_name(t.dtype)}")


def _iop(fn):
    def iop(self, other):
        return fn(self, other)

    return iop


TENSOR_METHODS = {
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "zero_": zero_, "fill_": fill_,
    "copy_": copy_, "clamp_": clamp_, "clip_": clamp_, "normal_": normal_, "uniform_": uniform_,
    "__iadd__": _iop(add_), "__isub__": _iop(sub_), "__imul__": _iop(mul_),
    "__itruediv__": _iop(div_),
}
__all__ = []
