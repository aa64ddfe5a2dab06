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
primitive ops, like mse_loss: autograd derives their backward. ctc_loss, last, is one Function
(the forward-backward algorithm over alignments, see CtcLoss) plus the reduction in ops.
"""

import numbers
import warnings

import numpy as np

from ...autograd.function import _TENSOR_TYPES, FusedFunction
from ...dtypes import dtype_name
from ...kernels.cross_entropy import cross_entropy_backward, cross_entropy_forward
from ...kernels.rows import row_sum
from ...kernels.softmax import log_softmax_backward, log_softmax_forward
from ...ops._util import not_implemented_for, renamed, require_tensor
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

    backward_reads_inputs = False  # backward reads what forward kept (the softmax's parts)

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
        # PyTorch composes it: -(log_softmax(x) * q).sum(...), divided by N for 'mean'
        self.grad_fn_name = "DivBackward1" if reduction == "mean" else "NegBackward0"

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
        kernel = "nll_loss_forward" if x.ndim <= 2 else "nll_loss2d_forward"  # (PyTorch's)
        raise RuntimeError(f"The function '{kernel}' is not differentiable with respect to "
                           "argument 'weight'. This input cannot have requires_grad True.")
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
    if t.shape == x.shape and weight is not None and as_tensor(weight).requires_grad:
        _check_weight("cross_entropy", as_tensor(weight).detach(), x)
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_probs_composed(x, t.to(x.dtype), as_tensor(weight), reduction,
                                             float(label_smoothing))
    w = _check_weight("cross_entropy", weight, x)
    if t.shape == x.shape:  # class probabilities
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return CrossEntropyProbs(w, reduction, float(label_smoothing))(x, t.to(x.dtype))
    ta, out_shape = _check_class_target("cross_entropy", x, t, ignore_index)
    loss = CrossEntropy(ta, w, ignore_index, reduction, out_shape, float(label_smoothing))
    loss.grad_fn_name = _nll_node_name(x.ndim, reduction, label_smoothing)
    return loss(x)


def _nll_node_name(ndim, reduction, label_smoothing=0.0):
    """PyTorch's node for a loss of class indices: nll_loss's (after log_softmax, for
    cross_entropy), its 2-D kernel's for inputs of 3+ dims (those not 4-D are viewed to 4-D, and
    an unreduced loss viewed back); with label smoothing, the add of the two parts."""
    if label_smoothing:
        return "AddBackward0"
    if ndim <= 2:
        return "NllLossBackward0"
    return "ViewBackward0" if ndim != 4 and reduction == "none" else "NllLoss2DBackward0"


def _cross_entropy_probs_composed(x, t, weight, reduction, label_smoothing):
    """Cross-entropy with class-probability targets and a weight that requires grad, in
    differentiable ops as PyTorch writes it: -(log_softmax(x) * t * w), 'mean' dividing the sum by
    the number of rows (not by the weights). t is first mixed with the uniform distribution by
    `label_smoothing`."""
    class_dim = 0 if x.ndim == 1 else 1
    n_classes = x.shape[class_dim]
    if label_smoothing > 0:
        t = t * (1 - label_smoothing) + label_smoothing / n_classes
    w = weight.reshape((-1,) + (1,) * (x.ndim - class_dim - 1))  # broadcast over the class dim
    loss = -(composed_log_softmax(x, class_dim) * t * w)
    if reduction == "none":
        return loss.sum(class_dim)
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (x.numel() // n_classes) if x.numel() else loss.sum() * float("nan")


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
    loss = NLLLoss(ta, w, ignore_index, reduction, out_shape)
    loss.grad_fn_name = _nll_node_name(x.ndim, reduction)
    return loss(x)


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
    loss = _reduce(where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta), reduction)
    return renamed(loss, "SmoothL1LossBackward0")  # (one node in PyTorch)


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
        return renamed(_reduce(loss, reduction), "HuberLossBackward0")  # (one node in PyTorch)
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


# ----- CTC loss -----------------------------------------------------------------------------------
def _log_add(*terms):
    """log(sum(exp(terms))) elementwise, as PyTorch's CTC kernel computes it: shifted by the largest
    term, with a shift of 0 where every term is -inf (so the result is -inf, not NaN)."""
    m = np.maximum.reduce(terms) if len(terms) > 1 else terms[0]
    m = np.where(m == -np.inf, 0, m).astype(m.dtype, copy=False)
    return np.log(sum(np.exp(t - m) for t in terms)) + m


def _shifted(a, k):
    """a (N, S') moved k places along the extended labels (right for k > 0), -inf shifted in."""
    out = np.full_like(a, -np.inf)
    if k > 0:
        out[:, k:] = a[:, :-k]
    else:
        out[:, :k] = a[:, -k:]
    return out


class CtcLoss(FusedFunction):
    """The negative log-likelihood of each target under log_probs (T, N, C), summed over every
    alignment (Graves et al. 2006), by the forward (alpha) recursion in log space.

    The target l of length L is extended with blanks: l' = (blank, l_1, blank, ..., l_L, blank),
    S' = 2L + 1 states. alpha_t(s), the log-probability of the paths that read t + 1 frames and
    sit in state s, is

        alpha_t(s) = logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1), alpha_{t-1}(s-2)) + lp_t(l'_s)

    with the s-2 term only when l'_s != l'_{s-2} (a jump over a blank between two different
    labels). The loss is -logsumexp of alpha at the last frame in the last two states. Every
    sample of the batch and every state is one NumPy array; the loop runs over time only.
    """

    grad_fn_name = "CtcLossBackward0"

    def __init__(self, labels, input_lengths, target_lengths, blank, zero_infinity):
        self.input_lengths, self.target_lengths = input_lengths, target_lengths
        self.blank, self.zero_infinity = blank, zero_infinity
        n, s_ext = labels.shape[0], 2 * labels.shape[1] + 1
        self.ext = np.full((n, s_ext), blank, np.int64)  # l' (blank where s is even)
        self.ext[:, 1::2] = labels
        s = np.arange(s_ext)
        self.valid = s <= 2 * target_lengths[:, None]  # the states each sample has
        self.skip = np.zeros((n, s_ext), bool)  # may state s be reached from s - 2?
        self.skip[:, 2:] = self.ext[:, 2:] != self.ext[:, :-2]
        self.last = self.valid & (s >= 2 * target_lengths[:, None] - 1)  # the final states

    def forward(self, lp):
        n_t, n = lp.shape[:2]
        # lp_t(l'_s) for every sample and state, -inf past a sample's last state
        self.lpe = np.where(self.valid, lp[:, np.arange(n)[:, None], self.ext], -np.inf)
        alpha = np.full_like(self.lpe, -np.inf)
        alpha[0, :, :2] = self.lpe[0, :, :2]  # a path starts with a blank or the first label
        for t in range(1, n_t):
            a = alpha[t - 1]
            jump = np.where(self.skip, _shifted(a, 2), -np.inf)
            alpha[t] = _log_add(a, _shifted(a, 1), jump) + self.lpe[t]
        il, tl = self.input_lengths, self.target_lengths
        final = alpha[np.maximum(il - 1, 0), np.arange(n)]  # (N, S') at each sample's last frame
        end = final[np.arange(n), 2 * tl]
        before = np.where(tl > 0, final[np.arange(n), np.maximum(2 * tl - 1, 0)], -np.inf)
        nll = -_log_add(end, before)
        # no frames: the empty target has probability 1, any other 0
        nll = np.where(il == 0, np.where(tl == 0, 0.0, np.inf), nll).astype(lp.dtype)
        self.alpha, self.nll = alpha, nll
        return nll

    def backward(self, gy):
        lp = self.inputs[0]._data
        n_t, n, n_c = lp.shape
        il = self.input_lengths
        # beta_t(s), the log-probability of reading frames t.. from state s to the end: the same
        # recursion run backwards, started at each sample's last frame in its final states
        beta = np.full_like(self.lpe, -np.inf)
        skip_next = np.zeros_like(self.skip)  # may state s + 2 be reached from s?
        skip_next[:, :-2] = self.skip[:, 2:]
        for t in range(n_t - 1, -1, -1):
            start = (t == il - 1)[:, None] & self.last
            beta[t] = np.where(start, self.lpe[t], -np.inf)
            if t < n_t - 1:
                b = beta[t + 1]
                jump = np.where(skip_next, _shifted(b, -2), -np.inf)
                step = _log_add(b, _shifted(b, -1), jump) + self.lpe[t]
                beta[t] = np.where((t < il - 1)[:, None], step, beta[t])
        # log sum_{s: l'_s = c} alpha_t(s) beta_t(s) for every frame, sample and class c: a
        # grouped logsumexp (the largest term of each group, found by maximum.at, shifted out)
        ab = (self.alpha + beta).reshape(-1)
        group = ((np.arange(n_t)[:, None, None] * n + np.arange(n)[:, None]) * n_c
                 + self.ext).reshape(-1)
        peak = np.full(n_t * n * n_c, -np.inf, lp.dtype)
        np.maximum.at(peak, group, ab)
        peak = np.where(peak == -np.inf, 0, peak).astype(lp.dtype)
        total = np.bincount(group, np.exp(ab - peak[group]), minlength=peak.size)
        collected = (np.log(total).astype(lp.dtype) + peak).reshape(n_t, n, n_c)
        # dloss/dlp_t(c) = p_t(c) - (sum over states of label c of alpha beta) / (P p_t(c)): the
        # softmax-style gradient of eq. (16) of Graves et al. (log_probs taken as free inputs)
        g = (np.exp(lp) - np.exp(collected + self.nll[:, None] - lp)) * gy[:, None]
        keep = np.arange(n_t)[:, None] < il  # frames past a sample's length get 0
        if self.zero_infinity:
            keep = keep & (self.nll != np.inf)
        return np.where(keep[:, :, None], g, 0).astype(lp.dtype)


def _lengths(value, name, batch):
    """Input or target lengths (a tensor of integers or a sequence of ints) as an int64 array."""
    if isinstance(value, Tensor):
        if value.dtype.kind not in "iu":
            raise RuntimeError(f"{name} must be integral")
        lengths = value._data.reshape(-1).astype(np.int64)
    else:
        lengths = np.asarray([int(v) for v in value], np.int64)
    if lengths.size != batch:
        raise RuntimeError(f"{name} must be of size batch_size")
    return lengths


def _ctc_type_error(args):
    got = ", ".join("Tensor" if isinstance(a, Tensor) else type(a).__name__ for a in args)
    return TypeError(
        f"ctc_loss() received an invalid combination of arguments - got ({got}), but expected "
        "one of: (Tensor log_probs, Tensor targets, tuple of ints input_lengths, tuple of ints "
        "target_lengths, int blank = 0, int reduction = at::Reduction::Mean, bool zero_infinity "
        "= False) or (Tensor log_probs, Tensor targets, Tensor input_lengths, Tensor "
        "target_lengths, int blank = 0, int reduction = at::Reduction::Mean, bool zero_infinity "
        "= False)")


def _is_int_sequence(value):
    return isinstance(value, list | tuple) and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in value)


def _ctc_check_arguments(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    """PyTorch's TypeError when the arguments fit neither of ctc_loss's signatures."""
    args = (log_probs, targets, input_lengths, target_lengths, blank, 0, zero_infinity)
    lengths_as_tensors = all(isinstance(v, Tensor) for v in (input_lengths, target_lengths))
    lengths_as_ints = all(_is_int_sequence(v) for v in (input_lengths, target_lengths))
    if (not isinstance(log_probs, Tensor) or not isinstance(targets, Tensor)
            or not (lengths_as_tensors or lengths_as_ints)
            or isinstance(blank, bool) or not isinstance(blank, int | np.integer)
            or not isinstance(zero_infinity, bool | np.bool_)):
        raise _ctc_type_error(args)


def _ctc_labels(targets, input_lengths, target_lengths, n_classes, batch, n_frames):
    """Check the targets and lengths as PyTorch's ctc_loss_allocate_outputs does, in its order;
    return the targets as a padded (N, max target length) int64 array."""
    where = " (while checking arguments for ctc_loss_allocate_outputs)"
    if not 1 <= targets.ndim <= 2:
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {targets.ndim}-dimensional tensor "
                           f"for argument #2 'targets'{where}")
    il = _lengths(input_lengths, "input_lengths", batch)
    tl = _lengths(target_lengths, "target_lengths", batch)
    for length in tl:
        if length < 0:
            raise RuntimeError(f"Expected target_lengths to have value at least 0, but got value "
                               f"{length}{where}")
    t = targets._data.astype(np.int64)
    longest = int(tl.max(initial=0))
    if targets.ndim == 1:  # concatenated: sample b's target follows sample b - 1's
        if t.shape[0] != tl.sum():
            raise RuntimeError(f"Expected tensor to have size {tl.sum()} at dimension 0, but got "
                               f"size {t.shape[0]} for argument #2 'targets'{where}")
        starts = np.cumsum(tl) - tl
        pos = np.minimum(starts[:, None] + np.arange(longest), max(t.shape[0] - 1, 0))
        labels = t[pos]
    else:
        if t.shape[0] != batch:
            raise RuntimeError(f"Expected tensor to have size {batch} at dimension 0, but got "
                               f"size {t.shape[0]} for argument #2 'targets'{where}")
        if t.shape[1] < longest:
            raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension 1, "
                               f"but got size {t.shape[1]} for argument #2 'targets'{where}")
        labels = t[:, :longest]
    for length in il:
        if length < 0:
            raise RuntimeError(f"Expected input_lengths to have value at least 0, but got value "
                               f"{length}{where}")
        if length > n_frames:
            raise RuntimeError(f"Expected input_lengths to have value at most {n_frames}, but got "
                               f"value {length}{where}")
    used = np.arange(longest) < tl[:, None]
    labels = np.where(used, labels, 0)  # the padding past each target is never read
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        raise IndexError(f"Target {labels[bad][0]} is out of bounds: ctc_loss expects labels in "
                         f"[0, {n_classes - 1}] for {n_classes} classes")
    return labels, il, tl


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """The Connectionist Temporal Classification loss (PyTorch's F.ctc_loss): the negative
    log-probability of each target sequence, summed over all its alignments to the inputs.

    log_probs: (T, N, C) (or (T, C) for one sample) log-probabilities, e.g. from log_softmax.
    targets: padded (N, S) or the targets concatenated (sum(target_lengths),); any dtype, read
    as int64. input_lengths / target_lengths: (N,) integer tensors or sequences of ints.
    'mean' divides each loss by its target length (at least 1), then averages over the batch.
    zero_infinity: impossible alignments (an infinite loss) give 0 and no gradient.
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    _ctc_check_arguments(log_probs, targets, input_lengths, target_lengths, blank,
                         zero_infinity)
    batched = log_probs.ndim == 3
    x = log_probs if batched else log_probs.unsqueeze(1)
    if x.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for '
                                  f"'{_TENSOR_TYPES.get(x.dtype.name, x.dtype.name)}'")
    if x.numel() == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    if x.ndim != 3:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {x.ndim}-dimensional tensor "
                           "for argument #1 'log_probs' (while checking arguments for "
                           "ctc_loss_allocate_outputs)")
    n_frames, batch, n_classes = x.shape
    if not 0 <= blank < n_classes:
        raise RuntimeError("blank must be in label range")
    labels, il, tl = _ctc_labels(targets, input_lengths, target_lengths, n_classes, batch,
                                 n_frames)
    loss = CtcLoss(labels, il, tl, int(blank), bool(zero_infinity))(x)
    if zero_infinity:
        loss = where(loss == float("inf"), 0.0, loss)
    if reduction == "mean":
        return (loss / as_tensor(np.maximum(tl, 1).astype(loss.dtype))).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.squeeze(0)


__all__ = ["cross_entropy", "nll_loss", "smooth_l1_loss", "huber_loss", "kl_div", "ctc_loss"]
