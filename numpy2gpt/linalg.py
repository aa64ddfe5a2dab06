"""torch.linalg: norms, inverses, determinants, decompositions and solvers, with gradients.

Every decomposition is NumPy's own (`np.linalg`, which calls LAPACK), run in the input's dtype:
a float32 matrix is factorized by LAPACK's single-precision routines and stays float32, a
float64 one in double precision. Leading dims are batches of matrices, as in PyTorch.

The gradients are the formulas PyTorch uses (torch/csrc/autograd/FunctionsManual.cpp), written
with numpy2gpt ops on the saved inputs and outputs, so each backward can itself be
differentiated (create_graph=True gives second derivatives). A decomposition with several
outputs (eigh, svd, qr) gets None, not zeros, for an output nobody used: its formula then drops
that output's terms, as PyTorch's does (this keeps eigvalsh and svdvals finite where eigenvalues
or singular values repeat).

Also here: the torch-level functions PyTorch has beside torch.linalg (det, inverse, logdet,
slogdet, pinverse, matrix_power, cross, kron, inner, cdist, chain_matmul; TORCH_FUNCTIONS) and
the Tensor methods (TENSOR_METHODS).
"""

import warnings

import numpy as np

from .autograd.function import _TENSOR_TYPES, Function
from .ops._util import (
    CPP_TYPE_NAMES,
    broadcast_shape,
    not_implemented_for,
    reduction_dims,
    renamed,
    require_tensor,
)
from .ops.arithmetic import clone, sum_to
from .ops.householder import householder_product
from .ops.indexing import masked_fill, tril, triu, where
from .ops.join import cat, narrow, roll
from .ops.linalg import matmul, tensordot
from .ops.reduction import sum
from .ops.selection import _return_type, amax, amin
from .ops.shape import diag_embed, movedim
from .ops.shape import diagonal as _diagonal
from .ops.stats import Norm
from .tensor import Tensor, type_name


class LinAlgError(RuntimeError):
    """A linalg function met a matrix it cannot handle: singular, or not positive-definite
    (torch.linalg.LinAlgError, a RuntimeError too)."""


# The named tuples the decompositions return (torch.return_types.linalg_svd(U=..., ...)).
class return_types:
    linalg_slogdet = _return_type("linalg_slogdet", ("sign", "logabsdet"))
    slogdet = _return_type("slogdet", ("sign", "logabsdet"))
    linalg_eigh = _return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))
    linalg_qr = _return_type("linalg_qr", ("Q", "R"))
    linalg_svd = _return_type("linalg_svd", ("U", "S", "Vh"))
    linalg_lstsq = _return_type("linalg_lstsq", ("solution", "residuals", "rank",
                                                 "singular_values"))
    svd = _return_type("svd", ("U", "S", "V"))
    qr = _return_type("qr", ("Q", "R"))
    triangular_solve = _return_type("triangular_solve", ("solution", "cloned_coefficient"))
    linalg_inv_ex = _return_type("linalg_inv_ex", ("inverse", "info"))
    linalg_solve_ex = _return_type("linalg_solve_ex", ("result", "info"))
    linalg_cholesky_ex = _return_type("linalg_cholesky_ex", ("L", "info"))
    linalg_lu = _return_type("linalg_lu", ("P", "L", "U"))
    linalg_lu_factor = _return_type("linalg_lu_factor", ("LU", "pivots"))
    linalg_lu_factor_ex = _return_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))
    lu_unpack = _return_type("lu_unpack", ("P", "L", "U"))
    _lu_with_info = _return_type("_lu_with_info", ("LU", "pivots", "info"))


# ----- argument checks --------------------------------------------------------------------------
def _type(t):
    """The dtype's name in PyTorch's messages: Float, Double, Long, ..."""
    return _TENSOR_TYPES[t.dtype.name]


def _check_float(name, A, half_kernel=None):
    """PyTorch's errors for a tensor linalg cannot factorize: integer or bool, or float16 (no
    LAPACK routine; the message depends on the op: its kernel's name, or 'Low precision')."""
    if A.dtype.kind != "f":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_type(A)}")
    if A.dtype == np.float16:
        if half_kernel:
            raise NotImplementedError(f"\"{half_kernel}\" not implemented for 'Half'")
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got Half")


def _check_matrix(name, A, fn, square=True, half_kernel=None, floating=True):
    """A (batch of) matrix argument, checked as PyTorch checks it; `fn` names the function in
    the TypeError for a non-tensor (linalg_inv(): argument 'A' ...)."""
    require_tensor(A, fn, "A", 1)
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if floating:
        _check_float(name, A, half_kernel)
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    return A


def _batch_prefix(a, k):
    """'(Batch element k): ' when `a` is a batch of matrices, as PyTorch's errors say."""
    return f"(Batch element {k}): " if a.ndim > 2 else ""


def _eye(n, dtype):
    return Tensor._make(np.eye(n, dtype=dtype))


# ----- singular and not positive-definite matrices ----------------------------------------------
def _zero_pivot(m):
    """Where LU with partial pivoting (LAPACK's getrf, which PyTorch's inv runs) first meets an
    exactly zero pivot: its 1-based index, or 0. NumPy reports a singular matrix without saying
    where, so the error path repeats the elimination to name the element as PyTorch does."""
    u = np.array(m)
    n = u.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(u[k:, k])))
        if u[p, k] == 0:
            return k + 1
        u[[k, p]] = u[[p, k]]
        u[k + 1:, k + 1:] -= np.outer(u[k + 1:, k] / u[k, k], u[k, k + 1:])
    return 0


def _first_singular(a):
    """The index of the first matrix of the batch `a` that LU cannot invert, and its zero
    pivot (1-based; the last one if rounding hid the zero)."""
    n = a.shape[-1]
    for k, m in enumerate(a.reshape(-1, n, n)):
        if not np.isfinite(m).all():
            continue
        try:
            np.linalg.inv(m)
        except np.linalg.LinAlgError:
            return k, _zero_pivot(m) or n
    return 0, n


def _singular_error(name, a):
    k, element = _first_singular(a)
    return LinAlgError(f"{name}: {_batch_prefix(a, k)}The diagonal element {element} is zero, the "
                       "inversion could not be completed because the input matrix is singular.")


def _not_positive_definite(name, a, upper):
    """PyTorch's error naming the first leading minor that is not positive-definite (LAPACK's
    potrf reports its order; found here by factorizing ever larger leading blocks)."""
    n = a.shape[-1]
    for k, m in enumerate(a.reshape(-1, n, n)):
        for order in range(1, n + 1):
            try:
                np.linalg.cholesky(m[:order, :order], upper=upper)
            except np.linalg.LinAlgError:
                return LinAlgError(
                    f"{name}: {_batch_prefix(a, k)}The factorization could not be completed "
                    "because the input is not positive-definite (the leading minor of order "
                    f"{order} is not positive-definite).")
    return LinAlgError(f"{name}: The factorization could not be completed because the input is "
                       "not positive-definite.")


# ----- inverse, determinants, solve --------------------------------------------------------------
class Inv(Function):
    """A^-1 (np.linalg.inv: LU with partial pivoting)."""

    saves_outputs = True
    grad_fn_name = "LinalgInvExBackward0"

    def __init__(self, name="linalg.inv", check_errors=True):
        self.error_name, self.check_errors = name, check_errors

    def forward(self, a):
        self.info = np.zeros(a.shape[:-2], np.int32)  # LAPACK's: the first zero pivot, or 0
        try:
            return np.linalg.inv(a)
        except np.linalg.LinAlgError:
            if self.check_errors:
                raise _singular_error(self.error_name, a) from None
        # inv_ex: solve A X = I through the LU factors, zero pivots giving inf and NaN
        lu, pivots, self.info = _getrf(a)
        return _lu_solve_np(lu, pivots, np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype),
                                                        a.shape), True, False)

    def backward(self, gy):
        y = self.saved_output()
        # d(A^-1) = -A^-1 dA A^-1, so dL/dA = -A^-T G A^-T
        return -(y.mT @ gy @ y.mT)


class Solve(Function):
    """X with A X = B, for square A and matrices B (their batch dims broadcast)."""

    saves_outputs = True
    grad_fn_name = "LinalgSolveExBackward0"

    def __init__(self, name="torch.linalg.solve", check_errors=True):
        self.error_name, self.check_errors = name, check_errors

    def forward(self, a, b):
        self.info = np.zeros(a.shape[:-2], np.int32)  # LAPACK's: the first zero pivot, or 0
        try:
            return np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            if self.check_errors:
                a = np.broadcast_to(a, np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
                                    + a.shape[-2:])
                k, _ = _first_singular(a)
                raise LinAlgError(f"{self.error_name}: {_batch_prefix(a, k)}The solver failed "
                                  "because the input matrix is singular.") from None
        # solve_ex: through the LU factors, zero pivots giving inf and NaN
        lu, pivots, self.info = _getrf(a)
        return _lu_solve_np(lu, pivots, b, True, False)

    def backward(self, gx):
        a = self.saved_input(0)
        x = self.saved_output()
        # A X = B gives dX = A^-1 (dB - dA X): dL/dB = A^-T G, and dL/dA = -(dL/dB) X^T
        gb = Solve(self.error_name, self.check_errors)(a.mT, gx)
        ga = -(gb @ x.mT) if self.needs_input_grad[0] else None
        return (None if ga is None else sum_to(ga, a.shape),
                sum_to(gb, self.inputs[1].shape) if self.needs_input_grad[1] else None)


def _solve(a, b):
    """A^-1 B for matrices B, recorded (the backward formulas below solve through this)."""
    return Solve()(a, b)


class Det(Function):
    """det(A) (np.linalg.det: the product of LU's pivots)."""

    saves_outputs = True
    grad_fn_name = "LinalgDetBackward0"

    def forward(self, a):
        return np.asarray(np.linalg.det(a))

    def backward(self, g):
        a = self.saved_input(0)
        det = self.saved_output()
        n = a.shape[-1]
        # d det(A) = tr(adj(A) dA), so dL/dA = g adj(A)^T, the cofactor matrix: g det(A) A^-T,
        # the X with A^T X = g det I, for a clearly invertible A. For a (nearly) singular one,
        # as PyTorch: |det| below 100 eps, from the SVD (below).
        singular = np.abs(det._data) < 100 * np.finfo(a.dtype).eps
        eye = _eye(n, a.dtype)
        if not singular.any():
            return _solve(a.mT, (g * det).unsqueeze(-1).unsqueeze(-1) * eye)
        mask = Tensor._make(singular[..., None, None])
        safe = where(mask, eye, a)  # (the identity stands in where the solve would fail)
        invertible = _solve(safe.mT, (g * det).unsqueeze(-1).unsqueeze(-1) * eye)
        return where(mask, _cofactors_by_svd(a, g), invertible)


def _cofactors_by_svd(a, g):
    """g times the cofactor matrix of A (adj(A)^T) from A = U S V^T, well defined for a singular A
    too: adj(A)^T = det(U) det(V) U diag(prod of the other singular values) V^T."""
    u, s, vh = svd(a, full_matrices=False)
    sign = Tensor._make(np.linalg.det(u._data) * np.linalg.det(vh._data))
    one = s[..., :1] * 0 + 1
    before = cat([one, s[..., :-1]], -1).cumprod(-1)  # s_0 ... s_(i-1), without dividing by s_i
    after = cat([s[..., 1:], one], -1).flip(-1).cumprod(-1).flip(-1)  # s_(i+1) ... s_(n-1)
    d = (g * sign).unsqueeze(-1) * before * after
    return (u * d.unsqueeze(-2)) @ vh


class SlogDet(Function):
    """(sign(det A), log|det A|) (np.linalg.slogdet): a determinant that does not overflow."""

    grad_fn_name = "LinalgSlogdetBackward0"
    materialize_grads = False

    def forward(self, a):
        sign, logabsdet = np.linalg.slogdet(a)
        return np.asarray(sign), np.asarray(logabsdet)

    def backward(self, g_sign, g_logabsdet):
        if g_logabsdet is None:  # the sign is piecewise constant: no gradient
            return None
        a = self.saved_input(0)
        n = a.shape[-1]
        # d log|det A| = tr(A^-1 dA), so dL/dA = g A^-T
        return _solve(a.mT, g_logabsdet.unsqueeze(-1).unsqueeze(-1) * _eye(n, a.dtype))


def inv(A, *, out=None):
    """The inverse of a square matrix (or of each in a batch). A singular matrix raises
    LinAlgError naming the zero pivot, as PyTorch does."""
    _no_out(out, "linalg.inv")
    A = _check_matrix("linalg.inv", A, "linalg_inv")
    return Inv()(A)


def inv_ex(A, *, check_errors=False, out=None):
    """linalg.inv and `info`, one int32 per matrix: the 1-based index of the first zero pivot
    of its LU (LAPACK's getrf), 0 if none. A singular matrix is no error (its inverse holds inf
    or NaN) unless check_errors=True."""
    _no_out(out, "linalg.inv_ex")
    A = _check_matrix("linalg.inv", A, "linalg_inv_ex")
    node = Inv("linalg.inv_ex", bool(check_errors))
    inverse = node(A)
    return return_types.linalg_inv_ex(inverse, Tensor._make(node.info))


def det(A, *, out=None):
    """The determinant of a square matrix (or of each in a batch)."""
    _no_out(out, "linalg.det")
    A = _check_matrix("linalg.det", A, "linalg_det", half_kernel="lu_cpu")
    return Det()(A)


def slogdet(A, *, out=None):
    """(sign, logabsdet) with det(A) = sign * exp(logabsdet), a named tuple; a singular matrix
    gives sign 0 and logabsdet -inf."""
    _no_out(out, "linalg.slogdet")
    A = _check_matrix("linalg.slogdet", A, "linalg_slogdet")
    return return_types.linalg_slogdet(*SlogDet()(A))


def _is_vector_rhs(A, B):
    """PyTorch's rule for solve's B: a vector (one per batch element) or a batch of matrices."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])


def solve(A, B, *, left=True, out=None):
    """The X with A X = B (left=True) or X A = B (left=False), for square A. B is a vector (one
    per batch element) or a matrix; batch dims broadcast."""
    _no_out(out, "linalg.solve")
    return _checked_solve(A, B, left, "linalg_solve", Solve())


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """linalg.solve and `info`, one int32 per matrix of A: the 1-based index of the first zero
    pivot of its LU (LAPACK's getrf), 0 if none. A singular matrix is no error (its solution
    holds inf or NaN) unless check_errors=True."""
    _no_out(out, "linalg.solve_ex")
    node = Solve("torch.linalg.solve_ex", bool(check_errors))
    X = _checked_solve(A, B, left, "linalg_solve_ex", node)
    return return_types.linalg_solve_ex(X, Tensor._make(node.info))


def _checked_solve(A, B, left, fn, node):
    """solve's argument checks (PyTorch's messages), then A X = B or X A = B by `node`."""
    A = _check_matrix("linalg.solve", A, fn, half_kernel="lu_cpu")
    require_tensor(B, fn, "B", 2)
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of "
                           f"type {_type(A)} and B of type {_type(B)} instead")
    vector = _is_vector_rhs(A, B)
    Bm = B.unsqueeze(-1) if vector else B
    n = A.shape[-1]
    rows = Bm.shape[-2] if left else Bm.shape[-1]
    if vector and not left or rows != n:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{equation} ({n}x{n} and {Bm.shape[-2]}x{Bm.shape[-1]})")
    broadcast_shape(A.shape[:-2], Bm.shape[:-2])
    if not left:  # X A = B is A^T X^T = B^T
        return node(A.mT, Bm.mT).mT
    X = node(A, Bm)
    return X.squeeze(-1) if vector else X


class SolveTriangular(Function):
    """X with A X = B for a triangular A (its upper or lower triangle; with unitriangular, ones
    on the diagonal): substitution, one row of X at a time from the end the triangle starts,
    x_i = (b_i - sum_j a_ij x_j) / a_ii over the rows j already solved. A zero on the diagonal
    gives inf or NaN there, as PyTorch's (LAPACK's trtrs) does; it is not an error."""

    saves_outputs = True
    grad_fn_name = "LinalgSolveTriangularBackward0"

    def __init__(self, upper, unitriangular):
        self.upper, self.unitriangular = upper, unitriangular

    def forward(self, a, b):
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a = np.broadcast_to(a, batch + a.shape[-2:])
        x = np.array(np.broadcast_to(b, batch + b.shape[-2:]))  # rows become X's, in place
        n = a.shape[-1]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for i in (reversed(range(n)) if self.upper else range(n)):
                solved = slice(i + 1, n) if self.upper else slice(0, i)
                x[..., i, :] -= np.einsum("...j,...jk->...k", a[..., i, solved],
                                          x[..., solved, :])
                if not self.unitriangular:
                    x[..., i, :] /= a[..., i, i, None]
        return x

    def backward(self, gx):
        a, x = self.saved_input(0), self.saved_output()
        # A X = B gives dX = A^-1 (dB - dA X): dL/dB = A^-T G (A^T is triangular the other
        # way), and dL/dA = -(dL/dB) X^T on the triangle A's solution read (off the diagonal
        # too with unitriangular, whose diagonal is not read)
        gb = SolveTriangular(not self.upper, self.unitriangular)(a.mT, gx)
        ga = None
        if self.needs_input_grad[0]:
            ga = -(gb @ x.mT)
            k = int(self.unitriangular)
            ga = sum_to(triu(ga, k) if self.upper else tril(ga, -k), a.shape)
        return ga, sum_to(gb, self.inputs[1].shape) if self.needs_input_grad[1] else None


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """The X with A X = B (left=True) or X A = B (left=False) for a triangular square A: only A's
    upper (upper=True) or lower triangle is read, and with unitriangular its diagonal is taken
    to be ones. B is a (batch of) matrix; batch dims broadcast; X has A's dtype."""
    _no_out(out, "linalg.solve_triangular")
    name = "linalg.solve_triangular"
    A = _check_matrix(name, A, "linalg_solve_triangular", floating=False)
    not_implemented_for(A, "triangular_solve_cpu")
    _check_float(name, A, "triangular_solve_cpu")
    require_tensor(B, "linalg_solve_triangular", "B", 2)
    if B.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {equation} "
                           f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    B = B.to(A.dtype)
    if not left:  # X A = B is A^T X^T = B^T, and A^T is triangular the other way
        return SolveTriangular(not upper, unitriangular)(A.mT, B.mT).mT
    return SolveTriangular(upper, unitriangular)(A, B)


class CholeskyInverse(Function):
    """A^-1 from A's Cholesky factor: A = L L^T gives A^-1 = L^-T L^-1 (upper: A = U^T U gives
    U^-1 U^-T), from one triangular solve against the identity (only the factor's triangle is
    read, as LAPACK's potri reads it)."""

    saves_outputs = True
    grad_fn_name = "CholeskyInverseBackward0"

    def __init__(self, upper):
        self.upper = upper

    def forward(self, factor):
        eye = np.broadcast_to(np.eye(factor.shape[-1], dtype=factor.dtype), factor.shape)
        inverse_factor = SolveTriangular(self.upper, False).forward(factor, eye)
        if self.upper:
            return inverse_factor @ np.swapaxes(inverse_factor, -1, -2)
        return np.swapaxes(inverse_factor, -1, -2) @ inverse_factor

    def backward(self, g):
        factor, inverse = self.saved_input(0), self.saved_output()
        # PyTorch's formula (on the whole factor, both triangles): with A = L L^T,
        # dA^-1 = -A^-1 dA A^-1 and dA = dL L^T + L dL^T, so dL/dL = -A^-1 (G + G^T) A^-1 L
        common = inverse @ (g + g.mT) @ inverse
        return -(factor @ common) if self.upper else -(common @ factor)


def cholesky_inverse(L, upper=False, *, out=None):
    """A^-1 from the Cholesky factor of a symmetric positive-definite A (lower L with A = L L^T,
    or upper U with A = U^T U)."""
    _no_out(out, "cholesky_inverse")
    L = _check_matrix("cholesky_inverse", L, "cholesky_inverse", floating=False)
    not_implemented_for(L, "cholesky_inverse_out_cpu")
    _check_float("cholesky_inverse", L)
    return CholeskyInverse(upper)(L)


def _no_out(out, name):
    if out is not None:
        raise TypeError(f"{name}(): the 'out' argument is not supported by numpy2gpt")


# ----- Cholesky, QR, eigh, SVD -------------------------------------------------------------------
class Cholesky(Function):
    """L lower triangular with A = L L^T (upper=True: U = L^T with A = U^T U), for a symmetric
    positive-definite A. LAPACK reads only A's lower (upper) triangle."""

    saves_outputs = True
    grad_fn_name = "LinalgCholeskyExBackward0"

    def __init__(self, upper, name, check_errors=True):
        self.upper, self.error_name, self.check_errors = upper, name, check_errors

    def forward(self, a):
        self.info = np.zeros(a.shape[:-2], np.int32)  # the first failing leading minor, or 0
        try:
            return np.linalg.cholesky(a, upper=self.upper)
        except np.linalg.LinAlgError:
            if self.check_errors:
                raise _not_positive_definite(self.error_name, a, self.upper) from None
        factor, self.info = _potf2(a, self.upper)
        return factor

    def backward(self, gl):
        l = self.saved_output()
        if self.upper:
            l, gl = l.mT, gl.mT
        # Murray (2016), arXiv 1602.07527: with P = L^T gL kept on and below the diagonal,
        # Phi = the symmetric matrix with P's lower triangle and half its diagonal,
        # dL/dA = L^-T Phi L^-1 (two triangular solves; a general solve here).
        p = tril(l.mT @ gl)
        phi = 0.5 * (p + tril(p, -1).mT)
        x = _solve(l.mT, phi)  # L^-T Phi
        return _solve(l.mT, x.mT).mT  # (L^-T (L^-T Phi)^T)^T = L^-T Phi L^-1


def cholesky(A, *, upper=False, out=None):
    """The Cholesky factor of a symmetric positive-definite matrix: lower L with A = L L^T, or
    (upper=True) U = L^T. A matrix that is not positive-definite raises LinAlgError."""
    _no_out(out, "linalg.cholesky")
    A = _check_matrix("linalg.cholesky", A, "linalg_cholesky", half_kernel="cholesky_cpu")
    return Cholesky(upper, "linalg.cholesky")(A)


def _potf2(a, upper):
    """The Cholesky factor of each matrix by columns, as LAPACK's potf2 computes it, for
    cholesky_ex: with L's columns before j done, d = a_jj - |L_j,:j|^2, l_jj = sqrt(d), and the
    column below is (a_:j - L_:,:j L_j,:j^T) / l_jj. A matrix stops at the first d that is not
    > 0 (its leading minor of that order is not positive-definite): d is stored there, the rest
    of its triangle stays A's, and info is that order (0 for the matrices that complete).
    upper=True factors A^T the same way (its lower triangle is A's upper one) and transposes."""
    n = a.shape[-1]
    if upper:
        a = np.swapaxes(a, -1, -2)
    f = np.tril(a).reshape(-1, n, n)
    info = np.zeros(f.shape[0], np.int32)
    with np.errstate(all="ignore"):
        for j in range(n):
            d = f[:, j, j] - np.einsum("bk,bk->b", f[:, j, :j], f[:, j, :j])
            done = info == 0
            fail = done & ~(d > 0)
            go = done & (d > 0)
            f[fail, j, j], info[fail] = d[fail], j + 1
            f[go, j, j] = np.sqrt(d[go])
            below = f[go, j + 1:, j] - np.einsum("bik,bk->bi", f[go, j + 1:, :j], f[go, j, :j])
            f[go, j + 1:, j] = below / f[go, j, j, None]
    f = f.reshape(a.shape)
    return (np.swapaxes(f, -1, -2) if upper else f), info.reshape(a.shape[:-2])


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """linalg.cholesky and `info`, one int32 per matrix: the order of the first leading minor
    that is not positive-definite, 0 if none. Such a matrix is no error (its factor is LAPACK's
    partial one) unless check_errors=True."""
    _no_out(out, "linalg.cholesky_ex")
    require_tensor(A, "linalg_cholesky_ex", "input", 1)
    A = _check_matrix("linalg.cholesky", A, "linalg_cholesky_ex", half_kernel="cholesky_cpu")
    node = Cholesky(bool(upper), "linalg.cholesky_ex", bool(check_errors))
    L = node(A)
    return return_types.linalg_cholesky_ex(L, Tensor._make(node.info))


class QR(Function):
    """A = Q R (np.linalg.qr: Householder reflections, LAPACK's geqrf), Q with orthonormal
    columns, R upper triangular. mode 'r' computes R only (Q is an empty tensor)."""

    grad_fn_name = "LinalgQrBackward0"
    saves_outputs = True
    materialize_grads = False

    def __init__(self, mode):
        self.mode = mode

    def forward(self, a):
        if self.mode == "r":
            return np.empty(0, a.dtype), np.linalg.qr(a, mode="r")
        q, r = np.linalg.qr(a, mode=self.mode)
        return q, r

    def backward(self, gq, gr):
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you are "
                               "going to differentiate through linalg.qr.")
        q, r = self.saved_output(0), self.saved_output(1)
        m, n = q.shape[-2], r.shape[-1]
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        # M = gR R^T - Q^T gQ (the terms of an output that got no gradient drop out)
        if gq is None:
            M = gr @ r.mT
        else:
            M = -(q.mT @ gq) if gr is None else gr @ r.mT - q.mT @ gq
        if m >= n:
            # dL/dA = (gQ + Q copyltu(M)) R^-T, copyltu(M) = the symmetric matrix with M's upper
            # triangle (PyTorch's syminvadj(triu(M)))
            upper = M.triu()
            ga = q @ (upper + upper.triu(1).mT)
            if gq is not None:
                ga = ga + gq
            return _solve(r, ga.mT).mT  # X R^T = gA
        # m < n: A = Q [R1 R2] with R1 square; the gradient reaches A's first m columns through
        # Q (the skew part of -M below the diagonal) and all of A through R (Q gR).
        ga = q @ tril(-M - (-M).mT)
        ga = _solve(narrow(r, -1, 0, m), ga.mT).mT  # X R1^T = gA
        zeros = Tensor._make(np.zeros(ga.shape[:-1] + (n - m,), ga.dtype))
        ga = cat([ga, zeros], -1)
        return ga if gr is None else ga + q @ gr


def qr(A, mode="reduced", *, out=None):
    """The QR decomposition A = Q R as a named tuple (Q, R). mode: 'reduced' (Q is m x k, R is
    k x n, k = min(m, n)), 'complete' (Q is m x m, R is m x n) or 'r' (R only; Q is empty)."""
    _no_out(out, "linalg.qr")
    A = _check_matrix("linalg.qr", A, "linalg_qr", square=False, half_kernel="geqrf_cpu")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    return return_types.linalg_qr(*QR(mode)(A))


class Eigh(Function):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix
    (np.linalg.eigh, LAPACK's syevd), which reads only the UPLO triangle."""

    grad_fn_name = "LinalgEighBackward0"
    saves_outputs = True
    materialize_grads = False

    def __init__(self, uplo):
        self.uplo = uplo

    def forward(self, a):
        w, v = np.linalg.eigh(a, UPLO=self.uplo)
        return w, v

    def backward(self, gw, gv):
        w, v = self.saved_output(0), self.saved_output(1)
        if gv is None:  # eigenvalues only: d lambda_i = v_i^T dA v_i, so dL/dA = V diag(gw) V^T
            return (v * gw.unsqueeze(-2)) @ v.mT
        # dL/dA = V (diag(gw) + skew(V^T gV) / E) V^T with E_ij = lambda_j - lambda_i off the
        # diagonal (1 on it, where skew(.) is 0). A repeated eigenvalue divides by 0: inf or NaN,
        # as in PyTorch (the eigenvectors of a repeated eigenvalue are not unique).
        vgv = v.mT @ gv
        vgv = 0.5 * (vgv - vgv.mT)
        e = w.unsqueeze(-2) - w.unsqueeze(-1) + _eye(w.shape[-1], w.dtype)
        g = vgv / e
        if gw is not None:
            g = g + diag_embed(gw)
        return v @ (g @ v.mT)


def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(A, UPLO="L", *, out=None):
    """Eigenvalues in ascending order and orthonormal eigenvectors (columns) of a symmetric
    matrix, as a named tuple; only the UPLO ('L' or 'U') triangle of A is read."""
    _no_out(out, "linalg.eigh")
    A = _check_matrix("linalg.eigh", A, "linalg_eigh", floating=False)
    if A.dtype.kind != "f" or A.dtype == np.float16:
        raise NotImplementedError(f"\"linalg_eigh_cpu\" not implemented for '{_type(A)}'")
    _check_uplo(UPLO)
    return return_types.linalg_eigh(*Eigh(UPLO)(A))


def eigvalsh(A, UPLO="L", *, out=None):
    """The eigenvalues of a symmetric matrix in ascending order (see eigh)."""
    return eigh(A, UPLO, out=out)[0]


class SVD(Function):
    """A = U diag(S) Vh (np.linalg.svd, LAPACK's gesdd), S descending."""

    grad_fn_name = "LinalgSvdBackward0"
    saves_outputs = True
    materialize_grads = False

    def __init__(self, full_matrices):
        self.full_matrices = full_matrices

    def forward(self, a):
        u, s, vh = np.linalg.svd(a, full_matrices=self.full_matrices)
        return u, s, vh

    def backward(self, gu, gs, gvh):
        u, s, vh = (self.saved_output(i) for i in range(3))
        m, n, k = u.shape[-2], vh.shape[-1], s.shape[-1]
        if self.full_matrices:  # only the first k columns of U (rows of Vh) depend on A
            u, vh = narrow(u, -1, 0, k), narrow(vh, -2, 0, k)
            gu = None if gu is None else narrow(gu, -1, 0, k)
            gvh = None if gvh is None else narrow(gvh, -2, 0, k)
        if gu is None and gvh is None:  # singular values only: d s_i = u_i^T dA v_i
            return u @ (gs.unsqueeze(-1) * vh)
        # Townsend, "Differentiating the singular value decomposition" (2016), as PyTorch:
        # dL/dA = U [skew(U^T gU) / E S + S skew(V^T gV) / E + diag(gS)] V^T with
        # E_jk = s_k^2 - s_j^2 off the diagonal (1 on it), plus, for a tall (wide) A, the part
        # of gU (gV) outside U's (V's) columns: (I - U U^T) gU S^-1 V^T (U S^-1 gV^T (I - V V^T)).
        s2 = s * s
        e = s2.unsqueeze(-2) - s2.unsqueeze(-1) + _eye(k, s.dtype)
        uhgu = None if gu is None else u.mT @ gu
        vhgv = None if gvh is None else vh @ gvh.mT
        uhgu = None if uhgu is None else uhgu - uhgu.mT
        vhgv = None if vhgv is None else vhgv - vhgv.mT
        if uhgu is not None and vhgv is not None:
            g = (uhgu * s.unsqueeze(-2) + s.unsqueeze(-1) * vhgv) / e
        elif uhgu is not None:
            g = (uhgu / e) * s.unsqueeze(-2)
        else:
            g = s.unsqueeze(-1) * (vhgv / e)
        if gs is not None:
            g = g + diag_embed(gs)
        if m > n and gu is not None:
            g = u @ g
            gu_sinv = gu / s.unsqueeze(-2)
            g = g + gu_sinv - u @ (u.mT @ gu_sinv)
            return g @ vh
        if m < n and gvh is not None:
            g = g @ vh
            sinv_gvh = gvh / s.unsqueeze(-1)
            g = g + sinv_gvh - (sinv_gvh @ vh.mT) @ vh
            return u @ g
        return u @ (g @ vh)


def _check_driver(driver):
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on "
                           "CUDA inputs with cuSOLVER backend.")


def svd(A, full_matrices=True, *, driver=None, out=None):
    """The singular value decomposition A = U diag(S) Vh as a named tuple (U, S, Vh), S in
    descending order. full_matrices=False gives the reduced U (m x k) and Vh (k x n)."""
    _no_out(out, "linalg.svd")
    A = _check_matrix("linalg.svd", A, "linalg_svd", square=False, half_kernel="linalg_svd_cpu")
    _check_driver(driver)
    return return_types.linalg_svd(*SVD(bool(full_matrices))(A))


def svdvals(A, *, driver=None, out=None):
    """The singular values of A in descending order (their gradient is U diag(g) Vh)."""
    _no_out(out, "linalg.svdvals")
    A = _check_matrix("linalg.svd", A, "linalg_svdvals", square=False,
                      half_kernel="linalg_svd_cpu")
    _check_driver(driver)
    return SVD(False)(A)[1]


# ----- pseudo-inverse, rank, least squares --------------------------------------------------------
def _tolerance(a, s_max, atol, rtol):
    """PyTorch's cut-off for 'zero' singular values of each matrix in `a`:
    max(atol, rtol * the largest). rtol defaults to eps * max(m, n), or to 0 where an atol > 0
    is given; atol (a number or a tensor, as rtol) defaults to 0."""
    atol = 0.0 if atol is None else np.asarray(atol._data if isinstance(atol, Tensor) else atol)
    if rtol is None:
        rtol = np.where(atol > 0, 0.0, np.finfo(a.dtype).eps * max(a.shape[-2:]))
    rtol = np.asarray(rtol._data if isinstance(rtol, Tensor) else rtol)
    return np.maximum(atol, rtol * s_max).astype(a.dtype)


class Pinv(Function):
    """The Moore-Penrose pseudo-inverse from the SVD (or, hermitian=True, from eigh): invert
    the singular values above the tolerance, zero the others."""

    saves_outputs = True
    grad_fn_name = "LinalgPinvBackward0"

    def __init__(self, atol, rtol, hermitian):
        self.atol, self.rtol, self.hermitian = atol, rtol, hermitian

    def forward(self, a):
        if self.hermitian:
            w, v = np.linalg.eigh(a)
            s, left, right = np.abs(w), v, v
        else:
            left, s, right = np.linalg.svd(a, full_matrices=False)
            right = np.swapaxes(right, -1, -2)
        tol = _tolerance(a, s.max(axis=-1, initial=0.0), self.atol, self.rtol)[..., None]
        keep = s > tol
        with np.errstate(divide="ignore"):
            inv_s = np.where(keep, 1 / np.where(keep, s, 1), 0).astype(a.dtype)
        if self.hermitian:
            inv_s = inv_s * np.sign(w)
        return (right * inv_s[..., None, :]) @ np.swapaxes(left, -1, -2)

    def backward(self, g):
        a, p = self.saved_input(0), self.saved_output()
        # PyTorch's pinv_backward (Golub & Pereyra 1973): the derivative of A+ = P is
        # -P dA P + (I - P A) dA^T P^T P + P P^T dA^T (I - A P); its adjoint, with the products
        # ordered so that the smallest matrices appear:
        m, n = a.shape[-2], a.shape[-1]
        ph, gh = p.mT, g.mT
        if m <= n:
            k = gh @ p
            k_ph = k @ ph
            return -(p @ k).mT + k_ph - (a @ p) @ k_ph + (ph @ p) @ (gh - k @ a)
        k = p @ gh
        ph_k = ph @ k
        return -(k @ p).mT + (gh - a @ k) @ p @ ph + ph_k - ph_k @ p @ a


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """The pseudo-inverse of a matrix (batches too): singular values <= max(atol, rtol * the
    largest) count as zero. hermitian=True: A is symmetric (eigh instead of the SVD). `rcond`
    is the older name of rtol."""
    _no_out(out, "linalg.pinv")
    require_tensor(A, "linalg_pinv", "A", 1)
    if A.ndim < 2 or A.dtype.kind != "f" or A.dtype == np.float16:
        raise RuntimeError(f"linalg.pinv({_type(A)}{{{list(A.shape)}}}): expected a tensor with 2 "
                           "or more dimensions of float, double, cfloat or cdouble types")
    if rcond is not None:
        rtol = rcond
    return Pinv(atol, rtol, bool(hermitian))(A)


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """The number of singular values (hermitian=True: |eigenvalues|) above max(atol, rtol *
    the largest), as int64. `tol` is the older name of atol."""
    _no_out(out, "linalg.matrix_rank")
    require_tensor(A, "linalg_matrix_rank", "A", 1)
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least "
                           "2 dimensions.")
    if A.dtype.kind != "f" or A.dtype == np.float16:
        raise RuntimeError("This function doesn't handle types other than float and double")
    if tol is not None:
        atol = tol
    a = A._data
    s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    tol = _tolerance(a, s.max(axis=-1, initial=0.0), atol, rtol)
    return Tensor._make(np.sum(s > tol[..., None], axis=-1).astype(np.int64))


_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of A X = B (min ||A X - B||), as a named tuple (solution,
    residuals, rank, singular_values) shaped as PyTorch's driver fills them (default 'gelsy':
    no residuals or singular values; 'gelsd'/'gelss': all of them; 'gels': no rank).

    The solution is pinv(A) B, computed from the SVD with singular values below rcond * the
    largest treated as zero: the minimum-norm solution that every driver returns for a matrix
    of full rank (the solution's gradient is pinv's, as in PyTorch)."""
    require_tensor(A, "linalg_lstsq", "A", 1)
    require_tensor(B, "linalg_lstsq", "B", 2)
    if driver is None:
        driver = "gelsy"
    if driver not in _LSTSQ_DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           "gelsy, gelsd, gelss)")
    for t in (A, B):
        if t.dtype.kind != "f" or t.dtype == np.float16:
            raise RuntimeError("This function doesn't handle types other than float and double")
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if A.dtype != B.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, "
                           f"but got input's dtype {_type(A)} and other's dtype {_type(B)}")
    vector = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.shape[-2] != A.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2], A.shape[-1]
    rtol = np.finfo(A.dtype).eps * max(m, n) if rcond is None or rcond < 0 else rcond
    # (the product is the last step of PyTorch's one lstsq node: its name)
    X = renamed(matmul(Pinv(None, rtol, False)(A), Bm), "LinalgLstsqBackward0")
    solution = X.squeeze(-1) if vector else X
    a = A._data
    s = np.linalg.svd(a, compute_uv=False)
    rank = np.sum(s > rtol * s.max(axis=-1, initial=0.0)[..., None], axis=-1)
    batch = np.broadcast_shapes(A.shape[:-2], Bm.shape[:-2])
    empty = Tensor._make(np.zeros(0, A.dtype))
    residuals = narrow(X.reshape(-1), 0, 0, 0)  # empty, but part of the graph as in PyTorch
    if driver != "gelsy" and m > n and (rank == n).all():
        # the squared norm of each column of A X - B (the residual of each right-hand side)
        r = matmul(A, X) - Bm
        residuals = sum(r * r, dim=-2)
    ranks = Tensor._make(np.broadcast_to(rank, batch).astype(np.int64).copy())
    if driver == "gels":
        ranks = Tensor._make(np.zeros(0, np.int64))
    values = Tensor._make(s) if driver in ("gelsd", "gelss") else empty
    return return_types.linalg_lstsq(solution, residuals, ranks, values)


# ----- LU: factorization, unpacking, solving -----------------------------------------------------
def _getrf(a):
    """LU with partial pivoting of each matrix of the batch `a` (..., m, n), as LAPACK's getrf
    computes it: P^T A = L U, packed into one matrix (L's multipliers below the diagonal, its
    ones implied; U on and above it), the row swaps as 1-based int32 pivots (row j was swapped
    with row pivots[j] at step j) and info, the 1-based index of the first exactly zero pivot
    (0 if none). Each step swaps up the row with the first largest |value| of the column (the
    pivot LAPACK's idamax picks), so P, L and U are LAPACK's. A zero pivot is skipped, as LAPACK
    skips it: its column of L stays zero and the elimination goes on."""
    *batch, m, n = a.shape
    k = min(m, n)
    count = int(np.prod(batch))
    lu = np.array(a.reshape(count, m, n))
    pivots = np.empty((count, k), np.int32)
    info = np.zeros(lu.shape[0], np.int32)
    rows = np.arange(lu.shape[0])
    with np.errstate(all="ignore"):
        for j in range(k):
            # idamax: the first largest |value|, NaN skipped unless it comes first
            column = np.abs(lu[:, j:, j])
            p = j + np.where(np.isnan(column[:, 0]), 0,
                             np.argmax(np.where(np.isnan(column), -np.inf, column), axis=-1))
            pivots[:, j] = p + 1
            lu[rows, j], lu[rows, p] = lu[rows, p], lu[rows, j]  # (fancy indexing copies)
            pivot = lu[:, j, j, None]
            info[(info == 0) & (pivot[:, 0] == 0)] = j + 1
            np.divide(lu[:, j + 1:, j], pivot, out=lu[:, j + 1:, j], where=pivot != 0)
            lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    return (lu.reshape(a.shape), pivots.reshape(*batch, k), info.reshape(batch))


def _permutation(pivots, m, dtype):
    """The m x m permutation matrix P of A = P L U from getrf's pivots: the row swaps applied
    in order to 0..m-1 give perm, the rows of A that make up L U, so P[perm[i], i] = 1."""
    perm = np.array(np.broadcast_to(np.arange(m), pivots.shape[:-1] + (m,)))
    count = int(np.prod(pivots.shape[:-1]))
    flat, swaps = perm.reshape(count, m), pivots.reshape(count, pivots.shape[-1]) - 1
    rows = np.arange(flat.shape[0])
    for i in range(swaps.shape[-1]):
        p = swaps[:, i]
        flat[rows, i], flat[rows, p] = flat[rows, p], flat[rows, i]
    return np.swapaxes(perm[..., :, None] == np.arange(m), -1, -2).astype(dtype)


def _unpack(lu, k):
    """L (m x k, unit lower triangular) and U (k x n, upper triangular) from a packed LU, with
    recorded ops (the backwards differentiate through them)."""
    m = lu.shape[-2]
    L = tril(narrow(lu, -1, 0, k), -1) + Tensor._make(np.eye(m, k, dtype=lu.dtype))
    return L, triu(narrow(lu, -2, 0, k))


def _lu_backward(gL, gU, P, L, U):
    """dL/dA of A = P L U from the gradients of L and U (either may be None), PyTorch's
    linalg_lu_backward. For a square A, P^T dA = dL U + L dU; with M = L^-1 P^T dA U^-1 the
    strictly lower part of M is L^-1 dL and its upper part dU U^-1, so
    dL/dA = P L^-T [tril(L^T gL, -1) + triu(gU U^T)] U^-T. A wide A = P L [U1 U2] adds U2's part
    (U2 = L^-1 P^T A2); a tall A = P [L1; L2] U adds L2's part (L2 = P2^T A2 U^-1)."""
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    if m == n:
        ga = None if gL is None else tril(L.mT @ gL, -1)
        if gU is not None:
            ga = triu(gU @ U.mT) if ga is None else ga + triu(gU @ U.mT)
        ga = solve_triangular(U.mT, ga, upper=False, left=False)
        ga = solve_triangular(L.mT, ga, upper=True, unitriangular=True)
    elif m < n:
        # dL/dA1 = P L^-T [gU1 + tril(L^T gL - gU U^T, -1) U1^-T], dL/dA2 = P L^-T gU2
        U1 = narrow(U, -1, 0, k)
        ga = None if gL is None else L.mT @ gL
        if gU is not None:
            ga = -(triu(gU) @ U.mT) if ga is None else ga - triu(gU) @ U.mT
        ga = solve_triangular(U1.mT, tril(ga, -1), upper=False, left=False)
        if gU is not None:
            ga = cat([ga + triu(narrow(gU, -1, 0, k)), narrow(gU, -1, k, n - k)], -1)
        ga = solve_triangular(L.mT, ga, upper=True, unitriangular=True)
        if gU is None:
            ga = cat([ga, Tensor._make(np.zeros(ga.shape[:-1] + (n - k,), ga.dtype))], -1)
    else:
        # dL/dA1 = P [tril(gL1, -1) + L1^-T triu(gU U^T - L^T tril(gL, -1))] U^-T,
        # dL/dA2 = P gL2 U^-T
        L1 = narrow(L, -2, 0, k)
        ga = None if gU is None else gU @ U.mT
        if gL is not None:
            ga = -(L.mT @ tril(gL, -1)) if ga is None else ga - L.mT @ tril(gL, -1)
        ga = solve_triangular(L1.mT, triu(ga), upper=True, unitriangular=True)
        if gL is not None:
            ga = cat([ga + tril(narrow(gL, -2, 0, k), -1), narrow(gL, -2, k, m - k)], -2)
        ga = solve_triangular(U.mT, ga, upper=False, left=False)
        if gL is None:
            ga = cat([ga, Tensor._make(np.zeros(ga.shape[:-2] + (m - k, n), ga.dtype))], -2)
    return P @ ga


class LinalgLU(Function):
    """L and U of A = P L U (getrf, then unpacked); P, a constant, is left in self.P."""

    saves_outputs = True
    materialize_grads = False
    grad_fn_name = "LinalgLuBackward0"

    def forward(self, a):
        lu, pivots, _ = _getrf(a)
        m, n = a.shape[-2:]
        k = min(m, n)
        self.P = _permutation(pivots, m, a.dtype)
        L = np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=a.dtype)
        return L, np.triu(lu[..., :k, :])

    def backward(self, gL, gU):
        return _lu_backward(gL, gU, Tensor._make(self.P), self.saved_output(0),
                            self.saved_output(1))


class LUFactor(Function):
    """getrf's packed LU, pivots and info (see _getrf); only LU carries a gradient."""

    saves_outputs = True
    grad_fn_name = "LinalgLuFactorExBackward0"

    def forward(self, a):
        lu, self.pivots, info = _getrf(a)
        return lu, self.pivots, info

    def backward(self, g, g_pivots, g_info):
        lu = self.saved_output(0)
        m, n = lu.shape[-2:]
        k = min(m, n)
        # LU packs L's strictly lower part and U: their gradients are g's parts there
        L, U = _unpack(lu, k)
        return _lu_backward(narrow(g, -1, 0, k), narrow(g, -2, 0, k),
                            Tensor._make(_permutation(self.pivots, m, lu.dtype)), L, U)


class LUUnpack(Function):
    """L (m x k, ones on the diagonal) and U (k x n) from a packed LU (m x n); with
    unpack_data=False two empty tensors (still of the graph, as PyTorch's)."""

    materialize_grads = False
    grad_fn_name = "LuUnpackBackward0"

    def __init__(self, unpack_data=True):
        self.unpack_data = unpack_data

    def forward(self, lu):
        if not self.unpack_data:
            return np.zeros(0, lu.dtype), np.zeros(0, lu.dtype)
        m, n = lu.shape[-2:]
        k = min(m, n)
        L = np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype)
        return L, np.triu(lu[..., :k, :])

    def backward(self, gL, gU):
        m, n = self.input_shapes[0][-2:]
        k = min(m, n)
        if not self.unpack_data:
            return Tensor._make(np.zeros(self.input_shapes[0], (gL if gU is None else gU).dtype))
        g = None
        if gL is not None:  # L reads LU's first k columns below the diagonal
            g = tril(gL, -1)
            if n > k:
                g = cat([g, Tensor._make(np.zeros(g.shape[:-1] + (n - k,), g.dtype))], -1)
        if gU is not None:  # U reads its first k rows on and above it
            gu = triu(gU)
            if m > k:
                gu = cat([gu, Tensor._make(np.zeros(gu.shape[:-2] + (m - k, n), gu.dtype))], -2)
            g = gu if g is None else g + gu
        return g


def _lu_solve_np(lu, pivots, b, left, adjoint):
    """X with A X = B (A^T X = B with adjoint; X A = B or X A^T = B for left=False), where
    A = P L U is given by getrf's packed LU and pivots: permute, then two triangular solves."""
    if not left:  # X A = B is A^T X^T = B^T (and X A^T = B is A X^T = B^T)
        return np.swapaxes(_lu_solve_np(lu, pivots, np.swapaxes(b, -1, -2), True, not adjoint),
                           -1, -2)
    P = _permutation(pivots, lu.shape[-1], lu.dtype)
    if adjoint:  # A^T = U^T L^T P^T: X = P L^-T U^-T B (U^T is lower, L^T unit upper)
        lu_t = np.swapaxes(lu, -1, -2)
        y = SolveTriangular(False, False).forward(lu_t, b)
        return P @ SolveTriangular(True, True).forward(lu_t, y)
    y = SolveTriangular(False, True).forward(lu, np.swapaxes(P, -1, -2) @ b)  # L Y = P^T B
    return SolveTriangular(True, False).forward(lu, y)  # U X = Y


class LUSolve(Function):
    """X with A X = B (adjoint: A^T X = B; left=False: X A = B or X A^T = B), A given by its
    packed LU and pivots (constant: they carry no gradient)."""

    saves_outputs = True
    grad_fn_name = "LinalgLuSolveBackward0"

    def __init__(self, pivots, left, adjoint):
        self.pivots, self.left, self.adjoint = pivots, left, adjoint

    def forward(self, lu, b):
        return _lu_solve_np(lu, self.pivots, b, self.left, self.adjoint)

    def backward(self, gx):
        lu, x = self.saved_input(0), self.saved_output()
        # dL/dB solves the adjoint system: A^T Y = G for A X = B, and so on
        gb = LUSolve(self.pivots, self.left, not self.adjoint)(lu, gx)
        ga = None
        if self.needs_input_grad[0]:
            # A X = B gives dX = -A^-1 dA X, so dL/dA = -(dL/dB) X^T; the other three forms
            # transpose the pieces: -X gB^T (A^T X = B), -X^T gB (X A = B), -gB^T X (X A^T = B)
            if self.left:
                ga = -(x @ gb.mT) if self.adjoint else -(gb @ x.mT)
            else:
                ga = -(gb.mT @ x) if self.adjoint else -(x.mT @ gb)
            # A = P L U: P^T dA = dL U + L dU with dL strictly lower and dU upper, so LU's
            # gradient is tril(P^T gA U^T, -1) + triu(L^T P^T gA)
            n = lu.shape[-1]
            L, U = _unpack(lu, n)
            pga = Tensor._make(np.swapaxes(_permutation(self.pivots, n, lu.dtype), -1, -2)) @ ga
            ga = sum_to(tril(pga @ U.mT, -1) + triu(L.mT @ pga), lu.shape)
        return ga, sum_to(gb, self.inputs[1].shape) if self.needs_input_grad[1] else None


def _check_lu(name, A, fn, pivot):
    """The checks of PyTorch's LU factorizations (lu_cpu has no integer or half kernel)."""
    require_tensor(A, fn, "A", 1)
    if A.ndim < 2:
        raise RuntimeError(f"{name}: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A.shape)} instead")
    not_implemented_for(A, "lu_cpu", "biuf" if A.dtype == np.float16 else "biu")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    return A


def _check_lu_info(name, info):
    """PyTorch's error for a zero pivot of U (LU factorizations that check for errors)."""
    failed = np.flatnonzero(info.reshape(-1))
    if failed.size:
        k, i = failed[0], info.reshape(-1)[failed[0]]
        prefix = f"(Batch element {k}): " if info.ndim else ""
        raise RuntimeError(f"{name}: {prefix}U[{i},{i}] is zero and using it on lu_solve would "
                           "result in a division by zero. If you still want to perform the "
                           "factorization, consider calling linalg.lu(A, pivot) or "
                           "linalg.lu_factor_ex(A, pivot)")


def lu(A, *, pivot=True, out=None):
    """The LU decomposition with partial pivoting A = P L U as a named tuple (P, L, U): P a
    permutation matrix, L (m x k, k = min(m, n)) unit lower triangular, U (k x n) upper
    triangular. A singular A is no error (U then has a zero on its diagonal)."""
    _no_out(out, "linalg.lu")
    A = _check_lu("linalg.lu", A, "linalg_lu", pivot)
    node = LinalgLU()
    L, U = node(A)
    return return_types.linalg_lu(Tensor._make(node.P), L, U)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """The LU decomposition packed as LAPACK's getrf returns it, as a named tuple (LU, pivots,
    info): L below the diagonal of LU (its unit diagonal implied) and U on and above it; the
    1-based int32 row swaps; info, the index of the first zero on U's diagonal (0 if none).
    lu_unpack gives P, L and U, lu_solve solves with them."""
    _no_out(out, "linalg.lu_factor_ex")
    A = _check_lu("torch.lu_factor", A, "linalg_lu_factor_ex", pivot)
    LU, pivots, info = LUFactor()(A)
    if check_errors:
        _check_lu_info("torch.linalg.lu_factor_ex", info._data)
    return return_types.linalg_lu_factor_ex(LU, pivots, info)


def lu_factor(A, *, pivot=True, out=None):
    """lu_factor_ex's (LU, pivots), raising when U has a zero on its diagonal."""
    _no_out(out, "linalg.lu_factor")
    A = _check_lu("torch.lu_factor", A, "linalg_lu_factor", pivot)
    LU, pivots, info = LUFactor()(A)
    _check_lu_info("torch.linalg.lu_factor", info._data)
    return return_types.linalg_lu_factor(LU, pivots)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """X with A X = B (left=False: X A = B; adjoint=True: with A^T for A) from A's LU
    factorization (LU, pivots) as lu_factor returns it; batch dims of LU and B broadcast."""
    _no_out(out, "linalg.lu_solve")
    require_tensor(LU, "linalg_lu_solve", "LU", 1)
    require_tensor(pivots, "linalg_lu_solve", "pivots", 2)
    require_tensor(B, "linalg_lu_solve", "B", 3)
    if LU.ndim >= 2:
        _check_float("torch.linalg.lu_solve", LU, "linalg.lu_solve_cpu")
    if pivots.dtype != np.int32:
        raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type "
                           "torch.int32")
    _check_matrix("torch.linalg.lu_solve", LU, "linalg_lu_solve", floating=False)
    if B.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if LU.dtype != B.dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found "
                           f"LU of type {_type(LU)} and B of type {_type(B)} instead")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{equation} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    if pivots.ndim == 0 or pivots.shape[-1] != n:
        raise RuntimeError("linalg.lu_solve: Number of pivots per batch should be same as the "
                           "dimension of the matrix")
    if tuple(pivots.shape) != tuple(LU.shape[:-1]):
        raise RuntimeError("linalg.lu_solve: Expected LU.shape[:-1] and pivots.shape to be the "
                           f"same, but got pivots with shape {list(pivots.shape)} instead")
    broadcast_shape(LU.shape[:-2], B.shape[:-2])
    p = pivots._data
    if p.size and p.max() > n:
        raise RuntimeError("Pivots given to lu_solve must all be smaller or equal to LU.size(-2). "
                           "Did you properly pass the result of lu_factor?")
    if p.size and p.min() < 1:
        raise RuntimeError("Pivots given to lu_solve must all be greater or equal to 1. Did you "
                           "properly pass the result of lu_factor?")
    return LUSolve(p, bool(left), bool(adjoint))(LU, B)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """P, L and U (A = P L U) from lu_factor's packed (LU, pivots), as a named tuple; with
    unpack_data=False L and U, with unpack_pivots=False P, are empty tensors. Integer LU data
    unpacks too (L and U have its dtype, as P does)."""
    _no_out(out, "lu_unpack")
    require_tensor(LU_data, "lu_unpack", "LU_data", 1)
    require_tensor(LU_pivots, "lu_unpack", "LU_pivots", 2)
    if LU_data.ndim < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(LU_data.shape)} instead")
    if LU_pivots.dtype != np.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of "
                           "torch.int32 dtype.\nNote: this function is intended to be used with "
                           "the output produced by torch.linalg.lu_factor")
    m, dtype = LU_data.shape[-2], LU_data.dtype
    empty = Tensor._make(np.zeros(0, dtype))
    P = empty
    if unpack_pivots:
        p = LU_pivots._data
        if p.ndim == 0 or p.size and (p.min() < 1 or p.max() > m):
            raise RuntimeError("pivots passed to lu_unpack must be between 1 and LU.size(-2) "
                               "inclusive.Did you properly pass the result of lu_factor?")
        batch = tuple(LU_data.shape[:-2])
        if p.shape[:-1] != batch:
            raise RuntimeError(f"torch.lu_unpack: Expected LU_pivots.shape[:-1] to be "
                               f"{list(batch)}, but got {list(p.shape[:-1])}")
        P = Tensor._make(_permutation(p, m, dtype))
    L, U = LUUnpack(bool(unpack_data))(LU_data)
    return return_types.lu_unpack(P, L, U)


def _lu_with_info(A, pivot=True):
    """torch.lu's common part: PyTorch's deprecation warning, then lu_factor_ex (a singular
    matrix is no error) as the named tuple _lu_with_info."""
    warnings.warn("torch.lu is deprecated in favor of torch.linalg.lu_factor / "
                  "torch.linalg.lu_factor_ex and will be removed in a future PyTorch release.\n"
                  "LU, pivots = torch.lu(A, compute_pivots)\nshould be replaced with\n"
                  "LU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\n"
                  "LU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)\nshould be "
                  "replaced with\nLU, pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots)",
                  UserWarning, stacklevel=3)
    A = _check_lu("torch.lu_factor", A, "_lu_with_info", pivot)
    return return_types._lu_with_info(*LUFactor()(A))


def _torch_lu(A, pivot=True, get_infos=False, out=None):
    """torch.lu (deprecated in PyTorch, which warns): lu_factor_ex's LU and pivots, as a plain
    tuple, and with get_infos=True its info too (a named tuple _lu_with_info). A singular
    matrix is no error."""
    _no_out(out, "lu")
    result = _lu_with_info(A, pivot)
    return result if get_infos else (result.LU, result.pivots)


def _tensor_lu(self, pivot=True, get_infos=False):
    """Tensor.lu: torch.lu, always a plain tuple."""
    result = _lu_with_info(self, pivot)
    return tuple(result) if get_infos else (result.LU, result.pivots)


def _torch_lu_solve(b, LU_data, LU_pivots, *, out=None):
    """torch.lu_solve / Tensor.lu_solve (deprecated in PyTorch, which warns): linalg.lu_solve
    with the right-hand side first."""
    _no_out(out, "lu_solve")
    warnings.warn("torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be "
                  "removed in a future PyTorch release.\nNote that torch.linalg.lu_solve has its "
                  "arguments reversed.\nX = torch.lu_solve(B, LU, pivots)\nshould be replaced "
                  "with\nX = torch.linalg.lu_solve(LU, pivots, B)", UserWarning, stacklevel=2)
    return lu_solve(LU_data, LU_pivots, b)


# ----- products and powers ---------------------------------------------------------------------
def matrix_power(A, n, *, out=None):
    """A @ A @ ... (n times) for a square matrix, by repeated squaring; n = 0 gives the
    identity, n < 0 the power of the inverse. Integer matrices are fine for n >= 0."""
    _no_out(out, "linalg.matrix_power")
    require_tensor(A, "linalg_matrix_power", "A", 1)
    if not isinstance(n, int | np.integer) or isinstance(n, bool):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not "
                        f"{type_name(n)}")
    _check_matrix("linalg.matrix_power", A, "linalg_matrix_power", floating=False)
    if A.dtype == np.bool_:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    n = int(n)
    if n == 0:  # the identity; A's gradient is 0 (NaNs in A do not reach it)
        return masked_fill(A, np.array(True), 0) + _eye(A.shape[-1], A.dtype)
    if n < 0:
        A, n = inv(A), -n
        if n == 1:
            return A  # a new tensor already (PyTorch's result too: no copy of it)
    if n == 1:
        return clone(A)
    if n == 2:
        return matmul(A, A)
    if n == 3:
        return matmul(matmul(A, A), A)
    result, z = None, None
    while n > 0:  # square z for each bit of n, multiply it in where the bit is 1
        bit, n = n % 2, n // 2
        z = A if z is None else matmul(z, z)
        if bit:
            result = z if result is None else matmul(result, z)
    return result


# ----- matrix exponential -----------------------------------------------------------------------
# exp(A) as PyTorch computes it (Bader, Blanes & Casas, "Computing the matrix exponential with an
# optimized Taylor polynomial approximation", Mathematics 2019): the Taylor polynomial of degree
# 1, 2, 4, 8, 12 or 18, each evaluated with few matrix products, the degree picked by the
# 1-norm of A (below the bound of a degree its truncation error is below the dtype's eps);
# beyond the bound of degree 18, scaling and squaring: exp(A) = exp(A / 2^s)^(2^s).
_MEXP_BOUNDS = {
    np.dtype(np.float32): (1.192092800768788e-07, 5.978858893805233e-04, 5.116619363445086e-02,
                           5.800524627688768e-01, 1.461661507209034e+00, 3.010066362817634e+00),
    np.dtype(np.float64): (2.220446049250313e-16, 2.580956802971767e-08, 3.397168839976962e-04,
                           4.991228871115323e-02, 2.996158913811580e-01, 1.090863719290036e+00)}
# The coefficients of degrees 12 and 18: row i combines (I, A, A^2, A^3[, A^6]) into B_i.
_T12 = ((9.0198e-16, 0.46932117595418237389, -0.20099424927047284052, -0.04623946134063071740),
        (5.31597895759871264183, 1.19926790417132231573, 0.01179296240992997031,
         0.01108844528519167989),
        (0.18188869982170434744, 0.05502798439925399070, 0.09351590770535414968,
         0.00610700528898058230),
        (-2.0861320e-13, -0.13181061013830184015, -0.02027855540589259079,
         -0.00675951846863086359))
_T18 = ((0., -1.00365581030144618291e-01, -8.02924648241156932449e-03,
         -8.92138498045729985177e-04, 0.),
        (0., 3.97849749499645077844e-01, 1.36783778460411720168e+00,
         4.98289622525382669416e-01, -6.37898194594723280150e-04),
        (-1.09676396052962061844e+01, 1.68015813878906206114e+00, 5.71779846478865511061e-02,
         -6.98210122488052056106e-03, 3.34975017086070470649e-05),
        (-9.04316832390810593223e-02, -6.76404519071381882256e-02, 6.75961301770459654925e-02,
         2.95552570429315521194e-02, -1.39180257516060693404e-05),
        (0., 0., -9.23364619367118555360e-02, -1.69364939002081722752e-02,
         -1.40086798182036094347e-05))


def _combine(matrices, coefficients):
    """sum_i c_i M_i, the coefficients in the matrices' dtype."""
    c = np.asarray(coefficients, matrices[0].dtype)
    return np.einsum("i,i...->...", c, np.stack(matrices))


def _taylor(a, degree):
    """The Taylor polynomial of exp of degree 1, 2, 4, 8, 12 or 18 for the batch `a`, with
    Bader et al.'s products (degree 8 from 3 products, 12 from 4, 18 from 5)."""
    powers = [np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape), a]  # I, A, A^2,
    if degree > 1:                                                                # A^3, A^6
        powers.append(a @ a)
    if degree > 8:
        powers.append(a @ powers[2])
    if degree > 12:
        powers.append(powers[3] @ powers[3])
    if degree == 1:
        return powers[0] + powers[1]
    if degree == 2:
        return powers[0] + powers[1] + powers[2] / 2
    eye, a1, a2 = powers[:3]
    if degree == 4:  # I + A + A^2 (I/2 + A/6 + A^2/24)
        return eye + a1 + a2 @ _combine((eye, a1, a2), (1 / 2, 1 / 6, 1 / 24))
    if degree == 8:
        r = 0.1330413469565007072504e+2  # sqrt(177)
        x3 = 2 / 3
        x1, x2 = x3 * ((1 + r) / 88), x3 * ((1 + r) / 352)
        x4, x5 = (-271 + 29 * r) / (315 * x3), (-11 + 11 * r) / (1260 * x3)
        x6, x7 = (-99 + 11 * r) / (5040 * x3), (89 - r) / (5040 * x3)
        y2 = (857 - 58 * r) / 630
        a4 = a2 @ _combine((a1, a2), (x1, x2))
        a8 = _combine((a2, a4), (x3, 1)) @ _combine((eye, a1, a2, a4), (x4, x5, x6, x7))
        return _combine((eye, a1, a2, a8), (1, 1, y2, 1))
    b = [_combine(powers, row) for row in (_T12 if degree == 12 else _T18)]
    if degree == 12:
        b[2] = b[2] + b[3] @ b[3]  # (A^6's part)
        return b[0] + (b[1] + b[2]) @ b[2]
    b[3] = b[3] + b[0] @ b[4]  # (A^9's part)
    return b[1] + (b[2] + b[3]) @ b[3]


def _matrix_exp(a):
    """exp of each matrix of the batch `a` (n >= 2), the degree chosen per matrix."""
    n = a.shape[-1]
    flat = a.reshape(-1, n, n)
    bounds = _MEXP_BOUNDS[flat.dtype]
    norm = np.abs(flat).sum(-2).max(-1)  # the 1-norm: the largest column sum of |A|
    out = np.full_like(flat, np.nan)  # (a matrix with a NaN stays NaN)
    lower = -1.0
    for degree, bound in zip((1, 2, 4, 8, 12), bounds):
        pick = (lower < norm) & (norm <= bound)
        if pick.any():
            out[pick] = _taylor(flat[pick], degree)
        lower = bound
    pick = norm >= bounds[4]
    if pick.any():
        # s halvings bring the norm to degree 18's bound; then s squarings undo them
        s = np.ceil(np.log2(norm[pick] / flat.dtype.type(bounds[5])))
        s = np.where(np.isfinite(s), np.maximum(s, 0), 0).astype(np.int64)
        e = _taylor(flat[pick] / (2.0 ** s).astype(flat.dtype)[:, None, None], 18)
        for step in range(int(s.max(initial=0))):
            more = s > step
            e[more] = e[more] @ e[more]
        out[pick] = e
    return out.reshape(a.shape)


class MatrixExp(Function):
    """exp(A) = sum_k A^k / k! of a square matrix (each of a batch)."""

    grad_fn_name = "LinalgMatrixExpBackward0"

    def forward(self, a):
        if a.shape[-1] <= 1:  # empty, or exp of the single element
            return np.exp(a)
        if a.dtype == np.float16:  # (no half-precision bounds: computed in float32)
            return _matrix_exp(a.astype(np.float32)).astype(np.float16)
        return _matrix_exp(a)

    def backward(self, g):
        a = self.saved_input(0)
        n = a.shape[-1]
        # PyTorch's formula for an analytic f: the Frechet derivative's adjoint at A applied to
        # G is the upper-right block of f([[A^T, G], [0, A^T]])
        zeros = Tensor._make(np.zeros(a.shape, a.dtype))
        block = cat([cat([a.mT, g], -1), cat([zeros, a.mT], -1)], -2)
        return narrow(narrow(MatrixExp()(block), -2, 0, n), -1, n, n)


def matrix_exp(A):
    """The matrix exponential exp(A) = I + A + A^2/2! + ... of a square matrix (batches too),
    computed as PyTorch computes it: a Taylor polynomial of a degree chosen by the 1-norm of A,
    with scaling and squaring for large norms."""
    require_tensor(A, "linalg_matrix_exp", "input", 1)
    _check_matrix("linalg.matrix_exp", A, "linalg_matrix_exp", floating=False)
    if A.dtype.kind != "f":
        raise RuntimeError(f"linalg.matrix_exp: Expected a floating point or complex tensor as "
                           f"input. Got {_type(A)}")
    return MatrixExp()(A)


def _torch_matrix_exp(input):
    """torch.matrix_exp / Tensor.matrix_exp: linalg.matrix_exp."""
    require_tensor(input, "matrix_exp", "input", 1)
    return matrix_exp(input)


def multi_dot(tensors, *, out=None):
    """The product of several matrices (the first may be a row vector, the last a column
    vector), multiplied in the order that costs the fewest scalar multiplications (the classic
    matrix-chain dynamic programme)."""
    _no_out(out, "linalg.multi_dot")
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        require_tensor(t, "linalg_multi_dot", "tensors", 1)
        if 0 < i < len(tensors) - 1 and t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    first, last = tensors[0], tensors[-1]
    for which, t in (("first", first), ("last", last)):
        if t.ndim not in (1, 2):
            raise RuntimeError(f"multi_dot(): the {which} tensor must be 1D or 2D but got "
                               f"{t.ndim}D")
    for i, t in enumerate(tensors[1:], 1):
        if t.dtype != first.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor "
                               f"0 is {CPP_TYPE_NAMES[first.dtype.name]} and tensor {i} "
                               f"{CPP_TYPE_NAMES[t.dtype.name]}")
    mats = list(tensors)
    if first.ndim == 1:
        mats[0] = first.unsqueeze(0)
    if last.ndim == 1:
        mats[-1] = last.unsqueeze(-1)
    for i in range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(tensors[i].shape)} and {list(tensors[i + 1].shape)} cannot "
                               "be multiplied")
    result = _chain_product(mats)
    if first.ndim == 1 and last.ndim == 1:
        return result.reshape(())
    if first.ndim == 1:
        return result.squeeze(0)
    return result.squeeze(-1) if last.ndim == 1 else result


def _chain_product(mats):
    """The product of the matrices in the cheapest order: cost[i][j] is the fewest
    multiplications for mats[i..j], split[i][j] where that product splits in two."""
    dims = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    k = len(mats)
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(1, k):
        for i in range(k - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1], s)
                for s in range(i, j))

    def product(i, j):
        if i == j:
            return mats[i]
        s = split[i][j]
        return matmul(product(i, s), product(s + 1, j))

    return product(0, k - 1)


def chain_matmul(*matrices, out=None):
    """Deprecated in PyTorch (it warns): multi_dot of two or more matrices, all 2-D."""
    _no_out(out, "chain_matmul")
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for t in matrices:
        if t.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {t.ndim}, expected 2 instead.")
    if len(matrices) == 1:
        return clone(matrices[0])
    return multi_dot(matrices)


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along `dim` (the other dims broadcast):
    (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0)."""
    a = require_tensor(input, "linalg_cross", "input", 1)
    b = require_tensor(other, "linalg_cross", "other", 2)
    if a.ndim != b.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected scalar type {_type(a)} but found {_type(b)}")
    if a.dtype == np.bool_:
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    from .tensor import _check_dim

    d = _check_dim(dim, a.ndim)
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[d]} and {b.shape[d]}")
    broadcast_shape(a.shape, b.shape)
    # rolling by -1 along dim gives (x1, x2, x0), by 1 gives (x2, x0, x1)
    y = roll(a, -1, d) * roll(b, 1, d) - roll(a, 1, d) * roll(b, -1, d)
    return renamed(y, "LinalgCrossBackward0")  # (one node in PyTorch)


def _torch_cross(input, other, dim=None, *, out=None):
    """torch.cross: linalg.cross, except that dim=None (deprecated, it warns) means the first
    dim of size 3."""
    _no_out(out, "cross")
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                      "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
                      "default value of dim will change to agree with that of linalg.cross in a "
                      "future release.", UserWarning, stacklevel=2)
        sizes = list(input.shape)
        if 3 not in sizes:
            raise RuntimeError("no dimension of size 3 in input")
        dim = sizes.index(3)
    return cross(input, other, dim=dim)


def vecdot(x, y, *, dim=-1, out=None):
    """The dot product of vectors along `dim` (the other dims broadcast): sum(x * y, dim)."""
    _no_out(out, "linalg.vecdot")
    require_tensor(x, "linalg_vecdot", "x", 1)
    require_tensor(y, "linalg_vecdot", "y", 2)
    for t in (x, y):
        if t.dtype.kind != "f":
            raise RuntimeError("linalg.vecdot: Expected a floating point or complex tensor as "
                               f"input. Got {_type(t)}")
    if x.dtype != y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x "
                           f"of type {_type(x)} and y of type {_type(y)} instead")
    return sum(x * y, dim=dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal of each matrix in the batch (a view); `offset` as in Tensor.diagonal."""
    require_tensor(A, "linalg_diagonal", "A", 1)
    return _diagonal(A, offset, dim1, dim2)


def kron(input, other, *, out=None):
    """The Kronecker product: for matrices, the block matrix whose block (i, j) is
    input[i, j] * other. Each dim of the result is the product of the two sizes (the tensor
    with fewer dims gets leading 1s): an outer product, then a reshape."""
    from .ops.arithmetic import mul

    _no_out(out, "kron")
    a, b = require_tensor(input, "kron", "input", 1), require_tensor(other, "kron", "other", 2)
    ndim = max(a.ndim, b.ndim)
    sa = (1,) * (ndim - a.ndim) + tuple(a.shape)
    sb = (1,) * (ndim - b.ndim) + tuple(b.shape)
    # a's dim k becomes dim 2k, b's dim k becomes dim 2k + 1; merging each pair interleaves them
    product = mul(a.reshape(*[v for s in sa for v in (s, 1)]),
                  b.reshape(*[v for s in sb for v in (1, s)]))
    return product.reshape(*[x * y for x, y in zip(sa, sb)])


def inner(input, other, *, out=None):
    """The sum of products over the last dims: for vectors their dot product, for tensors every
    pair of last-dim vectors (shape input.shape[:-1] + other.shape[:-1])."""
    _no_out(out, "inner")
    a, b = require_tensor(input, "inner", "input", 1), require_tensor(other, "inner", "other", 2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(a.shape)} and {list(b.shape)}")
    return tensordot(a, b, dims=([-1], [-1]))


class InfDistance(Function):
    """max |d| over the last axis of the differences d: the distance of cdist and pdist for
    p = inf. Its gradient gives every coordinate that attains the max the full sign(d), as
    PyTorch's distance kernels do (the inf-norm of vector_norm shares it among them)."""

    saves_outputs = True

    def __init__(self, grad_fn_name):
        self.grad_fn_name = grad_fn_name

    def forward(self, diff):
        return np.abs(diff).max(axis=-1)

    def backward(self, gy):
        (diff,) = self.saved_tensors
        top = Tensor._make(np.abs(diff._data) == np.expand_dims(self.saved_output()._data, -1))
        return gy.unsqueeze(-1) * diff.sign() * top


def distance(diff, p, grad_fn_name="CdistBackward0"):
    """The p-norm of the differences `diff` over the last axis, as cdist and pdist compute it."""
    if p == float("inf") and diff.shape[-1]:
        return InfDistance(grad_fn_name)(diff)
    return renamed(Norm(float(p), (diff.ndim - 1,), False)(diff), grad_fn_name)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M):
    shape (..., P, R), batch dims broadcast. Computed from the differences (not PyTorch's
    matrix-product shortcut for p = 2), so its gradient is vector_norm's: 0 at distance 0."""
    require_tensor(x1, "cdist", "x1", 1)
    require_tensor(x2, "cdist", "x2", 2)
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, t in (("X1", x1), ("X2", x2)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t.ndim}D")
        if t.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{_type(t)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
                           f"X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if x1.dtype != x2.dtype:
        raise RuntimeError(f"expected scalar type {_type(x1)} but found {_type(x2)}")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)  # (..., P, R, M)
    result = distance(diff, p)
    if p == 0:  # counting nonzeros has no gradient: PyTorch's cdist gives zeros, not none
        result = renamed(result + sum(masked_fill(diff, np.array(True), 0), -1), "CdistBackward0")
    return result


# ----- norms ------------------------------------------------------------------------------------
def _norm_dtype(name, x, dtype):
    """x converted to `dtype` (PyTorch allows only widening) after the floating-point check."""
    from .dtypes import to_dtype

    if x.dtype.kind != "f":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_type(x)}")
    if dtype is None:
        return x
    dtype = to_dtype(dtype)
    if dtype.kind != "f":
        raise RuntimeError(f"{name}: dtype should be floating point or complex, but got "
                           f"{_TENSOR_TYPES[dtype.name]}")
    if np.promote_types(x.dtype, dtype) != dtype:
        raise RuntimeError(f"{name}: the dtype of the input ({_type(x)}) should be convertible "
                           "without narrowing to the specified dtype "
                           f"({_TENSOR_TYPES[dtype.name]})")
    return x.to(dtype)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The vector ord-norm (sum |x|^ord)^(1/ord) over `dim` (None: all elements); ord may be
    inf (max |x|), -inf (min |x|) or 0 (the number of nonzeros). The gradient at 0 is 0."""
    _no_out(out, "linalg.vector_norm")
    require_tensor(x, "linalg_vector_norm", "x", 1)
    if not isinstance(ord, int | float | np.number) or isinstance(ord, bool):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
                        f"{type_name(ord)}")
    x = _norm_dtype("linalg.vector_norm", x, dtype)
    dims = reduction_dims(dim, x.ndim)
    if np.isinf(ord) and x.numel() == 0:
        raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty tensor "
                           "because the operation does not have an identity")
    return Norm(float(ord), dims, keepdim)(x)


_MATRIX_ORDS = ("fro", "nuc", np.inf, -np.inf, 1, -1, 2, -2)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """A matrix norm over the two dims `dim`: 'fro' (sqrt of the sum of squares), 'nuc' (the
    sum of the singular values), 2 / -2 (the largest / smallest singular value), 1 / -1 (the
    largest / smallest column sum of |A|), inf / -inf (the same for rows)."""
    _no_out(out, "linalg.matrix_norm")
    require_tensor(A, "linalg_matrix_norm", "A", 1)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    A = _norm_dtype("linalg.matrix_norm", A, dtype)
    if isinstance(dim, int) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{dim if isinstance(dim, int) else ' '.join(map(str, dim))}")
    from .tensor import _check_dim

    d0, d1 = (_check_dim(d, A.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, "
                           f"{dim[1]})")
    if not any(ord == o and isinstance(ord, str) == isinstance(o, str) for o in _MATRIX_ORDS):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord == "nuc" or abs(ord) == 2:
        s = svdvals(movedim(A, (d0, d1), (-2, -1)))
        result = sum(s, -1) if ord == "nuc" else (amax if ord == 2 else amin)(s, -1)
        if keepdim:
            for d in sorted((d0, d1)):
                result = result.unsqueeze(d)
        return result
    if abs(ord) == np.inf:  # row sums: the sum runs along the other dim
        d0, d1 = d1, d0
    sums = vector_norm(A, 1, d0, keepdim)
    if not keepdim and d0 < d1:
        d1 -= 1
    return (amax if ord > 0 else amin)(sums, d1, keepdim)


def norm(input, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """A vector or matrix norm, by its arguments: `dim` of one dim (or a 1-D input) gives
    vector_norm, two dims (or a 2-D input with an `ord`) matrix_norm; neither `ord` nor `dim`
    gives the 2-norm of all elements."""
    _no_out(out, "linalg.norm")
    x = require_tensor(input, "linalg_norm", "input", 1)
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(x, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(x, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got "
                           f"{list(dims)}")
    if ord is not None:
        if x.ndim not in (1, 2):
            raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must "
                               f"be 1D or 2D. Got {x.ndim}D.")
        if isinstance(ord, str) or x.ndim == 2:
            return matrix_norm(x, ord, (-2, -1), keepdim, dtype=dtype)
    return vector_norm(x, 2 if ord is None else ord, None, keepdim, dtype=dtype)


# ----- torch-level functions and Tensor methods --------------------------------------------------
def inverse(input, *, out=None):
    """torch.inverse: linalg.inv."""
    _no_out(out, "inverse")
    return inv(input)


def _logdet(input):
    """torch.logdet: log(det A), NaN where det A < 0 (slogdet's logabsdet elsewhere)."""
    A = _check_matrix("logdet", input, "logdet")
    sign, logabsdet = SlogDet()(A)
    return where(sign.detach() < 0, np.nan, logabsdet)


def _slogdet(input):
    """torch.slogdet: linalg.slogdet, as torch.return_types.slogdet."""
    return return_types.slogdet(*slogdet(input))


def pinverse(input, rcond=1e-15):
    """torch.pinverse: linalg.pinv with rtol = rcond."""
    return pinv(input, rtol=rcond)


def _cholesky(input, upper=False, *, out=None):
    """torch.cholesky / Tensor.cholesky (deprecated in PyTorch, which warns): linalg.cholesky."""
    _no_out(out, "cholesky")
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be "
                  "removed in a future PyTorch release.", UserWarning, stacklevel=2)
    A = _check_matrix("cholesky", input, "cholesky", floating=False)
    if A.dtype.kind != "f" or A.dtype == np.float16:
        raise NotImplementedError(f"\"cholesky_cpu\" not implemented for '{_type(A)}'")
    return renamed(Cholesky(bool(upper), "cholesky")(A), "CholeskyBackward0")  # (PyTorch's)


# ----- the older torch-level decompositions and solvers (deprecated in PyTorch, kept working) --
def _svd(input, some=True, compute_uv=True):
    """torch.svd: (U, S, V) with A = U diag(S) V^T - V, not linalg.svd's Vh. some=False gives
    the full U and V; compute_uv=False gives S and zero-filled full-size U and V, as PyTorch
    does. The gradients are linalg.svd's."""
    if not compute_uv:
        A = _check_matrix("linalg.svd", input, "linalg_svd", square=False,
                          half_kernel="linalg_svd_cpu")
        *batch, m, n = A.shape
        zeros = [Tensor._make(np.zeros((*batch, k, k), A.dtype)) for k in (m, n)]
        return return_types.svd(zeros[0], svdvals(A), zeros[1])
    U, S, Vh = svd(input, full_matrices=not some)
    return return_types.svd(U, S, Vh.mT)


def _qr(input, some=True):
    """torch.qr: linalg.qr with mode 'reduced' (some=True) or 'complete'."""
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a "
                  "future PyTorch release.", UserWarning, stacklevel=2)
    return return_types.qr(*qr(input, "reduced" if some else "complete"))


def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False):
    """torch.triangular_solve: X with op(A) X = input for a triangular A (op: A or A^T), and a
    copy of A, as a named tuple (solution, cloned_coefficient). Note the order: the right-hand
    side comes first, unlike linalg.solve_triangular. The copy of A has the batch dims the two
    broadcast to."""
    warnings.warn("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangular"
                  " and will be removed in a future PyTorch release.", UserWarning, stacklevel=2)
    B = require_tensor(input, "triangular_solve", "input", 1)
    A = require_tensor(A, "triangular_solve", "A", 2)
    # A^T of an upper-triangular A is lower-triangular
    X = solve_triangular(A.mT if transpose else A, B, upper=bool(upper) != bool(transpose),
                         unitriangular=bool(unitriangular))
    batch = broadcast_shape(tuple(B.shape[:-2]), tuple(A.shape[:-2]))
    return return_types.triangular_solve(X, clone(A.expand(*batch, *A.shape[-2:])))


class CholeskySolve(Function):
    """X with A X = B, given A's Cholesky factor F (A = F F^T; upper: A = F^T F): the triangle
    of F is all that is read."""

    saves_outputs = True
    grad_fn_name = "CholeskySolveBackward0"

    def __init__(self, upper):
        self.upper = upper

    def forward(self, b, f):
        f = np.triu(f) if self.upper else np.tril(f)
        return np.linalg.solve(f.swapaxes(-1, -2) @ f if self.upper else f @ f.swapaxes(-1, -2),
                               b)

    def backward(self, gx):
        b, f = self.saved_input(0), self.saved_input(1)
        x = self.saved_output()
        gb = CholeskySolve(self.upper)(gx, f)  # A symmetric: dL/dB = A^-1 G
        # dL/dA = -(dL/dB) X^T; PyTorch's gradient for F is that of A = F F^T (A = F^T F) with
        # the whole of F, symmetrized: -(C F) (upper: -(F C)), C = gb X^T + X gb^T
        c = gb @ x.mT
        c = c + c.mT
        gf = -(f @ c) if self.upper else -(c @ f)
        return (sum_to(gb, b.shape) if self.needs_input_grad[0] else None,
                sum_to(gf, f.shape) if self.needs_input_grad[1] else None)


def cholesky_solve(input, input2, upper=False):
    """X with A X = input, given A's Cholesky factor input2: lower L with A = L L^T, or with
    upper=True U with A = U^T U (batch dims broadcast)."""
    B = require_tensor(input, "cholesky_solve", "input", 1)
    F = _check_matrix("cholesky_solve", require_tensor(input2, "cholesky_solve", "input2", 2),
                      "cholesky_solve")
    return CholeskySolve(bool(upper))(B, F)


def frobenius_norm(input, dim, keepdim=False):
    """The 2-norm of all elements over dim (at most 2 dims): linalg.vector_norm(input, 2, dim)."""
    warnings.warn("at::frobenius_norm is deprecated and it is just left for JIT compatibility. "
                  "Please use `linalg.vector_norm(A, 2., dim, keepdim)` instead", UserWarning,
                  stacklevel=2)
    x = require_tensor(input, "frobenius_norm", "input", 1)
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions "
                           "instead.")
    return vector_norm(x, 2, dims, keepdim)


def nuclear_norm(input, dim=(-2, -1), keepdim=False):
    """The sum of the singular values of each matrix over the two dims dim:
    linalg.matrix_norm(input, 'nuc', dim). PyTorch also takes nuclear_norm(input, keepdim)."""
    warnings.warn("at::nuclear_norm is deprecated and it is just left for JIT compatibility. "
                  "Please use `linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead", UserWarning,
                  stacklevel=2)
    if isinstance(dim, bool):  # nuclear_norm(input, keepdim)
        dim, keepdim = (-2, -1), dim
    return matrix_norm(require_tensor(input, "nuclear_norm", "input", 1), "nuc", dim, keepdim)


# The torch-level functions (numpy2gpt.X), by name: the torch.linalg function of that name
# where PyTorch's is the same, else its torch-level version (torch.cross's dim defaults to the
# first dim of size 3, torch.slogdet's tuple is named `slogdet`, torch.cholesky takes `upper`
# positionally and warns).
TORCH_FUNCTIONS = {"det": det, "inverse": inverse, "logdet": _logdet, "slogdet": _slogdet,
                   "pinverse": pinverse, "matrix_power": matrix_power, "cross": _torch_cross,
                   "kron": kron, "inner": inner, "cdist": cdist, "chain_matmul": chain_matmul,
                   "cholesky": _cholesky, "cholesky_inverse": cholesky_inverse, "svd": _svd,
                   "qr": _qr, "triangular_solve": triangular_solve,
                   "cholesky_solve": cholesky_solve, "frobenius_norm": frobenius_norm,
                   "nuclear_norm": nuclear_norm, "lu": _torch_lu, "lu_unpack": lu_unpack,
                   "lu_solve": _torch_lu_solve, "matrix_exp": _torch_matrix_exp}

TENSOR_METHODS = {  # installed on Tensor by numpy2gpt/__init__.py
    "det": det, "inverse": inverse, "logdet": _logdet, "slogdet": _slogdet,
    "cholesky": _cholesky, "matrix_power": matrix_power, "pinverse": pinverse,
    "cross": _torch_cross, "kron": kron, "inner": inner, "cholesky_inverse": cholesky_inverse,
    "svd": _svd, "qr": _qr, "triangular_solve": triangular_solve, "cholesky_solve": cholesky_solve,
    "lu": _tensor_lu, "lu_solve": _torch_lu_solve, "matrix_exp": _torch_matrix_exp,
}
def cond(A, p=None, *, out=None):
    """The condition number of A: for p None / 2 (-2), the largest singular value over the
    smallest (its inverse), of any shape; for "fro", "nuc", inf, -inf, 1, -1, of square A,
    ||A|| ||A^-1|| in that matrix norm (inf for a singular A)."""
    a = require_tensor(A, "linalg.cond", "A", 1)
    if a.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if p in (None, 2, -2):
        s = svdvals(a)
        big, small = s[..., 0], s[..., -1]
        return small / big if p == -2 else big / small
    if p not in ("fro", "nuc", np.inf, -np.inf, 1, -1):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    m, n = a.shape[-2:]
    if m != n:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but "
                           f"they are {m} by {n} matrices")
    inverse, info = inv_ex(a)
    value = matrix_norm(a, p) * matrix_norm(inverse, p)
    return where(Tensor._make(info._data > 0), np.inf, value)  # a singular A: inf


def vander(x, N=None):
    """The Vandermonde matrix of x (..., n): columns x^0, x^1, ..., x^(N-1) (N defaults to n),
    the powers as running products, as PyTorch computes them."""
    x = require_tensor(x, "linalg.vander", "x", 1)
    if x.ndim == 0:
        raise RuntimeError("N must be greater than 1.")  # (PyTorch's message for a 0-d x)
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    column = x.unsqueeze(-1)
    powers = column.expand(*x.shape, n - 1).cumprod(-1)
    return cat([column * 0 + 1, powers], -1)


def tensorinv(A, ind=2, *, out=None):
    """The inverse of A seen as a matrix from its last dims to its first `ind` dims: the X with
    tensordot(X, A, ind) the identity; shaped A.shape[ind:] + A.shape[:ind]."""
    a = require_tensor(A, "linalg.tensorinv", "A", 1)
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    front, back = a.shape[:ind], a.shape[ind:]
    rows, columns = int(np.prod(front)), int(np.prod(back))
    if rows != columns:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {columns} != {rows}")
    # (PyTorch's reshape of the inverse is a view by its reshape_alias: its name)
    return renamed(inv(a.reshape(rows, columns)).reshape(*back, *front), "ReshapeAliasBackward0")


def tensorsolve(A, B, dims=None, *, out=None):
    """The X with tensordot(A, X, X.ndim) = B: A seen as a matrix from its last dims (X's shape)
    to B's; `dims` (of A) are moved to the end first."""
    a = require_tensor(A, "linalg.tensorsolve", "A", 1)
    b = require_tensor(B, "linalg.tensorsolve", "B", 2)
    if dims is not None:
        a = movedim(a, dims, tuple(range(a.ndim - len(dims), a.ndim)))
    rest = a.shape[b.ndim:]
    rows, columns = int(np.prod(b.shape)), int(np.prod(rest))
    if rows != columns:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape["
                           f"other.ndim:]) == prod(self.shape[:other.ndim]), but got {columns} "
                           f"!= {rows}")
    return solve(a.reshape(rows, columns), b.reshape(rows)).reshape(*rest)


__all__ = ["LinAlgError", "vector_norm", "matrix_norm", "norm", "inv", "det", "slogdet",
           "solve", "cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv",
           "matrix_rank", "matrix_power", "multi_dot", "cross", "vecdot", "diagonal", "lstsq",
           "solve_triangular", "solve_ex", "inv_ex", "cholesky_ex", "lu", "lu_factor",
           "lu_factor_ex", "lu_solve", "matrix_exp", "cond", "vander", "tensorinv",
           "tensorsolve", "householder_product"]
