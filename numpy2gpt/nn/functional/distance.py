"""pairwise_distance, pdist and the rest of torch.nn.functional's activations, losses and
dropouts: prelu, rrelu, threshold, hardshrink, softshrink, tanhshrink, the margin and embedding
losses, poisson_nll_loss, gaussian_nll_loss, bilinear, dropout1d/2d/3d, alpha_dropout and
feature_alpha_dropout.

Every op here is composed from differentiable ops, written as PyTorch's ATen writes it: the
values, and the gradients at the kinks, are PyTorch's, and autograd derives the backward (and
the higher derivatives). Where PyTorch's own kernel counts a term only when it is strictly
positive (multi_margin_loss, multilabel_margin_loss), relu stands for that "max(z, 0)": its
gradient at 0 is 0, while clamp(min=0)'s is 1 (which is right where ATen itself uses clamp_min).
"""

import math
import warnings

import numpy as np

from ...autograd.function import _TENSOR_TYPES
from ...autograd.grad_mode import no_grad
from ...kernels.dropout import dropout_mask
from ...linalg import distance
from ...ops._util import not_implemented_for, renamed, require_tensor
from ...ops.elementwise import relu
from ...ops.indexing import where
from ...ops.selection import minimum
from ...random import get_rng, in_memory_order
from ...tensor import Tensor, as_tensor
from . import activation as _activation
from ._args import require_number
from .activation import (
    _maybe_inplace,
    check_dropout_dtype,
    check_dropout_p,
    leaky_relu,
    logsigmoid,
    require_no_grad,
)
from .loss import _legacy_reduction, _reduce, _reduction


def _type_name(t):
    """PyTorch's name of a tensor's scalar type in error messages: 'Float', 'Long', ..."""
    return _TENSOR_TYPES.get(t.dtype.name, t.dtype.name)


def _check_reduction(reduction, message="{} is not valid"):
    """The check of the losses PyTorch writes in Python, which raise after computing."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(message.format(reduction))


# ----- activations -------------------------------------------------------------------------------
def prelu(input, weight):
    """max(0, x) + weight * min(0, x): a leaky relu whose slope `weight` is learnt, one for all
    elements or one per channel (dim 1; a 1-D input is a single channel)."""
    x = require_tensor(input, "prelu", "input", 1)
    w = require_tensor(weight, "prelu", "weight", 2)
    if x.dtype != w.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {_type_name(x)} and "
                           f"{_type_name(w)}")
    if w.numel() != 1:
        if x.ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = x.shape[1] if x.ndim > 1 else 1
        if channels != w.numel():
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {w.numel()} and channel size = {channels}.")
    if w.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {w.ndim}")
    not_implemented_for(x, "prelu_cpu")
    if x.ndim != w.ndim:  # broadcast the slopes along dim 1
        shape = [1] * x.ndim
        if x.ndim > 1:
            shape[1] = w.numel()
        w = w.reshape(shape)
    # at x = 0 the slope side: the gradient there is weight, as PyTorch's
    return renamed(where(x > 0, x, w * x), "PreluKernelBackward0")  # (one node in PyTorch)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky relu: in training each negative element gets its own slope, drawn
    uniformly from [lower, upper] (numpy2gpt's generator, not PyTorch's numbers); otherwise the
    fixed slope (lower + upper) / 2."""
    x = require_tensor(input, "rrelu", "input", 1)
    require_number(lower, "rrelu", "lower", 2)
    require_number(upper, "rrelu", "upper", 3)
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    name = "RreluWithNoiseBackward1" if inplace else "RreluWithNoiseBackward0"  # (PyTorch's)
    if not training:
        slope = (lower + upper) / 2
        return _maybe_inplace(x, lambda t: renamed(leaky_relu(t, slope), name), inplace)
    not_implemented_for(x, "rrelu_with_noise_out_cpu")
    # the slope of each element: 1 where x > 0, U(lower, upper) elsewhere (the derivative too)
    u = get_rng().uniform(x.shape, dtype=x.dtype)
    noise = np.where(x._data > 0, 1, lower + (upper - lower) * u).astype(x.dtype, copy=False)
    return _maybe_inplace(x, lambda t: renamed(t * as_tensor(noise), name), inplace)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else `value` (an integer tensor keeps its dtype: value is cast)."""
    x = require_tensor(input, "threshold", "input", 1)
    require_number(threshold, "threshold", "threshold", 2)
    require_number(value, "threshold", "value", 3)
    not_implemented_for(x, "threshold_cpu", kinds="b")
    if x.dtype.kind in "iu":
        value = int(value)
    # (x <= threshold, not x > threshold, picks `value`: a NaN stays NaN and passes its gradient)
    name = "ThresholdBackward1" if inplace else "ThresholdBackward0"  # (PyTorch's)
    return _maybe_inplace(x, lambda t: renamed(where(t <= threshold, value, t), name), inplace)


def hardshrink(input, lambd=0.5):
    """0 for x in [-lambd, lambd], x elsewhere (the gradient is 0 at the bounds too)."""
    x = require_tensor(input, "hardshrink", "input", 1)
    require_number(lambd, "hardshrink", "lambd", 2)
    not_implemented_for(x, "hardshrink_cpu")
    return renamed(where((x >= -lambd) & (x <= lambd), 0.0, x), "HardshrinkBackward0")


def softshrink(input, lambd=0.5):
    """x shrunk towards 0 by lambd: x - lambd above lambd, x + lambd below -lambd, 0 between."""
    x = require_tensor(input, "softshrink", "input", 1)
    require_number(lambd, "softshrink", "lambd", 2)
    not_implemented_for(x, "softshrink_check")
    if not lambd >= 0:
        finfo = np.finfo(x.dtype)
        raise RuntimeError(f"lambda must be in range [0, {float(finfo.max):g}] for input dtype "
                           f"{_type_name(x)}, but found {lambd:g}")
    # (as hardshrink, 0 only where -lambd <= x <= lambd: a NaN stays NaN, as in PyTorch)
    y = where((x >= -lambd) & (x <= lambd), 0.0, where(x > lambd, x - lambd, x + lambd))
    return renamed(y, "SoftshrinkBackward0")  # (one node in PyTorch)


def tanhshrink(input):
    """x - tanh(x)."""
    x = as_tensor(input)
    return x - x.tanh()


# ----- distances ---------------------------------------------------------------------------------
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of x1 - x2 + eps along the last dim (x1 and x2 broadcast): eps keeps the
    gradient of the 2-norm finite when x1 = x2."""
    a, b = as_tensor(x1), as_tensor(x2)
    shifted = renamed(a - b + eps, "AddBackward1")  # PyTorch's names: add of a scalar, norm
    return renamed(shifted.norm(p, max(a.ndim, b.ndim) - 1, keepdim), "NormBackward1")


def pdist(input, p=2):
    """The p-norm distance between every pair of rows i < j of an (N, M) input, in the order
    (0, 1), (0, 2), ..., (1, 2), ...: N (N - 1) / 2 distances, as the upper triangle of
    cdist(input, input) read row by row."""
    x = as_tensor(input)
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    if x.dtype.kind != "f":
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    i, j = np.triu_indices(x.shape[0], 1)
    diff = x.index_select(0, as_tensor(i)) - x.index_select(0, as_tensor(j))
    if not diff.numel():  # no pairs (or no columns): an empty norm that the inf-norm refuses
        return renamed(diff.abs().sum(1), "PdistBackward0")
    return distance(diff, p, "PdistBackward0")


# ----- losses ------------------------------------------------------------------------------------
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target (input1 - input2) + margin): target 1 asks input1 to rank above input2 by
    at least `margin`, target -1 below."""
    reduction = _reduction(size_average, reduce, reduction)
    a, b, t = as_tensor(input1), as_tensor(input2), as_tensor(target)
    if not a.ndim == b.ndim == t.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {a.size()}, input2: {b.size()}, target: "
                           f"{t.size()} ")
    return _reduce((-t * (a - b) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where target is 1, max(0, margin - x) where it is -1 (x: a distance, small for similar
    pairs); a target that is neither gets both terms, as in PyTorch."""
    reduction = _reduction(size_average, reduce, reduction)
    x, t = as_tensor(input), as_tensor(target)
    margin_part = where(t != 1, (margin - x).clamp(min=0), 0.0)
    loss = margin_part + where(t != -1, x, 0.0)
    if x.dtype.kind != "f":  # PyTorch keeps an integer input's dtype (and refuses its mean)
        loss = loss.to(x.dtype)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """With cos the cosine similarity of the rows: 1 - cos where target is 1, max(0, cos -
    margin) where it is -1. Inputs (N, D) with target (N), or (D) with a 0-d target."""
    reduction = _reduction(size_average, reduce, reduction)
    a, b, t = as_tensor(input1), as_tensor(input2), as_tensor(target)
    if t.ndim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if t.ndim == 1 and not a.ndim == b.ndim == 2:
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with "
                           f"sizes {list(a.shape)} and {list(b.shape)}.")
    if t.ndim == 0 and not a.ndim == b.ndim == 1:
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with "
                           f"sizes {list(a.shape)} and {list(b.shape)}.")
    d = t.ndim
    eps = 1e-12  # PyTorch's EPSILON: keeps the magnitudes of zero rows away from 0
    cos = (a * b).sum(d) / (((a * a).sum(d) + eps) * ((b * b).sum(d) + eps)).sqrt()
    loss = where(t == 1, 1 - cos, 0.0) + where(t == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)): the logistic loss for targets 1 and -1."""
    reduction = _reduction(size_average, reduce, reduction)
    x, t = as_tensor(input), as_tensor(target)
    if x.dtype.kind != "f":
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_type_name(x)}")
    require_no_grad("soft_margin_loss", "target", t)
    loss = _reduce((-t * x).exp().log1p(), reduction)
    return renamed(loss, "SoftMarginLossBackward0")  # (one node in PyTorch)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Binary cross-entropy of sigmoid(input) against 0/1 targets, averaged over the classes
    (the last dim): one loss per sample, optionally weighted per class."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t = as_tensor(input), as_tensor(target)
    if x.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    loss = -(t * logsigmoid(x) + (1 - t) * logsigmoid(-x))
    if weight is not None:
        loss = loss * weight
    class_dim = x.ndim - 1
    loss = loss.sum(class_dim) / x.shape[class_dim]
    _check_reduction(reduction)
    return _reduce(loss, reduction)


def _check_margin_input(x):
    """(nframe, dim) of the input of multi_margin_loss / multilabel_margin_loss: (C), (N, C)
    or a 0-d input (one class)."""
    if not ((x.ndim == 2 and x.shape[1] != 0) or (x.ndim == 1 and x.shape[0] != 0)
            or x.ndim == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(x.shape)}")
    if x.ndim <= 1:
        return 1, x.shape[0] if x.ndim else 1
    return x.shape


def _long_target(t, x, kernel):
    if t.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {_type_name(t)}")
    not_implemented_for(x, kernel)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """The multi-class hinge loss: for each sample with class y,
    sum over classes i != y of w_y max(0, margin - x_y + x_i)^p, divided by the number of
    classes (p 1 or 2)."""
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    x, t = as_tensor(input), as_tensor(target)
    nframe, dim = _check_margin_input(x)
    if t.ndim > 1 or t.numel() != nframe:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to "
                           f"the number of input samples (batch size). Expected target size "
                           f"[{nframe}], but got {list(t.shape)}. Input has shape "
                           f"{list(x.shape)}.")
    if weight is not None and weight.numel() != dim:
        raise RuntimeError(f"inconsistent weight size, expected {dim} but got "
                           f"{list(weight.shape)}")
    _long_target(t, x, "multi_margin_loss_cpu_kernel")
    if weight is not None and weight.dtype != x.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(x)} but found {_type_name(weight)}")
    require_no_grad("multi_margin_loss", "weight", weight)
    ta = t._data.reshape(-1)
    if ((ta < 0) | (ta >= dim)).any():
        raise RuntimeError("target out of range")
    x2 = x.reshape(nframe, dim)
    rows = np.arange(nframe)
    z = margin - x2[rows, ta].unsqueeze(1) + x2  # z_i = margin - x_y + x_i
    h = relu(z) if p == 1 else relu(z) * relu(z)  # only z > 0 counts (the gradient at 0 is 0)
    others = np.ones((nframe, dim), dtype=x.dtype)
    others[rows, ta] = 0  # the class itself is left out
    if weight is not None:
        others *= weight._data[ta][:, None]
    # one loss per sample (0-d for a 0-d target): a new tensor, no view of another
    loss = (h * as_tensor(others)).sum(1 if t.ndim else (0, 1)) / dim
    loss = _reduce(loss, reduction)
    return renamed(loss, "MultiMarginLossBackward0")  # (one node in PyTorch)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """The multi-label hinge loss: each sample's target lists its classes (padded with -1
    after the last); sum over listed classes j and unlisted classes i of
    max(0, 1 - x_j + x_i), divided by the number of classes."""
    reduction = _reduction(size_average, reduce, reduction)
    x, t = as_tensor(input), as_tensor(target)
    nframe, dim = _check_margin_input(x)
    expected = (dim,) if x.ndim <= 1 else (nframe, dim)
    if (t.ndim > 1 or t.numel() != dim) if x.ndim <= 1 else t.shape != expected:
        raise RuntimeError(f"inconsistent target size: {list(t.shape)} for input of size: "
                           f"{list(x.shape)}")
    _long_target(t, x, "multilabel_margin_loss_forward_out_frame")
    ta = t._data.reshape(nframe, dim)
    if ((ta < -1) | (ta >= dim)).any():
        raise RuntimeError("argument #2 'target' is out of range")
    # count[n, j]: how often sample n lists class j (before its first -1; a repeat counts twice)
    listed = np.cumprod(ta >= 0, axis=1).astype(bool)
    count = np.zeros((nframe, dim), dtype=x.dtype)
    np.add.at(count, (np.nonzero(listed)[0], ta[listed]), 1)
    unlisted = count == 0
    x2 = x.reshape(nframe, dim)
    z = 1 - x2.unsqueeze(2) + x2.unsqueeze(1)  # z[n, j, i] = 1 - x_j + x_i
    pairs = as_tensor(count[:, :, None] * unlisted[:, None, :])
    # only z > 0 counts (the gradient at 0 is 0); one loss per sample (0-d for a 1-D input)
    loss = (relu(z) * pairs).sum((1, 2) if x.ndim == 2 else (0, 1, 2)) / dim
    loss = _reduce(loss, reduction)
    return renamed(loss, "MultilabelMarginLossBackward0")  # (one node in PyTorch)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """The negative log-likelihood of `target` under Poisson(rate), without the constant
    log(target!): exp(input) - target * input for a log-rate input, else
    input - target * log(input + eps). `full` adds Stirling's approximation of log(target!)
    where target > 1."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "{} is not a valid value for reduction")
    x, t = as_tensor(input), as_tensor(target)
    loss = x.exp() - t * x if log_input else x - t * (x + eps).log()
    if full:
        stirling = t * t.log() - t + 0.5 * (2 * math.pi * t).log()
        loss = loss + stirling.masked_fill(t <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """The negative log-likelihood of `target` under N(input, var), without the constant unless
    `full`: (log(var) + (input - target)^2 / var) / 2. var: one per element, one per sample
    (one dim short, or one dim of size 1), or a float; clamped to eps for stability (the
    gradient passes the clamp unchanged, as in PyTorch)."""
    x, t = as_tensor(input), as_tensor(target)
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * x.new_ones(x.shape)
    elif not isinstance(var, Tensor):
        raise TypeError(f"any() received an invalid combination of arguments - got "
                        f"({type(var < 0).__name__}), but expected a Tensor")
    elif (var < 0).any():
        raise ValueError("var has negative entry/entries")
    if var.shape != x.shape:
        if x.shape[:-1] == var.shape:  # one variance per sample: broadcast over the last dim
            var = var.unsqueeze(-1)
        elif not (x.ndim == var.ndim
                  and sum(v for s, v in zip(x.shape, var.shape) if s != v) == 1):
            raise ValueError("var is of incorrect size")
    _check_reduction(reduction)
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (x - t) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def _triplet_checks(anchor, positive, negative, margin):
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, p, n = anchor.ndim, positive.ndim, negative.ndim
    if not a == p == n:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a}D, positive {p}D, and "
                           f"negative {n}D inputs")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the pairwise p-distance:
    the anchor should be nearer the positive than the negative by `margin`. With `swap`, the
    negative's distance is the smaller of d(anchor, negative) and d(positive, negative)."""
    reduction = _reduction(size_average, reduce, reduction)
    a, pos, neg = as_tensor(anchor), as_tensor(positive), as_tensor(negative)
    _triplet_checks(a, pos, neg, margin)
    return triplet_margin_with_distance_loss(
        a, pos, neg, distance_function=lambda u, v: pairwise_distance(u, v, p, eps),
        margin=margin, swap=swap, reduction=reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """triplet_margin_loss with any distance function (default pairwise_distance)."""
    _check_reduction(reduction, "{} is not a valid value for reduction")
    a, pos, neg = as_tensor(anchor), as_tensor(positive), as_tensor(negative)
    _triplet_checks(a, pos, neg, margin)
    distance = distance_function if distance_function is not None else pairwise_distance
    dist_pos, dist_neg = distance(a, pos), distance(a, neg)
    if swap:
        dist_neg = minimum(dist_neg, distance(pos, neg))
    return _reduce((margin + dist_pos - dist_neg).clamp_min(0), reduction)


# ----- bilinear ----------------------------------------------------------------------------------
def _c_type(t):
    """The C++ type name PyTorch's bilinear error message gives a dtype: 'float', 'long int'."""
    return {"float32": "float", "float64": "double", "int64": "long int", "int32": "int"}.get(
        t.dtype.name, t.dtype.name)


def bilinear(input1, input2, weight, bias=None):
    """y_o = x1^T A_o x2 + b_o for weight A (out, in1, in2): each output a bilinear form of the
    last dims of input1 (.., in1) and input2 (.., in2), whose leading dims must agree."""
    x1, x2 = as_tensor(input1), as_tensor(input2)
    w = as_tensor(weight)
    if x1.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    if x1.ndim != x2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {x1.ndim} and "
                           f"{x2.ndim}")
    for i in range(x1.ndim - 1):
        if x1.shape[i] != x2.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: got "
                               f"{x1.shape[i]} and {x2.shape[i]}")
    if w.ndim > 1 and x1.shape[-1] != w.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{x1.shape[-1]} but expected {w.shape[1]}")
    if w.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D (out_features, in1_features, "
                           f"in2_features), got {w.ndim}-D")
    out, n1, n2 = w.shape
    if x2.shape[-1] != n2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{x2.shape[-1]} but expected {n2}")
    if bias is not None and bias.shape[0] != out:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.shape[0]} but expected {out}")
    tensors = [("input1", x1), ("input2", x2), ("weight", w)] + (
        [("bias", bias)] if bias is not None else [])
    if len({t.dtype for _, t in tensors}) > 1:
        raise RuntimeError("All tensors must have the same dtype, got " + ", ".join(
            f"{name}: {_c_type(t)}" for name, t in tensors))
    lead = x1.shape[:-1]
    rows = math.prod(lead)  # (not -1 in the reshapes: there may be no elements)
    a, b = x1.reshape(rows, n1), x2.reshape(rows, n2)
    # (a A_o)_j for every output o at once: a @ A laid out as (in1, out * in2)
    u = (a @ w.permute(1, 0, 2).reshape(n1, out * n2)).reshape(rows, out, n2)
    y = (u * b.unsqueeze(1)).sum(-1)  # then the dot product with b
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (out,))


# ----- channel (feature) dropout and alpha dropout -----------------------------------------------
SELU_NEGATIVE_SATURATION = 1.7580993408473766  # -min selu(x) = SELU_SCALE * SELU_ALPHA


def _dropout_impl(x, p, training, inplace, noise_shape, alpha, feature=True):
    """PyTorch's _dropout_impl: a Bernoulli(1 - p) keep-noise of `noise_shape` (broadcast over
    x: one value per channel for feature dropout). Plain dropout keeps x / (1 - p) where the
    noise is 1 and 0 elsewhere; alpha dropout (alpha = selu's negative saturation) gives
    a x + alpha a p where kept and alpha a p - alpha a where dropped, with
    a = 1 / sqrt((alpha^2 p + 1) (1 - p)): the mean 0 and variance 1 of selu activations
    survive. Returns x itself when there is nothing to drop (p = 0, eval, empty)."""
    if p == 0 or not training or x.numel() == 0:
        return x
    if p == 1:
        return _maybe_inplace(x, lambda t: t * 0, inplace)
    if noise_shape is None:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    check_dropout_dtype(x, p)
    if feature:  # one per channel: a fresh contiguous tensor
        noise = dropout_mask(noise_shape, p, x.dtype)  # keep / (1 - p)
    else:  # one per element, in x's memory order, as PyTorch's empty_like(x)
        noise = in_memory_order(x._data, lambda shape: dropout_mask(shape, p, x.dtype))
    if not alpha:
        return _maybe_inplace(x, lambda t: t * as_tensor(noise), inplace)
    keep = (noise != 0).astype(x.dtype)
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    shift = (keep - 1) * x.dtype.type(alpha * a) + x.dtype.type(alpha * a * p)
    scale = keep * x.dtype.type(a)
    return _maybe_inplace(x, lambda t: t * as_tensor(scale) + as_tensor(shift), inplace)


def _feature_noise_shape(x, batched):
    """One noise value per channel: (N, C, 1, ...) for a batched input, (C, 1, ...) without the
    batch dim (None when there is no channel dim)."""
    lead = 2 if batched else 1
    if x.ndim < lead:
        return None
    return x.shape[:lead] + (1,) * (x.ndim - lead)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (input (N, C, L) or (C, L)) with probability p, scaling the rest by
    1 / (1 - p)."""
    check_dropout_p(p)
    x = as_tensor(input)
    if x.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {x.ndim}D input. "
                           "Note that dropout1d exists to provide channel-wise dropout on inputs "
                           "with 1 spatial dimension, a channel dimension, and an optional batch "
                           "dimension (i.e. 2D or 3D inputs).")
    return _dropout_impl(x, p, training, inplace, _feature_noise_shape(x, x.ndim == 3), 0.0)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, H, W) input with probability p, scaling the rest by
    1 / (1 - p). A 3-D input is read as (N, C, L), with PyTorch's warning."""
    check_dropout_p(p)
    x = as_tensor(input)
    if x.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {x.ndim}-D input to dropout2d, which is deprecated "
                      "and will result in an error in a future release. To retain the behavior "
                      "and silence this warning, please use dropout instead. Note that dropout2d "
                      "exists to provide channel-wise dropout on inputs with 2 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 3D "
                      "or 4D inputs).", stacklevel=2)
    if x.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape (C, H, "
                      "W). To maintain the 1D channel-wise dropout behavior, please switch to "
                      "using dropout1d instead.", stacklevel=2)
    return _dropout_impl(x, p, training, inplace, _feature_noise_shape(x, True), 0.0)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, D, H, W) or (C, D, H, W) input with probability p,
    scaling the rest by 1 / (1 - p)."""
    check_dropout_p(p)
    x = as_tensor(input)
    if x.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {x.ndim}-D input to dropout3d, which is deprecated "
                      "and will result in an error in a future release. To retain the behavior "
                      "and silence this warning, please use dropout instead. Note that dropout3d "
                      "exists to provide channel-wise dropout on inputs with 3 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 4D "
                      "or 5D inputs).", stacklevel=2)
    return _dropout_impl(x, p, training, inplace, _feature_noise_shape(x, x.ndim == 5), 0.0)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for selu networks: dropped elements are set to selu's negative saturation
    -1.7581 instead of 0, then all are scaled and shifted (a x + b) so that inputs of zero mean
    and unit variance keep them. Note `training` defaults to False, as in PyTorch."""
    check_dropout_p(p)
    x = as_tensor(input)
    return _dropout_impl(x, p, training, inplace, x.shape, SELU_NEGATIVE_SATURATION,
                         feature=False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels (dim 1 of an (N, C, ...) input)."""
    check_dropout_p(p)
    x = as_tensor(input)
    return _dropout_impl(x, p, training, inplace, _feature_noise_shape(x, True),
                         SELU_NEGATIVE_SATURATION)


# ----- the in-place forms: F.relu_(x) is F.relu(x, inplace=True) -------------------------------
def relu_(input):
    return _activation.relu(input, inplace=True)


def elu_(input, alpha=1.0):
    return _activation.elu(input, alpha, inplace=True)


def celu_(input, alpha=1.0):
    return _activation.celu(input, alpha, inplace=True)


def selu_(input):
    return _activation.selu(input, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return _activation.hardtanh(input, min_val, max_val, inplace=True)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, inplace=True)


_threshold = threshold

__all__ = ["prelu", "rrelu", "threshold", "hardshrink", "relu_", "elu_", "celu_", "selu_",
           "leaky_relu_", "hardtanh_", "rrelu_", "threshold_", "softshrink", "tanhshrink",
           "pairwise_distance", "pdist", "margin_ranking_loss", "hinge_embedding_loss",
           "cosine_embedding_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
           "multi_margin_loss", "multilabel_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss", "bilinear", "dropout1d",
           "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]
