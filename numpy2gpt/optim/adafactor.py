"""Adafactor (Shazeer & Stern), with PyTorch's update arithmetic (its single-tensor loop).

Adam's second moment costs as much memory as the parameter. Adafactor keeps, for a parameter of
two or more dimensions, only the running means of g^2 over its rows and over its columns (the
last two dimensions), and rebuilds the full estimate from them as a rank-one product:

    R = beta2 R + (1 - beta2) mean(g^2, last dim)            (row_var, shape [..., m, 1])
    C = beta2 C + (1 - beta2) mean(g^2, second-last dim)     (col_var, shape [..., 1, n])
    V = R C / max(mean(R), eps1)                             (shape [..., m, n])
A vector (or a 0-d parameter) keeps its full running mean V of g^2 (variance). Then

    U = g / sqrt(max(V, eps1^2))
    x -= alpha U / max(1, RMS(U) / d)                        (update clipping at threshold d)
with no first moment. The averaging weight grows with the step t, 1 - beta2_t = t^beta2_decay
(so the first step takes g^2 whole), and the step size is relative to the parameter's own RMS:
alpha = max(eps2, RMS(x)) min(lr, 1 / sqrt(t)). weight_decay is decoupled, as AdamW's: x shrinks
by (1 - lr weight_decay) before the update.
"""

import numpy as np

from ..tensor import Tensor
from .more import _lerp_, _PerParameter

__all__ = ["Adafactor"]


def _norm(a):
    """The Euclidean norm of an array's elements, computed in its dtype, as a Python float."""
    return float(np.sqrt(np.sum(a * a)))


def _factored_shapes(shape):
    """The shapes of a parameter's row and column factors: its last, then its second-last,
    dimension reduced to 1."""
    return (*shape[:-1], 1), (*shape[:-2], 1, shape[-1])


class Adafactor(_PerParameter):
    """Adafactor: Adam-like per-coordinate step sizes from a factored second moment (sublinear
    memory), relative step sizes and update clipping; see the module's docstring."""

    _load_defaults = dict(foreach=None)
    _required_state = ("step",)

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _check_sparse_grads(self, group):
        """PyTorch's error, before any update of the group, for a sparse gradient."""
        if any(p.grad is not None and p.grad.is_sparse for p in group["params"]):
            raise RuntimeError("Adafactor does not support sparse gradients")

    def _init_state(self, p, group, state):
        """The step count, then zeros in the parameter's dtype: the row and column factors (two
        or more dimensions) or the full variance (a vector)."""
        super()._init_state(p, group, state)
        if p.ndim > 1:
            for key, shape in zip(("row_var", "col_var"), _factored_shapes(p.shape)):
                state[key] = Tensor._make(np.zeros(shape, dtype=p.dtype))
        else:
            self._state_array(state, "variance", p, create=True)

    def load_state_dict(self, state_dict):
        """As Optimizer's; the row and column factors, which are not shaped like their
        parameters, are checked against the factors' shapes and loaded in the parameter's
        dtype (a bad one leaves the optimizer as it was)."""
        state_dict = state_dict.copy()
        plain = {idx: {k: v for k, v in entry.items() if k not in ("row_var", "col_var")}
                 for idx, entry in state_dict["state"].items()}
        before = self.state, self.param_groups
        super().load_state_dict({**state_dict, "state": plain})
        try:
            for g, (mine, saved) in enumerate(zip(self.param_groups,
                                                  state_dict["param_groups"])):
                for i, (p, idx) in enumerate(zip(mine["params"], saved["params"])):
                    entry = state_dict["state"].get(idx, state_dict["state"].get(str(idx), {}))
                    self._load_factors(p, entry, f"parameter {i} of group {g}")
        except Exception:
            self.state, self.param_groups = before
            raise

    def _load_factors(self, p, entry, where):
        """Put the saved row and column factors of `entry` in p's state."""
        shapes = _factored_shapes(p.shape) if p.ndim > 1 else (None, None)
        for key, shape in zip(("row_var", "col_var"), shapes):
            if key not in entry:
                continue
            arr = np.asarray(entry[key]._data if isinstance(entry[key], Tensor) else entry[key])
            if arr.shape != shape:
                raise ValueError(f"loaded state dict has '{key}' of shape {list(arr.shape)} for "
                                 f"{where}, which has shape {list(p.shape)}: the state dict is "
                                 "from another model's optimizer")
            self.state[p][key] = Tensor._make(arr.astype(p.dtype, copy=True))

    def _step(self, p, g, group, state, step):
        x = p._data
        lr = float(group["lr"])
        eps1, eps2 = group["eps"]
        if eps1 is None:  # the machine epsilon of the group's first parameter with a gradient
            first = next(q for q in group["params"] if q.grad is not None)
            eps1 = float(np.finfo(first._data.dtype).eps)
        if group["maximize"]:
            g = -g
        one_minus_beta2 = step ** group["beta2_decay"]
        rho = min(lr, 1 / (step ** 0.5))  # the relative step size
        # the step size relative to the RMS of x (before the weight decay, as in PyTorch)
        alpha = max(eps2, _norm(x) / (x.size ** 0.5)) * rho
        if group["weight_decay"] != 0:
            x *= 1 - lr * group["weight_decay"]
        if g.ndim > 1:
            missing = "row_var and col_var should be defined when grad is multidimensional"
            row_var, col_var = (_buffer(state, key, missing) for key in ("row_var", "col_var"))
            # mean(g^2) over a row, as PyTorch's norm(g, dim=-1)^2 / n
            row_mean = np.sqrt(np.sum(g * g, axis=-1, keepdims=True))
            _lerp_(row_var, row_mean * row_mean / g.shape[-1], one_minus_beta2)
            col_mean = np.sqrt(np.sum(g * g, axis=-2, keepdims=True))
            _lerp_(col_var, col_mean * col_mean / g.shape[-2], one_minus_beta2)
            # the rank-one estimate: V[i, j] = R[i] C[j] / mean(R); C alone is mean(g^2) per
            # column over all rows, R / mean(R) spreads it over the rows in proportion
            var = row_var * col_var
            var /= np.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
        else:
            variance = _buffer(state, "variance", "variance should be defined when grad is a "
                               "vector")
            _lerp_(variance, g * g, one_minus_beta2)
            var = variance.copy()
        # (eps1 squared: the square root takes it back to eps1's magnitude)
        update = 1 / np.sqrt(np.maximum(var, eps1 * eps1))
        update *= g
        denom = max(1.0, _norm(update) / ((update.size ** 0.5) * group["d"]))  # RMS(U) / d
        x += -alpha / denom * update


def _buffer(state, key, message):
    """The array of the buffer state[key]; PyTorch's AssertionError (`message`) if the state
    has none (a state loaded from another optimizer)."""
    t = state.get(key)
    if t is None:
        raise AssertionError(message)
    return t._data
