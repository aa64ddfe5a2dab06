"""Adam and AdamW (decoupled weight decay), with PyTorch's update arithmetic.

    m = beta1 m + (1 - beta1) g            (first moment: running mean of gradients)
    v = beta2 v + (1 - beta2) g^2          (second moment: running mean of squared gradients)
    p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
Adam folds weight decay into g (L2); AdamW first shrinks p by (1 - lr * weight_decay).
The operations follow torch.optim's single-tensor implementation step by step and in its order
(m via lerp, v via addcmul, p via addcdiv), so trajectories match PyTorch's to the last bits but
for its fused multiply-adds (NumPy has none) and its float32 sqrt (not correctly rounded).
Each parameter is updated in place, one block at a time, with two scratch arrays (optimizer.py).
"""

import math

import numpy as np

from .optimizer import Optimizer


class Adam(Optimizer):
    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = 0
        state["step"] += 1
        arrays = [grad, self._state_array(state, "exp_avg", p),
                  self._state_array(state, "exp_avg_sq", p)]
        if group["amsgrad"]:
            arrays.append(self._state_array(state, "max_exp_avg_sq", p))
        self._in_blocks(self._adam, p, arrays, self._constants(group, state["step"], p.dtype),
                        group)

    def _adam(self, p, g, m, v, *rest):
        """One in-place update of (a block of) a parameter; t1, t2: scratch (or None)."""
        *vmax, t1, t2, c, group = rest
        if group["maximize"]:
            g = np.negative(g, out=t2)
        if group["weight_decay"] != 0:
            if self.decoupled:  # AdamW: p = p (1 - lr weight_decay)
                np.multiply(p, c.decay, out=p)
            else:  # Adam (L2): g = g + weight_decay p
                g = np.add(g, np.multiply(p, c.weight_decay, out=t1), out=t2)
        # m = m + (1 - beta1) (g - m)                (torch: exp_avg.lerp_(grad, 1 - beta1))
        np.add(m, np.multiply(np.subtract(g, m, out=t1), c.one_minus_beta1, out=t1), out=m)
        # v = beta2 v + ((1 - beta2) g) g            (torch: mul_(beta2).addcmul_(g, g, 1 - beta2))
        np.multiply(v, c.beta2, out=v)
        np.add(v, np.multiply(np.multiply(g, c.one_minus_beta2, out=t1), g, out=t1), out=v)
        if vmax:  # amsgrad: the running maximum of v replaces v in the denominator
            v = np.maximum(vmax[0], v, out=vmax[0])
        # denom = sqrt(v) / sqrt(1 - beta2^t) + eps
        denom = np.divide(np.sqrt(v, out=t1), c.bias_correction2_sqrt, out=t1)
        denom = np.add(denom, c.eps, out=denom)
        # p = p + (-lr / (1 - beta1^t) m) / denom      (torch: addcdiv_(m, denom, -step_size))
        np.add(p, np.divide(np.multiply(m, c.minus_step_size, out=t2), denom, out=t2), out=p)

    def _hyper(self, group, step):
        """The step's scalars, computed in Python floats as torch.optim does."""
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        return dict(decay=1 - lr * wd, weight_decay=wd, one_minus_beta1=1 - beta1, beta2=beta2,
                    one_minus_beta2=1 - beta2, eps=group["eps"],
                    bias_correction2_sqrt=math.sqrt(1 - beta2 ** step),
                    minus_step_size=-(lr / (1 - beta1 ** step)))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), default weight_decay=0.01."""

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
