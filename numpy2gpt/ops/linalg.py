"""Matrix multiplication (`@`), batched and broadcasting like `np.matmul`.

For y = a @ b: dL/da = dL/dy @ b^T and dL/db = a^T @ dL/dy, then summed over any batch dims
that were broadcast. 1-D operands are treated as a row (a) or a column (b) vector.
"""

import numpy as np

from ..autograd.function import Function
from ._util import as_tensor


class MatMul(Function):
    # PyTorch names the node after the kernel it picks: dot, matrix-vector or matrix-matrix
    _NAMES = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0"}

    def forward(self, a, b):
        self.grad_fn_name = self._NAMES.get((a.ndim, b.ndim), "MatmulBackward0")
        return np.matmul(a, b)

    def backward(self, gy):
        from .arithmetic import sum_to
        from .shape import reshape

        a, b = self.saved_tensors
        a2 = a if a.ndim > 1 else reshape(a, 1, -1)
        b2 = b if b.ndim > 1 else reshape(b, -1, 1)
        gy2 = reshape(gy, np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) +
                      (a2.shape[-2], b2.shape[-1]))
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = reshape(sum_to(gy2 @ b2.mT, a2.shape), a.shape)
        if self.needs_input_grad[1]:
            if b2.ndim == 2 and a2.ndim > 2:  # (B, T, K) @ (K, N): one 2-D GEMM, no batch sum
                k = a2.shape[-1]
                gb = reshape(a2, -1, k).mT @ reshape(gy2, -1, gy2.shape[-1])
            else:
                gb = sum_to(a2.mT @ gy2, b2.shape)
            gb = reshape(gb, b.shape)
        return ga, gb


def _x(shape):
    return "x".join(str(s) for s in shape)


# The C++ names PyTorch's matmul errors give the dtypes
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
              "uint8": "unsigned char", "bool": "bool"}


def check_same_dtype(a, b):
    """Matrix products don't promote: float32 @ float64 is PyTorch's RuntimeError."""
    if a.dtype != b.dtype:
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                           f"{_CPP_NAMES[a.dtype.name]} != {_CPP_NAMES[b.dtype.name]}")


def matmul(input, other):
    """Matrix product with NumPy's rules: 1-D operands are vectors, leading dims broadcast."""
    a, b = as_tensor(input), as_tensor(other)
    check_same_dtype(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    k_a = a.shape[-1]
    k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k_a != k_b:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_x(a.shape)} and "
                           f"{_x(b.shape)}): inner sizes {k_a} and {k_b} differ")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of {list(a.shape)} and {list(b.shape)} are "
                           "not broadcastable") from None
    return MatMul()(a, b)


def mm(input, mat2):
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    return matmul(input, mat2)


def bmm(input, mat2):
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    return matmul(input, mat2)


TENSOR_METHODS = {"matmul": matmul, "__matmul__": matmul,
                  "__rmatmul__": lambda self, other: matmul(other, self), "mm": mm, "bmm": bmm}
__all__ = ["matmul", "mm", "bmm"]
