"""Function: one differentiable operation, the node type of the autograd graph.

A Function subclass implements
  * `forward(*arrays)`  - the math on NumPy arrays, returning an array (or a tuple of arrays);
  * `backward(*grads)`  - given dL/d(output) for each output, return dL/d(input) for each input.

Calling an instance (`Mul()(a, b)`) runs forward and, when grad mode is on and some input requires
grad, links the graph: every output remembers its creator (`output.grad_fn`), and the creator keeps
its inputs (strong references, needed for backward) but its outputs only as *weak references*.
So the graph has no reference cycles and dies by plain reference counting as soon as the user
drops the output - no garbage collector pass needed (see README, "Why outputs are weak references").

Two flavours of backward:
  * `Function` (default): `backward` receives and returns Tensors and is written with numpy2gpt ops.
    It is therefore itself differentiable, so `create_graph=True` gives 2nd, 3rd... derivatives.
  * `FusedFunction`: `backward` works on NumPy arrays with a hand-derived formula. Faster (no graph
    bookkeeping inside backward) but not differentiable twice.
"""

import itertools
import re
import weakref

import numpy as np

from ..tensor import Tensor, _register, as_tensor
from . import anomaly_mode
from .grad_mode import enable_grad, is_grad_enabled

# Creation counter: a tie-breaker that keeps backward order deterministic. `next()` on an
# itertools.count is atomic under the GIL, so two threads building graphs at once never get the
# same number - the engine's heap then never has to compare two Functions.
_sequence = itertools.count(1)

# The running numpy2gpt.profiler.profile, or None (set by the profiler). One check per call, so
# Functions cost nothing extra when nobody is profiling.
_profiler = None

# A node's own hooks (grad_fn.register_prehook / register_hook): id(node) -> [hook], kept beside
# the nodes (and emptied when a node dies), as the tensors' hooks are.
NODE_PRE_HOOKS = {}
NODE_POST_HOOKS = {}


class Function:
    """Base class of all differentiable operations (see module docstring)."""

    differentiable_backward = True  # backward is built from Tensor ops
    saves_outputs = False  # set True when backward needs the forward's outputs
    is_view = False  # set True when output 0 may share memory with input 0 (reshape, permute)
    # Set False when backward needs only the inputs' shapes and dtypes (Add, Sum, Reshape...):
    # such a node saves no values, so, like PyTorch, backward may run through it again.
    saves_values = True
    # Set False on a fused op whose backward reads none of its inputs' values (only what its
    # forward kept, or its outputs): editing an input in place after forward is then no error,
    # as in PyTorch, whose softmax and losses save their results, not their inputs.
    backward_reads_inputs = True
    materialize_grads = True  # an output that got no gradient gets zeros in backward (not None)
    grad_fn_name = None  # the name in `grad_fn=<...>`; default "<ClassName>Backward0"
    # Which nn.Module's forward is running (for graphs clustered by module). numpy2gpt.nn installs
    # its module-name stack here, so autograd never imports nn.
    current_module_path = staticmethod(lambda: None)

    @classmethod
    def apply(cls, *args, **kwargs):
        """PyTorch's custom-Function API: `MyFn.apply(x, ...)` for a subclass with static
        `forward(ctx, *args)` and `backward(ctx, *grads)` written with Tensor ops (FunctionCtx
        says what ctx offers). Calling an instance, `Mul()(a, b)`, is this library's own way."""
        return _apply_custom(cls, args, kwargs)

    def __call__(self, *inputs):
        if _profiler is not None:  # numpy2gpt.profiler is recording: it times the call
            return _profiler.time_forward(self, inputs)
        return self._apply(inputs)

    def _apply(self, inputs):
        """Run forward on the inputs' arrays and, if a gradient will be needed, link the graph."""
        inputs = tuple(x if isinstance(x, Tensor) else as_tensor(x) for x in inputs)
        with np.errstate(all="ignore"):  # inf and NaN arise silently, as in PyTorch
            ys = self.forward(*[x._data for x in inputs])
        single = not isinstance(ys, tuple)
        outputs = tuple(Tensor._make(y) for y in ((ys,) if single else ys))
        if self.is_view:
            self._mark_views(inputs[0], outputs, single)

        if is_grad_enabled():
            for x in inputs:
                if x._view is not None and x._view[2][0] != x._version:
                    refresh_view(x)
            if any(x.requires_grad for x in inputs):
                self._link(inputs, outputs, ys)
        return outputs[0] if single else outputs

    def _mark_views(self, x, outputs, single):
        """Outputs that share x's memory are views of it (of x's base, if x is a view itself).

        A view and its base are one piece of memory: an in-place edit through either must
        invalidate graphs that saved the other, so they share the version counter. A view also
        remembers its base and how it was taken (these view Functions, replayable from their
        constructor state), so an in-place edit of the view is recorded as an edit of the base
        too (ops/inplace.py). The pieces of a multi-output view (split) cannot be replayed:
        steps None, and PyTorch's rule, refuse their in-place edits in grad mode.
        """
        base, steps, _ = x._view or (x, (), None)
        if single and steps is not None:
            steps = steps + ((type(self), dict(self.__dict__)),)
        else:
            steps = None
        for y in outputs:
            if np.may_share_memory(y._data, x._data):
                y._version_cell = x._version_cell
                y._view = (base, steps, [x._version])

    def _link(self, inputs, outputs, ys):
        """Record this call in the graph (only when a gradient will be needed)."""
        self.inputs = inputs
        # The edges to the inputs' creators, fixed now: an in-place op may later give an input
        # tensor a new creator, but this node still consumed the value it had at this moment.
        self.edges = tuple((x.grad_fn, x._output_nr) for x in inputs)
        self.needs_input_grad = tuple(x.requires_grad for x in inputs)
        self.input_versions = tuple(x._version for x in inputs)  # to detect in-place edits
        # the shapes their gradients must have: an in-place op may reshape an input later
        # (t.unsqueeze_(0), t.t_()), and this node still consumed the shape it had now
        self.input_shapes = tuple(x._data.shape for x in inputs)
        self.outputs = tuple(weakref.ref(y) for y in outputs)
        if self.saves_outputs:
            self.output_arrays = ys if isinstance(ys, tuple) else (ys,)
            self.output_versions = tuple(y._version for y in outputs)
        for i, y in enumerate(outputs):
            if y._data.dtype.kind == "f":  # integer outputs (indices) carry no gradient
                y._requires_grad = True
                y.grad_fn = self
                y._output_nr = i
        self.sequence_nr = next(_sequence)
        self.module_path = self.current_module_path()  # e.g. "transformer.h.0.attn"
        if anomaly_mode._enabled:  # where this node was made, for backward's error messages
            self.anomaly_stack = anomaly_mode.forward_stack()

    # ----- what backward may use -------------------------------------------------------------
    @property
    def saved_tensors(self):
        """The inputs, after checking that none was modified in place since forward."""
        self._check_versions()
        return self.inputs

    def saved_output(self, i=0):
        """Output `i` as a Tensor linked to this node (re-wrapped if the user dropped it)."""
        y = self.outputs[i]()
        if y is not None:
            if y._version != self.output_versions[i]:
                raise _modified_error(y, self.output_versions[i], (self, i))
            return y
        y = Tensor._make(self.output_arrays[i])
        y._requires_grad, y.grad_fn, y._output_nr = True, self, i
        return y

    def saved_input(self, i):
        """Input `i`, after checking that it was not modified in place since forward (for a
        backward that reads only some inputs: an edit of the others is no error)."""
        x, v = self.inputs[i], self.input_versions[i]
        if x._version != v:
            raise _modified_error(x, v)
        return x

    def restore_input_shapes(self):
        """Inputs whose shape an in-place op changed since forward (t.unsqueeze_(0)) become
        stand-ins of the shape they had then, for a backward that reads only their shapes."""
        if any(x._data.shape != s for x, s in zip(self.inputs, self.input_shapes)):
            self.inputs = tuple(x if x._data.shape == s else _shape_only(x, s)
                                for x, s in zip(self.inputs, self.input_shapes))

    def _check_versions(self):
        for x, v in zip(self.inputs, self.input_versions):
            if x._version != v:
                raise _modified_error(x, v)

    # ----- to implement ------------------------------------------------------------------------
    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{self.name()} has no backward")

    # ----- bookkeeping -------------------------------------------------------------------------
    def release(self):
        """Free everything saved for backward (called after backward unless retain_graph).

        A node that saves no values stays usable: its inputs become empty stand-ins of the same
        shape and dtype (leaves that receive a gradient are kept), so their memory is freed.
        """
        if not self.saves_values:
            self.inputs = tuple(
                x if needed and creator is None else _shape_only(x)
                for x, needed, (creator, _) in zip(self.inputs, self.needs_input_grad, self.edges))
            return
        name, edges = self.name(), self.edges
        self.__dict__.clear()
        self.released = True
        self.grad_fn_name = name  # the repr stays `<MulBackward0>`
        self.edges = edges  # and the graph's shape stays readable (next_functions), as in PyTorch

    released = False

    def name(self):
        """PyTorch-style node name: `grad_fn_name` if set, else e.g. Mul -> "MulBackward0"."""
        return self.grad_fn_name or type(self).__name__ + "Backward0"

    def __repr__(self):  # (PyTorch's own nodes, "torch::autograd::CopySlices", show the class)
        return f"<{self.name().removeprefix('torch::autograd::')}>"

    def register_prehook(self, hook):
        """Run `hook(grad_outputs)` before this node's backward; a tuple it returns replaces
        the gradients of the node's outputs. Returns a handle whose remove() unregisters it."""
        return _register(NODE_PRE_HOOKS, id(self), self, hook)

    def register_hook(self, hook):
        """Run `hook(grad_inputs, grad_outputs)` after this node's backward; a tuple it
        returns replaces the gradients the node passes on to its inputs."""
        return _register(NODE_POST_HOOKS, id(self), self, hook)

    @property
    def next_functions(self):
        """(creator, output index) of each input, like PyTorch's `grad_fn.next_functions`, also
        after backward has freed what the node saved; (None, 0) for a leaf (PyTorch shows its
        AccumulateGrad node there) and for an input that needs no gradient."""
        return self.edges


def view_step(cls, state):
    """A view Function rebuilt from its class and constructor state (as recorded in t._view)."""
    fn = object.__new__(cls)
    fn.__dict__.update(state)
    return fn


def replay_view(steps, x):
    """Take a view from the Tensor x again: `steps` are ((Function class, its state), ...)."""
    for cls, state in steps:
        x = view_step(cls, state)(x)
    return x


def refresh_view(t):
    """Give the view t a history that starts at its base's current one.

    An in-place edit through one alias (the base, or another view) rebases the base; views
    taken before still carry the history from then. Like PyTorch, a view whose base has been
    edited since (seen by the shared version counter) takes its history anew from the base
    when it is next used in grad mode.
    """
    base, steps, synced = t._view
    synced[0] = t._version
    if steps is None and base._requires_grad:
        raise RuntimeError(multi_output_view_error(t, "its base or another view of its base has "
                                                      "been modified inplace"))
    if base._requires_grad:
        with enable_grad():
            r = replay_view(steps, base)
        t.grad_fn, t._output_nr, t._requires_grad = r.grad_fn, r._output_nr, r._requires_grad


def multi_output_view_error(t, what):
    """PyTorch's message for a piece of a split (a multi-output view) edited in place."""
    if t.grad_fn is None:
        head = ("A view was created in no_grad mode and is being modified inplace with grad mode "
                "enabled.")
    else:
        head = f"Output {t._output_nr} of {_BACKWARD_SUFFIX.sub('', t.grad_fn.name())} is a " \
               f"view and {what}."
    return (f"{head} This view is the output of a function that returns multiple views. Such "
            "functions do not allow the output views to be modified inplace. You should replace "
            "the inplace operation by an out-of-place one.")


class FusedFunction(Function):
    """A Function whose `backward` takes and returns NumPy arrays (hand-derived gradient).

    That backward cannot be recorded, so for higher derivatives a subclass may also define
    `composed(self, *inputs)`: the same output computed from the input Tensors with
    differentiable ops. Under create_graph=True the engine differentiates that instead
    (`engine._fused_backward_as_graph`); without it, it raises."""

    differentiable_backward = False


# ----- PyTorch's custom-Function API: static forward(ctx, ...) / backward(ctx, ...) on Tensors ---
class FunctionCtx:
    """The `ctx` of a custom Function: what its forward leaves for its backward.

    `save_for_backward(*tensors)` / `saved_tensors` (checked against in-place edits, like every
    saved tensor), `needs_input_grad` (one bool per forward argument),
    `mark_non_differentiable(*outputs)`, `set_materialize_grads(False)` (backward then gets None,
    not zeros, for an output that received no gradient); any other attribute is free to set."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self.to_save, self._versions, self._non_differentiable = (), (), set()
        self._node, self._saved_outputs = None, {}  # set by apply once the node is linked

    def save_for_backward(self, *tensors):
        self.to_save = tensors
        self._versions = tuple(t._version if isinstance(t, Tensor) else None for t in tensors)

    @property
    def saved_tensors(self):
        node = self._node and self._node()
        saved = []
        for k, (t, v) in enumerate(zip(self.to_save, self._versions)):
            if node is not None and k in self._saved_outputs:  # an output: the node's own, so
                t = node.saved_output(self._saved_outputs[k])  # a 2nd backward runs through it
            elif isinstance(t, Tensor) and t._version != v:
                raise _modified_error(t, v)
            saved.append(t)
        return tuple(saved)

    def mark_non_differentiable(self, *outputs):
        self._non_differentiable.update(id(o) for o in outputs)

    def mark_dirty(self, *tensors):
        raise NotImplementedError("numpy2gpt's custom Functions cannot modify their inputs in "
                                  "place (ctx.mark_dirty): return a new tensor instead")

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class _CustomNode(Function):
    """The graph node of one `apply` of a custom Function: backward calls its static backward."""

    saves_outputs = True

    def __init__(self, cls, ctx, positions, n_args, output_positions, n_outputs):
        self.cls, self.ctx, self.positions, self.n_args = cls, ctx, positions, n_args
        # forward may return non-Tensors beside its Tensors: backward gets None for those
        self.output_positions, self.n_outputs = output_positions, n_outputs
        self.grad_fn_name = cls.__name__ + "Backward"

    @property
    def materialize_grads(self):  # (the engine gives zeros for outputs without a gradient)
        return self.ctx.materialize_grads

    def backward(self, *grads):
        if self.n_outputs != len(grads):
            every = [None] * self.n_outputs
            for i, g in zip(self.output_positions, grads):
                every[i] = g
            grads = every
        result = self.cls.backward(self.ctx, *grads)
        result = result if isinstance(result, tuple | list) else (result,)
        if len(result) < self.n_args or any(g is not None for g in result[self.n_args:]):
            raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                               f"gradients (expected {self.n_args}, got {len(result)})")
        return tuple(result[i] for i in self.positions)


def _is_static(cls, name):
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return isinstance(klass.__dict__[name], staticmethod)
    return False


def _apply_custom(cls, args, kwargs):
    """Run cls.forward on Tensors without recording it; link one _CustomNode in its place."""
    from .grad_mode import no_grad

    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    inputs = tuple(args[i] for i in positions)
    ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
    with no_grad():
        if _is_static(cls, "setup_context"):  # forward(*args), then setup_context(ctx, ...)
            out = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, out)
        else:
            out = cls.forward(ctx, *args, **kwargs)
    single = not isinstance(out, tuple)
    returned = (out,) if single else tuple(out)
    if single and not isinstance(out, Tensor):
        raise TypeError(f"{cls.__name__}.forward must return a Tensor or a tuple")
    output_positions = [i for i, o in enumerate(returned) if isinstance(o, Tensor)]
    outs = tuple(returned[i] for i in output_positions)  # the Tensors; other values pass as is
    wrapped = []  # new tensors on the outputs' memory (an output may be an input, returned as is)
    for o in outs:
        t = Tensor._make(o._data)
        t._version_cell = o._version_cell  # an edit of the output still shows in saved copies
        wrapped.append(t)
    if is_grad_enabled() and any(x.requires_grad for x in inputs):
        node = _CustomNode(cls, ctx, positions, len(args), output_positions, len(returned))
        node._link(inputs, wrapped, tuple(o._data for o in outs))
        for t, o in zip(wrapped, outs):
            if id(o) in ctx._non_differentiable:
                t._requires_grad, t.grad_fn = False, None
        # saved outputs are read back through the node (weakly held, as its outputs are: no
        # reference cycle ctx -> output -> node -> ctx)
        index = {id(o): i for i, o in enumerate(outs)}
        ctx._saved_outputs = {k: index[id(t)] for k, t in enumerate(ctx.to_save)
                              if id(t) in index and id(t) not in ctx._non_differentiable}
        ctx.to_save = tuple(None if k in ctx._saved_outputs else t
                            for k, t in enumerate(ctx.to_save))
        ctx._node = weakref.ref(node)
    if single:
        return wrapped[0]
    result = list(returned)
    for i, t in zip(output_positions, wrapped):
        result[i] = t
    return tuple(result)


def once_differentiable(backward):
    """Decorate a custom Function's static backward that is not itself differentiable: it runs
    without recording, as PyTorch's decorator of that name makes it."""
    import functools

    from .grad_mode import no_grad

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            return backward(ctx, *grads)

    return wrapper


_NO_MEMORY = bytes(16)  # one zero element of any dtype, read-only


def _shape_only(x, shape=None):
    """A tensor with x's shape (or `shape`) and dtype but no memory of its own (all strides 0)."""
    shape = x._data.shape if shape is None else shape
    return Tensor._make(np.ndarray(shape, x.dtype, buffer=_NO_MEMORY, strides=(0,) * len(shape)))


_TENSOR_TYPES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")


def _modified_error(t, expected, output_of=None):
    """PyTorch's error for a saved tensor edited in place after it was saved. It names the
    tensor's creator: the saving node itself for a saved output, else t's current creator."""
    kind = _TENSOR_TYPES.get(t.dtype.name, t.dtype.name)
    fn, nr = output_of or (t.grad_fn, t._output_nr)
    made_by = ""
    if fn is not None:  # PyTorch names the creator without "Backward0": "of Exp"
        name = _BACKWARD_SUFFIX.sub("", fn.name())
        made_by = f", which is output {nr} of {name},"
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [torch.{kind}Tensor {list(t.shape)}]{made_by} is at version {t._version}; "
        f"expected version {expected} instead. Hint: the in-place edit must come after backward(), "
        "or use the out-of-place op (e.g. `y = y + 1` instead of `y.add_(1)`).")
