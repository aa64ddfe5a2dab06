"""cross_entropy and nll_loss, PyTorch's semantics (class indices or class probabilities, weight,
ignore_index, reduction, label_smoothing).

cross_entropy takes logits and is ONE fused Function: it never materialises log_softmax. With
lse_i = log(sum_c exp(x_ic)) (computed as m_i + log(sum_c exp(x_ic - m_i)), m_i the row max) and
target weights q_ic, each row's loss is

    loss_i = -sum_c q_ic log p_ic = Q_i lse_i - sum_c q_ic x_ic,      Q_i = sum_c q_ic,

and its gradient is dloss_i/dx_ic = Q_i p_ic - q_ic (p = softmax(x_i)). For class indices,
q_ic = (1 - eps) w_{t_i} [c == t_i] + (eps / C) w_c (eps = label_smoothing, w = weight or ones);
without weight and smoothing q is the one-hot target, Q = 1, and the gradient is p - onehot.
For class probabilities, q_ic = w_c t'_ic with t' = (1 - eps) t + eps / C.
'mean' divides by sum_i w_{t_i} over non-ignored rows (class indices, like PyTorch's nll_loss) or
by the number of rows (probabilities). Ignored rows (target == ignore_index) add nothing.

The row math (reference and fast kernels) is in numpy2gpt/kernels/cross_entropy.py (class
indices) and kernels/softmax.py (log_softmax, for class probabilities). Each fused Function's
`composed` writes the same loss in differentiable ops, for higher derivatives (create_graph=True).

The elementwise losses at the end (smooth_l1_loss, huber_loss, kl_div) are composed from
primitive ops, like mse_loss: autograd derives their backward.
"""

import numbers
import warnings

import numpy as np

from ...autograd.function import _TENSOR_TYPES, FusedFunction
from ...dtypes import dtype_name
from ...kernels.cross_entropy import cross_entropy_backward, cross_entropy_forward
from ...kernels.rows import row_sum
from ...kernels.softmax import log_softmax_backward, log_softmax_forward
from ...ops._util import not_implemented_for, require_tensor
from ...ops.indexing import where
from ...tensor import Tensor, as_tensor
from .softmax import composed_log_softmax


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's legacy `size_average` / `reduce` flags mapped onto `reduction`, with PyTorch's
    deprecation warning (`reduction` itself when neither flag is given). The loss layers keep
    this; the functional losses check it when called."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "none" if not reduce else "mean" if size_average else "sum"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", stacklevel=4)
    return reduction


def _reduction(size_average, reduce, reduction):
    """`reduction` after the legacy flags, checked. Shared by every loss, mse_loss included."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    """The elementwise losses' reduction: the loss itself, its mean or its sum."""
    if reduction == "none":
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


def _warn_if_broadcast(x, t):
    if x.shape != t.shape:
        warnings.warn(f"Using a target size ({t.shape}) that is different to the input size "
                      f"({x.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _require_size(value):
    """value if it is a Tensor; else the AttributeError PyTorch's losses give when they ask a
    non-tensor for its size."""
    if not isinstance(value, Tensor):
        raise AttributeError(f"'{type(value).__name__}' object has no attribute 'size'")
    return value


def _rows(x):
    """Logits (C,), (N, C) or (N, C, d1, ...) as a (M, C) matrix with classes last."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])  # a copy: rows become contiguous


def _unrows(g, shape):
    """The inverse of `_rows` for a gradient."""
    if len(shape) <= 2:
        return g.reshape(shape)
    return np.moveaxis(g.reshape((shape[0],) + shape[2:] + (shape[1],)), -1, 1)


def _composed_rows(x):
    """`_rows` in differentiable ops, for the losses' `composed`."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    return x.movedim(1, -1).reshape(-1, x.shape[1])


def _safe_divide(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 = NaN, like PyTorch
        return a / b


class _ClassIndexLoss(FusedFunction):
    """Shared set-up for losses with class-index targets (target, weight, ignore_index)."""

    def __init__(self, target, weight, ignore_index, reduction, out_shape):
        t = target.reshape(-1)
        self.valid = t != ignore_index
        self.t = np.where(self.valid, t, 0)  # ignored rows point at class 0, with weight 0
        self.weight, self.reduction, self.out_shape = weight, reduction, out_shape

    def _setup(self, dtype):
        """Per-row weights w_t (0 for ignored rows) and row numbers, once the dtype is known."""
        wt = self.valid if self.weight is None else np.where(self.valid, self.weight[self.t], 0)
        self.wt = wt.astype(dtype)
        self.rows = np.arange(self.t.size)

    def _ignored_rows_zero(self, loss):
        """An ignored row's loss is 0, even where its weight 0 meets an infinite -log p (a -inf
        logit at the class it points at): 0 * inf would be NaN, and PyTorch skips such rows."""
        return loss if self.valid.all() else np.where(self.valid, loss, 0).astype(loss.dtype)

    def _reduce(self, loss):
        """loss per row (0 for ignored rows) -> the requested reduction."""
        if self.reduction == "none":
            return loss.reshape(self.out_shape)
        total = loss.sum()
        if self.reduction == "sum":
            return total
        den = self.wt.sum()
        # den = 0 (every kept row has weight 0): NaN, like PyTorch, whose weighted mean of the
        # class terms is then 0 / 0 (label smoothing's part, x / 0 = inf, does not change that)
        return np.asarray(_safe_divide(total, den) if den else np.nan, dtype=loss.dtype)

    def _row_grad_scale(self, gy):
        """dL/dloss_i for every row: the reduction's backward (0 for ignored rows)."""
        if self.reduction == "none":
            g = gy.reshape(-1)
        elif self.reduction == "sum":
            g = np.broadcast_to(gy, self.valid.shape)
        else:
            den = self.wt.sum()
            # den = 0 (every kept row has weight 0): NaN for kept rows, like PyTorch
            g = np.broadcast_to(gy / den if den else np.nan, self.valid.shape)
        return np.where(self.valid, g, 0).astype(gy.dtype, copy=False)

    def _composed_reduce(self, loss):
        """`_ignored_rows_zero`, then `_reduce`, in differentiable ops (for `composed`)."""
        if not self.valid.all():
            loss = where(as_tensor(self.valid), loss, 0.0)
        if self.reduction == "none":
            return loss.reshape(self.out_shape)
        total = loss.sum()
        if self.reduction == "sum":
            return total
        den = self.wt.sum()
        return total / float(den) if den else total * float("nan")  # den = 0: NaN, as forward


class CrossEntropy(_ClassIndexLoss):
    """Cross-entropy from logits with class-index targets (see the module docstring)."""

    def __init__(self, target, weight, ignore_index, reduction, out_shape, label_smoothing):
        super().__init__(target, weight, ignore_index, reduction, out_shape)
        self.eps = label_smoothing

    def forward(self, x):
        x2 = _rows(x)
        self._setup(x2.dtype)
        # (1 - eps) w_t (-log p_t) + eps/C sum_c w_c (-log p_c), 0 for ignored rows
        soft = self.valid * (self.eps / x2.shape[1]) if self.eps else None
        with np.errstate(invalid="ignore"):  # an ignored row's 0 * inf (below)
            loss, self.saved = cross_entropy_forward(
                x2, self.t, (1.0 - self.eps) * self.wt,
                None if soft is None else soft.astype(x2.dtype), self.weight)
        return self._reduce(self._ignored_rows_zero(loss))

    def backward(self, gy):
        # the kernel's weights times g_i = dL/dloss_i (0 for ignored rows)
        g = self._row_grad_scale(gy)
        g_soft = g * (self.eps / self.saved[0].shape[1]) if self.eps else None
        gx = cross_entropy_backward(self.saved, self.t, g * ((1.0 - self.eps) * self.wt), g_soft,
                                    self.weight)
        return _unrows(gx, self.inputs[0].shape)

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        logp = composed_log_softmax(_composed_rows(x), 1)
        loss = -logp[self.rows, self.t] * as_tensor((1.0 - self.eps) * self.wt)
        if self.eps:  # label smoothing: eps / C times the class-weighted sum of -log p
            logp_w = logp.sum(1) if self.weight is None else logp @ as_tensor(self.weight)
            loss = loss - logp_w * (self.eps / logp.shape[1])  # (ignored rows: zeroed below)
        return self._composed_reduce(loss)


class CrossEntropyProbs(FusedFunction):
    """Cross-entropy from logits with class-probability targets (same shape as the input)."""

    def __init__(self, weight, reduction, label_smoothing):
        self.weight, self.reduction, self.eps = weight, reduction, label_smoothing

    def _q(self, t2):
        """The target weights q = w * ((1 - eps) t + eps / C)."""
        n_classes = t2.shape[1]
        q = t2 * (1.0 - self.eps) + self.eps / n_classes if self.eps else t2
        return q * self.weight if self.weight is not None else q

    def forward(self, x, target):
        x2, t2 = _rows(x), _rows(target)
        self.logp, self.saved = log_softmax_forward(x2)
        self.q = self._q(t2)
        loss = -row_sum(self.logp * self.q)  # -sum_c q_c log p_c
        if self.reduction == "none":
            return loss.reshape(x.shape[:1] + x.shape[2:] if x.ndim > 1 else ())
        total = loss.sum()
        if self.reduction == "sum":
            return total
        return np.asarray(_safe_divide(total, loss.size), dtype=loss.dtype)

    def _row_grad_scale(self, gy):
        m = self.logp.shape[0]
        if self.reduction == "none":
            return gy.reshape(-1)
        return np.broadcast_to(_safe_divide(gy, m) if self.reduction == "mean" else gy, (m,))

    def backward(self, gy):
        g = self._row_grad_scale(gy)
        x, target = self.inputs
        gx = gt = None
        if self.needs_input_grad[0]:
            # loss_i = -sum_c q_ic log p_ic: log_softmax's backward with dL/dlog p = -g_i q_i
            gx = _unrows(log_softmax_backward(self.saved, self.q * -g[:, None]), x.shape)
        if self.needs_input_grad[1]:
            # dloss_i/dt_ic = -(1 - eps) w_c log p_ic
            logp = self.logp
            scale = -(1.0 - self.eps) * g
            gt = logp * scale[:, None]
            if self.weight is not None:
                gt *= self.weight
            gt = _unrows(gt, target.shape)
        return gx, gt

    def composed(self, x, target):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        logp, t2 = composed_log_softmax(_composed_rows(x), 1), _composed_rows(target)
        q = t2 * (1.0 - self.eps) + self.eps / t2.shape[1] if self.eps else t2
        if self.weight is not None:
            q = q * as_tensor(self.weight)
        loss = -(logp * q).sum(1)
        if self.reduction == "none":
            return loss.reshape(x.shape[:1] + x.shape[2:] if x.ndim > 1 else ())
        total = loss.sum()
        if self.reduction == "sum":
            return total
        return total / loss.numel() if loss.numel() else total * float("nan")


class NLLLoss(_ClassIndexLoss):
    """loss_i = -w_{t_i} x_{i, t_i} for log-probabilities x."""

    def forward(self, x):
        x2 = _rows(x)
        self._setup(x2.dtype)
        with np.errstate(invalid="ignore"):  # an ignored row's 0 * inf (below)
            loss = -x2[self.rows, self.t] * self.wt
        return self._reduce(self._ignored_rows_zero(loss))

    def backward(self, gy):
        # d loss_i / d x_ic = -w_t [c == t]: one entry per row
        shape = self.inputs[0].shape
        gx = np.zeros((self.t.size, shape[1] if len(shape) > 1 else shape[0]), gy.dtype)
        gx[self.rows, self.t] = -self._row_grad_scale(gy) * self.wt
        return _unrows(gx, shape)

    def composed(self, x):
        """The same in differentiable ops, for higher derivatives (see autograd.engine)."""
        return self._composed_reduce(-_composed_rows(x)[self.rows, self.t] * as_tensor(self.wt))


# ----- argument checks ----------------------------------------------------------------------------
def _check_arguments(op, input, target, weight, ignore_index):
    """PyTorch's TypeErrors for arguments of the wrong kind (`op`: the name its messages use)."""
    for position, name, value in ((1, "input", input), (2, "target", target),
                                  (3, "weight", weight)):
        if value is not None:
            require_tensor(value, op, name, position)
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int | np.integer):
        raise TypeError(f"{op}(): argument 'ignore_index' (position 5) must be int, not "
                        f"{type(ignore_index).__name__}")


def _check_input(x, kernel):
    """Logits of 1 or more dims, floating (`kernel`: what PyTorch's refusal of others names)."""
    if x.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if x.dtype.kind != "f" and x.numel():
        not_implemented_for(x, kernel)


def _check_weight(name, weight, x):
    if weight is None:
        return None
    w = as_tensor(weight)
    n_classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    if w.ndim != 1 or w.shape[0] != n_classes:
        raise RuntimeError(f"weight tensor should be defined either for all {n_classes} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(w.shape)}")
    if w.dtype != x.dtype:
        raise RuntimeError(f"{name}: weight has dtype {dtype_name(w.dtype)} but input has "
                           f"{dtype_name(x.dtype)}; they must match")
    if w.requires_grad:
        raise RuntimeError(f"The function '{name}' is not differentiable with respect to argument "
                           "'weight'. This input cannot have requires_grad True.")
    return w._data


def _check_class_target(name, x, t, ignore_index):
    """Validate class-index targets; return (target array, shape of the 'none' result)."""
    if t.dtype.kind not in "iu":
        kind = "floating point" if t.dtype.kind == "f" else dtype_name(t.dtype)
        raise RuntimeError(
            f"{name}: expected target dtype to be Long or Byte (class indices), but got "
            f"{dtype_name(t.dtype)}; a {kind} target is only valid as class probabilities with "
            f"the input's shape {list(x.shape)}, got target shape {list(t.shape)}")
    if x.ndim == 1:
        expected = ()
    elif x.ndim == 2:
        if t.ndim != 1 or t.shape[0] != x.shape[0]:
            if t.ndim == 1:
                raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target "
                                 f"batch_size ({t.shape[0]}).")
            raise RuntimeError(f"{name}: expected target of shape [{x.shape[0]}] for input of "
                               f"shape {list(x.shape)}, got target shape {list(t.shape)}")
        expected = t.shape
    else:
        expected = x.shape[:1] + x.shape[2:]
    if t.shape != expected and not (x.ndim == 1 and t.shape == (1,)):
        raise RuntimeError(f"{name}: Expected target size {list(expected)}, got {list(t.shape)} "
                           f"(input shape {list(x.shape)}: classes are dim {int(x.ndim > 1)})")
    n_classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    ta = t._data.astype(np.int64, copy=False)
    bad = (ta != ignore_index) & ((ta < 0) | (ta >= n_classes))
    if bad.any():
        raise IndexError(f"Target {ta[bad].flat[0]} is out of bounds: {name} expects class "
                         f"indices in [0, {n_classes - 1}] for {n_classes} classes (or "
                         f"ignore_index={ignore_index})")
    return ta, expected


# ----- wrappers -----------------------------------------------------------------------------------
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits `input` and `target` (PyTorch's F.cross_entropy).

    input: (C,), (N, C) or (N, C, d1, ...) unnormalised scores. target: class indices of shape
    (), (N) or (N, d1, ...) (any integer dtype), or class probabilities of the input's shape
    (float; cast to the input's dtype). `weight` (C,) rescales each class (no gradient). Rows whose
    target equals `ignore_index` add nothing. `label_smoothing` mixes the target with the uniform
    distribution.
    """
    _check_arguments("cross_entropy_loss", input, target, weight, ignore_index)
    if not isinstance(label_smoothing, numbers.Real):
        raise TypeError(f"cross_entropy_loss(): argument 'label_smoothing' (position 6) must be "
                        f"float, not {type(label_smoothing).__name__}")
    reduction = _reduction(size_average, reduce, reduction)
    x, t = input, target
    if x.shape == t.shape and t.dtype.kind != "f":  # the input's shape: class probabilities
        raise RuntimeError(f"Expected floating point type for target with class probabilities, "
                           f"got {_TENSOR_TYPES[t.dtype.name]}")
    if x.ndim == 0:  # with a floating target: the class dim 1 is missing
        raise IndexError("Dimension specified as 1 but tensor has no dimensions")
    _check_input(x, f"log_softmax{'_lastdim' if x.ndim <= 2 else ''}_kernel_impl")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing:g}")
    w = _check_weight("cross_entropy", weight, x)
    if t.shape == x.shape:  # class probabilities
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return CrossEntropyProbs(w, reduction, float(label_smoothing))(x, t.to(x.dtype))
    ta, out_shape = _check_class_target("cross_entropy", x, t, ignore_index)
    return CrossEntropy(ta, w, ignore_index, reduction, out_shape, float(label_smoothing))(x)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of class-index `target` under log-probabilities `input`.

    loss_i = -weight[t_i] * input[i, t_i]; 'mean' divides by the summed weights of the
    non-ignored rows. Shapes as in `cross_entropy` (class indices only).
    """
    _check_arguments("nll_loss_nd", input, target, weight, ignore_index)
    reduction = _reduction(size_average, reduce, reduction)
    x, t = input, target
    _check_input(x, "nll_loss_out_frame" if x.ndim <= 2 else "nll_loss2d_forward_out_frame")
    w = _check_weight("nll_loss", weight, x)
    ta, out_shape = _check_class_target("nll_loss", x, t, ignore_index)
    return NLLLoss(ta, w, ignore_index, reduction, out_shape)(x)


# ----- elementwise losses composed from primitive ops ---------------------------------------------
def _require_floating_pair(x, t, kernel):
    """PyTorch's refusal when input and target promote to an integer or bool dtype."""
    if x.dtype.kind != "f" and t.dtype.kind != "f":
        name = _TENSOR_TYPES.get(x.dtype.name, x.dtype.name)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """L1 loss with its kink rounded: with d = |input - target|, d^2 / (2 beta) where d < beta,
    d - beta / 2 elsewhere (both parts meet with slope 1 at d = beta). beta=0 is l1_loss."""
    x, t = _require_size(input), _require_size(target)
    _warn_if_broadcast(x, t)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _require_floating_pair(x, t, "smooth_l1_cpu")
    d = x - t
    ad = d.abs()
    if beta == 0:  # d^2 / (2 beta) would divide by zero (and its NaN leak into the gradient)
        return _reduce(ad, reduction)
    return _reduce(where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """With d = |input - target|: d^2 / 2 where d < delta, delta (d - delta / 2) elsewhere:
    quadratic near 0, linear (less sensitive to outliers) far out; delta * smooth_l1_loss with
    beta = delta. `weight` (the input's shape) scales each element's loss before the reduction."""
    x, t = _require_size(input), _require_size(target)
    _warn_if_broadcast(x, t)
    if weight is None:
        reduction = _reduction(None, None, reduction)
    else:
        weight = as_tensor(weight)
        if weight.shape != x.shape:
            raise ValueError("Weights and input must have the same size.")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _require_floating_pair(x, t, "huber_cpu")
    d = x - t
    ad = d.abs()
    loss = where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
    if weight is None:
        return _reduce(loss, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                         "'sum'.")
    return _reduce(loss * weight, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence KL(target || q) for log-probabilities `input` = log q:
    pointwise target (log target - input), taken as 0 where target = 0 (t log t -> 0); with
    `log_target=True` the target is given as log-probabilities too: exp(t) (t - input).

    reduction 'batchmean' (sum / batch size) is the true KL divergence per sample; 'mean' divides
    by the number of elements as well, and warns so, as PyTorch does.
    """
    x, t = as_tensor(input), as_tensor(target)
    if size_average is None and reduce is None and reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    # 'batchmean' is the sum, divided below (also after legacy flags, which win, as in PyTorch)
    how = _reduction(size_average, reduce, "sum" if reduction == "batchmean" else reduction)
    if x.dtype.kind != "f" or t.dtype.kind != "f":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        loss = t.exp() * (t - x)
    else:
        # xlogy(t, t) - t x: t log t is 0 at t = 0 (its limit); the gradient there, like
        # PyTorch's, is NaN (d(t log t)/dt = log t + 1 is -inf at 0)
        loss = where(t == 0, 0.0, t * t.log()) - t * x
    loss = _reduce(loss, how)
    if reduction == "batchmean" and x.ndim != 0:
        loss = loss / x.shape[0]
    return loss


__all__ = ["cross_entropy", "nll_loss", "smooth_l1_loss", "huber_loss", "kl_div"]
