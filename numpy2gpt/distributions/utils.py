"""Helpers the distributions share: broadcasting parameters, probs <-> logits, lazy properties."""

from numbers import Number

from .. import dtypes
from ..autograd import enable_grad
from ..nn.functional import softmax
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


__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs",
           "probs_to_logits"]
