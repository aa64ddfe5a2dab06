"""FisherSnedecor(df1, df2): the F distribution, the law of a ratio of two scaled chi-squares
(variance ratios in ANOVA and F-tests)."""

import math
from numbers import Number

from .. import dtypes
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import EMPTY_SIZE, broadcast_all


class FisherSnedecor(Distribution):
    """F(df1, df2): the law of (X1 / df1) / (X2 / df2) for independent chi-squares X1, X2 with
    df1 and df2 degrees of freedom."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        # X / df for X ~ Chi2(df) is Gamma(df / 2, df / 2) = Gamma(df / 2, rate df) scaled by 2
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        both_numbers = isinstance(df1, Number) and isinstance(df2, Number)
        super().__init__(Size() if both_numbers else self.df1.size(),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(FisherSnedecor, batch_shape, _instance,
                              df1=self.df1.expand(batch_shape), df2=self.df2.expand(batch_shape),
                              _gamma1=self._gamma1.expand(batch_shape),
                              _gamma2=self._gamma2.expand(batch_shape))

    @property
    def mean(self):
        """df2 / (df2 - 2), undefined (NaN) for df2 <= 2."""
        df2 = self.df2.clone()
        df2[df2 <= 2] = math.nan
        return df2 / (df2 - 2)

    @property
    def mode(self):
        """(df1 - 2) / df1 * df2 / (df2 + 2), undefined (NaN) for df1 <= 2."""
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        mode[self.df1 <= 2] = math.nan
        return mode

    @property
    def variance(self):
        """2 df2^2 (df1 + df2 - 2) / (df1 (df2 - 2)^2 (df2 - 4)), undefined for df2 <= 4."""
        df2 = self.df2.clone()
        df2[df2 <= 4] = math.nan
        return (2 * df2.pow(2) * (self.df1 + df2 - 2)
                / (self.df1 * (df2 - 2).pow(2) * (df2 - 4)))

    def rsample(self, sample_shape=EMPTY_SIZE):
        """X1 / X2 for X1 ~ Gamma(df1 / 2, df1), X2 ~ Gamma(df2 / 2, df2): differentiable in
        df1 and df2 through the Gamma draws (not PyTorch's numbers: its Gamma draws are not
        reproduced)."""
        shape = self._extended_shape(sample_shape)
        x1 = self._gamma1.rsample(sample_shape).view(shape)
        x2 = self._gamma2.rsample(sample_shape).view(shape)
        tiny = dtypes.finfo(x2.dtype).tiny
        x2.clamp_(min=tiny)
        y = x1 / x2
        y.clamp_(min=tiny)
        return y

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        ct1 = self.df1 * 0.5
        ct2 = self.df2 * 0.5
        ct3 = self.df1 / self.df2
        t1 = (ct1 + ct2).lgamma() - ct1.lgamma() - ct2.lgamma()  # -log B(df1 / 2, df2 / 2)
        t2 = ct1 * ct3.log() + (ct1 - 1) * value.log()
        t3 = (ct1 + ct2) * (ct3 * value).log1p()
        return t1 + t2 - t3


__all__ = ["FisherSnedecor"]
