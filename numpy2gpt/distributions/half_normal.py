"""HalfNormal(scale): |X| for X ~ Normal(0, scale)."""

import math

from .folded import Folded
from .normal import Normal


class HalfNormal(Folded):
    """The folded normal: twice the Normal(0, scale) density on x >= 0 (and -inf below)."""

    base = Normal

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(HalfNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)

