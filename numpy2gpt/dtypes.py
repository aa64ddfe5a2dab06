"""dtypes: numpy2gpt's dtypes *are* NumPy dtypes, named like PyTorch's.

`numpy2gpt.float32 == np.dtype("float32")`, so tensors interoperate with NumPy freely, while
`import numpy2gpt as torch; torch.float32` reads like PyTorch.
"""

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
    d = to_dtype(d)
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
