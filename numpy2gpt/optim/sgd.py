"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay, in
torch.optim's order of operations, each parameter updated in place (see optimizer.py)."""

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _check_implementation, required


class SGD(Optimizer):
    _load_defaults = dict(nesterov=False, maximize=False, foreach=None, differentiable=False,
                          fused=False)

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr is not required and lr < 0.0:  # (so NaN passes, as in PyTorch)
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_implementation(type(self).__name__, foreach, fused, differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _update(self, p, grad, group, state):
        arrays = [grad]
        first = False
        if group["momentum"] != 0:
            first = state.get("momentum_buffer") is None
            arrays.append(self._state_array(state, "momentum_buffer", p, create=True))
        self._in_blocks(self._sgd, p, arrays, self._constants(group, 0, p.dtype), group, first)

    @staticmethod
    def _sgd(p, g, *rest):
        """One in-place update of (a block of) a parameter; t1, t2: scratch (or None)."""
        *buf, t1, t2, c, group, first = rest
        if group["maximize"]:
            g = np.negative(g, out=t2)
        if group["weight_decay"] != 0:  # g = g + weight_decay p
            g = np.add(g, np.multiply(p, c.weight_decay, out=t1), out=t2)
        if buf:
            (b,) = buf
            if first:  # the first buffer is the gradient itself (torch: clone)
                np.copyto(b, g)
            else:  # buf = momentum buf + (1 - dampening) g
                np.multiply(b, c.momentum, out=b)
                np.add(b, np.multiply(g, c.one_minus_dampening, out=t1), out=b)
            if group["nesterov"]:  # g = g + momentum buf
                g = np.add(g, np.multiply(b, c.momentum, out=t1), out=t2)
            else:
                g = b
        np.add(p, np.multiply(g, c.minus_lr, out=t1), out=p)  # p = p + (-lr) g

    def _hyper(self, group, step):
        return dict(weight_decay=group["weight_decay"], momentum=group["momentum"],
                    one_minus_dampening=1 - group["dampening"], minus_lr=-group["lr"])
