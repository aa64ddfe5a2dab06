"""Small helpers shared by the op families: argument normalisation and broadcasting rules."""

import functools
import math
import operator

import numpy as np

from .. import dtypes
from ..autograd.function import _TENSOR_TYPES
from ..autograd.grad_mode import is_grad_enabled
from ..dtypes import dtype_name
from ..tensor import Tensor, _check_dim, as_tensor, type_name


def _position(position):
    return "" if position is None else f" (position {position})"


def _argument_type(value):
    """The type PyTorch's argument errors name: 'str', 'numpy.float64', 'Tensor'."""
    return "Tensor" if isinstance(value, Tensor) else type_name(value)


def int_arg(value, op, name, position=None):
    """An int argument: a Python or NumPy int or a 0-d integer tensor (PyTorch takes those), with
    PyTorch's TypeError for anything else, a bool or a float among them. `position` (counted
    from 1, from input for a function) goes in the message; None leaves it out."""
    if type(value) is int:  # the common case first: one cheap test on the hot path
        return value
    if isinstance(value, np.integer) or (isinstance(value, Tensor) and value.ndim == 0 and
                                         value.dtype.kind in "iu"):
        return int(value)
    raise TypeError(f"{op}(): argument '{name}'{_position(position)} must be int, not "
                    f"{_argument_type(value)}")


def dim_arg(dim, ndim, op, name="dim", position=None):
    """A dim argument of a tensor with `ndim` dims, as a dim in [0, ndim): an int (negative counts
    from the end), PyTorch's TypeError for another type, its IndexError when out of range."""
    if type(dim) is not int:
        dim = int_arg(dim, op, name, position)
    return _check_dim(dim, ndim)


def _is_int(value):
    return type(value) is int or isinstance(value, np.integer) or (
        isinstance(value, Tensor) and value.ndim == 0 and value.dtype.kind in "iu")


def ints_arg(value, op, name, position=None):
    """A "tuple of ints" argument (a tuple, list or Size of ints; one int counts as a 1-tuple) as
    a tuple, with PyTorch's TypeErrors: theirs name the first element by pos 0 and a later one
    by its place counted from 1 ("failed to unpack the object at pos 2")."""
    if isinstance(value, tuple | list):
        try:
            ints = tuple(map(operator.index, value))
        except TypeError:
            ints = None
        if ints is not None and not (value and type(value[0]) is bool):
            return ints
        for k, v in enumerate(value):
            if k == 0 and not _is_int(v):
                raise TypeError(f"{op}(): argument '{name}'{_position(position)} must be tuple "
                                f"of ints, but found element of type {_argument_type(v)} at pos 0")
            if not isinstance(v, bool) and not _is_int(v):
                raise TypeError(f"{op}(): argument '{name}' failed to unpack the object at pos "
                                f"{k + 1} with error \"type must be tuple of ints,but got "
                                f"{_argument_type(v)}\"")
        return tuple(int(v) for v in value)
    if _is_int(value):
        return (int(value),)
    raise TypeError(f"{op}(): argument '{name}'{_position(position)} must be tuple of ints, not "
                    f"{_argument_type(value)}")


def sizes_arg(args, op, name, position):
    """The tuple of ints of `f(2, 3)` or `f((2, 3))` (args: the positional arguments that hold
    it), with PyTorch's TypeErrors. A first argument that is no int means the sizes come as one
    sequence, so further arguments are too many (PyTorch's message)."""
    if len(args) == 1:
        return ints_arg(args[0], op, name, position)
    if args and not _is_int(args[0]):
        raise TypeError(f"{op}() takes 1 positional argument but {len(args)} were given")
    return ints_arg(args, op, name, position)


def normalize_dims(dim, ndim, op=None, position=None):
    """None -> None (all dims); int or sequence -> tuple of non-negative dims (checked). `op`
    and `position` name the argument in the TypeError for a dim that is no int."""
    if dim is None:
        return None
    if isinstance(dim, int | np.integer) and not isinstance(dim, bool):
        return (_check_dim(int(dim), ndim),)
    dims = tuple(_check_dim(d, ndim) for d in ints_arg(dim, op or "dims", "dim", position))
    for k, d in enumerate(dims):
        if d in dims[:k]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return dims


def reduction_dims(dim, ndim, op=None, position=None):
    """The dims a reduction runs over, as a tuple, or None for all. Like PyTorch, dim None, ()
    and [] all mean every dim, and a 0-d tensor accepts dim 0 / -1 (there is nothing to reduce)."""
    dims = normalize_dims(dim, ndim, op, position)
    return None if not dims or ndim == 0 else dims


def numpy_names(fn):
    """Let a reduction take NumPy's `axis=` and `keepdims=` for `dim=` and `keepdim=`, as
    PyTorch's do (`x.sum(axis=0)`)."""
    @functools.wraps(fn)
    def reduction(*args, **kwargs):
        for numpy_name, name in (("axis", "dim"), ("keepdims", "keepdim")):
            if numpy_name in kwargs:
                if name in kwargs:  # (PyTorch's error for both spellings at once)
                    raise TypeError(f"{fn.__name__}() got an unexpected keyword argument "
                                    f"'{numpy_name}'")
                kwargs[name] = kwargs.pop(numpy_name)
        return fn(*args, **kwargs)

    return reduction


def sum_to_array(g, shape):
    """Sum a broadcast gradient back to `shape` (the inverse of NumPy broadcasting)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def broadcast_shape(a_shape, b_shape):
    """The broadcast result shape, or PyTorch's error naming both shapes."""
    if a_shape == b_shape:
        return a_shape
    try:
        return np.broadcast_shapes(a_shape, b_shape)
    except ValueError:
        for i in range(1, max(len(a_shape), len(b_shape)) + 1):
            x = a_shape[-i] if i <= len(a_shape) else 1
            y = b_shape[-i] if i <= len(b_shape) else 1
            if x != y and x != 1 and y != 1:
                break
        raise RuntimeError(
            f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
            f"dimension {max(len(a_shape), len(b_shape)) - i}: shapes {list(a_shape)} and "
            f"{list(b_shape)} are not broadcastable") from None


def _scalar_dtype(value, other_dtype):
    """dtype of a Python scalar operand next to a tensor of `other_dtype` (PyTorch promotion)."""
    if isinstance(value, bool | np.bool_):
        return other_dtype
    if isinstance(value, int | np.integer):
        return other_dtype if other_dtype != dtypes.bool else dtypes.int64
    if isinstance(value, float | np.floating):
        return other_dtype if other_dtype.kind == "f" else dtypes.get_default_dtype()
    raise TypeError(f"unsupported operand type {type(value).__name__}; expected a Tensor, an "
                    "array or a Python number")


def scalar_array(value, dtype):
    """A Python number as a 0-d array of `dtype`. An int outside an integer dtype's range wraps
    around (uint8: -3 is 253), as PyTorch's scalars do; NumPy would raise OverflowError."""
    if isinstance(value, int | np.integer) and dtype.kind in "iu":
        return np.array(value).astype(dtype)
    with np.errstate(over="ignore"):  # 1e5 is inf in float16, as in PyTorch
        return np.array(value, dtype=dtype)


CPP_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
                  "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
                  "uint8": "unsigned char", "bool": "bool"}  # C++'s names, in PyTorch's errors
# the names PyTorch's "value cannot be converted to type ... without overflow" gives
_C_TYPE_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
                 "int64": "int64_t", "float16": "c10::Half", "float32": "float",
                 "float64": "double"}


def opmath(a):
    """float16 as float32, the type PyTorch's CPU kernels compute float16 in (its "opmath"
    type): a sum of squares overflows float16 from 256 up, and every intermediate rounding to
    float16 costs precision. A kernel computes on opmath(x) and casts its result back to x's
    dtype once; other dtypes are returned as they are."""
    return a.astype(np.float32) if a.dtype == np.float16 else a


def fma(a, b, c):
    """a * b + c with one rounding, as a fused multiply-add (PyTorch's CPU kernels use them).

    Below float64 the product is exact in float64, so the float64 sum rounds once (and its
    rounding to float32 again only at rare exact ties). In float64, a * b is split into its
    rounded value and the exact error (Dekker: each factor halved into 26 + 27 bits), and c + a * b
    is summed keeping its rounding error (Knuth's TwoSum): the result is rounded once but for rare
    last-bit ties. Returns float64 values for the caller to round to its dtype."""
    a, b, c = (np.asarray(v, np.float64) for v in (a, b, c))
    with np.errstate(all="ignore"):
        p = a * b
        (ah, al), (bh, bl) = _halves(a), _halves(b)
        err = ((ah * bh - p) + ah * bl + al * bh) + al * bl  # p + err == a * b exactly
        s = p + c
        v = s - p
        r = s + (((p - (s - v)) + (c - v)) + err)  # s + (its rounding error + err)
        return np.where(np.isfinite(r), r, p + c)  # inf and NaN (or a huge factor): plainly


def _halves(a):
    """a as hi + lo, each with at most 26 significant bits (Veltkamp's split)."""
    t = 134217729.0 * a  # 2**27 + 1
    hi = t - (t - a)
    return hi, a - hi


def fill_value_array(value, dtype):
    """A number that fills or replaces elements of a `dtype` tensor (full, fill_, masked_fill,
    clamp, ...) as a 0-d array of `dtype`, after PyTorch's range check: a value the dtype cannot
    hold is an error, where NumPy would wrap, saturate or overflow to inf silently.

    What fits, as in PyTorch: into an integer dtype, an int within its range, or for an unsigned
    dtype down to -max (two's complement: -1 fills uint8 with 255); a finite float within its
    range (truncated: 2.7 fills int32 with 2). Into a float dtype, anything up to its largest
    finite value, and +-inf and NaN. Into bool, anything. A 0-d tensor counts as its value."""
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, bool | np.bool_) or dtype.kind == "b":
        return np.array(value).astype(dtype)
    if isinstance(value, int | np.integer):
        value = int(value)
        if not -2 ** 63 <= value < 2 ** 64:
            raise OverflowError("int too big to convert" if value > 0
                                else "can't convert negative int to unsigned")
    info = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype)
    low = -int(info.max) if dtype.kind == "u" and isinstance(value, int) else info.min
    number = float(value) if isinstance(value, float | np.floating) else value
    fits = (low <= number <= info.max if dtype.kind in "iu" or not isinstance(number, float)
            else not math.isfinite(number) or abs(number) <= float(info.max))
    if not fits:
        raise RuntimeError(f"value cannot be converted to type {_C_TYPE_NAMES[dtype.name]} "
                           "without overflow")
    if isinstance(value, int) and dtype.kind in "iu":
        return np.array(value).astype(dtype)  # (wraps a negative into an unsigned dtype)
    return np.array(value, dtype=dtype)


def promote(a, b, floating=False):
    """Return (a, b) as Tensors of one common dtype, PyTorch style.

    float beats int beats bool; a Python scalar adopts the tensor's dtype (3.0 * int -> float32);
    two float tensors promote to the wider one. A 0-d tensor next to one with dims counts only
    when its kind is higher (float32 * tensor(0.5, float64) stays float32), as in PyTorch.

    floating=True (true division, xlogy, ...): an integer or bool common dtype becomes the
    default float dtype. Each operand converts straight to it, so an int operand keeps its value
    (int8 / 1000 divides by 1000.0, not by 1000 wrapped around into int8).
    """
    if not isinstance(a, Tensor):
        a, b = b, a
        swapped = True
    else:
        swapped = False
    if not isinstance(b, Tensor):
        if isinstance(b, np.ndarray):
            b = as_tensor(b)
        else:
            dt = _scalar_dtype(b, a.dtype)
            if floating and dt.kind != "f":
                dt = dtypes.get_default_dtype()
            b = Tensor._make(scalar_array(b, dt))
    if a.dtype != b.dtype or (floating and a.dtype.kind != "f"):
        if (a.ndim == 0) != (b.ndim == 0) and _RANK[a.dtype.kind] == _RANK[b.dtype.kind]:
            dt = b.dtype if a.ndim == 0 else a.dtype  # the tensor with dims decides
        else:
            dt = result_dtype(a.dtype, b.dtype)
        if floating and dt.kind != "f":
            dt = dtypes.get_default_dtype()
        a, b = a.to(dt), b.to(dt)
    return (b, a) if swapped else (a, b)


_RANK = dtypes.KIND_RANK
result_dtype = dtypes.promote_types


def result_type(*operands):
    """PyTorch's result_type of tensors and numbers. Tensors with dims, 0-d tensors and numbers
    are promoted within each group; a 0-d tensor or number only changes the dtype when its kind
    (bool < integer < float) is higher: int8 clamped by tensor(2) stays int8, but an int tensor
    clamped by 1.5 becomes the default float dtype."""
    groups = [None, None, None]  # tensors with dims, 0-d tensors, numbers
    for v in operands:
        if isinstance(v, Tensor):
            i, dt = (1 if v.ndim == 0 else 0), v.dtype
        elif isinstance(v, bool | np.bool_):
            i, dt = 2, dtypes.bool
        elif isinstance(v, int | np.integer):
            i, dt = 2, dtypes.int64
        else:
            i, dt = 2, dtypes.get_default_dtype()
        groups[i] = dt if groups[i] is None else result_dtype(groups[i], dt)
    result = None
    for dt in groups:
        if dt is not None and (result is None or _RANK[dt.kind] > _RANK[result.kind]):
            result = dt if result is None else result_dtype(result, dt)
    return result


def check_alpha(kind, alpha):
    """PyTorch's errors for add/sub's `alpha` with a result of dtype kind `kind`: an integer or
    bool result takes no float alpha, and only a bool result takes a bool alpha."""
    if isinstance(alpha, bool | np.bool_):
        if kind != "b":
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
    elif kind != "f" and not isinstance(alpha, int | np.integer):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


def not_implemented_for(t, kernel, kinds="biu"):
    """PyTorch's NotImplementedError when its kernel has no version for t's dtype kind (by
    default integer and bool: `"frac_cpu" not implemented for 'Long'`)."""
    if t.dtype.kind in kinds:
        name = _TENSOR_TYPES.get(t.dtype.name, t.dtype.name)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')


def accumulation_input(x, dtype, op=None):
    """x in the dtype its sum, product or scan accumulates in (PyTorch's rule): `dtype` if
    given, else int64 for integer and bool tensors, else x's own."""
    if dtype is not None:
        if isinstance(dtype, str):  # (x.to would read a string as a device)
            raise TypeError(f"{op + '(): ' if op else ''}argument 'dtype' must be torch.dtype, "
                            "not str")
        target = dtypes.to_dtype(dtype)
        if target.kind != "f" and x.requires_grad and is_grad_enabled():
            # an integer result cannot carry a gradient back to x: PyTorch's error
            raise RuntimeError(f"Autograd not support dtype: {_TENSOR_TYPES[target.name]}")
        return x.to(dtype)
    return x.to(dtypes.int64) if x.dtype.kind in "biu" else x


def require_tensor(value, op, name, position):
    """value itself if it is a Tensor, else PyTorch's TypeError for argument `name` of `op`."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not "
                        f"{type_name(value)}")
    return value


def renamed(y, grad_fn_name):
    """y, its creator shown as `grad_fn_name`: PyTorch's node name for an op numpy2gpt composes
    of several (addcmul ends in an Add of a Mul here, PyTorch has one AddcmulBackward0 node).
    Only for a y whose creator was made for y itself (never an input returned as it is)."""
    if y.grad_fn is not None:
        y.grad_fn.grad_fn_name = grad_fn_name
    return y


def require_float(t, op):
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got {dtype_name(t.dtype)}")


__all__ = ["normalize_dims", "reduction_dims", "int_arg", "dim_arg", "ints_arg", "sizes_arg",
           "numpy_names", "sum_to_array", "broadcast_shape", "promote", "result_dtype",
           "as_tensor", "Tensor", "require_float", "require_tensor", "not_implemented_for",
           "result_type", "accumulation_input", "renamed"]
