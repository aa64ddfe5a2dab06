"""torch.autograd.functional: Jacobians, Hessians and their products with vectors.

Each function takes a Python function `func` of tensors and the point `inputs` at which to
differentiate it, and is built on `autograd.grad` alone (reverse mode):

* `vjp`: v^T J, one backward pass with v as the incoming gradient.
* `jvp`: J v without forward-mode AD, by the "double-backward trick": the backward pass
  u -> u^T J is linear in a dummy gradient u, so differentiating its result w.r.t. u, with v as
  the incoming gradient, gives (v^T J^T)^T = J v.
* `jacobian`: one backward pass per output element, each giving one row of J.
* `hessian`: the jacobian of the gradient.
* `vhp`: v^T H, the gradient (recorded with create_graph) differentiated once more, seeded by v.
* `hvp`: H v, the double-backward trick applied to the gradient.

Conventions, as in PyTorch: `inputs` (and `v`) is a Tensor or a tuple of Tensors, and results
come back in the same form (a Tensor for a Tensor, a tuple for a tuple); the function's inputs are
fresh tensors (detached copies, or views that keep the graph with `create_graph=True`), so a
tensor the function reads from a closure does not count as an input. An input the outputs do not
depend on gets zeros, or an error with `strict=True`. Without `create_graph` the results carry no
graph.
"""

from ..tensor import Tensor
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ---- helpers: tuples in and out, the fresh inputs, strict-mode checks ----------------------------


def _as_tuple(inp, arg_name, fn_name):
    """(was it a tuple, the Tensors as a tuple). Only a tuple counts as several (not a list)."""
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the {where} has type {type(el)}.")
    return is_tuple, items


def _tuple_postprocess(res, to_unpack):
    """Undo `_as_tuple` on a result: `to_unpack` is one flag (was the argument a tuple), or two
    for a nested result such as a Jacobian (outputs were a tuple, inputs were a tuple)."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph, need_graph):
    """New tensor objects for the function's inputs, so gradients are taken w.r.t. them and
    not w.r.t. the same tensors captured by `func` some other way. With create_graph, an input
    that requires grad becomes a view of itself: the results then stay connected to it."""
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(inp.view_as(inp))
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs, create_graph):
    """Detach the results (a tuple, or a tuple of tuples) unless the caller asked for a graph."""
    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple):
    """`v` must have one tensor per tensor of `other`, of the same size."""
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.size()} but "
                               f"got {el_v.size()}.")


def _check_requires_grad(inputs, input_type, strict):
    """strict mode: every tensor of `inputs` (outputs, gradients, ...) must carry a graph."""
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:  # (only a gradient can be missing)
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if inp.requires_grad:
            continue
        if input_type == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {i} is "
                "independent of the input. This is not allowed in strict mode. You should "
                "ensure that your function is thrice differentiable and that the hessian "
                "depends on the inputs.")
        if input_type == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided "
                f"function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).")
        if input_type == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {i} is independent of the inputs of the "
                "user-provided function. This is not allowed in strict mode.")
        raise RuntimeError(
            f"Output {i} of the user-provided function does not require gradients. The outputs "
            "must be computed in a differentiable manner from the input when running in strict "
            "mode.")


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad that skips outputs which are None or carry no graph (their gradient
    contributes nothing) and gives None for an input nothing depends on."""
    from . import grad

    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(out, g) for out, g in zip(outputs, grad_outputs)
             if out is not None and out.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([out for out, _ in pairs], inputs, [g for _, g in pairs], allow_unused=True,
                create_graph=create_graph, retain_graph=retain_graph)


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """Replace a missing gradient by zeros shaped like `refs[i]`, or, in strict mode, raise the
    error that names the step (`stage`) where the dependence was lost."""
    from ..ops.creation import zeros_like

    res = ()
    for i, grads_i in enumerate(grads):
        if grads_i is None:
            if strict:
                if stage == "back":
                    raise RuntimeError("The output of the user-provided function is independent "
                                       f"of input {i}. This is not allowed in strict mode.")
                if stage == "back_trick":
                    raise RuntimeError(
                        f"The gradient with respect to the input is independent of entry {i} in "
                        "the grad_outputs when using the double backward trick to compute forward "
                        "mode gradients. This is not allowed in strict mode.")
                if stage == "double_back":
                    raise RuntimeError("The jacobian of the user-provided function is independent "
                                       f"of input {i}. This is not allowed in strict mode.")
                raise RuntimeError(
                    "The hessian of the user-provided function is independent of entry "
                    f"{i} in the grad_jacobian. This is not allowed in strict mode as it prevents "
                    "from using the double backward trick to replace forward mode AD.")
            grads_i = zeros_like(refs[i])
        elif strict and create_graph and not grads_i.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input "
                               f"{i}. This is not allowed in strict mode when create_graph=True.")
        res += (grads_i,)
    return res


def _prepare_v(v, other, is_other_tuple, fn_name, create_graph, none_error):
    """Check `v` against the tensors it multiplies (`other`); None is allowed only for a single
    one-element tensor (`none_error` says so otherwise)."""
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, other, is_other_tuple)
    elif len(other) != 1 or other[0].nelement() != 1:
        raise RuntimeError(none_error)
    return v


def _call(func, inputs, fn_name, strict):
    """Run the user's function on the fresh inputs; its outputs as (was a tuple, tuple)."""
    is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                          fn_name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    return is_outputs_tuple, outputs


def _call_scalar(func, inputs, fn_name, strict):
    """`_call` for vhp / hvp, whose function must return one Tensor with a single element."""
    is_outputs_tuple, outputs = _call(func, inputs, fn_name, strict)
    if is_outputs_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")
    return is_outputs_tuple, outputs


_V_NONE_INPUT = ("The vector v can only be None if the input to the user-provided function is a "
                 "single Tensor with a single element.")


# ---- the public functions ------------------------------------------------------------------------


def _outputs_and_result(outputs, is_outputs_tuple, result, is_result_tuple, create_graph):
    """(func's outputs, the product) as vjp, jvp, vhp and hvp return them: detached unless
    create_graph, each a Tensor or a tuple as its caller gave or got it."""
    return (_tuple_postprocess(_grad_postprocess(outputs, create_graph), is_outputs_tuple),
            _tuple_postprocess(_grad_postprocess(result, create_graph), is_result_tuple))


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """v^T J of `func` at `inputs`: returns (func(inputs), vjp), the vjp shaped like the inputs.

    `v` is shaped like func's output (it may be omitted for a single one-element output).
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        is_outputs_tuple, outputs = _call(func, inputs, "vjp", strict)
        v = _prepare_v(v, outputs, is_outputs_tuple, "vjp", create_graph,
                       "The vector v can only be None if the user-provided function returns a "
                       "single Tensor with a single element.")

    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")

    return _outputs_and_result(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """J v of `func` at `inputs`: returns (func(inputs), jvp), the jvp shaped like the outputs.

    `v` is shaped like the inputs (it may be omitted for a single one-element input). Computed
    with the double-backward trick, so every op in `func` needs a differentiable backward.
    """
    from ..ops.creation import zeros_like

    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, "jvp", create_graph, _V_NONE_INPUT)
        is_outputs_tuple, outputs = _call(func, inputs, "jvp", strict)
        # g(u) = u^T J is linear in the dummy u, so its value never enters the gradient of g
        # w.r.t. u: zeros do (they only must not be inf or NaN).
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)

    # d(u^T J v)/du = J v: differentiate g w.r.t. u, seeded with v
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")

    return _outputs_and_result(outputs, is_outputs_tuple, result, is_outputs_tuple, create_graph)


def _jacobian_rows(outputs, inputs, create_graph, strict):
    """J[i][j] = d outputs[i] / d inputs[j], of shape outputs[i].shape + inputs[j].shape: one
    backward pass per element of each output, each pass giving that element's row."""
    from ..ops.creation import zeros_like
    from ..ops.join import stack

    jacobian = ()
    for i, out in enumerate(outputs):
        rows = tuple([] for _ in inputs)  # rows[j]: d out[k] / d inputs[j] for each element k
        flat = out.reshape(-1)
        for k in range(out.nelement()):
            vj = _autograd_grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
            for j, (rows_j, vj_el, inp) in enumerate(zip(rows, vj, inputs)):
                if vj_el is None:
                    if strict:
                        raise RuntimeError(f"Output {i} of the user-provided function is "
                                           f"independent of input {j}. This is not allowed in "
                                           "strict mode.")
                    vj_el = zeros_like(inp)
                elif strict and create_graph and not vj_el.requires_grad:
                    # (PyTorch's message, which says "input" but gives the output's index)
                    raise RuntimeError(f"The jacobian of the user-provided function is "
                                       f"independent of input {i}. This is not allowed in strict "
                                       "mode when create_graph=True.")
                rows_j.append(vj_el)
        jacobian += (tuple(stack(rows_j, dim=0).view(out.size() + inp.size())
                           for rows_j, inp in zip(rows, inputs)),)
    return jacobian


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of `func` at `inputs`.

    One input and one output: a Tensor of shape output.shape + input.shape. If either is a
    tuple, a tuple over it; if both are, a tuple (over outputs) of tuples (over inputs).
    `vectorize=True` gives the same result (numpy2gpt has no vmap: it loops just the same), and
    so does `strategy="forward-mode"` (with vectorize=True, as PyTorch requires), whose result
    takes each output's dtype instead of each input's.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             'Hint: If your function has more outputs than inputs, "forward-mode" '
                             'tends to be more performant. Otherwise, prefer to use '
                             '"reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`strict=False` or `strategy="reverse-mode"`.')
        _as_tuple(inputs, "inputs", "jacobian")
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                      "Hessian isonly implemented for `vectorize=True`.")

    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        is_outputs_tuple, outputs = _call(func, inputs, "jacobian", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                               "`vectorized=True` are not supported together. Please either set "
                               "`strict=False` or `vectorize=False`.")
        result = _jacobian_rows(outputs, inputs, create_graph, strict)
        result = _grad_postprocess(result, create_graph)
    if strategy == "forward-mode":  # forward mode's tangents have the outputs' dtypes
        result = tuple(tuple(jac.to(out.dtype) for jac in row)
                       for row, out in zip(result, outputs))
    return _tuple_postprocess(result, (is_outputs_tuple, is_inputs_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar `func` at `inputs`: the jacobian of its gradient.

    One input: a Tensor of shape input.shape + input.shape. A tuple of inputs: a tuple of
    tuples, H[i][j] of shape inputs[i].shape + inputs[j].shape.
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        is_out_tuple, out = _call(func, inp, "hessian", strict)
        if is_out_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out[0].nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out[0].squeeze()

    def jac_func(*inp):  # the gradient, recorded so the outer jacobian can differentiate it
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """v^T H of a scalar `func` at `inputs`: returns (func(inputs), vhp), shaped like the inputs.

    The gradient g = df/dx is recorded (create_graph) and differentiated once more, seeded by v:
    d(g . v)/dx = v^T H.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, "vhp", create_graph, _V_NONE_INPUT)
        is_outputs_tuple, outputs = _call_scalar(func, inputs, "vhp", strict)
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)

    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")

    return _outputs_and_result(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """H v of a scalar `func` at `inputs`: returns (func(inputs), hvp), shaped like the inputs.

    The double-backward trick on the gradient g: u -> u^T dg/dx = u^T H is linear in a dummy
    u; its gradient w.r.t. u, seeded by v, is H v. (Equal to vhp's result for a twice
    continuously differentiable function, whose H is symmetric; vhp is cheaper.)
    """
    from ..ops.creation import zeros_like

    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, "hvp", create_graph, _V_NONE_INPUT)
        is_outputs_tuple, outputs = _call_scalar(func, inputs, "hvp", strict)
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        grad_jac = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)

    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")

    return _outputs_and_result(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)
