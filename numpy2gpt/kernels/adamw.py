"""The Adam / AdamW update of one parameter (or one block of it), in place.

PyTorch's documented algorithm (torch.optim.AdamW), at step t with gradient g:
    p = p - lr * weight_decay * p              (AdamW: decoupled weight decay; Adam instead
                                                adds weight_decay * p to g)
    m = beta1 m + (1 - beta1) g                (first moment: running mean of gradients)
    v = beta2 v + (1 - beta2) g^2              (second moment: running mean of squared gradients)
    m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)     (bias corrections)
    p = p - lr * m_hat / (sqrt(v_hat) + eps)
amsgrad keeps vmax = max(vmax, v) and uses it in place of v; maximize ascends (g -> -g).

Both kernels take the same arguments: the arrays p, g, m, v, vmax (None without amsgrad) -
updated in place - the step's settings `s` (an AdamSettings), the fast kernel's precomputed
constants `c` and its two scratch arrays t1, t2 (None for a small parameter).
"""

import math
from typing import NamedTuple

import numpy as np

from . import switch


class AdamSettings(NamedTuple):
    """One step's hyper-parameters, as Python numbers."""
    lr: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float
    step: int
    decoupled: bool  # True: AdamW; False: Adam (L2 weight decay added to the gradient)
    maximize: bool


def adam_update_reference(p, g, m, v, vmax, s, c=None, t1=None, t2=None):
    """The algorithm above, line by line (c, t1, t2 are the fast kernel's and unused here)."""
    if s.maximize:
        g = -g
    if s.weight_decay != 0:
        if s.decoupled:
            p *= 1 - s.lr * s.weight_decay
        else:
            g = g + s.weight_decay * p
    m[...] = s.beta1 * m + (1 - s.beta1) * g
    v[...] = s.beta2 * v + (1 - s.beta2) * g * g
    if vmax is not None:
        v = np.maximum(vmax, v, out=vmax)
    m_hat = m / (1 - s.beta1 ** s.step)
    v_hat = v / (1 - s.beta2 ** s.step)
    p -= s.lr * m_hat / (np.sqrt(v_hat) + s.eps)


def adam_hyper(s):
    """The scalars of the fast kernel (computed in Python floats, as torch.optim does)."""
    return dict(decay=1 - s.lr * s.weight_decay, weight_decay=s.weight_decay,
                one_minus_beta1=1 - s.beta1, beta2=s.beta2, one_minus_beta2=1 - s.beta2,
                eps=s.eps, bias_correction2_sqrt=math.sqrt(1 - s.beta2 ** s.step),
                minus_step_size=-(s.lr / (1 - s.beta1 ** s.step)))


def adam_update_fast(p, g, m, v, vmax, s, c, t1=None, t2=None):
    """torch.optim's single-tensor implementation step by step and in its order (m via lerp, v
    via addcmul, p via addcdiv), so trajectories match PyTorch's to the last bits but for its
    fused multiply-adds (NumPy has none) and its float32 sqrt (not correctly rounded). Every
    ufunc writes with out= into p, m, v or the scratch t1, t2 (no fresh arrays: page faults),
    and the scalars are 0-d arrays of p's dtype, `c` = adam_hyper(s) (a Python float operand is
    converted on every ufunc call)."""
    if t1 is None or t2 is None:  # (a 0-d parameter comes without scratch)
        t1, t2 = np.empty_like(p), np.empty_like(p)
    if s.maximize:
        g = np.negative(g, out=t2)
    if s.weight_decay != 0:
        if s.decoupled:  # AdamW: p = p (1 - lr weight_decay)
            np.multiply(p, c.decay, out=p)
        else:  # Adam (L2): g = g + weight_decay p
            g = np.add(g, np.multiply(p, c.weight_decay, out=t1), out=t2)
    # m = m + (1 - beta1) (g - m)                (torch: exp_avg.lerp_(grad, 1 - beta1))
    np.add(m, np.multiply(np.subtract(g, m, out=t1), c.one_minus_beta1, out=t1), out=m)
    # v = beta2 v + ((1 - beta2) g) g            (torch: mul_(beta2).addcmul_(g, g, 1 - beta2))
    np.multiply(v, c.beta2, out=v)
    np.add(v, np.multiply(np.multiply(g, c.one_minus_beta2, out=t1), g, out=t1), out=v)
    if vmax is not None:  # amsgrad: the running maximum of v replaces v in the denominator
        v = np.maximum(vmax, v, out=vmax)
    # denom = sqrt(v) / sqrt(1 - beta2^t) + eps
    denom = np.divide(np.sqrt(v, out=t1), c.bias_correction2_sqrt, out=t1)
    denom = np.add(denom, c.eps, out=denom)
    # p = p + (-lr / (1 - beta1^t) m) / denom      (torch: addcdiv_(m, denom, -step_size))
    np.add(p, np.divide(np.multiply(m, c.minus_step_size, out=t2), denom, out=t2), out=p)


adam_update = switch(adam_update_reference, adam_update_fast)
