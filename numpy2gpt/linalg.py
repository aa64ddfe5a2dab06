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
from .ops._util import broadcast_shape, not_implemented_for, reduction_dims, require_tensor
from .ops.arithmetic import clone, sum_to
from .ops.indexing import masked_fill, tril, triu, where
from .ops.join import cat, narrow, roll
from .ops.linalg import _CPP_NAMES, matmul, tensordot
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

    def __init__(self, name="linalg.inv"):
        self.error_name = name

    def forward(self, a):
        try:
            return np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise _singular_error(self.error_name, a) from None

    def backward(self, gy):
        y = self.saved_output()
        # d(A^-1) = -A^-1 dA A^-1, so dL/dA = -A^-T G A^-T
        return -(y.mT @ gy @ y.mT)


class Solve(Function):
    """X with A X = B, for square A and matrices B (their batch dims broadcast)."""

    saves_outputs = True
    grad_fn_name = "LinalgSolveExBackward0"

    def forward(self, a, b):
        try:
            return np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            a = np.broadcast_to(a, np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + a.shape[-2:])
            k, _ = _first_singular(a)
            raise LinAlgError(f"torch.linalg.solve: {_batch_prefix(a, k)}The solver failed "
                              "because the input matrix is singular.") from None

    def backward(self, gx):
        a = self.saved_input(0)
        x = self.saved_output()
        # A X = B gives dX = A^-1 (dB - dA X): dL/dB = A^-T G, and dL/dA = -(dL/dB) X^T
        gb = _solve(a.mT, gx)
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
        # d det(A) = det(A) tr(A^-1 dA), so dL/dA = g det(A) A^-T: the X with A^T X = g det I.
        # Where det is exactly 0 the right side is 0, so the gradient is 0 there, as PyTorch's
        # first derivative gives (the identity stands in for A so that the solve succeeds).
        singular = Tensor._make((det._data == 0)[..., None, None])
        a = where(singular, _eye(n, a.dtype), a)
        return _solve(a.mT, (g * det).unsqueeze(-1).unsqueeze(-1) * _eye(n, a.dtype))


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
    A = _check_matrix("linalg.solve", A, "linalg_solve", half_kernel="lu_cpu")
    require_tensor(B, "linalg_solve", "B", 2)
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
        return _solve(A.mT, Bm.mT).mT
    X = _solve(A, Bm)
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

    def __init__(self, upper, name):
        self.upper, self.error_name = upper, name

    def forward(self, a):
        try:
            return np.linalg.cholesky(a, upper=self.upper)
        except np.linalg.LinAlgError:
            raise _not_positive_definite(self.error_name, a, self.upper) from None

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
    X = matmul(Pinv(None, rtol, False)(A), Bm)
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
                               f"0 is {_CPP_NAMES[first.dtype.name]} and tensor {i} "
                               f"{_CPP_NAMES[t.dtype.name]}")
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
    return roll(a, -1, d) * roll(b, 1, d) - roll(a, 1, d) * roll(b, -1, d)


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
    return Norm(float(p), (diff.ndim - 1,), False)(diff)


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
        result = result + sum(masked_fill(diff, np.array(True), 0), -1)
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
    return Cholesky(bool(upper), "cholesky")(A)


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
                   "nuclear_norm": nuclear_norm}

TENSOR_METHODS = {  # installed on Tensor by numpy2gpt/__init__.py
    "det": det, "inverse": inverse, "logdet": _logdet, "slogdet": _slogdet,
    "cholesky": _cholesky, "matrix_power": matrix_power, "pinverse": pinverse,
    "cross": _torch_cross, "kron": kron, "inner": inner, "cholesky_inverse": cholesky_inverse,
    "svd": _svd, "qr": _qr, "triangular_solve": triangular_solve, "cholesky_solve": cholesky_solve,
}
__all__ = ["LinAlgError", "vector_norm", "matrix_norm", "norm", "inv", "det", "slogdet",
           "solve", "cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv",
           "matrix_rank", "matrix_power", "multi_dot", "cross", "vecdot", "diagonal", "lstsq",
           "solve_triangular"]
