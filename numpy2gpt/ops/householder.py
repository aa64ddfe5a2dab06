"""Householder reflections: torch.geqrf (a QR decomposition kept as reflectors) and
torch.linalg.householder_product (alias torch.orgqr), which multiplies such reflectors back into
a matrix with orthonormal columns.

A Householder reflector is H = I - tau v v^T. geqrf stores the QR decomposition of an m x n
matrix A as k = min(m, n) of them: Q = H_1 H_2 ... H_k, where v_i is 0 above row i, 1 at row i
and, below, the entries of column i of geqrf's output under the diagonal (R sits on and above
it). This is LAPACK's compact form; it is what nn.utils.parametrizations.orthogonal's
"householder" map learns.

    a, tau = geqrf(A)
    Q = householder_product(a, tau)   # = linalg.qr(A).Q, up to rounding

householder_product is composed of numpy2gpt ops (one reflection at a time, as LAPACK's orgqr
does it), so its gradient, and higher derivatives, come from the graph.
"""

import numpy as np

from ..autograd.function import _TENSOR_TYPES, Function
from ..tensor import Tensor
from ._util import not_implemented_for, renamed, require_tensor
from .indexing import tril
from .selection import _return_type

__all__ = ["geqrf", "householder_product", "orgqr"]


class return_types:
    geqrf = _return_type("geqrf", ("a", "tau"))


class Geqrf(Function):
    """LAPACK's geqrf (np.linalg.qr with mode='raw' calls it and returns its output transposed:
    NumPy's arrays are row-major, LAPACK's column-major). Not differentiable, as in PyTorch."""

    materialize_grads = False  # backward only raises: no zeros for an unused output
    def forward(self, a):
        h, tau = np.linalg.qr(a, mode="raw")
        return np.ascontiguousarray(h.swapaxes(-1, -2)), tau

    def backward(self, ga, gtau):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


def geqrf(input, *, out=None):
    """A's QR decomposition in LAPACK's compact form, a named tuple (a, tau): R on and above
    the diagonal of `a`, the Householder vectors below it, their scales in `tau` (see the
    module docstring). Batches of matrices too."""
    require_tensor(input, "geqrf", "input", 1)
    if out is not None:
        raise TypeError("geqrf(): the 'out' argument is not supported by numpy2gpt")
    if input.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    not_implemented_for(input, "geqrf_cpu", "biuf" if input.dtype == np.float16 else "biu")
    return return_types.geqrf(*Geqrf()(input))


def _check_householder(A, tau):
    """PyTorch's checks of householder_product's arguments, in its order."""
    name = "torch.linalg.householder_product"
    if A.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if A.shape[-2] < A.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if tau.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    if A.shape[-1] < tau.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if A.ndim - tau.ndim != 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got "
                           f"tau.ndim equal to {tau.ndim} and input.ndim is equal to {A.ndim}")
    if A.ndim > 2 and tau.shape[:-1] != A.shape[:-2]:
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(tau.shape[:-1])}")
    if tau.dtype != A.dtype:
        raise RuntimeError(f"{name}: tau dtype {_TENSOR_TYPES[tau.dtype.name]} does not match "
                           f"input dtype {_TENSOR_TYPES[A.dtype.name]}")
    not_implemented_for(A, "orgqr_cpu", "biuf" if A.dtype == np.float16 else "biu")


def _householder_product(A, tau):
    m, n = A.shape[-2], A.shape[-1]
    eye = Tensor._make(np.broadcast_to(np.eye(m, n, dtype=A.dtype), A.shape).copy())
    V = tril(A, -1) + eye  # column i is v_i: 1 on the diagonal, A's entries below it
    Q = eye
    # Q = H_1 (H_2 (... (H_k I[:, :n]))): each step applies one reflector,
    # H_i Q = Q - tau_i v_i (v_i^T Q), without ever forming the m x m matrix H_i
    for i in reversed(range(tau.shape[-1])):
        v = V[..., :, i:i + 1]
        Q = Q - (tau[..., i:i + 1].unsqueeze(-1) * v) @ (v.mT @ Q)
    return renamed(Q, "LinalgHouseholderProductBackward0")


def householder_product(A, tau, *, out=None):
    """The first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^T, for an m x n matrix
    A (m >= n) whose columns below the diagonal hold the v_i and k = tau.shape[-1] <= n
    scales (see the module docstring). With geqrf's output it is the Q of A's QR
    decomposition. Differentiable in A and tau; batches of matrices too."""
    require_tensor(A, "linalg_householder_product", "input", 1)
    require_tensor(tau, "linalg_householder_product", "tau", 2)
    if out is not None:
        raise TypeError("linalg.householder_product(): the 'out' argument is not supported by "
                        "numpy2gpt")
    _check_householder(A, tau)
    return _householder_product(A, tau)


def orgqr(input, tau):
    """torch.orgqr / Tensor.orgqr: householder_product under LAPACK's name."""
    require_tensor(input, "orgqr", "input", 1)
    require_tensor(tau, "orgqr", "input2", 2)
    _check_householder(input, tau)
    return _householder_product(input, tau)


TENSOR_METHODS = {"geqrf": geqrf, "orgqr": orgqr}
