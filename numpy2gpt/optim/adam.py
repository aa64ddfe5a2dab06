"""Adam and AdamW (decoupled weight decay), with PyTorch's update arithmetic.

    m = beta1 m + (1 - beta1) g            (first moment: running mean of gradients)
    v = beta2 v + (1 - beta2) g^2          (second moment: running mean of squared gradients)
    p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
Adam folds weight decay into g (L2); AdamW first shrinks p by (1 - lr * weight_decay).
The update itself is a kernel (numpy2gpt/kernels/adamw.py: the textbook algorithm and the fast
in-place one that follows torch.optim's arithmetic to the last bits). Each parameter is updated
in place, one block at a time, with two scratch arrays (optimizer.py).
"""

from ..kernels.adamw import AdamSettings, adam_hyper, adam_update
from .optimizer import Optimizer, _check_implementation


class Adam(Optimizer):
    """Adam; `decoupled_weight_decay=True` makes it AdamW (PyTorch's flag, kept per group)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_implementation(type(self).__name__, foreach, fused, differentiable, capturable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, p, grad, group, state):
        step = self._step_count(state)
        arrays = [grad, self._state_array(state, "exp_avg", p),
                  self._state_array(state, "exp_avg_sq", p)]
        if group["amsgrad"]:
            arrays.append(self._state_array(state, "max_exp_avg_sq", p))
        self._in_blocks(self._adam, p, arrays, self._settings(group, step),
                        self._constants(group, step, p.dtype))

    @staticmethod
    def _adam(p, g, m, v, *rest):
        """One in-place update of (a block of) a parameter; t1, t2: scratch (or None)."""
        *vmax, t1, t2, settings, c = rest
        adam_update(p, g, m, v, vmax[0] if vmax else None, settings, c, t1, t2)

    def _settings(self, group, step):
        """The step's hyper-parameters for the update kernel."""
        return AdamSettings(group["lr"], *group["betas"], group["eps"], group["weight_decay"],
                            step, group["decoupled_weight_decay"], group["maximize"])

    def _hyper(self, group, step):
        """The fast kernel's scalars, computed in Python floats as torch.optim does."""
        return adam_hyper(self._settings(group, step))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), default weight_decay=0.01."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)
