"""torch.distributions: parameterised probability distributions, their samples (PyTorch's
numbers for a seed where PyTorch's sampler is one numpy2gpt matches), log-densities, entropies
and KL divergences, all differentiable in the parameters.

    from numpy2gpt.distributions import Normal, kl_divergence
    d = Normal(loc, scale)
    loss = -d.log_prob(x).mean() + kl_divergence(d, Normal(0.0, 1.0)).sum()
"""

from . import constraints
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical, OneHotCategorical
from .chi2 import Chi2
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .studentT import StudentT
from .uniform import Uniform

__all__ = ["Bernoulli", "Beta", "Categorical", "Chi2", "Dirichlet", "Distribution", "Exponential",
           "Gamma", "Independent", "Laplace", "LogNormal", "MultivariateNormal", "Normal",
           "OneHotCategorical", "StudentT", "Uniform", "constraints", "kl_divergence",
           "register_kl"]
