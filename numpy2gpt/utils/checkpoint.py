"""Gradient checkpointing (PyTorch's torch.utils.checkpoint): trade compute for memory.

A plain forward keeps every intermediate activation alive until backward has used it.
`checkpoint(function, *args)` keeps only what `function` reads from outside (its inputs, a
Module's weights); backward runs `function` a second time, with grad on, and backpropagates
through that run. A GPT whose blocks are checkpointed keeps one (B, T, C) tensor per block
through the forward instead of all the block's activations, for one more forward of each block.

Same numbers: with `preserve_rng_state=True` (the default) the second run draws the random
numbers the first one drew (the same dropout masks), and the generator is put back afterwards,
so the gradients are bit for bit those of the model without checkpointing.

Two variants, chosen by `use_reentrant` (pass it: without it PyTorch 2.13 warns and uses True):
  * reentrant (True): the forward runs under no_grad, and one node, CheckpointFunctionBackward,
    links the outputs to the Tensor arguments. Its backward reruns the function on detached
    copies of them and runs a backward pass of its own (it re-enters the engine), which
    accumulates straight into the .grad of every leaf used (a Module's weights). So it works
    with `.backward()` only: `autograd.grad` and `backward(inputs=...)` are refused, as in
    PyTorch, and so are keyword arguments.
  * non-reentrant (False): the forward runs with grad on, to find every tensor needing a
    gradient that the function reads from outside - arguments, tensors inside lists, closures,
    parameters: the graph's "frontier". Then the recorded graph is dropped, and one node,
    CheckpointBackward, links the outputs to the frontier. Its backward reruns the function and
    asks for the gradients with respect to the frontier (`autograd.grad`); the outer pass
    delivers them. So `autograd.grad`, keyword arguments and outputs that need no gradient work.
    (PyTorch keeps the recorded graph and recomputes only the values it saved, so its outputs
    keep the real ops' grad_fn.)
"""

import contextlib
import itertools
import warnings

from .. import nn
from ..autograd import backward as autograd_backward
from ..autograd import engine
from ..autograd.function import Function, _sequence
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..random import get_rng, use_rng
from ..tensor import Tensor

_DEFAULT_DETERMINISM_MODE = "default"
_DETERMINISM_CHECKS = ("default", "none")

_NO_USE_REENTRANT = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
    "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
    "use_reentrant=False is recommended, but if you need to preserve the current default "
    "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
    "differences between the two variants.")
_NO_USE_REENTRANT_SEQUENTIAL = (
    "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
    "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
    "use_reentrant=False is recommended, but if you need to preserve the current default "
    "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
    "differences between the two variants.")
_REENTRANT_WITH_INPUTS = (
    "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing an "
    "`inputs` parameter to .backward(). To resolve this error, you can either set "
    "use_reentrant=False, or call .backward() without passing the `inputs` argument.")


class CheckpointError(RuntimeError):
    """The recomputation did not give what the forward gave (non-reentrant checkpoint)."""


def noop_context_fn():
    """The default `context_fn`: no context around the forward, none around the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check=_DEFAULT_DETERMINISM_MODE, debug=False, early_stop=True,
               **kwargs):
    """`function(*args, **kwargs)`, keeping none of its activations: backward recomputes them.

    `preserve_rng_state=True` (a keyword) makes the recomputation draw the forward's random
    numbers. `context_fn` returns two context managers, entered around the forward and around
    the recomputation (non-reentrant only). `determinism_check` ("default": the recomputed
    outputs must have the forward's shapes and dtypes, or "none"), `debug` and `early_stop`
    are accepted; the whole function is always recomputed.
    """
    if use_reentrant is None:
        warnings.warn(_NO_USE_REENTRANT, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if not use_reentrant:
        return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check,
                                             debug, args, kwargs)
    if context_fn is not noop_context_fn or debug is not False:
        raise ValueError("Passing `context_fn` or `debug` is only supported when "
                         "use_reentrant=False.")
    if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=2)
    returned = []  # CheckpointFunction.forward puts the function's return value here
    tensors = iter(CheckpointFunction.apply(function, preserve, returned, *args))
    return _replace_tensors(returned[0], lambda t: next(tensors), nested=False)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run `functions` (an nn.Sequential or a list of modules or functions) one after the other
    on `input`, in `segments` chunks: every chunk but the last is checkpointed."""
    if use_reentrant is None:
        warnings.warn(_NO_USE_REENTRANT_SEQUENTIAL, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input

        return forward

    if isinstance(functions, nn.Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1  # the last chunk runs plainly: its activations are needed right away by backward
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)


# ----- reentrant -----------------------------------------------------------------------------
class CheckpointFunction(Function):
    """The node of a reentrant checkpoint (a custom Function; grad_fn
    CheckpointFunctionBackward): forward runs the function (apply runs it under no_grad),
    backward runs it again and backpropagates through that run with a pass of its own."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, returned, *args):
        ctx.run_function = run_function
        ctx.rng = _rng_state() if preserve_rng_state else None
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*[args[i] for i in ctx.tensor_indices])
        outputs = run_function(*args)
        returned.append(outputs)
        return tuple(_tensors_in(outputs, nested=False))

    @staticmethod
    def backward(ctx, *grads):
        if engine.capturing():  # autograd.grad or backward(inputs=...): refused, as in PyTorch
            raise RuntimeError(_REENTRANT_WITH_INPUTS)
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t.detach()
            inputs[i].requires_grad = t.requires_grad
        with _replayed_rng(ctx.rng), enable_grad():
            outputs = _tensors_in(ctx.run_function(*inputs), nested=False)
        used = [(y, g) for y, g in zip(outputs, grads) if y.requires_grad]
        if not used:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not "
                               "necessary")
        # A backward pass of its own: the gradients of the detached inputs come back to this
        # node's inputs; every leaf the function used (weights) gets its .grad from this pass.
        autograd_backward([y for y, _ in used], [g for _, g in used])
        return (None, None, None) + tuple(x.grad if isinstance(x, Tensor) else None
                                          for x in inputs)


# ----- non-reentrant -------------------------------------------------------------------------
def _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, debug,
                                  args, kwargs):
    """Record the function's graph once to find its frontier, drop it, link one Checkpoint node
    from the outputs to the frontier; outputs the function did not compute with grad are
    returned as they are."""
    if debug and context_fn is not noop_context_fn:
        raise ValueError("debug=True is incompatible with non-default context_fn")
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, but "
                         f"got {determinism_check}")
    forward_context, recompute_context = context_fn()
    if not is_grad_enabled():
        return function(*args, **kwargs)
    rng = _rng_state() if preserve else None
    start = next(_sequence)  # every node recorded from now on belongs to this call
    with forward_context:
        outputs = function(*args, **kwargs)
    found = _tensors_in(outputs, nested=True)
    recorded = [i for i, t in enumerate(found)
                if t.grad_fn is not None and t.grad_fn.sequence_nr > start]
    if not recorded:  # nothing computed here needs a gradient
        return outputs
    run = _Rerun(function, args, kwargs, rng, recompute_context, determinism_check, recorded,
                 [found[i] for i in recorded])
    frontier = _frontier([found[i].grad_fn for i in recorded], start)
    linked = dict(zip(recorded, Checkpoint.apply(run, *frontier)))
    position = itertools.count()
    return _replace_tensors(outputs, lambda t: linked.get(next(position), t), nested=True)


def _frontier(nodes, start):
    """The tensors needing a gradient that the nodes recorded after `start` read from outside:
    walking back from `nodes`, each input whose creator is older than `start` (or a leaf)."""
    frontier, seen, stack = {}, set(nodes), list(nodes)
    while stack:
        node = stack.pop()
        for x, (creator, _), needed in zip(node.inputs, node.edges, node.needs_input_grad):
            if not needed:
                continue
            if creator is not None and creator.sequence_nr > start:
                if creator not in seen:
                    seen.add(creator)
                    stack.append(creator)
            else:
                frontier.setdefault(id(x), x)
    return list(frontier.values())


class Checkpoint(Function):
    """The node of a non-reentrant checkpoint (a custom Function; grad_fn CheckpointBackward):
    its inputs are the frontier, its outputs the function's outputs that need a gradient."""

    @staticmethod
    def forward(ctx, run, *frontier):
        ctx.run = run
        ctx.save_for_backward(*frontier)
        ctx.set_materialize_grads(False)  # an output that got no gradient is left out
        outputs, run.outputs = run.outputs, None  # so nothing keeps the recorded graph alive
        return tuple(outputs)

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + ctx.run.gradients(ctx.saved_tensors, grads)


class _Rerun:
    """What a non-reentrant checkpoint needs to run its function again, and the gradients of
    that run with respect to the frontier."""

    def __init__(self, function, args, kwargs, rng, context, determinism_check, positions,
                 outputs):
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng, self.context, self.determinism_check = rng, context, determinism_check
        self.positions = positions  # which of the returned tensors the node's outputs are
        self.metadata = [(t.shape, t.dtype) for t in outputs]
        self.outputs = outputs  # handed to Checkpoint.forward, which drops them

    def recompute(self):
        """The node's outputs, computed again with grad on."""
        with _replayed_rng(self.rng), enable_grad(), self.context:
            found = _tensors_in(self.function(*self.args, **self.kwargs), nested=True)
        if len(found) <= self.positions[-1]:
            raise CheckpointError(f"torch.utils.checkpoint: the recomputation returned "
                                  f"{len(found)} tensors, the forward returned more")
        outputs = [found[i] for i in self.positions]
        if self.determinism_check == "default":
            for i, (t, (shape, dtype)) in zip(self.positions, zip(outputs, self.metadata)):
                if (t.shape, t.dtype) != (shape, dtype):
                    raise CheckpointError(
                        "torch.utils.checkpoint: Recomputed values for the following tensors "
                        f"have different metadata than during the forward pass.\ntensor at "
                        f"position {i}:\nsaved metadata: {{'shape': {shape}, 'dtype': {dtype}}}"
                        f"\nrecomputed metadata: {{'shape': {t.shape}, 'dtype': {t.dtype}}}")
        return outputs

    def gradients(self, frontier, grads):
        """d(outputs)/d(frontier) weighted by `grads`, through a recomputation.

        The frontier tensors that have a creator are taken for leaves while the function runs
        again (creator set aside, then put back), so the recomputed graph stops at them: the
        outer pass goes on behind them, and a frontier tensor computed from another one does
        not get that gradient twice.
        """
        create_graph = is_grad_enabled()  # the engine runs backward in grad mode iff create_graph
        computed = [t for t in frontier if t.grad_fn is not None]
        if create_graph and computed:
            raise NotImplementedError(
                "numpy2gpt: create_graph=True through a checkpoint with use_reentrant=False is "
                "only supported when every tensor the function reads is a leaf; this one reads "
                "a computed tensor")
        creators = [(t, t.grad_fn) for t in computed]
        try:
            for t in computed:
                t.grad_fn = None
            outputs = self.recompute()
            used = [(y, g) for y, g in zip(outputs, grads) if g is not None]
            ys = [y for y, _ in used]
            # autograd.grad's pass, standing for the pass it runs in (for engine.capturing())
            return tuple(engine.run_backward(ys, engine.make_seeds(ys, [g for _, g in used]),
                                             create_graph, create_graph, inputs=list(frontier),
                                             capturing=engine.capturing()))
        finally:
            for t, creator in creators:
                t.grad_fn = creator


# ----- shared helpers ------------------------------------------------------------------------
def _rng_state():
    """The generator in use and its state now: what a recomputation replays."""
    generator = get_rng()
    return generator, generator.get_state()


@contextlib.contextmanager
def _replayed_rng(saved):
    """Run the block with the generator as it was in the forward (`saved` from _rng_state; None:
    as it is), then put it back where it was, as if the block had drawn nothing."""
    if saved is None:
        yield
        return
    generator, state = saved
    now = generator.get_state()
    generator.set_state(state)
    try:
        with use_rng(generator):
            yield
    finally:
        generator.set_state(now)


def _replace_tensors(obj, replace, nested):
    """`obj` with each Tensor t in it replaced by replace(t), in a fixed order: obj itself or the
    items of a tuple (what a custom Function returns); with `nested`, also inside lists and
    dicts, at any depth."""
    if isinstance(obj, Tensor):
        return replace(obj)
    if not nested:
        if isinstance(obj, tuple):
            return tuple(replace(x) if isinstance(x, Tensor) else x for x in obj)
        return obj
    if isinstance(obj, tuple | list):
        items = [_replace_tensors(x, replace, True) for x in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else type(obj)(items)  # namedtuple
    if isinstance(obj, dict):
        return {k: _replace_tensors(v, replace, True) for k, v in obj.items()}
    return obj


def _tensors_in(obj, nested):
    """The Tensors in `obj`, in _replace_tensors' order."""
    found = []
    _replace_tensors(obj, lambda t: found.append(t) or t, nested)
    return found


__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "noop_context_fn"]
