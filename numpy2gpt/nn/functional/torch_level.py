"""The torch-level forms of nn.functional ops: `torch.dropout(x, p, train)`,
`torch.embedding(weight, indices)`, `torch.kl_div(x, t, reduction=1)`, ...

PyTorch has these beside torch.nn.functional with ATen's signatures, which often differ from F's:
every argument positional in ATen's order (torch.batch_norm takes weight and bias before the
running statistics, torch.embedding the weight before the indices), `train` for `training`, no
`inplace` flag (the in-place form is a separate `name_` function), and a loss's reduction as an
int (0 'none', 1 'mean', 2 'sum'). Each is a thin wrapper around the functional op; where the
two are the same function in PyTorch (torch.conv2d is F.conv2d), it is re-exported as it is.
"""

import numpy as np

from ...ops._util import int_arg, ints_arg, renamed, require_tensor
from ...tensor import Tensor
from . import activation, batchnorm, distance, loss, normalization, pooling
from ._args import require_number
from .activation import cosine_similarity
from .conv import (
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from .distance import bilinear, pairwise_distance, pdist
from .linear import embedding as _lookup
from .linear import embedding_renorm_
from .pooling import adaptive_avg_pool1d, avg_pool1d
from .sampling import channel_shuffle, pixel_shuffle, pixel_unshuffle

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(reduction, op):
    """ATen's int reduction as F's name. Like ATen, an int other than 1 (mean) or 2 (sum) leaves
    the loss unreduced. (A wrong type's message is PyTorch's for a keyword argument: without the
    position, which PyTorch adds when it is passed positionally.)"""
    if type(reduction) is not int:
        reduction = int_arg(reduction, op, "reduction")
    return _REDUCTIONS.get(reduction, "none")


def _reduced(elementwise, how):
    """The 'none' loss reduced as `how` says (mean and sum here, where F's 'mean' would warn or
    mean something else)."""
    if how == "none":
        return elementwise
    return elementwise.mean() if how == "mean" else elementwise.sum()


# ----- dropout -----------------------------------------------------------------------------------
def _train_flag(train, op):
    if not isinstance(train, bool | np.bool_):
        raise TypeError(f"{op}(): argument 'train' (position 3) must be bool, not "
                        f"{type(train).__name__}")
    return bool(train)


def _dropout_args(op, input, p, train):
    x = require_tensor(input, op, "input", 1)
    if not isinstance(p, int | float | np.number) or isinstance(p, bool):
        raise TypeError(f"{op}(): argument 'p' (position 2) must be float, not "
                        f"{type(p).__name__}")
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    return x, float(p), _train_flag(train, op)


def _feature_dropout(x, p, train, inplace, alpha):
    """Dropout of whole channels (dim 1), one noise value each: feature_dropout and
    feature_alpha_dropout."""
    return distance._dropout_impl(x, p, train, inplace, distance._feature_noise_shape(x, True),
                                  alpha)


def dropout(input, p, train):
    """F.dropout(input, p, training=train)."""
    x, p, train = _dropout_args("dropout", input, p, train)
    return activation.dropout(x, p, train)


def dropout_(input, p, train):
    """dropout written into input (returned)."""
    x, p, train = _dropout_args("dropout_", input, p, train)
    return activation.dropout(x, p, train, inplace=True)


def alpha_dropout(input, p, train):
    """F.alpha_dropout(input, p, training=train)."""
    x, p, train = _dropout_args("alpha_dropout", input, p, train)
    return distance.alpha_dropout(x, p, train)


def alpha_dropout_(input, p, train):
    x, p, train = _dropout_args("alpha_dropout_", input, p, train)
    return distance.alpha_dropout(x, p, train, inplace=True)


def feature_dropout(input, p, train):
    """Dropout of whole channels: dim 1 of an input with at least 2 dims (F.dropout2d's
    kernel)."""
    x, p, train = _dropout_args("feature_dropout", input, p, train)
    return _feature_dropout(x, p, train, False, 0.0)


def feature_dropout_(input, p, train):
    x, p, train = _dropout_args("feature_dropout_", input, p, train)
    return _feature_dropout(x, p, train, True, 0.0)


def feature_alpha_dropout(input, p, train):
    """F.feature_alpha_dropout(input, p, training=train)."""
    x, p, train = _dropout_args("feature_alpha_dropout", input, p, train)
    return _feature_dropout(x, p, train, False, distance.SELU_NEGATIVE_SATURATION)


def feature_alpha_dropout_(input, p, train):
    x, p, train = _dropout_args("feature_alpha_dropout_", input, p, train)
    return _feature_dropout(x, p, train, True, distance.SELU_NEGATIVE_SATURATION)


# ----- normalization and embedding ------------------------------------------------------------
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    """F.layer_norm (cudnn_enable is ignored: there is no cuDNN)."""
    return normalization.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """F.group_norm (cudnn_enabled is ignored)."""
    return normalization.group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """F.rms_norm."""
    return normalization.rms_norm(input, normalized_shape, weight, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    """F.batch_norm with ATen's order of arguments, all required: weight and bias come first."""
    return batchnorm.batch_norm(input, running_mean, running_var, weight, bias, training,
                                momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                  cudnn_enabled):
    """F.instance_norm with ATen's order of arguments, all required."""
    return batchnorm.instance_norm(input, running_mean, running_var, weight, bias,
                                   use_input_stats, momentum, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """F.embedding with the weight first. padding_idx is a row index: one outside
    [0, num_embeddings) (ATen's default -1 among them) means no padding row."""
    w = require_tensor(weight, "embedding", "weight", 1)
    idx = require_tensor(indices, "embedding", "indices", 2)
    padding_idx = int_arg(padding_idx, "embedding", "padding_idx", 3)
    if not 0 <= padding_idx < (w.shape[0] if w.ndim else 0):
        padding_idx = None
    return _lookup(idx, w, padding_idx, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


# ----- pooling -----------------------------------------------------------------------------------
def _stride(stride):
    """ATen's stride default is [] (the kernel size), F's None."""
    return None if isinstance(stride, list | tuple) and not stride else stride


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """F.max_pool1d without return_indices (see max_pool1d_with_indices)."""
    return pooling.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """F.max_pool2d without return_indices."""
    return pooling.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """F.max_pool3d without return_indices."""
    return pooling.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    """(values, indices): F.max_pool1d(..., return_indices=True)."""
    return pooling.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode,
                              return_indices=True)


def adaptive_max_pool1d(input, output_size):
    """(values, indices): F.adaptive_max_pool1d(..., return_indices=True)."""
    return pooling.adaptive_max_pool1d(input, output_size, return_indices=True)


def constant_pad_nd(input, pad, value=0):
    """F.pad(input, pad, 'constant', value), after ATen's checks and with its messages."""
    op = "constant_pad_nd"
    x = require_tensor(input, op, "input", 1)
    if not isinstance(pad, list | tuple):
        raise TypeError(f"{op}(): argument 'pad' (position 2) must be tuple of ints, not "
                        f"{type(pad).__name__}")
    pad = ints_arg(pad, op, "pad", 2)
    require_number(value, op, "value", 3)
    if len(pad) % 2:
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}")
    if len(pad) > 2 * x.ndim:
        raise RuntimeError(f"Length of pad should be no more than twice the number of dimensions "
                           f"of the input. Pad length is {len(pad)}while the input has "
                           f"{x.ndim}dimensions.")
    return activation.pad(x, pad, "constant", value)


# ----- losses (reduction: 0 none, 1 mean, 2 sum) ---------------------------------------------
# ATen's schemas say `reduction=1` (Mean), but PyTorch's Python bindings read that default as 0:
# torch.kl_div(x, t) is not reduced. The defaults here are what PyTorch does, 0.
def kl_div(input, target, reduction=0, *, log_target=False):
    """F.kl_div; reduction 1 is the mean over all elements (without F's warning about it)."""
    how = _reduction(reduction, "kl_div")
    return _reduced(loss.kl_div(input, target, reduction="none", log_target=log_target), how)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    """F.binary_cross_entropy_with_logits."""
    how = _reduction(reduction, "binary_cross_entropy_with_logits")
    return activation.binary_cross_entropy_with_logits(input, target, weight, reduction=how,
                                                       pos_weight=pos_weight)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    """F.margin_ranking_loss."""
    how = _reduction(reduction, "margin_ranking_loss")
    return distance.margin_ranking_loss(input1, input2, target, margin, reduction=how)


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    """F.hinge_embedding_loss."""
    how = _reduction(reduction, "hinge_embedding_loss")
    return distance.hinge_embedding_loss(input, target, margin, reduction=how)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    """F.cosine_embedding_loss."""
    how = _reduction(reduction, "cosine_embedding_loss")
    return distance.cosine_embedding_loss(input1, input2, target, margin, reduction=how)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                        reduction=0):
    """F.triplet_margin_loss."""
    how = _reduction(reduction, "triplet_margin_loss")
    return distance.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                        reduction=how)


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """F.poisson_nll_loss, every argument required."""
    how = _reduction(reduction, "poisson_nll_loss")
    return distance.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=how)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0,
             zero_infinity=False):
    """F.ctc_loss (mean: each loss divided by its target length, then the batch mean)."""
    how = _reduction(reduction, "ctc_loss")
    return loss.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, how,
                         zero_infinity)


# ----- distance ----------------------------------------------------------------------------------
def dist(input, other, p=2):
    """The p-norm of input - other (broadcast), flattened: torch.norm(input - other, p)."""
    from ...linalg import vector_norm

    x = require_tensor(input, "dist", "input", 1)
    y = require_tensor(other, "dist", "other", 2)
    if not isinstance(p, int | float | np.number | Tensor) or isinstance(p, bool):
        raise TypeError(f"dist(): argument 'p' (position 3) must be Number, not "
                        f"{type(p).__name__}")
    return renamed(vector_norm(x - y, float(p)), "DistBackward0")  # (one node in PyTorch)


__all__ = [
    "cosine_similarity", "pairwise_distance", "pdist", "dist", "dropout", "dropout_",
    "alpha_dropout", "alpha_dropout_", "feature_dropout", "feature_dropout_",
    "feature_alpha_dropout", "feature_alpha_dropout_", "layer_norm", "group_norm", "rms_norm",
    "batch_norm", "instance_norm", "embedding", "embedding_renorm_", "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d", "max_pool2d",
    "max_pool3d", "max_pool1d_with_indices", "avg_pool1d", "adaptive_avg_pool1d",
    "adaptive_max_pool1d", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
    "constant_pad_nd", "kl_div", "binary_cross_entropy_with_logits", "margin_ranking_loss",
    "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss", "poisson_nll_loss",
    "ctc_loss", "bilinear",
]
