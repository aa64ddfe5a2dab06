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
from ..tensor import Tensor
from .optimizer import (
    Optimizer,
    _check_betas,
    _check_eps,
    _check_implementation,
    _check_lr,
    _check_weight_decay,
    scalar,
)


class Adam(Optimizer):
    """Adam; `decoupled_weight_decay=True` makes it AdamW (PyTorch's flag, kept per group)."""

    _load_defaults = dict(amsgrad=False, maximize=False, foreach=None, capturable=False,
                          differentiable=False, decoupled_weight_decay=False, fused=None)
    _required_state = ("step",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and "
                             "foreach=True")
        _check_lr(lr)
        _check_eps(eps)
        _check_betas(betas)
        _check_weight_decay(weight_decay)
        if not (isinstance(betas[0], float) and isinstance(betas[1], float)
                or isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor)):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas[:2]):
            if isinstance(beta, Tensor):
                if foreach and not capturable:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                     "capturable=False and foreach=True")
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        _check_implementation(type(self).__name__, foreach, fused, differentiable, capturable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, p, grad, group, state):
        keys = ["exp_avg", "exp_avg_sq"] + ["max_exp_avg_sq"] * bool(group["amsgrad"])
        if not state:  # the first step: a step count, zero moments (PyTorch's _init_group)
            state["step"] = scalar(0.0)
            for key in keys:
                self._state_array(state, key, p, create=True)
        arrays = [grad] + [self._state_array(state, key, p) for key in keys]
        step = self._step_count(state)
        self._in_blocks(self._adam, p, arrays, self._settings(group, step),
                        self._constants(group, step, p.dtype))

    @staticmethod
    def _adam(p, g, m, v, *rest):
        """One in-place update of (a block of) a parameter; t1, t2: scratch (or None)."""
        *vmax, t1, t2, settings, c = rest
        adam_update(p, g, m, v, vmax[0] if vmax else None, settings, c, t1, t2)

    def _settings(self, group, step):
        """The step's hyper-parameters for the update kernel."""
        beta1, beta2 = (float(b) for b in group["betas"])  # (1-element tensors too)
        return AdamSettings(float(group["lr"]), beta1, beta2, group["eps"],
                            group["weight_decay"], step, group["decoupled_weight_decay"],
                            group["maximize"])

    def _hyper(self, group, step):
        """The fast kernel's scalars, computed in Python floats as torch.optim does."""
        return adam_hyper(self._settings(group, step))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), default weight_decay=0.01."""

    def _loaded_group(self, group):
        """As Adam's, and the weight decay is decoupled whatever the saved group says."""
        group = super()._loaded_group(group)
        group["decoupled_weight_decay"] = True
        return group

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)
