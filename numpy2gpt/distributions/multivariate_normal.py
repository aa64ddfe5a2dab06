"""MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril)."""

import math

from .. import linalg
from ..ops.creation import eye, randn
from ..ops.shape import broadcast_shapes
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import EMPTY_SIZE, lazy_property


def _batch_mv(bmat, bvec):
    """Matrix-vector products over broadcast batch dimensions."""
    return (bmat @ bvec.unsqueeze(-1)).squeeze(-1)


def _tril_solve(L, B):
    """L^-1 B for lower-triangular L (only its lower triangle is read), batch dims broadcast."""
    return linalg.solve_triangular(L, B, upper=False)


def _batch_mahalanobis(L, x):
    """|L^-1 x|^2 for each vector x (the squared Mahalanobis distance when L L^T is the
    covariance), over the broadcast batch dimensions of L and x."""
    return _tril_solve(L, x.unsqueeze(-1)).squeeze(-1).pow(2).sum(-1)


def _precision_to_scale_tril(P):
    """The lower Cholesky factor of P^-1 without inverting P: with flip the reversal of rows
    and columns, flip(P) = Lf Lf^T gives P^-1 = L L^T for L = (flip(Lf)^T)^-1, lower."""
    Lf = linalg.cholesky(P.flip((-2, -1)))
    L_inv = Lf.flip((-2, -1)).transpose(-2, -1)
    return _tril_solve(L_inv, eye(P.shape[-1], dtype=P.dtype))


class MultivariateNormal(Distribution):
    """N(loc, Sigma) over vectors of length loc.shape[-1]; Sigma is given by exactly one of
    its covariance_matrix, its precision_matrix (the inverse) or its lower Cholesky factor
    scale_tril, each with optional batch dimensions broadcast against loc's."""

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = {"scale_tril": scale_tril, "covariance_matrix": covariance_matrix,
                 "precision_matrix": precision_matrix}
        given = {k: v for k, v in given.items() if v is not None}
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        ((name, matrix),) = given.items()
        if matrix.dim() < 2:
            what = "scale_tril matrix" if name == "scale_tril" else name
            raise ValueError(f"{what} must be at least two-dimensional, with optional leading "
                             "batch dimensions")
        batch_shape = broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        self.loc = loc.expand(batch_shape + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = linalg.cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(matrix)

    def expand(self, batch_shape, _instance=None):
        batch_shape = Size(batch_shape)
        cov_shape = batch_shape + self._event_shape + self._event_shape
        params = {name: self.__dict__[name].expand(cov_shape)
                  for name in ("covariance_matrix", "scale_tril", "precision_matrix")
                  if name in self.__dict__}
        return self._expanded(MultivariateNormal, batch_shape, _instance,
                              loc=self.loc.expand(batch_shape + self._event_shape),
                              _unbroadcasted_scale_tril=self._unbroadcasted_scale_tril,
                              **params)

    def _matrix_shape(self):
        return self._batch_shape + self._event_shape + self._event_shape

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        L_inv = linalg.inv(self._unbroadcasted_scale_tril)  # (L L^T)^-1 = L^-T L^-1
        return (L_inv.mT @ L_inv).expand(self._matrix_shape())

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return (self._unbroadcasted_scale_tril.pow(2).sum(-1)
                .expand(self._batch_shape + self._event_shape))

    def rsample(self, sample_shape=EMPTY_SIZE):
        """loc + L eps with eps ~ N(0, I) (randn: PyTorch's numbers for a seed)."""
        eps = randn(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def _half_log_det(self):
        """log sqrt(det Sigma) = sum of log diag(L)."""
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - self._half_log_det()

    def entropy(self):
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return H if len(self._batch_shape) == 0 else H.expand(self._batch_shape)
