"""HalfCauchy(scale): |X| for X ~ Cauchy(0, scale), a heavy-tailed prior for scales."""

import math

from ..ops.creation import full
from ..tensor import as_tensor
from .cauchy import Cauchy
from .folded import Folded


class HalfCauchy(Folded):
    """Twice the Cauchy(0, scale) density on x >= 0 (and -inf below); its mean is infinite."""

    base = Cauchy

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(HalfCauchy, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        return full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self):
        return self.base_dist.variance

    def _value(self, value):
        return as_tensor(value, dtype=self.base_dist.scale.dtype)
