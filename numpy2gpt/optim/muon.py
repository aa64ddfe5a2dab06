"""Muon (Keller Jordan): momentum SGD for 2-D weight matrices whose step is orthogonalised.

    B = momentum B + (1 - momentum) g                  (momentum_buffer)
    M = g + momentum (B - g)   (nesterov),  else B
    O = NS(M)                                          (approximately U V^T, for M = U S V^T)
    x = x (1 - lr weight_decay) - adjusted_lr O
NS is a quintic Newton-Schulz iteration: X <- a X + (b X X^T + c (X X^T)^2) X, from M scaled to
a Frobenius norm of 1 (so its spectral norm is at most 1), pushes every singular value towards 1
while keeping the singular vectors. A step then moves all directions of the weight matrix
alike, whatever the gradient's scale in each.

PyTorch runs the iteration in bfloat16, which NumPy lacks. It is emulated here: each operation
computes in float32 (as PyTorch's bfloat16 kernels do) and its result is rounded to the nearest
bfloat16 (`_round_to_bfloat16`), so the orthogonalised update has PyTorch's bfloat16 values
except where a float32 sum, added up in another order, rounds the other way.
"""

import math

import numpy as np

from ..tensor import Tensor
from .more import _lerp_
from .optimizer import Optimizer

__all__ = ["Muon"]

# the coefficients (a, b, c) of Keller Jordan's iteration, tuned for speed of convergence
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
EPS = 1e-7
DEFAULT_NS_STEPS = 5


def _round_to_bfloat16(x):
    """float32 values rounded to the nearest bfloat16 (ties to even), as float32: a bfloat16 is
    the top 16 bits of a float32, so the rounding adds half of the dropped part (less one, plus
    the kept part's lowest bit, for ties to even) and clears it. NaN stays NaN."""
    x = np.asarray(x, dtype=np.float32)
    bits = x.view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return np.where(np.isnan(x), x, bits.astype(np.uint32).view(np.float32))


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """The orthogonalised matrix U S' V^T of grad = U S V^T (S' ~ 1: the quintic's coefficients
    trade exact convergence for speed), by ns_steps Newton-Schulz iterations in bfloat16."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = (np.float32(v) for v in ns_coefficients)
    bf16 = _round_to_bfloat16
    x = bf16(grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:  # iterate on the wide side: X X^T is then the smaller Gram matrix
        x = x.T
    norm = bf16(np.sqrt(np.sum(x * x)))
    x = bf16(x / max(norm, bf16(eps)))
    for _ in range(ns_steps):
        gram = bf16(x @ x.T)
        gram_update = bf16(b * gram + c * (gram @ gram))
        x = bf16(a * x + gram_update @ x)
    return x.T if tall else x


def _adjust_lr(lr, adjust_lr_fn, shape):
    """The learning rate for an A x B matrix: "original" (Keller Jordan's) scales it by
    sqrt(max(1, A / B)), "match_rms_adamw" (Moonshot's) by 0.2 sqrt(max(A, B)), which gives the
    update the RMS of AdamW's, so AdamW's learning rate and weight decay carry over."""
    A, B = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, A / B))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(A, B))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    """Muon: SGD with (Nesterov) momentum whose step is orthogonalised by Newton-Schulz; for the
    2-D weights of hidden layers only (biases and embeddings go to another optimizer, such as
    AdamW). See the module's docstring."""

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      nesterov=nesterov, ns_coefficients=ns_coefficients,
                                      eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: torch.Size({list(p.shape)})")

    def _check_sparse_grads(self, group):
        """PyTorch's error, before any update of the group, for a sparse gradient."""
        if any(p.grad is not None and p.grad.is_sparse for p in group["params"]):
            raise RuntimeError("Muon does not support sparse gradients")

    def _update(self, p, grad, group, state):
        buf = self._state_array(state, "momentum_buffer", p, create=True)
        if grad.ndim != 2:  # (a parameter added later by add_param_group)
            raise ValueError("Param gradient must be a 2D matrix")
        x, momentum = p._data, group["momentum"]
        lr = float(group["lr"])
        _lerp_(buf, grad, 1 - momentum)
        if group["nesterov"]:  # look ahead: the gradient moved towards the new momentum
            update = grad.copy()
            _lerp_(update, buf, momentum)
        else:
            update = buf
        update = _zeropower_via_newtonschulz(update, group["ns_coefficients"],
                                             group["ns_steps"], group["eps"])
        adjusted_lr = _adjust_lr(lr, group["adjust_lr_fn"], p.shape)
        x *= 1 - lr * group["weight_decay"]
        x += -adjusted_lr * update.astype(x.dtype)
        p._version += 1
