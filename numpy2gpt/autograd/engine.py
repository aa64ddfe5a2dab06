"""The backward engine: run every Function's backward exactly once, in a valid order.

Why order matters: a node may only run its backward once the gradients from *all* of its
consumers have been summed. In a residual graph `y = a + f(f(a))`, `a` is reached by a short
path and a long one; running nodes in creation order (the original numpy2gpt's bug) or by plain
depth-first search runs `a`'s creator too early, with only part of its gradient.

The engine does what PyTorch's does: first count, for each node, how many edges lead into it from
nodes that will run (its dependencies); then run a node when its count reaches zero. That is a
topological order of *any* DAG (Kahn's algorithm). Among ready nodes the most recently created runs
first, which frees memory early and keeps the order deterministic.

Thread safety: everything the engine keeps lives in local variables of `run_backward`, so two
threads may each run the backward of their own graph at once (as in PyTorch). Heap
entries are `(-sequence_nr, fn)` with unique sequence numbers, so two Functions are never compared.
"""

import functools
import heapq
import threading

import numpy as np

from ..dtypes import dtype_name
from ..sparse import add_sparse_into
from ..tensor import POST_ACCUMULATE_GRAD_HOOKS, TENSOR_HOOKS, Tensor
from . import anomaly_mode
from .function import NODE_POST_HOOKS, NODE_PRE_HOOKS, Function, refresh_view
from .grad_mode import set_grad_enabled

# The running numpy2gpt.profiler.profile, or None (set by the profiler). One check per backward
# pass and per node, so the engine costs nothing extra when nobody is profiling.
_profiler = None

_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors "
          "after they have already been freed). Saved intermediate values of the graph are freed "
          "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
          "backward through the graph a second time or if you need to access saved tensors after "
          "calling backward.")


def _count_dependencies(roots):
    """Map each reachable Function to the number of graph edges that point into it."""
    deps = {}
    stack = list(roots)
    seen = set(stack)
    while stack:
        fn = stack.pop()
        if fn.released:
            raise RuntimeError(_FREED)
        for f, _ in fn.edges:
            if f is not None:
                deps[f] = deps.get(f, 0) + 1
                if f not in seen:
                    seen.add(f)
                    stack.append(f)
    return deps


def _prune(roots, inputs):
    """For autograd.grad: the part of the graph between the outputs and `inputs`.

    Returns (reach, run): `reach[fn]` says fn must receive its gradient (it created one of the
    inputs or leads to one); `run` holds the nodes whose backward must run (they lead further,
    to an input). The rest is left alone, like PyTorch does, so e.g. a fused op upstream of the
    inputs does not stop `create_graph=True`. Children are decided before parents with an
    explicit-stack post-order walk (no recursion limit on deep graphs).
    """
    targets = {t.grad_fn for t in inputs if t.grad_fn is not None}
    leaf_ids = {id(t) for t in inputs if t.grad_fn is None}
    reach, run = {}, set()
    stack = [(fn, False) for fn in roots]
    while stack:
        fn, children_done = stack.pop()
        if fn in reach:
            continue
        if not children_done:
            stack.append((fn, True))
            stack.extend((f, False) for f, _ in fn.edges if f is not None and f not in reach)
            continue
        leads_on = any(id(x) in leaf_ids if f is None else reach[f]
                       for x, (f, _) in zip(fn.inputs, fn.edges))
        if leads_on:
            run.add(fn)
        reach[fn] = leads_on or fn in targets
    return reach, run


def make_seeds(outputs, grad_outputs):
    """Check the outputs and their incoming gradients (PyTorch's messages); ones for scalars."""
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(grad_outputs)} gradients for {len(outputs)} outputs; pass "
                           "one gradient (or None) per output")
    seeds = []
    for i, (y, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(y, Tensor):
            raise TypeError(f"expected a Tensor as output {i}, got {type(y).__name__}")
        if y._view is not None and y._view[2][0] != y._version:
            refresh_view(y)  # a view whose base was edited in place since it was taken
        if not y.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
        if g is None:
            if y.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs (output "
                                   f"{i} has shape {list(y.shape)}); pass the gradient explicitly")
            g = Tensor._make(np.ones_like(y._data))
        elif not isinstance(g, Tensor) or g.dtype != y.dtype:  # like PyTorch: cast to y's dtype
            g = Tensor._make(np.asarray(g._data if isinstance(g, Tensor) else g, dtype=y.dtype))
        if g.shape != y.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape!r} "
                               f"and output[{i}] has a shape of {y.shape!r}.")
        seeds.append(g)
    return seeds


def _add(a, b):
    """Sum two gradients (either may be None); b is the one that came last. PyTorch adds a
    sparse sum the other way round, b + a (which also makes sparse + dense the dense sum)."""
    if a is None:
        return b
    if b is None:
        return a
    return b + a if a.is_sparse else a + b


def run_backward(outputs, grad_outputs, retain_graph=False, create_graph=False, inputs=None,
                 capturing=None):
    """Propagate `grad_outputs` from `outputs` back through the graph.

    With `inputs=None` (Tensor.backward) gradients accumulate into the `.grad` of leaves (and of
    non-leaves that called `retain_grad()`). With `inputs` given (autograd.grad) nothing is
    accumulated; the gradient w.r.t. each of `inputs` is returned instead (None if unreachable),
    and only the part of the graph between the outputs and `inputs` runs. `capturing` sets what
    `capturing()` reports while this pass runs (default: whether `inputs` are given).
    """
    outer = getattr(_pass, "capturing", False)
    _pass.capturing = inputs is not None if capturing is None else capturing
    try:
        if _profiler is not None:  # numpy2gpt.profiler is recording: it times the pass too
            return _profiler.time_engine(_run_backward, outputs, grad_outputs, retain_graph,
                                         create_graph, inputs)
        return _run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs)
    finally:
        _pass.capturing = outer


# Per thread, whether the backward pass running now hands its gradients to `inputs`
# (autograd.grad, backward(inputs=...)) instead of accumulating them into .grad: a reentrant
# checkpoint, whose own pass accumulates into the leaves, must refuse to run in such a pass.
_pass = threading.local()


def capturing():
    """True while this thread's backward pass returns gradients for `inputs` (see _pass)."""
    return getattr(_pass, "capturing", False)


def _run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs):
    capture = None if inputs is None else {id(t): None for t in inputs}
    captured_nodes = {} if inputs is None else {
        (t.grad_fn, t._output_nr): id(t) for t in inputs if t.grad_fn is not None}
    # ids of arrays a .grad must not take as its own: the caller's gradients (a gradient passed
    # through unchanged, as by an addition, would otherwise alias them) and those already stored
    given_to_leaves = {id(g._data) for g in grad_outputs if g is not None}

    def deliver_to_leaf(t, g, shared=False):  # shared: a hook may hold g (or return a held one)
        if capture is not None:
            if id(t) in capture:
                capture[id(t)] = _add(capture[id(t)], g)
            return
        a = None if g.is_sparse else g._data  # (a sparse gradient's arrays are never edited)
        owned = a is None or not (shared or a.base is not None or id(a) in given_to_leaves or
                                  not a.flags.writeable)
        stored = accumulate_grad(t, g, create_graph, owned, given_to_leaves)
        if stored is not None:
            given_to_leaves.add(id(stored))

    # Seed: gradients of the outputs themselves.
    buffers = {}  # Function -> list of summed gradients, one slot per output
    leaf_seeds = []  # (output, gradient) for outputs that are leaves, delivered once counted
    for y, g in zip(outputs, grad_outputs):
        if y.grad_fn is None:
            leaf_seeds.append((y, g))
        else:
            if y.grad_fn.released:
                raise RuntimeError(_FREED)
            slots = buffers.setdefault(y.grad_fn, [None] * len(y.grad_fn.outputs))
            slots[y._output_nr] = _add(slots[y._output_nr], g)

    roots = list(buffers)
    deps = _count_dependencies(roots)
    # Leaves with hooks (register_hook, post-accumulate-grad): how many graph edges still have
    # to bring them a gradient. Their gradient is held and summed until that reaches zero, then
    # goes through the hooks. Nothing to do when no hook is registered anywhere.
    leaf_uses = _count_hooked_leaf_uses(roots, deps, outputs) if (
        capture is None and (POST_ACCUMULATE_GRAD_HOOKS or TENSOR_HOOKS)) else None
    held = {}  # id(hooked leaf) -> the sum of the gradients its edges delivered so far
    for y, g in leaf_seeds:
        _to_leaf(y, g, leaf_uses, held, deliver_to_leaf)
    node_hooks = bool(TENSOR_HOOKS)  # (checked once per pass: no cost per node without hooks)
    reach, run = (None, None) if inputs is None else _prune(roots, inputs)
    ready = [(-fn.sequence_nr, fn) for fn in roots if deps.get(fn, 0) == 0]
    heapq.heapify(ready)
    call_backward = _call_backward_checked if anomaly_mode._enabled else _call_backward
    if NODE_PRE_HOOKS or NODE_POST_HOOKS:  # some node has hooks of its own (checked once a pass)
        call_backward = functools.partial(_call_backward_hooked, call_backward)

    # NumPy's floating-point warnings off (log(0), 0 * inf, overflow): PyTorch gives the
    # inf / NaN silently
    with set_grad_enabled(create_graph), np.errstate(all="ignore"):
        while ready:
            _, fn = heapq.heappop(ready)
            grads = buffers.pop(fn)
            if reach is not None and not reach[fn]:
                continue  # leads to none of `inputs` (nor do the nodes behind it)
            kept = grads  # what retain_grad / autograd.grad get of fn's outputs
            if node_hooks:  # the hooks of fn's outputs see their summed gradients first (None
                # for an output that got none, e.g. an unused piece of split, as in PyTorch)
                grads = [_run_tensor_hooks((id(fn), i), g) for i, g in enumerate(grads)]
                if run is None or fn not in run:  # (like PyTorch: an autograd.grad input gets
                    kept = grads  # its unhooked gradient when the graph runs on behind it)
            _retain_and_capture(fn, kept, captured_nodes, capture)
            if run is not None and fn not in run:
                continue  # created an input, and nothing behind it is wanted
            if _profiler is None:
                input_grads = call_backward(fn, grads, create_graph)
            else:  # numpy2gpt.profiler is recording: it times the node's backward
                input_grads = _profiler.time_backward(fn, call_backward, grads, create_graph)
            fn_inputs, fn_edges = fn.inputs, fn.edges
            if not retain_graph:
                fn.release()
            for x, (f, nr), g in zip(fn_inputs, fn_edges, input_grads):
                if f is None:
                    if leaf_uses is not None:  # some leaf has hooks: they may be x's
                        _to_leaf(x, g if x.requires_grad else None, leaf_uses, held,
                                 deliver_to_leaf)
                    elif g is not None and x.requires_grad:
                        deliver_to_leaf(x, g)
                    continue
                if g is not None:
                    if g.is_sparse:  # (embedding's, into a non-leaf: backwards take dense ones)
                        g = g.to_dense()
                    slots = buffers.setdefault(f, [None] * len(f.outputs))
                    slots[nr] = _add(slots[nr], g)
                else:
                    buffers.setdefault(f, [None] * len(f.outputs))
                deps[f] -= 1
                if deps[f] == 0:
                    heapq.heappush(ready, (-f.sequence_nr, f))

        if capture is not None and TENSOR_HOOKS:  # hooks of leaf inputs see their summed grads
            for key in {id(t) for t in inputs if t.grad_fn is None}:
                if capture[key] is not None and key in TENSOR_HOOKS:
                    capture[key] = _run_tensor_hooks(key, capture[key])

    if capture is not None:
        return [capture[id(t)] for t in inputs]
    return None


def _count_hooked_leaf_uses(roots, deps, outputs):
    """id(leaf) -> number of edges into that leaf, for the leaves that have hooks."""
    def hooked(x):
        return id(x) in POST_ACCUMULATE_GRAD_HOOKS or id(x) in TENSOR_HOOKS

    uses = {}
    for y in outputs:
        if y.grad_fn is None and hooked(y):
            uses[id(y)] = uses.get(id(y), 0) + 1
    for fn in set(roots).union(deps):
        for x, (f, _) in zip(fn.inputs, fn.edges):
            if f is None and hooked(x) and x.requires_grad:
                uses[id(x)] = uses.get(id(x), 0) + 1
    return uses


def _to_leaf(x, g, leaf_uses, held, deliver_to_leaf):
    """One edge brings leaf `x` its gradient `g` (None: nothing). A leaf without hooks gets it
    at once; a hooked leaf's gradients are summed in `held` until its last edge, then the sum
    goes through its register_hook hooks, into `.grad`, and its post-accumulate-grad hooks run."""
    left = None if leaf_uses is None else leaf_uses.get(id(x))
    if left is None:
        if g is not None:
            deliver_to_leaf(x, g)
        return
    held[id(x)] = _add(held.get(id(x)), g)
    if left > 1:
        leaf_uses[id(x)] = left - 1
        return
    del leaf_uses[id(x)]
    g = held.pop(id(x))
    if g is not None:
        deliver_to_leaf(x, _run_tensor_hooks(id(x), g), id(x) in TENSOR_HOOKS)
    for hook in list(POST_ACCUMULATE_GRAD_HOOKS.get(id(x), ())):
        returned = hook(x)
        if returned is not None:  # PyTorch's checks of what the hook returned
            if not isinstance(returned, Tensor):
                raise TypeError(f"expected Variable, but hook returned "
                                f"'{type(returned).__name__}'")
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")


def _run_tensor_hooks(key, g):
    """Pass gradient `g` through the register_hook hooks under `key`, in registration order:
    each sees the previous one's result; one returning None leaves the gradient as it was."""
    for hook in list(TENSOR_HOOKS.get(key, ())):
        out = hook(g)
        if out is None:
            continue
        name = getattr(hook, "__name__", type(hook).__name__)
        if not isinstance(out, Tensor):
            raise TypeError(f"expected Variable, but hook returned '{type(out).__name__}'")
        if g is None:
            raise RuntimeError("can't replace a None gradient with a non-None value")
        if out.shape != g.shape:
            raise RuntimeError(f"hook '{name}' has changed the size of value")
        if out.dtype != g.dtype:
            raise RuntimeError(f"hook '{name}' has changed the type of value (was {g.type()} "
                               f"got {out.type()})")
        g = out
    return g


def accumulate_grad(t, g, create_graph, owned, stored_this_pass=()):
    """Add gradient g into t.grad, as PyTorch's AccumulateGrad does. Returns the array that
    became t.grad's own memory (None if none did).

    Recorded (create_graph): a new tensor each time. Else the sum goes into the existing .grad
    in place (the same tensor, and memory it may view, keeps it), unless that .grad is read-only
    or was stored in this pass (`stored_this_pass`: it may alias gradients still flowing). A
    first gradient is stored as it is when `owned` (no one else holds its memory), else copied:
    optimizers edit .grad in place."""
    old = t.grad
    if g.is_sparse or old is not None and old.is_sparse:
        return _accumulate_sparse(t, old, g, stored_this_pass)
    if create_graph:
        t.grad = g if old is None else old + g
        return None
    if old is not None and id(old._data) not in stored_this_pass and old._data.flags.writeable:
        np.add(old._data, g._data, out=old._data)
        old._version += 1
        return None
    if old is not None:
        t.grad = old + g.detach()
        return None
    a = g._data if owned else g._data.copy()
    t.grad = Tensor._make(a)
    return a


def _accumulate_sparse(t, old, g, stored_this_pass):
    """accumulate_grad when either gradient is sparse (embedding(sparse=True)'s), as PyTorch's
    AccumulateGrad: a first one is stored as it is (its arrays are never edited in place);
    sparse + sparse stays sparse, added into the stored tensor in place (a sum within one pass
    is new + old, PyTorch's order); anything with a dense one becomes dense."""
    if old is None:  # (then g is the sparse one)
        t.grad = g.detach()
        return g._vals
    if old.is_sparse and id(old._vals) in stored_this_pass:  # this pass's first gradient
        t.grad = g + old
        return t.grad._vals if t.grad.is_sparse else None
    if old.is_sparse and g.is_sparse:
        old.add_(g)
    elif old.is_sparse or id(old._data) in stored_this_pass or not old._data.flags.writeable:
        t.grad = g + old if old.is_sparse else old + g
    else:  # dense .grad, sparse gradient: its entries are added in place
        add_sparse_into(old._data, g)
        old._version += 1
    return None


def _retain_and_capture(fn, grads, captured_nodes, capture):
    """Store gradients of non-leaf outputs that asked for them (retain_grad / autograd.grad)."""
    for i, g in enumerate(grads):
        if g is None:
            continue
        if capture is not None:
            key = captured_nodes.get((fn, i))
            if key is not None:
                capture[key] = _add(capture[key], g)
            continue
        y = fn.outputs[i]()
        if y is not None and y._retains_grad and y.grad_fn is fn:  # (not since rebased in place)
            if not g.requires_grad:  # a copy of its own, as in PyTorch: g may be the caller's
                g = Tensor._make(np.array(g._data))  # or a read-only broadcast of one number
            y.grad = g if y.grad is None else y.grad + g


def _call_backward(fn, grads, create_graph):
    """Run one node's backward; return one gradient (Tensor or None) per input."""
    if all(g is None for g in grads):
        return [None] * len(fn.inputs)
    # A multi-output node whose other outputs got no gradient sees zeros there, like PyTorch.
    if len(grads) > 1 and any(g is None for g in grads) and fn.materialize_grads:
        grads = [g if g is not None else Tensor._make(np.zeros_like(a))
                 for g, a in zip(grads, _output_arrays(fn))]
    if not fn.saves_values:  # backward reads only the inputs' shapes: those they had in forward
        fn.restore_input_shapes()
    if fn.differentiable_backward:
        result = fn.backward(*grads)  # reads inputs via fn.saved_tensors, which checks versions
    elif create_graph and hasattr(fn, "composed"):
        result = _fused_backward_as_graph(fn, grads)
    else:
        if create_graph:
            raise RuntimeError(
                f"double backward is not implemented for {fn.name()} (a fused op with a "
                "hand-derived backward and no `composed` method); use the composed primitive "
                "ops for higher derivatives")
        if fn.backward_reads_inputs:
            fn._check_versions()
        result = fn.backward(*[None if g is None else g._data for g in grads])
    if not isinstance(result, tuple | list):
        result = (result,)
    if len(result) != len(fn.inputs):
        raise RuntimeError(f"{fn.name()} returned {len(result)} gradients for "
                           f"{len(fn.inputs)} inputs")
    out = []
    for x, shape, g, needed in zip(fn.inputs, fn.input_shapes, result, fn.needs_input_grad):
        if g is None or not needed:
            out.append(None)
            continue
        if not isinstance(g, Tensor):
            g = Tensor._make(g)
        elif g.is_sparse:  # embedding(sparse=True)'s gradient, made with the weight's shape
            out.append(g)
            continue
        if g._data.shape != shape:  # the input's shape in forward (not now: see Function._link)
            raise RuntimeError(f"{fn.name()} returned a gradient of shape {tuple(g.shape)} for an "
                               f"input of shape {shape}")
        if g.dtype != x.dtype:  # e.g. a float64 gradient for a float32 input: a silent upcast
            raise RuntimeError(f"{fn.name()} returned a gradient of dtype {dtype_name(g.dtype)} "
                               f"for an input of dtype {dtype_name(x.dtype)}")
        out.append(g)
    return out


def _call_backward_hooked(call_backward, fn, grads, create_graph):
    """call_backward with fn's own hooks: its pre-hooks may replace the gradients of its
    outputs first, its hooks the gradients it passes on after."""
    for hook in list(NODE_PRE_HOOKS.get(id(fn), ())):
        grads = hook_result(hook, hook(tuple(grads)), grads)
    grad_inputs = call_backward(fn, grads, create_graph)
    for hook in list(NODE_POST_HOOKS.get(id(fn), ())):
        grad_inputs = hook_result(hook, hook(tuple(grad_inputs), tuple(grads)), grad_inputs)
    return list(grad_inputs)


def hook_result(hook, out, grads):
    """What a hook on a node's gradients returned, checked as PyTorch does: None keeps `grads`,
    else a tuple of as many gradients, each a Tensor of its predecessor's shape (or None)."""
    if out is None:
        return grads
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(out, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(out).__name__}'")
    if len(out) != len(grads):
        raise RuntimeError(f"hook '{name}' has returned an incorrect number of values (got "
                           f"{len(out)}, but expected {len(grads)})")
    for new, old in zip(out, grads):
        if new is not None and old is not None:
            if not isinstance(new, Tensor):
                raise TypeError(f"expected Variable, but hook returned '{type(new).__name__}'")
            if tuple(new.shape) != tuple(old.shape):
                raise RuntimeError(f"hook '{name}' has changed the size of value")
    return list(out)


def _call_backward_checked(fn, grads, create_graph):
    """_call_backward under anomaly detection: a NaN gradient is an error, and any error is
    preceded by a warning that shows where in the forward `fn` was created."""
    try:
        out = _call_backward(fn, grads, create_graph)
        if anomaly_mode._check_nan:
            anomaly_mode.check_nan(fn, out)
    except Exception:
        anomaly_mode.warn_forward_stack(fn)
        raise
    return out


class _StandIn(Function):
    """y = x, as a node of its own: where `_fused_backward_as_graph` stops the gradient."""

    def forward(self, x):
        return x

    def backward(self, gy):
        return gy


def _fused_backward_as_graph(fn, grads):
    """A fused op's gradient recorded as a graph (create_graph=True), so it can be
    differentiated again: the op's `composed` method, the same math in differentiable ops,
    runs again on stand-ins for its inputs, and the gradient flows back through that to the
    stand-ins. Stopping at stand-ins, not at the inputs themselves, keeps each gradient the
    partial one the fused backward returns: were one input computed from another, the
    gradient would otherwise also take that path (the outer pass adds it once more)."""
    fn._check_versions()
    stand_ins = [_StandIn()(x) if need else x for x, need in zip(fn.inputs, fn.needs_input_grad)]
    outputs = fn.composed(*stand_ins)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    seeded = [(y, g) for y, g in zip(outputs, grads) if g is not None and y.requires_grad]
    wanted = [s for s, need in zip(stand_ins, fn.needs_input_grad) if need]
    found = iter(run_backward([y for y, _ in seeded], [g for _, g in seeded], True, True,
                              inputs=wanted) if seeded else [None] * len(wanted))
    return tuple(next(found) if need else None for need in fn.needs_input_grad)


def _output_arrays(fn):
    arrays = []
    for i, ref in enumerate(fn.outputs):
        y = ref()
        if y is not None:
            arrays.append(y._data)
        elif fn.saves_outputs:
            arrays.append(fn.output_arrays[i])
        else:
            raise RuntimeError(f"{fn.name()}: output {i} was freed and is needed for its zero "
                               "gradient; set saves_outputs")
    return arrays
