"""A number that fills or replaces elements (full, fill_, masked_fill, index_fill, scatter,
fill_diagonal_, clamp) is range-checked as in PyTorch: an error where the dtype cannot hold it
(NumPy would wrap, saturate or overflow to inf without a word), two's complement for a negative
int into uint8; plus multiple ellipses in an index, and PyTorch's messages for a few wrong
arguments."""

import warnings

import numpy as np
import pytest
from torch_compare import both, same_error

MASK = [True, False]

# (make a tensor, apply the number): each fill op, called the same way on both libraries
FILLS = {
    "full": lambda lib, dt, v: lib.full((2,), v, dtype=dt),
    "full_like": lambda lib, dt, v: lib.full_like(lib.zeros(2, dtype=dt), v),
    "new_full": lambda lib, dt, v: lib.zeros(2, dtype=dt).new_full((2,), v),
    "fill_": lambda lib, dt, v: lib.zeros(2, dtype=dt).fill_(v),
    "masked_fill": lambda lib, dt, v: lib.zeros(2, dtype=dt).masked_fill(lib.tensor(MASK), v),
    "masked_fill_": lambda lib, dt, v: lib.zeros(2, dtype=dt).masked_fill_(lib.tensor(MASK), v),
    "index_fill": lambda lib, dt, v: lib.zeros(2, dtype=dt).index_fill(0, lib.tensor([0]), v),
    "scatter": lambda lib, dt, v: lib.zeros(2, dtype=dt).scatter(0, lib.tensor([0]), v),
    "fill_diagonal_": lambda lib, dt, v: lib.zeros(2, 2, dtype=dt).fill_diagonal_(v),
}
FITS = [("uint8", -1), ("uint8", -255), ("uint8", 255), ("int8", -128), ("int32", 2.7),
        ("int32", -1.5), ("int64", -2 ** 63), ("float32", float("inf")), ("float16", 65504.0),
        ("float32", 2 ** 63), ("bool", -0.5)]
DOES_NOT_FIT = [("uint8", 256), ("uint8", -256), ("uint8", -1.5), ("uint8", -0.9),
                ("uint8", 255.9), ("int8", 300), ("int32", 1e10), ("int32", 2 ** 31),
                ("int64", 2 ** 63), ("int64", float("nan")), ("int64", float("inf")),
                ("float32", 1e300), ("float16", 70000.0)]


@pytest.mark.parametrize("op", FILLS)
@pytest.mark.parametrize("dtype,value", FITS)
def test_a_number_the_dtype_holds_fills_as_in_pytorch(op, dtype, value):
    """-1 into uint8 is 255 (two's complement), a float into an int dtype truncates."""
    ours, theirs = both(lambda lib: FILLS[op](lib, getattr(lib, dtype), value))
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("op", FILLS)
@pytest.mark.parametrize("dtype,value", DOES_NOT_FIT)
def test_a_number_the_dtype_cannot_hold_is_pytorchs_error(op, dtype, value):
    """value cannot be converted to type uint8_t without overflow (NumPy: 300 wraps to 44 in
    int8, 1e10 becomes INT_MIN in int32, 70000 becomes inf in float16, -1.5 becomes 255)."""
    same_error(lambda lib: FILLS[op](lib, getattr(lib, dtype), value))


@pytest.mark.parametrize("value", [2 ** 64, -2 ** 63 - 1])
def test_an_int_beyond_64_bits_is_pythons_overflow_error(value):
    same_error(lambda lib: lib.full((2,), value, dtype=lib.float64))
    same_error(lambda lib: lib.zeros(2).fill_(value))


@pytest.mark.parametrize("call", [
    lambda lib: lib.zeros(2, dtype=lib.uint8).clamp(300),
    lambda lib: lib.zeros(2, dtype=lib.int8).clamp(max=300),
    lambda lib: lib.zeros(2, dtype=lib.uint8).clamp_(300),
    lambda lib: lib.where(lib.tensor(MASK), lib.zeros(2, dtype=lib.int8), 300),
])
def test_clamp_and_where_bounds_out_of_range(call):
    same_error(call)


def test_clamp_and_where_with_a_negative_bound_in_uint8():
    """-1 is 255 in uint8: clamp(min=-1) raises nothing and where(c, x, -1) puts 255."""
    for ours, theirs in (both(lambda lib: lib.tensor([3, 200], dtype=lib.uint8).clamp(max=-1)),
                         both(lambda lib: lib.where(lib.tensor(MASK),
                                                    lib.zeros(2, dtype=lib.uint8), -1))):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("index", [
    (Ellipsis, 0, Ellipsis), (0, Ellipsis, Ellipsis), (Ellipsis, Ellipsis, Ellipsis),
    (Ellipsis, 0, 1, 2, Ellipsis), (Ellipsis, [0, 1], Ellipsis), (Ellipsis, None, 0, Ellipsis),
    (None, Ellipsis, None, Ellipsis), (Ellipsis, slice(None), Ellipsis),
    (Ellipsis, Ellipsis, slice(None)),
])
def test_several_ellipses_index_as_in_pytorch(index):
    """PyTorch lets every `...` skip the dims no other item names: the first covers them, later
    ones add nothing where nothing follows them. Reading and writing through such an index."""
    ours, theirs = both(lambda lib: lib.arange(24).reshape(2, 3, 4)[index])
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())

    def write(lib):
        x = lib.arange(24).reshape(2, 3, 4)
        x[index] = -1
        return x

    ours, theirs = both(write)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("index", [(Ellipsis, 0, Ellipsis, 0), (Ellipsis, 1, Ellipsis, 1,
                                                                Ellipsis)])
def test_an_item_after_an_ellipsis_past_the_end_is_pytorchs_error(index):
    same_error(lambda lib: lib.arange(24).reshape(2, 3, 4)[index])


@pytest.mark.parametrize("call", [
    lambda lib: lib.zeros(-1),
    lambda lib: lib.zeros(2, -5, -3),
    lambda lib: lib.ones(2, -3, -5),
    lambda lib: lib.empty(-2, -5),
    lambda lib: lib.rand(2, -1),
    lambda lib: lib.full((-1, -2), 1.0),
    lambda lib: lib.zeros(2).new_zeros((2, -3)),
    lambda lib: lib.tensor([True]).mean(),
    lambda lib: lib.tensor([1]).mean(),
    lambda lib: lib.clone([1]),
    lambda lib: lib.logsumexp(lib.ones(2, 2), None),
    lambda lib: lib.ones(2).logsumexp(None),
    lambda lib: lib.where([True]),
    lambda lib: lib.where(lib.tensor([1]), 1, 0.0),
    lambda lib: lib.zeros(3).scatter(0, lib.tensor([0]), lib.ones(1, dtype=lib.float64)),
    lambda lib: lib.take_along_dim(lib.zeros(3), lib.tensor([0.0])),
    lambda lib: lib.take_along_dim(lib.zeros(3, 4), lib.tensor([[0.0]]), 1),
    lambda lib: lib.take_along_dim(lib.zeros(3, 4), lib.tensor([[0]], dtype=lib.int32), 1),
    lambda lib: lib.zeros(3).masked_fill(lib.tensor([1, 0, 0]), 1.0),
    lambda lib: lib.zeros(3).masked_fill(lib.tensor([1.0, 0, 0]), 1.0),
    lambda lib: lib.tensor([True, False]).argmax(),
    lambda lib: lib.argmin(lib.tensor([True, False]), 0),
    lambda lib: lib.tensor([True, False]).topk(1),
    lambda lib: lib.tensor([True, False]).histc(),
    lambda lib: lib.tensor([True, False]).norm(),
], ids=range(25))
def test_wrong_arguments_get_pytorchs_message(call):
    same_error(call)


def test_where_with_a_list_gets_pytorchs_first_line():
    """PyTorch lists every signature after it; the first line is the same."""
    raised = []
    for lib in both(lambda lib: lib):
        with pytest.raises(TypeError) as e:
            lib.where([True], lib.ones(1), 0.0)
        raised.append(str(e.value).splitlines()[0])
    assert raised[0] == raised[1]
    assert "got (list, Tensor, float)" in raised[0]


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor([-1], dtype=lib.uint8),
    lambda lib: lib.tensor([[1, -255]], dtype=lib.uint8),
    lambda lib: lib.tensor(-1, dtype=lib.uint8),
    lambda lib: lib.as_tensor([-1], dtype=lib.uint8),
    lambda lib: lib.tensor([True, -1], dtype=lib.uint8),
    lambda lib: lib.tensor([np.int64(-1)], dtype=lib.uint8),
    lambda lib: lib.zeros(1, dtype=lib.uint8).new_tensor([-1]),
    lambda lib: lib.tensor(np.array([300, -1]), dtype=lib.uint8),  # an array: a plain cast
    lambda lib: lib.as_tensor(np.array([-1]), dtype=lib.uint8),
    lambda lib: lib.tensor(lib.tensor([300, -2]), dtype=lib.int8),
    lambda lib: lib.tensor(lib.tensor([-1.5]), dtype=lib.uint8),
    lambda lib: lib.tensor([1e40], dtype=lib.float32),
    lambda lib: lib.tensor([70000.0], dtype=lib.float16),
], ids=range(13))
def test_creation_wraps_as_pytorch(make):
    """A Python int into an unsigned dtype wraps from -max (-1 is 255); data that is already a
    tensor or an array is cast as it is; a float too large for the dtype is inf, quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # (no NumPy overflow warning)
        warnings.simplefilter("ignore", UserWarning)  # (copy-constructing from a tensor)
        ours, theirs = both(make)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("data", [[-256], [256], [-1.5], [-0.5], [300.0]])
def test_creation_out_of_range_numbers_are_pytorchs_error(data):
    same_error(lambda lib: lib.tensor(data, dtype=lib.uint8))
