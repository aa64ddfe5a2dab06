"""nn.utils.parametrizations: weight normalisation, spectral normalisation and orthogonal
weights as parametrizations (see parametrize.py), PyTorch's current form of these techniques.

    weight_norm(Linear(20, 40))    # weight = g * v / ||v||, stored as original0 = g, original1 = v
    spectral_norm(Linear(20, 40))  # weight = W / sigma(W), sigma estimated by power iteration
    orthogonal(Linear(20, 40))     # weight has orthonormal columns (rows when it is wide)
"""

from enum import Enum, auto

from ...autograd.grad_mode import no_grad
from ...dtypes import finfo
from ...linalg import matrix_exp, solve
from ...ops.arithmetic import add, allclose
from ...ops.creation import eye, randn, zeros_like
from ...ops.householder import geqrf, householder_product
from ...ops.join import cat
from ...ops.linalg import mv, vdot
from ...tensor import Tensor
from ..functional import normalize
from ..modules.conv import ConvTranspose1d, ConvTranspose2d
from ..modules.module import Module
from . import parametrize

__all__ = ["orthogonal", "weight_norm", "spectral_norm"]


def _norm_except_dim(v, dim):
    """The 2-norm of `v` over every dimension but `dim`, kept as size-1 dimensions so that it
    broadcasts against `v` (PyTorch's norm_except_dim); dim=-1 means the norm of the whole
    tensor, a 0-d tensor."""
    if dim == -1:
        return v.norm()
    dims = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return v.norm(2, dims, keepdim=True) if dims else v.abs()


def _weight_norm(v, g, dim):
    """g * v / ||v||, the norm taken over every dimension but `dim` (PyTorch's _weight_norm).
    Composed of differentiable ops, so d/dg and d/dv come from the graph."""
    return v * (g / _norm_except_dim(v, dim))


def _weight_to_matrix(weight, dim):
    """`weight` as a matrix: dimension `dim` first, the others flattened into the columns."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.flatten(1)


class _WeightNorm(Module):
    """w = g * v / ||v||: the direction v and the length g are learned separately."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize `module.<name>` as g * v / ||v|| (norm over every dimension but `dim`;
    `dim=None` takes the norm of the whole tensor). g and v are stored as
    `module.parametrizations.<name>.original0` and `.original1`; a state dict of the legacy
    `nn.utils.weight_norm` (keys `<name>_g`, `<name>_v`) still loads. Returns the module."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(module, state_dict, prefix, local_metadata, strict,
                                 missing_keys, unexpected_keys, error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module.register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


class _SpectralNorm(Module):
    """W / sigma(W), sigma the largest singular value of W seen as a matrix (dimension `dim`
    first, the rest flattened). sigma is estimated by power iteration on the buffers `_u`, `_v`:
    in training mode each access runs `n_power_iterations` steps."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = weight_mat.new_empty(h).normal_(0, 1)  # the global generator, as PyTorch
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)  # start from a good estimate

    def _reshape_weight_to_matrix(self, weight):
        return _weight_to_matrix(weight, self.dim)

    def _power_method(self, weight_mat, n_power_iterations):
        """u <- normalize(W v), v <- normalize(W^T u), written into the buffers in place (they
        are the tensors the state dict holds). Not part of the graph: sigma's gradient treats
        u and v as constants, as in PyTorch."""
        with no_grad():
            for _ in range(n_power_iterations):
                self._u._data[...] = normalize(mv(weight_mat, self._v), dim=0, eps=self.eps)._data
                self._v._data[...] = normalize(mv(weight_mat.T, self._u), dim=0,
                                               eps=self.eps)._data
            self._u._version += 1
            self._v._version += 1

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # copies: the next power step overwrites the buffers, which backward must not see
        u, v = self._u.clone(), self._v.clone()
        sigma = vdot(u, mv(weight_mat, v))  # u^T W v, the top singular value
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize `module.<name>` as W / sigma(W), sigma its spectral norm estimated by power
    iteration (buffers `module.parametrizations.<name>[0]._u` and `._v`, drawn from the global
    generator). `dim` (default 0, 1 for ConvTranspose) is the output dimension. Returns the
    module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose1d | ConvTranspose2d) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


def _is_orthogonal(Q):
    """Whether Q^T Q = I up to rounding (atol grows with the number of rows, as PyTorch's)."""
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10.0 * n * finfo(Q.dtype).eps
    return allclose(Q.mH @ Q, eye(k, dtype=Q.dtype), atol=eps)


def _make_orthogonal(A):
    """The Q of A = QR for a tall A, made unique by choosing diag(R) >= 0: geqrf's R may have
    negative diagonal entries, and flipping the sign of R's row i and Q's column i together
    leaves A = QR unchanged."""
    X, tau = geqrf(A)
    Q = householder_product(X, tau)
    Q *= X.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)  # diag(X) is diag(R)
    return Q


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    """Maps an unconstrained tensor X onto the (batches of) matrices with orthonormal columns
    (rows when wide; the wide case is the transposed tall one).

    matrix_exp / cayley: the lower triangle of X (embedded in an n x n matrix when X is tall)
    gives a skew-symmetric A = L - L^T, and both exp(A) and the Cayley transform
    (I + A/2)(I - A/2)^-1 of a skew-symmetric matrix are orthogonal; the first k columns are kept.
    householder: the columns of X below the diagonal are the vectors of k Householder
    reflections (see ops/householder.py), whose product is orthogonal; X's diagonal (1 or -1)
    only fixes the sign of each column.

    With use_trivialization (the default) the result is multiplied by the orthogonal matrix in
    the buffer `base`: assigning a weight stores it there and resets X to a point the map sends
    to the identity, so the optimiser always starts from a well-conditioned spot near the
    current weight ("dynamic trivialization", Lezcano-Casado 2019)."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        # a complex unitary matrix needs more parameters than the reflector vectors hold
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        # from here on X is tall: n >= k
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()  # n k - k (k - 1) / 2 free parameters
            if n != k:  # embed into a square matrix
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH  # skew-symmetric
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = matrix_exp(A)
            else:  # the Cayley map (I + A/2)(I - A/2)^-1, as the solve of (I - A/2) Q = I + A/2
                Id = eye(n, dtype=A.dtype)
                Q = solve(add(Id, A, alpha=-0.5), add(Id, A, alpha=0.5))
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            # tau = 2 / ||v||^2 with v = (1, A's column below the diagonal) makes each
            # I - tau v v^T an orthogonal reflection
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = householder_product(A, tau)
            # X's diagonal is made of 1s and -1s; as ints it is outside the graph, so it is
            # neither differentiated through nor updated by the optimiser
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)

        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    @no_grad()
    def right_inverse(self, Q):
        """The X that forward maps to the orthogonal matrix Q (a non-orthogonal Q is first
        orthogonalised by QR). With trivialization Q itself (completed to a square orthogonal
        matrix) goes into `base` and X is -I; without it only the householder map can be
        inverted: X holds Q's reflectors, from geqrf."""
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {Q.shape}.")
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n

        if not hasattr(self, "base"):
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError("It is not possible to assign to the matrix exponential "
                                          "or the Cayley parametrizations when "
                                          "use_trivialization=False.")
            # Q = H_1 ... H_k R; A's diagonal holds the signs of diag(R), flipped where LAPACK
            # skipped the reflection (tau = 0 exactly), so that forward gives Q back
            A, tau = geqrf(Q)
            A.diagonal(dim1=-2, dim2=-1).sign_()
            A.diagonal(dim1=-2, dim2=-1)[tau == 0.0] *= -1
            return A.mT if transpose else A

        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:  # complete Q's k columns with random ones into an n x n orthogonal matrix
            N = randn(*(Q.shape[:-2] + (n, n - k)), dtype=Q.dtype)
            Q = _make_orthogonal(cat([Q, N], dim=-1))
        self.base = Q
        # -I: every map sends it to the identity (householder reads its diagonal as the signs)
        neg_Id = zeros_like(Q_init)
        neg_Id.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        return neg_Id


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Reparametrize `module.<name>` (a matrix or a batch of matrices) to have orthonormal
    columns, or orthonormal rows when it is wide. `orthogonal_map` is "matrix_exp", "cayley" or
    "householder" (default: "matrix_exp" for a square or complex weight, "householder"
    otherwise). With `use_trivialization` (default) the current orthogonal weight is kept in
    `module.parametrizations.<name>[0].base`, which speeds up convergence. The initial weight is
    the current one if it is orthogonal, its QR orthogonalisation otherwise. Returns the
    module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. "
                         f"Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
