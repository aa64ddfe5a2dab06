"""Arithmetic cases a differential fuzzer found, against PyTorch: out-of-range int scalars in
float ops and in `where`, a float exponent that float32 cannot hold, truncating division of the
integer minimum, `**=` in place, remainder's saved values, and einsum's integer sums."""

import numpy as np
import pytest
import torch
from torch_compare import assert_close, both, check_against_torch, same_error

import numpy2gpt as ng

INT8 = np.array([1, 100, -100], np.int8)
UINT8 = np.array([1, 100, 200], np.uint8)


# ----- an int scalar keeps its value in a float op (it is not wrapped into the tensor's dtype) ----
@pytest.mark.parametrize("arr", [INT8, UINT8], ids=["int8", "uint8"])
@pytest.mark.parametrize("number", [1000, 256, -1, 300, -129, True])
def test_int_tensor_with_an_out_of_range_int_in_float_ops(arr, number):
    for fn in (lambda lib, x: x / number, lambda lib, x: number / x,
               lambda lib, x: lib.div(x, number),
               lambda lib, x: lib.special.xlogy(x, number),
               lambda lib, x: lib.xlogy(number, x),
               lambda lib, x: lib.special.xlog1py(x, number),
               lambda lib, x: x.copysign(number)):
        check_against_torch(lambda x, f=fn: f(ng, x), lambda x, f=fn: f(torch, x), [arr])


@pytest.mark.parametrize("other", [1000, 300, -200])
def test_int_tensor_with_an_out_of_range_0d_int_tensor_in_float_ops(other):
    o = np.array(other, np.int64)
    for fn in (lambda lib, x, y: x / y, lambda lib, x, y: lib.ldexp(x, y),
               lambda lib, x, y: lib.xlogy(x, y), lambda lib, x, y: x.copysign(y)):
        check_against_torch(lambda x, y, f=fn: f(ng, x, y), lambda x, y, f=fn: f(torch, x, y),
                            [INT8, o])


def test_float_gradients_and_int_results_are_unchanged():
    a = np.array([0.5, 2.0, 3.0])
    for dtype in (np.float32, np.float64):
        check_against_torch(lambda x: (x / 1000, ng.xlogy(x, 300), x.copysign(-128)),
                            lambda x: (x / 1000, torch.xlogy(x, 300), x.copysign(-128)),
                            [a.astype(dtype)])
    # an integer result still wraps the int around, as PyTorch's does
    ours, theirs = both(lambda lib: lib.tensor(INT8) + 1000)
    assert_close(ours, theirs)


@pytest.mark.parametrize("arr,number", [(INT8, 1000), (INT8, 128), (INT8, -129), (UINT8, 256),
                                        (UINT8, -256), (np.array([1, 2], np.int32), 2 ** 40),
                                        (np.array([1, 2], np.int64), 2 ** 63)])
def test_where_refuses_an_int_its_integer_dtype_cannot_hold(arr, number):
    same_error(lambda lib: lib.where(lib.tensor(arr) > 1, lib.tensor(arr), number))
    same_error(lambda lib: lib.where(lib.tensor(arr) > 1, number, lib.tensor(arr)))


def test_where_takes_an_int_its_integer_dtype_holds():
    # in range (down to -255 for uint8, wrapped), bool, float, a 0-d tensor (wrapped): no error
    for arr, other in ((INT8, -128), (INT8, 127), (UINT8, -1), (UINT8, -255), (INT8, True),
                       (INT8, 1000.0), (INT8, np.array(1000))):
        ours, theirs = (lib.where(lib.tensor(arr) > 1, lib.tensor(arr),
                                  lib.tensor(other) if isinstance(other, np.ndarray) else other)
                        for lib in (ng, torch))
        assert_close(ours, theirs)


# ----- a float exponent float32 cannot hold -----------------------------------------------------
@pytest.mark.parametrize("exponent", [1e-50, 1e-310, 2.0000001, 1e40, 0.1, 1 / 3])
def test_float32_power_of_an_exponent_float32_rounds(exponent):
    a = np.array([0.0, -1.0, 2.0, 0.5, -3.0], np.float32)  # fewer than 16: PyTorch's exact path
    check_against_torch(lambda x: x ** exponent, lambda x: x ** exponent, [a])
    check_against_torch(lambda x: x ** exponent, lambda x: x ** exponent,
                        [a.astype(np.float64)])


# ----- truncating division of the integer minimum ------------------------------------------------
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
def test_trunc_division_of_the_integer_minimum(dtype):
    low = np.iinfo(dtype).min
    a = np.array([low, low + 1, 7, -7, 0, -1], dtype)
    for divisor in (3, -3, 2, 7, np.array([3, -2, 2, -2, 5, 4], dtype)):
        ours, theirs = (lib.div(lib.tensor(a), lib.tensor(divisor) if isinstance(divisor,
                                np.ndarray) else divisor, rounding_mode="trunc")
                        for lib in (ng, torch))
        assert_close(ours, theirs)
    ours, theirs = both(lambda lib: lib.div(lib.tensor([200, 7], dtype=lib.uint8), 3,
                                            rounding_mode="trunc"))
    assert_close(ours, theirs)


# ----- **= writes in place ------------------------------------------------------------------------
def test_ipow_writes_through_a_view_and_returns_self():
    for lib in (ng, torch):
        b = lib.tensor([1.0, 2.0, 3.0, 4.0])
        v = b.view(2, 2)
        same = v
        v **= lib.tensor([2.0, 0.5])
        assert v is same
        assert b.tolist() == pytest.approx([1.0, 2.0 ** 0.5, 9.0, 2.0])
    i = ng.tensor([1, 2, 3])
    i **= 2
    assert i.tolist() == [1, 4, 9] and i.dtype == ng.int64
    same_error(lambda lib: lib.tensor([1, 2]).__ipow__(0.5))  # float result in an int tensor


def test_ipow_is_recorded_for_backward():
    def fn(lib, x):
        y = x * 1
        y **= 3
        return y

    check_against_torch(lambda x: fn(ng, x), lambda x: fn(torch, x),
                        [np.array([0.5, -2.0, 3.0])])
    same_error(lambda lib: lib.tensor([1.0], requires_grad=True).__ipow__(2))  # a leaf


def test_in_place_dunders_that_pytorch_has_exist():
    for name in ("__ipow__", "__idiv__", "__imod__", "__ifloordiv__"):
        x = ng.tensor([7.0, -5.0])
        tx = torch.tensor([7.0, -5.0])
        assert getattr(x, name)(2) is x
        getattr(tx, name)(2)
        assert_close(x, tx)


# ----- remainder / fmod save their operands only for other's gradient -----------------------------
@pytest.mark.parametrize("op", ["remainder", "fmod", "%="])
def test_mod_after_an_in_place_edit_of_its_input(op):
    def fn(lib, x):
        y = x + 0
        if op == "%=":
            z = y * 1
            z %= 2
        else:
            z = getattr(y, op)(2)
        y.mul_(3)  # no false "modified by an inplace operation" error
        return z

    check_against_torch(lambda x: fn(ng, x), lambda x: fn(torch, x),
                        [np.array([0.5, -1.0, 2.0, 7.5])])


@pytest.mark.parametrize("op", ["remainder", "fmod"])
def test_mod_checks_the_version_when_other_needs_a_gradient(op):
    def fn(lib):
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        w = lib.tensor(2.0, requires_grad=True)
        y = x + 0
        z = getattr(y, op)(w)
        y.mul_(3)
        z.sum().backward()

    same_error(fn, same_message=False)


def test_mod_backward_twice_without_saved_values():
    for other in (2, np.array(2.0)):
        grads = []
        for lib in (ng, torch):
            x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
            z = (x + 0).remainder(lib.tensor(other) if isinstance(other, np.ndarray)
                                  else other).sum()
            z.backward()
            z.backward()  # nothing was saved, so nothing was freed
            grads.append(x.grad)
        assert_close(*grads)


# ----- einsum of integer operands: a sum within one operand is int64 -----------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int32, np.bool_])
def test_einsum_integer_sums_are_int64(dtype):
    m = np.array([[2, 3], [4, 5]]).astype(dtype)
    v = np.array([1, 2]).astype(dtype)
    for equation, ops in (("ii", [m]), ("ij->", [m]), ("ij->i", [m]), ("ii->i", [m]),
                          ("ij->ji", [m]), ("ij,k->k", [m, v]), ("ii,k->k", [m, v]),
                          ("ii,k->ik", [m, v]), ("ij,kl->ik", [m, m]), ("i,i->i", [v, v]),
                          ("...->", [np.array(3).astype(dtype)]), ("ij->j", [m[:1]])):
        check_against_torch(lambda *xs, e=equation: ng.einsum(e, *xs),
                            lambda *xs, e=equation: torch.einsum(e, *xs), ops)
    if dtype != np.bool_:
        check_against_torch(lambda x, y: ng.einsum("ij,jk->ik", x, y),
                            lambda x, y: torch.einsum("ij,jk->ik", x, y), [m, m])
    else:
        same_error(lambda lib: lib.einsum("ij,jk->ik", lib.tensor(m), lib.tensor(m)))
