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

`cross_entropy_composed` / `nll_loss_composed` compute the same from primitive ops (reference).
"""

import numpy as np

from ...autograd.function import FusedFunction
from ...dtypes import dtype_name
from ...kernels.rows import row_sum
from ...tensor import Tensor, as_tensor
from .softmax import exact_rows, log_softmax_composed


def _reduction(size_average, reduce, reduction):
    """PyTorch's legacy `size_average` / `reduce` flags, mapped onto `reduction` (checked).
    Shared by every loss, mse_loss included."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else "mean" if size_average else "sum"
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


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

    def _reduce(self, loss):
        """loss per row (0 for ignored rows) -> the requested reduction."""
        if self.reduction == "none":
            return loss.reshape(self.out_shape)
        total = loss.sum()
        if self.reduction == "sum":
            return total
        return np.asarray(_safe_divide(total, self.wt.sum()), dtype=loss.dtype)

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


class CrossEntropy(_ClassIndexLoss):
    """Cross-entropy from logits with class-index targets (see the module docstring)."""

    def __init__(self, target, weight, ignore_index, reduction, out_shape, label_smoothing):
        super().__init__(target, weight, ignore_index, reduction, out_shape)
        self.eps = label_smoothing

    def forward(self, x):
        x2 = _rows(x)
        self._setup(x2.dtype)
        n_classes = x2.shape[1]
        e, s, m = exact_rows(x2)  # e = exp(x - m), s = sum(e), m = row max: lse = m + log(s)
        m, log_s = m[:, 0], np.log(s)
        # (1 - eps) w_t (-log p_t), with -log p_t = log(s) - (x_t - m) (exact near 0)
        loss = (log_s - (x2[self.rows, self.t] - m)) * ((1.0 - self.eps) * self.wt)
        if self.eps:
            # eps/C sum_c w_c (-log p_c) = eps/C (W log(s) - sum_c w_c (x_c - m)), W = sum_c w_c
            w = self.weight
            xw = row_sum(x2) if w is None else x2 @ w
            big_w = n_classes if w is None else w.sum()
            smooth = (log_s * big_w - (xw - m * big_w)) * (self.eps / n_classes)
            loss += np.where(self.valid, smooth, 0)
        self.e, self.s = e, s  # softmax = e / s, for backward
        return self._reduce(loss)

    def backward(self, gy):
        # gx_ic = g_i (Q_i p_ic - q_ic), q_ic = (1-eps) w_t [c == t] + eps/C w_c, Q_i = sum_c q_ic
        g = self._row_grad_scale(gy)
        n_classes = self.e.shape[1]
        hard = g * ((1.0 - self.eps) * self.wt)  # g_i (1-eps) w_t
        big_q = hard.copy()
        if self.eps:
            big_w = n_classes if self.weight is None else self.weight.sum()
            big_q += g * (self.eps / n_classes * big_w)
        gx = self.e * (big_q / self.s)[:, None]  # g_i Q_i p_ic
        gx[self.rows, self.t] -= hard
        if self.eps:  # the smoothing part of q: eps/C w_c on every class
            smooth = g * (self.eps / n_classes)
            gx -= smooth[:, None] if self.weight is None else np.outer(smooth, self.weight)
        return _unrows(gx, self.inputs[0].shape)


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
        e, s, m = exact_rows(x2)
        z = x2 - m  # log p = z - log(s)
        log_s = np.log(s)
        q = self._q(t2)
        big_q = row_sum(q)
        loss = log_s * big_q - row_sum(z * q)  # -sum_c q_c log p_c
        self.e, self.s, self.log_s, self.m, self.q, self.big_q = e, s, log_s, m, q, big_q
        if self.reduction == "none":
            return loss.reshape(x.shape[:1] + x.shape[2:] if x.ndim > 1 else ())
        total = loss.sum()
        if self.reduction == "sum":
            return total
        return np.asarray(_safe_divide(total, loss.size), dtype=loss.dtype)

    def _row_grad_scale(self, gy):
        m = self.s.shape[0]
        if self.reduction == "none":
            return gy.reshape(-1)
        return np.broadcast_to(_safe_divide(gy, m) if self.reduction == "mean" else gy, (m,))

    def backward(self, gy):
        g = self._row_grad_scale(gy)
        x, target = self.inputs
        gx = gt = None
        if self.needs_input_grad[0]:
            # gx_ic = g_i (Q_i p_ic - q_ic)
            gx = self.e * (g * self.big_q / self.s)[:, None]
            gx -= self.q * g[:, None]
            gx = _unrows(gx, x.shape)
        if self.needs_input_grad[1]:
            # dloss_i/dt_ic = -(1 - eps) w_c log p_ic,  log p = x - lse
            logp = (_rows(x.data) - self.m) - self.log_s[:, None]
            scale = -(1.0 - self.eps) * g
            gt = logp * scale[:, None]
            if self.weight is not None:
                gt *= self.weight
            gt = _unrows(gt, target.shape)
        return gx, gt


class NLLLoss(_ClassIndexLoss):
    """loss_i = -w_{t_i} x_{i, t_i} for log-probabilities x."""

    def forward(self, x):
        x2 = _rows(x)
        self._setup(x2.dtype)
        return self._reduce(-x2[self.rows, self.t] * self.wt)

    def backward(self, gy):
        # d loss_i / d x_ic = -w_t [c == t]: one entry per row
        shape = self.inputs[0].shape
        gx = np.zeros((self.t.size, shape[1] if len(shape) > 1 else shape[0]), gy.dtype)
        gx[self.rows, self.t] = -self._row_grad_scale(gy) * self.wt
        return _unrows(gx, shape)


# ----- argument checks ----------------------------------------------------------------------------
def _check_input(name, x):
    if x.ndim == 0:
        raise ValueError(f"{name}: expected input with 1 or more dimensions (got 0); input holds "
                         "the scores of C classes: (C,), (N, C) or (N, C, d1, ...)")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point input, got {dtype_name(x.dtype)}")


def _check_weight(name, weight, x):
    if weight is None:
        return None
    w = as_tensor(weight)
    n_classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    if w.ndim != 1 or w.shape[0] != n_classes:
        raise RuntimeError(f"{name}: weight tensor should be defined either for all {n_classes} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(w.shape)}")
    if w.dtype != x.dtype:
        raise RuntimeError(f"{name}: weight has dtype {dtype_name(w.dtype)} but input has "
                           f"{dtype_name(x.dtype)}; they must match")
    if w.requires_grad:
        raise RuntimeError(f"The function '{name}' is not differentiable with respect to argument "
                           "'weight'. This input cannot have requires_grad True.")
    return w.data


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
    ta = t.data.astype(np.int64, copy=False)
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
    reduction = _reduction(size_average, reduce, reduction)
    x, t = as_tensor(input), as_tensor(target)
    _check_input("cross_entropy", x)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    w = _check_weight("cross_entropy", weight, x)
    if t.dtype.kind == "f" and t.shape == x.shape:  # class probabilities
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
    reduction = _reduction(size_average, reduce, reduction)
    x, t = as_tensor(input), as_tensor(target)
    _check_input("nll_loss", x)
    w = _check_weight("nll_loss", weight, x)
    ta, out_shape = _check_class_target("nll_loss", x, t, ignore_index)
    return NLLLoss(ta, w, ignore_index, reduction, out_shape)(x)


# ----- reference implementations from primitive ops -----------------------------------------------
def _onehot_constant(ta, x, ignore_index, weight):
    """A constant (N, C, ...) array: w_t at [i, t_i] for non-ignored rows, else 0 (gather as a
    product), plus the per-row weights w_t (0 for ignored rows)."""
    class_dim = 1 if x.ndim > 1 else 0
    n_classes = x.shape[class_dim]
    valid = ta != ignore_index
    safe = np.where(valid, ta, 0)
    wt = np.where(valid, 1.0 if weight is None else weight[safe], 0.0).astype(x.dtype)
    onehot = (np.arange(n_classes).reshape((-1,) + (1,) * (x.ndim - 1 - class_dim))
              == np.expand_dims(safe, class_dim))
    return Tensor._make(onehot * np.expand_dims(wt, class_dim)), wt, valid


def _class_view(w, x):
    """weight (C,) shaped to broadcast along the class dim of x."""
    return Tensor._make(w.reshape((-1,) + (1,) * (x.ndim - 2)) if x.ndim > 1 else w)


def nll_loss_composed(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """nll_loss from primitive ops (mul, sum, div): the reference for `nll_loss`."""
    reduction = _reduction(None, None, reduction)
    x, t = as_tensor(input), as_tensor(target)
    w = _check_weight("nll_loss", weight, x)
    ta, _ = _check_class_target("nll_loss", x, t, ignore_index)
    if x.ndim == 1:
        ta = ta.reshape(())
    onehot, wt, _ = _onehot_constant(ta, x, ignore_index, w)
    loss = -(x * onehot).sum(1 if x.ndim > 1 else 0)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / float(wt.sum())


def cross_entropy_composed(input, target, weight=None, ignore_index=-100, reduction="mean",
                           label_smoothing=0.0):
    """cross_entropy as PyTorch composes it: log_softmax, nll_loss, then the smoothing term."""
    reduction = _reduction(None, None, reduction)
    x, t = as_tensor(input), as_tensor(target)
    class_dim = 1 if x.ndim > 1 else 0
    n_classes = x.shape[class_dim]
    w = _check_weight("cross_entropy", weight, x)
    logp = log_softmax_composed(x, class_dim)
    eps = label_smoothing
    if t.dtype.kind == "f" and t.shape == x.shape:  # probabilities
        tt = t.to(x.dtype)
        if eps:
            tt = tt * (1 - eps) + eps / n_classes
        if w is not None:
            tt = tt * _class_view(w, x)
        per_row = -(logp * tt).sum(class_dim)
        if reduction == "none":
            return per_row
        return per_row.sum() if reduction == "sum" else per_row.sum() / (x.numel() / n_classes)
    nll = nll_loss_composed(logp, t, weight, ignore_index, reduction)
    if not eps:
        return nll
    ta, _ = _check_class_target("cross_entropy", x, t, ignore_index)
    _, wt, valid = _onehot_constant(ta.reshape(()) if x.ndim == 1 else ta, x, ignore_index, w)
    wl = logp * _class_view(w, x) if w is not None else logp
    smooth = -wl.sum(class_dim) * Tensor._make(valid.astype(x.dtype))
    if reduction == "sum":
        smooth = smooth.sum()
    elif reduction == "mean":
        smooth = smooth.sum() / float(wt.sum())
    return nll * (1 - eps) + smooth * (eps / n_classes)


__all__ = ["cross_entropy", "nll_loss"]
