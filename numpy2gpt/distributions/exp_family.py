"""ExponentialFamily: the base class of distributions with densities
p(x; theta) = exp(<t(x), theta> - F(theta) + k(x)), for natural parameters theta, sufficient
statistic t, log-normalizer F and carrier measure k.

Since E[t(x)] = grad F(theta), a family that gives theta (`_natural_params`), F
(`_log_normalizer`) and E[k(x)] (`_mean_carrier_measure`) gets its entropy, and the KL
divergence between two members, from autograd on F: Bregman divergences of F (Nielsen and
Nock, "Entropies and cross-entropies of exponential families").
"""

from ..autograd import grad
from .distribution import Distribution


class ExponentialFamily(Distribution):
    """A Distribution of an exponential family (Normal, Gamma, Bernoulli, Wishart, ...): its
    default entropy is -E[k(x)] + F(theta) - <theta, grad F(theta)>."""

    @property
    def _natural_params(self):
        """The natural parameters theta: a tuple of tensors."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        """F(theta), the log of the density's normalizing constant."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        """E[k(x)], the expected carrier measure."""
        raise NotImplementedError

    def entropy(self):
        """-E[k(x)] + F(theta) - <theta, E[t(x)]>, with E[t(x)] = grad F(theta) by autograd
        (at the natural parameters detached: no gradient flows back to the parameters)."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = grad(lg_normal.sum(), nparams, create_graph=True)
        result += lg_normal
        for nparam, g in zip(nparams, gradients):
            result -= (nparam * g).reshape(self._batch_shape + (-1,)).sum(-1)
        return result


__all__ = ["ExponentialFamily"]
