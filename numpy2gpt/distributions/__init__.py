"""torch.distributions: parameterised probability distributions, their samples (PyTorch's
numbers for a seed where PyTorch's sampler is one numpy2gpt matches), log-densities, entropies
and KL divergences, all differentiable in the parameters.

    from numpy2gpt.distributions import Normal, kl_divergence
    d = Normal(loc, scale)
    loss = -d.log_prob(x).mean() + kl_divergence(d, Normal(0.0, 1.0)).sum()
"""

from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical, OneHotCategorical
from .distribution import Distribution
from .exponential import Exponential
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Exponential", "Independent", "Laplace",
           "MultivariateNormal", "Normal", "OneHotCategorical", "Uniform", "constraints",
           "kl_divergence", "register_kl"]
