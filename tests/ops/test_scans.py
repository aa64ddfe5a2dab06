"""Scans and reductions against PyTorch: cumprod (gradients with one zero and several), cummax /
cummin (values, indices, gradients, ties and NaN), logcumsumexp, nansum / nanmean, aminmax,
std_mean / var_mean, median (with and without dim: the lower middle value) and kthvalue. Values,
dtypes and gradients in float64 and float32, integer and bool inputs, 0-d and empty tensors,
second derivatives and PyTorch's errors."""

# The lambdas in loops below are called at once, inside their iteration, so binding the loop
# variable late is what is meant:
# ruff: noqa: B023

import numpy as np
import pytest
import torch
from torch_compare import both, check_against_torch, run_gradcheck, same_error, second_order

import numpy2gpt as ng

RNG = np.random.default_rng(11)
X = RNG.standard_normal((3, 5))
DTYPES = [np.float64, np.float32]


def compare_values(call):
    """call(ng) and call(torch) on a plain argument list: values and dtypes only."""
    check_against_torch(lambda: call(ng), lambda: call(torch), [], check_grad=False)


# ----- cumprod ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_values_and_gradients(dim, dtype):
    check_against_torch(lambda t: ng.cumprod(t, dim), lambda t: torch.cumprod(t, dim),
                        [X.astype(dtype)])
    check_against_torch(lambda t: t.cumprod(dim=dim), lambda t: t.cumprod(dim=dim),
                        [X.astype(dtype)])


ZEROS = np.array([[2.0, 0.0, 3.0, 0.0, 5.0],    # two zeros
                  [0.0, 2.0, 3.0, 4.0, 0.0],    # zeros at both ends
                  [1.5, -2.0, 0.0, 0.5, 3.0],   # one zero
                  [0.0, 0.0, 0.0, 1.0, 2.0],    # several in a row
                  [1.0, 2.0, -1.0, 0.5, 4.0]])  # none


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1])
def test_cumprod_gradient_with_zeros(dim, dtype):
    check_against_torch(lambda t: ng.cumprod(t, dim), lambda t: torch.cumprod(t, dim),
                        [ZEROS.astype(dtype)])
    check_against_torch(lambda t: ng.cumprod(t, 0), lambda t: torch.cumprod(t, 0),
                        [np.array([0.0], dtype)])


def test_cumprod_dtypes_0d_in_place_and_double_backward():
    for x in (np.array([1, 2, 3]), np.array([1, -2, 3], np.int8), np.array([True, False])):
        check_against_torch(lambda t: ng.cumprod(t, 0), lambda t: torch.cumprod(t, 0), [x])
    check_against_torch(lambda t: ng.cumprod(t, 1, dtype=ng.float64),
                        lambda t: torch.cumprod(t, 1, dtype=torch.float64),
                        [X.astype(np.float32)])
    check_against_torch(lambda t: ng.cumprod(t, 0), lambda t: torch.cumprod(t, 0),
                        [np.array(2.5)])
    check_against_torch(lambda t: (t * 1).cumprod_(1), lambda t: (t * 1).cumprod_(1), [X])
    second_order(lambda t: ng.cumprod(t, 0).sum(), lambda t: torch.cumprod(t, 0).sum(), X[0])
    same_error(lambda lib: lib.cumprod(lib.zeros(2, 3), 2))
    same_error(lambda lib: lib.cumprod(lib.zeros(2), dim=1.0))


# ----- cummax / cummin --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_values_indices_gradients(name, dtype):
    for dim in (0, 1, -1):
        check_against_torch(lambda t: getattr(ng, name)(t, dim),
                            lambda t: getattr(torch, name)(t, dim), [X.astype(dtype)])
    ties = np.array([1.0, 3.0, 2.0, 3.0, 0.0, 0.0, 3.0, -1.0], dtype)  # ties: the last index
    check_against_torch(lambda t: getattr(t, name)(0), lambda t: getattr(t, name)(0), [ties])
    nan = np.array([1.0, 3.0, np.nan, 5.0, np.nan, 0.0], dtype)  # NaN: the last NaN so far
    check_against_torch(lambda t: getattr(ng, name)(t, 0), lambda t: getattr(torch, name)(t, 0),
                        [nan])


def test_cummax_cummin_integers_0d_empty_and_errors():
    for name in ("cummax", "cummin"):
        for x in (np.array([1, 3, 2, 3, 0]), np.array([True, False, True]), np.array(2.0),
                  np.zeros((0, 2))):
            check_against_torch(lambda t: getattr(ng, name)(t, 0),
                                lambda t: getattr(torch, name)(t, 0), [x])
        ours, theirs = both(lambda lib: getattr(lib, name)(lib.tensor([1.0, 2.0]), 0))
        assert ours.indices is ours[1] and type(ours).__name__ == type(theirs).__name__
        same_error(lambda lib: getattr(lib, name)(lib.zeros(2), 1))
        same_error(lambda lib: getattr(lib, name)(lib.zeros(2), dim=None))


# ----- logcumsumexp -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_logcumsumexp_values_and_gradients(dtype):
    for dim in (0, 1, -1):
        check_against_torch(lambda t: ng.logcumsumexp(t, dim),
                            lambda t: torch.logcumsumexp(t, dim), [X.astype(dtype)])
    big = np.array([1000.0, 0.0, -5.0, 990.0], dtype)  # no overflow, values or gradients
    check_against_torch(lambda t: t.logcumsumexp(0), lambda t: t.logcumsumexp(0), [big])


def test_logcumsumexp_infinities_second_order_and_errors():
    inf = np.array([-np.inf, 0.0, np.inf, 1.0, -np.inf])
    check_against_torch(lambda t: ng.logcumsumexp(t, 0), lambda t: torch.logcumsumexp(t, 0),
                        [inf])
    check_against_torch(lambda t: ng.logcumsumexp(t, 0), lambda t: torch.logcumsumexp(t, 0),
                        [np.array([-np.inf, -np.inf, 2.0])])
    check_against_torch(lambda t: ng.logcumsumexp(t, 0), lambda t: torch.logcumsumexp(t, 0),
                        [np.array(1.5)])
    second_order(lambda t: (ng.logcumsumexp(t, 0) * ng.tensor(X[1])).sum(),
                 lambda t: (torch.logcumsumexp(t, 0) * torch.tensor(X[1])).sum(), X[0])
    assert run_gradcheck(lambda t: ng.logcumsumexp(t, 1), [X[:2, :3]])
    same_error(lambda lib: lib.logcumsumexp(lib.tensor([1, 2]), 0))
    same_error(lambda lib: lib.logcumsumexp(lib.zeros(2), 1))


# ----- nansum / nanmean -------------------------------------------------------------------------
WITH_NAN = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, np.nan], [0.5, -1.0, np.nan]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_nansum_nanmean_values_and_gradients(dim, keepdim, dtype):
    x = WITH_NAN.astype(dtype)
    for name in ("nansum", "nanmean"):
        check_against_torch(lambda t: getattr(ng, name)(t, dim, keepdim),
                            lambda t: getattr(torch, name)(t, dim, keepdim), [x])
        check_against_torch(lambda t: getattr(t, name)(dim=dim, keepdim=keepdim),
                            lambda t: getattr(t, name)(dim=dim, keepdim=keepdim), [x])


def test_nansum_nanmean_dtypes_and_errors():
    for x in (np.array([1, 2]), np.array([1, 2], np.int8), np.array([True, True])):
        compare_values(lambda lib: lib.nansum(lib.tensor(x)))  # -> int64
    check_against_torch(lambda t: ng.nansum(t, 1, dtype=ng.float64),
                        lambda t: torch.nansum(t, 1, dtype=torch.float64),
                        [WITH_NAN.astype(np.float32)])
    check_against_torch(lambda t: ng.nanmean(t, 0, dtype=ng.float64),
                        lambda t: torch.nanmean(t, 0, dtype=torch.float64),
                        [WITH_NAN.astype(np.float32)])
    same_error(lambda lib: lib.nanmean(lib.tensor([1, 2])))
    same_error(lambda lib: lib.nansum(lib.zeros(2), dim=(0, 0)))


# ----- aminmax ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_aminmax_values_and_gradients_with_ties(dtype):
    x = np.array([[1.0, 5.0, 3.0, 5.0], [0.5, -4.0, -4.0, 2.0]], dtype)  # tied extremes
    check_against_torch(ng.aminmax, torch.aminmax, [x])
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            check_against_torch(lambda t: ng.aminmax(t, dim=dim, keepdim=keepdim),
                                lambda t: torch.aminmax(t, dim=dim, keepdim=keepdim), [x])
    check_against_torch(lambda t: t.aminmax(keepdim=True), lambda t: t.aminmax(keepdim=True),
                        [x])


def test_aminmax_integers_0d_empty_and_errors():
    for x in (np.array([3, 1, 2]), np.array([True, False]), np.array(2.0)):
        check_against_torch(ng.aminmax, torch.aminmax, [x])
    check_against_torch(lambda t: ng.aminmax(t, dim=0), lambda t: torch.aminmax(t, dim=0),
                        [np.array(2.0)])
    check_against_torch(lambda t: ng.aminmax(t, dim=1), lambda t: torch.aminmax(t, dim=1),
                        [np.zeros((0, 2))])
    ours, theirs = both(lambda lib: lib.aminmax(lib.tensor([1.0, 2.0])))
    assert (ours.min.item(), ours.max.item()) == (theirs.min.item(), theirs.max.item())
    same_error(lambda lib: lib.aminmax(lib.zeros(0)))
    same_error(lambda lib: lib.aminmax(lib.zeros(0, 2), dim=0))
    same_error(lambda lib: lib.aminmax(lib.zeros(2, 2), dim=(0, 1)))
    same_error(lambda lib: lib.aminmax(lib.zeros(2, 2), 1))


# ----- std_mean / var_mean ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["std_mean", "var_mean"])
def test_std_mean_var_mean(name, dtype):
    x = X.astype(dtype) + 3
    calls = [lambda lib, t: getattr(lib, name)(t),
             lambda lib, t: getattr(lib, name)(t, 1),
             lambda lib, t: getattr(lib, name)(t, [0, 1], keepdim=True),
             lambda lib, t: getattr(lib, name)(t, 0, unbiased=False),
             lambda lib, t: getattr(lib, name)(t, 1, True, True),
             lambda lib, t: getattr(lib, name)(t, False),
             lambda lib, t: getattr(lib, name)(t, dim=-1, correction=0),
             lambda lib, t: getattr(lib, name)(t, dim=1, correction=2, keepdim=True)]
    for call in calls:
        ours, *_ = check_against_torch(lambda t: call(ng, t), lambda t: call(torch, t), [x])
        assert type(ours) is tuple
    same_error(lambda lib: getattr(lib, name)(lib.tensor([1, 2])))


# ----- median / kthvalue ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_median_without_dim_is_the_lower_middle(dtype):
    for x in (X[0], X[0, :4], X, np.array([2.0, 1.0, 2.0, 2.0, 1.0]), np.array(3.0)):
        check_against_torch(ng.median, torch.median, [x.astype(dtype)])  # ties share the grad
    check_against_torch(lambda t: t.median(), lambda t: t.median(),
                        [np.array([1.0, np.nan, 2.0, np.nan], dtype)])  # NaN: the NaNs share
    for x in (np.array([1, 4, 2, 3]), np.array([5], np.int8)):
        check_against_torch(ng.median, torch.median, [x])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_median_with_dim(keepdim, dtype):
    for dim in (0, 1, -1):  # distinct values: the index is unambiguous
        check_against_torch(lambda t: ng.median(t, dim, keepdim),
                            lambda t: torch.median(t, dim, keepdim), [X.astype(dtype)])
    nan = np.array([[3.0, 1.0, 2.0, 4.0], [1.0, np.nan, 5.0, np.nan], [np.nan, 0.0, 1.0, 2.0]],
                   dtype)  # a row with NaN gives its first NaN
    check_against_torch(lambda t: t.median(dim=1, keepdim=keepdim),
                        lambda t: t.median(dim=1, keepdim=keepdim), [nan])
    check_against_torch(lambda t: ng.median(t, 0), lambda t: torch.median(t, 0),
                        [np.array(2.5, dtype)])
    check_against_torch(lambda t: ng.median(t, 1), lambda t: torch.median(t, 1),
                        [np.zeros((0, 2), dtype)])


def test_median_with_ties_gives_an_element_of_the_middle_value():
    """PyTorch leaves which of tied elements' index is returned unspecified: the value matches,
    and the index points at an element with that value."""
    x = np.array([[2.0, 1.0, 2.0, 2.0, 1.0], [5.0, 1.0, 5.0, 1.0, 5.0]])
    ours, theirs = both(lambda lib: lib.median(lib.tensor(x), 1))
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(np.take_along_axis(x, ours.indices.numpy()[:, None], 1)[:, 0],
                                  theirs.values.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_kthvalue(dtype):
    x = X.astype(dtype)
    for k, dim, keepdim in ((1, -1, False), (3, 1, True), (5, 1, False), (2, 0, False)):
        check_against_torch(lambda t: ng.kthvalue(t, k, dim, keepdim),
                            lambda t: torch.kthvalue(t, k, dim, keepdim), [x])
    nan = np.array([[3.0, 1.0, 2.0, 2.5], [1.0, np.nan, 5.0, 0.0]], dtype)  # NaN is the largest
    for k in (1, 3, 4):
        check_against_torch(lambda t: t.kthvalue(k), lambda t: t.kthvalue(k), [nan])
    check_against_torch(lambda t: ng.kthvalue(t, 1), lambda t: torch.kthvalue(t, 1),
                        [np.array(2.5, dtype)])


def test_median_kthvalue_integers_and_errors():
    check_against_torch(lambda t: ng.kthvalue(t, 2), lambda t: torch.kthvalue(t, 2),
                        [np.array([3, 1, 2])])
    check_against_torch(lambda t: ng.median(t, 0), lambda t: torch.median(t, 0),
                        [np.array([3, 1, 2, 7])])
    same_error(lambda lib: lib.median(lib.tensor([True, False])))
    same_error(lambda lib: lib.kthvalue(lib.tensor([True, False]), 1))
    same_error(lambda lib: lib.median(lib.zeros(0, 2), 0))
    same_error(lambda lib: lib.median(lib.zeros(2, 2), 2))
    same_error(lambda lib: lib.median(lib.zeros(2, 2), dim=1.0))
    same_error(lambda lib: lib.median(lib.zeros(2, 2), keepdim=True))
    for k in (0, 5):
        same_error(lambda lib: lib.kthvalue(lib.zeros(2, 4), k))
    same_error(lambda lib: lib.kthvalue(lib.tensor(3.0), 2))
    same_error(lambda lib: lib.kthvalue(lib.zeros(2, 0), 1))
