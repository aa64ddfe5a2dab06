"""Module backward hooks: how `register_full_backward_hook` and its pre-hook reach the engine.

A module's backward has no node of its own in the graph: its forward is many ops. So, like
PyTorch, a module call with backward hooks puts two identity nodes around its forward:

    x --[BackwardHookFunction]--> x' --forward--> y --[BackwardHookFunction]--> y'

The caller gets y' and the forward gets x' (views of y and x). In backward the engine reaches
the output node first, with dL/dy: that is `grad_output`, and the pre-hooks run there. It reaches
the input node last, once every path from y back to x' is done, with dL/dx: that is
`grad_input`, and the full hooks run there. A hook's result simply becomes what the identity
node's backward returns, so it replaces the gradient that flows on.

Also here: the legacy `register_backward_hook` (a hook on the last op of the forward) and the
global hooks that fire for every module.
"""

import warnings

import numpy as np

from ...autograd.engine import hook_result
from ...autograd.function import Function
from ...tensor import RemovableHandle, Tensor

# Hooks for every module (register_module_full_backward_hook...): "hook" and "pre" -> [_Hook].
GLOBAL_BACKWARD_HOOKS = {}
_global_is_full = [None]  # True: the global "hook"s are full hooks; False: legacy ones

_NO_INPUT_GRAD = (
    "Full backward hook is firing when gradients are computed with respect to module outputs "
    "since no inputs require gradients. See https://docs.pytorch.org/docs/main/generated/"
    "torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more details.")


class _Hook:
    """One registered hook (a distinct object per registration, so that its handle removes
    exactly this one, even when the same function is registered twice)."""

    def __init__(self, fn, with_kwargs=False, always_call=False):
        self.fn, self.with_kwargs, self.always_call = fn, with_kwargs, always_call


def _register_global(kind, hook, full):
    if full is not None:
        if _global_is_full[0] is (not full):
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks "
                               "as a global Module hook. Please use only one of them.")
        _global_is_full[0] = full
    entry = _Hook(hook)
    GLOBAL_BACKWARD_HOOKS.setdefault(kind, []).append(entry)
    return RemovableHandle(GLOBAL_BACKWARD_HOOKS, kind, entry)


def register_module_full_backward_hook(hook):
    """`hook(module, grad_input, grad_output)` for every module, as
    `Module.register_full_backward_hook` (it fires before the module's own hooks). For debugging
    and profiling. Returns a handle (`remove()`)."""
    return _register_global("hook", hook, True)


def register_module_full_backward_pre_hook(hook):
    """`hook(module, grad_output)` for every module, as `Module.register_full_backward_pre_hook`
    (it fires before the module's own pre-hooks). Returns a handle (`remove()`)."""
    return _register_global("pre", hook, None)


def register_module_backward_hook(hook):
    """The deprecated global hook: `Module.register_backward_hook` for every module."""
    return _register_global("hook", hook, False)


class BackwardHookFunction(Function):
    """y_i = x_i for each tensor: the node where a module's backward hooks run.

    Its outputs share the inputs' memory, and are marked as views that may not be edited in
    place: an in-place edit would move them onto a new node, and the hooks would be skipped
    (PyTorch refuses this too). `on_backward(node, grads)` computes what backward returns.
    """

    grad_fn_name = "BackwardHookFunctionBackward"
    saves_values = False  # an identity needs no values: backward may run through it again
    materialize_grads = False  # an output that got no gradient shows None to the hooks

    def __init__(self, on_backward):
        self.on_backward = on_backward

    def forward(self, *arrays):
        return tuple(a.view() for a in arrays)

    def backward(self, *grads):
        return self.on_backward(self, grads)


def _identity_views(tensors, on_backward):
    """Pass `tensors` through one BackwardHookFunction; return its outputs."""
    outputs = BackwardHookFunction(on_backward)(*tensors)
    for x, y in zip(tensors, outputs):
        y._version_cell = x._version_cell  # one memory, one version counter
        if x.requires_grad:
            base = x._view[0] if x._view is not None else x
            y._view = (base, None, [x._version])  # steps None: no in-place edit in grad mode
        else:  # like PyTorch's mark_non_differentiable: no gradient flows into this one
            y._requires_grad, y.grad_fn = False, None
    return outputs


def _check_replacement(new, old):
    """A hook's replacement gradient must be a Tensor (or None) like the one it replaces;
    PyTorch's messages (the hook is named 'hook' there too: the wrapper around the user's)."""
    if new is None:
        return None
    if not isinstance(new, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(new).__name__}'")
    if new.shape != old.shape:
        raise RuntimeError("hook 'hook' has changed the size of value")
    if new.dtype != old.dtype:
        raise RuntimeError(f"hook 'hook' has changed the type of value (was {old.type()} got "
                           f"{new.type()})")
    return new


class BackwardHook:
    """The backward hooks of one module call (PyTorch's torch.utils.hooks.BackwardHook).

    `setup_input_hook(args)` and `setup_output_hook(result)` wrap the tensors; between the two
    nodes' backwards this object carries grad_output from the output node to the input node.
    Non-tensor arguments and outputs keep their place in the tuples as None.
    """

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module, self.user_hooks, self.user_pre_hooks = module, user_hooks, user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = -1
        self.input_tensors_index = self.output_tensors_index = None

    @staticmethod
    def _wrap(args, on_backward):
        """args with its tensors replaced by identity views, and their positions (None when no
        tensor requires grad: then nothing is wrapped)."""
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not any(args[i].requires_grad for i in index):
            return args, None
        views = _identity_views([args[i] for i in index], on_backward)
        new = list(args)
        for i, v in zip(index, views):
            new[i] = v
        return (tuple(new) if type(args) is tuple else type(args)(*new)), index

    def _pack(self, index, values, size):
        packed = [None] * size
        for i, v in zip(index, values):
            packed[i] = v
        return tuple(packed)

    def setup_input_hook(self, args):
        args, self.input_tensors_index = self._wrap(args, self._input_backward)
        self.n_inputs = len(args)
        return args

    def setup_output_hook(self, result):
        single = not isinstance(result, tuple)
        outputs, self.output_tensors_index = self._wrap((result,) if single else result,
                                                        self._output_backward)
        self.n_outputs = len(outputs)
        return outputs[0] if single else outputs

    def _output_backward(self, node, grads):
        """dL/d(outputs) arrived: run the pre-hooks (which may replace it) and keep it for the
        full hooks. With no input requiring grad the full hooks run here, grad_input all None."""
        index = self.output_tensors_index
        self.grad_outputs = self._pack(index, grads, self.n_outputs)
        for hook in self.user_pre_hooks:
            result = hook(self.module, self.grad_outputs)
            if result is None:
                continue
            if len(result) != len(self.grad_outputs):
                raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                   f"got {len(result)}, but expected {len(self.grad_outputs)}")
            self.grad_outputs = result
        grad_outputs = self.grad_outputs
        if self.input_tensors_index is None:
            warnings.warn(_NO_INPUT_GRAD, stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                result = hook(self.module, grad_inputs, self.grad_outputs)
                if result is not None and not (isinstance(result, tuple) and
                                               all(g is None for g in result)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(_check_replacement(grad_outputs[i], x) for i, x in zip(index, node.inputs))

    def _input_backward(self, node, grads):
        """dL/d(inputs) arrived: run the full hooks (which may replace it)."""
        if self.grad_outputs is None:  # reached without passing through the module's output
            return grads  # (e.g. double backward): no grad_output to show, as in PyTorch
        # Like PyTorch's, an input that got no gradient (unused, or not requiring grad) shows
        # zeros, not None; a non-tensor argument shows None.
        grads = [g if g is not None else Tensor._make(np.zeros(x.shape, x.dtype))
                 for g, x in zip(grads, node.inputs)]
        grad_inputs = self._pack(self.input_tensors_index, grads, self.n_inputs)
        for hook in self.user_hooks:
            result = hook(self.module, grad_inputs, self.grad_outputs)
            if result is None:
                continue
            if len(result) != len(grad_inputs):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, got "
                                   f"{len(result)}, but expected {len(grad_inputs)}")
            grad_inputs = result
        self.grad_outputs = None
        return tuple(_check_replacement(grad_inputs[i], x)
                     for i, x in zip(self.input_tensors_index, node.inputs))


# ----- the deprecated register_backward_hook ------------------------------------------------
def add_legacy_hooks(module, args, result, hooks):
    """Hook the node that made the module's (first) output tensor, as PyTorch's deprecated
    `register_backward_hook` does: `hook(module, grad_input, grad_output)` then sees that one
    op's gradients. That is the module's own gradients only when its forward is a single op
    (ReLU, Tanh...); PyTorch warns (FutureWarning) in the other cases, and so does this."""
    var = result
    while not isinstance(var, Tensor):
        var = next(v for v in var.values() if isinstance(v, Tensor)) if isinstance(var, dict) \
            else var[0]
    node = var.grad_fn
    if node is None:
        return
    if "legacy_hooks" not in node.__dict__:  # first hook on this node: wrap its backward
        node.legacy_hooks = []
        node.backward = _with_legacy_hooks(node, node.backward)
    node.legacy_hooks.extend((hook, module) for hook in hooks)
    _warn_legacy(args, result, node)


def _with_legacy_hooks(node, backward):
    """node's `backward`, followed by its legacy hooks (a hook's tuple replaces grad_input)."""
    def as_tensor(g):
        return g if g is None or isinstance(g, Tensor) else Tensor._make(g)

    def hooked_backward(*grads):
        result = backward(*grads)
        fused = not node.differentiable_backward  # grads and result are NumPy arrays
        result = result if isinstance(result, tuple | list) else (result,)
        grad_inputs = tuple(as_tensor(g) if need else None
                            for g, need in zip(result, node.needs_input_grad))
        grad_outputs = tuple(as_tensor(g) for g in grads)
        for hook, module in node.legacy_hooks:  # (a tuple a hook returns replaces grad_input)
            out = hook(module, grad_inputs, grad_outputs)
            grad_inputs = tuple(hook_result(hook, out, grad_inputs))
        return tuple(g._data if fused and g is not None else g for g in grad_inputs)

    return hooked_backward


_DEPRECATED = ("is deprecated and will be removed in future versions. This hook will be missing "
               "some")
_FULL = "Please use register_full_backward_hook to get the documented behavior."


def _warn_legacy(args, result, node):
    """PyTorch's FutureWarnings for the cases where a legacy hook misses some gradients."""
    result = (result,) if isinstance(result, Tensor) else result
    if not (isinstance(result, tuple) and all(isinstance(r, Tensor) for r in result)):
        return warnings.warn("Using non-full backward hooks on a Module that does not return a "
                             f"single Tensor or a tuple of Tensors {_DEPRECATED} of the "
                             f"grad_output. {_FULL}", FutureWarning, stacklevel=4)
    if not all(isinstance(a, Tensor) for a in args):
        return warnings.warn("Using non-full backward hooks on a Module that does not take as "
                             f"input a single Tensor or a tuple of Tensors {_DEPRECATED} "
                             f"of the grad_input. {_FULL}", FutureWarning, stacklevel=4)
    out_nodes = {r.grad_fn for r in result if r.grad_fn is not None}
    if len(out_nodes) > 1:
        warnings.warn("Using a non-full backward hook when outputs are generated by different "
                      f"autograd Nodes {_DEPRECATED} grad_output. {_FULL}", FutureWarning,
                      stacklevel=4)
    elif node not in out_nodes:
        warnings.warn("Using a non-full backward hook when outputs are nested in python data "
                      f"structure {_DEPRECATED} grad_output.", FutureWarning, stacklevel=4)
    elif {a.grad_fn for a in args if a.grad_fn is not None} != {f for f, _ in node.edges}:
        # (a leaf input, or a parameter, is an edge to None here: PyTorch's AccumulateGrad)
        warnings.warn("Using a non-full backward hook when the forward contains multiple "
                      f"autograd Nodes {_DEPRECATED} grad_input. {_FULL}", FutureWarning,
                      stacklevel=4)
