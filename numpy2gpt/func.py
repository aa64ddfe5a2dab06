"""torch.func: function transforms - grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian,
vmap - and functional_call / stack_module_state, on numpy2gpt's tape-based autograd.

PyTorch builds these on functorch's "levels", which wrap tensors so that transforms nest. Here
each transform is a few lines around `autograd.grad`:
- grad(f)(x) runs f on a fresh leaf copy of x that requires grad and asks autograd.grad for
  the gradient. Only the use of x through the argument counts (a tensor f closes over is a
  constant to this transform), as in PyTorch.
- The graph is kept (create_graph) only when the result must itself be differentiable: when x
  is being differentiated by an enclosing transform or by the user's own autograd, or f closes
  over a tensor that requires grad. So grad(grad(f)), jacrev(jacrev(f)) and a gradient of
  grad(f) all work, and a plain grad(f)(x) returns a tensor with no graph.
- vmap maps f over a batch dimension with a Python loop and stacks the results: PyTorch's
  semantics for functions without side effects, not its speed. Per-sample gradients,
  vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y), are f run once per sample.
Arguments and results may be pytrees: tensors in (nested) tuples, lists and dicts.
"""

import contextlib

from .autograd import grad as _autograd_grad
from .autograd.grad_mode import enable_grad, is_grad_enabled
from .ops.creation import zeros_like
from .ops.join import stack
from .random import get_rng_state, set_rng_state
from .tensor import Tensor


# ----- pytrees: tensors in nested tuples, lists and dicts ---------------------------------------
def _flatten(tree):
    """(leaves, spec): the leaves of `tree` in order, and how to put them back (`_unflatten`)."""
    if isinstance(tree, tuple | list):
        parts = [_flatten(t) for t in tree]
        return [x for leaves, _ in parts for x in leaves], (type(tree), [s for _, s in parts])
    if isinstance(tree, dict):
        parts = [_flatten(t) for t in tree.values()]
        return ([x for leaves, _ in parts for x in leaves],
                (dict, list(tree), [s for _, s in parts]))
    return [tree], None


def _unflatten(spec, leaves):
    """The inverse of `_flatten`: `leaves` (an iterator or list) put back in the shape `spec`."""
    leaves = iter(leaves)

    def build(s):
        if s is None:
            return next(leaves)
        if s[0] is dict:
            return {k: build(c) for k, c in zip(s[1], s[2])}
        return s[0](build(c) for c in s[1])
    return build(spec)


def _spec_str(spec):
    """A pytree's structure as PyTorch prints it in messages: * for a leaf, (*, *) a tuple."""
    if spec is None:
        return "*"
    if spec[0] is dict:
        return "{" + ", ".join(f"{k!r}: {_spec_str(c)}" for k, c in zip(spec[1], spec[2])) + "}"
    inner = ", ".join(_spec_str(c) for c in spec[1])
    if spec[0] is list:
        return f"[{inner}]"
    return f"({inner},)" if len(spec[1]) == 1 else f"({inner})"


def _argnums(argnums, n_args):
    """argnums as a tuple of non-negative positions, with PyTorch's errors."""
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    if not nums:
        raise RuntimeError("argnums must be non-empty")
    for k in nums:
        if not isinstance(k, int) or isinstance(k, bool):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(k)}")
        if not -n_args <= k < n_args:
            raise RuntimeError(f"Got argnum={k}, but only {n_args} positional inputs")
    return tuple(k % n_args for k in nums)


def _fresh_leaves(tree, name):
    """tree's tensors replaced by leaves that require grad (aliases of those that already do,
    so that only this use of them is differentiated); and whether any already did."""
    leaves, spec = _flatten(tree)
    for x in leaves:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{name}: Expected all inputs to be Tensors, got "
                               f"{type(x).__name__}")
        if x.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
    outer = any(x.requires_grad for x in leaves)
    fresh = [x.view_as(x) if x.requires_grad else x.detach().requires_grad_() for x in leaves]
    return fresh, spec, outer


def _reaches_other_leaf(outputs, fresh):
    """Whether the graph of `outputs` reaches a leaf that requires grad other than `fresh`: a
    tensor f closed over, which makes the result a function of it too."""
    ours = {id(x) for x in fresh}
    seen, todo = set(), [y.grad_fn for y in outputs if isinstance(y, Tensor) and y.grad_fn]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for x, (fn, _) in zip(getattr(node, "inputs", ()), getattr(node, "edges", ())):
            if fn is not None:
                todo.append(fn)
            elif x.requires_grad and id(x) not in ours:
                return True
    return False


def _grads(outputs, inputs, grad_outputs, keep_graph):
    """autograd.grad with zeros (not None) for inputs the outputs do not depend on."""
    grads = _autograd_grad(outputs, inputs, grad_outputs, retain_graph=True,
                           create_graph=keep_graph, allow_unused=True)
    return [zeros_like(x) if g is None else g for g, x in zip(grads, inputs)]


def _result(t, keep_graph):
    """An output as a transform returns it: detached unless it must stay differentiable."""
    return t if keep_graph or not isinstance(t, Tensor) else t.detach()


# ----- grad, grad_and_value, vjp, jvp -----------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (the gradient of func's scalar output with respect to the
    arguments `argnums`, that output); with has_aux, func returns (output, aux) and the result
    is (gradient, (output, aux))."""
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        args, fresh, specs, outer = list(args), [], [], False
        with enable_grad():
            for k in nums:
                leaves, spec, o = _fresh_leaves(args[k], "grad_and_value(f)(*args)")
                args[k] = _unflatten(spec, leaves)
                fresh.append(leaves)
                specs.append(spec)
                outer |= o
            output = func(*args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(output, tuple) and len(output) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should "
                                       "be a tuple: (output, aux) if has_aux is True")
                output, aux = output
            if not isinstance(output, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(output)}")
            if output.ndim != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got tensor with {output.ndim} dims. Maybe "
                                   "you wanted to use the vjp or jacrev APIs instead?")
            flat = [x for leaves in fresh for x in leaves]
            keep = is_grad_enabled() and (outer or _reaches_other_leaf([output], flat))
            grads = iter(_grads([output], flat, None, keep))
        per_arg = [_unflatten(spec, [next(grads) for _ in leaves])
                   for spec, leaves in zip(specs, fresh)]
        g = per_arg[0] if isinstance(argnums, int) else tuple(per_arg)
        value = _result(output, keep)
        if has_aux:
            aux_leaves, aux_spec = _flatten(aux)
            return g, (value, _unflatten(aux_spec, [_result(a, keep) for a in aux_leaves]))
        return g, value
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of func's scalar output with respect to the
    arguments `argnums` (an int, or a tuple of them: a tuple of gradients); with has_aux,
    func returns (output, aux) and the result is (gradient, aux)."""
    both = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = both(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]): vjp_fn(cotangents) returns the vector-Jacobian products
    v^T J, one per primal, for cotangents shaped like func's output(s)."""
    fresh, specs, outer = [], [], False
    with enable_grad():
        args = []
        for p in primals:
            leaves, spec, o = _fresh_leaves(p, "vjp(f, *primals)")
            args.append(_unflatten(spec, leaves))
            fresh.append(leaves)
            specs.append(spec)
            outer |= o
        output = func(*args)
        aux = None
        if has_aux:
            if not (isinstance(output, tuple) and len(output) == 2):
                raise RuntimeError("vjp(f, *primals): output of function f should be a tuple: "
                                   "(output, aux) if has_aux is True")
            output, aux = output
    out_leaves, out_spec = _flatten(output)
    if not all(isinstance(y, Tensor) for y in out_leaves):
        raise RuntimeError("vjp(f, *primals): Expected f to be a function that has "
                           "non-empty output and that outputs only Tensors")
    flat = [x for leaves in fresh for x in leaves]
    keep = is_grad_enabled() and (outer or _reaches_other_leaf(out_leaves, flat))

    def vjp_fn(cotangents):
        ct_leaves, ct_spec = _flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as "
                               f"pytree structure of outputs to the function. cotangents: "
                               f"{_spec_str(ct_spec)}, primal output: {_spec_str(out_spec)}")
        with enable_grad():
            grads = iter(_grads(out_leaves, flat, ct_leaves, keep))
        return tuple(_unflatten(spec, [next(grads) for _ in leaves])
                     for spec, leaves in zip(specs, fresh))

    result = _unflatten(out_spec, [_result(y, keep) for y in out_leaves])
    if not has_aux:
        return result, vjp_fn
    aux_leaves, aux_spec = _flatten(aux)
    return result, vjp_fn, _unflatten(aux_spec, [_result(a, keep) for a in aux_leaves])


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J t[, aux]): the Jacobian-vector product with `tangents`, computed in
    reverse mode by the double-vjp trick: u -> J^T u is linear in u, so its own vjp with the
    cotangent t is J t."""
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it "
                           "should be valid to call f(*primals).")
    if not isinstance(tangents, tuple) or len(tangents) != len(primals):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           "the same python structure")
    t_leaves = [t for tree in tangents for t in _flatten(tree)[0]]
    with enable_grad():
        args, fresh, outer = [], [], False
        for p, t in zip(primals, tangents):
            leaves, spec, o = _fresh_leaves(p, "jvp(f, primals, tangents)")
            if len(_flatten(t)[0]) != len(leaves):
                raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents "
                                   "to have the same python structure")
            args.append(_unflatten(spec, leaves))
            fresh += leaves
            outer |= o
        output = func(*args)
        aux = None
        if has_aux:
            output, aux = output
        out_leaves, out_spec = _flatten(output)
        keep = is_grad_enabled() and (outer or _reaches_other_leaf(out_leaves, fresh))
        u = [zeros_like(y).requires_grad_() for y in out_leaves]
        jt_u = _grads(out_leaves, fresh, u, keep_graph=True)  # J^T u, a function of u
        pairs = [(g, t) for g, t in zip(jt_u, t_leaves) if g.requires_grad]
        jt = (_grads([g for g, _ in pairs], u, [t for _, t in pairs], keep) if pairs
              else [zeros_like(y) for y in out_leaves])
    result = (_unflatten(out_spec, [_result(y, keep) for y in out_leaves]),
              _unflatten(out_spec, jt))
    return result + (aux,) if has_aux else result


# ----- Jacobians and Hessians --------------------------------------------------------------------
def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """A function returning the Jacobian of func's output(s) with respect to the arguments
    `argnums`: for an output y and an argument x, a tensor of shape y.shape + x.shape, one
    reverse-mode pass (a vjp with a one-hot cotangent) per element of y."""
    def wrapper(*args):
        nums = _argnums(argnums, len(args))
        # vjp over the differentiated arguments only: the others are fixed
        def partial(*diff):
            full = list(args)
            for k, a in zip(nums, diff):
                full[k] = a
            return func(*full)
        out, vjp_fn, *aux = vjp(partial, *(args[k] for k in nums), has_aux=has_aux)
        out_leaves, out_spec = _flatten(out)
        per_output = []
        for i, y in enumerate(out_leaves):
            rows = []
            for j in range(max(y.numel(), 0)):
                onehots = [zeros_like(z) for z in out_leaves]
                onehots[i].view(-1)[j] = 1.0
                rows.append(vjp_fn(_unflatten(out_spec, onehots)))
            per_arg = []
            for a, k in enumerate(nums):
                in_leaves, in_spec = _flatten(args[k])
                jac = []
                for m, x in enumerate(in_leaves):
                    if rows:
                        row_m = [_flatten(r[a])[0][m] for r in rows]
                        jac.append(stack(row_m).reshape(tuple(y.shape) + tuple(x.shape)))
                    else:
                        jac.append(zeros_like(x).new_zeros(tuple(y.shape) + tuple(x.shape)))
                per_arg.append(_unflatten(in_spec, jac))
            per_output.append(per_arg[0] if isinstance(argnums, int) else tuple(per_arg))
        result = _unflatten(out_spec, per_output)
        return (result, aux[0]) if has_aux else result
    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian as jacrev gives it (PyTorch computes it in forward mode: the same values;
    here it is the same reverse-mode computation)."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func, argnums=0):
    """The Hessian of func's scalar output: the Jacobian of its gradient."""
    return jacfwd(jacrev(func, argnums), argnums)


# ----- vmap --------------------------------------------------------------------------------------
def _in_dims_per_leaf(in_dims, args, name):
    """in_dims spread over every leaf of args (an int or None per leaf), PyTorch's errors."""
    if not isinstance(in_dims, int | tuple) and in_dims is not None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` "
                         f"to be int or a (potentially nested) tuple matching the structure of "
                         f"inputs, got: {type(in_dims)}.")
    if isinstance(in_dims, tuple) and len(in_dims) != len(args):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                         f"compatible with the structure of `inputs`. in_dims has structure "
                         f"of length {len(in_dims)} but inputs has {len(args)} elements")
    dims = []
    for k, a in enumerate(args):
        d = in_dims[k] if isinstance(in_dims, tuple) else in_dims
        leaves, _ = _flatten(a)
        if isinstance(d, tuple | list | dict):
            dims += _flatten(d)[0]
        else:
            dims += [d] * len(leaves)
    return dims


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over dimension `in_dims` of its arguments (None: not mapped, the same
    argument for every slice), the results stacked along `out_dims`. A loop over the slices:
    func must not modify its arguments in place. randomness: "error" refuses random ops,
    "same" gives every slice the same draws, "different" draws anew for each slice (not
    PyTorch's numbers: it draws for the whole batch at once)."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

    name = getattr(func, "__name__", repr(func))

    def wrapper(*args, **kwargs):
        leaves, spec = _flatten(list(args))
        dims = _in_dims_per_leaf(in_dims, args, name)
        sizes = []
        for x, d in zip(leaves, dims):
            if d is None:
                continue
            if not isinstance(x, Tensor):
                raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                                 f"for an input but the input is of type {type(x)}. We cannot "
                                 "vmap over non-Tensor arguments, please use None as the "
                                 "respective in_dim")
            if not -x.ndim <= d < x.ndim:
                raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                                 f"for some input, but that input is a Tensor of "
                                 f"dimensionality {x.ndim} so expected in_dim to satisfy "
                                 f"-{x.ndim} <= in_dim < {x.ndim}.")
            sizes.append(x.shape[d])
        if not sizes:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): at least one input "
                             "must be a Tensor mapped over a dimension (in_dim not None)")
        if len(set(sizes)) > 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sizes} for the mapped dimension")
        start = get_rng_state()
        outs = []
        for b in range(sizes[0]):
            if randomness == "same":
                set_rng_state(start)
            sliced = [x if d is None else x.select(d, b) for x, d in zip(leaves, dims)]
            before = get_rng_state() if randomness == "error" else None
            outs.append(func(*_unflatten(spec, sliced), **kwargs))
            if before is not None and before != get_rng_state():
                raise RuntimeError("vmap: called random operation while in randomness error "
                                   "mode. Please either use the 'same' or 'different' "
                                   "randomness flags on vmap or perform the randomness "
                                   "operation out of vmap")
        out_leaves = [_flatten(o)[0] for o in outs]
        _, out_spec = _flatten(outs[0])
        other = [y for y in out_leaves[0] if not isinstance(y, Tensor)]
        if other:
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                             f"{type(other[0])}. Did you mean to set out_dims= to None for "
                             "output?")
        odims = (_flatten(out_dims)[0] if isinstance(out_dims, tuple | list)
                 else [out_dims] * len(out_leaves[0]))
        stacked = [stack([o[i] for o in out_leaves], dim=odims[i])
                   for i in range(len(out_leaves[0]))]
        return _unflatten(out_spec, stacked)
    return wrapper


# ----- modules as functions of their parameters ---------------------------------------------------
@contextlib.contextmanager
def _swapped(module, tensors, tie_weights):
    """module's parameters and buffers named in `tensors` ("layer.weight": t) replaced by those
    tensors for the duration (and a weight tied to one of them, with tie_weights, too)."""
    owners = {}
    for name, _ in list(module.named_parameters(remove_duplicate=False)) + \
            list(module.named_buffers(remove_duplicate=False)):
        owner, _, attr = name.rpartition(".")
        owners[name] = (module.get_submodule(owner) if owner else module, attr)
    if tie_weights:  # every name of a shared tensor takes the replacement given for one of them
        by_tensor = {}
        for name, (m, attr) in owners.items():
            t = m._parameters.get(attr) if attr in m._parameters else m._buffers.get(attr)
            by_tensor.setdefault(id(t), []).append(name)
        for names in by_tensor.values():
            given = [n for n in names if n in tensors]
            for n in names:
                if given and n not in tensors:
                    tensors = {**tensors, n: tensors[given[0]]}
    saved = []
    try:
        for name, t in tensors.items():
            m, attr = owners[name]
            store = m._parameters if attr in m._parameters else m._buffers
            saved.append((store, attr, store[attr]))
            store[attr] = t
        yield
    finally:
        for store, attr, original in reversed(saved):
            store[attr] = original


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """module(*args, **kwargs) with its parameters and buffers replaced by the tensors in
    `parameter_and_buffer_dicts` (a dict, or a sequence of dicts, by state_dict names), the
    module left as it was afterwards: a module as a pure function of its weights."""
    dicts = (parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, list | tuple)
             else [parameter_and_buffer_dicts])
    tensors = {}
    for d in dicts:
        repeated = [k for k in d if k in tensors]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
        tensors.update(d)
    names = {n for n, _ in module.named_parameters(remove_duplicate=False)} | \
            {n for n, _ in module.named_buffers(remove_duplicate=False)}
    unexpected = [k for k in tensors if k not in names]
    missing = sorted(n for n in names if n not in tensors)
    if strict and (unexpected or missing):
        parts = []
        if unexpected:
            parts.append(f"Unexpected key(s): {', '.join(repr(k) for k in unexpected)}.")
        if missing:
            parts.append(f"Missing key(s): {', '.join(repr(k) for k in missing)}.")
        raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                           + "\n\t".join(parts))
    if unexpected:
        raise AttributeError(f"'{type(module).__name__}' has no parameter or buffer named "
                             f"'{unexpected[0]}'")
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _swapped(module, tensors, tie_weights):
        return module(*args, **(kwargs or {}))


def stack_module_state(models):
    """(params, buffers) of several models of one architecture, each name's tensors stacked
    along a new first dimension (params detached, then requiring grad as the originals did): the
    state vmap(functional_call) runs an ensemble on."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({type(m) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same training/"
                           "eval mode.")
    params = {}
    for name, p in models[0].named_parameters():
        stacked = stack([dict(m.named_parameters())[name].detach() for m in models])
        params[name] = stacked.requires_grad_(p.requires_grad)
    buffers = {name: stack([dict(m.named_buffers())[name] for m in models])
               for name, _ in models[0].named_buffers()}
    return params, buffers


__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "stack_module_state", "vjp", "vmap"]
