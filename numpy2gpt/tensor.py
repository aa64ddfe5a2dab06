"""Tensor: a NumPy array plus what autograd needs to know about it.

`_data` is the array (`.data`, as in PyTorch, is another tensor sharing it). `requires_grad`
says whether gradients flow to it; `grad_fn` is the Function that created it (None for leaves:
tensors made by the user); `grad` receives dL/d(this) after `backward()`. The math methods (`+`,
`exp`, `sum`, `reshape`, ...) are installed by `numpy2gpt/ops/__init__.py`, so this file only
holds the data and the autograd state.
"""

import itertools
import math
import operator
import re
import warnings
import weakref

import numpy as np

from . import dtypes
from .dtypes import dtype_name


class Size(tuple):
    """A tensor's shape: a tuple that prints like PyTorch's `torch.Size([2, 3])`."""

    def __repr__(self):
        return f"numpy2gpt.Size({list(self)})"

    def numel(self):
        return int(np.prod(self, dtype=np.int64))

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item  # a slice is a Size too

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __mul__(self, n):
        return Size(tuple(self) * n)

    __rmul__ = __mul__


_SCALAR_OF_GRAD_WARNING = ("Converting a tensor with requires_grad=True to a scalar may lead to "
                           "unexpected behavior.\nConsider using tensor.detach() first.")


_warned_float_of_grad = False  # float(t) of a tensor that requires grad: warned already


def _to_array(data, dtype=None):
    """Convert user data to an array with PyTorch's dtype rules: a Python float is the default
    dtype, an int int64, a bool bool; NumPy scalars, arrays and tensors keep theirs; a sequence
    takes the promotion of its elements' dtypes (a float64 NumPy scalar among Python floats
    makes it float64)."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray | np.generic):
        arr = np.asarray(data)
    else:
        if data is None:
            raise RuntimeError("Could not infer dtype of NoneType")
        data, needed_grad = _tensors_as_numbers(data) if _holds_tensor(data) else (data, False)
        if needed_grad:
            warnings.warn(_SCALAR_OF_GRAD_WARNING, stacklevel=3)
        try:
            arr = np.array(data)
        except ValueError as e:
            raise _ragged_error(data) or ValueError(
                f"could not build a tensor from {type(data).__name__}: {e}") from None
        if arr.dtype.kind in "fuO":  # NumPy's guess may not be PyTorch's (nor fit int64)
            inferred = _inferred_dtype(data)
            if dtype is None and arr.dtype.kind != "O":
                default = dtypes.get_default_dtype() if arr.dtype.kind == "f" else arr.dtype
                arr = arr.astype(inferred or default, copy=False)  # (None: no elements)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"can't convert data of type {type(data).__name__} (NumPy dtype "
                        f"{arr.dtype}) to a tensor; expected numbers or booleans")
    if dtype is not None:
        dtype = dtypes.to_dtype(dtype)
        if not isinstance(data, Tensor | np.ndarray):  # (a tensor or an array is a plain cast)
            _check_fits(arr, dtype)
        with np.errstate(over="ignore", invalid="ignore"):  # (1e40 is inf in float32)
            arr = arr.astype(dtype, copy=False)
    elif arr.dtype not in dtypes._NAMES:
        arr = arr.astype(np.int64 if arr.dtype.kind in "iu" else dtypes.get_default_dtype())
    return arr


def _ragged_error(data):
    """PyTorch's error for nested sequences that are not a rectangular block of numbers: the
    shape is read from the first element at each depth, then every sequence must match it."""
    shape, first = [], data
    while isinstance(first, list | tuple) and first:
        shape.append(len(first))
        first = first[0]

    def check(seq, dim):
        if dim == len(shape):
            return None
        if not isinstance(seq, list | tuple):
            return TypeError("not a sequence")
        if len(seq) != shape[dim]:
            return ValueError(f"expected sequence of length {shape[dim]} at dim {dim} (got "
                              f"{len(seq)})")
        return next((e for e in (check(item, dim + 1) for item in seq) if e), None)

    return check(data, 0)


def _tensors_as_numbers(data):
    """PyTorch reads a tensor inside a list as the one number it holds, keeping its dtype:
    `tensor([tensor([1.]), tensor([2.])])` has shape (2,), not (2, 1). Returns `data` with each
    such tensor replaced by a 0-d array (`data` itself when it holds none), and whether one of
    them required grad; a tensor of more than one element is PyTorch's ValueError."""
    if isinstance(data, Tensor):
        if data._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data._data.reshape(()), data.requires_grad
    if not isinstance(data, list | tuple):
        return data, False
    items = [_tensors_as_numbers(item) for item in data]
    return [item for item, _ in items], any(grad for _, grad in items)


def _holds_tensor(data):
    """Whether nested lists `data` hold a Tensor anywhere. One pass over the element types per
    level of nesting (all rows of a level at once, not a call per row), so a large list of
    numbers costs little."""
    level = [data] if isinstance(data, list | tuple) else []
    while level:
        items = list(itertools.chain.from_iterable(level))
        kinds = set(map(type, items))
        if any(issubclass(kind, Tensor) for kind in kinds):
            return True
        nested = any(issubclass(kind, list | tuple) for kind in kinds)
        level = [x for x in items if isinstance(x, list | tuple)] if nested else []
    return False


def _inferred_dtype(data):
    """The dtype PyTorch infers for nested Python data: each element's own (Python float: the
    default dtype, int: int64, bool: bool; NumPy scalars, arrays and tensors: theirs), promoted
    over all elements; None for no elements. A Python int that int64 cannot hold is PyTorch's
    error (NumPy would make it uint64 or float64 without a word)."""
    if isinstance(data, Tensor | np.ndarray | np.generic):  # (np.float64 is a float too)
        return data.dtype if data.dtype in dtypes._NAMES else None
    if isinstance(data, bool):
        return np.dtype(np.bool_)
    if isinstance(data, int):
        if not -2 ** 63 <= data < 2 ** 63:
            raise ValueError("Overflow when unpacking long long")
        return np.dtype(np.int64)
    if isinstance(data, float):
        return dtypes.get_default_dtype()
    if not isinstance(data, list | tuple):
        return None
    kinds = set(map(type, data))
    if kinds <= {float, int, bool}:  # plain Python numbers, the common case: no walk per element
        if int in kinds and not all(-2 ** 63 <= x < 2 ** 63 for x in data if type(x) is int):
            raise ValueError("Overflow when unpacking long long")
        for kind, dtype in ((float, dtypes.get_default_dtype()), (int, np.dtype(np.int64)),
                            (bool, np.dtype(np.bool_))):
            if kind in kinds:
                return dtype
        return None
    result = None
    for item in data:
        d = _inferred_dtype(item)
        if d is not None:
            result = d if result is None else dtypes.promote_types(result, d)
    return result


def _check_fits(arr, dtype):
    """PyTorch's error when a number does not fit the integer dtype asked for (NumPy wraps it):
    `tensor([300], dtype=int8)`, `tensor(nan, dtype=int64)`. An int into an unsigned dtype may
    go down to -max (two's complement, as in PyTorch: `tensor([-1], dtype=uint8)` is 255)."""
    if dtype.kind not in "iu" or arr.size == 0 or arr.dtype.kind == "b":
        return
    info = np.iinfo(dtype)
    low = -int(info.max) if dtype.kind == "u" and arr.dtype.kind in "iu" else info.min
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(arr).all() if arr.dtype.kind == "f" else True
        ok = ok and arr.min() >= low and arr.max() <= info.max
    if not ok:
        raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")


def storage_array(a):
    """The array that owns the memory the array `a` looks at: PyTorch's storage of a tensor. It
    is found by following `.base` (a view made by NumPy's stride tricks has a helper object in
    between, which holds the array it was made from as its own `.base`)."""
    while True:
        base = a.base
        if not isinstance(base, np.ndarray):
            base = getattr(base, "base", None)
            if not isinstance(base, np.ndarray):
                return a
        a = base


def type_name(obj):
    """The name PyTorch's errors give a Python object's type: 'float', 'numpy.float64'."""
    kind = type(obj)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _legacy_array(args, dtype):
    """The array of `Tensor(*args)`: sizes (ints or a Size) give zeros; one argument is data."""
    if len(args) == 1 and not isinstance(args[0], Size | int | np.integer):
        data = args[0]
        if isinstance(data, Tensor):
            return _to_array(data, dtype)
        if isinstance(data, float | complex | np.generic):  # (bool is an int, checked below)
            raise TypeError(f"new(): data must be a sequence (got {type_name(data)})")
        return _to_array(data, dtype or dtypes.get_default_dtype())
    if len(args) == 1 and isinstance(args[0], bool):
        raise TypeError("new(): data must be a sequence (got bool)")
    from .ops.creation import _size

    shape = _size(args, "new") if args else (0,)  # Tensor() is empty, like PyTorch's
    return np.zeros(shape, dtypes.to_dtype(dtype) or dtypes.get_default_dtype())


# Hooks run by the backward engine after a leaf's gradient is accumulated: id(leaf) -> [hook].
# A registry beside the tensors (emptied when a tensor dies) keeps Tensor itself small.
POST_ACCUMULATE_GRAD_HOOKS = {}
# Tensor.register_hook's hooks, run on a gradient before it is used: id(leaf) -> [hook] for a
# leaf; (id(grad_fn), output_nr) -> [hook] for a non-leaf. Like PyTorch, a non-leaf's hooks
# belong to the node that made it, so they still run if the tensor itself has been freed (or
# rebased by an in-place op: they then see the gradient of the value it had when registered).
TENSOR_HOOKS = {}


def _register(registry, key, owner, hook):
    """Append `hook` to registry[key]; the entry goes when `owner` (tensor or node) dies."""
    if key not in registry:
        registry[key] = []
        weakref.finalize(owner, registry.pop, key, None)
    registry[key].append(hook)
    return RemovableHandle(registry, key, hook)


class RemovableHandle:
    """What registering a hook returns: `remove()` unregisters it."""

    def __init__(self, registry, key, hook):
        self._registry, self._key, self._hook = registry, key, hook

    def remove(self):
        hooks = self._registry.get(self._key, ())
        if self._hook in hooks:
            hooks.remove(self._hook)
            if not hooks:  # no hooks left: the engine skips its leaf bookkeeping again
                del self._registry[self._key]

    def __enter__(self):
        return self

    def __exit__(self, *exc):  # `with module.register_forward_hook(h):` removes it at the end
        self.remove()


class Tensor:
    """An n-dimensional array that can record the operations applied to it (see module doc)."""

    __slots__ = ("_data", "_requires_grad", "_grad", "grad_fn", "_output_nr", "_retains_grad",
                 "name", "_version_cell", "_view", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, *args, requires_grad=False, name=None, dtype=None):
        """PyTorch's legacy constructor: `Tensor(2, 3)` (or `Tensor(size)`) is a 2x3 tensor of
        zeros, `Tensor(data)` copies a sequence or array into the default float dtype, and
        `Tensor(t)` shares t's memory and dtype. `requires_grad`, `name` and `dtype` are
        numpy2gpt's additions; `numpy2gpt.tensor(data)` is the usual way to make a tensor."""
        self._data = _legacy_array(args, dtype)
        self._requires_grad = False
        self._grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._retains_grad = False
        self.name = name
        self._version_cell = [0]
        self._view = None
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, array):
        """Fast constructor for op results: wrap an array without any conversion."""
        t = object.__new__(cls)
        t._data = array if isinstance(array, np.ndarray) else np.asarray(array)
        t._requires_grad = False
        t._grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._retains_grad = False
        t.name = None
        t._version_cell = [0]
        t._view = None  # (base, steps, [version]) for a view of base (see autograd/function.py)
        return t

    # ----- autograd state --------------------------------------------------------------------
    @property
    def requires_grad(self):
        """Whether gradients flow to this tensor (settable on leaves: `w.requires_grad = True`)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, requires_grad):
        if type(requires_grad) is not bool:
            raise RuntimeError("requires_grad must be a bool")
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients "
                               f"(got {dtype_name(self.dtype)})")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        self._requires_grad = bool(requires_grad)

    def requires_grad_(self, requires_grad=True):
        """Set `requires_grad` in place (only on leaves, and only for floating dtypes)."""
        if type(requires_grad) is not bool:
            raise TypeError("requires_grad_(): argument 'requires_grad' (position 1) must be bool, "
                            f"not {type_name(requires_grad)}")
        self.requires_grad = requires_grad
        return self

    @property
    def _version(self):
        """How many in-place edits this tensor's memory has seen.

        The counter is a one-element list shared with `detach()`ed copies and views of the same
        memory, so an edit through any of them invalidates a graph that saved the original.
        """
        return self._version_cell[0]

    @_version.setter
    def _version(self, value):
        self._version_cell[0] = value

    @property
    def is_leaf(self):
        """Leaves are tensors not created by a recorded op; only they get `.grad` by default."""
        return self.grad_fn is None

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value.dtype != self.dtype:
                from .ops._util import CPP_TYPE_NAMES

                raise RuntimeError(
                    f"attempting to assign a gradient with dtype "
                    f"'{CPP_TYPE_NAMES[value.dtype.name]}' to a tensor with grad_dtype "
                    f"'{_TYPE_NAMES[self.dtype].removesuffix('Tensor')}'. The gradient must "
                    "match the tensor's grad_dtype (defaults to the tensor's dtype). You can set "
                    "the tensor's grad_dtype attribute with a specific dtype, or None to allow "
                    "any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and "
                    "its gradient may break downstream systems that assume they match.")
            if value.shape != self.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value.shape)}' "
                                   f"to a tensor of size '{list(self.shape)}'. Please ensure that "
                                   "the gradient and the tensor are the same size")
        self._grad = value

    def retain_grad(self):
        """Ask a non-leaf tensor to keep its `.grad` after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self._retains_grad = True

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_post_accumulate_grad_hook(self, hook):
        """Call `hook(self)` once per backward pass, after this leaf's `.grad` has received all
        of that pass's gradient (e.g. DistributedDataParallel sends it to the other ranks then).
        Returns a handle; `handle.remove()` unregisters the hook."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        return _register(POST_ACCUMULATE_GRAD_HOOKS, id(self), self, hook)

    def register_hook(self, hook):
        """Call `hook(grad)` each time the gradient with respect to this tensor is computed;
        if it returns a tensor, that replaces the gradient (in what flows on to the inputs and
        what lands in `.grad`). A non-leaf's hooks see the sum over all its consumers, a leaf's
        the sum over all its uses, once per backward; hooks run in registration order.
        Returns a handle; `handle.remove()` unregisters the hook."""
        if self._view is not None and self._view[2][0] != self._version:
            from .autograd.function import refresh_view

            refresh_view(self)  # a view whose base was edited in place: hook its current value
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            return _register(TENSOR_HOOKS, id(self), self, hook)
        return _register(TENSOR_HOOKS, (id(self.grad_fn), self._output_nr), self.grad_fn, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (see autograd/engine.py).

        `gradient` is required unless self has one element; `retain_graph` keeps the graph's saved
        values for another backward; `create_graph` records the backward pass itself; `inputs`
        (a tensor or a sequence) limits the accumulation to those tensors' `.grad`.
        """
        from .autograd import backward

        backward(self, None if gradient is None else (gradient,), retain_graph, create_graph,
                 inputs=inputs)

    @property
    def data(self):
        """This tensor's values as a new tensor outside autograd, sharing its memory (PyTorch's
        `.data`): `p.data -= lr * p.grad` updates p in place, unrecorded. Unlike `detach()`, an
        in-place edit through it is not counted against a graph that saved this tensor. (The
        NumPy array itself is `t.numpy()`, or `t._data` inside the library.)"""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        """`t.data = other`: t now holds other's memory (values, shape and dtype), unrecorded."""
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type_name(value)}")
        self._data = value._data
        self._view = None  # t no longer shares memory with a base it was a view of

    def detach(self):
        """A new leaf sharing the same data (and version counter), cut off from the graph."""
        t = Tensor._make(self._data)
        t._version_cell = self._version_cell
        return t

    def detach_(self):
        """Cut this tensor off from the graph in place (it becomes a leaf); not a view."""
        if self._view is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as "
                "True, gradients are views of DDP buckets, and hence detach_() cannot be called on "
                "these gradients. To fix this error, please refer to the Optimizer.zero_grad() "
                "function in torch/optim/optimizer.py as the solution.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    # ----- array facts -----------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        if type(dim) is not int:
            _int_arg(dim, "size", "dim")
        _has_dims(self, dim)
        return self._data.shape[_check_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        return CPU

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    def nelement(self):
        return self._data.size

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        """Bytes of this tensor's elements (numel() * element_size())."""
        return self._data.nbytes

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_signed(self):
        """Whether the dtype holds negative numbers (floats and signed integers)."""
        return self._data.dtype.kind in "fi"

    def is_nonzero(self):
        """The one element's truth value (PyTorch's error for zero or several elements)."""
        if self._data.size != 1:
            many = "no values" if self._data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {many} is ambiguous")
        return bool(self._data.reshape(-1)[0] != 0)

    def is_same_size(self, other):
        if not isinstance(other, Tensor):
            _require_tensor(other, "is_same_size", "other", 1)
        return self.shape == other.shape

    def is_inference(self):
        """False: numpy2gpt's inference_mode makes ordinary tensors (it is no_grad)."""
        return False

    def data_ptr(self):
        """The address of the first element in memory."""
        return self._data.__array_interface__["data"][0]

    def storage_offset(self):
        """How many elements after the start of its memory block (its storage) the tensor
        starts: 0, unless it is a view that starts further in (x[1:])."""
        root = storage_array(self._data)
        return (self.data_ptr() - root.__array_interface__["data"][0]) // self._data.itemsize

    def new(self, *args):
        """The legacy constructor, in self's dtype: x.new(2, 3) is uninitialised (zeros here),
        x.new([1, 2]) holds that data, x.new() is empty."""
        if len(args) == 1 and isinstance(args[0], Tensor) and args[0].dtype != self.dtype:
            raise TypeError(f"new(): expected a tensor of dtype {self.dtype}, got "
                            f"{args[0].dtype}")
        return Tensor._make(_legacy_array(args, self.dtype))

    def apply_(self, callable):
        """Apply the Python function `callable` to each element, in place (slow; no gradient:
        refused for a tensor that requires grad)."""
        if self._requires_grad:
            raise RuntimeError("Can't call apply_() on Variable that requires grad. Use "
                               "var.detach().apply_() instead.")
        from .ops.inplace import _write

        flat = [callable(v) for v in self._data.reshape(-1).tolist()]
        return _write(self, np.asarray(flat).reshape(self.shape))

    def map_(self, tensor, callable):
        """self[i] = callable(self[i], tensor[i]) for each element (tensor broadcast to self's
        shape), in place (slow; no gradient)."""
        if self._requires_grad:
            raise RuntimeError("Can't call map_() on Variable that requires grad. Use "
                               "var.detach().map_() instead.")
        other = tensor.expand(*self.shape)._data.reshape(-1).tolist()
        from .ops.inplace import _write

        flat = [callable(a, b) for a, b in zip(self._data.reshape(-1).tolist(), other)]
        return _write(self, np.asarray(flat).reshape(self.shape))

    def is_contiguous(self, *, memory_format=None):
        """Whether the elements lie in memory in row-major order (with memory_format=
        channels_last, in (N, H, W, C) order; channels_last_3d, (N, D, H, W, C))."""
        if memory_format in CHANNELS_LAST:
            rank, order = CHANNELS_LAST[memory_format]
            return self.ndim == rank and self._data.transpose(order).flags.c_contiguous
        return self._data.flags.c_contiguous

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __hash__(self):
        return id(self)

    def __contains__(self, element):
        """`x in t`: whether some element of t equals x (a number, or a tensor compared by
        broadcasting, as in PyTorch)."""
        if not isinstance(element, Tensor | int | float | np.generic):
            raise RuntimeError("Tensor.__contains__ only supports Tensor or scalar, but you "
                               f"passed in a {type(element)}.")
        return bool((self == element).any())

    def __bool__(self):
        if self._data.size != 1:
            return self.is_nonzero()  # PyTorch's error for no values or several
        return bool(self._data)

    def __float__(self):
        global _warned_float_of_grad
        if self.requires_grad and not _warned_float_of_grad:  # PyTorch warns once per process,
            from .autograd.grad_mode import is_grad_enabled  # in grad mode, for float() (not
            # for item() or int())
            if is_grad_enabled():
                _warned_float_of_grad = True
                warnings.warn(_SCALAR_OF_GRAD_WARNING, stacklevel=2)
        return float(self._scalar())

    def __format__(self, format_spec):
        """`f"{loss:.4f}"`: a 0-d tensor formats as its Python number, as in PyTorch; any other
        tensor (and a Parameter) only with an empty spec, as its str."""
        if self._data.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    def __int__(self):
        return int(self._scalar())

    def _scalar(self):
        """The one element, for int(t) and float(t) (PyTorch's ValueError for more or fewer)."""
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._data.item()

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()))

    # ----- conversion ------------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to "
                               "Scalar")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, force=False):
        """The underlying array (shared memory). Like PyTorch, refused while grad is recorded."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self._data if dtype is None else self._data.astype(dtype, copy=False)
        return a.copy() if copy and a is self._data else a

    def __array_wrap__(self, array, context=None, return_scalar=False):
        """NumPy ufuncs on tensors (`np.exp(t)`, `np.ones(2) + t`) give tensors, as PyTorch's do;
        a 0-d result stays a 0-d tensor (NumPy's current protocol, with `return_scalar`)."""
        return Tensor._make(array) if array.dtype in dtypes._NAMES else array

    def to(self, *args, dtype=None, non_blocking=False, copy=False, memory_format=None,
           device=None):
        """`to(dtype)` / `to("cpu")` / `to(device("cpu"), dtype)` / `to(other)`: only the dtype
        matters here. self itself when nothing changes, unless `copy=True` (a new tensor, as in
        PyTorch; positionally `to(dtype, non_blocking, copy)`)."""
        flags = [a for a in args if isinstance(a, bool)]
        if len(flags) > 1:
            copy = flags[1]
        dtype = dtype_of_to_args(args, dtype, device)
        if dtype is None or dtypes.to_dtype(dtype) == self.dtype:
            if not copy:
                return self
            from .ops.arithmetic import clone

            return clone(self)
        from .ops.arithmetic import cast

        return cast(self, dtypes.to_dtype(dtype))

    def type(self, dtype=None, non_blocking=False):
        """`type()` names the tensor type ('numpy2gpt.FloatTensor'); `type(dtype)` casts, also
        to a type's name ('torch.LongTensor' or 'numpy2gpt.LongTensor')."""
        if dtype is None:
            return "numpy2gpt." + _TYPE_NAMES[self.dtype]
        if isinstance(dtype, _LegacyTensorType):  # x.type(torch.LongTensor)
            dtype = dtype.dtype
        if isinstance(dtype, str):
            if dtype.split(".")[-1] not in _DTYPE_OF_TYPE_NAME:
                raise ValueError(f"invalid type: {dtype!r}")
            dtype = _DTYPE_OF_TYPE_NAME[dtype.split(".")[-1]]
        return self.to(dtype)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool)

    def short(self):
        return self.to(dtypes.int16)

    def char(self):
        return self.to(dtypes.int8)

    def byte(self):
        return self.to(dtypes.uint8)

    def stride(self, dim=None):
        """Steps between neighbours along each dim, in elements (PyTorch's, from NumPy's bytes)."""
        a = self._data
        if a.size:
            steps = tuple(s // a.itemsize for s in a.strides)
        else:  # NumPy gives an empty array zero strides; PyTorch, a contiguous tensor's
            steps = tuple(math.prod(max(n, 1) for n in a.shape[i + 1:]) for i in range(a.ndim))
        if dim is not None:
            if type(dim) is not int:
                _int_arg(dim, "stride", "dim")
            _has_dims(self, dim)
        return steps if dim is None else steps[_check_dim(dim, self._data.ndim)]

    def ndimension(self):
        return self._data.ndim

    def is_complex(self):
        return False  # numpy2gpt has no complex dtype

    def get_device(self):
        return -1  # the CPU, as PyTorch says

    is_cuda = False
    is_cpu = True

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        check_device("cuda")

    def __repr__(self):
        return _format(self)


_TYPE_NAMES = {dtypes.float32: "FloatTensor", dtypes.float64: "DoubleTensor",
               dtypes.float16: "HalfTensor", dtypes.int64: "LongTensor", dtypes.int32: "IntTensor",
               dtypes.int16: "ShortTensor", dtypes.int8: "CharTensor", dtypes.uint8: "ByteTensor",
               dtypes.bool: "BoolTensor"}  # PyTorch's names of its tensor types
_DTYPE_OF_TYPE_NAME = {name: dtype for dtype, name in _TYPE_NAMES.items()}


class _LegacyTensorType(type):
    """The type of PyTorch's old per-dtype constructors (FloatTensor, LongTensor, ...): calling
    one makes a tensor of its dtype, and a tensor is an instance of the one naming its dtype."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args, device=None):
        """`LongTensor(data)` or `FloatTensor(*sizes)` (uninitialised: zeros here)."""
        check_device(device)
        if len(args) == 1 and isinstance(args[0], Tensor) and args[0].dtype != cls.dtype:
            raise TypeError(f"expected numpy2gpt.{cls.__name__} (got "
                            f"numpy2gpt.{_TYPE_NAMES[args[0].dtype]})")
        return Tensor._make(_legacy_array(args, cls.dtype))


LEGACY_TENSOR_TYPES = {name: _LegacyTensorType(name, (), {"dtype": dtype, "is_cuda": False,
                                                          "__module__": "numpy2gpt"})
                       for dtype, name in _TYPE_NAMES.items()}


# PyTorch's device types, in the order its error message lists them
_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                 "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")


# PyTorch's form of a device string: a type (letters and _), then optionally ":" and an index
_DEVICE_STRING = re.compile(r"[A-Za-z_]+(:(0|[1-9][0-9]*))?\Z")


class NamedConstant:
    """A constant known by its name, as PyTorch's torch.strided or torch.channels_last: printed
    as numpy2gpt.<name>, and pickled as the module-level instance of that name (a singleton)."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"numpy2gpt.{self.name}"

    def __reduce__(self):
        return self.name


class memory_format(NamedConstant):
    """A memory layout (PyTorch's torch.memory_format): contiguous_format (row-major),
    channels_last ((N, H, W, C) order for a 4-D tensor), channels_last_3d ((N, D, H, W, C)) and
    preserve_format (the input's). Values never depend on it: numpy2gpt lays tensors out by it in
    contiguous() and checks it in is_contiguous(), and accepts it wherever PyTorch takes one."""

    __slots__ = ()


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
# the channels-last formats: the rank they need, and their axes from outermost to innermost
CHANNELS_LAST = {channels_last: (4, (0, 2, 3, 1)), channels_last_3d: (5, (0, 2, 3, 4, 1))}


class device:
    """Where a tensor lives, as `torch.device` names it: `device("cpu")`, `device("cuda:1")`,
    `device("cuda", 1)`. Every numpy2gpt tensor is on the CPU (`t.device == device("cpu")`); a
    device object names other devices too, and moving a tensor there is the error "cuda" is."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 - PyTorch's argument name
        if isinstance(type, device) and index is None:
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool) and index is None:
            raise RuntimeError("Cannot access accelerator device when none is available.")
        elif not isinstance(type, str):
            got = ", ".join(type_name(a) for a in ((type,) if index is None else (type, index)))
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({got}), but expected one of: (torch.device device), "
                            f"(str type, int index = -1)")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise TypeError(f"device(): argument 'index' (position 2) must be int, not "
                            f"{type_name(index)}")
        if not type:
            raise RuntimeError("Device string must not be empty")
        if not _DEVICE_STRING.match(type):
            raise RuntimeError(f"Invalid device string: {type!r}")
        kind, colon, number = type.partition(":")
        if kind not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start "
                               f"of device string: {kind}")
        if colon:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            index = int(number)
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'torch.device' objects is not writable")

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"

    def __reduce__(self):
        return device, (self.type, self.index)


CPU = device("cpu")
_device_type = device  # (check_device's argument hides the name)


def dtype_of_to_args(args, dtype=None, device_keyword=None):
    """The dtype a `.to(...)` call asks for (None: keep it), from its positional arguments (a
    dtype, a device or its name, another tensor) and keywords; every device named is checked
    (check_device). Tensor.to and nn.Module.to share it. (Positional bools are the
    non_blocking / copy flags.)"""
    for a in args:
        if isinstance(a, bool):
            continue
        if isinstance(a, Tensor):  # t.to(other): take other's dtype
            a = a.dtype
        if isinstance(a, device):
            check_device(a)
            continue
        if isinstance(a, str):  # always a device, as in PyTorch: to("float32") is an error
            check_device(a)
            continue
        dtype = a
    check_device(device_keyword)
    return dtype


def check_device(device):
    """Devices as PyTorch's CPU-only build sees them: "cpu" (or None) is fine, CUDA is an
    AssertionError, anything else a RuntimeError (a `device` object or its string alike)."""
    if isinstance(device, str):
        _device_type(device)  # PyTorch's errors for a malformed device string
    kind = None if device is None else str(device).split(":")[0]
    if kind in (None, "cpu"):
        return
    if kind == "cuda":
        raise AssertionError("numpy2gpt not compiled with CUDA enabled: it runs on the CPU only")
    raise RuntimeError(f"numpy2gpt runs on the CPU only; got device {str(device)!r}")


def _has_dims(t, dim):
    """PyTorch's IndexError for asking a 0-d tensor about one of its dims (size, stride)."""
    if t._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")


def _check_dim(dim, ndim):
    """Normalise a (possibly negative) dim, with PyTorch's IndexError when out of range (and a
    TypeError for a dim that is no int: ops/_util.dim_arg names the op and argument in it)."""
    if type(dim) is not int:
        if isinstance(dim, bool) or not isinstance(dim, np.integer | Tensor):
            raise TypeError(f"argument 'dim' must be int, not {type_name(dim)}")
        dim = operator.index(dim)
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but "
                         f"got {dim})")
    return dim % max(ndim, 1)


def _int_arg(value, op, name, position=1):
    """ops/_util.int_arg (which imports this module, hence the import here, off the hot path)."""
    from .ops._util import int_arg

    return int_arg(value, op, name, position)


def _require_tensor(value, op, name, position):
    from .ops._util import require_tensor

    return require_tensor(value, op, name, position)


class _PrintOptions:
    """How tensors print (PyTorch's defaults): digits after the point, the element count above
    which a print is summarised, the elements shown at each end of a summarised dim, the line
    width, and scientific notation (None: chosen from the values)."""

    precision, threshold, edgeitems, linewidth, sci_mode = 4, 1000, 3, 80, None


PRINT_OPTS = _PrintOptions()
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, float("inf"), 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set how tensors print: `precision` digits (4), summarise above `threshold` elements
    (1000) showing `edgeitems` (3) at each end, lines of `linewidth` (80), `sci_mode` True/False
    to force or forbid scientific notation (None: automatic); `profile` "default", "short" or
    "full" sets the first four at once."""
    if profile in _PROFILES:
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = _PROFILES[profile]
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def _float_formatter(a):
    """Format floats like PyTorch: one style and one width for every element.

    PyTorch looks at the nonzero finite values: a spread of more than 1000x, anything above 1e8
    or below 1e-4 -> scientific `1.0000e-05`; else all whole numbers -> `2.`; else `0.5000`.
    Elements are right-aligned to the widest one, so `[-1.,  2.]` lines up.
    Returns (format function of a Python float, width).
    """
    vals = a[np.isfinite(a) & (a != 0)].astype(np.float64)
    if vals.size == 0:
        return (lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)), 1
    mags = np.abs(vals)
    lo, hi = mags.min(), mags.max()
    sci = PRINT_OPTS.sci_mode
    if sci is None:
        sci = hi / lo > 1000.0 or hi > 1e8 or lo < 1e-4
    if sci:
        one = f"{{:.{PRINT_OPTS.precision}e}}".format
    elif np.all(vals == np.ceil(vals)):
        def one(v):
            return f"{v:.0f}." if np.isfinite(v) else f"{v:.0f}"
    else:
        one = f"{{:.{PRINT_OPTS.precision}f}}".format
    # Formatted length grows with |v|, so the extreme values give the width.
    width = max(len(one(v)) for v in (vals.min(), vals.max(), lo, hi))
    return (lambda v: one(v).rjust(width)), width


def _plain_formatter(a):
    """Integers and bools: str(), right-aligned to the widest."""
    width = max((len(str(v)) for v in a.ravel().tolist()), default=1)
    return (lambda v: str(v).rjust(width)), width


def _shown(a):
    """The elements a summarised print shows (3 at each end of every long dim), like PyTorch."""
    edge = PRINT_OPTS.edgeitems
    for d in range(a.ndim):
        if a.shape[d] > 2 * edge:
            a = np.concatenate([a.take(range(edge), d), a.take(range(-edge, 0), d)], axis=d)
    return a


def _nested_str(a, indent, summarize, fmt, width):
    """PyTorch's layout: rows of as many elements as fit in a line; '...' where summarised."""
    edge = PRINT_OPTS.edgeitems
    long = summarize and a.shape[0] > 2 * edge
    rows = [*range(edge), None, *range(len(a) - edge, len(a))] if long else range(len(a))
    if a.ndim == 1:
        items = [" ..." if i is None else fmt(a[i].item()) for i in rows]
        per_line = max(1, (PRINT_OPTS.linewidth - indent) // (width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    parts = ["..." if i is None else _nested_str(a[i], indent + 1, summarize, fmt, width)
             for i in rows]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _format(t):
    """PyTorch's repr, e.g. `tensor([1., 2.], requires_grad=True)` (same layout and widths)."""
    a = t._data
    summarize = a.size > PRINT_OPTS.threshold
    shown = _shown(a) if summarize else a
    fmt, width = (_float_formatter if a.dtype.kind == "f" else _plain_formatter)(shown)
    if a.size == 0:
        body = "[]"
    elif a.ndim == 0:
        body = fmt(a.item())
    else:
        body = _nested_str(a, len("tensor("), summarize, fmt, width)
    extras = []
    if a.size == 0 and a.ndim != 1:
        extras.append(f"size={tuple(a.shape)}")
    if a.dtype != dtypes.get_default_dtype() and (a.size == 0 or a.dtype not in (dtypes.int64,
                                                                                 dtypes.bool)):
        extras.append(f"dtype={dtype_name(a.dtype)}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn={t.grad_fn!r}")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    # Suffixes go on the last line, or on a new one when they would pass 80 columns.
    out = "tensor(" + body
    last_line = len(out) - out.rfind("\n") + 1  # (PyTorch's arithmetic, off by one included)
    for e in extras:
        if last_line + len(e) + 2 > PRINT_OPTS.linewidth:
            out += ",\n" + " " * len("tensor(") + e
            last_line = len("tensor(") + len(e)
        else:
            out += ", " + e
            last_line += len(e) + 2
    return out + ")"


def as_tensor(data, dtype=None, device=None):
    """Wrap data as a Tensor without copying when it already is one with the right dtype."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    return Tensor._make(_to_array(data, dtype))


def tensor(data, dtype=None, requires_grad=False, name=None, device=None):
    """Create a leaf tensor that owns a copy of `data` (PyTorch's `torch.tensor`)."""
    check_device(device)
    arr = _to_array(data, dtype)
    t = Tensor._make(np.array(arr, copy=True))
    t.name = name
    if requires_grad:
        t.requires_grad_(True)
    return t
