"""SparseAdam: Adam for sparse gradients (nn.Embedding(sparse=True)'s), with PyTorch's arithmetic.

Adam moves every row of a parameter at every step, also the rows the batch did not touch (their
moments decay). SparseAdam updates only the rows the gradient holds: their two moments and their
parameter values, exactly as Adam would at that step; the other rows wait untouched. For a large
embedding table most rows are absent from a batch, so a step costs as much as the batch, not as
the table. The step counter is per parameter, so the bias correction is the usual one.

For the rows r present in the coalesced gradient g (repeated rows summed first: the update is
not linear in g), with m, v the moments:
    m[r] += (1 - beta1) (g - m[r])         (that is, m = beta1 m + (1 - beta1) g)
    v[r] += (1 - beta2) (g^2 - v[r])
    p[r] -= lr sqrt(1 - beta2^t) / (1 - beta1^t) * m[r] / (sqrt(v[r]) + eps)
"""

import math

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor
from .optimizer import Optimizer


class SparseAdam(Optimizer):
    """Adam on the rows a sparse gradient holds (see the module docstring). Its parameters are
    dense; their gradients must be sparse (a dense one is PyTorch's error: use Adam)."""

    _tensor_step = False  # its "step" is an int, also after load_state_dict

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        sparse = [[i, j] for i, group in enumerate(self.param_groups)
                  for j, p in enumerate(group["params"]) if p.is_sparse]
        if sparse:
            raise ValueError(f"Sparse params at indices {sparse}: SparseAdam requires dense "
                             "parameter tensors")

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad(), np.errstate(all="ignore"):
            for group in self.param_groups:
                # first every parameter's state and step count, as PyTorch does (so a dense
                # gradient stops the step after the parameters before it were counted)
                params = [p for p in group["params"] if p.grad is not None]
                for p in params:
                    if not p.grad.is_sparse:
                        raise RuntimeError("SparseAdam does not support dense gradients, please "
                                           "consider Adam instead")
                    state = self.state[p]
                    if not state:
                        state["step"] = 0
                        state["exp_avg"] = Tensor._make(np.zeros(p.shape, p.dtype))
                        state["exp_avg_sq"] = Tensor._make(np.zeros(p.shape, p.dtype))
                    state["step"] = int(state["step"]) + 1
                for p in params:
                    self._update_rows(p, group, self.state[p])
        return loss

    @staticmethod
    def _update_rows(p, group, state):
        """One SparseAdam step of parameter p, in torch.optim's order of float operations."""
        grad = -p.grad if group["maximize"] else p.grad
        grad = grad.coalesce()
        g = grad._values()._data
        if g.size == 0:
            return  # no entries: nothing to update
        rows = tuple(grad._indices()._data)  # unique coordinates, so `+=` adds each once
        beta1, beta2 = (float(b) for b in group["betas"])
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        old_m, old_v = m[rows], v[rows]
        m_change = (g - old_m) * (1 - beta1)
        v_change = (g * g - old_v) * (1 - beta2)
        m[rows] += m_change
        v[rows] += v_change
        step = state["step"]
        step_size = float(group["lr"]) * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
        # the new moments of those rows, recomputed as PyTorch does (the same numbers)
        p._data[rows] += -step_size * ((m_change + old_m) / (np.sqrt(v_change + old_v)
                                                             + group["eps"]))
        p._version += 1
        state["exp_avg"]._version += 1
        state["exp_avg_sq"]._version += 1
