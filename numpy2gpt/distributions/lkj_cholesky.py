"""LKJCholesky(dim, concentration): the LKJ distribution over Cholesky factors L of dim x dim
correlation matrices M = L L^T, with density proportional to det(M)^(concentration - 1)
(uniform over correlation matrices for concentration 1)."""

import math

from .. import dtypes
from ..ops.creation import arange, randn
from ..ops.join import cat
from ..ops.special import mvlgamma
from ..tensor import Size
from . import constraints
from .beta import Beta
from .distribution import Distribution
from .utils import EMPTY_SIZE, broadcast_all


class LKJCholesky(Distribution):
    """Cholesky factors of correlation matrices, drawn by the onion method (Lewandowski,
    Kurowicka and Joe, 2009, section 3): row i of L is sqrt(y_i) u_i on its strict lower part
    for y_i ~ Beta(i / 2, concentration + (dim - 2 - i) / 2) and u_i uniform on the unit
    sphere, and its diagonal entry makes the row of unit length."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError("Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.size()
        event_shape = Size((dim, dim))
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = arange(self.dim - 1, dtype=self.concentration.dtype)
        offset = cat([offset.new_zeros((1,)), offset])
        beta_conc1 = offset + 0.5
        beta_conc0 = marginal_conc.unsqueeze(-1) - 0.5 * offset
        self._beta = Beta(beta_conc1, beta_conc0)
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = Size(batch_shape)
        return self._expanded(LKJCholesky, batch_shape, _instance, dim=self.dim,
                              concentration=self.concentration.expand(batch_shape),
                              _beta=self._beta.expand(batch_shape + (self.dim,)))

    def sample(self, sample_shape=EMPTY_SIZE):
        y = self._beta.sample(sample_shape).unsqueeze(-1)
        u_normal = randn(self._extended_shape(sample_shape), dtype=y.dtype).tril(-1)
        u_hypersphere = u_normal / u_normal.norm(dim=-1, keepdim=True)
        u_hypersphere[..., 0, :].fill_(0.0)  # the first row is (1, 0, ..., 0)
        w = y.sqrt() * u_hypersphere
        eps = dtypes.finfo(w.dtype).tiny
        diag_elems = (1 - (w ** 2).sum(dim=-1)).clamp(min=eps).sqrt()
        return w + diag_elems.diag_embed()

    def log_prob(self, value):
        """sum_{i>=2} (2 (eta - 1) + dim - i) log L_ii minus the log of the normalizing
        constant (the density of L, det(M)^(eta - 1) times the Jacobian of M = L L^T)."""
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = arange(2, self.dim + 1)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = (order * diag_elems.log()).sum(dim=-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = alpha.lgamma() * dm1
        numerator = mvlgamma(alpha - 0.5, dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        normalize_term = pi_constant + numerator - denominator
        return unnormalized_log_pdf - normalize_term


__all__ = ["LKJCholesky"]
