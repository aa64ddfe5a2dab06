"""In-place updates: `p.add_(g, alpha=-lr)`, `h.mul_(w)`, `x.copy_(y)`, `x += 1`, `x[i] = v`.

They write into the tensor's own memory (so views and the base see the change) and bump its
version counter. There are two paths:

* Nothing to record (no_grad, or neither the tensor nor an operand requires grad - optimizers and
  initialisers): the op runs straight on the NumPy array.
* A gradient will be needed: the op is recorded, as PyTorch does. The out-of-place op runs on the
  tensor's current value (`_snapshot`), the result is written into the tensor's memory, and the
  tensor takes the result's place in the graph (`_rebase`): after `y = x * 2; y.add_(1)`, y's
  creator is AddBackward0, whose input is y's old value (MulBackward0). Nodes recorded before
  keep the edge to the old value (Function.edges). When the tensor is a view, its base is
  rebased too, through a CopySlices node (the base's old value with the view's region replaced),
  so the base's gradient also flows through the edit.

Two things stop a silent wrong gradient: a leaf that requires grad (or a view of one) refuses
in-place ops in grad mode, and a node that saved a tensor for backward (Mul saves its inputs)
finds the tensor at a newer version and raises (Function.saved_tensors).
"""

import math
import weakref

import numpy as np

from ..autograd.function import (
    _TENSOR_TYPES,
    Function,
    multi_output_view_error,
    refresh_view,
    replay_view,
    view_step,
)
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..dtypes import dtype_name
from ..random import in_memory_order, resolve
from ..tensor import Tensor
from ._util import (
    broadcast_shape,
    check_alpha,
    fill_value_array,
    not_implemented_for,
    renamed,
    result_type,
    scalar_array,
    sizes_arg,
)

_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")

_NO_GRAD_VIEW = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your "
    "code by moving both the view and the inplace either both inside the no_grad block (if you "
    "don't want the inplace to be tracked) or both outside (if you want the inplace to be "
    "tracked).")


# ----- checks -----------------------------------------------------------------------------------
def _check_inplace(t, recording=False):
    """Refuse in grad mode, like PyTorch, in-place edits of a leaf that requires grad (or of a
    view of one), and of a view taken under no_grad from a tensor that requires grad."""
    if is_grad_enabled():
        if t._requires_grad and t.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        if t._view is None:
            return
        base, steps, synced = t._view
        if steps is None and (t._requires_grad or recording):
            raise RuntimeError(multi_output_view_error(t, "is being modified inplace"))
        if synced[0] != t._version:
            refresh_view(t)
        if base._requires_grad and not t._requires_grad:
            raise RuntimeError(_NO_GRAD_VIEW)
        if base._requires_grad and base.grad_fn is None and (t._requires_grad or recording):
            raise RuntimeError("a view of a leaf Variable that requires grad is being used "
                               "in an in-place operation.")


def overlaps(a):
    """Whether the array holds one element in several places (an expanded tensor: stride 0)."""
    return 0 in a.strides and a.size > 1 and any(
        s == 0 and n > 1 for s, n in zip(a.strides, a.shape))


def _check_overlap(a):
    """Writing each element of an expanded tensor is refused (the result would depend on the
    order of the writes), like PyTorch."""
    if overlaps(a):
        raise RuntimeError(_OVERLAP)


def _value(other, t=None):
    """The operand as an array or number; with `t`, check it broadcasts to t's shape."""
    v = other._data if isinstance(other, Tensor) else other
    if t is not None and isinstance(v, int) and not isinstance(v, bool) and t.dtype.kind in "iu":
        v = scalar_array(v, t.dtype)  # wraps around like PyTorch's (uint8: 300 is 44)
    if t is not None and np.shape(v) != t._data.shape:
        try:
            ok = np.broadcast_shapes(np.shape(v), t._data.shape) == t._data.shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"output with shape {list(t.shape)} doesn't match the broadcast "
                               f"shape of the in-place operand {list(np.shape(v))}")
    return v


def _check_result_dtype(t, v, floating_result=False):
    """Arithmetic in place can't store a float result into an integer or bool tensor, nor an
    integer result into a bool tensor (PyTorch's rule; NumPy would silently cast)."""
    kind, result = t._data.dtype.kind, "f" if floating_result else np.asarray(v).dtype.kind
    if (kind in "biu" and result == "f") or (kind == "b" and result in "iu"):
        raise RuntimeError(f"result type {'Float' if result == 'f' else 'Long'} can't be cast to "
                           f"the desired output type {_TENSOR_TYPES[t.dtype.name]}")


def _writable(t):
    """t's array, ready to be written (a read-only array is first replaced by a private copy)."""
    if not t._data.flags.writeable:
        t._data = t._data.copy()
    return t._data


# ----- recording an in-place op in the graph ------------------------------------------------------
def _records(t, *operands):
    """Whether the edit must be recorded: grad mode is on and t or an operand requires grad."""
    return is_grad_enabled() and (t._requires_grad or any(
        isinstance(o, Tensor) and o._requires_grad for o in operands))


def _snapshot(t, copy=False):
    """A tensor standing for t's current value and place in the graph.

    `copy=True` when the recorded op saves its input for backward (mul_ needs the old values
    for the operand's gradient): the copy keeps them after t is overwritten. Otherwise it shares
    t's memory and version counter, so a backward that did read it would notice the edit.
    """
    if t._view is not None and t._view[2][0] != t._version:
        refresh_view(t)
    s = Tensor._make(t._data.copy() if copy else t._data)
    s.grad_fn, s._output_nr, s._requires_grad = t.grad_fn, t._output_nr, t._requires_grad
    if not copy:
        s._version_cell = t._version_cell
    return s


def _take_history(t, r):
    """t takes r's place in the graph (r holds t's new value)."""
    t.grad_fn, t._output_nr, t._requires_grad = r.grad_fn, r._output_nr, r._requires_grad
    fn, nr = r.grad_fn, r._output_nr
    if t._retains_grad and fn is not None:  # retain_grad() follows t to its new creator
        fn.outputs = fn.outputs[:nr] + (weakref.ref(t),) + fn.outputs[nr + 1:]
        if fn.saves_outputs:  # the saved output is t from now on: watch t's version
            fn.output_versions = fn.output_versions[:nr] + (t._version,) + \
                fn.output_versions[nr + 1:]


def _region(a, steps):
    """(array, index) such that `array[index]` is the region of the array a that `steps` select
    (the last step is often an index, which may pick elements rather than a view)."""
    for step in steps[:-1]:
        a = view_step(*step).forward(a)
    cls, state = steps[-1]
    if "index" in state:  # x[index] (GetItem)
        return a, state["index"]
    return view_step(cls, state).forward(a), ...


def _rebase(t, r):
    """t's memory now holds r's values: bump the version and give t r's history (for a view,
    record the write on its base)."""
    if t._view is None:
        t._version += 1
        _take_history(t, r)
    else:
        record_write(t, (), r)


def record_write(t, steps, src):
    """Record (for the graph) that the region `steps` of t now holds src; the write is done.

    One CopySlices node on t's base (t itself if t is no view) with the view's steps followed by
    `steps`, like PyTorch: the base's gradient reaches exactly the memory that was not written.
    Then t, if a view, takes its history anew from the new base.
    """
    base, prefix, synced = t._view or (t, (), None)
    t._version += 1
    _take_history(base, CopySlices(prefix + steps)(_snapshot(base), src))
    if synced is not None:
        synced[0] = t._version
        _take_history(t, replay_view(prefix, base))


def _record(t, out_of_place, reads_self=False):
    """Run `out_of_place(old t)` in the graph, write the result into t, and rebase t on it."""
    _check_inplace(t, recording=True)
    _check_overlap(t._data)
    r = out_of_place(_snapshot(t, copy=reads_self))
    if r.dtype != t.dtype:
        r = r.to(t.dtype)
    np.copyto(_writable(t), r._data)
    _rebase(t, r)
    return t


def inplace_apply(t, op, *operands):
    """t <- op(t), in t's memory (`F.relu(x, inplace=True)`); recorded when a gradient is needed
    (by t, or by one of the tensors among `operands` that op also reads)."""
    if _records(t, *operands):
        return _record(t, op, reads_self=True)
    _check_inplace(t)
    _check_overlap(t._data)
    with no_grad():
        return _write(t, op(t)._data)


class CopySlices(Function):
    """Records `base[region] = src` for the graph; the write itself is already in base's memory.

    The region is the view of base that `steps` take (a slice, a transpose, ..., or an index).
    The old values in the region were overwritten, so base's old value gets the gradient
    everywhere else, and src gets the region's gradient (summed where src was broadcast).
    """

    saves_values = False
    grad_fn_name = "torch::autograd::CopySlices"  # PyTorch's name (its repr: <CopySlices>)

    def __init__(self, steps):
        self.steps = steps
        if len(steps) == 1 and steps[0][1].get("advanced"):  # x[index_tensor] = v
            self.grad_fn_name = "IndexPutBackward0"

    def forward(self, base, src):
        return base

    def backward(self, gy):
        from .arithmetic import sum_to

        base, src = self.inputs
        g_base = g_src = None
        if self.needs_input_grad[0]:
            from .indexing import masked_fill

            written = np.zeros(gy.shape, dtype=bool)
            a, index = _region(written, self.steps)
            a[index] = True
            g_base = masked_fill(gy, written, 0)  # (zero, not gy * 0: a NaN there is no gradient)
        if self.needs_input_grad[1]:
            g_src = sum_to(replay_view(self.steps, gy), src.shape).to(src.dtype)
        return g_base, g_src


class Copy(Function):
    """`t.copy_(src)` (also fill_, zero_, normal_...) recorded: the result is src, broadcast and
    cast to t's dtype; t's old value is overwritten, so it gets no gradient."""

    saves_values = False

    def __init__(self, grad_fn_name="torch::autograd::CopyBackwards"):
        self.grad_fn_name = grad_fn_name

    def forward(self, old, src):
        return np.broadcast_to(src, old.shape).astype(old.dtype)

    def backward(self, gy):
        from .arithmetic import sum_to

        old, src = self.inputs
        g_old = Tensor._make(np.zeros(old.shape, gy.dtype)) if self.needs_input_grad[0] else None
        return g_old, sum_to(gy, src.shape).to(src.dtype) if self.needs_input_grad[1] else None


# ----- the ops ----------------------------------------------------------------------------------
def _write(t, result, where=True):
    """Store `result` into t's array (same dtype, same shape) and bump the version. With a bool
    mask `where`, only its True positions are written: the others are left untouched, which
    matters when t is expanded (one element in several places: writing an unchanged copy of an
    element would put its old value back over the new one)."""
    _check_inplace(t)
    if np.shape(result) != t._data.shape:
        result = np.broadcast_to(result, t._data.shape)  # raises for non-broadcastable shapes
    with np.errstate(over="ignore"):  # a float too large for t's float type is inf, silently
        np.copyto(_writable(t), result, casting="unsafe", where=where)
    t._version += 1
    return t


def _copy_from(t, src, grad_fn_name):
    """copy_/fill_/zero_/normal_/uniform_: t <- src (a Tensor or an array, broadcast)."""
    if _records(t, src):
        src = src if isinstance(src, Tensor) else Tensor._make(np.asarray(src))
        return _record(t, lambda old: Copy(grad_fn_name)(old, src))
    return _write(t, _value(src))


def _arith(t, other, v, np_op, out_of_place, reads_self):
    """add_/sub_/mul_/div_: `np_op(t, v)` on the array, or `out_of_place(old t)` when recorded."""
    if _records(t, other):
        return _record(t, out_of_place, reads_self)
    _check_inplace(t)
    _check_overlap(t._data)
    with np.errstate(all="ignore"):  # x / 0 is inf, silently, as in PyTorch
        np_op(_writable(t), v, out=t._data, casting="unsafe")
    t._version += 1
    return t


def _plus(t, other, alpha, np_op, out_of_place):
    """add_/sub_: t <- t + alpha * other (or minus)."""
    kind = result_type(t, other).kind
    check_alpha(kind, alpha)
    if kind == "b":  # a bool result casts alpha to bool, as PyTorch
        alpha = bool(alpha)
    v = _value(other, t)
    if alpha != 1:
        v = v * alpha
    _check_result_dtype(t, v)
    return _arith(t, other, v, np_op, lambda old: out_of_place(old, other, alpha=alpha)
                  if isinstance(other, Tensor) else out_of_place(old, v), False)


def add_(self, other, alpha=1):
    from .arithmetic import add

    return _plus(self, other, alpha, np.add, add)


def sub_(self, other, alpha=1):
    from .arithmetic import _is_bool, sub

    if _is_bool(self) or _is_bool(other):
        return sub(self, other)  # (PyTorch's error for a bool operand)
    return _plus(self, other, alpha, np.subtract, sub)


def mul_(self, other):
    from .arithmetic import mul

    v = _value(other, self)
    _check_result_dtype(self, v)
    return _arith(self, other, _half_number(self, v), np.multiply, lambda old: mul(old, other),
                  True)


def div_(self, other):
    from .arithmetic import div

    v = _value(other, self)
    _check_result_dtype(self, v, floating_result=True)  # true division
    return _arith(self, other, _half_number(self, v), np.divide, lambda old: div(old, other),
                  True)


def _half_number(t, v):
    """A Python number next to a float16 tensor as a float32 scalar, so that NumPy computes in
    float32 and rounds once (as PyTorch's half kernels do: x.mul_(0.1) does not round 0.1 to
    float16 first); any other operand as it is."""
    if t.dtype == np.float16 and isinstance(v, int | float) and not isinstance(v, bool):
        return np.float32(v)
    return v


def zero_(self):
    return _copy_from(self, np.zeros((), self.dtype), "ZeroBackward0")


def fill_(self, value):
    if isinstance(value, Tensor):
        return _copy_from(self, value, "FillBackward3")  # PyTorch's name for a tensor value
    if isinstance(value, int | float | np.number):
        value = fill_value_array(value, self.dtype)
    return _copy_from(self, np.asarray(value), "FillBackward2")


def copy_(self, src):
    a = _value(src)
    if np.shape(a) != self._data.shape:
        shape = broadcast_shape(self._data.shape, np.shape(a))  # (PyTorch's error if not)
        if shape != self._data.shape:
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the "
                               f"broadcast shape {list(shape)}")
    _check_overlap(self._data)
    return _copy_from(self, src if isinstance(src, Tensor) else np.asarray(a),
                      "torch::autograd::CopyBackwards")


def clamp_(self, min=None, max=None):
    from .selection import check_clamp_bounds, clamp

    check_clamp_bounds("clamp_", min, max)
    if _records(self, min, max):
        return _record(self, lambda old: clamp(old, min, max), reads_self=True)
    _check_overlap(self._data)
    for bound in (min, max):
        if bound is not None:
            _check_result_dtype(self, _value(bound))
            if isinstance(bound, int | float | np.number):
                fill_value_array(bound, self.dtype)  # PyTorch's error for 300 into uint8
    return _write(self, np.clip(self._data, _value(min), _value(max)))


def normal_(self, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2): PyTorch's values, in memory order (a non-contiguous tensor one
    normal at a time, as PyTorch fills it)."""
    _check_float(self, "normal_")
    _check_overlap(self._data)
    rng, row_major = resolve(generator), self._data.flags.c_contiguous
    draws = in_memory_order(self._data, lambda shape: rng.normal(shape, mean, std, self.dtype,
                                                                 row_major=row_major))
    return _copy_from(self, draws, "NormalBackward0")


def uniform_(self, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b): PyTorch's values, in memory order."""
    _check_float(self, "uniform_")
    _check_overlap(self._data)
    rng = resolve(generator)
    draws = in_memory_order(self._data, lambda shape: rng.uniform(shape, a, b, self.dtype))
    return _copy_from(self, draws, "UniformBackward0")


def random_(self, *args, generator=None, **kwargs):
    """random_(from=0, to=None) or random_(to): fill with integers uniform in [from, to), as
    PyTorch draws them (randint's draws). Without `to`, every integer the dtype holds from
    `from` on (floats: up to 2^mantissa, exactly representable; bool: False or True)."""
    bounds = dict(zip(("from", "to"), args if len(args) != 1 else (0, args[0])), **kwargs)
    low, high = int(bounds.get("from", 0)), bounds.get("to")
    kind = self.dtype.kind
    if high is None:
        high = 2 if kind == "b" else (1 << np.finfo(self.dtype).nmant + 1) + 1 if kind == "f" \
            else int(np.iinfo(self.dtype).max) + 1
    high = int(high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    if kind in "iu":
        info = np.iinfo(self.dtype)
        for name, v in (("from", low), ("to - 1", high - 1)):
            if not info.min <= v <= info.max:
                raise RuntimeError(f"{name} is out of bounds for {_C_TYPES[self.dtype.name]}")
    _check_overlap(self._data)
    rng = resolve(generator)
    draws = in_memory_order(self._data, lambda shape: rng.randint(low, high, shape))
    return _copy_from(self, draws.astype(self.dtype), "RandomBackward0")


def _uniform64(self, generator):
    """One float64 uniform in [0, 1) per element, as PyTorch's uniform_real_distribution<double>
    (in memory order)."""
    rng = resolve(generator)
    return in_memory_order(self._data, lambda shape: rng._unit(math.prod(shape), np.float64)
                           .reshape(shape))


def _continuous(self, name, type_name):
    """PyTorch's error for a continuous distribution drawn into an integer or bool tensor (its
    message names the dtype as `type_name` does)."""
    if self.dtype.kind != "f":
        raise RuntimeError(f"{name} distribution is a continuous probability distribution. dtype "
                           f"must be a floating point but you specified {type_name(self.dtype)}")
    _check_overlap(self._data)


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with Exp(lambd) draws: -log(1 - u) / lambd (PyTorch's values for a seed)."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    _continuous(self, "Exponential", lambda d: _TENSOR_TYPES.get(d.name, d.name))
    rng = resolve(generator)
    draws = in_memory_order(self._data, lambda shape: rng.exponential(shape, lambd, self.dtype))
    return _copy_from(self, draws, "ExponentialBackward0")


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy(median, sigma) draws: median + sigma tan(pi (u - 1/2))."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    _continuous(self, "Cauchy", lambda d: "long int" if d == np.int64 else
                _C_TYPES.get(d.name, d.name))
    u = _uniform64(self, generator)
    return _copy_from(self, median + sigma * np.tan(np.pi * (u - 0.5)), "CauchyBackward0")


def geometric_(self, p, *, generator=None):
    """Fill with Geometric(p) draws (the number of trials up to the first success, from 1):
    ceil(log(u) / log(1 - p))."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    _check_overlap(self._data)
    with np.errstate(divide="ignore"):
        draws = np.ceil(np.log(_uniform64(self, generator)) / np.log1p(-p))
    return _copy_from(self, draws.astype(self.dtype), "GeometricBackward0")


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp(N(mean, std^2)) draws, one float64 normal per element (PyTorch's serial
    lognormal_distribution, so a seed gives its values)."""
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    not_implemented_for(self, "log_normal_cpu")
    _check_overlap(self._data)
    rng = resolve(generator)
    draws = in_memory_order(self._data, lambda shape: np.exp(
        [rng._normal_one(mean, std) for _ in range(math.prod(shape))]).reshape(shape))
    return _copy_from(self, draws, "LogNormalBackward0")


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 draws, 1 with probability p (a number, or a tensor broadcast to self):
    u < p for a uniform u, drawn as PyTorch draws it (so a seed gives PyTorch's values): in the
    probabilities' dtype for a tensor p, in float64 (two 32-bit draws each) for a number."""
    probs = p._data if isinstance(p, Tensor) else np.asarray(p, np.float64)
    if isinstance(p, Tensor):
        not_implemented_for(p, "bernoulli_tensor_cpu_p_")
        if probs.size and not (probs.min() >= 0 and probs.max() <= 1):
            raise RuntimeError(_P_IN_RANGE)
    elif not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    _check_overlap(self._data)
    # PyTorch draws u in the probabilities' dtype for a tensor p (float64 uniforms for float64
    # probabilities), and in float64 for a number p
    work = np.float64 if probs.dtype == np.float64 or not isinstance(p, Tensor) else np.float32
    rng = resolve(generator)
    u = in_memory_order(self._data, lambda shape: rng.uniform(shape, dtype=work))
    return _copy_from(self, (u < probs).astype(self.dtype), "BernoulliBackward2")


_P_IN_RANGE = ("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
               "message be improved?  If so, please report an enhancement request to PyTorch.)")


_C_TYPES = {"int8": "signed char", "uint8": "unsigned char", "int16": "short", "int32": "int",
            "int64": "long"}


def _check_float(t, fn):
    if t.dtype.kind != "f":
        raise RuntimeError(f"{fn} only supports floating-point dtypes, got {dtype_name(t.dtype)}")



# ----- in-place changes of shape: t_, transpose_, unsqueeze_, squeeze_, resize_ -----------------
def _reshape_in_place(t, view_op, grad_fn_name):
    """t becomes view_op(t), the same memory seen with another shape (t.t_(), t.unsqueeze_(0)),
    keeping its identity: its version is bumped and, when a gradient is needed, its history is
    the view op's (under `grad_fn_name`, PyTorch's name for the in-place op). A view stays a
    view of its base, one step further."""
    recording = _records(t)
    _check_inplace(t, recording)
    r = renamed(view_op(_snapshot(t)), grad_fn_name)
    if t._view is not None:  # the new view of the base: the old steps, then the op's
        base, steps, synced = t._view
        extra = r._view[1] if r._view is not None else ()
        t._view = None if steps is None or extra is None else (base, steps + extra, synced)
    t._data = r._data
    t._version += 1
    if recording:
        _take_history(t, r)
        if t._view is not None:
            t._view[2][0] = t._version
    return t


def t_(self):
    from .shape import t

    if self.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is "
                           f"{self.ndim}D")
    return _reshape_in_place(self, t, "TBackward1")


def transpose_(self, dim0, dim1):
    from .shape import transpose

    return _reshape_in_place(self, lambda x: transpose(x, dim0, dim1), "TransposeBackward1")


def unsqueeze_(self, dim):
    from .join import unsqueeze

    return _reshape_in_place(self, lambda x: unsqueeze(x, dim), "UnsqueezeBackward1")


def squeeze_(self, dim=None):
    from .join import squeeze

    kind = 3 if dim is None else 4 if isinstance(dim, int | np.integer) else 5  # (overloads)
    return _reshape_in_place(self, lambda x: squeeze(x, dim), f"SqueezeBackward{kind}")


def resize_(self, *sizes, memory_format=None):
    """Give self the shape `sizes`, keeping its elements in row-major order: the first
    min(old, new) numel elements are kept, new elements are 0 (PyTorch leaves them
    uninitialised). Refused for a tensor that requires grad, as in PyTorch."""
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = sizes_arg(sizes, "resize_", "size", 1)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                           f"{list(shape)}")
    n = int(np.prod(shape, dtype=np.int64))
    if n == self._data.size and self._data.flags.c_contiguous:
        self._data = self._data.reshape(shape)  # the same memory
    else:
        flat = np.zeros(n, self.dtype)
        kept = min(n, self._data.size)
        flat[:kept] = self._data.reshape(-1)[:kept]
        self._data, self._view = flat.reshape(shape), None
    self._version += 1
    return self


def resize_as_(self, the_template, memory_format=None):
    """resize_ to the_template's shape."""
    return resize_(self, the_template.shape)

def _iop(fn):
    def iop(self, other):
        return fn(self, other)

    return iop


def _method_in_place(name):
    """t.exp_() (t.pow_(2), t.lerp_(end, w), t.addcmul_(a, b), ...): t <- t.exp() in t's own
    memory, recorded like any in-place op (also when only a tensor operand requires grad). The
    result must keep t's shape, and a float result for an integer tensor is PyTorch's error,
    not a silent truncation."""
    def in_place(self, *args, **kwargs):
        def op(x):
            result = getattr(x, name)(*args, **kwargs)
            if result.shape != x.shape:
                raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the "
                                   f"broadcast shape {list(result.shape)}")
            if result.dtype.kind == "f" and x.dtype.kind != "f":
                raise RuntimeError(f"result type Float can't be cast to the desired output type "
                                   f"{_TENSOR_TYPES[x.dtype.name]}")
            return result

        operands = [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
        return inplace_apply(self, op, *operands)

    in_place.__name__ = name + "_"
    return in_place


_METHODS_IN_PLACE = ("exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "sin",
                     "cos", "tanh", "sigmoid", "abs", "neg", "relu", "square", "pow", "floor",
                     "ceil", "round", "trunc", "sign", "sinh", "cosh", "asinh", "acosh", "atanh",
                     "arcsinh", "arccosh", "arctanh", "frac", "atan2", "arctan2", "hypot",
                     "heaviside", "nan_to_num", "lerp", "addcmul", "addcdiv", "cumprod", "cumsum",
                     "clamp_min", "clamp_max", "erf", "erfc", "exp2", "tril", "triu",
                     "scatter_add", "addmm", "addmv", "baddbmm", "logical_not", "logical_and",
                     "logical_or", "logical_xor", "bitwise_not", "bitwise_and", "bitwise_or",
                     "bitwise_xor", "sgn")

TENSOR_METHODS = {
    **{name + "_": _method_in_place(name) for name in _METHODS_IN_PLACE},
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "zero_": zero_, "fill_": fill_,
    "copy_": copy_, "clamp_": clamp_, "clip_": clamp_, "normal_": normal_, "uniform_": uniform_,
    "random_": random_, "exponential_": exponential_, "cauchy_": cauchy_,
    "geometric_": geometric_, "log_normal_": log_normal_, "bernoulli_": bernoulli_,
    "t_": t_, "transpose_": transpose_, "swapdims_": transpose_,
    "swapaxes_": transpose_, "unsqueeze_": unsqueeze_, "squeeze_": squeeze_, "resize_": resize_,
    "resize_as_": resize_as_,
    "__iadd__": _iop(add_), "__isub__": _iop(sub_), "__imul__": _iop(mul_),
    "__itruediv__": _iop(div_), "__idiv__": _iop(div_), "__ipow__": _method_in_place("pow"),
}

# The torch-level forms of in-place methods: torch.exp_(x) is x.exp_() (it returns x).
_TORCH_IN_PLACE = ("abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_",
                   "arcsinh_", "arctan_", "arctanh_", "asin_", "asinh_", "atan_", "atanh_",
                   "ceil_", "clamp_", "clip_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_",
                   "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "i0_",
                   "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_",
                   "negative_", "rad2deg_", "reciprocal_", "round_", "rsqrt_", "sigmoid_", "sin_",
                   "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_")


def _torch_in_place(name):
    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"input.{name}(...): the op written into input, which is returned."
    return function


TORCH_FUNCTIONS = {name: _torch_in_place(name) for name in _TORCH_IN_PLACE}  # numpy2gpt.exp_
__all__ = []
