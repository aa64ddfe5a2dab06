"""Creating tensors: zeros, ones, arange, randn, ... (PyTorch's factory functions)."""

import functools
import math
import operator
import warnings

import numpy as np

from .. import dtypes
from ..autograd.function import _TENSOR_TYPES, Function
from ..random import get_rng, in_memory_order, is_row_major, resolve
from ..tensor import Tensor, as_tensor, check_device, tensor, type_name  # noqa: F401  (re-exported)
from ._util import fill_value_array, fma, not_implemented_for, require_tensor


def _size(size, fn="zeros"):
    """`zeros(2, 3)` and `zeros((2, 3))` both mean shape (2, 3); sizes must be integers."""
    if len(size) == 1 and isinstance(size[0], tuple | list):
        size = size[0]
    out = []
    for s in size:
        try:
            out.append(operator.index(s))  # ints, NumPy ints, 1-element int tensors; not 2.5
        except TypeError:
            raise TypeError(f"{fn}(): argument 'size' must be a tuple of ints, but found element "
                            f"of type {type(s).__name__}") from None
    out = tuple(out)
    negative = [s for s in out if s < 0]
    if negative and fn == "zeros":
        raise RuntimeError("zeros: Dimension size must be non-negative.")
    if negative:
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative[0]}: "
                           f"{list(out)}")
    return out


def _size_arg(args, size, fn):
    """The shape of `fn(2, 3)`, `fn((2, 3))` or `fn(size=(2, 3))`: PyTorch's factories take the
    sizes as varargs or as one sequence, positional or the keyword `size` (then a sequence)."""
    if (size is None) == (not args):  # neither or both
        if fn in ("rand", "randn"):
            got = [type(a).__name__ for a in args] + ([] if size is None else ["size=tuple"])
            raise TypeError(f"{fn}() received an invalid combination of arguments - got "
                            f"({', '.join(got)}), but expected one of:\n"
                            " * (tuple of ints size, *, ...)")
        if size is None:
            raise TypeError(f'{fn}() missing 1 required positional arguments: "size"')
        raise TypeError(f"{fn}() got multiple values for argument 'size'")
    if size is None:
        return _size(args, fn)
    if not isinstance(size, tuple | list):
        raise TypeError(f"{fn}(): argument 'size' must be tuple of ints, not "
                        f"{type(size).__name__}")
    return _size((size,), fn)


def _number(value, fn, arg, position):
    """A Python number for a scalar argument; a 0-d tensor counts as its value (and dtype)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise TypeError(f"{fn}(): argument '{arg}' (position {position}) must be Number, "
                            "not Tensor")
        return value.item()
    if not isinstance(value, int | float | np.number | np.bool_):  # (bool is an int)
        raise TypeError(f"{fn}(): argument '{arg}' (position {position}) must be Number, not "
                        f"{type_name(value)}")
    return value


def _leaf(array, requires_grad=False):
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype):
    return dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


def _random_float_dtype(dtype, fn):
    """rand/randn draw floats: an integer dtype is an error (PyTorch's), not a silent cast."""
    d = _float_dtype(dtype)
    if d.kind != "f":
        raise RuntimeError(f"{fn}(): expected a floating point dtype, got {dtypes.dtype_name(d)}")
    return d


def zeros(*args, size=None, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _leaf(np.zeros(_size_arg(args, size, "zeros"), _float_dtype(dtype)), requires_grad)


def ones(*args, size=None, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _leaf(np.ones(_size_arg(args, size, "ones"), _float_dtype(dtype)), requires_grad)


def empty(*args, size=None, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return _leaf(np.empty(_size_arg(args, size, "empty"), _float_dtype(dtype)), requires_grad)


def _fill_dtype(fill_value):
    """full(): the dtype follows the fill value (True -> bool, 3 -> int64, 3.0 -> default)."""
    if isinstance(fill_value, bool | np.bool_):
        return dtypes.bool
    if isinstance(fill_value, int | np.integer):
        return dtypes.int64
    return dtypes.get_default_dtype()


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor of `size` filled with `fill_value` (a number or a 0-d tensor)."""
    check_device(device)
    if not isinstance(size, tuple | list):
        raise TypeError("full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    fill_value = _number(fill_value, "full", "fill_value", 2)
    dtype = _fill_dtype(fill_value) if dtype is None else dtypes.to_dtype(dtype)
    return _leaf(np.full(_size((size,), "full"), fill_value_array(fill_value, dtype), dtype),
                 requires_grad)


def zeros_like(input, dtype=None, requires_grad=False, device=None):
    check_device(device)
    require_tensor(input, "zeros_like", "input", 1)
    return _leaf(np.zeros(input.shape, dtypes.to_dtype(dtype) or input.dtype), requires_grad)


def ones_like(input, dtype=None, requires_grad=False, device=None):
    check_device(device)
    require_tensor(input, "ones_like", "input", 1)
    return _leaf(np.ones(input.shape, dtypes.to_dtype(dtype) or input.dtype), requires_grad)


def empty_like(input, dtype=None, requires_grad=False, device=None):
    check_device(device)
    require_tensor(input, "empty_like", "input", 1)
    return _leaf(np.empty(input.shape, dtypes.to_dtype(dtype) or input.dtype), requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False, device=None):
    check_device(device)
    require_tensor(input, "full_like", "input", 1)
    fill_value = _number(fill_value, "full_like", "fill_value", 2)
    dtype = dtypes.to_dtype(dtype) or input.dtype
    return _leaf(np.full(input.shape, fill_value_array(fill_value, dtype), dtype), requires_grad)


def arange(start=0, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Like PyTorch: integer arguments give int64, any float argument gives the default dtype
    (0-d tensors count by their dtype); `arange(end)` starts at 0. Into an integer dtype the
    arguments are truncated to integers first (arange(0, 5, 1.5, dtype=int64) steps by 1)."""
    check_device(device)
    if end is None:
        start, end = 0, _number(start, "arange", "end", 1)
    else:
        start, end = _number(start, "arange", "start", 1), _number(end, "arange", "end", 2)
    step = _number(step, "arange", "step", 3)
    if dtype is None:
        ints = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    d = _range_dtype(dtype, "arange")
    if d.kind in "iu":
        return _leaf(_integer_arange(start, end, step, d), requires_grad)
    n = _range_length(start, end, step)
    return _leaf(_float_arange(float(start), float(step), n, d), requires_grad)


def _float_arange(start, step, n, d):
    """start + step * i for i < n, in d, to PyTorch's bits: its CPU kernel fills whole SIMD
    vectors of `_simd_width(d)` values (two at a time) from each vector's first value, rounded to
    d: base = start + step * i0, then base + step * j; the last values, past the final pair of
    vectors, are start + step * i. Each sum is a fused multiply-add in float64 (`fma`), rounded
    to float32 first for float16 (whose kernel computes in float32)."""
    acc = np.float32 if d == dtypes.float16 else np.float64
    start, step = (float(acc(v)) for v in (start, step))

    def multiply_add(i, c):  # c + step * i, in acc
        return fma(step, i.astype(np.float64), c).astype(acc)

    i = np.arange(n, dtype=np.int64)
    width = _simd_width(d)
    in_vectors = i < n - n % (2 * width)
    j = np.where(in_vectors, i % width, 0)
    base = multiply_add(i - j, start).astype(d).astype(np.float64)
    return np.where(in_vectors, multiply_add(j, base), multiply_add(i, start)).astype(d)


@functools.cache
def _simd_width(d):
    """How many values of dtype d PyTorch's CPU kernels hold in one SIMD vector: 64 bytes where
    the CPU has AVX-512 (F, BW, VL, DQ: PyTorch's AVX512 kernels), else 32 (AVX2)."""
    features = getattr(getattr(np, "_core", None), "_multiarray_umath", None)
    features = getattr(features, "__cpu_features__", {})
    avx512 = all(features.get(f"AVX512{k}") for k in ("F", "BW", "VL", "DQ"))
    return (64 if avx512 else 32) // d.itemsize


def _range_dtype(dtype, fn):
    """The dtype of arange / range / linspace / logspace, which PyTorch has no bool kernel for."""
    d = dtypes.to_dtype(dtype)
    if d.kind == "b":
        raise NotImplementedError(f'"{fn}_cpu" not implemented for \'Bool\'')
    return d


def _range_length(start, end, step):
    """ceil((end - start) / step) after PyTorch's checks of the three numbers."""
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start:g} -> {end:g}")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    return max(int(np.ceil((end - start) / step)), 0)


def _integer_arange(start, end, step, d):
    """arange into an integer dtype as PyTorch's kernel computes it: start and step truncated
    to integers, start + i * step wrapped into d. int64 truncates end too and counts in
    integers; the narrower dtypes count the values as floats (so a step truncated to 0 gives
    a run of equal values, not an error)."""
    n = _range_length(start, end, step)
    lo, hi, st = (int(v) for v in (start, end, step))
    if d == dtypes.int64:
        if st == 0:  # (a step such as 0.5, truncated)
            raise ValueError("step must be nonzero")
        _range_length(lo, hi, st)
        n = abs(hi - lo + st - (1 if st > 0 else -1)) // abs(st)
    return (lo + st * np.arange(n, dtype=np.int64)).astype(d)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    """`steps` evenly spaced values from start to end (numbers or 0-d tensors)."""
    check_device(device)
    try:
        if isinstance(steps, Tensor) and steps.ndim:
            raise TypeError
        n = operator.index(steps)  # an int or a 0-d integer tensor; not 3.0
    except TypeError:
        got = ", ".join("Tensor" if isinstance(v, Tensor) else type(v).__name__
                        for v in (start, end, steps))
        raise TypeError(f"linspace() received an invalid combination of arguments - got ({got}), "
                        "but expected one of:\n * (Number start, Number end, int steps, *, ...)"
                        ) from None
    for name, v in (("start", start), ("end", end)):
        if isinstance(v, Tensor) and v.ndim != 0:
            raise RuntimeError("linspace only supports 0-dimensional start and end tensors, but "
                               f"got {name} with {v.ndim} dimension(s).")
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    d = _range_dtype(_float_dtype(dtype), "linspace")
    if n < 0:
        raise RuntimeError("number of steps must be non-negative")
    if d.kind in "iu":  # the ends become integers first (a range check), the steps are doubles
        start, end = (int(fill_value_array(v, d)) if n > k else 0  # (one step needs no end)
                      for k, v in enumerate((start, end)))
        arr = _linspace_as_pytorch(start, end, n, np.float64).astype(d)
    elif d in (dtypes.float32, dtypes.float64):
        arr = _linspace_as_pytorch(start, end, n, d.type)
    else:
        arr = _linspace_float16(start, end, n)
    return _leaf(arr, requires_grad)


def _linspace_float16(start, end, n):
    """PyTorch's float16 linspace: as `_linspace_as_pytorch`, but every operation (the step,
    step * i, the sum) is rounded to float16 in turn, as its Half arithmetic does."""
    h, f = np.float16, np.float32
    start, end = h(start), h(end)
    if n < 2:
        return np.full(n, start, h)
    with np.errstate(all="ignore"):
        step = h(f(h(f(end) - f(start))) / f(h(n - 1)))
        i = np.arange(n)
        up, down = i[:n // 2].astype(h), ((n - 1) - i[n // 2:]).astype(h)
        return np.concatenate([(f(start) + (f(step) * up.astype(f)).astype(h)).astype(h),
                               (f(end) - (f(step) * down.astype(f)).astype(h)).astype(h)])


def _linspace_as_pytorch(start, end, n, f):
    """PyTorch's float linspace, to the bit: in the dtype f, step = (end - start) / (n - 1);
    the first half counts up from start and the second half down from end (so both ends are
    exact), each value one fused multiply-add, start + step * i rounded once."""
    start, end = f(start), f(end)
    if n < 2:
        return np.full(n, start, f)  # one step is [start], whatever end is
    with np.errstate(all="ignore"):  # inf or NaN ends give what PyTorch gives
        step = (end - start) / f(n - 1)
        i = np.arange(n, dtype=np.float64)
        up, down = i[:n // 2], (n - 1) - i[n // 2:]
        return np.concatenate([fma(step, up, start), fma(-step, down, end)]).astype(f)


def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False, device=None):
    """`steps` values from base ** start to base ** end, evenly spaced in the exponent (into an
    integer dtype, the ends are made integers first and the powers truncated, as in PyTorch)."""
    d = _range_dtype(_float_dtype(dtype), "logspace")
    if d.kind in "iu":
        start, end = (int(fill_value_array(_number(v, "logspace", name, k), d))
                      for k, (name, v) in enumerate((("start", start), ("end", end)), 1))
    exponents = linspace(start, end, steps, dtype=dtypes.float64)._data
    arr = np.power(float(base), exponents)
    return _leaf(arr.astype(d), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    check_device(device)
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    return _leaf(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*args, size=None, dtype=None, requires_grad=False, generator=None, device=None):
    """Uniform on [0, 1) (PyTorch's values for the same seed)."""
    check_device(device)
    dtype = _random_float_dtype(dtype, "rand")
    shape = _size_arg(args, size, "rand")
    return _leaf(resolve(generator).uniform(shape, dtype=dtype), requires_grad)


def randn(*args, size=None, dtype=None, requires_grad=False, generator=None, device=None):
    """Standard normal (PyTorch's values for the same seed)."""
    check_device(device)
    dtype = _random_float_dtype(dtype, "randn")
    shape = _size_arg(args, size, "randn")
    return _leaf(resolve(generator).normal(shape, dtype=dtype), requires_grad)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False,
           device=None):
    """Samples of N(mean, std^2): `normal(m, s, size)` with numbers draws as empty(size).normal_
    does; with a tensor mean and / or std, one sample per element of their broadcast shape
    (standard normals scaled by std and shifted by mean, PyTorch's values for the same seed)."""
    check_device(device)
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments - with a "
                            "float mean and std, a size is required")
        dtype = _random_float_dtype(dtype, "normal")
        shape = _size_arg((), size, "normal")
        return _leaf(resolve(generator).normal(shape, mean, std, dtype=dtype), requires_grad)
    m = mean if isinstance(mean, Tensor) else None
    s = std if isinstance(std, Tensor) else None
    if (s is not None and (s._data < 0).any()) or (s is None and not std >= 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    dtype = (m if m is not None else s).dtype
    shape = np.broadcast_shapes(*(t.shape for t in (m, s) if t is not None))
    z = resolve(generator).normal(shape, dtype=dtype)
    out = z * (s._data if s is not None else dtype.type(std))
    out += m._data if m is not None else dtype.type(mean)
    return _leaf(out.astype(dtype, copy=False), requires_grad)


_RANDINT_FORMS = (("high", "size"), ("low", "high", "size"))
_C_TYPES = {np.dtype(k): v for k, v in (
    (np.bool_, "bool"), (np.uint8, "unsigned char"), (np.int8, "signed char"),
    (np.int16, "short int"), (np.int32, "int"), (np.int64, "long"), (np.float16, "c10::Half"),
    (np.float32, "float"), (np.float64, "double"))}  # C++'s names, in PyTorch's messages


def _is_int(value):
    if isinstance(value, bool | np.bool_):
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def _randint_bounds(args, bounds):
    """(low, high, size) of `randint(high, size)` or `randint(low, high, size)`, each argument
    positional or keyword: the first of PyTorch's two signatures that the arguments fit."""
    for names in _RANDINT_FORMS:
        given = dict(zip(names, args))
        if len(args) > len(names) or given.keys() & bounds.keys():
            continue
        given.update(bounds)
        if set(given) == set(names) and isinstance(given["size"], tuple | list) and all(
                _is_int(given[k]) for k in names[:-1]):
            low, high = (operator.index(given.get(k, 0)) for k in ("low", "high"))
            if not all(-(1 << 63) <= v < 1 << 63 for v in (low, high)):
                raise ValueError("Overflow when unpacking long long")
            return low, high, given["size"]
    got = [type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in bounds.items()]
    raise TypeError(f"randint() received an invalid combination of arguments - got "
                    f"({', '.join(got)}), but expected one of:\n"
                    " * (int high, tuple of ints size, *, ...)\n"
                    " * (int low, int high, tuple of ints size, *, ...)")


def _check_randint_range(low, high, dtype):
    """PyTorch's check that low and high - 1 fit the dtype, and its warning when a float dtype
    cannot hold every integer in between."""
    if dtype.kind == "b":
        lo, hi = 0, 1
    elif dtype.kind == "f":
        lo, hi = float(np.finfo(dtype).min), float(np.finfo(dtype).max)
    else:
        lo, hi = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
    name = _C_TYPES[dtype]
    ends = (("from", low), ("to - 1", high - 1))
    for what, value in ends:
        if not lo <= value <= hi:
            raise RuntimeError(f"{what} is out of bounds for {name}")
    if dtype.kind == "f":
        digits = np.finfo(dtype).nmant + 1
        for what, value in ends:
            if abs(value) > 1 << digits:
                warnings.warn(f"{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to "
                              f"precision limitations {name} can support discrete uniform "
                              "distribution only within this range. This warning will become an "
                              "error in version 1.7 release, please fix the code in advance",
                              UserWarning, stacklevel=3)


def randint(*args, low=None, high=None, size=None, generator=None, dtype=None,
            requires_grad=False, device=None):
    """Integers uniform in [low, high): `randint(high, size)` or `randint(low, high, size)`;
    PyTorch's values for the same seed, in any dtype that holds low and high - 1."""
    check_device(device)
    bounds = {k: v for k, v in (("low", low), ("high", high), ("size", size)) if v is not None}
    low, high, size = _randint_bounds(args, bounds)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    dtype = dtypes.to_dtype(dtype) or dtypes.int64
    _check_randint_range(low, high, dtype)
    arr = resolve(generator).randint(low, high, _size((size,), "randint"))
    return _leaf(arr.astype(dtype), requires_grad)


def _check_randperm_dtype(n, dtype):
    """PyTorch's limits: n - 1 must fit an integer dtype, and a float dtype must hold every
    integer below n; randperm has no bool version."""
    if dtype.kind in "iu" and n - 1 > np.iinfo(dtype).max:
        name = "int" if dtype == np.int32 else f"{dtype.name}_t"
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")
    limits = {np.dtype(np.float16): (2049, "2049", "Half"),
              np.dtype(np.float32): ((1 << 24) + 1, "2^24+1", "Float"),
              np.dtype(np.float64): ((1 << 53) + 1, "2^53+1", "Double")}
    if dtype in limits and n > limits[dtype][0]:
        _, text, name = limits[dtype]
        raise RuntimeError(f"n cannot be greater than {text} for {name} type.")
    if dtype.kind == "b":
        raise NotImplementedError("\"randperm\" not implemented for 'Bool'")


def randperm(n, *, generator=None, dtype=None, requires_grad=False, device=None):
    """A random permutation of 0 .. n-1 (PyTorch's for the same seed)."""
    check_device(device)
    n = operator.index(n)
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got {n}")
    dtype = dtypes.to_dtype(dtype) or dtypes.int64
    _check_randperm_dtype(n, dtype)
    arr = resolve(generator).randperm(n)
    return _leaf(arr.astype(dtype), requires_grad)


def _random_like(input, draw, requires_grad):
    """draw(shape, row_major) -> Tensor, laid out as PyTorch's empty_like(input) and filled in
    its memory order (a transposed input gets PyTorch's numbers in PyTorch's places)."""
    a = input._data
    row_major = is_row_major(a)
    values = in_memory_order(a, lambda shape: draw(shape, row_major)._data)
    return _leaf(values, requires_grad)


def rand_like(input, dtype=None, requires_grad=False, device=None):
    check_device(device)
    require_tensor(input, "rand_like", "input", 1)
    return _random_like(input, lambda shape, _: rand(shape, dtype=dtype or input.dtype),
                        requires_grad)


def randn_like(input, dtype=None, requires_grad=False, device=None):
    """Standard normals shaped and laid out as input; for an input PyTorch would not lay out
    row-major (a transposed one), drawn one at a time, as PyTorch fills such a tensor."""
    check_device(device)
    require_tensor(input, "randn_like", "input", 1)
    dtype = _random_float_dtype(dtype or input.dtype, "randn_like")
    return _random_like(input, lambda shape, row_major: Tensor._make(
        get_rng().normal(shape, dtype=dtype, row_major=row_major)), requires_grad)


class _Draw(Function):
    """A random draw whose parameters may require grad: the result carries a node whose
    gradient is zero (PyTorch's PoissonBackward0 gives zeros too)."""

    saves_values = False

    def __init__(self, draw, name):
        self.draw, self.grad_fn_name = draw, name

    def forward(self, *params):
        return self.draw(*params)

    def backward(self, gy):
        return tuple(np.zeros(s, gy.dtype) for s in self.input_shapes)


def poisson(input, generator=None):
    """One Poisson draw per element, with the element as its rate (PyTorch's numbers for a seed:
    its sampler, see distributions/poisson.py)."""
    from ..distributions.poisson import poisson_array

    x = require_tensor(input, "poisson", "input", 1)
    not_implemented_for(x, "poisson_cpu")
    return _Draw(lambda rates: poisson_array(rates, generator), "PoissonBackward0")(x)


def binomial(count, prob, generator=None):
    """One Binomial(count, prob) draw per element pair (PyTorch's numbers for a seed: its
    sampler, see distributions/binomial.py); count and prob are float tensors of one shape."""
    from ..distributions.binomial import binomial_array

    n = require_tensor(count, "binomial", "count", 1)
    p = require_tensor(prob, "binomial", "prob", 2)
    if n.dtype.kind != "f":
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: "
                         f"{_TENSOR_TYPES.get(n.dtype.name, n.dtype.name).replace('Tensor', '')}")
    return Tensor._make(binomial_array(n._data, p._data, generator))


def from_numpy(ndarray):
    """A tensor sharing memory with `ndarray`."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type_name(ndarray)})")
    return Tensor._make(ndarray) if ndarray.dtype in dtypes._NAMES else as_tensor(ndarray)


# ----- Tensor.new_*: same dtype as the tensor unless told otherwise ------------------------------
def new_tensor(self, data, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def new_zeros(self, *args, size=None, dtype=None, requires_grad=False, device=None):
    check_device(device)
    shape = _size_arg(args, size, "new_zeros")
    return zeros(shape, dtype=dtype or self.dtype, requires_grad=requires_grad)


def new_ones(self, *args, size=None, dtype=None, requires_grad=False, device=None):
    check_device(device)
    shape = _size_arg(args, size, "new_ones")
    return ones(shape, dtype=dtype or self.dtype, requires_grad=requires_grad)


def new_empty(self, *args, size=None, dtype=None, requires_grad=False, device=None):
    check_device(device)
    shape = _size_arg(args, size, "new_empty")
    return empty(shape, dtype=dtype or self.dtype, requires_grad=requires_grad)


def new_full(self, size, fill_value, dtype=None, requires_grad=False, device=None):
    check_device(device)
    return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)



# ----- more factories ---------------------------------------------------------------------------
def scalar_tensor(s, *, dtype=None, requires_grad=False, device=None):
    """A 0-d tensor holding the number s (default dtype unless told; a bool is 1.0 / 0.0)."""
    check_device(device)
    s = _number(s, "scalar_tensor", "s", 1)
    if not isinstance(s, int | float | np.number):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not "
                        f"{type(s).__name__}")
    return _leaf(fill_value_array(s, _float_dtype(dtype)), requires_grad)


def range(start=0, end=None, step=1, *, dtype=None, requires_grad=False, device=None):
    """Deprecated (it warns, as PyTorch's does): the values start, start + step, ... up to and
    INCLUDING end, in the default float dtype unless told. Use arange, which excludes end."""
    check_device(device)
    if end is None:
        raise TypeError('range() missing 1 required positional arguments: "end"')
    warnings.warn("torch.range is deprecated and will be removed in a future release because its "
                  "behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    start, end = _number(start, "range", "start", 1), _number(end, "range", "end", 2)
    step = _number(step, "range", "step", 3)
    d = _range_dtype(_float_dtype(dtype), "range")
    _range_length(start, end, step)  # PyTorch's checks
    n = int(np.floor((end - start) / step)) + 1
    arr = start + step * np.arange(n, dtype=np.float64)
    return _leaf(arr.astype(d), requires_grad)


def empty_strided(size, stride, *, dtype=None, requires_grad=False, device=None,
                  layout=None, pin_memory=False):
    """An uninitialised tensor (zeros here) of `size` whose elements lie `stride` elements
    apart in memory along each dim."""
    check_device(device)
    size, stride = _size((size,), "empty_strided"), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    dt = _float_dtype(dtype)
    n = 1 + sum((k - 1) * s for k, s in zip(size, stride)) if all(size) else 0
    memory = np.zeros(n, dt)
    arr = np.lib.stride_tricks.as_strided(memory, size, tuple(s * dt.itemsize for s in stride))
    return _leaf(arr, requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, requires_grad=False, device=None,
                 generator=None):
    """randint with input's shape (and dtype unless told): randint_like(x, high) or
    randint_like(x, low, high)."""
    check_device(device)
    require_tensor(input, "randint_like", "input", 1)
    if high is None:
        low, high = 0, low
    return _random_like(input, lambda shape, _: randint(
        low, high, shape, generator=generator, dtype=dtype or input.dtype), requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """obj as a tensor, sharing its memory when it can (a tensor or a NumPy array of the right
    dtype) unless copy=True; copy=False refuses to copy. Other data (lists, numbers) is copied
    into a new tensor, as torch.tensor would."""
    check_device(device)
    dt = dtypes.to_dtype(dtype)
    if isinstance(obj, Tensor | np.ndarray):
        a = obj._data if isinstance(obj, Tensor) else obj
        target = dt or a.dtype
        if target != a.dtype and copy is False:
            names = [_TYPE_NAMES.get(d.name, d.name) for d in (a.dtype, target)]
            raise ValueError(f"can't alias tensor with dtype '{names[0]}' into dtype "
                             f"'{names[1]}'.")
        if isinstance(obj, Tensor) and not copy and target == a.dtype:
            return obj.requires_grad_(True) if requires_grad else obj  # obj itself
        return _leaf(a.astype(target, copy=bool(copy)), requires_grad)
    return tensor(obj, dtype=dt, requires_grad=requires_grad)


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over the memory of a Python buffer (bytes, bytearray, array.array, ...),
    `count` elements of `dtype` from byte `offset` on (-1: all). It shares the buffer's memory."""
    dt = dtypes.to_dtype(dtype)
    length = memoryview(buffer).nbytes
    if length == 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({length} bytes) minus 1")
    if count < 0 and (length - offset) % dt.itemsize:
        raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} bytes) "
                         f"must be a multiple of element size ({dt.itemsize})")
    if count > 0 and count * dt.itemsize > length - offset:
        raise ValueError(f"requested buffer length ({count} * {dt.itemsize} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({length} bytes)")
    return _leaf(np.frombuffer(buffer, dt, count, offset), requires_grad)


def zero_(input):
    """input.zero_(): fill input with zeros, in place."""
    return input.zero_()


def fill(input, value):
    """A copy of input with every element `value` (a number or a 0-d tensor)."""
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    return input.clone().fill_(value)


# ----- facts about a tensor, as torch functions (x.is_signed() is the method) ------------------
def is_signed(input):
    if not isinstance(input, Tensor):
        raise TypeError("is_signed(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return input.is_signed()


def is_nonzero(input):
    if not isinstance(input, Tensor):
        raise TypeError("is_nonzero(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return input.is_nonzero()


def is_same_size(input, other):
    return input.is_same_size(other)


def is_inference(input):
    return input.is_inference()


def clamp_min_(input, min):
    return input.clamp_min_(min)


def clamp_max_(input, max):
    return input.clamp_max_(max)


def resize_as_(input, the_template, *, memory_format=None):
    return input.resize_as_(the_template)

class Bernoulli(Function):
    """out = (u < p) for uniforms u drawn beforehand: 1 with probability p. The draw does not move
    when p moves a little, so p's gradient is zero (PyTorch's BernoulliBackward0)."""

    grad_fn_name = "BernoulliBackward0"
    saves_values = False

    def __init__(self, u):
        self.u = u

    def forward(self, p):
        return (self.u < p).astype(p.dtype)

    def backward(self, gy):
        return zeros_like(gy)


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 draws, 1 with the probability in each element of `input` (u < input for a uniform u:
    PyTorch's values for a seed); with a number `p`, every element is 1 with probability p."""
    if out is not None:
        raise TypeError("bernoulli(): out= is not supported by numpy2gpt")
    x = as_tensor(input)
    if p is not None:
        return empty_like(x).bernoulli_(p, generator=generator)
    not_implemented_for(x, "bernoulli_tensor_cpu_p_")
    if x.numel() and not (x._data.min() >= 0 and x._data.max() <= 1):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could "
                           "this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    work = x.dtype if x.dtype != np.float16 else np.dtype(np.float32)
    return Bernoulli(resolve(generator).uniform(x.shape, dtype=work))(x)


# ----- window functions (signal processing: tapering a frame before its FFT) ------------------
def _window(fn, window_length, periodic, dtype, requires_grad, device, formula):
    """formula(n, N) for n = 0..N-1 over a symmetric window of N points; a periodic window is
    the symmetric one of window_length + 1 points without its last (what an FFT frame wants).
    Computed in float64, then cast to dtype (default: the default float dtype)."""
    check_device(device)
    length = operator.index(window_length)
    dt = _float_dtype(dtype)
    if length < 0:
        raise RuntimeError(f"{fn} requires non-negative window_length, got "
                           f"window_length={length}")
    if dt.kind != "f":
        raise RuntimeError(f"{fn} expects floating point dtypes, got: {dtypes.dtype_name(dt)}")
    if length <= 1:
        return _leaf(np.ones(length, dt), requires_grad)
    n_points = length + 1 if periodic else length
    values = formula(np.arange(length, dtype=np.float64), n_points)
    return _leaf(values.astype(dt), requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False):
    """0.5 - 0.5 cos(2 pi n / (N - 1)): a raised cosine, 0 at both ends."""
    return _window("hann_window", window_length, periodic, dtype, requires_grad, device,
                   lambda n, N: 0.5 - 0.5 * np.cos(2 * np.pi * n / (N - 1)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False):
    """alpha - beta cos(2 pi n / (N - 1)): a raised cosine that does not reach 0."""
    return _window("hamming_window", window_length, periodic, dtype, requires_grad, device,
                   lambda n, N: alpha - beta * np.cos(2 * np.pi * n / (N - 1)))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _window("blackman_window", window_length, periodic, dtype, requires_grad, device,
                   lambda n, N: 0.42 - 0.5 * np.cos(2 * np.pi * n / (N - 1))
                   + 0.08 * np.cos(4 * np.pi * n / (N - 1)))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """1 - |2 n / (N - 1) - 1|: a triangle, 0 at both ends."""
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad, device,
                   lambda n, N: 1 - np.abs(2 * n / (N - 1) - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, requires_grad=False):
    """I0(beta sqrt(1 - (2 n / (N - 1) - 1)^2)) / I0(beta) (I0: the modified Bessel function of
    order 0); a larger beta gives a narrower window."""
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad, device,
                   lambda n, N: np.i0(beta * np.sqrt(np.maximum(
                       1 - (2 * n / (N - 1) - 1) ** 2, 0))) / np.i0(beta))


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """An uninitialised tensor (zeros here) of `size` whose dims lie in memory in the order
    physical_layout gives, outermost first: empty_permuted((2, 3, 4), (0, 2, 1)) has strides
    (12, 1, 3)."""
    check_device(device)
    size = _size((size,), "empty_permuted")
    order = tuple(operator.index(d) for d in physical_layout)
    if len(order) != len(size):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {len(size)} is not equal to "
                           f"len(physical_layout) = {len(order)}")
    if sorted(order) != list(np.arange(len(size))):
        raise RuntimeError("Duplicate dim not allowed" if len(set(order)) < len(order)
                           else f"Dimension out of range: {order}")
    memory = np.zeros([size[d] for d in order], _float_dtype(dtype))
    return _leaf(memory.transpose(np.argsort(order)), requires_grad)


__all__ = ["zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
           "arange", "linspace", "logspace", "eye", "rand", "randn", "normal", "randint",
           "randperm", "rand_like", "randn_like",
           "from_numpy", "tensor", "as_tensor", "scalar_tensor", "range", "empty_strided",
           "randint_like", "asarray", "frombuffer", "zero_", "fill", "is_signed",
           "is_nonzero", "is_same_size", "is_inference", "clamp_min_", "clamp_max_",
           "resize_as_", "bernoulli", "hann_window", "hamming_window", "blackman_window",
           "bartlett_window", "kaiser_window", "empty_permuted", "poisson", "binomial"]
TENSOR_METHODS = {"new_tensor": new_tensor, "new_zeros": new_zeros, "new_ones": new_ones,
                  "new_empty": new_empty, "new_full": new_full, "bernoulli": bernoulli,
                  "new_empty_strided": lambda self, size, stride, *, dtype=None,
                  requires_grad=False, device=None: empty_strided(
                      size, stride, dtype=dtype or self.dtype, requires_grad=requires_grad,
                      device=device)}
