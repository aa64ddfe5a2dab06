"""Numerical gradient checking: compare backward() against central finite differences.

For each input element x_i:  dL/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), an O(eps^2)
estimate. Done in float64, element by element, like `torch.autograd.gradcheck`: each output
element's full Jacobian row is checked (not just a random projection).
"""

import numpy as np

from ..tensor import Tensor
from .grad_mode import no_grad


def _as_tuple(x):
    return tuple(x) if isinstance(x, tuple | list) else (x,)


def numerical_jacobian(fn, inputs, eps=1e-6):
    """J[k][i] = d(output k, flattened) / d(input i, flattened), by central differences."""
    outs = _as_tuple(fn(*inputs))
    jac = [[np.zeros((o.numel(), x.numel())) for x in inputs] for o in outs]
    with no_grad():
        for i, x in enumerate(inputs):
            if not (isinstance(x, Tensor) and x.requires_grad):
                continue
            flat = x.data.reshape(-1)  # a view: edits change x in place
            for j in range(flat.size):
                old = flat[j]
                flat[j] = old + eps
                plus = [o.data.astype(np.float64).ravel() for o in _as_tuple(fn(*inputs))]
                flat[j] = old - eps
                minus = [o.data.astype(np.float64).ravel() for o in _as_tuple(fn(*inputs))]
                flat[j] = old
                for k in range(len(outs)):
                    jac[k][i][:, j] = (plus[k] - minus[k]) / (2 * eps)
    return jac


def analytical_jacobian(fn, inputs):
    """The same Jacobian, one backward pass per output element."""
    from .engine import run_backward

    outs = _as_tuple(fn(*inputs))
    jac = [[np.zeros((o.numel(), x.numel())) for x in inputs] for o in outs]
    wanted = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    wanted_ids = [id(w) for w in wanted]
    for k, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for r in range(o.numel()):
            seed = np.zeros(o.shape, dtype=o.dtype)
            seed.reshape(-1)[r] = 1.0
            grads = run_backward([o], [Tensor._make(seed)], retain_graph=True, inputs=wanted)
            for i, x in enumerate(inputs):
                if id(x) in wanted_ids:
                    g = grads[wanted_ids.index(id(x))]
                    if g is not None:
                        jac[k][i][r] = g.data.reshape(-1)
    return jac


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True if analytical and numerical Jacobians agree: |a - n| <= atol + rtol * |n|.

    Inputs that require grad should be float64 (float32 differences are too noisy).
    """
    inputs = _as_tuple(inputs)
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            import warnings

            warnings.warn("gradcheck: input is not float64; the check will likely fail",
                          stacklevel=2)
    numerical = numerical_jacobian(fn, inputs, eps)
    analytical = analytical_jacobian(fn, inputs)
    for k, (num_row, ana_row) in enumerate(zip(numerical, analytical)):
        for i, (n, a) in enumerate(zip(num_row, ana_row)):
            if not np.allclose(a, n, atol=atol, rtol=rtol):
                if not raise_exception:
                    return False
                bad = np.unravel_index(np.argmax(np.abs(a - n) - rtol * np.abs(n)), a.shape)
                raise RuntimeError(
                    f"Jacobian mismatch for output {k} with respect to input {i}: at (output "
                    f"element {bad[0]}, input element {bad[1]}) numerical {n[bad]:.10g} vs "
                    f"analytical {a[bad]:.10g}\nnumerical:\n{n}\nanalytical:\n{a}")
    return True
