"""torch.testing: `assert_close` for tests, `make_tensor` for test inputs.

`assert_close(actual, expected)` checks that two tensors (or Python numbers, NumPy arrays, and
sequences or mappings of them, compared item by item) are close, with tolerances chosen by dtype,
and on failure raises PyTorch's AssertionError, word for word: how many elements mismatch, the
greatest absolute and relative differences and where they are. It works in two steps, as
PyTorch's does: first every item of the inputs is paired with its counterpart by the first "pair"
class that accepts both (None, bool, number, tensor-like), which is where structural errors
(lengths, keys, types, a lone rtol) are raised; then each pair compares its values, and the first
mismatch is reported.

`make_tensor(*shape, dtype=..., device="cpu")` fills a tensor with uniform random values whose
range depends on the dtype. It draws from numpy2gpt's generator the way PyTorch draws, so a seed
gives PyTorch's tensor.
"""

import cmath
import collections.abc
import contextlib
import math
import warnings

import numpy as np

from . import dtypes
from .dtypes import dtype_name, finfo, get_default_dtype, iinfo, promote_types
from .ops.arithmetic import isclose
from .ops.creation import empty, randint
from .tensor import Tensor, as_tensor, tensor

__all__ = ["assert_allclose", "assert_close", "make_tensor"]


class _Failure(Exception):
    """A failed check, carried up to `assert_close`: the exception type to raise, its message and
    the item it happened at (the keys and indices that lead to it in nested inputs)."""

    def __init__(self, type, msg, *, id=()):
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg=None):
        """The exception to raise; a string `msg` replaces the message, a callable edits it."""
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                path = "".join(str([item]) for item in self.id)
                generated += f"\n\nThe failure occurred for item {path}"
            msg = msg(generated) if callable(msg) else generated
        return self.type(msg)


class _Unsupported(Exception):
    """Raised by a pair class that cannot compare the two inputs: the next one is tried."""


# ----- tolerances ------------------------------------------------------------------------------
# PyTorch's default (rtol, atol) per dtype: about the dtype's precision. Other dtypes (integers,
# bool) compare exactly. complex128 is the dtype of Python complex numbers.
_DTYPE_PRECISIONS = {
    dtypes.float16: (0.001, 1e-5),
    dtypes.bfloat16: (0.016, 1e-5),
    dtypes.float32: (1.3e-6, 1e-5),
    dtypes.float64: (1e-7, 1e-7),
    np.dtype("complex128"): (1e-7, 1e-7),
}


def _default_tolerances(*dtype_list, precisions=None):
    """The loosest (rtol, atol) of the dtypes: two dtypes are compared at the coarser one's."""
    precisions = precisions or _DTYPE_PRECISIONS
    rtols, atols = zip(*[precisions.get(d, (0.0, 0.0)) for d in dtype_list])
    return max(rtols), max(atols)


def _tolerances(*dtype_list, rtol, atol, id):
    """The user's rtol and atol, or both defaults. Only one of them is an error: atol=0 alone
    would still let values pass through the default rtol, a surprise."""
    if (rtol is None) != (atol is None):
        missing = "rtol" if rtol is None else "atol"
        raise _Failure(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, "
                                   f"but got no {missing}.", id=id)
    if rtol is not None:
        return rtol, atol
    return _default_tolerances(*dtype_list)


# ----- messages --------------------------------------------------------------------------------
def _mismatch_message(identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    """'<identifier> are not close!' (or 'equal' at zero tolerances), the `extra` line, then the
    absolute and relative differences, with their index when given and the tolerance allowed."""
    equality = rtol == 0 and atol == 0

    def diff_line(kind, diff, idx, tol):
        line = (f"{kind.title()} difference: {diff}" if idx is None
                else f"Greatest {kind} difference: {diff} at index {idx}")
        return line + ("" if equality else f" (up to {tol} allowed)") + "\n"

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n{extra}\n"
    msg += diff_line("absolute", abs_diff, abs_idx, atol)
    msg += diff_line("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def _scalar_mismatch_message(actual, expected, *, rtol, atol):
    """The message for two numbers (Python numbers, or the items of 0-d tensors)."""
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_message("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None,
                             atol, rel_diff, None, rtol)


def _tensor_mismatch_message(actual, expected, matches, *, rtol, atol):
    """The message for two tensors of the same shape and dtype; `matches` says which elements are
    close. The greatest differences are taken over the mismatched elements only, in the tensors'
    dtype (integers and bools in int64; their relative difference in the default dtype)."""
    a, e, close = actual._data.ravel(), expected._data.ravel(), matches._data.ravel()
    total = close.size - int(close.sum())
    extra = f"Mismatched elements: {total} / {close.size} ({total / close.size:.1%})"
    if a.dtype.kind != "f":
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        abs_diff = np.abs(a - e)
        abs_diff[close] = 0
        if abs_diff.dtype.kind != "f":  # PyTorch's true division of integers
            rel_diff = (abs_diff.astype(get_default_dtype())
                        / np.abs(e).astype(get_default_dtype()))
        else:
            rel_diff = abs_diff / np.abs(e)
        rel_diff[close] = 0

    def greatest(diff):  # its value and index; argmax finds the first NaN, as PyTorch's max
        flat = int(np.argmax(diff))
        return diff[flat].item(), tuple(int(i) for i in np.unravel_index(flat, actual.shape))

    return _mismatch_message("Tensor-likes", extra, *greatest(abs_diff), atol,
                             *greatest(rel_diff), rtol)


# ----- pairs: how each kind of input is compared ------------------------------------------------
class _Pair:
    """Two inputs to compare; the constructor raises _Unsupported for inputs it cannot handle."""

    def __init__(self, actual, expected, *, id=(), **unused_options):
        self.actual, self.expected, self.id = actual, expected, id

    def _fail(self, msg):
        raise _Failure(AssertionError, msg, id=self.id)


class _NonePair(_Pair):
    """None matches only None."""

    def __init__(self, actual, expected, **options):
        if not (actual is None or expected is None):
            raise _Unsupported
        super().__init__(actual, expected, **options)

    def compare(self):
        if not (self.actual is None and self.expected is None):
            self._fail(f"None mismatch: {self.actual} is not {self.expected}")


class _BooleanPair(_Pair):
    """Python (or NumPy) booleans must be the same."""

    def __init__(self, actual, expected, **options):
        if not all(isinstance(x, bool | np.bool_) for x in (actual, expected)):
            raise _Unsupported
        super().__init__(bool(actual), bool(expected), **options)

    def compare(self):
        if self.actual is not self.expected:
            self._fail(f"Booleans mismatch: {self.actual} is not {self.expected}")


class _NumberPair(_Pair):
    """Python (or NumPy) numbers, with the tolerances of the dtype each type stands for."""

    _TYPE_TO_DTYPE = {int: dtypes.int64, float: dtypes.float64, complex: np.dtype("complex128")}

    def __init__(self, actual, expected, *, id=(), rtol=None, atol=None, equal_nan=False,
                 check_dtype=False, **options):
        if not all(isinstance(x, int | float | complex | np.number) for x in (actual, expected)):
            raise _Unsupported
        actual, expected = (x.item() if isinstance(x, np.number) else x
                            for x in (actual, expected))
        super().__init__(actual, expected, id=id, **options)
        # (a bool among numbers is no key here: a KeyError, reported as PyTorch reports it)
        self.rtol, self.atol = _tolerances(*[self._TYPE_TO_DTYPE[type(x)] for x in
                                             (actual, expected)], rtol=rtol, atol=atol, id=id)
        self.equal_nan, self.check_dtype = equal_nan, check_dtype

    def compare(self):
        actual, expected = self.actual, self.expected
        if self.check_dtype and type(actual) is not type(expected):
            self._fail(f"The (d)types do not match: {type(actual)} != {type(expected)}.")
        if actual == expected:
            return
        if self.equal_nan and cmath.isnan(actual) and cmath.isnan(expected):
            return
        abs_diff = abs(actual - expected)
        if cmath.isfinite(abs_diff) and abs_diff <= self.atol + self.rtol * abs(expected):
            return
        self._fail(_scalar_mismatch_message(actual, expected, rtol=self.rtol, atol=self.atol))


class _TensorLikePair(_Pair):
    """Tensors, or two inputs of related types that `as_tensor` accepts (NumPy arrays). The
    types must be related (one an instance of the other's): a tensor is never close to a list,
    a number or an array; with allow_subclasses=False they must be the same type."""

    def __init__(self, actual, expected, *, id=(), allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, **options):
        if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
            raise _Unsupported
        if not allow_subclasses and type(actual) is not type(expected):
            raise _Unsupported
        actual, expected = self._to_tensor(actual), self._to_tensor(expected)
        super().__init__(actual, expected, id=id, **options)
        self.rtol, self.atol = _tolerances(actual.dtype, expected.dtype, rtol=rtol, atol=atol,
                                           id=id)
        self.equal_nan, self.check_device, self.check_dtype = equal_nan, check_device, check_dtype
        self.check_stride = check_stride  # (check_layout: every numpy2gpt tensor is strided)

    @staticmethod
    def _to_tensor(x):
        if isinstance(x, Tensor):
            return x
        try:
            return as_tensor(x)
        except Exception:
            raise _Unsupported from None

    def compare(self):
        actual, expected = self.actual.detach(), self.expected.detach()
        self._compare_attributes(actual, expected)
        if actual.dtype != expected.dtype:  # with check_dtype=False: compare in a common dtype
            common = promote_types(actual.dtype, expected.dtype)
            actual, expected = actual.to(common), expected.to(common)
        self._compare_values(actual, expected)

    def _compare_attributes(self, actual, expected):
        """Shape always; stride, device and dtype when their check is on."""
        def check(name, actual_value, expected_value):
            if actual_value != expected_value:
                self._fail(f"The values for attribute '{name}' do not match: {actual_value} != "
                           f"{expected_value}.")

        check("shape", actual.shape, expected.shape)
        if self.check_stride:
            check("stride()", actual.stride(), expected.stride())
        if self.check_device:
            check("device", actual.device, expected.device)
        if self.check_dtype and actual.dtype != expected.dtype:
            check("dtype", dtype_name(actual.dtype), dtype_name(expected.dtype))

    def _compare_values(self, actual, expected):
        a, e = actual, expected
        if a.dtype == dtypes.bool and (self.rtol != 0 or self.atol != 0):
            # with a tolerance, PyTorch's isclose reads booleans as 0.0 and 1.0
            a, e = a.to(get_default_dtype()), e.to(get_default_dtype())
        matches = isclose(a, e, rtol=self.rtol, atol=self.atol, equal_nan=self.equal_nan)
        if matches._data.all():
            return
        if actual.ndim == 0:
            msg = _scalar_mismatch_message(actual.item(), expected.item(), rtol=self.rtol,
                                           atol=self.atol)
        else:
            msg = _tensor_mismatch_message(actual, expected, matches, rtol=self.rtol,
                                           atol=self.atol)
        self._fail(msg)


_PAIR_TYPES = (_NonePair, _BooleanPair, _NumberPair, _TensorLikePair)


def _originate_pairs(actual, expected, *, id=(), **options):
    """The pairs to compare: sequences (not strings) and mappings are walked into, item by
    item, after checking their lengths or keys; anything else goes to the first pair type that
    takes it. `id` is the path of keys and indices to the current item."""
    if all(isinstance(x, collections.abc.Sequence) and not isinstance(x, str)
           for x in (actual, expected)):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, "The length of the sequences mismatch: "
                                           f"{len(actual)} != {len(expected)}", id=id)
        return [pair for i in range(len(actual))
                for pair in _originate_pairs(actual[i], expected[i], id=(*id, i), **options)]

    if all(isinstance(x, collections.abc.Mapping) for x in (actual, expected)):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            raise _Failure(AssertionError, (
                "The keys of the mappings do not match:\n"
                f"Missing keys in the actual mapping: {sorted(expected_keys - actual_keys)}\n"
                f"Additional keys in the actual mapping: {sorted(actual_keys - expected_keys)}"),
                id=id)
        keys = actual_keys
        with contextlib.suppress(Exception):  # sorted when they can be: the same first failure
            keys = sorted(keys)
        return [pair for key in keys
                for pair in _originate_pairs(actual[key], expected[key], id=(*id, key),
                                             **options)]

    for pair_type in _PAIR_TYPES:
        try:
            return [pair_type(actual, expected, id=id, **options)]
        except _Unsupported:
            continue
        except _Failure:
            raise
        except Exception as error:  # a bug, or inputs no pair foresaw (True and 1)
            path = "".join(str([item]) for item in id)
            raise RuntimeError(
                f"Originating a {pair_type.__name__.lstrip('_')}() at item {path} with\n\n"
                f"{type(actual).__name__}(): {actual}\n\nand\n\n"
                f"{type(expected).__name__}(): {expected}\n\n"
                "resulted in the unexpected exception above.") from error
    raise _Failure(TypeError, "No comparison pair was able to handle inputs of type "
                              f"{type(actual)} and {type(expected)}.", id=id)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Assert that `actual` and `expected` are close: |actual - expected| <= atol + rtol *
    |expected| elementwise, with the same shape, dtype and device (and stride with
    check_stride=True). Infinities are close only when equal, NaN only with equal_nan=True.

    rtol and atol default to the dtype's precision (float32: 1.3e-6 and 1e-5; float64: 1e-7 and
    1e-7; float16: 1e-3 and 1e-5; integers and bools: exact); give both or neither. The inputs
    may be tensors, Python numbers, NumPy arrays (compared with arrays only), or sequences and
    mappings of them. `msg`, a string, replaces the failure message; a callable edits it.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this function's
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_device=check_device, check_dtype=check_dtype,
                   check_layout=check_layout, check_stride=check_stride)
    try:
        pairs = _originate_pairs(actual, expected, **options)
    except _Failure as failure:  # a structural error: `msg` does not replace its message
        raise failure.to_error() from None
    for pair in pairs:
        try:
            pair.compare()
        except _Failure as failure:
            raise failure.to_error(msg) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated since PyTorch 1.12 (use assert_close): `actual` and `expected` made tensors
    (`expected` in `actual`'s dtype), compared without checking dtypes, NaN equal to NaN, with
    looser default tolerances (float32: rtol 1e-4, atol 1e-5)."""
    __tracebackhide__ = True
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed "
                  "in a future release. Please use `torch.testing.assert_close()` instead. You can "
                  "find detailed upgrade instructions in "
                  "https://github.com/pytorch/pytorch/issues/61844.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = _default_tolerances(actual.dtype, expected.dtype, precisions={
            dtypes.float16: (1e-3, 1e-3), dtypes.float32: (1e-4, 1e-5),
            dtypes.float64: (1e-5, 1e-8)})
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)


# ----- make_tensor -----------------------------------------------------------------------------
def _kind(dtype):
    """'b' (bool), 'i'/'u' (integers) or 'f' (floats, bfloat16 too) for a numpy2gpt dtype;
    None for anything else (a name, a Python type, a dtype numpy2gpt has no tensors of)."""
    if dtype is dtypes.bfloat16:
        return "f"
    return dtype.kind if isinstance(dtype, np.dtype) and dtype in dtypes._NAMES else None


def _name(dtype):
    return repr(dtype) if dtype is dtypes.bfloat16 else dtype_name(dtype)


def _low_high(dtype, low, high, *, lowest, highest, default_low, default_high):
    """The range [low, high) to draw from: the defaults for None, PyTorch's errors for NaN, an
    empty range or one outside the dtype's [lowest, highest), then clamped into it (and, for
    integers, rounded up: low so no value falls below it, high because it is exclusive)."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(value, float) and math.isnan(value) for value in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got {low=} and {high=}")
    if low == high and _kind(dtype) == "f":
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex "
                      "types is deprecated since 2.1 and will be removed in 2.3. Use "
                      "`torch.full(...)` instead.", FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {_name(dtype)} only supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if _kind(dtype) != "f":
        return math.ceil(low), math.ceil(high)
    return low, high


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """A tensor of `shape` (ints, or one sequence of them) and `dtype` with values drawn
    uniformly from [low, high). The default range is [0, 2) for bool, [-9, 10) for integers
    (from 0 for uint8) and [-9, 9) for floats; a range beyond the dtype's limits is clamped.

    noncontiguous=True returns every other element of a tensor twice as long in its last dim (a
    view with a stride of 2, unless it has fewer than 2 elements); exclude_zero=True replaces
    zeros by 1 (bool, integers) or the dtype's smallest normal number. memory_format is
    accepted, with no effect: numpy2gpt tensors are row-major.
    """
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually "
                         f"exclusive, but got {noncontiguous=} and {memory_format=}")
    kind = _kind(dtype)
    if requires_grad and kind in ("b", "i", "u"):
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes, "
                         f"but got dtype={_name(dtype)}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:  # twice the last dim, so that the view below skips different values
        shape = (*shape[:-1], 2 * shape[-1])

    if kind == "b":
        low, high = _low_high(dtype, low, high, lowest=0, highest=2, default_low=0,
                              default_high=2)
        result = randint(low, high, shape, device=device, dtype=dtype)
    elif kind in ("i", "u"):
        # the dtype's maximum is drawn with high = maximum + 1, which int64 cannot hold
        info = iinfo(dtype)
        highest = info.max if dtype == dtypes.int64 else info.max + 1
        low, high = _low_high(dtype, low, high, lowest=info.min, highest=highest,
                              default_low=-9, default_high=10)
        result = randint(low, high, shape, device=device, dtype=dtype)
    elif kind == "f":
        info = finfo(dtype)
        low, high = _low_high(dtype, low, high, lowest=info.min, highest=info.max,
                              default_low=-9, default_high=9)
        result = empty(shape, device=device, dtype=dtype)
        if high - low >= info.max:  # uniform_ needs a width it can represent: draw half of it
            result.uniform_(low / 2, high / 2).mul_(2)
        else:
            result.uniform_(low, high)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by "
                        "torch.testing.make_tensor().")

    if noncontiguous:
        result = result[..., 1::2]  # starting at 1 also catches code that ignores an offset
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = 1 if kind != "f" else finfo(dtype).tiny
    if kind == "f":
        result.requires_grad = requires_grad
    return result
