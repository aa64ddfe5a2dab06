"""Helpers the distributions share: broadcasting parameters, probs <-> logits, lazy properties."""

from numbers import Number

from .. import dtypes
from ..autograd import enable_grad
from ..nn.functional import softmax
from ..ops.creation import arange
from ..ops.elementwise import sigmoid
from ..ops.shape import broadcast_tensors
from ..tensor import Size, Tensor, tensor

EMPTY_SIZE = Size()  # the default sample_shape: one sample
euler_constant = 0.57721566490153286060  # the Euler-Mascheroni constant


def broadcast_all(*values):
    """Broadcast tensors and numbers together; numbers become tensors of the first tensor's
    dtype (the default dtype when all are numbers), as PyTorch's broadcast_all."""
    if not all(isinstance(v, Tensor | Number) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    dtype = next((v.dtype for v in values if isinstance(v, Tensor)), dtypes.get_default_dtype())
    return broadcast_tensors(*[v if isinstance(v, Tensor) else tensor(v, dtype=dtype)
                               for v in values])


def sum_rightmost(value, dim):
    """Sum out the `dim` rightmost dimensions of `value`."""
    if dim == 0:
        return value
    return value.reshape(value.shape[:-dim] + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    """sigmoid of log-odds (binary), else softmax over the last dimension."""
    return sigmoid(logits) if is_binary else softmax(logits, dim=-1)


def clamp_probs(probs):
    """Probabilities clamped into [eps, 1 - eps] of their dtype, so their logs are finite."""
    eps = dtypes.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """log-odds log(p) - log(1 - p) (binary), else log(p): logits that give back `probs`."""
    ps = clamp_probs(probs)
    return ps.log() - (-ps).log1p() if is_binary else ps.log()


def _tril_mask(n, diag):
    """The (n, n) bool mask of the elements on or below diagonal `diag`."""
    rows = arange(n)
    return rows < rows.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat, diag=0):
    """The elements of (a batch of) square matrices on or below diagonal `diag`, row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag)]


def vec_to_tril_matrix(vec, diag=0):
    """The inverse of tril_matrix_to_vec: D x D matrices, zero above diagonal `diag`, filled
    row by row from the last dimension of `vec`."""
    # D is the positive root of D^2 + (1 + 2 diag) D - |diag| (diag + 1) - 2 len(vec) = 0
    b = 1 + 2 * diag
    n = (-b + (b ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > dtypes.finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(vec.shape[:-1] + (n, n))
    mat[..., _tril_mask(n, diag)] = vec
    return mat


class lazy_property:
    """A property computed on first use and then stored on the instance (as an attribute of the
    same name), so a distribution given `probs` computes its `logits` only when asked."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with enable_grad():  # the value stays differentiable even if first asked under no_grad
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class BinaryProbs:
    """The probs / logits pair of a distribution over a success probability (Bernoulli,
    Binomial, Geometric, NegativeBinomial, LogitRelaxedBernoulli): the one given is stored, the
    other derived on first use; `_param` is the given one."""

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    def _set_count_and_param(self, total_count, probs, logits):
        """Binomial's and NegativeBinomial's parameters: exactly one of probs and logits, and
        total_count broadcast with it, in its dtype."""
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self._param = self.probs
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self._param = self.logits
        self.total_count = self.total_count.type_as(self._param)

    def _expanded_params(self, batch_shape):
        """probs / logits (those already known) and _param expanded to batch_shape, for
        expand()."""
        params = {name: self.__dict__[name].expand(batch_shape)
                  for name in ("probs", "logits") if name in self.__dict__}
        if "_param" in self.__dict__:
            params["_param"] = params.get("logits", params.get("probs"))
        return params


__all__ = ["BinaryProbs", "broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs",
           "probs_to_logits", "tril_matrix_to_vec", "vec_to_tril_matrix"]
