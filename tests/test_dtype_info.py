"""finfo, iinfo, promote_types, can_cast, result_type and is_complex against PyTorch's."""

import itertools

import pytest
import torch
from torch_compare import same_error

import numpy2gpt as ng

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
FLOATS = ["float16", "float32", "float64", "bfloat16"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_is_torchs(name):
    ours, theirs = ng.finfo(getattr(ng, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
        assert type(getattr(ours, field)) is type(getattr(theirs, field)), field
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert ours == ng.finfo(getattr(ng, name)) and ours != ng.finfo(ng.float64 if name != "float64"
                                                                     else ng.float32)


@pytest.mark.parametrize("name", INTS)
def test_iinfo_is_torchs(name):
    ours, theirs = ng.iinfo(getattr(ng, name)), torch.iinfo(getattr(torch, name))
    for field in ("bits", "max", "min", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
        assert type(getattr(ours, field)) is type(getattr(theirs, field)), field
    assert repr(ours) == repr(theirs)


def test_finfo_defaults_and_python_types():
    assert repr(ng.finfo()) == repr(torch.finfo())  # the default dtype
    assert repr(ng.finfo(float)) == repr(torch.finfo(float))
    ng.set_default_dtype(ng.float64)
    try:
        assert ng.finfo().dtype == "float64"
    finally:
        ng.set_default_dtype(ng.float32)


@pytest.mark.parametrize("call", [
    lambda lib: lib.finfo(lib.int32), lambda lib: lib.finfo(lib.bool),
    lambda lib: lib.iinfo(lib.float32), lambda lib: lib.iinfo(lib.bool),
    lambda lib: lib.iinfo(lib.bfloat16), lambda lib: lib.finfo("float32")])
def test_info_errors_are_torchs(call):
    same_error(call)
    with pytest.raises(TypeError, match="unhashable"):
        hash(ng.finfo())


def test_promote_types_and_can_cast_agree_with_torch_on_every_pair():
    for a, b in itertools.product(DTYPES, DTYPES):
        pair = (getattr(ng, a), getattr(ng, b))
        assert ng.promote_types(*pair) == getattr(ng, str(torch.promote_types(
            getattr(torch, a), getattr(torch, b))).removeprefix("torch.")), (a, b)
        assert ng.can_cast(*pair) == torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)
    same_error(lambda lib: lib.promote_types("a", lib.int8))
    same_error(lambda lib: lib.can_cast(lib.int8, 3))


@pytest.mark.parametrize("make", [
    lambda lib: (lib.tensor([1]), 1.0), lambda lib: (lib.tensor([1], dtype=lib.int8), 300),
    lambda lib: (lib.tensor(1.0, dtype=lib.float64), lib.tensor([1], dtype=lib.int32)),
    lambda lib: (2, 3.0), lambda lib: (True, lib.tensor([1], dtype=lib.uint8))])
def test_result_type_and_is_complex(make):
    assert str(ng.result_type(*make(ng))) == str(torch.result_type(*make(torch))).removeprefix(
        "torch.")
    assert ng.is_complex(ng.tensor([1.0])) is False
    same_error(lambda lib: lib.is_complex(1.0))
