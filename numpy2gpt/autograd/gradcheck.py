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


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when a Jacobian does not match (as in PyTorch)."""


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, masked=None):
    """True if analytical and numerical Jacobians agree: |a - n| <= atol + rtol * |n|.

    Inputs that require grad should be float64 (float32 differences are too noisy). Every
    Jacobian is checked whole (PyTorch's slow mode, which fast_mode=True only approximates);
    check_grad_dtypes also checks that each gradient has its input's dtype. The other
    keywords are PyTorch's; the checks they switch on need forward-mode AD, vmap or
    nondeterministic backward passes, which numpy2gpt does not have.
    """
    if check_forward_ad or check_batched_forward_grad:
        raise NotImplementedError("gradcheck: numpy2gpt has no forward-mode AD "
                                  "(check_forward_ad / check_batched_forward_grad)")
    inputs = _as_tuple(inputs)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            import warnings

            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are "
                          "not of double precision floating point or complex. ", stacklevel=2)
    if not check_backward_ad:
        return True
    if check_grad_dtypes:
        _check_grad_dtypes(func, inputs)
    numerical = numerical_jacobian(func, inputs, eps)
    analytical = analytical_jacobian(func, inputs)
    for k, (num_row, ana_row) in enumerate(zip(numerical, analytical)):
        for i, (n, a) in enumerate(zip(num_row, ana_row)):
            if not np.allclose(a, n, atol=atol, rtol=rtol):
                if not raise_exception:
                    return False
                bad = np.unravel_index(np.argmax(np.abs(a - n) - rtol * np.abs(n)), a.shape)
                raise GradcheckError(
                    f"Jacobian mismatch for output {k} with respect to input {i}: at (output "
                    f"element {bad[0]}, input element {bad[1]}) numerical {n[bad]:.10g} vs "
                    f"analytical {a[bad]:.10g}\nnumerical:\n{n}\nanalytical:\n{a}")
    return True


def _check_grad_dtypes(func, inputs):
    """Each input's gradient (from one backward of the outputs' sum) has the input's dtype."""
    from .engine import run_backward

    wanted = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    outs = [o for o in _as_tuple(func(*inputs)) if o.requires_grad]
    if not wanted or not outs:
        return
    seeds = [Tensor._make(np.ones(o.shape, o.dtype)) for o in outs]
    for x, g in zip(wanted, run_backward(outs, seeds, retain_graph=False, inputs=wanted)):
        if g is not None and g.dtype != x.dtype:
            raise GradcheckError("Gradient has dtype mismatch")


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Check second derivatives: gradcheck of (inputs, w) -> d(sum(func(inputs) * w))/dinputs,
    built with create_graph.

    `w` (the weights of the outputs) is `grad_outputs`, or, as in PyTorch, random values in
    [-1, 1) drawn from the global generator (`testing.make_tensor`) that themselves require
    grad: then the mixed derivatives with respect to w are checked too.
    """
    from ..testing import make_tensor
    from . import grad

    if check_fwd_over_rev:
        raise NotImplementedError("gradgradcheck: numpy2gpt has no forward-mode AD "
                                  "(check_fwd_over_rev)")
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outs = [o for o in _as_tuple(func(*inputs)) if o.requires_grad]
        grad_outputs = tuple(
            make_tensor(o.shape, dtype=o.dtype if o.is_floating_point() else np.float64,
                        device="cpu", low=-1, high=1, requires_grad=True,
                        noncontiguous=gen_non_contig_grad_outputs) for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first_derivatives(*args):
        xs, ws = args[:n_in], args[n_in:]
        outs = [o for o in _as_tuple(func(*xs)) if o.requires_grad]
        xs_wanted = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        gs = grad(outs, xs_wanted, list(ws), create_graph=True, allow_unused=True)
        return tuple(g if g is not None else Tensor._make(np.zeros_like(x._data))
                     for g, x in zip(gs, xs_wanted))

    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        return True
    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, check_grad_dtypes=check_grad_dtypes,
                     check_backward_ad=check_rev_over_rev)
