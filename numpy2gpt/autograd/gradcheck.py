"""Numerical gradient checking: compare backward() against central finite differences.

For each input element x_i:  dL/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), an O(eps^2)
estimate. Done in float64, element by element, like `torch.autograd.gradcheck`: each output
element's full Jacobian row is checked (not just a random projection).
"""

import numpy as np

from ..tensor import Tensor


def _as_tuple(x):
    return tuple(x) if isinstance(x, tuple | list) else (x,)


def _numel(x):
    return x.numel() if isinstance(x, Tensor) else 0  # non-tensor arguments get no column


def numerical_jacobian(fn, inputs, eps=1e-6):
    """J[k][i] = d(output k, flattened) / d(input i, flattened), by central differences."""
    from ..ops.inplace import overlaps

    outs = _as_tuple(fn(*inputs))
    jac = [[np.zeros((o.numel(), _numel(x))) for x in inputs] for o in outs]
    # fn runs in the caller's grad mode (it may itself differentiate, see gradgradcheck);
    # the nudges write into the arrays directly, which autograd never sees.
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        if not x._data.flags.writeable or overlaps(x._data):
            # a nudge of one element would move others too (an expanded tensor) or be refused
            raise ValueError(f"gradcheck: input {i} is read-only or expanded (a broadcast "
                             "view?); pass a copy")
        # Index the array itself (not a flattened copy) so each nudge really changes x.
        for j, idx in enumerate(np.ndindex(x.shape)):
            old = x._data[idx]
            x._data[idx] = old + eps
            plus = [o._data.astype(np.float64).ravel() for o in _as_tuple(fn(*inputs))]
            x._data[idx] = old - eps
            minus = [o._data.astype(np.float64).ravel() for o in _as_tuple(fn(*inputs))]
            x._data[idx] = old
            for k in range(len(outs)):
                jac[k][i][:, j] = (plus[k] - minus[k]) / (2 * eps)
    return jac


def analytical_jacobian(fn, inputs):
    """The same Jacobian, one backward pass per output element."""
    from .engine import run_backward

    outs = _as_tuple(fn(*inputs))
    jac = [[np.zeros((o.numel(), _numel(x))) for x in inputs] for o in outs]
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
                        jac[k][i][r] = g._data.reshape(-1)
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


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, seed=0):
    """Check second derivatives: gradcheck of x -> d(sum(fn(x) * w))/dx built with create_graph.

    `w` (the weights of the outputs) is `grad_outputs`, or fixed random values.
    """
    from . import grad

    inputs = _as_tuple(inputs)
    wanted = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    outs = _as_tuple(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [Tensor._make(rng.standard_normal(o.shape).astype(o.dtype)) for o in outs]
    grad_outputs = _as_tuple(grad_outputs)

    def first_derivatives(*xs):
        pairs = [(o, w) for o, w in zip(_as_tuple(fn(*xs)), grad_outputs) if o.requires_grad]
        xs_wanted = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        gs = grad([o for o, _ in pairs], xs_wanted, [w for _, w in pairs], create_graph=True,
                  allow_unused=True)
        return tuple(g if g is not None else Tensor._make(np.zeros_like(x._data))
                     for g, x in zip(gs, xs_wanted))

    if not wanted:
        return True
    return gradcheck(first_derivatives, inputs, eps, atol, rtol, raise_exception)
