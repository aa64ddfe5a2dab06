"""dtypes: numpy2gpt's dtypes *are* NumPy dtypes, named like PyTorch's.

`numpy2gpt.float32 == np.dtype("float32")`, so tensors interoperate with NumPy freely, while
`import numpy2gpt as torch; torch.float32` reads like PyTorch.
"""

import builtins

import numpy as np

float16 = half = np.dtype("float16")
float32 = float = np.dtype("float32")
float64 = double = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = short = np.dtype("int16")
int32 = int = np.dtype("int32")
int64 = long = np.dtype("int64")
bool = np.dtype("bool")


class _NoStorageDtype:
    """A PyTorch dtype NumPy cannot store (it has no bfloat16): it exists so that code naming it
    (`torch.bfloat16`, `autocast(dtype=torch.bfloat16)`) runs, and creating a tensor of it fails
    with a clear error from `to_dtype`."""

    def __init__(self, name, itemsize):
        self.name, self.itemsize = name, itemsize
        self.is_floating_point, self.is_complex, self.is_signed = True, False, True

    def __repr__(self):
        return f"numpy2gpt.{self.name}"

    def __reduce__(self):  # pickles as the module attribute, so it stays the one object
        return self.name


bfloat16 = _NoStorageDtype("bfloat16", 2)

_NAMES = {
    float16: "float16", float32: "float32", float64: "float64", int8: "int8", uint8: "uint8",
    int16: "int16", int32: "int32", int64: "int64", bool: "bool",
}
_default_dtype = float32


def get_default_dtype():
    """The dtype Python floats and `randn`/`zeros`/... produce (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(d):
    """Set the default floating dtype (float32 or float64), like `torch.set_default_dtype`."""
    global _default_dtype
    if not isinstance(d, np.dtype):  # a dtype object, as PyTorch's (not a name or a type)
        raise TypeError("invalid dtype object: only floating-point types are supported as the "
                        "default type")
    if d not in (float16, float32, float64):
        raise TypeError("only floating-point types are supported as the default type, got "
                        f"{dtype_name(d)}")
    _default_dtype = d


def to_dtype(d):
    """Normalise a dtype argument (numpy2gpt/NumPy dtype, type or name); clear TypeError if bad."""
    if d is None:
        return None
    if isinstance(d, _NoStorageDtype):
        raise TypeError(f"{d!r} is not supported for tensors: NumPy has no {d.name} type, so "
                        f"numpy2gpt stores and computes floats as numpy2gpt.float32 (or float64)")
    try:
        out = np.dtype(d)
    except TypeError:
        raise TypeError(f"unknown dtype {d!r}; expected one of "
                        f"{', '.join('numpy2gpt.' + n for n in _NAMES.values())}") from None
    if out not in _NAMES:
        raise TypeError(f"unsupported dtype {d!r}; expected one of "
                        f"{', '.join('numpy2gpt.' + n for n in _NAMES.values())}")
    return out


KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}  # dtype kinds: float beats integer beats bool


def promote_types(x, y):
    """PyTorch's promotion of two dtypes: float beats integer beats bool (float16 with int64 is
    float16, where NumPy says float64); within a kind the wider wins (uint8 with int8: int16)."""
    if KIND_RANK[x.kind] != KIND_RANK[y.kind]:
        return x if KIND_RANK[x.kind] > KIND_RANK[y.kind] else y
    return np.promote_types(x, y)


def dtype_name(d):
    """'numpy2gpt.float32' style name used in reprs and error messages."""
    return "numpy2gpt." + _NAMES.get(np.dtype(d), str(d))


def is_floating(d):
    return np.dtype(d).kind == "f"


# ----- finfo / iinfo: the numeric limits of a dtype (PyTorch's torch.finfo / torch.iinfo) -------
def _limits_dtype(fn, d, wanted_kind, other):
    """The NumPy dtype (or bfloat16) that `fn` (finfo/iinfo) describes, with PyTorch's errors."""
    if d is builtins.float or d is builtins.int:  # Python's float and int are float64 and int64
        d = float64 if d is builtins.float else int64
    if not isinstance(d, np.dtype | _NoStorageDtype):
        raise TypeError(f"{fn}(): argument 'type' (position 1) must be torch.dtype, not "
                        f"{type(d).__name__}")
    kind = "f" if isinstance(d, _NoStorageDtype) else d.kind
    if d == bool and fn == "iinfo":
        raise TypeError(f"torch.bool is not supported by torch.{fn}")
    if (kind == "f") != (wanted_kind == "f"):
        wanted = "a floating point" if wanted_kind == "f" else "an integer"
        raise TypeError(f"torch.{fn}() requires {wanted} input type. Use torch.{other} to handle "
                        f"'torch.{fn}'")
    return d


class finfo:
    """The limits of a floating dtype: bits, eps (1.0's spacing), max, min (= -max), tiny and
    smallest_normal (the smallest positive normal number), resolution (10 ** -decimal digits)."""

    def __init__(self, type=None):
        d = get_default_dtype() if type is None else _limits_dtype("finfo", type, "f", "iinfo")
        if isinstance(d, _NoStorageDtype):  # bfloat16: float32's exponent, 8 bits of precision
            self.bits, self.eps, self.max = 16, 2.0 ** -7, (2 - 2.0 ** -7) * 2.0 ** 127
            self.tiny, self.resolution, self.dtype = 2.0 ** -126, 0.01, "bfloat16"
        else:
            info, number = np.finfo(d), builtins.float  # (float is float32 in this module)
            self.bits, self.eps, self.max = info.bits, number(info.eps), number(info.max)
            self.tiny, self.resolution = number(info.smallest_normal), 10.0 ** -info.precision
            self.dtype = _NAMES[d]
        self.min, self.smallest_normal = -self.max, self.tiny

    def __eq__(self, other):
        return isinstance(other, finfo) and self.dtype == other.dtype

    __hash__ = None  # unhashable, as PyTorch's

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """The limits of an integer dtype: bits, min and max."""

    def __init__(self, type):
        d = _limits_dtype("iinfo", type, "i", "finfo")
        info = np.iinfo(d)
        self.bits, self.min, self.max = info.bits, builtins.int(info.min), builtins.int(info.max)
        self.dtype = _NAMES[d]

    def __eq__(self, other):
        return isinstance(other, iinfo) and self.dtype == other.dtype

    __hash__ = None

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def require_dtype(fn, name, position, d):
    """d as a NumPy dtype, or PyTorch's TypeError for argument `name` of `fn` if it is none."""
    if not isinstance(d, np.dtype | _NoStorageDtype):
        raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be "
                        f"torch.dtype, not {type(d).__name__}")
    return to_dtype(d)


def can_cast(from_, to):
    """Whether PyTorch's casting rules allow `from_` -> `to` in an op's output: never float to
    integer, nor a non-bool to bool."""
    f, t = require_dtype("can_cast", "from_", 1, from_), require_dtype("can_cast", "to", 2, to)
    return KIND_RANK[f.kind] <= KIND_RANK[t.kind] and not (t.kind == "b" and f.kind != "b")
